//! External plugins as scanners: which run, the root filesystem they share, their runs in
//! parallel, and what they report as findings and warnings of the target.

use std::path::PathBuf;
use std::time::Duration;

use holdfast_model::{Finding, FindingKind, PluginRun, TargetKind, Warning, WarningKind};
use holdfast_plugin::{Command, Request, RequestTarget, PROTOCOL_VERSION};
use holdfast_plugin_host::{
    run_plugin, Discovered, Isolation, Plugin, ResolvedParams, RunOptions, RunOutcome, RunStatus,
};
use holdfast_source::Source;

/// Invalid lines named one by one in the warnings, per run.
const NAMED_INVALID_LINES: usize = 5;

/// The plugins a request runs and how.
#[derive(Debug, Clone)]
pub struct PluginSettings {
    /// The plugins to run; each runs on the targets whose command it declares.
    pub plugins: Vec<Plugin>,
    /// Parameters given by the user, checked against the manifests.
    pub params: ResolvedParams,
    /// How long one plugin may take on one target.
    pub timeout: Duration,
    /// Most bytes read from one run's stdout.
    pub max_output: u64,
    /// Paths no plugin may write besides the rootfs (the cache, the database).
    pub read_only: Vec<PathBuf>,
}

impl Default for PluginSettings {
    fn default() -> Self {
        PluginSettings {
            plugins: Vec::new(),
            params: ResolvedParams::default(),
            timeout: Duration::from_secs(300),
            max_output: 256 << 20,
            read_only: Vec::new(),
        }
    }
}

/// Which of the discovered plugins run: those named; when none are named, every plugin,
/// or, when the user chose `scanners`, those that report a kind among them (a plugin
/// that declares no kind runs whatever the scanners). A named plugin that was not found
/// is an error naming what was found.
pub fn select_plugins(
    found: &Discovered,
    names: Option<&[String]>,
    scanners: Option<&[FindingKind]>,
) -> Result<Vec<Plugin>, String> {
    match names {
        Some(names) => names
            .iter()
            .map(|n| {
                found.get(n).cloned().ok_or_else(|| {
                    let broken = found.broken.iter().find(|b| {
                        b.path
                            .file_name()
                            .is_some_and(|f| f.to_string_lossy() == *n)
                    });
                    match broken {
                        Some(b) => {
                            format!("plugin `{n}` is broken: {}: {}", b.path.display(), b.reason)
                        }
                        None => {
                            let known: Vec<&str> = found.plugins.iter().map(|p| p.name()).collect();
                            format!(
                                "no plugin named `{n}` (found: {})",
                                if known.is_empty() {
                                    "none".into()
                                } else {
                                    known.join(", ")
                                }
                            )
                        }
                    }
                })
            })
            .collect(),
        None => Ok(found
            .plugins
            .iter()
            .filter(|p| {
                let Some(scanners) = scanners else {
                    return true;
                };
                p.manifest.kinds.is_empty()
                    || p.manifest.kinds.iter().any(|k| {
                        k.parse::<FindingKind>()
                            .is_ok_and(|k| scanners.contains(&k))
                    })
            })
            .cloned()
            .collect()),
    }
}

/// The protocol command for a target kind.
pub(crate) fn command_for(kind: TargetKind) -> Command {
    match kind {
        TargetKind::Image => Command::ScanImage,
        TargetKind::Container => Command::ScanContainer,
        // Configuration and host compliance targets are not given to plugins; the arm only
        // keeps the match whole.
        TargetKind::Rootfs | TargetKind::Config | TargetKind::Host => Command::ScanRootfs,
    }
}

/// What the plugins of one target produced.
#[derive(Default)]
pub(crate) struct PluginResults {
    pub findings: Vec<Finding>,
    pub warnings: Vec<Warning>,
    pub runs: Vec<PluginRun>,
}

/// What the plugins are told about the target besides its files.
pub(crate) struct TargetFacts<'a> {
    pub kind: TargetKind,
    pub name: &'a str,
    pub image_id: Option<&'a str>,
    pub config: serde_json::Value,
    pub packages: &'a [holdfast_model::Package],
}

