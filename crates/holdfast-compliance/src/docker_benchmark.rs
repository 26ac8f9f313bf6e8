//! `compliance docker`: the CIS Docker Benchmark (and any `--policy` checks on the same
//! documents) run on this host's daemon, its files, every container and every image.

use crate::catalog::{Check, InputKind};
use crate::config_scan::check_result;
use crate::docker_host::{documents, DockerDocuments};
use crate::engine::{Outcome, RuleEngine};
use crate::{regulation_filter, CatalogError};
use holdfast_model::{
    CheckResult, CheckStatus, Finding, FindingKind, TargetKind, TargetResult, Warning,
};
use holdfast_source::EngineSocket;
use serde_json::Value;
use std::path::PathBuf;

/// Which daemon, and which checks.
#[derive(Debug, Clone, Default)]
pub struct DockerBenchmarkOptions {
    /// The Engine API to ask.
    pub socket: EngineSocket,
    /// `--policy` directories or files of extra checks.
    pub policies: Vec<PathBuf>,
    /// Only checks tagged with one of these regulations; empty runs all.
    pub regulations: Vec<String>,
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

/// Runs every check on the host, its containers and images: one target named after the
/// host, with every check's result and a `compliance` finding per failure. An Engine API
/// that cannot be reached is a warning: the host's files and the daemon's process are
/// still judged.
pub fn run_docker_benchmark(
    options: &DockerBenchmarkOptions,
) -> Result<TargetResult, BenchmarkError> {
    let mut engine = RuleEngine::new(&options.policies)?;
    let keep = regulation_filter(&options.regulations).map_err(BenchmarkError::Regulation)?;
    let mut warnings = Vec::new();
    let facts = match holdfast_source::docker_facts::read(&options.socket) {
        Ok(f) => {
            for e in &f.errors {
                warnings.push(warning(format!("Engine API: {e}")));
            }
            Some(f)
        }
        Err(e) => {
            warnings.push(warning(format!(
                "the Engine API could not be reached, so containers, images and the daemon's runtime view are not judged: {e}"
            )));
            None
        }
    };
    let docs = documents(facts.as_ref());
    let mut target = judge(&mut engine, &keep, &docs, facts.is_some());
    target.warnings.splice(0..0, warnings);
    Ok(target)
}

/// Evaluates the documents: one result per check, in catalog order.
pub(crate) fn judge(
    engine: &mut RuleEngine,
    keep: &dyn Fn(&Check) -> bool,
    docs: &DockerDocuments,
    api_reached: bool,
) -> TargetResult {
    let checks: Vec<Check> = engine.checks().cloned().collect();
    let mut per_check: Vec<Vec<(Option<String>, u32, Outcome)>> = vec![Vec::new(); checks.len()];
    for (i, o) in engine.evaluate(InputKind::DockerHost, &docs.host, keep) {
        per_check[i].push((None, 0, o));
    }
    for c in &docs.containers {
        let label = format!("container {}", text(c, "name"));
        for (i, o) in engine.evaluate(InputKind::DockerContainer, c, keep) {
            per_check[i].push((Some(label.clone()), 0, o));
        }
    }
    for image in &docs.images {
        let tag = image["tags"]
            .as_array()
            .and_then(|t| t.first())
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| text(image, "id").chars().take(19).collect());
        let label = format!("image {tag}");
        for (i, o) in engine.evaluate(InputKind::DockerImage, image, keep) {
            per_check[i].push((Some(label.clone()), 0, o));
        }
    }
    let hostname = std::fs::read_to_string(holdfast_source::host::path("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let mut target: TargetResult = serde_json::from_value(serde_json::json!({
        "kind": "host",
        "name": if hostname.is_empty() { "docker".to_string() } else { format!("docker ({hostname})") },
        "os": null, "layers": [], "packages": [], "findings": [],
    }))
    .expect("a valid empty target");
    debug_assert_eq!(target.kind, TargetKind::Host);
    for (check, outcomes) in checks.iter().zip(per_check) {
        let docker_kinds = [
            InputKind::DockerHost,
            InputKind::DockerContainer,
            InputKind::DockerImage,
        ];
        if !docker_kinds.contains(&check.input) || !keep(check) {
            continue;
        }
        let result = if outcomes.is_empty() {
            nothing_to_judge(check, api_reached)
        } else {
            check_result(check, "", outcomes)
        };
        if result.status == CheckStatus::Warn {
            for e in &result.evidence {
                let mut f = Finding::new(
                    FindingKind::Compliance,
                    check.id.clone(),
                    check.severity,
                    check.title.clone(),
                );
                f.evidence = Some(match &e.object {
                    Some(o) => format!("{o}: {}", e.message),
                    None => e.message.clone(),
                });
                f.aliases = check.aliases.clone();
                f.remediation = (!check.remediation.is_empty()).then(|| check.remediation.clone());
                target.findings.push(f);
            }
        }
        target.checks.push(result);
    }
    for r in &mut target.checks {
        for e in &mut r.evidence {
            e.path = e.path.take().filter(|p| !p.is_empty());
        }
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
    let mut r = check_result(check, "", Vec::new());
    r.status = status;
    r.evidence = message
        .map(|m| holdfast_model::CheckEvidence {
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

fn warning(message: String) -> Warning {
    Warning {
        layer: None,
        path: None,
        message,
        kind: Default::default(),
    }
}
