//! The checkers' options, from the scan flags.

use anyhow::{bail, Context, Result};
use holdfast_checks::weak_password::dictionary::user_dictionary;
use holdfast_checks::CheckConfig;

use crate::cli::ScanOptions;

/// Largest `--dict` file read, and most candidates taken from it.
const MAX_DICT_BYTES: u64 = 256 << 20;
const MAX_DICT_ENTRIES: usize = 10_000_000;

/// Builds the checkers' configuration from the scan flags (rule files, dictionaries,
/// limits), reading and validating any files they name.
pub fn check_config(opts: &ScanOptions) -> Result<CheckConfig> {
    let mut config = CheckConfig::default();
    config.weak_password.timeout = opts.weak_password_timeout;
    if let Some(path) = &opts.dict {
        let size = std::fs::metadata(path)
            .with_context(|| format!("cannot read the --dict file {}", path.display()))?
            .len();
        if size > MAX_DICT_BYTES {
            bail!(
                "the --dict file {} is {size} bytes; the limit is {MAX_DICT_BYTES}",
                path.display()
            );
        }
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the --dict file {}", path.display()))?;
        config.weak_password.dictionary =
            user_dictionary(&String::from_utf8_lossy(&bytes), MAX_DICT_ENTRIES);
    }
    Ok(config)
}
