//! `scan config`: Dockerfiles and Kubernetes manifests found under the given paths, each
//! file one target with its check results and a finding per failure.

use crate::catalog::{Check, InputKind};
use crate::engine::{Hit, Outcome, RuleEngine};
use crate::{dockerfile, kubernetes, regulation_filter};
use holdfast_model::{
    CheckEvidence, CheckResult, CheckStatus, Finding, FindingKind, TargetKind, TargetResult,
    Warning, WarningKind,
};
use std::path::{Path, PathBuf};

/// Largest configuration file read, in bytes.
pub const MAX_CONFIG_FILE: u64 = 4 << 20;

/// Most files one config scan reads.
pub const MAX_CONFIG_FILES: usize = 100_000;

/// What a config scan reads and which checks it runs.
#[derive(Debug, Clone, Default)]
pub struct ConfigScanOptions {
    /// Files and directories to scan.
    pub paths: Vec<PathBuf>,
    /// `--policy` directories or files of extra checks.
    pub policies: Vec<PathBuf>,
    /// Only checks tagged with one of these regulations (`--compliance`); empty runs all.
    pub regulations: Vec<String>,
    /// Bounds of each git repository's clone.
    pub clone_limits: crate::git_repo::CloneLimits,
}

/// Why a config scan could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ConfigScanError {
    /// The checks could not be loaded.
    #[error(transparent)]
    Catalog(#[from] crate::CatalogError),
    /// A path given on the command line does not exist or cannot be read.
    #[error("cannot read {path}: {source}")]
    Path {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// An unknown `--compliance` name.
    #[error("{0}")]
    Regulation(String),
    /// A git repository named on the command line could not be cloned.
    #[error(transparent)]
    Clone(#[from] crate::git_repo::CloneError),
}

/// A file the scan reads, and as what.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ConfigFile {
    path: PathBuf,
    /// What the target is called: the path, or for a file of a cloned repository the
    /// repository's URL and the path inside it.
    name: String,
    kind: FileKind,
}

/// What a configuration file is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Dockerfile,
    Kubernetes,
    Compose,
}

/// Scans every configuration file under `options.paths`; one target per file, in path
/// order. A file that cannot be read or parsed is a target with a warning naming the
/// problem; the others are still scanned.
pub fn scan_config(options: &ConfigScanOptions) -> Result<Vec<TargetResult>, ConfigScanError> {
    let kinds = [
        InputKind::Dockerfile,
        InputKind::Kubernetes,
        InputKind::Compose,
    ];
    let engine = RuleEngine::for_kinds(&options.policies, &kinds)?;
    let keep = regulation_filter(&options.regulations).map_err(ConfigScanError::Regulation)?;
    // Repositories are cloned first, and their directories live until the files are read.
    let mut clones = Vec::new();
    let mut roots = Vec::new();
    for path in &options.paths {
        let arg = path.to_string_lossy();
        if crate::git_repo::is_git_url(&arg) {
            let repo = crate::git_repo::clone(&arg, &options.clone_limits)?;
            roots.push((repo.path().to_path_buf(), Some(repo.url.clone())));
            clones.push(repo);
        } else {
            roots.push((path.clone(), None));
        }
    }
    let files = discover(&roots)?;
    Ok(judge_each(&engine, files, |engine, f| {
        scan_file(engine, &keep, &f)
    }))
}

/// Judges `items` on every core, each thread with its own clone of `engine` over the same
/// compiled checks; results keep the items' order.
fn judge_each<T: Send>(
    engine: &RuleEngine,
    items: Vec<T>,
    judge: impl Fn(&mut RuleEngine, T) -> TargetResult + Sync + Send,
) -> Vec<TargetResult> {
    use rayon::prelude::*;
    items
        .into_par_iter()
        .map_init(|| engine.clone(), |engine, item| judge(engine, item))
        .collect()
}

/// The configuration files under each root; a root cloned from `url` names its files
/// `url/path`.
fn discover(roots: &[(PathBuf, Option<String>)]) -> Result<Vec<ConfigFile>, ConfigScanError> {
    let mut files = Vec::new();
    for (root, url) in roots {
        let name = |path: &Path| match url {
            Some(url) => format!(
                "{url}/{}",
                path.strip_prefix(root).unwrap_or(path).display()
            ),
            None => path.display().to_string(),
        };
        let meta = std::fs::metadata(root).map_err(|source| ConfigScanError::Path {
            path: root.clone(),
            source,
        })?;
        if meta.is_file() {
            // A file named on the command line is read whatever its name.
            let kind = kind_by_name(root).unwrap_or_else(|| kind_by_content(root));
            files.push(ConfigFile {
                path: root.clone(),
                name: name(root),
                kind,
            });
            continue;
        }
        let walk = walkdir::WalkDir::new(root)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                !(e.file_type().is_dir()
                    && e.depth() > 0
                    && matches!(e.file_name().to_str(), Some(".git" | "node_modules")))
            });
        for entry in walk {
            let entry = entry.map_err(|e| ConfigScanError::Path {
                path: e.path().unwrap_or(root).to_path_buf(),
                source: e.into(),
            })?;
            if !entry.file_type().is_file() {
                continue;
            }
            if let Some(kind) = kind_by_name(entry.path()) {
                if is_helm_template(entry.path()) {
                    continue;
                }
                files.push(ConfigFile {
                    path: entry.path().to_path_buf(),
                    name: name(entry.path()),
                    kind,
                });
                if files.len() >= MAX_CONFIG_FILES {
                    return Ok(files);
                }
            }
        }
    }
    Ok(files)
}

