//! The checkers' settings a front end gives by name (files, addresses, bounds), turned
//! into the checkers' configuration: the files are read and checked here, once per
//! request, before anything is scanned. What only a checker that is not selected would
//! use (a dictionary, YARA rules, a clamd connection) is not read. The secret rules always
//! are: they also redact the history a result echoes.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use holdfast_checks::malware::{ClamdConfig, MalwareConfig};
use holdfast_checks::secret::SecretConfig;
use holdfast_checks::weak_password::dictionary::user_dictionary;
use holdfast_checks::CheckConfig;
use holdfast_model::FindingKind;

pub use holdfast_checks::malware::clamd::ClamdAddress;
pub use holdfast_checks::secret::DEFAULT_MAX_FILE_SIZE as DEFAULT_SECRET_MAX_FILE_SIZE;

/// Largest dictionary file read, and most candidates taken from it.
const MAX_DICT_BYTES: u64 = 256 << 20;
const MAX_DICT_ENTRIES: usize = 10_000_000;
/// Largest secret rule file read.
const MAX_RULE_FILE_BYTES: u64 = 4 << 20;

/// What the checkers are given, by name.
#[derive(Debug, Clone, Default)]
pub struct CheckSettings {
    /// Extra candidate passwords, one per line.
    pub dictionary: Option<PathBuf>,
    /// Time budget for guessing password hashes in one image.
    pub weak_password_timeout: Duration,
    /// Secret rule files (TOML).
    pub secret_rule_files: Vec<PathBuf>,
    /// Largest file scanned for secrets.
    pub secret_max_file_size: u64,
    /// Directories of YARA rules used beside the built-in ones.
    pub yara_rule_dirs: Vec<PathBuf>,
    /// A running clamd to stream files to.
    pub clamd: Option<ClamdAddress>,
    /// Largest file the malware scanners read.
    pub max_file_size: u64,
}

/// Why the settings could not be turned into a configuration; the messages name the
/// command-line flag each setting comes from.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read the --dict file {}", path.display())]
    ReadDictionary {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the --dict file {} is {size} bytes; the limit is {MAX_DICT_BYTES}", path.display())]
    DictionaryTooLarge { path: PathBuf, size: u64 },
    #[error("cannot read the secret rule file {}", path.display())]
    ReadRuleFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    SecretRules(#[from] holdfast_checks::secret::RuleError),
    #[error(transparent)]
    YaraRules(#[from] holdfast_checks::malware::yara::YaraError),
    #[error("cannot use clamd at {address} (--clamd)")]
    Clamd {
        address: ClamdAddress,
        #[source]
        source: holdfast_checks::malware::clamd::ClamdError,
    },
}

/// The checkers' configuration for `scanners`, reading the files `settings` names.
pub fn check_config(
    settings: &CheckSettings,
    scanners: &[FindingKind],
) -> Result<CheckConfig, SettingsError> {
    let selected = |k: FindingKind| scanners.contains(&k);
    let mut config = CheckConfig::default();

    config.weak_password.timeout = settings.weak_password_timeout;
    let dict = settings
        .dictionary
        .as_ref()
        .filter(|_| selected(FindingKind::WeakPassword));
    if let Some(path) = dict {
        let read_error = |source| SettingsError::ReadDictionary {
            path: path.clone(),
            source,
        };
        let size = std::fs::metadata(path).map_err(read_error)?.len();
        if size > MAX_DICT_BYTES {
            return Err(SettingsError::DictionaryTooLarge {
                path: path.clone(),
                size,
            });
        }
        let bytes = std::fs::read(path).map_err(read_error)?;
        config.weak_password.dictionary =
            user_dictionary(&String::from_utf8_lossy(&bytes), MAX_DICT_ENTRIES);
    }

    let mut files = Vec::new();
    for path in &settings.secret_rule_files {
        let text = read_bounded(path).map_err(|source| SettingsError::ReadRuleFile {
            path: path.clone(),
            source,
        })?;
        files.push((path.display().to_string(), text));
    }
    config.secret = SecretConfig::with_rule_files(&files, settings.secret_max_file_size)?;

    let mut malware = MalwareConfig {
        max_file_size: settings.max_file_size,
        ..MalwareConfig::default()
    };
    if selected(FindingKind::Malware) || selected(FindingKind::Webshell) {
        if !settings.yara_rule_dirs.is_empty() {
            let rules = MalwareConfig::with_rule_dirs(&settings.yara_rule_dirs)?;
            for note in &rules.notes {
                tracing::warn!("YARA: {note}");
            }
            malware.yara = Some(rules);
        }
        if let Some(address) = &settings.clamd {
            let clamd =
                ClamdConfig::connect(address.clone()).map_err(|source| SettingsError::Clamd {
                    address: address.clone(),
                    source,
                })?;
            tracing::info!("clamd: {}", clamd.version);
            malware.clamd = Some(clamd);
        }
    }
    config.malware = malware;
    Ok(config)
}

/// A rule file, refused past [`MAX_RULE_FILE_BYTES`].
fn read_bounded(path: &Path) -> Result<String, std::io::Error> {
    let mut text = String::new();
    let n = std::fs::File::open(path)?
        .take(MAX_RULE_FILE_BYTES + 1)
        .read_to_string(&mut text)?;
    if n as u64 > MAX_RULE_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "over the {MAX_RULE_FILE_BYTES}-byte bound for a rule file"
        )));
    }
    Ok(text)
}
