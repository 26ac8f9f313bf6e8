//! The REST API under `/api/v1`, plus `/healthz`, `/readyz`, `/metrics` and `/report`.
//! JSON in and out; errors are `{"error": "..."}` with the status that fits.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{middleware, Extension, Json, Router};
use holdfast_model::{FindingKind, ScanResult, SuppressionInfo};
use holdfast_store::{
    Exception, NewException, NewScan, NewSchedule, ScanFilter, ScanRecord, ScanStatus, Scope,
    StoreError,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{require, Caller};
use crate::AppState;

/// An API error: a status and a message for the caller.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// A server-side failure.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// A store failure: a refused value is the caller's; anything else is the service's
    /// (503, as the store may come back).
    pub fn store(e: StoreError) -> ApiError {
        match e {
            StoreError::Invalid(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m),
            other => {
                tracing::warn!("store: {other}");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("the store is unavailable: {other}"),
                )
            }
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The status and the message.
    pub fn parts(self) -> (StatusCode, String) {
        (self.status, self.message)
    }

    fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("no {what}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let read = Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/scans", get(list_scans))
        .route("/api/v1/scans/{id}", get(get_scan))
        .route("/api/v1/scans/{id}/report", get(scan_report))
        .route("/api/v1/scans/{id}/verdict", get(scan_verdict))
        .route("/api/v1/images", get(list_images))
        .route("/api/v1/images/{id}", get(get_image))
        .route("/api/v1/vulnerabilities", get(list_vulnerabilities))
        .route("/api/v1/vulnerabilities/{id}", get(get_vulnerability))
        .route("/api/v1/compliance", get(list_compliance))
        .route("/api/v1/compliance/runs/{id}", get(get_compliance_run))
        .route("/api/v1/exceptions", get(list_exceptions))
        .route("/api/v1/policies", get(list_policies))
        .route("/api/v1/policies/{name}", get(get_policy))
        .route("/api/v1/schedules", get(list_schedules))
        .route("/api/v1/db", get(get_db))
        .route("/report", get(report))
        .layer(middleware::from_fn_with_state(
            (state.clone(), Scope::Read),
            require,
        ));
    let scan = Router::new()
        .route("/api/v1/scans", post(create_scan))
        .route("/api/v1/scans/{id}", delete(delete_scan))
        .route("/api/v1/results", post(import_result))
        .layer(middleware::from_fn_with_state(
            (state.clone(), Scope::Scan),
            require,
        ));
    let admin = Router::new()
        .route("/api/v1/exceptions", post(create_exception))
        .route("/api/v1/exceptions/{id}", delete(delete_exception))
        .route("/api/v1/policies/{name}", put(put_policy))
        .route("/api/v1/schedules", post(upsert_schedule))
        .route("/api/v1/schedules/{name}", delete(delete_schedule))
        .route("/api/v1/audit", get(audit_log))
        .route("/api/v1/db/rematch", post(rematch))
        .layer(middleware::from_fn_with_state(
            (state.clone(), Scope::Admin),
            require,
        ));
    // The admission webhook authenticates by TLS, as the API server calls it: no token.
    let admission = if state.config.admission {
        Router::new()
            .route("/admission", post(crate::admission::review))
            .with_state(state.clone())
    } else {
        Router::new()
    };
    Router::new()
        .merge(admission)
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(read)
        .merge(scan)
        .merge(admin)
        .merge(crate::console::router(state.clone()))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no such route; see /api/v1/openapi.json",
            )
        })
        .with_state(state)
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::DOCUMENT,
    )
        .into_response()
}

async fn readyz(State(state): State<AppState>) -> Response {
    // Probes wait about a second: a store that does not answer by then is not ready.
    let store = tokio::time::timeout(std::time::Duration::from_secs(1), state.store.ping()).await;
    let (code, store_state) = match store {
        Ok(Ok(())) => (StatusCode::OK, json!("ok")),
        Ok(Err(e)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!(format!("unavailable: {e}")),
        ),
        Err(_) => {
            let noted = state
                .health
                .lock()
                .expect("health lock")
                .store_error
                .clone();
            let why = noted.unwrap_or_else(|| "no answer within 1 s".into());
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!(format!("unavailable: {why}")),
            )
        }
    };
    let db = if state.db_path.exists() {
        "present"
    } else {
        "demo advisories (no database built)"
    };
    (
        code,
        Json(json!({
            "ready": code == StatusCode::OK,
            "store": store_state,
            "backend": state.store.backend().as_str(),
            "database": db,
        })),
    )
        .into_response()
}

