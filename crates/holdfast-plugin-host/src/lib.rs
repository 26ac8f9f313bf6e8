//! Finding, describing and running holdfast plugins.
//!
//! A plugin is any executable that answers `PLUGIN info` with a manifest (protocol
//! version 1, [`holdfast_plugin`]). [`discover`] searches the plugin directories for
//! them, caching manifests by path, size and mtime; a candidate that answers garbage,
//! hangs or fails is listed as [`Broken`], never fatal. [`run::run_plugin`] runs one for
//! one target: its own process group, a private mount namespace where the target's root
//! filesystem and the cache are read-only, a deadline, output caps, and every line it
//! prints validated. [`to_findings`] turns what it reported into holdfast findings with
//! `source: plugin/<name>`.

pub mod discover;
pub mod install;
pub mod params;
pub mod run;

pub use discover::{default_plugin_dir, discover, plugin_roots, Broken, Discovered, Plugin};
pub use params::{ParamError, PluginParam, ResolvedParams};
pub use run::{run_plugin, Isolation, RunOptions, RunOutcome, RunStatus};

use holdfast_model::{Finding, FindingKind, Severity};
use holdfast_plugin::PluginFinding;
use sha2::{Digest, Sha256};

/// The finding `source` of a plugin's findings.
pub fn source_name(plugin: &str) -> String {
    format!("plugin/{plugin}")
}

/// Checks one reported finding and turns it into a holdfast finding; the error says
/// what is wrong with it. `default_kind` is the manifest's first kind.
pub fn to_finding(
    plugin: &str,
    default_kind: Option<&str>,
    f: PluginFinding,
) -> Result<Finding, String> {
    if f.id.trim().is_empty() {
        return Err("finding has an empty id".into());
    }
    let severity = parse_severity(&f.severity)?;
    let kind_name = f
        .kind
        .as_deref()
        .or(default_kind)
        .unwrap_or("misconfiguration");
    let kind: FindingKind = kind_name
        .parse()
        .map_err(|_| format!("finding kind `{kind_name}` is not a holdfast finding kind"))?;
    let path = f.path.map(|p| {
        let p = p.trim_start_matches('/');
        format!("/{p}")
    });
    let mut h = Sha256::new();
    for part in [plugin, &f.id, path.as_deref().unwrap_or("")] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.update(f.line.unwrap_or(0).to_le_bytes());
    // Line 0 does not exist (lines are 1-based): read as no line.
    let mut finding = Finding::new(kind, &f.id, severity, &f.title);
    finding.description = f.description;
    finding.path = path;
    finding.line = f.line.filter(|l| *l > 0);
    finding.remediation = f.remediation;
    finding.fingerprint = Some(format!("sha256:{}", hex::encode(h.finalize())));
    finding.source = Some(source_name(plugin));
    Ok(finding)
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
        .map_err(|_| format!("severity `{s}` is not one of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL"))
}
