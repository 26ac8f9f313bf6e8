//! The scan engine: one [`ScanRequest`] in, per-target results out as they finish, one
//! [`ScanResult`] back. Every front end (the command line, the service, the cluster scan
//! and admission webhook, the authorization plugin) runs scans through here, so they all
//! run the same scan.
//!
//! ```text
//! ScanRequest ─► open target ─► analyze (walk, cache) ─► checkers ─► match (shared DB)
//!                                                                     │
//!         ScanResult ◄── summary ◄── policy filters (holdfast-policy) ◄┘
//! ```
//!
//! # Threads and async
//!
//! [`scan`] is blocking: it walks layers on rayon, reads registries and the Docker daemon
//! through the sources' own small runtimes, and may run for minutes. Call it from a plain
//! thread. From async code call [`scan_async`], which runs it on tokio's blocking pool, so
//! a server handling many requests never blocks its reactor; never call [`scan`] on an
//! async worker thread (the sources' runtimes refuse to start inside one).
//!
//! # Shared resources
//!
//! The [`VulnDbHandle`] and the [`holdfast_source::LayerCache`] in a request are meant to
//! be made once per process and cloned into every request: the database is opened once
//! and matched from a pool of connections; the cache's per-layer claims make concurrent
//! scans of a shared layer read it once.
//!
//! # What decides pass or fail
//!
//! Not this crate: [`holdfast_policy::verdict`] judges a result, the same way for every
//! front end.

mod cluster;
mod db;
mod error;
mod plugins;
mod progress;
mod registry;
mod request;
mod settings;
mod target;

use holdfast_model::{ScanResult, ScanSummary, TargetResult, ToolInfo, SCHEMA_VERSION};
use holdfast_source::{list_containers, open_container, open_target, ContainerEngine, Source};

pub use cluster::ClusterSelection;
pub use db::{
    age_days, default_db_path, DbLocation, OpenDb, VulnDbHandle, DEMO_ADVISORIES, STALE_AFTER_DAYS,
};
pub use error::{DemoDbError, ScanError};
/// The parts of a request that the analysis and the checkers define.
pub use holdfast_analyze::{AnalyzerGroup, WalkLimits};
pub use holdfast_checks::CheckConfig;
pub use holdfast_compliance::git_repo::CloneLimits;
pub use holdfast_compliance::{Benchmark, BenchmarkOptions, ConfigScanOptions};
pub use holdfast_kube::ClusterOptions;
pub use holdfast_plugin_host::{
    default_plugin_dir, discover, install, plugin_roots, Broken, Discovered, ParamError, Plugin,
    PluginParam, ResolvedParams,
};
pub use holdfast_vulndb::AdvisoryDetails;
pub use plugins::{select_plugins, PluginSettings};
pub use progress::{CancelToken, NoProgress, ProgressSink, ScanEvent};
pub use request::{
    default_scanners, effective_scanners, MisconfigSettings, RegistrySelection, ScanRequest, Target,
};
pub use settings::{
    check_config, CheckSettings, ClamdAddress, SettingsError, DEFAULT_SECRET_MAX_FILE_SIZE,
};

use target::Plan;