async fn metrics(State(state): State<AppState>) -> ApiResult<Response> {
    let text = crate::metrics::render(&state)
        .await
        .map_err(ApiError::store)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
struct CreateScan {
    target: String,
    #[serde(default)]
    scanners: Vec<String>,
}

async fn create_scan(
    State(state): State<AppState>,
    Json(body): Json<CreateScan>,
) -> ApiResult<Response> {
    crate::targets::parse_target(&body.target)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e))?;
    crate::targets::parse_scanners(&body.scanners)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e))?;
    if state.config.skip_quay && crate::targets::is_quay(&body.target) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "quay.io images are not scanned here (DISABLE_QUAYIO_SCAN is set)",
        ));
    }
    let scan = state
        .store
        .enqueue(&NewScan {
            target: body.target.trim().to_string(),
            scanners: body.scanners,
            ..Default::default()
        })
        .await
        .map_err(ApiError::store)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "id": scan.id, "status": scan.status })),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
struct ListScans {
    status: Option<String>,
    target: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

fn scan_json(scan: &ScanRecord, result: Option<Value>) -> Value {
    let mut v = json!({
        "id": scan.id,
        "target": scan.target,
        "scanners": scan.scanners,
        "status": scan.status,
        "error": scan.error,
        "created_at": holdfast_store::rfc3339(scan.created_at),
        "started_at": scan.started_at.map(holdfast_store::rfc3339),
        "finished_at": scan.finished_at.map(holdfast_store::rfc3339),
        "attempts": scan.attempts,
        "retry_of": scan.retry_of,
        "schedule_id": scan.schedule_id,
        "duration_ms": scan.duration_ms,
    });
    if let Some(result) = result {
        v["result"] = result;
    }
    v
}

async fn list_scans(
    State(state): State<AppState>,
    Query(q): Query<ListScans>,
) -> ApiResult<Json<Value>> {
    let status = q
        .status
        .as_deref()
        .map(str::parse::<ScanStatus>)
        .transpose()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let scans = state
        .store
        .scans(&ScanFilter {
            status,
            target: q.target,
            limit: q.limit,
            offset: q.offset,
        })
        .await
        .map_err(ApiError::store)?;
    Ok(Json(
        json!({ "scans": scans.iter().map(|s| scan_json(s, None)).collect::<Vec<_>>() }),
    ))
}

/// A stored result with the exceptions in force moved to each target's `suppressed`.
async fn result_with_exceptions(state: &AppState, id: &str) -> ApiResult<Option<ScanResult>> {
    let exceptions = state
        .store
        .active_exceptions()
        .await
        .map_err(ApiError::store)?;
    crate::views::result_excepted(state, id, &exceptions).await
}

/// Moves the findings an exception covers to `suppressed`, saying which exception.
pub(crate) fn apply_exceptions(result: &mut ScanResult, exceptions: &[Exception]) {
    if exceptions.is_empty() {
        return;
    }
    for target in &mut result.targets {
        let name = target.name.clone();
        let (covered, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut target.findings)
            .into_iter()
            .partition(|f| {
                f.kind == FindingKind::Vulnerability
                    && exceptions
                        .iter()
                        .any(|e| e.covers(&f.id, &f.aliases, f.package.as_deref(), &name))
            });
        target.findings = kept;
        for mut f in covered {
            let e = exceptions
                .iter()
                .find(|e| e.covers(&f.id, &f.aliases, f.package.as_deref(), &name))
                .expect("partitioned on it");
            f.suppression = Some(SuppressionInfo {
                by: "exception".into(),
                source: Some(e.id.clone()),
                statement: Some(json!({
                    "reason": e.reason,
                    "owner": e.owner,
                    "expires_at": e.expires_at.map(holdfast_store::rfc3339),
                })),
            });
            target.suppressed.push(f);
        }
    }
    result.summary = holdfast_model::ScanSummary::of(&result.targets);
}

async fn get_scan(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let (scan, raw) = state
        .store
        .scan_with_result_json(&id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found("scan with this id"))?;
    if scan.status != ScanStatus::Finished {
        return Ok(Json(scan_json(&scan, Some(Value::Null))).into_response());
    }
    let exceptions = state
        .store
        .active_exceptions()
        .await
        .map_err(ApiError::store)?;
    if !exceptions.is_empty() {
        let result = result_with_exceptions(&state, &id).await?;
        let result = result.map(|r| serde_json::to_value(r).expect("a result serialises"));
        return Ok(Json(scan_json(&scan, Some(result.unwrap_or(Value::Null)))).into_response());
    }
    // No exception applies: the stored JSON goes out as it is, never parsed. This is the
    // hot read path (dashboards, CI polling): one query for the scan and its result.
    let raw = raw.unwrap_or_else(|| "null".into());
    let mut body = scan_json(&scan, None).to_string();
    body.pop(); // the closing brace
    body.push_str(",\"result\":");
    body.push_str(&raw);
    body.push('}');
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[derive(Debug, Deserialize)]
struct ReportQuery {
    format: Option<String>,
}

async fn finished_result(state: &AppState, id: &str) -> ApiResult<ScanResult> {
    let scan = state
        .store
        .scan(id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found("scan with this id"))?;
    if scan.status != ScanStatus::Finished {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("the scan is {}; it has no result", scan.status.as_str()),
        ));
    }
    result_with_exceptions(state, id)
        .await?
        .ok_or_else(|| ApiError::not_found("result for this scan"))
}

