//! `holdfast compliance docker|kubernetes`: one run, or one every `--every`, each with a
//! status line (scheduled, running, finished, not supported, failed) and the difference
//! from the run before it (or from `--baseline`): new failures first, then what was fixed.

use std::process::ExitCode;

use anyhow::Result;
use holdfast_model::{ChangedCheck, CheckChanges, CheckStatus, ScanResult};
use holdfast_scan::{rfc3339, Benchmark, BenchmarkOptions, ClusterSelection, Target};

use crate::cli::{self, CheckArgs, ScanOptions};
use holdfast_report::Format;

/// Runs the benchmark once, or every `--every` until interrupted.
pub fn run(cmd: cli::ComplianceCommand, quiet: bool) -> Result<ExitCode> {
    let (what, checks, schedule, opts) = match cmd {
        cli::ComplianceCommand::Docker {
            checks,
            schedule,
            opts,
        } => (Judged::Benchmark(Benchmark::Docker), checks, schedule, opts),
        cli::ComplianceCommand::Kubernetes {
            cluster: false,
            checks,
            schedule,
            opts,
            ..
        } => (
            Judged::Benchmark(Benchmark::KubernetesNode),
            checks,
            schedule,
            opts,
        ),
        cli::ComplianceCommand::Kubernetes {
            cluster: true,
            pods,
            checks,
            schedule,
            opts,
        } => (Judged::Cluster(pods), checks, schedule, opts),
    };
    let mut previous = match &schedule.baseline {
        Some(path) => Some(crate::report::read_result(path)?),
        None => None,
    };
    let mut run_number = 1u64;
    loop {
        status(quiet, run_number, "running", "");
        let outcome = run_once(&what, &checks, &opts, quiet);
        let code = match outcome {
            Ok((result, code)) => {
                match result.not_supported() {
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
            &format!("at {}", rfc3339(next).unwrap_or_default()),
        );
        std::thread::sleep(every);
    }
}

/// What a compliance run judges.
enum Judged {
    /// A benchmark of this host.
    Benchmark(Benchmark),
    /// The pod specs of a cluster.
    Cluster(cli::ClusterPodArgs),
}

fn run_once(
    what: &Judged,
    checks: &CheckArgs,
    opts: &ScanOptions,
    quiet: bool,
) -> Result<(ScanResult, ExitCode)> {
    let target = match what {
        // Both are judged with the request's misconfig settings: `checks`.
        Judged::Benchmark(benchmark) => Target::Benchmark(BenchmarkOptions {
            benchmark: *benchmark,
            socket: Default::default(),
        }),
        Judged::Cluster(pods) => Target::Cluster(ClusterSelection {
            options: pods.clone().options(Vec::new()),
            specs_only: true,
            ..ClusterSelection::default()
        }),
    };
    crate::scan_and_judge(vec![target], opts, checks, Format::Table, quiet)
}

fn status(quiet: bool, run: u64, state: &str, detail: &str) {
    if quiet {
        return;
    }
    let now = rfc3339(time::OffsetDateTime::now_utc()).unwrap_or_default();
    if detail.is_empty() {
        eprintln!("compliance: run {run} {state} ({now})");
    } else {
        eprintln!("compliance: run {run} {state} ({now}): {detail}");
    }
}

/// `48 PASS, 39 WARN, 30 NOTE` over every target.
fn counts(result: &ScanResult) -> String {
    CheckStatus::counts_text(result.targets.iter().flat_map(|t| &t.checks))
}

fn print_diff(before: &ScanResult, after: &ScanResult, quiet: bool) {
    if quiet {
        return;
    }
    let changes = CheckChanges::between(before, after);
    eprintln!(
        "compliance: since the run of {}: {} new failure(s), {} fixed",
        before.created_at,
        changes.new_failures.len(),
        changes.fixed.len()
    );
    // Several targets (a cluster's workloads) repeat check ids: name the target too.
    let several = after.targets.len() > 1 || before.targets.len() > 1;
    let line = |label: &str, c: &ChangedCheck<'_>| {
        let target = if several {
            format!(" ({})", c.target)
        } else {
            String::new()
        };
        eprintln!("  {label} {} {}{target}", c.check.id, c.check.title);
    };
    for c in &changes.new_failures {
        line("new  ", c);
    }
    for c in &changes.fixed {
        line("fixed", c);
    }
}
