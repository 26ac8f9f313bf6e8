//! The scan result: the JSON contract other programs read.

use serde::{Deserialize, Serialize};

use crate::{Finding, OsRelease, Package, Severity};

/// Version of the JSON result's shape; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything one holdfast run found, over one or more targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanResult {
    pub schema_version: u32,
    pub tool: ToolInfo,
    /// RFC 3339 time the scan finished.
    pub created_at: String,
    /// The vulnerability database used, when one was.
    #[serde(default)]
    pub db: Option<DbDescription>,
    pub targets: Vec<TargetResult>,
    pub summary: ScanSummary,
    /// Present for `scan registry`: what the registry scan covered, what failed, the worst
    /// images. Absent otherwise (results without it keep their shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<crate::RegistrySummary>,
    /// Present for `scan cluster`: every pod, its owner, its images (pointing at their
    /// targets) and its exposure, and what could not be read. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<crate::ClusterSummary>,
    /// Present when a model was asked to explain the result (`--analyze`, `holdfast
    /// analyze`): its answers and what went wrong asking. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<Analysis>,
}

impl ScanResult {
    /// Why a compliance run could not judge what it is for (a node without a kubelet, a
    /// daemon that cannot be reached): its first `not-applicable` warning.
    pub fn not_supported(&self) -> Option<&str> {
        self.targets
            .iter()
            .flat_map(|t| &t.warnings)
            .find(|w| w.kind == WarningKind::NotApplicable)
            .map(|w| w.message.as_str())
    }
}

/// An OpenAI-compatible model's explanation of a result. It is advice about the findings,
/// never a finding: it changes no count and no exit code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analysis {
    /// The model asked.
    pub model: String,
    /// The API's `host[:port]`: never its path, query or credentials.
    pub endpoint: String,
    /// RFC 3339 time the analysis finished.
    pub created_at: String,
    /// Findings described to the model (redacted: ids, severities, titles, packages, paths).
    pub findings: usize,
    /// Requests the description was split into to fit the model's context.
    pub parts: usize,
    /// The answers: an overall one first when the description took several parts, then
    /// one per part that was answered.
    pub sections: Vec<AnalysisSection>,
    /// What went wrong asking (a timeout, a refusal, a rate limit): the analysis may be
    /// partial or empty, the scan's result is whole.
    #[serde(default)]
    pub warnings: Vec<AnalysisWarning>,
}

/// One answer of the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisSection {
    /// `overall` for the answer over every part, `part` for the answer about one part.
    pub kind: AnalysisSectionKind,
    /// A heading: what the part covered (targets and severities).
    pub title: String,
    /// The targets the part described (empty for the overall answer: all of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// The severities the part described, most severe first (empty: all of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severities: Vec<Severity>,
    /// Findings the part described.
    pub findings: usize,
    /// The model's answer, as text (never rendered as markup).
    pub text: String,
}

/// Which kind of answer an [`AnalysisSection`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnalysisSectionKind {
    /// The answer merging every part's answer.
    Overall,
    /// The answer about one part of the description.
    Part,
}

/// Something that went wrong asking the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisWarning {
    /// What sort of problem it is; decide on this, not on the message.
    pub kind: AnalysisWarningKind,
    /// What happened, for people.
    pub message: String,
}

/// What sort of problem an [`AnalysisWarning`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnalysisWarningKind {
    /// The endpoint, model, token or proxy settings are missing or unusable: nothing was asked.
    Config,
    /// A request took longer than the timeout.
    Timeout,
    /// The endpoint could not be reached (DNS, refused, reset, TLS).
    Connection,
    /// The endpoint kept answering 429, or asked to wait longer than the cap.
    RateLimited,
    /// The endpoint answered with an error status.
    HttpStatus,
    /// The answer was not a Chat Completions response with text.
    BadResponse,
    /// The model stopped early (its output limit), or an answer was cut to the size kept.
    Truncated,
    /// Parts were not asked: after a failure that would repeat, or over the part limit.
    Skipped,
}

impl AnalysisWarningKind {
    /// The kebab-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            AnalysisWarningKind::Config => "config",
            AnalysisWarningKind::Timeout => "timeout",
            AnalysisWarningKind::Connection => "connection",
            AnalysisWarningKind::RateLimited => "rate-limited",
            AnalysisWarningKind::HttpStatus => "http-status",
            AnalysisWarningKind::BadResponse => "bad-response",
            AnalysisWarningKind::Truncated => "truncated",
            AnalysisWarningKind::Skipped => "skipped",
        }
    }
}