async fn scan_report(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    let name = q.format.unwrap_or_else(|| "json".into());
    let format: holdfast_report::Format = name
        .parse()
        .map_err(|e: String| ApiError::new(StatusCode::BAD_REQUEST, e))?;
    if matches!(format, holdfast_report::Format::Template) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "the template format is for the CLI",
        ));
    }
    let result = finished_result(&state, &id).await?;
    let body = render_report(result, format).await?;
    Ok(([(header::CONTENT_TYPE, content_type(format))], body).into_response())
}

/// A result in a report format, rendered off the async threads.
pub(crate) async fn render_report(
    result: ScanResult,
    format: holdfast_report::Format,
) -> ApiResult<Vec<u8>> {
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        holdfast_report::render(&result, format, &mut out, &Default::default()).map(|()| out)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .map_err(|e| ApiError::internal(e.to_string()))
}

/// The media type of a report format.
pub(crate) fn content_type(format: holdfast_report::Format) -> &'static str {
    match format {
        holdfast_report::Format::Html => "text/html; charset=utf-8",
        holdfast_report::Format::Table => "text/plain; charset=utf-8",
        holdfast_report::Format::Sarif => "application/sarif+json",
        holdfast_report::Format::CycloneDx => "application/vnd.cyclonedx+json",
        holdfast_report::Format::Spdx => "application/spdx+json",
        _ => "application/json",
    }
}

#[derive(Debug, Deserialize)]
struct VerdictQuery {
    /// The lowest severity that fails (default: every finding fails).
    severity: Option<String>,
    #[serde(default)]
    ignore_unfixed: bool,
}

async fn scan_verdict(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<VerdictQuery>,
) -> ApiResult<Json<Value>> {
    let result = finished_result(&state, &id).await?;
    // Without parameters the stored CI policy decides; parameters override it.
    let mut chosen = crate::edits::policy(&state, "ci").await?.policy;
    if q.ignore_unfixed {
        chosen.fixable_only = true;
    }
    if let Some(s) = q.severity {
        chosen.severity = s
            .parse()
            .map_err(|e: String| ApiError::new(StatusCode::BAD_REQUEST, e))?;
    }
    let policy = chosen.to_policy();
    let verdict = holdfast_policy::verdict(&policy, &result);
    Ok(Json(json!({
        "pass": !verdict.fails(),
        "deciders": verdict.deciders.iter().map(|d| json!({
            "target": d.target, "kind": d.kind.as_str(), "id": d.id,
            "severity": d.severity.as_str(), "package": d.package,
        })).collect::<Vec<_>>(),
    })))
}

