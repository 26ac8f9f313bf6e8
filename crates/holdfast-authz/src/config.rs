//! The plugin's config file: veinmind-runner's shape (`[log]`, `[listener]`,
//! `[[policies]]`, `[docker_auth]`), so its users can bring theirs, and holdfast's own keys
//! in `[holdfast]`.
//!
//! ```toml
//! [log]
//! plugin_log_path = "/var/log/holdfast/plugin.log"   # the plugin's own messages
//! auth_log_path = "/var/log/holdfast/auth.log"       # one JSON line per decision
//!
//! [listener]
//! listener_addr = "/run/docker/plugins/holdfast.sock"
//!
//! [[policies]]
//! action = "container_create"
//! enabled_plugins = ["weak-password", "vuln"]
//! risk_level_filter = ["High", "Critical"]
//! block = true
//! alert = true
//! ignore_unfixed = true                        # only fixable vulnerabilities count
//! exceptions = ["CVE-2023-0286 exp:2027-03-31 pkg:openssl"]   # .holdfastignore lines
//! ignore_file = "holdfastignore"               # more of them, from a file
//! allowed_registries = ["registry.example.com", "docker.io/library"]
//! require_digest = true                        # name@sha256:... only
//! max_image_age = "90d"                        # by the image config's `created`
//!
//! [holdfast]
//! fail_mode = "closed"       # or "open": what a scan that fails or times out answers
//! timeout = "20s"            # the answer's deadline, from the request's arrival
//! alert_webhook = "https://alerts.example/hook"
//! ```
//!
//! `[holdfast]` also takes `db`, `cache_dir`, `plugin_dirs`, `insecure_registries`,
//! `registry_ca` (a PEM file of CAs trusted for registries),
//! `docker_host` (`unix:///run/docker.sock`), `cache_ttl` (1h), `scan_timeout` (10m: how
//! long a scan may go on after its answer was given), `weak_password_timeout` (half the
//! timeout), `max_parallel_scans` and `log_uncovered` (false).
//!
//! Parsing is strict: an unknown key is an error naming the key and its line, except
//! `plugin_paramas`, the misspelling in veinmind-runner's own example, which is taken as
//! `plugin_params` with a warning. `auth_log_path` is also accepted as `report_log_path`
//! and `authz_log_path`. Relative paths are relative to the config file's directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use holdfast_model::{FindingKind, Severity};
use holdfast_policy::IgnoreFile;
use holdfast_scan::PluginParam;
use holdfast_source::registry::Secret;
use serde::Deserialize;
use toml::Spanned;

use crate::action;

/// The socket dockerd looks for when started with `--authorization-plugin=holdfast`.
pub const DEFAULT_SOCKET: &str = "/run/docker/plugins/holdfast.sock";

/// The answer's deadline when the config does not set one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// What a config file says, checked and with paths made absolute.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from (`<text>` when parsed from a string).
    pub source: PathBuf,
    /// Where the plugin writes its logs.
    pub log: LogConfig,
    /// The unix socket the plugin listens on.
    pub listener: PathBuf,
    /// The policies, in file order.
    pub policies: Vec<PolicyConfig>,
    /// veinmind-runner's `[docker_auth]`: credentials for one registry, used for pulls
    /// when the request carries none.
    pub docker_auth: Option<DockerAuth>,
    /// holdfast's own settings.
    pub holdfast: HoldfastConfig,
}

/// `[log]`.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// The plugin's own messages (start, errors, background scans); default
    /// `plugin.log` beside the config file.
    pub plugin_log_path: PathBuf,
    /// One JSON line per decision; default `auth.log` beside the config file.
    pub auth_log_path: PathBuf,
}

