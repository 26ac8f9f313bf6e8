//! `holdfast compliance docker|kubernetes`: one run, or one every `--every`, each with a
//! status line (scheduled, running, finished, not supported, failed) and the difference
//! from the run before it (or from `--baseline`): new failures first, then what was fixed.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context, Result};
use holdfast_model::{CheckStatus, ScanResult};
use holdfast_scan::{Benchmark, BenchmarkOptions, Target};

use crate::cli::{self, CheckArgs, ScanOptions};
use crate::output::Outputs;
use crate::{progress, request};

/// Runs the benchmark once, or every `--every` until interrupted.
pub fn run(cmd: cli::ComplianceCommand, quiet: bool) -> Result<ExitCode> {
    let (benchmark, checks, schedule, opts) = match cmd {
        cli::ComplianceCommand::Docker {
            checks,
            schedule,
            opts,
        } => (Benchmark::Docker, checks, schedule, opts),
        cli::ComplianceCommand::Kubernetes {
            checks,
            schedule,
            opts,
        } => (Benchmark::KubernetesNode, checks, schedule, opts),
    };
    let mut previous = match &schedule.baseline {
        Some(path) => Some(read_result(path)?),
        None => None,
    };
    let mut run_number = 1u64;
    loop {
        status(quiet, run_number, "running", "");
        let outcome = run_once(benchmark, &checks, &opts, quiet);
        let code = match outcome {
            Ok((result, code)) => {
                let not_supported = not_supported(benchmark, &result);
                match &not_supported {
                    Some(reason) => status(quiet, run_number, "not supported", reason),
                    None => status(quiet, run_number, "finished", &counts(&result)),
                }
                if let Some(before) = &previous {
                    print_diff(before, &result, quiet);
                }
                previous = Some(result);
                code
            }
            Err(e) => {
                status(quiet, run_number, "failed", &format!("{e:#}"));
                ExitCode::from(cli::EXIT_ERROR)
            }
        };
        let Some(every) = schedule.every else {
            return Ok(code);
        };
        let next = time::OffsetDateTime::now_utc() + every;
        run_number += 1;
        status(
            quiet,
            run_number,
            "scheduled",
            &format!("at {}", rfc3339(next)),
        );
        std::thread::sleep(every);
    }
}

fn run_once(
    benchmark: Benchmark,
    checks: &CheckArgs,
    opts: &ScanOptions,
    quiet: bool,
) -> Result<(ScanResult, ExitCode)> {
    let outputs = Outputs::from_scan_options(opts, holdfast_report::Format::Table)?;
    let options = BenchmarkOptions {
        benchmark,
        socket: Default::default(),
        policies: checks.policy.clone(),
        regulations: checks.compliance.clone(),
    };
    let request = request::scan_request(vec![Target::Benchmark(options)], opts, false, quiet)?;
    let progress = progress::CliProgress::new(quiet);
    let result = holdfast_scan::scan(&request, &progress);
    progress.finish();
    let result = result?;
    outputs.write(&result)?;
    let verdict = holdfast_policy::verdict(&request.policy, &result);
    Ok((result, ExitCode::from(verdict.exit_code(opts.exit_code))))
}

/// Why a run could not judge what it is for: a node with no kubelet.
fn not_supported(benchmark: Benchmark, result: &ScanResult) -> Option<String> {
    let warnings = result.targets.first().map(|t| &t.warnings)?;
    match benchmark {
        Benchmark::KubernetesNode => warnings
            .iter()
            .find(|w| w.message.starts_with("no kubelet process"))
            .map(|w| w.message.clone()),
        Benchmark::Docker => warnings
            .iter()
            .find(|w| w.message.starts_with("the Engine API could not be reached"))
            .map(|w| w.message.clone()),
    }
}

fn status(quiet: bool, run: u64, state: &str, detail: &str) {
    if quiet {
        return;
    }
    let now = rfc3339(time::OffsetDateTime::now_utc());
    if detail.is_empty() {
        eprintln!("compliance: run {run} {state} ({now})");
    } else {
        eprintln!("compliance: run {run} {state} ({now}): {detail}");
    }
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `39 WARN, 48 PASS, 30 NOTE` over every target.
fn counts(result: &ScanResult) -> String {
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for c in result.targets.iter().flat_map(|t| &t.checks) {
        *by.entry(c.status.as_str()).or_default() += 1;
    }
    by.iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Check id → status, over every target.
fn statuses(result: &ScanResult) -> BTreeMap<&str, CheckStatus> {
    result
        .targets
        .iter()
        .flat_map(|t| &t.checks)
        .map(|c| (c.id.as_str(), c.status))
        .collect()
}

/// What changed since `before`: checks that fail now and did not, then checks that
/// failed and no longer do.
pub fn diff<'a>(before: &'a ScanResult, after: &'a ScanResult) -> (Vec<&'a str>, Vec<&'a str>) {
    let (b, a) = (statuses(before), statuses(after));
    let failed =
        |s: Option<&CheckStatus>| matches!(s, Some(CheckStatus::Warn | CheckStatus::Error));
    let new = a
        .keys()
        .filter(|id| failed(a.get(*id)) && !failed(b.get(*id)))
        .copied()
        .collect();
    let fixed = b
        .keys()
        .filter(|id| failed(b.get(*id)) && !failed(a.get(*id)))
        .copied()
        .collect();
    (new, fixed)
}

fn print_diff(before: &ScanResult, after: &ScanResult, quiet: bool) {
    if quiet {
        return;
    }
    let (new, fixed) = diff(before, after);
    let titles: BTreeMap<&str, &str> = after
        .targets
        .iter()
        .chain(&before.targets)
        .flat_map(|t| &t.checks)
        .map(|c| (c.id.as_str(), c.title.as_str()))
        .collect();
    eprintln!(
        "compliance: since the run of {}: {} new failure(s), {} fixed",
        before.created_at,
        new.len(),
        fixed.len()
    );
    for id in new {
        eprintln!("  new   {id} {}", titles.get(id).unwrap_or(&""));
    }
    for id in fixed {
        eprintln!("  fixed {id} {}", titles.get(id).unwrap_or(&""));
    }
}

fn read_result(path: &std::path::Path) -> Result<ScanResult> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the baseline {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a holdfast JSON result", path.display()))
}