/// The vulnerability database a result was matched against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbDescription {
    /// The database file, or `(bundled demo advisories)`.
    pub path: String,
    /// True when no database was built and the bundled demo advisories were used.
    pub demo: bool,
    /// The database's own schema version.
    pub schema_version: u32,
    /// When the database was built, RFC 3339.
    pub built_at: String,
    /// Advisories it holds, withdrawn ones included.
    pub advisories: usize,
}

/// The program that wrote a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

/// What kind of thing a target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    Image,
    Rootfs,
    Container,
    /// A configuration file: a Dockerfile or a Kubernetes manifest.
    Config,
    /// A host's container runtime, its configuration, containers and images, as a
    /// compliance benchmark judges them.
    Host,
}

impl TargetKind {
    /// The lowercase name used in JSON: `image`, `rootfs`, `container`, `config`, `host`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Image => "image",
            TargetKind::Rootfs => "rootfs",
            TargetKind::Container => "container",
            TargetKind::Config => "config",
            TargetKind::Host => "host",
        }
    }
}

/// One scanned target: an image, a root filesystem, a container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetResult {
    pub kind: TargetKind,
    /// The name the user gave, e.g. `docker-archive:app.tar`.
    pub name: String,
    /// The image's digest or id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// `os/arch[/variant]` from the image config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// When the image was built (the config's `created`, RFC 3339), as the image says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    pub os: Option<OsRelease>,
    pub layers: Vec<LayerInfo>,
    pub packages: Vec<Package>,
    pub findings: Vec<Finding>,
    /// Findings suppressed by a VEX statement or an ignore rule, with the reason; they are
    /// not counted and do not fail a scan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<Finding>,
    /// What could not be read, and why; the rest of the target was still scanned.
    #[serde(default)]
    pub warnings: Vec<Warning>,
    /// The plugins run on this target and how each run ended.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<PluginRun>,
    /// Every configuration or compliance check run on this target and how it ended; the
    /// failures are also in `findings`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
}

impl TargetResult {
    /// A target with nothing in it yet: no OS, layers, packages, findings or checks.
    pub fn empty(kind: TargetKind, name: impl Into<String>) -> Self {
        TargetResult {
            kind,
            name: name.into(),
            image_id: None,
            platform: None,
            created: None,
            os: None,
            layers: Vec::new(),
            packages: Vec::new(),
            findings: Vec::new(),
            suppressed: Vec::new(),
            warnings: Vec::new(),
            plugins: Vec::new(),
            checks: Vec::new(),
        }
    }
}

/// How a configuration or compliance check ended, in CIS benchmark terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CheckStatus {
    /// Nothing wrong was found.
    Pass,
    /// The check failed.
    Warn,
    /// Worth a look; not a failure.
    Info,
    /// Cannot be decided by a program: the benchmark asks for a manual review.
    Note,
    /// The check could not be run; the evidence says why.
    Error,
}

impl CheckStatus {
    /// Every status, in the order reports list them.
    pub const ALL: [CheckStatus; 5] = [
        CheckStatus::Pass,
        CheckStatus::Warn,
        CheckStatus::Info,
        CheckStatus::Note,
        CheckStatus::Error,
    ];

    /// How many of `checks` ended each way, in [`CheckStatus::ALL`] order, statuses no
    /// check ended with left out.
    pub fn counts<'a>(
        checks: impl IntoIterator<Item = &'a CheckResult>,
    ) -> Vec<(CheckStatus, usize)> {
        let mut n = [0usize; 5];
        for c in checks {
            n[CheckStatus::ALL
                .iter()
                .position(|s| *s == c.status)
                .unwrap_or(0)] += 1;
        }
        CheckStatus::ALL
            .into_iter()
            .zip(n)
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// [`CheckStatus::counts`] as text, `12 PASS, 3 WARN`; `none run` when there are none.
    pub fn counts_text<'a>(checks: impl IntoIterator<Item = &'a CheckResult>) -> String {
        let parts: Vec<String> = CheckStatus::counts(checks)
            .into_iter()
            .map(|(s, n)| format!("{n} {}", s.as_str()))
            .collect();
        if parts.is_empty() {
            "none run".into()
        } else {
            parts.join(", ")
        }
    }

    /// The upper-case name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "PASS",
            CheckStatus::Warn => "WARN",
            CheckStatus::Info => "INFO",
            CheckStatus::Note => "NOTE",
            CheckStatus::Error => "ERROR",
        }
    }
}

