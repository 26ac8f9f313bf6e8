//! `holdfast scan container ID|NAME` and `holdfast scan container --all`: one target
//! result per container, through the same plan as image scans.

use std::process::ExitCode;

use anyhow::{Context, Result};
use holdfast_report::Format;
use holdfast_source::{list_containers, ContainerSource};

use crate::cli::ScanOptions;
use crate::output;
use crate::scan::{exit_code, scan_result, ScanPlan};

/// Scans one container, or all of them with `all`.
pub fn run(target: Option<&str>, all: bool, opts: &ScanOptions, quiet: bool) -> Result<ExitCode> {
    let outputs = output::Outputs::from_scan_options(opts, Format::Table)?;
    let plan = ScanPlan::new(opts, false)?;
    let ids: Vec<String> = if all {
        list_containers()
            .context("cannot list the daemon's containers")?
            .into_iter()
            .map(|c| c.id)
            .collect()
    } else {
        vec![target
            .context("name a container or pass --all")?
            .to_string()]
    };
    let mut targets = Vec::new();
    let mut db = None;
    for id in &ids {
        let source = match ContainerSource::open(id, plan.open.limits) {
            Ok(s) => s,
            // With --all a container may go away between the listing and its scan;
            // the others are still scanned.
            Err(e) if all => {
                eprintln!("warning: container {id} not scanned: {e}");
                continue;
            }
            Err(e) => return Err(e).with_context(|| format!("cannot open container `{id}`")),
        };
        let (t, d) = plan.scan_source(&source, quiet)?;
        targets.push(t);
        db = db.or(d);
    }
    let result = scan_result(targets, db);
    outputs.write(&result)?;
    Ok(exit_code(&result, opts.exit_code))
}
