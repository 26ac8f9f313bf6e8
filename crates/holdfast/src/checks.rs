//! The checkers' options, from the scan flags.

use anyhow::{bail, Context, Result};
use holdfast_checks::malware::{ClamdConfig, MalwareConfig};
use holdfast_checks::secret::SecretConfig;
use holdfast_checks::weak_password::dictionary::user_dictionary;
use holdfast_checks::CheckConfig;
use holdfast_model::FindingKind;

use crate::cli::ScanOptions;

/// Largest `--dict` file read, and most candidates taken from it.
const MAX_DICT_BYTES: u64 = 256 << 20;
const MAX_DICT_ENTRIES: usize = 10_000_000;
/// Largest secret rule file read.
const MAX_RULE_FILE_BYTES: u64 = 4 << 20;

/// Builds the checkers' configuration from the scan flags (rule files, dictionaries,
/// limits), reading and validating any files they name. What only a checker that is not
/// in `scanners` would use (a dictionary, YARA rules, a clamd connection) is not read.
/// The secret rules always are: they also redact the history the result echoes.
pub fn check_config(opts: &ScanOptions, scanners: &[FindingKind]) -> Result<CheckConfig> {
    let selected = |k: FindingKind| scanners.contains(&k);
    let mut config = CheckConfig::default();

    config.weak_password.timeout = opts.weak_password_timeout;
    let dict = opts
        .dict
        .as_ref()
        .filter(|_| selected(FindingKind::WeakPassword));
    if let Some(path) = dict {
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

    let mut files = Vec::new();
    for path in &opts.secret_config {
        let text = read_bounded(path)
            .with_context(|| format!("cannot read the secret rule file {}", path.display()))?;
        files.push((path.display().to_string(), text));
    }
    config.secret = SecretConfig::with_rule_files(&files, opts.secret_max_file_size)?;

    let mut malware = MalwareConfig {
        max_file_size: opts.max_file_size,
        ..MalwareConfig::default()
    };
    if selected(FindingKind::Malware) || selected(FindingKind::Webshell) {
        if !opts.yara_rules.is_empty() {
            let rules = MalwareConfig::with_rule_dirs(&opts.yara_rules)?;
            for note in &rules.notes {
                tracing::warn!("YARA: {note}");
            }
            malware.yara = Some(rules);
        }
        if let Some(addr) = &opts.clamd {
            let clamd = ClamdConfig::connect(addr.clone())
                .with_context(|| format!("cannot use clamd at {addr} (--clamd)"))?;
            tracing::info!("clamd: {}", clamd.version);
            malware.clamd = Some(clamd);
        }
    }
    config.malware = malware;
    Ok(config)
}

fn read_bounded(path: &std::path::Path) -> Result<String> {
    use std::io::Read;
    let mut text = String::new();
    let n = std::fs::File::open(path)?
        .take(MAX_RULE_FILE_BYTES + 1)
        .read_to_string(&mut text)?;
    anyhow::ensure!(
        n as u64 <= MAX_RULE_FILE_BYTES,
        "over the {MAX_RULE_FILE_BYTES}-byte bound for a rule file"
    );
    Ok(text)
}
