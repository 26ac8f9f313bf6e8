//! The cross-scan views with the exceptions in force applied: what the API's inventory
//! routes return and what the console shows, computed once here so both agree.

use axum::http::StatusCode;
use holdfast_model::{ScanResult, TargetResult};
use holdfast_store::{Exception, FindingRow, TargetSummary, VulnerabilitySummary};
use serde::Serialize;

use crate::api::{apply_exceptions, ApiError};
use crate::AppState;

pub(crate) async fn active_exceptions(state: &AppState) -> Result<Vec<Exception>, ApiError> {
    state
        .store
        .active_exceptions()
        .await
        .map_err(ApiError::store)
}

/// The exception in force that covers a stored finding, by id.
pub(crate) fn covered(exceptions: &[Exception], f: &FindingRow) -> Option<String> {
    exceptions
        .iter()
        .find(|e| e.covers(&f.id, &[], f.package.as_deref(), &f.target))
        .map(|e| e.id.clone())
}

/// The latest targets (of `kind`, of image `image_id`), their counts without the findings
/// an exception covers.
pub async fn latest_targets(
    state: &AppState,
    kind: Option<&str>,
    image_id: Option<&str>,
) -> Result<Vec<TargetSummary>, ApiError> {
    let exceptions = active_exceptions(state).await?;
    latest_targets_with(state, kind, image_id, &exceptions).await
}

async fn latest_targets_with(
    state: &AppState,
    kind: Option<&str>,
    image_id: Option<&str>,
    exceptions: &[Exception],
) -> Result<Vec<TargetSummary>, ApiError> {
    let mut targets = state
        .store
        .latest_targets(kind, image_id)
        .await
        .map_err(ApiError::store)?;
    if exceptions.is_empty() || targets.is_empty() {
        return Ok(targets);
    }
    // Only the findings of the advisories an exception names are read.
    let mut advisories: Vec<&str> = exceptions.iter().map(|e| e.advisory.as_str()).collect();
    advisories.sort_unstable();
    advisories.dedup();
    let rows = state
        .store
        .latest_findings(&["vulnerability"], &advisories)
        .await
        .map_err(ApiError::store)?;
    for f in rows.iter().filter(|f| covered(exceptions, f).is_some()) {
        if let Some(t) = targets
            .iter_mut()
            .find(|t| t.scan_id == f.scan_id && t.name == f.target)
        {
            let slot = match f.severity.as_str() {
                "CRITICAL" => &mut t.counts.critical,
                "HIGH" => &mut t.counts.high,
                "MEDIUM" => &mut t.counts.medium,
                "LOW" => &mut t.counts.low,
                _ => &mut t.counts.unknown,
            };
            *slot -= 1;
            if f.fixed_version.is_some() {
                t.fixable -= 1;
            }
        }
    }
    Ok(targets)
}

/// A stored result with `exceptions` applied: what they cover moved to `suppressed`.
pub async fn result_excepted(
    state: &AppState,
    scan_id: &str,
    exceptions: &[Exception],
) -> Result<Option<ScanResult>, ApiError> {
    let mut result = state
        .store
        .scan_result(scan_id)
        .await
        .map_err(ApiError::store)?;
    if let Some(result) = &mut result {
        apply_exceptions(result, exceptions);
    }
    Ok(result)
}

/// One image (or container, or host) by its id or name: the summary of its latest scan
/// and that scan's whole result, exceptions applied; the target is at `summary.index`.
/// An image id is shared by the image and the containers run from it: the image's own
/// scan answers for it when there is one.
pub async fn image_result(
    state: &AppState,
    id: &str,
) -> Result<(TargetSummary, ScanResult), ApiError> {
    let exceptions = active_exceptions(state).await?;
    let mut targets = latest_targets_with(state, None, Some(id), &exceptions).await?;
    if targets.is_empty() {
        targets = latest_targets_with(state, None, None, &exceptions)
            .await?
            .into_iter()
            .filter(|t| t.name == id || t.target == id)
            .collect();
    }
    let summary = targets
        .into_iter()
        .max_by_key(|t| (t.kind == "image", t.finished_at))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no scanned image with this id or name",
            )
        })?;
    let result = result_excepted(state, &summary.scan_id, &exceptions)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no result"))?;
    if result.targets.len() <= summary.index as usize {
        return Err(ApiError::internal("the stored result lacks the target"));
    }
    Ok((summary, result))
}

/// [`image_result`]'s summary and target alone.
pub async fn image(state: &AppState, id: &str) -> Result<(TargetSummary, TargetResult), ApiError> {
    let (summary, result) = image_result(state, id).await?;
    let target = result
        .targets
        .into_iter()
        .nth(summary.index as usize)
        .expect("image_result checked the index");
    Ok((summary, target))
}

/// Every advisory of the latest scans, once, without what exceptions cover.
pub async fn vulnerabilities(state: &AppState) -> Result<Vec<VulnerabilitySummary>, ApiError> {
    let exceptions = active_exceptions(state).await?;
    state
        .store
        .vulnerabilities(|f| covered(&exceptions, f).is_some())
        .await
        .map_err(ApiError::store)
}

/// A target an advisory affects, and the exception that covers it there.
#[derive(Debug, Clone, Serialize)]
pub struct Affected {
    /// Where, which package, which versions.
    #[serde(flatten)]
    pub row: FindingRow,
    /// The id of the exception covering it.
    pub exception: Option<String>,
}

/// One advisory across the latest scans.
#[derive(Debug, Clone, Serialize)]
pub struct VulnerabilityDetail {
    /// The worst severity any target gives it.
    pub severity: Option<String>,
    /// Its title.
    pub title: Option<String>,
    /// Every target it affects.
    pub affected: Vec<Affected>,
    /// The exceptions naming it (in force or not).
    pub exceptions: Vec<Exception>,
}

/// What the latest scans say about advisory `id`.
pub async fn vulnerability(state: &AppState, id: &str) -> Result<VulnerabilityDetail, ApiError> {
    let rows = state
        .store
        .latest_findings(&["vulnerability"], &[id])
        .await
        .map_err(ApiError::store)?;
    let all = state.store.exceptions().await.map_err(ApiError::store)?;
    let now = holdfast_store::now_ms();
    let active: Vec<Exception> = all.iter().filter(|e| e.active(now)).cloned().collect();
    Ok(VulnerabilityDetail {
        severity: rows
            .iter()
            .map(|r| r.severity.clone())
            .max_by_key(|s| holdfast_store::severity_rank(s)),
        title: rows.first().map(|r| r.title.clone()),
        affected: rows
            .iter()
            .map(|r| Affected {
                exception: covered(&active, r),
                row: r.clone(),
            })
            .collect(),
        exceptions: all.into_iter().filter(|e| e.advisory == id).collect(),
    })
}
