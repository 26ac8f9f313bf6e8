//! Flags to a scan request: what the scan commands' flags ask for, with the files they
//! name read and checked (dictionaries, rule files, the ignore file, VEX documents,
//! registry credentials) before anything is scanned.

use std::io::Read;

use anyhow::{bail, Context, Result};
use holdfast_analyze::{AnalyzerGroup, WalkLimits};
use holdfast_checks::malware::{ClamdConfig, MalwareConfig};
use holdfast_checks::secret::SecretConfig;
use holdfast_checks::weak_password::dictionary::user_dictionary;
use holdfast_checks::CheckConfig;
use holdfast_model::FindingKind;
use holdfast_scan::{CancelToken, DbLocation, ScanRequest, Target, VulnDbHandle};
use holdfast_source::registry::{parse_pull_secret, AuthOptions, Secret};
use holdfast_source::{DecompressLimits, LayerCache, OpenOptions, RegistryOptions};

use crate::cli::{RegistryArgs, ScanOptions};

/// Builds the request for `targets` from the scan flags. `sbom` asks for an inventory
/// only.
pub fn scan_request(targets: Vec<Target>, opts: &ScanOptions, sbom: bool) -> Result<ScanRequest> {
    let platform = opts
        .platform
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(anyhow::Error::msg)
        .context("--platform")?;
    let open = OpenOptions {
        platform,
        limits: DecompressLimits {
            max_bytes: opts.max_layer_size,
            ..DecompressLimits::default()
        },
        registry: registry_options(&opts.registry)?,
    };
    let scanners = if sbom {
        vec![FindingKind::Vulnerability]
    } else if opts.scanners.is_empty() {
        holdfast_scan::default_scanners()
    } else {
        opts.scanners.clone()
    };
    let checks = check_config(opts, &scanners)?;
    let package_types = groups(&opts.pkg_types)?;
    let (policy, ignore_source) = policy(opts)?;
    Ok(ScanRequest {
        targets,
        scanners,
        sbom,
        package_types,
        skip_os_owned: opts.skip_os_owned,
        checks,
        policy,
        ignore_source,
        open,
        walk: WalkLimits {
            max_file_bytes: opts.max_file_size,
            ..WalkLimits::default()
        },
        cache: (!opts.no_cache).then(|| layer_cache(opts.cache_dir.clone())),
        db: VulnDbHandle::new(DbLocation::from_option(opts.db.as_deref())),
        cancel: CancelToken::new(),
    })
}

/// The layer cache in `dir`, or in the default directory.
pub fn layer_cache(dir: Option<std::path::PathBuf>) -> LayerCache {
    LayerCache::new(dir.unwrap_or_else(LayerCache::default_dir))
}

fn groups(pkg_types: &[String]) -> Result<Vec<AnalyzerGroup>> {
    let mut out = Vec::new();
    for t in pkg_types {
        match t.trim() {
            "os" => out.push(AnalyzerGroup::OsPackages),
            "library" => out.push(AnalyzerGroup::Library),
            "" => {}
            other => bail!("unknown package type `{other}` in --pkg-types; expected os, library"),
        }
    }
    Ok(out)
}

/// The filters from the flags, the ignore file and the VEX documents; with the ignore
/// file's path, when one was read.
fn policy(opts: &ScanOptions) -> Result<(holdfast_policy::Policy, Option<String>)> {
    let path = match &opts.ignorefile {
        Some(p) => Some(p.clone()),
        None => Some(std::path::PathBuf::from(".holdfastignore")).filter(|p| p.is_file()),
    };
    let ignore_path = path.as_ref().map(|p| p.display().to_string());
    let mut vex = Vec::new();
    for doc in &opts.vex {
        let text = std::fs::read_to_string(doc)
            .with_context(|| format!("cannot read the VEX document `{}`", doc.display()))?;
        let statements = holdfast_policy::vex::parse(&text)
            .with_context(|| format!("in the VEX document `{}`", doc.display()))?;
        vex.extend(
            statements
                .into_iter()
                .map(|st| (doc.display().to_string(), st)),
        );
    }
    let ignore = match path {
        Some(p) => {
            let text = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read the ignore file `{}`", p.display()))?;
            holdfast_policy::IgnoreFile::parse(&text)
                .with_context(|| format!("in the ignore file `{}`", p.display()))?
        }
        None => holdfast_policy::IgnoreFile::default(),
    };
    Ok((
        holdfast_policy::Policy {
            severities: opts.severity.clone(),
            ignore_unfixed: opts.ignore_unfixed,
            ignore,
            today: Some(time::OffsetDateTime::now_utc().date()),
            vex,
        },
        ignore_path,
    ))
}

/// Reads the registry flags (and the files and stdin they name) into source options.
fn registry_options(args: &RegistryArgs) -> Result<RegistryOptions> {
    let password = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .take(64 << 10)
            .read_to_string(&mut text)
            .context("cannot read the password from stdin")?;
        Some(Secret::new(text.trim_end_matches(['\r', '\n'])))
    } else {
        None
    };
    let pull_secret = match &args.pull_secret {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the pull secret `{}`", p.display()))?;
            Some(parse_pull_secret(&text)?)
        }
        None => None,
    };
    let ca_pem = match &args.registry_ca {
        Some(p) => Some(
            std::fs::read(p)
                .with_context(|| format!("cannot read the registry CA `{}`", p.display()))?,
        ),
        None => None,
    };
    Ok(RegistryOptions {
        auth: AuthOptions {
            username: args.username.clone(),
            password,
            token: args.registry_token.clone().map(Secret::new),
            pull_secret,
            ignore_docker_config: false,
        },
        insecure_hosts: args.insecure_registry.clone(),
        ca_pem,
        parallel_downloads: 0,
    })
}

/// Largest `--dict` file read, and most candidates taken from it.
const MAX_DICT_BYTES: u64 = 256 << 20;
const MAX_DICT_ENTRIES: usize = 10_000_000;
/// Largest secret rule file read.
const MAX_RULE_FILE_BYTES: u64 = 4 << 20;

/// Builds the checkers' configuration from the scan flags (rule files, dictionaries,
/// limits), reading and validating any files they name. What only a checker that is not
/// in `scanners` would use (a dictionary, YARA rules, a clamd connection) is not read.
/// The secret rules always are: they also redact the history the result echoes.
fn check_config(opts: &ScanOptions, scanners: &[FindingKind]) -> Result<CheckConfig> {
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