/// Runs a request to the end on the calling thread. Targets are scanned in order (a
/// registry's images `parallel` at a time); each result is announced to `progress` as it
/// finishes. The first target that cannot be opened ends the request with its error,
/// except for the images of a registry scan and the containers of
/// [`Target::AllContainers`], which are recorded and skipped.
pub fn scan(request: &ScanRequest, progress: &dyn ProgressSink) -> Result<ScanResult, ScanError> {
    let plan = Plan::new(request)?;
    let mut targets: Vec<TargetResult> = Vec::new();
    let mut db = None;
    let mut registry = None;
    let mut cluster = None;
    for target in &request.targets {
        request.cancel.check()?;
        match target {
            Target::Spec { spec, name } => {
                progress.event(&ScanEvent::TargetStarted { name });
                let source =
                    open_target(spec, name, &request.open).map_err(|source| ScanError::Open {
                        target: name.clone(),
                        source,
                    })?;
                let (t, d) = plan.scan_source(source.as_ref(), progress, false)?;
                targets.push(t);
                db = db.or(d);
            }
            Target::Container { id, engine } => {
                progress.event(&ScanEvent::TargetStarted { name: id });
                let source = open_engine_container(*engine, id, request)?;
                let (t, d) =
                    plan.scan_source_of(source.as_ref(), Some(*engine), progress, false)?;
                targets.push(t);
                db = db.or(d);
            }
            Target::AllContainers { engine } => {
                let ids =
                    list_containers(*engine, &request.open).map_err(ScanError::ListContainers)?;
                for c in ids {
                    request.cancel.check()?;
                    progress.event(&ScanEvent::TargetStarted { name: &c.id });
                    // A container may go away between the listing and its scan; the
                    // others are still scanned.
                    let source = match open_engine_container(*engine, &c.id, request) {
                        Ok(s) => s,
                        Err(error) => {
                            progress.event(&ScanEvent::TargetVanished {
                                name: &c.id,
                                error: &error,
                            });
                            continue;
                        }
                    };
                    let (t, d) =
                        plan.scan_source_of(source.as_ref(), Some(*engine), progress, false)?;
                    targets.push(t);
                    db = db.or(d);
                }
            }
            Target::Registry(sel) => {
                let outcome = registry::scan_registry(&plan, sel, progress)?;
                targets.extend(outcome.targets);
                db = db.or(outcome.db);
                registry = Some(outcome.summary);
            }
            Target::Cluster(sel) => {
                let outcome = cluster::scan_cluster(&plan, sel, progress)?;
                targets.extend(outcome.targets);
                db = db.or(outcome.db);
                cluster = Some(outcome.summary);
            }
            Target::Config(options) => {
                let files = holdfast_compliance::scan_config(options).map_err(ScanError::Config)?;
                for mut target in files {
                    request.cancel.check()?;
                    progress.event(&ScanEvent::TargetStarted { name: &target.name });
                    plan.finish(&mut target, progress, false);
                    targets.push(target);
                }
            }
            Target::Benchmark(options) => {
                let m = &request.misconfig;
                let mut target =
                    holdfast_compliance::run_benchmark(options, &m.policies, &m.regulations)
                        .map_err(ScanError::Benchmark)?;
                progress.event(&ScanEvent::TargetStarted { name: &target.name });
                plan.finish(&mut target, progress, false);
                targets.push(target);
            }
        }
    }
    let mut result = scan_result(targets, db);
    result.registry = registry;
    result.cluster = cluster;
    Ok(result)
}

/// Loads `--policy` checks with the built-in ones, as a compliance run would, so a
/// service can refuse a broken one at start-up instead of failing every run.
pub fn check_policies(policies: &[std::path::PathBuf]) -> Result<(), ScanError> {
    holdfast_compliance::RuleEngine::new(policies)
        .map(drop)
        .map_err(|e| ScanError::Misconfig(e.into()))
}

/// [`scan`] on tokio's blocking pool, for async callers. The request and the sink move to
/// the worker thread; cancel through the request's [`CancelToken`] (dropping the future
/// does not stop the scan).
pub async fn scan_async(
    request: ScanRequest,
    progress: std::sync::Arc<dyn ProgressSink>,
) -> Result<ScanResult, ScanError> {
    tokio::task::spawn_blocking(move || scan(&request, progress.as_ref()))
        .await
        .map_err(|e| ScanError::Worker(e.to_string()))?
}

fn open_engine_container(
    engine: ContainerEngine,
    id: &str,
    request: &ScanRequest,
) -> Result<Box<dyn Source>, ScanError> {
    open_container(engine, id, &request.open).map_err(|source| ScanError::OpenContainer {
        id: id.to_string(),
        source,
    })
}

/// A result over `targets`, stamped now, with the database description when one was
/// used.
pub fn scan_result(
    targets: Vec<TargetResult>,
    db: Option<holdfast_model::DbDescription>,
) -> ScanResult {
    let created_at = rfc3339(time::OffsetDateTime::now_utc()).unwrap_or_default();
    ScanResult {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo {
            name: "holdfast".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        created_at,
        db,
        summary: ScanSummary::of(&targets),
        targets,
        registry: None,
        cluster: None,
        analysis: None,
    }
}

/// Matches a stored result's inventories against the request's (new) database without
/// reading any image again: every target's vulnerability findings are replaced by a
/// fresh match of its packages, the policy filters them again, and the summary and the
/// `db` description follow. Other findings are kept as they are.
pub fn rematch(
    result: &mut ScanResult,
    db: &VulnDbHandle,
    policy: &holdfast_policy::Policy,
    progress: &dyn ProgressSink,
) -> Result<(), ScanError> {
    let open = db.get(progress)?;
    let mut description = None;
    for target in &mut result.targets {
        let is_vuln =
            |f: &holdfast_model::Finding| f.kind == holdfast_model::FindingKind::Vulnerability;
        target.findings.retain(|f| !is_vuln(f));
        target.suppressed.retain(|f| !is_vuln(f));
        description = Some(target::match_target(&open, target, progress)?);
        target::sort_worst_first(&mut target.findings);
        policy.filter_target(target, None);
    }
    if let Some(d) = description {
        result.db = Some(d);
    }
    result.summary = ScanSummary::of(&result.targets);
    Ok(())
}

/// RFC 3339 to the second.
pub fn rfc3339(t: time::OffsetDateTime) -> Option<String> {
    t.replace_nanosecond(0)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}
