//! The compliance runs: each `compliance:` target's latest run with its status (scheduled,
//! running, finished, not supported with the reason, failed with the error), its counts,
//! what changed since the run before it (new failures first), and when it runs next. The
//! API's `/api/v1/compliance` and the console's compliance pages both read it from here.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use holdfast_model::{CheckChanges, CheckResult, CheckStatus, ScanResult};
use holdfast_store::{ScanFilter, ScanRecord, ScanStatus, Schedule};
use serde::Serialize;

use crate::api::ApiError;
use crate::targets::COMPLIANCE_PREFIX;
use crate::AppState;

/// Runs listed with each target and on a run's page.
const RECENT_RUNS: i64 = 10;

/// One check whose verdict changed between two runs.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChangeRow {
    /// The target (the host, or a cluster's workload) it judged.
    pub target: String,
    /// The check's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its benchmark section.
    pub section: String,
    /// Its status in the run that failed it.
    pub status: CheckStatus,
}

/// What changed since the run before, as rows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Changes {
    /// The finished run compared with.
    pub since_scan_id: Option<String>,
    /// Failing now, not before.
    pub new_failures: Vec<ChangeRow>,
    /// Failing before, not now.
    pub fixed: Vec<ChangeRow>,
}

/// A compliance target, as its latest run leaves it.
#[derive(Debug, Clone, Serialize)]
pub struct ComplianceTarget {
    /// `compliance:docker`, `compliance:kubernetes`, `compliance:cluster:CONTEXT`.
    pub target: String,
    /// `scheduled`, `running`, `finished`, `not supported` or `failed`.
    pub status: &'static str,
    /// The error of a failed run, or why the benchmark does not apply here.
    pub detail: Option<String>,
    /// When the status was reached (Unix ms).
    pub at: i64,
    /// The latest finished run.
    pub scan_id: Option<String>,
    /// Its checks by status (`PASS`, `WARN`, ...), only statuses some check ended with.
    pub counts: BTreeMap<&'static str, usize>,
    /// Since the finished run before it.
    pub changes: Changes,
    /// The schedule that runs it, and when next.
    pub schedule: Option<String>,
    /// Unix ms.
    pub next_run_at: Option<i64>,
    /// The latest runs, newest first.
    pub runs: Vec<ScanRecord>,
}

/// One finished run, whole: its checks grouped by target and section.
#[derive(Debug, Clone, Serialize)]
pub struct ComplianceRun {
    /// The run.
    pub scan: ScanRecord,
    /// Its checks by status.
    pub counts: BTreeMap<&'static str, usize>,
    /// Why the benchmark does not apply, when it does not.
    pub not_supported: Option<String>,
    /// Since the finished run of the same target before it.
    pub changes: Changes,
    /// (target, section, checks), failures first within a section.
    pub sections: Vec<(String, String, Vec<CheckResult>)>,
    /// The same target's latest runs, newest first.
    pub runs: Vec<ScanRecord>,
}

/// Every compliance target that was ever queued or is scheduled, with only the checks
/// tagged `regulation` counted and compared when one is given.
pub async fn targets(
    state: &AppState,
    regulation: Option<&str>,
) -> Result<Vec<ComplianceTarget>, ApiError> {
    let store = &state.store;
    let schedules: Vec<Schedule> = store
        .schedules()
        .await
        .map_err(ApiError::store)?
        .into_iter()
        .filter(|s| s.enabled && s.target.starts_with(COMPLIANCE_PREFIX))
        .collect();
    let mut names = store
        .targets_named(COMPLIANCE_PREFIX)
        .await
        .map_err(ApiError::store)?;
    names.extend(schedules.iter().map(|s| s.target.clone()));
    names.sort();
    names.dedup();
    let mut out = Vec::with_capacity(names.len());
    for target in names {
        let runs = runs_of(state, &target).await?;
        let (latest, before) = finished_pair(state, &target, None, regulation).await?;
        let schedule = schedules
            .iter()
            .filter(|s| s.target == target)
            .min_by_key(|s| s.next_run_at);
        let (status, detail, at) = match (runs.first(), schedule) {
            (Some(run), _) => status_of(run, latest.as_ref().map(|(_, r)| r)),
            (None, Some(s)) => ("scheduled", None, s.next_run_at),
            (None, None) => continue,
        };
        out.push(ComplianceTarget {
            status,
            detail,
            at,
            counts: latest.as_ref().map(|(_, r)| counts(r)).unwrap_or_default(),
            changes: changes(latest.as_ref(), before.as_ref()),
            scan_id: latest.map(|(id, _)| id),
            schedule: schedule.map(|s| s.name.clone()),
            next_run_at: schedule.map(|s| s.next_run_at),
            runs,
            target,
        });
    }
    Ok(out)
}

/// One run of a compliance target, with what changed since the one before it.
pub async fn run(
    state: &AppState,
    scan_id: &str,
    regulation: Option<&str>,
) -> Result<ComplianceRun, ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no finished compliance run by this id",
        )
    };
    let scan = state
        .store
        .scan(scan_id)
        .await
        .map_err(ApiError::store)?
        .filter(|s| s.target.starts_with(COMPLIANCE_PREFIX) && s.status == ScanStatus::Finished)
        .ok_or_else(not_found)?;
    let (latest, before) = finished_pair(state, &scan.target, Some(&scan), regulation).await?;
    let (_, result) = latest.as_ref().ok_or_else(not_found)?;
    let mut sections: BTreeMap<(String, String), Vec<CheckResult>> = BTreeMap::new();
    for t in &result.targets {
        for c in &t.checks {
            sections
                .entry((t.name.clone(), c.section.clone()))
                .or_default()
                .push(c.clone());
        }
    }
    let mut sections: Vec<(String, String, Vec<CheckResult>)> = sections
        .into_iter()
        .map(|((target, section), mut checks)| {
            checks.sort_by_key(|c| !is_failure(c.status));
            (target, section, checks)
        })
        .collect();
    sections.sort_by(|a, b| a.0.cmp(&b.0).then(section_order(&a.1, &b.1)));
    Ok(ComplianceRun {
        counts: counts(result),
        not_supported: result.not_supported().map(str::to_string),
        changes: changes(latest.as_ref(), before.as_ref()),
        sections,
        runs: runs_of(state, &scan.target).await?,
        scan,
    })
}