async fn delete_scan(
    State(state): State<AppState>,
    Extension(Caller(caller)): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if !state
        .store
        .delete_scan(&id)
        .await
        .map_err(ApiError::store)?
    {
        return Err(ApiError::not_found("scan with this id"));
    }
    crate::edits::audit(&state, &caller.name, "scan.delete", json!({ "id": id })).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
struct ImagesQuery {
    kind: Option<String>,
}

async fn list_images(
    State(state): State<AppState>,
    Query(q): Query<ImagesQuery>,
) -> ApiResult<Json<Value>> {
    let targets = crate::views::latest_targets(&state, q.kind.as_deref(), None).await?;
    Ok(Json(json!({ "targets": targets })))
}

/// One image by its id (`sha256:...`) or its target name: layers, packages, findings of
/// its latest scan, exceptions applied.
async fn get_image(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (summary, target) = crate::views::image(&state, &id).await?;
    Ok(Json(json!({ "summary": summary, "target": target })))
}

async fn list_vulnerabilities(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let vulns = crate::views::vulnerabilities(&state).await?;
    Ok(Json(json!({ "vulnerabilities": vulns })))
}

async fn get_vulnerability(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let detail = crate::views::vulnerability(&state, &id).await?;
    if detail.affected.is_empty() {
        return Err(ApiError::not_found("stored finding of this advisory"));
    }
    Ok(Json(json!({
        "id": id,
        "severity": detail.severity,
        "title": detail.title,
        "affected": detail.affected,
        "exceptions": detail.exceptions,
    })))
}

/// `?regulation=` of the compliance views.
#[derive(Debug, Deserialize)]
pub(crate) struct RegulationQuery {
    pub(crate) regulation: Option<String>,
}

async fn list_compliance(
    State(state): State<AppState>,
    Query(q): Query<RegulationQuery>,
) -> ApiResult<Json<Value>> {
    let rows = state
        .store
        .latest_findings(&["compliance", "misconfiguration"], &[])
        .await
        .map_err(ApiError::store)?;
    let targets = crate::compliance::targets(&state, q.regulation.as_deref()).await?;
    Ok(Json(json!({ "results": rows, "targets": targets })))
}

async fn get_compliance_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<RegulationQuery>,
) -> ApiResult<Json<crate::compliance::ComplianceRun>> {
    Ok(Json(
        crate::compliance::run(&state, &id, q.regulation.as_deref()).await?,
    ))
}

async fn list_exceptions(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let all = state.store.exceptions().await.map_err(ApiError::store)?;
    let now = holdfast_store::now_ms();
    let out: Vec<Value> = all
        .iter()
        .map(|e| {
            let mut v = serde_json::to_value(e).expect("serialises");
            v["active"] = json!(e.active(now));
            v
        })
        .collect();
    Ok(Json(json!({ "exceptions": out })))
}

async fn create_exception(
    State(state): State<AppState>,
    Extension(Caller(caller)): Extension<Caller>,
    Json(body): Json<NewException>,
) -> ApiResult<Response> {
    let e = crate::edits::add_exception(&state, &caller.name, &body).await?;
    Ok((StatusCode::CREATED, Json(e)).into_response())
}

async fn delete_exception(
    State(state): State<AppState>,
    Extension(Caller(caller)): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    crate::edits::remove_exception(&state, &caller.name, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_policies(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({ "policies": crate::edits::policies(&state).await? }),
    ))
}

async fn get_policy(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<crate::edits::NamedPolicy>> {
    Ok(Json(crate::edits::policy(&state, &name).await?))
}

async fn put_policy(
    State(state): State<AppState>,
    Extension(Caller(caller)): Extension<Caller>,
    Path(name): Path<String>,
    Json(body): Json<crate::edits::VerdictPolicy>,
) -> ApiResult<Json<crate::edits::NamedPolicy>> {
    Ok(Json(
        crate::edits::save_policy(&state, &caller.name, &name, body).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct ImportQuery {
    /// The target the result is filed under (default: its first target's name).
    target: Option<String>,
}

/// Files a result made elsewhere (a CI job's JSON) as a finished scan, at the time the
/// result says it was made when that is in the past.
async fn import_result(
    State(state): State<AppState>,
    Query(q): Query<ImportQuery>,
    Json(result): Json<ScanResult>,
) -> ApiResult<Response> {
    let target = q
        .target
        .or_else(|| result.targets.first().map(|t| t.name.clone()))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the result has no targets and no ?target= names one",
            )
        })?;
    let now = holdfast_store::now_ms();
    let at = time::OffsetDateTime::parse(
        &result.created_at,
        &time::format_description::well_known::Rfc3339,
    )
    .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
    .ok()
    .filter(|t| *t <= now)
    .unwrap_or(now);
    let scan = state
        .store
        .import_result(&target, &result, at)
        .await
        .map_err(ApiError::store)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": scan.id, "status": scan.status, "finished_at": holdfast_store::rfc3339(at) })),
    )
        .into_response())
}

async fn list_schedules(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let all = state.store.schedules().await.map_err(ApiError::store)?;
    Ok(Json(json!({ "schedules": all })))
}