/// One configuration or compliance check's result on a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// `HF-DF-...`, `HF-K8S-...`, `CIS-DOCKER-<n>`, `CIS-K8S-<n>`, or a custom policy's id.
    pub id: String,
    pub title: String,
    /// The benchmark the check belongs to.
    pub benchmark: String,
    /// The benchmark's section.
    pub section: String,
    /// CIS profile level.
    pub level: u8,
    /// CIS "scored" (automated) check.
    pub scored: bool,
    pub severity: Severity,
    pub status: CheckStatus,
    /// What decided a WARN, INFO or ERROR: the file, line, object or container, and the
    /// rule's message.
    pub evidence: Vec<CheckEvidence>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remediation: String,
    /// Regulations the check supports: `pci-dss`, `gdpr`, `hipaa`, `nist-800-190`.
    pub tags: Vec<String>,
    /// The same rule's ids in other tools (hadolint, checkov, Trivy).
    pub aliases: Vec<String>,
}

/// One piece of evidence of a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckEvidence {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// `Kind/name` of the Kubernetes object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

/// One plugin's run on one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRun {
    pub name: String,
    pub version: String,
    /// `ok`, `not-started`, `failed`, `timed-out` or `overflowed`.
    pub status: String,
    /// What went wrong, when the status is not `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Findings it reported that were kept.
    pub findings: usize,
    /// Output lines that were not valid events.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub invalid_lines: u64,
    pub elapsed_ms: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One layer of an image, as the image describes it (before any byte of it is read) and
/// as the result reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// sha256 of the uncompressed layer tar.
    pub diff_id: Option<String>,
    /// Digest of the blob as stored (compressed), when the source has one.
    pub digest: Option<String>,
    /// The history command that made the layer (`RUN ...`, `COPY ...`).
    pub created_by: Option<String>,
    /// Size of the blob in bytes, as stored.
    pub size: Option<u64>,
    /// Media type from the manifest, when there is one; used to pick the decompressor,
    /// not part of the result.
    #[serde(skip)]
    pub media_type: Option<String>,
}

/// What sort of problem a [`Warning`] reports. Callers decide on this, never on the
/// message text (which is for people and may change).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum WarningKind {
    /// A whole layer could not be read (a missing or corrupt blob, a source error): the
    /// target was not scanned whole.
    LayerNotScanned,
    /// A layer's content does not match what the image config says about it.
    LayerMismatch,
    /// A size, count, depth or time bound stopped reading or checking something.
    BoundReached,
    /// A file could not be read (I/O error, truncated stream).
    UnreadableFile,
    /// A file was read but its format is broken (a package database, a lock file, a
    /// config), so what it holds is missing from the result.
    MalformedFile,
    /// A checker could not read back what its own analyzer recorded in the walk (a layer
    /// cache written by another version, say); named by the checker.
    CheckerRecord,
    /// The vulnerability database is stale or incomplete.
    Database,
    /// A plugin failed, timed out, wrote too much or wrote lines that are not valid events;
    /// named in the message.
    Plugin,
    /// What a compliance benchmark judges is not on this host (no kubelet process, no
    /// reachable Docker Engine API): its checks said what they could without it.
    NotApplicable,
    /// Anything else; also what results written before kinds existed read as.
    #[default]
    Other,
}

impl WarningKind {
    /// The kebab-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            WarningKind::LayerNotScanned => "layer-not-scanned",
            WarningKind::LayerMismatch => "layer-mismatch",
            WarningKind::BoundReached => "bound-reached",
            WarningKind::UnreadableFile => "unreadable-file",
            WarningKind::MalformedFile => "malformed-file",
            WarningKind::CheckerRecord => "checker-record",
            WarningKind::Database => "database",
            WarningKind::Plugin => "plugin",
            WarningKind::NotApplicable => "not-applicable",
            WarningKind::Other => "other",
        }
    }
}

/// Something that was skipped or could not be read, with where it was.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Warning {
    /// The layer (diff_id) the problem is in, if it is in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// The path inside the image, if the problem is about one file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub message: String,
    /// What sort of problem it is.
    #[serde(default)]
    pub kind: WarningKind,
}

impl Warning {
    /// A warning about a file in a layer.
    pub fn file(
        kind: WarningKind,
        layer: Option<&str>,
        path: &str,
        message: impl Into<String>,
    ) -> Self {
        Warning {
            layer: layer.map(str::to_string),
            path: Some(path.to_string()),
            message: message.into(),
            kind,
        }
    }

    /// A warning about a whole layer or about the target.
    pub fn general(kind: WarningKind, layer: Option<&str>, message: impl Into<String>) -> Self {
        Warning {
            layer: layer.map(str::to_string),
            path: None,
            message: message.into(),
            kind,
        }
    }
}

/// Counts over all targets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanSummary {
    pub targets: usize,
    pub packages: usize,
    pub findings: usize,
    /// Findings per severity, every severity present (zero when none).
    pub by_severity: std::collections::BTreeMap<Severity, usize>,
    pub warnings: usize,
}

