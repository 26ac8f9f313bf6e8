//! The checks: the built-in check files embedded in the binary and the user's own from
//! `--policy DIR`, each one Rego module with its metadata.

use holdfast_model::Severity;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Which input documents a check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputKind {
    /// A parsed Dockerfile.
    Dockerfile,
    /// One Kubernetes object.
    Kubernetes,
    /// The Docker daemon, its files and its host.
    DockerHost,
    /// One container of the Docker daemon.
    DockerContainer,
    /// One image of the Docker daemon.
    DockerImage,
    /// A Kubernetes node: the kubelet, kube-proxy and their files.
    KubeletNode,
    /// A compose file's services.
    Compose,
}

impl InputKind {
    /// The name used in check files and input documents.
    pub fn as_str(self) -> &'static str {
        match self {
            InputKind::Dockerfile => "dockerfile",
            InputKind::Kubernetes => "kubernetes",
            InputKind::DockerHost => "docker-host",
            InputKind::DockerContainer => "docker-container",
            InputKind::DockerImage => "docker-image",
            InputKind::KubeletNode => "kubelet-node",
            InputKind::Compose => "compose",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Every kind.
    pub const ALL: [InputKind; 7] = [
        InputKind::Dockerfile,
        InputKind::Kubernetes,
        InputKind::DockerHost,
        InputKind::DockerContainer,
        InputKind::DockerImage,
        InputKind::KubeletNode,
        InputKind::Compose,
    ];
}

/// One check: what it is about, and the Rego package that decides it.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Stable id, e.g. `HF-DF-LATEST-TAG` or `CIS-DOCKER-5.4`.
    pub id: String,
    /// What it checks, in a line.
    pub title: String,
    /// The benchmark it belongs to.
    pub benchmark: String,
    /// The benchmark section.
    pub section: String,
    /// The documents it reads.
    pub input: InputKind,
    /// How bad a failure is.
    pub severity: Severity,
    /// CIS profile level.
    pub level: u8,
    /// CIS "scored" (automated) check.
    pub scored: bool,
    /// Regulations it supports: `pci-dss`, `gdpr`, `hipaa`, `nist-800-190`.
    pub tags: Vec<String>,
    /// The same rule's ids in other tools.
    pub aliases: Vec<String>,
    /// What to do about a failure.
    pub remediation: String,
    /// The Rego package holding its `deny` and `warn` rules.
    pub package: String,
    /// Where it was defined: `builtin:<file>` or the policy file's path.
    pub origin: String,
    /// Left to a person by the benchmark: always `NOTE`.
    pub manual: bool,
    /// A shell script that decides the check instead of Rego (user check files only).
    pub script: Option<crate::script::ScriptCheck>,
}

/// Why checks could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A check file is not valid.
    #[error("{origin}: {message}")]
    Invalid {
        /// The file.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// A policy directory or file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// What was read.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Two checks share an id.
    #[error("check id {id} is defined twice ({first} and {second})")]
    Duplicate {
        /// The id.
        id: String,
        /// The first definition.
        first: String,
        /// The second definition.
        second: String,
    },
}

/// The built-in check files: (name, TOML text).
pub(crate) const BUILTIN_FILES: &[(&str, &str)] = &[
    ("dockerfile.toml", include_str!("../checks/dockerfile.toml")),
    ("kubernetes.toml", include_str!("../checks/kubernetes.toml")),
    ("compose.toml", include_str!("../checks/compose.toml")),
    ("pss.toml", include_str!("../checks/pss.toml")),
    (
        "cis-k8s-4-node.toml",
        include_str!("../checks/cis-k8s-4-node.toml"),
    ),
    (
        "cis-docker-1-host.toml",
        include_str!("../checks/cis-docker-1-host.toml"),
    ),
    (
        "cis-docker-2-daemon.toml",
        include_str!("../checks/cis-docker-2-daemon.toml"),
    ),
    (
        "cis-docker-3-files.toml",
        include_str!("../checks/cis-docker-3-files.toml"),
    ),
    (
        "cis-docker-4-images.toml",
        include_str!("../checks/cis-docker-4-images.toml"),
    ),
    (
        "cis-docker-5-runtime.toml",
        include_str!("../checks/cis-docker-5-runtime.toml"),
    ),
    (
        "cis-docker-6-operations.toml",
        include_str!("../checks/cis-docker-6-operations.toml"),
    ),
    (
        "cis-docker-7-swarm.toml",
        include_str!("../checks/cis-docker-7-swarm.toml"),
    ),
];