async fn upsert_schedule(
    State(state): State<AppState>,
    Extension(Caller(caller)): Extension<Caller>,
    Json(body): Json<NewSchedule>,
) -> ApiResult<Response> {
    let spec = crate::scheduler::parse_spec(&body.spec)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e))?;
    crate::targets::parse_target(&body.target)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e))?;
    crate::targets::parse_scanners(&body.scanners)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e))?;
    let now = holdfast_store::now_ms();
    let first = match spec {
        crate::ScheduleSpec::Every(_) => now,
        ref cron => crate::next_run(cron, now),
    };
    let s = state
        .store
        .upsert_schedule(&body, first)
        .await
        .map_err(ApiError::store)?;
    crate::edits::audit(
        &state,
        &caller.name,
        "schedule.upsert",
        serde_json::to_value(&s).expect("serialises"),
    )
    .await;
    Ok((StatusCode::CREATED, Json(s)).into_response())
}

async fn delete_schedule(
    State(state): State<AppState>,
    Extension(Caller(caller)): Extension<Caller>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    if !state
        .store
        .delete_schedule(&name)
        .await
        .map_err(ApiError::store)?
    {
        return Err(ApiError::not_found("schedule with this id or name"));
    }
    crate::edits::audit(
        &state,
        &caller.name,
        "schedule.delete",
        json!({ "schedule": name }),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

async fn audit_log(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let log = state.store.audit_log(200).await.map_err(ApiError::store)?;
    Ok(Json(json!({ "entries": log })))
}

async fn get_db(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    crate::dbserve::serve(state.db_path.clone(), headers).await
}

async fn rematch(
    State(state): State<AppState>,
    Extension(Caller(caller)): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    let n = crate::scheduler::reload_and_rematch(&state)
        .await
        .map_err(|e| ApiError::internal(format!("{e:#}")))?;
    crate::edits::audit(&state, &caller.name, "db.rematch", json!({ "results": n })).await;
    Ok(Json(json!({ "rematched": n })))
}

/// The latest full result of every scanned target, by target name. (Per pod once the
/// cluster scan stores pods.) Before the first scan finishes: 404 saying so.
async fn report(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let latest = state
        .store
        .latest_targets(None, None)
        .await
        .map_err(ApiError::store)?;
    if latest.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no scan has finished yet: the first scan is running or queued",
        ));
    }
    // Each stored result is read once, however many of its targets are latest (a
    // registry or cluster scan holds many), with the exceptions read once.
    let exceptions = crate::views::active_exceptions(&state).await?;
    let mut results: HashMap<String, Option<ScanResult>> = HashMap::new();
    for t in &latest {
        if !results.contains_key(&t.scan_id) {
            let result = crate::views::result_excepted(&state, &t.scan_id, &exceptions).await?;
            results.insert(t.scan_id.clone(), result);
        }
    }
    let mut out = BTreeMap::new();
    for t in &latest {
        let target = results
            .get(&t.scan_id)
            .and_then(Option::as_ref)
            .and_then(|r| r.targets.get(t.index as usize));
        if let Some(target) = target {
            out.insert(
                t.name.clone(),
                json!({ "scan_id": t.scan_id, "result": target }),
            );
        }
    }
    // Each pod of the latest cluster scans, with the full result of each of its images.
    let mut pods = BTreeMap::new();
    for scan in crate::pods::latest(&state).await? {
        if !results.contains_key(&scan.scan_id) {
            // A cluster scan none of whose images could be scanned has no latest target.
            let result = crate::views::result_excepted(&state, &scan.scan_id, &exceptions).await?;
            results.insert(scan.scan_id.clone(), result);
        }
        let Some(Some(result)) = results.get(&scan.scan_id) else {
            continue;
        };
        let context = &scan.cluster.context;
        for pod in &scan.cluster.pods {
            let images: Vec<Value> = pod
                .images
                .iter()
                .map(|i| {
                    let target = i
                        .target
                        .as_ref()
                        .and_then(|t| result.targets.iter().find(|r| &r.name == t));
                    json!({
                        "container": i.container, "reference": i.reference, "digest": i.digest,
                        "target": i.target, "result": target,
                    })
                })
                .collect();
            let key = if pods.contains_key(&format!("{}/{}", pod.namespace, pod.name)) {
                format!("{context}/{}/{}", pod.namespace, pod.name)
            } else {
                format!("{}/{}", pod.namespace, pod.name)
            };
            pods.insert(
                key,
                json!({
                    "cluster": context, "scan_id": scan.scan_id, "namespace": pod.namespace,
                    "name": pod.name, "owner": pod.owner, "is_public": pod.is_public,
                    "exposure": pod.exposure, "images": images,
                }),
            );
        }
    }
    Ok(Json(json!({ "targets": out, "pods": pods })))
}