impl ScanSummary {
    /// Counts the packages, findings and warnings of the given targets.
    pub fn of(targets: &[TargetResult]) -> Self {
        let mut s = ScanSummary {
            targets: targets.len(),
            ..Default::default()
        };
        for sev in Severity::ALL {
            s.by_severity.insert(sev, 0);
        }
        for t in targets {
            s.packages += t.packages.len();
            s.findings += t.findings.len();
            s.warnings += t.warnings.len();
            for f in &t.findings {
                *s.by_severity.entry(f.severity).or_default() += 1;
            }
        }
        s
    }
}

/// One check of one target, as a run's difference from the run before lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChangedCheck<'a> {
    /// The target the check judged.
    pub target: &'a str,
    /// The check as the run that failed it (for new failures) or the run that had failed
    /// it (for fixed ones) reported it.
    pub check: &'a CheckResult,
}

/// What changed between two runs of the same checks, by target and check id: checks that
/// fail now (WARN or ERROR) and did not, then checks that failed and no longer do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckChanges<'a> {
    /// Failing now, not failing (or not run) before.
    pub new_failures: Vec<ChangedCheck<'a>>,
    /// Failing before, not failing (or not run) now.
    pub fixed: Vec<ChangedCheck<'a>>,
}

impl<'a> CheckChanges<'a> {
    /// The changes from `before` to `after`, each list in target then check id order.
    pub fn between(before: &'a ScanResult, after: &'a ScanResult) -> CheckChanges<'a> {
        let (b, a) = (failures(before), failures(after));
        CheckChanges {
            new_failures: a
                .iter()
                .filter(|(key, _)| !b.contains_key(*key))
                .map(|(_, c)| *c)
                .collect(),
            fixed: b
                .iter()
                .filter(|(key, _)| !a.contains_key(*key))
                .map(|(_, c)| *c)
                .collect(),
        }
    }
}

/// The failing checks of a result, by (target, check id).
fn failures(result: &ScanResult) -> std::collections::BTreeMap<(&str, &str), ChangedCheck<'_>> {
    result
        .targets
        .iter()
        .flat_map(|t| t.checks.iter().map(move |c| (t.name.as_str(), c)))
        .filter(|(_, c)| matches!(c.status, CheckStatus::Warn | CheckStatus::Error))
        .map(|(target, check)| ((target, check.id.as_str()), ChangedCheck { target, check }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: &str, status: CheckStatus) -> CheckResult {
        CheckResult {
            id: id.into(),
            title: format!("title of {id}"),
            benchmark: "b".into(),
            section: "1".into(),
            level: 1,
            scored: true,
            severity: Severity::Medium,
            status,
            evidence: Vec::new(),
            remediation: String::new(),
            tags: Vec::new(),
            aliases: Vec::new(),
        }
    }

    fn run(targets: &[(&str, &[(&str, CheckStatus)])]) -> ScanResult {
        let targets: Vec<TargetResult> = targets
            .iter()
            .map(|(name, checks)| {
                let mut t = TargetResult::empty(TargetKind::Host, *name);
                t.checks = checks.iter().map(|(id, s)| check(id, *s)).collect();
                t
            })
            .collect();
        ScanResult {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo {
                name: "holdfast".into(),
                version: "0".into(),
            },
            created_at: String::new(),
            db: None,
            summary: ScanSummary::of(&targets),
            targets,
            registry: None,
            cluster: None,
            analysis: None,
        }
    }

    fn ids(list: &[ChangedCheck<'_>]) -> Vec<String> {
        list.iter()
            .map(|c| format!("{}:{}", c.target, c.check.id))
            .collect()
    }

    #[test]
    fn changes_are_failures_that_came_or_went_per_target() {
        use CheckStatus::*;
        let before = run(&[
            ("a", &[("1", Pass), ("2", Warn), ("3", Error), ("4", Warn)]),
            ("b", &[("1", Warn)]),
        ]);
        let after = run(&[
            // 2 stays failing (WARN to ERROR is no change), 3 is fixed as INFO, 4 is
            // no longer run, 5 is new, and 1 now fails on `a` only.
            ("a", &[("1", Warn), ("2", Error), ("3", Info), ("5", Warn)]),
            ("b", &[("1", Pass), ("6", Note)]),
        ]);
        let changes = CheckChanges::between(&before, &after);
        assert_eq!(ids(&changes.new_failures), ["a:1", "a:5"]);
        assert_eq!(ids(&changes.fixed), ["a:3", "a:4", "b:1"]);
        // The fixed ones are described by the run that failed them.
        assert_eq!(changes.fixed[0].check.status, Error);
        assert_eq!(
            CheckChanges::between(&after, &after),
            CheckChanges::default()
        );
    }
}
