//! Configuration and compliance checks: every check is a Rego module (built in, or the
//! user's own from `--policy`) run by one engine against JSON input documents, with one
//! result shape. `scan config` reads Dockerfiles and Kubernetes manifests with it;
//! `compliance docker` judges the Docker daemon, its files, containers and images, and
//! `compliance kubernetes` a node's kubelet.
//!
//! The input documents and the check format are documented in `docs/checks.md`.

mod benchmark;
mod catalog;
pub mod compose;
mod config_scan;
pub mod docker_host;
pub mod dockerfile;
mod engine;
pub mod exec_audit;
pub mod git_repo;
mod host_facts;
pub mod image_checks;
mod kubelet_node;
pub mod kubernetes;
mod script;

pub use benchmark::{run_benchmark, Benchmark, BenchmarkError, BenchmarkOptions};
pub use catalog::{package_for, CatalogError, Check, InputKind};
pub use config_scan::{
    judge_workloads, scan_config, ConfigScanError, ConfigScanOptions, LiveWorkload,
    MAX_CONFIG_FILE, MAX_CONFIG_FILES,
};
pub use engine::{Hit, Outcome, RuleEngine, CHECK_TIME_LIMIT};
pub use image_checks::{ImageChecks, ImageJudgement};
pub use script::ScriptCheck;

/// The regulations checks are tagged with, by the names `--compliance` accepts.
pub const REGULATIONS: &[(&str, &[&str])] = &[
    ("pci-dss", &["pci", "pci-dss"]),
    ("gdpr", &["gdpr"]),
    ("hipaa", &["hipaa"]),
    ("nist-800-190", &["nist", "nist-800-190", "nist-sp-800-190"]),
];

/// The canonical tag for a `--compliance` name (`pci` is `pci-dss`).
pub fn regulation_tag(name: &str) -> Option<&'static str> {
    let name = name.trim().to_ascii_lowercase();
    REGULATIONS
        .iter()
        .find(|(_, names)| names.contains(&name.as_str()))
        .map(|(tag, _)| *tag)
}

/// Which checks a run keeps.
pub type CheckFilter = Box<dyn Fn(&Check) -> bool + Send + Sync>;

/// A filter keeping the checks tagged with one of `names` (all checks when empty).
pub fn regulation_filter(names: &[String]) -> Result<CheckFilter, String> {
    if names.is_empty() {
        return Ok(Box::new(|_| true));
    }
    let mut tags = Vec::new();
    for n in names {
        let tag = regulation_tag(n).ok_or_else(|| {
            let known: Vec<&str> = REGULATIONS.iter().map(|(t, _)| *t).collect();
            format!("unknown regulation `{n}` (known: {})", known.join(", "))
        })?;
        tags.push(tag);
    }
    Ok(Box::new(move |c: &Check| {
        c.tags.iter().any(|t| tags.contains(&t.as_str()))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regulation_names() {
        assert_eq!(regulation_tag("PCI"), Some("pci-dss"));
        assert_eq!(regulation_tag("nist"), Some("nist-800-190"));
        let err = regulation_filter(&["sox".into()]).err().unwrap();
        assert_eq!(
            err,
            "unknown regulation `sox` (known: pci-dss, gdpr, hipaa, nist-800-190)"
        );
    }
}