/// One `[[policies]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyConfig {
    /// The operation it covers (see [`crate::action`]).
    pub action: String,
    /// The line of its `action` key, for messages.
    pub line: usize,
    /// holdfast's built-in scanners it runs; holdfast's default set when
    /// `enabled_plugins` names none.
    pub scanners: Vec<FindingKind>,
    /// External plugins it runs, by name.
    pub plugins: Vec<String>,
    /// Parameters for those plugins.
    pub plugin_params: Vec<PluginParam>,
    /// Severities that count; empty counts all.
    pub severities: Vec<Severity>,
    /// Deny the request when a finding counts.
    pub block: bool,
    /// Raise an alert (auth log, webhook) when a finding counts.
    pub alert: bool,
    /// Only vulnerabilities with a fixed version count (`ignore_unfixed`).
    pub ignore_unfixed: bool,
    /// Accepted findings, in `.holdfastignore` syntax (`ID [exp:DATE] [pkg:P] [path:P]`):
    /// the lines of `exceptions` then those of `ignore_file`. A rule past its expiry
    /// date counts again.
    pub exceptions: IgnoreFile,
    /// Registries (`host[:port]`, or `host[:port]/path` for part of one) images may come
    /// from; empty allows all. Docker Hub names are `docker.io/...`.
    pub allowed_registries: Vec<String>,
    /// Images must be named by digest (`name@sha256:...`), never by a tag alone.
    pub require_digest: bool,
    /// Images built longer ago than this (their config's `created`) count against the
    /// request; an image that states no build time counts too.
    pub max_image_age: Option<Duration>,
}

/// veinmind-runner's `[docker_auth]`.
#[derive(Debug, Clone)]
pub struct DockerAuth {
    /// The registry host (`host[:port]`) the credentials are for.
    pub registry: String,
    /// The user name.
    pub username: String,
    /// The password; never logged.
    pub password: Secret,
}

/// What a scan that fails or misses the deadline answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailMode {
    /// Allow the request (and log why).
    Open,
    /// Deny the request (the default).
    #[default]
    Closed,
}

impl FailMode {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FailMode::Open => "open",
            FailMode::Closed => "closed",
        }
    }
}

/// `[holdfast]`: what veinmind-runner's format has no words for.
#[derive(Debug, Clone)]
pub struct HoldfastConfig {
    /// Answer for scans that fail or time out.
    pub fail_mode: FailMode,
    /// The deadline of an answer, counted from the request's arrival.
    pub timeout: Duration,
    /// Alerts are POSTed here as JSON.
    pub alert_webhook: Option<String>,
    /// The vulnerability database (default: holdfast's default path).
    pub db: Option<PathBuf>,
    /// The layer cache directory (default: holdfast's default).
    pub cache_dir: Option<PathBuf>,
    /// Directories searched for external plugins, before `HOLDFAST_PLUGIN_PATH`.
    pub plugin_dirs: Vec<PathBuf>,
    /// Registries (`host[:port]`) read over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// A PEM file of CA certificates trusted for registries (a cluster's internal CA),
    /// besides the built-in roots.
    pub registry_ca: Option<PathBuf>,
    /// The Docker daemon to resolve and read local images from (`unix:///...`); default
    /// `DOCKER_HOST`, then the default socket.
    pub docker_host: Option<String>,
    /// How long a verdict stays cached (the database and rules change).
    pub cache_ttl: Duration,
    /// Most a scan may run in the background after its answer's deadline passed.
    pub scan_timeout: Duration,
    /// Time budget for guessing password hashes in one image.
    pub weak_password_timeout: Duration,
    /// Also log requests no policy covers (default: only covered ones).
    pub log_uncovered: bool,
    /// Scans run at once; more wait for a turn (default: the CPUs, at most 4).
    pub max_parallel_scans: usize,
}