/// Dockerfiles and compose files by their conventional names; other YAML and JSON as
/// Kubernetes manifests.
fn kind_by_name(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    if lower == "dockerfile"
        || lower == "containerfile"
        || lower.starts_with("dockerfile.")
        || lower.starts_with("containerfile.")
        || lower.ends_with(".dockerfile")
        || lower.ends_with(".containerfile")
    {
        return Some(FileKind::Dockerfile);
    }
    if crate::compose::is_compose_name(&lower) {
        return Some(FileKind::Compose);
    }
    if lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json") {
        return Some(FileKind::Kubernetes);
    }
    None
}

/// A file whose name says nothing: a Dockerfile if its first instruction is `FROM`.
fn kind_by_content(path: &Path) -> FileKind {
    use std::io::Read;
    let mut text = Vec::new();
    if let Ok(file) = std::fs::File::open(path) {
        let _ = file.take(64 << 10).read_to_end(&mut text);
    }
    let head = String::from_utf8_lossy(&text);
    let first = head
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let word = first.split_whitespace().next().unwrap_or("");
    if word.eq_ignore_ascii_case("from") || word.eq_ignore_ascii_case("arg") {
        FileKind::Dockerfile
    } else {
        FileKind::Kubernetes
    }
}

/// Templates of a Helm chart are Go templates, not manifests: render them
/// (`helm template`) and scan the output instead.
fn is_helm_template(path: &Path) -> bool {
    let Some(dir) = path.parent() else {
        return false;
    };
    dir.file_name().is_some_and(|n| n == "templates")
        && dir
            .parent()
            .is_some_and(|chart| chart.join("Chart.yaml").is_file())
}

fn scan_file(
    engine: &mut RuleEngine,
    keep: &dyn Fn(&Check) -> bool,
    file: &ConfigFile,
) -> TargetResult {
    let name = file.name.clone();
    let mut target = TargetResult::empty(TargetKind::Config, &name);
    let text = match read_config(&file.path) {
        Ok(t) => t,
        Err(message) => {
            target.warnings.push(file_warning(&name, message));
            return target;
        }
    };
    // Each check's outcomes over the file's documents: (document label, outcome).
    let mut per_check: Vec<Vec<Judged>> = vec![Vec::new(); engine.checks().len()];
    match file.kind {
        FileKind::Dockerfile => match dockerfile::parse(&name, &text) {
            Ok(doc) => {
                for (i, outcome) in engine.evaluate(InputKind::Dockerfile, &doc, keep) {
                    per_check[i].push((None, 0, outcome));
                }
            }
            Err(e) => target.warnings.push(file_warning(&name, e.to_string())),
        },
        FileKind::Compose => match crate::compose::parse(&name, &text) {
            Ok(doc) => {
                for (i, outcome) in engine.evaluate(InputKind::Compose, &doc, keep) {
                    per_check[i].push((None, 0, outcome));
                }
            }
            Err(e) => target.warnings.push(file_warning(&name, e.to_string())),
        },
        FileKind::Kubernetes => {
            let manifest = kubernetes::parse(&name, &text);
            for e in &manifest.errors {
                target.warnings.push(file_warning(
                    &name,
                    format!("document at line {}: {}", e.line, e.message),
                ));
            }
            for object in &manifest.objects {
                let label = object.label();
                for (i, outcome) in engine.evaluate(InputKind::Kubernetes, object, keep) {
                    per_check[i].push((Some(label.clone()), object.line, outcome));
                }
            }
        }
    }
    add_results(&mut target, engine.checks(), per_check, Some(&name));
    target
}

/// Adds each check's result over its documents to `target`, and a `misconfiguration`
/// finding per piece of evidence of a failure. Checks with no document are left out.
fn add_results<'a>(
    target: &mut TargetResult,
    checks: impl Iterator<Item = &'a Check>,
    per_check: Vec<Vec<Judged>>,
    path: Option<&str>,
) {
    let (results, findings) = (&mut target.checks, &mut target.findings);
    push_results(results, findings, checks, per_check, path, |_, _| {});
}

/// [`add_results`] into separate lists, with `relabel` applied to each piece of evidence
/// before the findings are made from it.
pub(crate) fn push_results<'a>(
    results: &mut Vec<CheckResult>,
    findings: &mut Vec<Finding>,
    checks: impl Iterator<Item = &'a Check>,
    per_check: Vec<Vec<Judged>>,
    path: Option<&str>,
    relabel: impl Fn(&Check, &mut CheckEvidence),
) {
    for (check, outcomes) in checks.zip(per_check) {
        if outcomes.is_empty() {
            continue;
        }
        let mut result = check_result(check, path, outcomes);
        for e in &mut result.evidence {
            relabel(check, e);
        }
        if result.status == CheckStatus::Warn {
            for e in &result.evidence {
                findings.push(finding(check, FindingKind::Misconfiguration, e));
            }
        }
        results.push(result);
    }
}

