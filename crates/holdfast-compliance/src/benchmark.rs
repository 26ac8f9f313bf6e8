//! `compliance docker` and `compliance kubernetes`: a benchmark (and any `--policy` checks
//! on the same documents) run on this host: for Docker the daemon, its files, every
//! container and every image; for a Kubernetes node the kubelet, kube-proxy and their files.

use crate::catalog::{Check, InputKind};
use crate::config_scan::{check_result, finding, Judged};
use crate::docker_host::documents;
use crate::engine::RuleEngine;
use crate::{regulation_filter, CatalogError};
use holdfast_model::{
    CheckEvidence, CheckResult, CheckStatus, FindingKind, TargetKind, TargetResult, Warning,
    WarningKind,
};
use holdfast_source::EngineSocket;
use serde_json::Value;
use std::path::PathBuf;

/// Which benchmark runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Benchmark {
    /// CIS Docker Benchmark v1.6.0: the Docker daemon, its files, containers and images.
    #[default]
    Docker,
    /// CIS Kubernetes Benchmark v1.9.0, worker node section: the kubelet and kube-proxy.
    KubernetesNode,
}

impl Benchmark {
    /// The input kinds whose checks belong to the benchmark.
    fn kinds(self) -> &'static [InputKind] {
        match self {
            Benchmark::Docker => &[
                InputKind::DockerHost,
                InputKind::DockerContainer,
                InputKind::DockerImage,
            ],
            Benchmark::KubernetesNode => &[InputKind::KubeletNode],
        }
    }
}

/// Which benchmark, on which daemon, with which checks.
#[derive(Debug, Clone, Default)]
pub struct BenchmarkOptions {
    /// The benchmark.
    pub benchmark: Benchmark,
    /// The Engine API to ask, for Docker.
    pub socket: EngineSocket,
}

/// Why the benchmark could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum BenchmarkError {
    /// The checks could not be loaded.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// An unknown `--compliance` name.
    #[error("{0}")]
    Regulation(String),
}

/// One input document and what evidence calls it (`None` for the host itself).
type Document = (InputKind, Option<String>, Value);

/// Runs the benchmark's checks on this host: one target named after the host, with every
/// check's result and a `compliance` finding per failure. For Docker, an Engine API that
/// cannot be reached is a warning: the host's files and the daemon's process are still
/// judged. `policies` are `--policy` directories or files of extra checks; only checks
/// tagged with one of `regulations` are kept (all when it is empty).
pub fn run_benchmark(
    options: &BenchmarkOptions,
    policies: &[PathBuf],
    regulations: &[String],
) -> Result<TargetResult, BenchmarkError> {
    let mut engine = RuleEngine::for_kinds(policies, options.benchmark.kinds())?;
    let keep = regulation_filter(regulations).map_err(BenchmarkError::Regulation)?;
    let mut warnings = Vec::new();
    let (name, docs, api_reached) = match options.benchmark {
        Benchmark::Docker => {
            let facts = match holdfast_source::docker_facts::read(&options.socket) {
                Ok(f) => {
                    for e in &f.errors {
                        warnings.push(warning(WarningKind::Other, format!("Engine API: {e}")));
                    }
                    Some(f)
                }
                Err(e) => {
                    warnings.push(warning(WarningKind::NotApplicable, format!(
                        "the Engine API could not be reached, so containers, images and the daemon's runtime view are not judged: {e}"
                    )));
                    None
                }
            };
            let api_reached = facts.is_some();
            let d = documents(facts);
            let mut docs: Vec<Document> = vec![(InputKind::DockerHost, None, d.host)];
            for c in d.containers {
                let label = format!("container {}", text(&c, "name"));
                docs.push((InputKind::DockerContainer, Some(label), c));
            }
            for image in d.images {
                let tag = image["tags"]
                    .as_array()
                    .and_then(|t| t.first())
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| text(&image, "id").chars().take(19).collect());
                docs.push((InputKind::DockerImage, Some(format!("image {tag}")), image));
            }
            ("docker", docs, api_reached)
        }
        Benchmark::KubernetesNode => {
            let doc = crate::kubelet_node::document();
            if doc["kubelet"]["running"] != true {
                warnings.push(warning(
                    WarningKind::NotApplicable,
                    "no kubelet process on this host: its settings are judged from defaults and files only".into(),
                ));
            }
            if let Some(e) = doc["kubelet"]["config_error"].as_str() {
                warnings.push(warning(WarningKind::Other, format!("kubelet config: {e}")));
            }
            (
                "kubernetes node",
                vec![(InputKind::KubeletNode, None, doc)],
                true,
            )
        }
    };
    let mut target = judge(
        &mut engine,
        &keep,
        options.benchmark.kinds(),
        name,
        &docs,
        api_reached,
    );
    target.warnings.splice(0..0, warnings);
    Ok(target)
}

/// Evaluates the documents: one result per check of the benchmark, in catalog order.
pub(crate) fn judge(
    engine: &mut RuleEngine,
    keep: &dyn Fn(&Check) -> bool,
    kinds: &[InputKind],
    name: &str,
    docs: &[Document],
    api_reached: bool,
) -> TargetResult {
    let mut per_check: Vec<Vec<Judged>> = vec![Vec::new(); engine.checks().len()];
    for (kind, label, doc) in docs {
        for (i, o) in engine.evaluate(*kind, doc, keep) {
            per_check[i].push((label.clone(), 0, o));
        }
    }
    let hostname = std::fs::read_to_string(holdfast_source::host::path("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let name = if hostname.is_empty() {
        name.to_string()
    } else {
        format!("{name} ({hostname})")
    };
    let mut target = TargetResult::empty(TargetKind::Host, name);
    for (check, outcomes) in engine.checks().zip(per_check) {
        if !kinds.contains(&check.input) || !keep(check) {
            continue;
        }
        let result = if outcomes.is_empty() {
            nothing_to_judge(check, api_reached)
        } else {
            check_result(check, None, outcomes)
        };
        if result.status == CheckStatus::Warn {
            for e in &result.evidence {
                target
                    .findings
                    .push(finding(check, FindingKind::Compliance, e));
            }
        }
        target.checks.push(result);
    }
    target
}

/// A container or image check when the daemon has none (or could not be asked).
fn nothing_to_judge(check: &Check, api_reached: bool) -> CheckResult {
    let (status, message) = match (check.manual, api_reached) {
        (true, _) => (CheckStatus::Note, None),
        (false, true) => (CheckStatus::Pass, None),
        (false, false) => (
            CheckStatus::Error,
            Some("the Engine API could not be reached".to_string()),
        ),
    };
    let mut r = check_result(check, None, Vec::new());
    r.status = status;
    r.evidence = message
        .map(|m| CheckEvidence {
            message: m,
            path: None,
            line: None,
            object: None,
            container: None,
        })
        .into_iter()
        .collect();
    r
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

fn warning(kind: WarningKind, message: String) -> Warning {
    Warning::general(kind, None, message)
}
