//! A finding: something a scanner says is wrong with a target.

use serde::{Deserialize, Serialize};

/// How bad a finding is. Ordered from least to most severe.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    #[default]
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, least severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Unknown,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The upper-case name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "UNKNOWN",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;

    /// Parses a severity name in any case (`high`, `HIGH`), surrounding spaces ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                format!(
                    "unknown severity `{}`; expected UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL",
                    name.to_ascii_uppercase()
                )
            })
    }
}

/// Which scanner produced a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    Vulnerability,
    Secret,
    Misconfiguration,
    Compliance,
    Malware,
    Webshell,
    Backdoor,
    WeakPassword,
    Escape,
    History,
    Suid,
}

impl FindingKind {
    /// Every kind, in the order of the JSON contract.
    pub const ALL: [FindingKind; 11] = [
        FindingKind::Vulnerability,
        FindingKind::Secret,
        FindingKind::Misconfiguration,
        FindingKind::Compliance,
        FindingKind::Malware,
        FindingKind::Webshell,
        FindingKind::Backdoor,
        FindingKind::WeakPassword,
        FindingKind::Escape,
        FindingKind::History,
        FindingKind::Suid,
    ];

    /// The kebab-case name used in JSON and in `--scanners`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Vulnerability => "vulnerability",
            FindingKind::Secret => "secret",
            FindingKind::Misconfiguration => "misconfiguration",
            FindingKind::Compliance => "compliance",
            FindingKind::Malware => "malware",
            FindingKind::Webshell => "webshell",
            FindingKind::Backdoor => "backdoor",
            FindingKind::WeakPassword => "weak-password",
            FindingKind::Escape => "escape",
            FindingKind::History => "history",
            FindingKind::Suid => "suid",
        }
    }
}

impl std::str::FromStr for FindingKind {
    type Err = String;

    /// Parses a kind name; `vuln` and `misconfig` are accepted for `vulnerability` and
    /// `misconfiguration`, as Trivy users write them.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "vuln" => return Ok(FindingKind::Vulnerability),
            "misconfig" => return Ok(FindingKind::Misconfiguration),
            _ => {}
        }
        FindingKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = FindingKind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown scanner `{s}`; expected one of: {}",
                    names.join(", ")
                )
            })
    }
}

/// Whether a fix exists for a vulnerability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    Affected,
    Fixed,
    NotAffected,
}

/// A CVSS rating as the advisory gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    /// The vector (`CVSS:3.1/AV:N/...`), when the advisory has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
    /// The base score computed from the vector, or the score the database gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

/// One finding, in the shape of the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// A stable id: a CVE/GHSA id, or a rule id such as `HF-BACKDOOR-LD-PRELOAD`.
    pub id: String,
    pub severity: Severity,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The package's name, for findings about a package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<FindingStatus>,
    /// The diff_id of the layer holding the evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// Absolute path inside the image; for a finding about a package found in several
    /// places, the first of its `locations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// True when a later layer deleted or replaced the file; it is still in the image.
    #[serde(default)]
    pub removed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// What to do about it: for findings of the checkers, and for vulnerabilities of a
    /// language package an OS package owns (upgrade that OS package).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    /// What matched, made safe to show: a secret is redacted to its first 4 characters
    /// followed by `*****`; never the clear value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// A stable hash of what matched (`sha256:` of the clear value for secrets), so the same
    /// secret or file can be recognised across layers, images and runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Where the severity came from, for vulnerabilities: the id of the OSV record that
    /// rated it (the finding's own, or an alias's in the same database), `nvd` or
    /// `debian-tracker`; absent when nothing rated it (`UNKNOWN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_source: Option<String>,
    /// The CVSS rating the severity was derived from, for vulnerabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss: Option<Cvss>,
    /// Why this finding was suppressed, on findings in a target's `suppressed` list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppression: Option<SuppressionInfo>,
    /// Every place the same package (ecosystem, name, version) was found, for a
    /// vulnerability: one finding per problem, however many copies the image holds. The
    /// first is also in `path` and `layer`. Empty for findings about one place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    /// Who reported it, when it is not a built-in scanner: `plugin/<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One place a finding applies to: a file in a layer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    /// Absolute path inside the image.
    pub path: String,
    /// The diff_id of the layer holding the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
}

impl Finding {
    /// A finding with only the required fields set; the checkers fill in the rest.
    pub fn new(
        kind: FindingKind,
        id: impl Into<String>,
        severity: Severity,
        title: impl Into<String>,
    ) -> Self {
        Finding {
            kind,
            id: id.into(),
            severity,
            title: title.into(),
            description: String::new(),
            package: None,
            installed_version: None,
            fixed_version: None,
            status: None,
            layer: None,
            path: None,
            line: None,
            removed: false,
            references: Vec::new(),
            aliases: Vec::new(),
            remediation: None,
            evidence: None,
            fingerprint: None,
            severity_source: None,
            cvss: None,
            suppression: None,
            locations: Vec::new(),
            source: None,
        }
    }
}

/// What suppressed a finding: a VEX statement or an ignore rule, kept so a reviewer can see
/// who decided what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuppressionInfo {
    /// `vex`, `ignore-file`, or `exception` (an exception stored in the service).
    pub by: String,
    /// Where the decision came from: the VEX document or ignore file path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The VEX statement as written, or the ignore rule's line number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<serde_json::Value>,
}