/// Runs every plugin that answers the target's command, in parallel, on one read-only
/// root filesystem: the target's own directory for `scan rootfs`, else the merged layers
/// materialised once into a private temporary directory, removed at the end.
pub(crate) fn run_plugins(
    settings: &PluginSettings,
    source: &dyn Source,
    facts: &TargetFacts<'_>,
) -> PluginResults {
    let command = command_for(facts.kind);
    let plugins: Vec<&Plugin> = settings
        .plugins
        .iter()
        .filter(|p| p.manifest.commands.contains(&command))
        .collect();
    let mut out = PluginResults::default();
    if plugins.is_empty() {
        return out;
    }
    let mut materialized = None;
    let rootfs: PathBuf = match source.root_dir() {
        Some(dir) => dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()),
        None => match materialize(source) {
            Ok((dir, warnings)) => {
                out.warnings.extend(warnings);
                materialized.insert(dir).path().join("rootfs")
            }
            Err(e) => {
                out.warnings.push(Warning::general(
                    WarningKind::Plugin,
                    None,
                    format!("plugins not run: the root filesystem could not be materialised: {e}"),
                ));
                for p in plugins {
                    out.runs.push(PluginRun {
                        name: p.name().to_string(),
                        version: p.manifest.version.clone(),
                        status: RunStatus::NotStarted(String::new()).as_str().into(),
                        error: Some(format!(
                            "the root filesystem could not be materialised: {e}"
                        )),
                        findings: 0,
                        invalid_lines: 0,
                        elapsed_ms: 0,
                    });
                }
                return out;
            }
        },
    };
    let mut read_only = vec![rootfs.clone()];
    read_only.extend(settings.read_only.iter().filter(|p| p.exists()).cloned());
    let options = RunOptions {
        timeout: settings.timeout,
        max_output: settings.max_output,
        isolation: Isolation::ReadOnly(read_only),
        ..RunOptions::default()
    };
    let deadline = time::OffsetDateTime::now_utc() + settings.timeout;
    let deadline = deadline
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let packages: Vec<serde_json::Value> = facts
        .packages
        .iter()
        .filter_map(|p| serde_json::to_value(p).ok())
        .collect();
    let outcomes: Vec<(&Plugin, RunOutcome)> = std::thread::scope(|s| {
        let handles: Vec<_> = plugins
            .iter()
            .map(|&plugin| {
                let request = Request {
                    protocol: PROTOCOL_VERSION,
                    command,
                    target: RequestTarget {
                        name: facts.name.to_string(),
                        kind: facts.kind.as_str().into(),
                        image_id: facts.image_id.map(str::to_string),
                    },
                    rootfs: rootfs.clone(),
                    config: facts.config.clone(),
                    packages: packages.clone(),
                    params: settings.params.for_run(&plugin.manifest, command),
                    deadline: deadline.clone(),
                };
                let options = &options;
                s.spawn(move || {
                    let outcome = match serde_json::to_vec(&request) {
                        Ok(body) => run_plugin(&plugin.path, &command.words(), &body, options),
                        // A rootfs path that is not UTF-8 cannot be put in a JSON request.
                        Err(e) => RunOutcome::not_started(format!("the request: {e}")),
                    };
                    (plugin, outcome)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("plugin runner threads do not panic"))
            .collect()
    });
    for (plugin, outcome) in outcomes {
        collect(plugin, outcome, &mut out);
    }
    if let Some(dir) = &materialized {
        holdfast_rootfs::make_removable(dir.path());
    }
    out
}

/// The merged layers in a fresh private directory (`DIR/rootfs`; DIR is removed when
/// the returned guard drops).
fn materialize(source: &dyn Source) -> Result<(tempfile::TempDir, Vec<Warning>), String> {
    let dir = tempfile::Builder::new()
        .prefix("holdfast-rootfs-")
        .tempdir()
        .map_err(|e| format!("a temporary directory: {e}"))?;
    let root = dir.path().join("rootfs");
    std::fs::create_dir(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let started = std::time::Instant::now();
    let done = holdfast_rootfs::materialize(
        source,
        &root,
        &holdfast_rootfs::MaterializeOptions::default(),
    )
    .map_err(|e| e.to_string())?;
    tracing::debug!(
        files = done.files,
        bytes = done.bytes,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "rootfs materialised for plugins"
    );
    let warnings = done
        .warnings
        .into_iter()
        .map(|w| {
            Warning::general(
                WarningKind::Plugin,
                None,
                format!("rootfs for plugins: {w}"),
            )
        })
        .collect();
    Ok((dir, warnings))
}

/// Turns one run into findings, a run record and warnings naming the plugin.
fn collect(plugin: &Plugin, outcome: RunOutcome, out: &mut PluginResults) {
    let name = plugin.name();
    let default_kind = plugin.manifest.kinds.first().map(String::as_str);
    let mut kept = 0;
    for f in outcome.findings {
        let id = f.id.clone();
        match holdfast_plugin_host::to_finding(name, default_kind, f) {
            Ok(f) => {
                kept += 1;
                out.findings.push(f);
            }
            Err(why) => out.warnings.push(Warning::general(
                WarningKind::Plugin,
                None,
                format!("plugin {name}: finding `{id}` dropped: {why}"),
            )),
        }
    }
    for (line, why) in outcome.invalid.iter().take(NAMED_INVALID_LINES) {
        out.warnings.push(Warning::general(
            WarningKind::Plugin,
            None,
            format!("plugin {name}: output line {line} is not a valid event: {why}"),
        ));
    }
    let unnamed = outcome
        .invalid_count
        .saturating_sub(NAMED_INVALID_LINES as u64);
    if unnamed > 0 {
        out.warnings.push(Warning::general(
            WarningKind::Plugin,
            None,
            format!("plugin {name}: {unnamed} more output lines are not valid events"),
        ));
    }
    if outcome.dropped_findings > 0 {
        out.warnings.push(Warning::general(
            WarningKind::BoundReached,
            None,
            format!(
                "plugin {name}: {} findings past the cap were dropped",
                outcome.dropped_findings
            ),
        ));
    }
    let error = outcome.status.message();
    if let Some(e) = &error {
        out.warnings.push(Warning::general(
            WarningKind::Plugin,
            None,
            format!("plugin {name} ({}): {e}", plugin.path.display()),
        ));
    }
    out.runs.push(PluginRun {
        name: name.to_string(),
        version: plugin.manifest.version.clone(),
        status: outcome.status.as_str().into(),
        error,
        findings: kept,
        invalid_lines: outcome.invalid_count,
        elapsed_ms: outcome.elapsed.as_millis() as u64,
    });
}
