//! The list of analyzers. Adding one is a module plus one line here.

use crate::analyzer::{Analyzer, AnalyzerGroup};
use crate::apk::ApkAnalyzer;
use crate::dpkg::DpkgAnalyzer;
use crate::os::OsAnalyzer;
use crate::rpm::RpmAnalyzer;

/// Every analyzer holdfast has, in a fixed order.
pub fn all() -> Vec<Box<dyn Analyzer>> {
    let mut all: Vec<Box<dyn Analyzer>> = vec![
        Box::new(OsAnalyzer),
        Box::new(DpkgAnalyzer),
        Box::new(ApkAnalyzer),
        Box::new(RpmAnalyzer),
    ];
    all.extend(crate::lang_text::analyzers());
    all.extend(crate::lang_binary::analyzers());
    all
}

/// The analyzers of the given groups (OS identification always runs).
pub fn select(groups: &[AnalyzerGroup]) -> Vec<Box<dyn Analyzer>> {
    all()
        .into_iter()
        .filter(|a| a.group() == AnalyzerGroup::Os || groups.contains(&a.group()))
        .collect()
}

/// The cache key of an analyzer set: a short hash over the walker's and every analyzer's
/// name and version, so a change to any of them misses the old entries.
pub fn set_key(analyzers: &[Box<dyn Analyzer>]) -> String {
    use sha2::{Digest, Sha256};
    let mut names: Vec<String> = analyzers
        .iter()
        .map(|a| format!("{}:{}", a.name(), a.version()))
        .collect();
    names.sort();
    let mut h = Sha256::new();
    h.update(format!("walker:{};", crate::WALKER_VERSION));
    h.update(names.join(","));
    hex::encode(&h.finalize()[..8])
}