/// One workload of a live cluster: a pod standing for its owner's pods.
#[derive(Debug, Clone)]
pub struct LiveWorkload {
    /// The target's name, e.g. `cluster kind-prod: Deployment shop/web`.
    pub target: String,
    /// The owner (or the pod itself, for a bare pod).
    pub workload: kubernetes::Workload,
    /// The pod as the API gave it.
    pub pod: serde_json::Value,
}

/// Judges the pod specs of a live cluster with the Kubernetes workload and Pod Security
/// Standards checks (and `policies`' own): one `config` target per workload, with the
/// same results and findings `scan config` gives a manifest.
pub fn judge_workloads(
    workloads: Vec<LiveWorkload>,
    policies: &[PathBuf],
    regulations: &[String],
) -> Result<Vec<TargetResult>, ConfigScanError> {
    let engine = RuleEngine::for_kinds(policies, &[InputKind::Kubernetes])?;
    let keep = regulation_filter(regulations).map_err(ConfigScanError::Regulation)?;
    Ok(judge_each(&engine, workloads, |engine, w| {
        let mut target = TargetResult::empty(TargetKind::Config, &w.target);
        let mut per_check: Vec<Vec<Judged>> = vec![Vec::new(); engine.checks().len()];
        match kubernetes::live_pod(&w.target, w.pod, w.workload) {
            Some(object) => {
                let label = object.label();
                for (i, o) in engine.evaluate(InputKind::Kubernetes, &object, &keep) {
                    per_check[i].push((Some(label.clone()), 0, o));
                }
            }
            None => target.warnings.push(Warning::general(
                WarningKind::Other,
                None,
                "the API answered a pod without kind or apiVersion; not judged",
            )),
        }
        add_results(&mut target, engine.checks(), per_check, None);
        target
    }))
}

fn read_config(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > MAX_CONFIG_FILE {
        return Err(format!(
            "{} bytes is more than a configuration file may have ({MAX_CONFIG_FILE}); not read",
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text; not read".to_string())
}

fn file_warning(path: &str, message: String) -> Warning {
    Warning::file(WarningKind::Other, None, path, message)
}

/// One check's outcome on one document: what evidence calls the document (a Kubernetes
/// object, a container), the line it starts on (0 when the file is one document), and
/// the outcome.
pub(crate) type Judged = (Option<String>, u32, Outcome);

/// One check's result over every document of a file (`path`) or of a host (`None`): the
/// worst status, and the evidence of the status that decided it.
pub(crate) fn check_result(
    check: &Check,
    path: Option<&str>,
    outcomes: Vec<Judged>,
) -> CheckResult {
    let status = outcomes
        .iter()
        .map(|(_, _, o)| o.status)
        .max_by_key(|s| status_rank(*s))
        .unwrap_or(CheckStatus::Pass);
    let mut evidence = Vec::new();
    for (object, doc_line, outcome) in outcomes {
        let hits: Vec<Hit> = match status {
            CheckStatus::Warn | CheckStatus::Error if outcome.status == status => outcome.deny,
            CheckStatus::Info => outcome.warn,
            _ => Vec::new(),
        };
        for hit in hits {
            evidence.push(CheckEvidence {
                message: hit.message,
                path: path.map(str::to_string),
                line: hit.line.or((doc_line > 0).then_some(doc_line)),
                object: object.clone(),
                container: hit.container,
            });
        }
    }
    CheckResult {
        id: check.id.clone(),
        title: check.title.clone(),
        benchmark: check.benchmark.clone(),
        section: check.section.clone(),
        level: check.level,
        scored: check.scored,
        severity: check.severity,
        status,
        evidence,
        remediation: check.remediation.clone(),
        tags: check.tags.clone(),
        aliases: check.aliases.clone(),
    }
}

/// Which status wins when a check ran on several documents.
fn status_rank(s: CheckStatus) -> u8 {
    match s {
        CheckStatus::Pass => 0,
        CheckStatus::Note => 1,
        CheckStatus::Info => 2,
        CheckStatus::Warn => 3,
        CheckStatus::Error => 4,
    }
}

/// The finding a failed check gives for one piece of its evidence: `misconfiguration` for
/// a file, `compliance` for a host.
pub(crate) fn finding(check: &Check, kind: FindingKind, e: &CheckEvidence) -> Finding {
    let mut f = Finding::new(kind, check.id.clone(), check.severity, check.title.clone());
    f.path = e.path.clone();
    f.line = e.line;
    f.evidence = Some(match &e.object {
        Some(object) => format!("{object}: {}", e.message),
        None => e.message.clone(),
    });
    f.aliases = check.aliases.clone();
    f.remediation = (!check.remediation.is_empty()).then(|| check.remediation.clone());
    f
}
