//! The backdoor checker.

use holdfast_model::FindingKind;

use crate::Checker;

/// The backdoor checker.
pub struct BackdoorChecker;

impl BackdoorChecker {
    /// The checker with the built-in rules.
    pub fn new() -> Self {
        BackdoorChecker
    }
}

impl Checker for BackdoorChecker {
    fn kinds(&self) -> &'static [FindingKind] {
        &[FindingKind::Backdoor]
    }
}