/// A config and what was accepted with a warning.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The config.
    pub config: Config,
    /// Accepted but worth saying: misspellings, veinmind plugin names mapped to
    /// holdfast's scanners, ignored parameters.
    pub warnings: Vec<String>,
}

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the config file `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key, or a value is wrong.
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The line (1-based) the problem is on; 0 when unknown.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    listener: RawListener,
    #[serde(default)]
    policies: Vec<RawPolicy>,
    docker_auth: Option<RawDockerAuth>,
    #[serde(default)]
    holdfast: RawHoldfast,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLog {
    plugin_log_path: Option<PathBuf>,
    #[serde(alias = "report_log_path", alias = "authz_log_path")]
    auth_log_path: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawListener {
    listener_addr: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    action: Spanned<String>,
    #[serde(default)]
    enabled_plugins: Vec<Spanned<String>>,
    plugin_params: Option<Vec<Spanned<String>>>,
    /// veinmind-runner's example spells it so.
    plugin_paramas: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    risk_level_filter: Vec<Spanned<String>>,
    #[serde(default)]
    block: bool,
    #[serde(default)]
    alert: bool,
    #[serde(default)]
    ignore_unfixed: bool,
    #[serde(default)]
    exceptions: Vec<Spanned<String>>,
    ignore_file: Option<Spanned<PathBuf>>,
    #[serde(default)]
    allowed_registries: Vec<Spanned<String>>,
    #[serde(default)]
    require_digest: bool,
    max_image_age: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDockerAuth {
    registry: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHoldfast {
    fail_mode: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    alert_webhook: Option<Spanned<String>>,
    db: Option<PathBuf>,
    cache_dir: Option<PathBuf>,
    #[serde(default)]
    plugin_dirs: Vec<PathBuf>,
    #[serde(default)]
    insecure_registries: Vec<String>,
    registry_ca: Option<PathBuf>,
    docker_host: Option<String>,
    cache_ttl: Option<Spanned<String>>,
    scan_timeout: Option<Spanned<String>>,
    weak_password_timeout: Option<Spanned<String>>,
    #[serde(default)]
    log_uncovered: bool,
    max_parallel_scans: Option<Spanned<usize>>,
}

/// veinmind-runner plugin names and the holdfast scanner that does their job.
const VEINMIND_PLUGINS: &[(&str, FindingKind)] = &[
    ("veinmind-weakpass", FindingKind::WeakPassword),
    ("veinmind-sensitive", FindingKind::Secret),
    ("veinmind-malicious", FindingKind::Malware),
    ("veinmind-backdoor", FindingKind::Backdoor),
    ("veinmind-webshell", FindingKind::Webshell),
    ("veinmind-escape", FindingKind::Escape),
    ("veinmind-history", FindingKind::History),
    ("veinmind-vuln", FindingKind::Vulnerability),
];

/// Reads and checks the config file at `path`.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Checks config `text` read from `path` (used for messages and to resolve relative
/// paths).
pub fn parse(text: &str, path: &Path) -> Result<Loaded, ConfigError> {
    let invalid = |span: Option<std::ops::Range<usize>>, message: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        line: span.map(|s| line_of(text, s.start)).unwrap_or(0),
        message,
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let message = e
            .message()
            .replace("unknown field", "unknown key")
            .trim()
            .to_string();
        invalid(e.span(), message)
    })?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let abs = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
    let mut warnings = Vec::new();

    let log = LogConfig {
        plugin_log_path: abs(raw
            .log
            .plugin_log_path
            .unwrap_or_else(|| "plugin.log".into())),
        auth_log_path: abs(raw.log.auth_log_path.unwrap_or_else(|| "auth.log".into())),
    };
    let listener = match raw.listener.listener_addr {
        Some(a) => {
            let a = a.strip_prefix("unix://").unwrap_or(&a);
            abs(PathBuf::from(a))
        }
        None => PathBuf::from(DEFAULT_SOCKET),
    };

    let mut policies = Vec::new();
    for p in raw.policies {
        policies.push(policy(p, text, &abs, &invalid, &mut warnings)?);
    }
    if policies.is_empty() {
        warnings.push("no [[policies]]: every request is allowed without a scan".to_string());
    }

    let docker_auth = raw.docker_auth.map(|a| DockerAuth {
        registry: a.registry,
        username: a.username,
        password: Secret::new(a.password),
    });

    let h = raw.holdfast;
    let duration = |v: Option<Spanned<String>>, key: &str, default: Duration| match v {
        None => Ok(default),
        Some(s) => {
            let span = s.span();
            match humantime::parse_duration(s.get_ref()) {
                Ok(d) if !d.is_zero() => Ok(d),
                _ => Err(invalid(
                    Some(span),
                    format!(
                        "holdfast.{key}: `{}` is not a duration like 20s or 2m",
                        s.get_ref()
                    ),
                )),
            }
        }
    };
    let timeout = duration(h.timeout, "timeout", DEFAULT_TIMEOUT)?;
    let fail_mode = match h.fail_mode {
        None => FailMode::Closed,
        Some(s) => match s.get_ref().as_str() {
            "open" => FailMode::Open,
            "closed" => FailMode::Closed,
            other => {
                return Err(invalid(
                    Some(s.span()),
                    format!("holdfast.fail_mode: `{other}`; expected \"open\" or \"closed\""),
                ))
            }
        },
    };
    let alert_webhook = match h.alert_webhook {
        None => None,
        Some(s) => {
            let url = s.get_ref().trim();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid(
                    Some(s.span()),
                    format!("holdfast.alert_webhook: `{url}` is not an http(s) URL"),
                ));
            }
            Some(url.to_string())
        }
    };
    let holdfast = HoldfastConfig {
        fail_mode,
        timeout,
        alert_webhook,
        db: h.db.map(abs),
        cache_dir: h.cache_dir.map(abs),
        plugin_dirs: h.plugin_dirs.into_iter().map(abs).collect(),
        insecure_registries: h.insecure_registries,
        registry_ca: h.registry_ca.map(abs),
        docker_host: h.docker_host,
        cache_ttl: duration(h.cache_ttl, "cache_ttl", Duration::from_secs(3600))?,
        scan_timeout: duration(h.scan_timeout, "scan_timeout", Duration::from_secs(600))?,
        weak_password_timeout: duration(
            h.weak_password_timeout,
            "weak_password_timeout",
            (timeout / 2).max(Duration::from_secs(1)),
        )?,
        log_uncovered: h.log_uncovered,
        max_parallel_scans: match h.max_parallel_scans {
            Some(n) if *n.get_ref() == 0 => {
                return Err(invalid(
                    Some(n.span()),
                    "holdfast.max_parallel_scans must be at least 1".into(),
                ))
            }
            Some(n) => n.into_inner(),
            None => std::thread::available_parallelism()
                .map(|n| n.get().min(4))
                .unwrap_or(2),
        },
    };
    Ok(Loaded {
        config: Config {
            source: path.to_path_buf(),
            log,
            listener,
            policies,
            docker_auth,
            holdfast,
        },
        warnings,
    })
}

fn policy(
    p: RawPolicy,
    text: &str,
    abs: &dyn Fn(PathBuf) -> PathBuf,
    invalid: &dyn Fn(Option<std::ops::Range<usize>>, String) -> ConfigError,
    warnings: &mut Vec<String>,
) -> Result<PolicyConfig, ConfigError> {
    let line = line_of(text, p.action.span().start);
    let name = p.action.get_ref().trim().to_string();
    if let Err(why) = action::check_policy_action(&name) {
        return Err(invalid(Some(p.action.span()), why));
    }
    let exceptions = exceptions(&p, text, abs, invalid)?;
    let params = match (p.plugin_params, p.plugin_paramas) {
        (Some(_), Some(misspelt)) => return Err(invalid(
            Some(misspelt.span()),
            "both plugin_params and plugin_paramas (its misspelling) are set; keep plugin_params"
                .into(),
        )),
        (Some(v), None) => v,
        (None, Some(misspelt)) => {
            warnings.push(format!(
                "line {}: `plugin_paramas` (veinmind-runner's misspelling) taken as `plugin_params`",
                line_of(text, misspelt.span().start)
            ));
            misspelt.into_inner()
        }
        (None, None) => Vec::new(),
    };

    let mut scanners = Vec::new();
    let mut plugins = Vec::new();
    let mut mapped = Vec::new();
    for entry in &p.enabled_plugins {
        let n = entry.get_ref().trim();
        if let Some((_, kind)) = VEINMIND_PLUGINS.iter().find(|(v, _)| *v == n) {
            warnings.push(format!(
                "line {}: veinmind plugin `{n}` runs as holdfast's built-in `{}` scanner",
                line_of(text, entry.span().start),
                kind.as_str()
            ));
            mapped.push(n.to_string());
            push_unique(&mut scanners, *kind);
            continue;
        }
        match n.parse::<FindingKind>() {
            // `misconfiguration` judges the image's config and history; a compliance
            // benchmark is about hosts, not one image.
            Ok(FindingKind::Compliance) => {
                return Err(invalid(
                    Some(entry.span()),
                    format!("`{n}` is not a scanner holdfast runs on images"),
                ))
            }
            Ok(kind) => push_unique(&mut scanners, kind),
            Err(_) if n.is_empty() => {
                return Err(invalid(Some(entry.span()), "an empty plugin name".into()))
            }
            Err(_) => {
                if !plugins.iter().any(|p| p == n) {
                    plugins.push(n.to_string());
                }
            }
        }
    }
    if scanners.is_empty() && plugins.is_empty() {
        scanners = holdfast_scan::default_scanners();
    }

    let mut plugin_params = Vec::new();
    for raw in &params {
        let param: PluginParam = raw
            .get_ref()
            .parse()
            .map_err(|e: holdfast_scan::ParamError| invalid(Some(raw.span()), e.to_string()))?;
        if mapped.contains(&param.plugin) {
            warnings.push(format!(
                "line {}: parameter `{}` ignored: holdfast's built-in scanners take no plugin parameters",
                line_of(text, raw.span().start),
                raw.get_ref()
            ));
            continue;
        }
        if !plugins.contains(&param.plugin) {
            return Err(invalid(
                Some(raw.span()),
                format!(
                    "parameter `{}` is for `{}`, which this policy's enabled_plugins does not name",
                    raw.get_ref(),
                    param.plugin
                ),
            ));
        }
        plugin_params.push(param);
    }

    let mut severities = Vec::new();
    for level in &p.risk_level_filter {
        let s = risk_level(level.get_ref()).map_err(|e| invalid(Some(level.span()), e))?;
        if !severities.contains(&s) {
            severities.push(s);
        }
    }
    let mut allowed_registries = Vec::new();
    for r in &p.allowed_registries {
        let r_text = r.get_ref().trim().trim_end_matches('/');
        if r_text.is_empty() || r_text.contains("://") || r_text.contains(char::is_whitespace) {
            return Err(invalid(
                Some(r.span()),
                format!(
                    "allowed_registries: `{}` is not a registry like `registry.example.com`, `127.0.0.1:5000` or `docker.io/library`",
                    r.get_ref()
                ),
            ));
        }
        allowed_registries.push(r_text.to_ascii_lowercase());
    }
    let max_image_age = match &p.max_image_age {
        None => None,
        Some(s) if s.get_ref().trim().is_empty() => None,
        Some(s) => match humantime::parse_duration(s.get_ref().trim()) {
            Ok(d) if !d.is_zero() => Some(d),
            _ => {
                return Err(invalid(
                    Some(s.span()),
                    format!(
                        "max_image_age: `{}` is not a duration like 90d or 12w",
                        s.get_ref()
                    ),
                ))
            }
        },
    };
    if !p.block && !p.alert {
        warnings.push(format!(
            "line {line}: the `{name}` policy neither blocks nor alerts: its verdicts are only logged"
        ));
    }
    Ok(PolicyConfig {
        action: name,
        line,
        scanners,
        plugins,
        plugin_params,
        severities,
        block: p.block,
        alert: p.alert,
        ignore_unfixed: p.ignore_unfixed,
        exceptions,
        allowed_registries,
        require_digest: p.require_digest,
        max_image_age,
    })
}

/// A policy's `exceptions` lines, then its `ignore_file`'s, as one rule list; a bad
/// rule is an error naming its line in the config or in the ignore file.
fn exceptions(
    p: &RawPolicy,
    text: &str,
    abs: &dyn Fn(PathBuf) -> PathBuf,
    invalid: &dyn Fn(Option<std::ops::Range<usize>>, String) -> ConfigError,
) -> Result<IgnoreFile, ConfigError> {
    let mut all = IgnoreFile::default();
    for line in &p.exceptions {
        let mut parsed = IgnoreFile::parse(line.get_ref())
            .map_err(|e| invalid(Some(line.span()), format!("exceptions: {}", e.reason)))?;
        for rule in &mut parsed.rules {
            rule.line = line_of(text, line.span().start);
        }
        all.rules.append(&mut parsed.rules);
    }
    if let Some(file) = &p.ignore_file {
        let path = abs(file.get_ref().clone());
        let body = std::fs::read_to_string(&path).map_err(|e| {
            invalid(
                Some(file.span()),
                format!("ignore_file: cannot read `{}`: {e}", path.display()),
            )
        })?;
        let mut parsed = IgnoreFile::parse(&body).map_err(|e| {
            invalid(
                Some(file.span()),
                format!("ignore_file `{}`: {e}", path.display()),
            )
        })?;
        all.rules.append(&mut parsed.rules);
    }
    Ok(all)
}

fn push_unique(v: &mut Vec<FindingKind>, k: FindingKind) {
    if !v.contains(&k) {
        v.push(k);
    }
}

/// veinmind-runner's risk levels (`Low`, `Medium`, `High`, `Critical`, any case) and
/// holdfast's severity names, as holdfast severities.
pub fn risk_level(word: &str) -> Result<Severity, String> {
    holdfast_policy::parse_severity(word).map_err(|_| {
        format!(
            "risk_level_filter: unknown level `{}`; expected Low, Medium, High, Critical (or Unknown)",
            word.trim()
        )
    })
}

/// The 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Loaded {
        parse(text, Path::new("/etc/holdfast/authz.toml")).unwrap()
    }

    fn parse_err(text: &str) -> String {
        parse(text, Path::new("/etc/holdfast/authz.toml"))
            .unwrap_err()
            .to_string()
    }

    /// veinmind-runner's own example (with its `[docker_auth]`), unchanged.
    const VEINMIND_EXAMPLE: &str = r#"[[policies]]
action = "container_create"
enabled_plugins = ["veinmind-weakpass"]
plugin_params = ["veinmind-weakpass:scan.serviceName=ssh"]
risk_level_filter = ["High"]
block = true
alert = true
[[policies]]
action = "image_create"
enabled_plugins = ["veinmind-weakpass"]
plugin_paramas = ["veinmind-weakpass:scan.serviceName=ssh"]
risk_level_filter = ["High"]
block = true
alert = true

[docker_auth]
registry = "xxx.xxx.xxx.xxx"
username = "username"
password = "password"

[log]
plugin_log_path = "plugin.log"
auth_log_path = "auth.log"

[listener]
listener_addr = "/run/docker/plugins/veinmind-broker.sock"
"#;

    #[test]
    fn veinmind_runner_example_is_accepted() {
        let l = parse_ok(VEINMIND_EXAMPLE);
        let c = &l.config;
        assert_eq!(c.policies.len(), 2);
        assert_eq!(c.policies[0].action, "container_create");
        assert_eq!(c.policies[0].line, 2);
        assert_eq!(c.policies[0].scanners, vec![FindingKind::WeakPassword]);
        assert!(c.policies[0].plugins.is_empty());
        assert_eq!(c.policies[0].severities, vec![Severity::High]);
        assert!(c.policies[0].block && c.policies[0].alert);
        assert_eq!(c.policies[1].action, "image_create");
        assert_eq!(
            c.listener,
            PathBuf::from("/run/docker/plugins/veinmind-broker.sock")
        );
        assert_eq!(c.log.auth_log_path, PathBuf::from("/etc/holdfast/auth.log"));
        assert_eq!(c.docker_auth.as_ref().unwrap().registry, "xxx.xxx.xxx.xxx");
        assert!(!format!("{:?}", c.docker_auth).contains("password\""));
        let w = l.warnings.join("\n");
        assert!(
            w.contains("line 11: `plugin_paramas`") && w.contains("plugin_params"),
            "{w}"
        );
        assert!(w.contains("veinmind-weakpass"), "{w}");
        assert!(w.contains("parameter `veinmind-weakpass:scan.serviceName=ssh` ignored"));
        // Defaults.
        assert_eq!(c.holdfast.fail_mode, FailMode::Closed);
        assert_eq!(c.holdfast.timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn unknown_keys_are_named_with_their_line() {
        let e = parse_err("[[policies]]\naction = \"container_create\"\nblok = true\n");
        assert!(e.contains(":3:") && e.contains("unknown key `blok`"), "{e}");
        let e = parse_err("[log]\nplugin_log_path = \"p\"\n\n[holdfast]\nfail_mod = \"open\"\n");
        assert!(e.contains(":5:") && e.contains("`fail_mod`"), "{e}");
        let e = parse_err("[listner]\nlistener_addr = \"/x.sock\"\n");
        assert!(e.contains(":1:") && e.contains("`listner`"), "{e}");
    }

    #[test]
    fn admission_keys_of_a_policy() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("accepted"),
            "# risk accepted\nCVE-9 exp:2027-01-31\n",
        )
        .unwrap();
        let config = dir.path().join("admission.toml");
        let text = "[[policies]]\naction = \"container_create\"\nblock = true\nignore_unfixed = true\nexceptions = [\"CVE-1 pkg:zlib\"]\nignore_file = \"accepted\"\nallowed_registries = [\"Registry.Example.com/\", \"127.0.0.1:5000/team\"]\nrequire_digest = true\nmax_image_age = \"12w\"\n";
        let p = &parse(text, &config).unwrap().config.policies[0];
        assert!(p.ignore_unfixed && p.require_digest);
        let rules: Vec<(&str, usize)> = p
            .exceptions
            .rules
            .iter()
            .map(|r| (r.id.as_str(), r.line))
            .collect();
        assert_eq!(rules, [("CVE-1", 5), ("CVE-9", 2)]);
        assert_eq!(
            p.allowed_registries,
            ["registry.example.com", "127.0.0.1:5000/team"]
        );
        assert_eq!(p.max_image_age, Some(Duration::from_secs(12 * 7 * 86_400)));

        let policy = "[[policies]]\naction = \"container_create\"\nblock = true\n";
        let e = parse_err(&format!("{policy}max_image_age = \"old\"\n"));
        assert!(
            e.contains(":4:") && e.contains("max_image_age: `old` is not a duration"),
            "{e}"
        );
        let e = parse_err(&format!(
            "{policy}allowed_registries = [\"https://r.example\"]\n"
        ));
        assert!(
            e.contains(":4:") && e.contains("`https://r.example` is not a registry"),
            "{e}"
        );
        let e = parse_err(&format!("{policy}exceptions = [\"CVE-1 until:2027\"]\n"));
        assert!(
            e.contains(":4:") && e.contains("unknown word `until:2027`"),
            "{e}"
        );
        let e = parse_err(&format!("{policy}ignore_file = \"missing\"\n"));
        assert!(
            e.contains(":4:") && e.contains("ignore_file: cannot read `/etc/holdfast/missing`"),
            "{e}"
        );
    }

    #[test]
    fn veinmind_spellings_of_the_auth_log() {
        for key in ["auth_log_path", "report_log_path", "authz_log_path"] {
            let l = parse_ok(&format!("[log]\n{key} = \"/var/log/a.log\"\n"));
            assert_eq!(l.config.log.auth_log_path, PathBuf::from("/var/log/a.log"));
        }
        let e = parse_err("[log]\nauth_log_path = \"a\"\nreport_log_path = \"b\"\n");
        assert!(e.contains("duplicate"), "{e}");
    }

    #[test]
    fn both_spellings_of_plugin_params_is_an_error() {
        let e = parse_err(
            "[[policies]]\naction = \"image_push\"\nenabled_plugins = [\"x\"]\nplugin_params = []\nplugin_paramas = []\n",
        );
        assert!(e.contains(":5:") && e.contains("plugin_paramas"), "{e}");
    }

    #[test]
    fn scanners_plugins_params_and_levels() {
        let l = parse_ok(
            r#"[[policies]]
action = "image_push"
enabled_plugins = ["vuln", "secret", "weak-password", "ssh-port"]
plugin_params = ["ssh-port:scan/image.port=22", "ssh-port:verbose=true"]
risk_level_filter = ["low", "Critical", "CRITICAL"]
alert = true
"#,
        );
        let p = &l.config.policies[0];
        assert_eq!(
            p.scanners,
            vec![
                FindingKind::Vulnerability,
                FindingKind::Secret,
                FindingKind::WeakPassword
            ]
        );
        assert_eq!(p.plugins, vec!["ssh-port".to_string()]);
        assert_eq!(p.plugin_params.len(), 2);
        assert_eq!(p.severities, vec![Severity::Low, Severity::Critical]);
        assert!(!p.block);

        // Only external plugins: no built-in scanner runs.
        let l =
            parse_ok("[[policies]]\naction = \"image_push\"\nenabled_plugins = [\"ssh-port\"]\n");
        assert!(l.config.policies[0].scanners.is_empty());
        // The misconfig scanner judges an image's config and history too.
        let l = parse_ok(
            "[[policies]]\naction = \"container_create\"\nenabled_plugins = [\"misconfig\"]\n",
        );
        assert_eq!(
            l.config.policies[0].scanners,
            vec![FindingKind::Misconfiguration]
        );
        // None named: holdfast's default scanners.
        let l = parse_ok("[[policies]]\naction = \"image_push\"\nblock = true\n");
        assert_eq!(
            l.config.policies[0].scanners,
            holdfast_scan::default_scanners()
        );
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    }

    #[test]
    fn bad_values_name_their_line() {
        let e =
            parse_err("[[policies]]\naction = \"image_push\"\nrisk_level_filter = [\"Severe\"]\n");
        assert!(e.contains(":3:") && e.contains("Severe"), "{e}");
        let e = parse_err("[[policies]]\naction = \"container_craete\"\n");
        assert!(e.contains(":2:") && e.contains("container_craete"), "{e}");
        let e = parse_err("[[policies]]\naction = \"volume_create\"\n");
        assert!(e.contains("concerns no image"), "{e}");
        let e = parse_err("[[policies]]\naction = \"image_inspect\"\n");
        assert!(e.contains("the plugin itself"), "{e}");
        let e = parse_err(
            "[[policies]]\naction = \"image_push\"\nenabled_plugins = [\"a\"]\nplugin_params = [\"b:x=1\"]\n",
        );
        assert!(e.contains(":4:") && e.contains("`b`"), "{e}");
        let e =
            parse_err("[[policies]]\naction = \"image_push\"\nplugin_params = [\"nonsense\"]\n");
        assert!(
            e.contains(":3:") && e.contains("NAME:COMMAND.PARAM=VALUE"),
            "{e}"
        );
        let e = parse_err("[holdfast]\ntimeout = \"soon\"\n");
        assert!(e.contains(":2:") && e.contains("20s"), "{e}");
        let e = parse_err("[holdfast]\nfail_mode = \"ajar\"\n");
        assert!(e.contains("ajar"), "{e}");
        let e = parse_err("[holdfast]\nalert_webhook = \"ftp://x\"\n");
        assert!(e.contains("http"), "{e}");
        let e = parse_err(
            "[[policies]]\naction = \"image_push\"\nenabled_plugins = [\"compliance\"]\n",
        );
        assert!(e.contains("not a scanner"), "{e}");
    }

    #[test]
    fn holdfast_table() {
        let l = parse_ok(
            r#"[listener]
listener_addr = "unix:///run/docker/plugins/hf.sock"
[holdfast]
fail_mode = "open"
timeout = "3s"
alert_webhook = "http://127.0.0.1:9/hook"
db = "db/holdfast.db"
cache_dir = "/var/cache/holdfast"
plugin_dirs = ["plugins"]
insecure_registries = ["127.0.0.1:5000"]
docker_host = "unix:///run/docker.sock"
cache_ttl = "10m"
scan_timeout = "5m"
log_uncovered = true
max_parallel_scans = 3
"#,
        );
        let h = &l.config.holdfast;
        assert_eq!(
            l.config.listener,
            PathBuf::from("/run/docker/plugins/hf.sock")
        );
        assert_eq!(h.fail_mode, FailMode::Open);
        assert_eq!(h.timeout, Duration::from_secs(3));
        assert_eq!(h.weak_password_timeout, Duration::from_millis(1500));
        assert_eq!(h.db, Some(PathBuf::from("/etc/holdfast/db/holdfast.db")));
        assert_eq!(h.plugin_dirs, vec![PathBuf::from("/etc/holdfast/plugins")]);
        assert_eq!(h.cache_ttl, Duration::from_secs(600));
        assert!(h.log_uncovered);
        assert_eq!(h.max_parallel_scans, 3);
        assert!(l.warnings[0].contains("no [[policies]]"));
    }
}