/// Sections in benchmark order: `5.10` after `5.9`, names without numbers by name.
fn section_order(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |s: &str| -> Vec<u64> {
        let number = s.split_whitespace().next().unwrap_or("");
        number
            .split('.')
            .map_while(|p| p.parse::<u64>().ok())
            .collect()
    };
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

fn is_failure(s: CheckStatus) -> bool {
    matches!(s, CheckStatus::Warn | CheckStatus::Error)
}

async fn runs_of(state: &AppState, target: &str) -> Result<Vec<ScanRecord>, ApiError> {
    state
        .store
        .scans(&ScanFilter {
            target: Some(target.to_string()),
            limit: Some(RECENT_RUNS),
            ..ScanFilter::default()
        })
        .await
        .map_err(ApiError::store)
}

/// A target's latest finished run (or `at`, when given) and the finished run before it,
/// their results keeping only checks tagged `regulation`.
async fn finished_pair(
    state: &AppState,
    target: &str,
    at: Option<&ScanRecord>,
    regulation: Option<&str>,
) -> Result<(Option<(String, ScanResult)>, Option<(String, ScanResult)>), ApiError> {
    let finished = state
        .store
        .scans(&ScanFilter {
            status: Some(ScanStatus::Finished),
            target: Some(target.to_string()),
            // The latest two, unless a given run is looked for among the newest.
            limit: Some(if at.is_some() { 1000 } else { 2 }),
            ..ScanFilter::default()
        })
        .await
        .map_err(ApiError::store)?;
    // The run asked for and the one before it; a run older than the thousand newest is
    // shown alone rather than mistaken for the latest.
    let runs: Vec<&ScanRecord> = match at {
        Some(at) => match finished.iter().position(|s| s.id == at.id) {
            Some(i) => finished[i..].iter().collect(),
            None => vec![at],
        },
        None => finished.iter().collect(),
    };
    let mut pair = [None, None];
    for (slot, scan) in pair.iter_mut().zip(runs) {
        if let Some(mut result) = state
            .store
            .scan_result(&scan.id)
            .await
            .map_err(ApiError::store)?
        {
            if let Some(tag) = regulation {
                for t in &mut result.targets {
                    t.checks.retain(|c| c.tags.iter().any(|x| x == tag));
                }
            }
            *slot = Some((scan.id.clone(), result));
        }
    }
    let [latest, before] = pair;
    Ok((latest, before))
}

/// The status a target's newest run gives it; `finished` is the latest finished result.
fn status_of(
    run: &ScanRecord,
    finished: Option<&ScanResult>,
) -> (&'static str, Option<String>, i64) {
    match run.status {
        ScanStatus::Queued => ("scheduled", None, run.created_at),
        ScanStatus::Running => ("running", None, run.started_at.unwrap_or(run.created_at)),
        ScanStatus::Failed => (
            "failed",
            run.error.clone(),
            run.finished_at.unwrap_or(run.created_at),
        ),
        ScanStatus::Finished => {
            let at = run.finished_at.unwrap_or(run.created_at);
            match finished.and_then(|r| r.not_supported()) {
                Some(reason) => ("not supported", Some(reason.to_string()), at),
                None => ("finished", None, at),
            }
        }
    }
}

fn counts(result: &ScanResult) -> BTreeMap<&'static str, usize> {
    CheckStatus::counts(result.targets.iter().flat_map(|t| &t.checks))
        .into_iter()
        .map(|(s, n)| (s.as_str(), n))
        .collect()
}

fn changes(
    latest: Option<&(String, ScanResult)>,
    before: Option<&(String, ScanResult)>,
) -> Changes {
    let (Some((_, after)), Some((since, before))) = (latest, before) else {
        return Changes::default();
    };
    let found = CheckChanges::between(before, after);
    let rows = |list: &[holdfast_model::ChangedCheck<'_>]| -> Vec<ChangeRow> {
        list.iter()
            .map(|c| ChangeRow {
                target: c.target.to_string(),
                id: c.check.id.clone(),
                title: c.check.title.clone(),
                section: c.check.section.clone(),
                status: c.check.status,
            })
            .collect()
    };
    Changes {
        since_scan_id: Some(since.clone()),
        new_failures: rows(&found.new_failures),
        fixed: rows(&found.fixed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_sort_as_the_benchmark_numbers_them() {
        let mut s = vec![
            "5.10 Container runtime",
            "5.9 Container runtime",
            "1.1 Linux hosts",
            "Pod Security Standards",
            "4 Images",
        ];
        s.sort_by(|a, b| section_order(a, b));
        assert_eq!(
            s,
            [
                "Pod Security Standards",
                "1.1 Linux hosts",
                "4 Images",
                "5.9 Container runtime",
                "5.10 Container runtime"
            ]
        );
    }
}
