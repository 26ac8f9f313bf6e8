//! The cross-scan views with the exceptions in force applied: what the API's inventory
//! routes return and what the console shows, computed once here so both agree.

use axum::http::StatusCode;
use holdfast_model::TargetResult;
use holdfast_store::{Exception, FindingRow, TargetSummary, VulnerabilitySummary};
use serde::Serialize;

use crate::api::{apply_exceptions, ApiError};
use crate::AppState;

async fn exceptions(state: &AppState) -> Result<Vec<Exception>, ApiError> {
    state
        .store
        .active_exceptions()
        .await
        .map_err(ApiError::store)
}

fn covered(exceptions: &[Exception], f: &FindingRow) -> Option<String> {
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
    let mut targets = state
        .store
        .latest_targets(kind, image_id)
        .await
        .map_err(ApiError::store)?;
    let exceptions = exceptions(state).await?;
    if exceptions.is_empty() || targets.is_empty() {
        return Ok(targets);
    }
    let advisories: Vec<&str> = exceptions.iter().map(|e| e.advisory.as_str()).collect();
    let rows = state
        .store
        .latest_findings(&["vulnerability"], None)
        .await
        .map_err(ApiError::store)?;
    for f in rows
        .iter()
        .filter(|f| advisories.contains(&f.id.as_str()))
        .filter(|f| covered(&exceptions, f).is_some())
    {
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

/// The latest target with this image id or name (an image before a container of it).
async fn find_image(state: &AppState, id: &str) -> Result<TargetSummary, ApiError> {
    let mut targets = latest_targets(state, None, Some(id)).await?;
    if targets.is_empty() {
        targets = latest_targets(state, None, None)
            .await?
            .into_iter()
            .filter(|t| t.name == id || t.target == id)
            .collect();
    }
    // An image id is shared by the image and the containers run from it: the image's
    // own scan answers for it when there is one.
    targets
        .into_iter()
        .max_by_key(|t| (t.kind == "image", t.finished_at))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no scanned image with this id or name",
            )
        })
}

/// One image (or container, or host) by its id or name: its latest scan's summary and
/// target, exceptions applied.
pub async fn image(state: &AppState, id: &str) -> Result<(TargetSummary, TargetResult), ApiError> {
    let summary = find_image(state, id).await?;
    let (_, target) = target_of(state, &summary).await?;
    Ok((summary, target))
}

/// [`image`]'s scan id and target.
pub async fn image_with_scan(
    state: &AppState,
    id: &str,
) -> Result<(String, TargetResult), ApiError> {
    let summary = find_image(state, id).await?;
    target_of(state, &summary).await
}

async fn target_of(
    state: &AppState,
    summary: &TargetSummary,
) -> Result<(String, TargetResult), ApiError> {
    let mut result = state
        .store
        .scan_result(&summary.scan_id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no result"))?;
    apply_exceptions(&mut result, &exceptions(state).await?);
    let target = result
        .targets
        .into_iter()
        .nth(summary.index as usize)
        .ok_or_else(|| ApiError::internal("the stored result lacks the target"))?;
    Ok((summary.scan_id.clone(), target))
}

/// Every advisory of the latest scans, once, without what exceptions cover.
pub async fn vulnerabilities(state: &AppState) -> Result<Vec<VulnerabilitySummary>, ApiError> {
    let exceptions = exceptions(state).await?;
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
        .latest_findings(&["vulnerability"], Some(id))
        .await
        .map_err(ApiError::store)?;
    let active = exceptions(state).await?;
    let all = state.store.exceptions().await.map_err(ApiError::store)?;
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