/// The Rego helper modules the built-in checks import: `data.holdfast.lib` for all,
/// `data.holdfast.cis` for the CIS benchmarks.
pub(crate) const LIB_MODULES: &[(&str, &str)] = &[
    ("builtin/lib.rego", include_str!("../checks/lib.rego")),
    (
        "builtin/cis-lib.rego",
        include_str!("../checks/cis-lib.rego"),
    ),
    (
        "builtin/cis-k8s-lib.rego",
        include_str!("../checks/cis-k8s-lib.rego"),
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckFile {
    input: String,
    benchmark: String,
    section: String,
    #[serde(default)]
    checks: Vec<CheckEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckEntry {
    id: String,
    title: String,
    /// The check's own section, when the file's groups several.
    #[serde(default)]
    section: Option<String>,
    severity: String,
    #[serde(default = "one")]
    level: u8,
    #[serde(default = "yes")]
    scored: bool,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    remediation: String,
    /// A check the benchmark leaves to a person: reported `NOTE`, no rule run.
    #[serde(default)]
    manual: bool,
    /// A shell script deciding the check (see `script.rs`); only in `--policy` files.
    #[serde(default)]
    script: Option<String>,
    /// The script's time limit, e.g. `10s` (default 30 s).
    #[serde(default)]
    timeout: Option<String>,
    /// Whether the script may use the network; `false` runs it in a network namespace of
    /// its own (needs root).
    #[serde(default = "yes")]
    network: bool,
    #[serde(default)]
    rego: String,
}

fn one() -> u8 {
    1
}

fn yes() -> bool {
    true
}

/// A check with the Rego text that must be compiled for it.
pub(crate) struct CheckSource {
    pub check: Check,
    /// The module: package line, imports and the check's rules.
    pub module: String,
}

/// The Rego package name for a check id: `holdfast.checks.hf_df_latest_tag`.
pub fn package_for(id: &str) -> String {
    let name: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("holdfast.checks.{name}")
}

/// Reads one check file (TOML) into checks and their modules.
pub(crate) fn parse_check_file(origin: &str, text: &str) -> Result<Vec<CheckSource>, CatalogError> {
    let invalid = |message: String| CatalogError::Invalid {
        origin: origin.to_string(),
        message,
    };
    let file: CheckFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let input = InputKind::parse(&file.input)
        .ok_or_else(|| invalid(format!("unknown input `{}`", file.input)))?;
    let mut out = Vec::new();
    for entry in file.checks {
        let severity = parse_severity(&entry.severity).ok_or_else(|| {
            invalid(format!(
                "{}: unknown severity `{}`",
                entry.id, entry.severity
            ))
        })?;
        if entry.id.trim().is_empty() {
            return Err(invalid("a check has an empty id".into()));
        }
        let script = match entry.script {
            Some(_) if origin.starts_with("builtin/") => {
                return Err(invalid(format!(
                    "{}: built-in checks have no scripts",
                    entry.id
                )))
            }
            Some(_) if !entry.rego.trim().is_empty() => {
                return Err(invalid(format!("{}: both rego and script", entry.id)));
            }
            Some(text) => Some(crate::script::ScriptCheck {
                text,
                timeout: match &entry.timeout {
                    Some(t) => crate::script::parse_timeout(t).ok_or_else(|| {
                        invalid(format!("{}: timeout `{t}` is not like 10s or 2m", entry.id))
                    })?,
                    None => crate::script::DEFAULT_TIMEOUT,
                },
                network: entry.network,
            }),
            None => None,
        };
        if !entry.manual && script.is_none() && entry.rego.trim().is_empty() {
            return Err(invalid(format!(
                "{}: no rego, no script and not manual",
                entry.id
            )));
        }
        let package = package_for(&entry.id);
        let module = format!(
            "package {package}\nimport rego.v1\nimport data.holdfast.lib\n{}\n",
            entry.rego
        );
        out.push(CheckSource {
            check: Check {
                id: entry.id,
                title: entry.title,
                benchmark: file.benchmark.clone(),
                section: entry.section.unwrap_or_else(|| file.section.clone()),
                input,
                severity,
                level: entry.level,
                scored: entry.scored,
                tags: entry.tags,
                aliases: entry.aliases,
                remediation: entry.remediation,
                package,
                origin: origin.to_string(),
                manual: entry.manual,
                script,
            },
            module,
        });
    }
    Ok(out)
}

fn parse_severity(s: &str) -> Option<Severity> {
    s.parse().ok()
}

/// The metadata a user's `.rego` policy gives in its `metadata` rule.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyMetadata {
    pub id: String,
    pub title: String,
    pub input: String,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub section: Option<String>,
    #[serde(default)]
    pub benchmark: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub remediation: String,
}

impl PolicyMetadata {
    /// The check this metadata describes, for the policy in `package`.
    pub(crate) fn into_check(self, package: String, origin: &Path) -> Result<Check, CatalogError> {
        let invalid = |message: String| CatalogError::Invalid {
            origin: origin.display().to_string(),
            message,
        };
        let input = InputKind::parse(&self.input)
            .ok_or_else(|| invalid(format!("metadata.input: unknown input `{}`", self.input)))?;
        let severity = match &self.severity {
            Some(s) => parse_severity(s)
                .ok_or_else(|| invalid(format!("metadata.severity: unknown severity `{s}`")))?,
            None => Severity::Medium,
        };
        Ok(Check {
            id: self.id,
            title: self.title,
            benchmark: self.benchmark.unwrap_or_else(|| "custom".into()),
            section: self.section.unwrap_or_else(|| "Custom policies".into()),
            input,
            severity,
            level: 1,
            scored: true,
            tags: self.tags,
            aliases: self.aliases,
            remediation: self.remediation,
            package,
            origin: origin.display().to_string(),
            manual: false,
            script: None,
        })
    }
}

/// Every `.rego` and `.toml` file under `dir`, sorted, at most `MAX_POLICY_FILES`.
pub(crate) fn policy_files(dir: &Path) -> Result<Vec<PathBuf>, CatalogError> {
    const MAX_POLICY_FILES: usize = 10_000;
    if dir.is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| CatalogError::Read {
            path: e.path().unwrap_or(dir).to_path_buf(),
            source: e.into(),
        })?;
        let path = entry.path();
        let wanted = entry.file_type().is_file()
            && path.extension().is_some_and(|e| e == "rego" || e == "toml")
            && !path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with("_test.rego"));
        if wanted {
            files.push(path.to_path_buf());
            if files.len() > MAX_POLICY_FILES {
                return Err(CatalogError::Invalid {
                    origin: dir.display().to_string(),
                    message: format!("more than {MAX_POLICY_FILES} policy files"),
                });
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_are_valid_rego_names() {
        assert_eq!(
            package_for("CIS-DOCKER-5.4"),
            "holdfast.checks.cis_docker_5_4"
        );
    }

    #[test]
    fn bad_check_files_name_the_problem() {
        let err = parse_check_file(
            "x.toml",
            "input = \"nope\"\nbenchmark = \"b\"\nsection = \"s\"\n",
        )
        .err()
        .unwrap();
        assert_eq!(err.to_string(), "x.toml: unknown input `nope`");
        let text = "input = \"dockerfile\"\nbenchmark = \"b\"\nsection = \"s\"\n[[checks]]\nid = \"A\"\ntitle = \"t\"\nseverity = \"SEVERE\"\nrego = \"\"\n";
        let err = parse_check_file("x.toml", text).err().unwrap();
        assert_eq!(err.to_string(), "x.toml: A: unknown severity `SEVERE`");
    }
}
