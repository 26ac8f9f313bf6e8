//! The console's pages. Each reads what the API reads (the store's views, with the
//! exceptions in force applied the same way), so the numbers on a page are the API's.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::Extension;

use holdfast_model::{DbDescription, FindingKind, Severity, TargetResult};
use holdfast_scan::OpenDb;
use holdfast_store::{severity_rank, NewException, ScanFilter, ScanStatus, TargetSummary};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::table::{columns, paginate, ListQuery};
use super::{render, PageError, PageResult, Viewer};
use crate::AppState;

/// A path segment with everything but unreserved characters percent-encoded, so a name
/// with `/` stays one segment.
pub(crate) fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where a target's page is: by image id when it has one, else by name.
fn image_href(image_id: Option<&str>, name: &str) -> String {
    format!("/images/{}", segment(image_id.unwrap_or(name)))
}

/// How risky a target is, to order the overview: severities weighted (critical 10, high
/// 5, medium 2, low 1), half as much again when fixes exist (the risk is actionable), and
/// doubled when a pod the internet reaches runs it (from the latest cluster scans).
pub(crate) fn risk_score(t: &TargetSummary, exposed: bool) -> i64 {
    let c = &t.counts;
    holdfast_model::risk_score(c.critical, c.high, c.medium, c.low, t.fixable > 0, exposed)
}

/// A target as a row of a page.
#[derive(Debug, Serialize)]
struct TargetRow {
    #[serde(flatten)]
    summary: TargetSummary,
    href: String,
    risk: i64,
}

/// `exposed`: the (scan id, target name) pairs that public pods run.
fn rows(targets: Vec<TargetSummary>, exposed: &HashSet<(String, String)>) -> Vec<TargetRow> {
    targets
        .into_iter()
        .map(|t| TargetRow {
            href: image_href(t.image_id.as_deref(), &t.name),
            risk: risk_score(&t, exposed.contains(&(t.scan_id.clone(), t.name.clone()))),
            summary: t,
        })
        .collect()
}

/// A pod as a row of the workloads page.
#[derive(Debug, Serialize)]
struct PodRow {
    cluster: String,
    namespace: String,
    name: String,
    owner: Option<String>,
    /// (reference, page of its target) of each image.
    images: Vec<(String, Option<String>)>,
    is_public: bool,
    exposure: String,
    critical: i64,
    high: i64,
    medium: i64,
    low: i64,
}

/// The pods of the latest cluster scans, with the counts of their images' targets
/// (each distinct target once per pod), worst first.
fn pod_rows(clusters: &[crate::pods::ClusterScan], targets: &[TargetSummary]) -> Vec<PodRow> {
    let by_key: BTreeMap<(&str, &str), &TargetSummary> = targets
        .iter()
        .map(|t| ((t.scan_id.as_str(), t.name.as_str()), t))
        .collect();
    let mut out = Vec::new();
    for c in clusters {
        for pod in &c.cluster.pods {
            let mut row = PodRow {
                cluster: c.cluster.context.clone(),
                namespace: pod.namespace.clone(),
                name: pod.name.clone(),
                owner: pod.owner.as_ref().map(|o| format!("{}/{}", o.kind, o.name)),
                images: Vec::new(),
                is_public: pod.is_public,
                exposure: pod.exposure.join("; "),
                critical: 0,
                high: 0,
                medium: 0,
                low: 0,
            };
            let mut counted = HashSet::new();
            for i in &pod.images {
                let found = i
                    .target
                    .as_deref()
                    .and_then(|t| by_key.get(&(c.scan_id.as_str(), t)));
                row.images.push((
                    i.reference.clone(),
                    found.map(|t| image_href(t.image_id.as_deref(), &t.name)),
                ));
                if let Some(t) = found {
                    if counted.insert(t.name.as_str()) {
                        row.critical += t.counts.critical;
                        row.high += t.counts.high;
                        row.medium += t.counts.medium;
                        row.low += t.counts.low;
                    }
                }
            }
            out.push(row);
        }
    }
    out.sort_by(|a, b| {
        (b.is_public, b.critical, b.high)
            .cmp(&(a.is_public, a.critical, a.high))
            .then_with(|| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)))
    });
    out
}

/// Counts of one class of targets.
#[derive(Debug, Default, Serialize)]
struct ClassCounts {
    label: &'static str,
    href: &'static str,
    targets: i64,
    critical: i64,
    high: i64,
    medium: i64,
    low: i64,
    note: Option<&'static str>,
}

fn class_of(kind: &str) -> usize {
    match kind {
        "image" => 0,
        "container" => 1,
        _ => 3,
    }
}

/// The vulnerability database, opened (or taken from the handle) off the async threads.
async fn open_db(state: &AppState) -> Result<Arc<OpenDb>, String> {
    let db = state.db.clone();
    match tokio::task::spawn_blocking(move || db.get(&holdfast_scan::NoProgress)).await {
        Ok(opened) => opened.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// What the overview says of the database.
#[derive(Debug, Serialize)]
struct DbState {
    #[serde(flatten)]
    description: Option<DbDescription>,
    age_days: Option<i64>,
    error: Option<String>,
}

async fn db_state(state: &AppState) -> DbState {
    match open_db(state).await {
        Ok(open) => DbState {
            description: Some(open.description().clone()),
            age_days: open.age_days(),
            error: None,
        },
        Err(e) => DbState {
            description: None,
            age_days: None,
            error: Some(e),
        },
    }
}

/// `/`: counts by class, the riskiest targets, the database's age, the last scans.
pub async fn overview(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> PageResult {
    let targets = crate::views::latest_targets(&state, None, None).await?;
    let clusters = crate::pods::latest(&state).await?;
    let pods = pod_rows(&clusters, &targets);
    let mut classes = [
        ClassCounts {
            label: "Images",
            href: "/images?kind=image",
            ..Default::default()
        },
        ClassCounts {
            label: "Running containers",
            href: "/workloads",
            ..Default::default()
        },
        ClassCounts {
            label: "Pods",
            href: "/workloads",
            note: Some("from cluster scans"),
            ..Default::default()
        },
        ClassCounts {
            label: "Hosts",
            href: "/images?kind=rootfs",
            ..Default::default()
        },
    ];
    for t in &targets {
        let c = &mut classes[class_of(&t.kind)];
        c.targets += 1;
        c.critical += t.counts.critical;
        c.high += t.counts.high;
        c.medium += t.counts.medium;
        c.low += t.counts.low;
    }
    let c = &mut classes[2];
    for p in &pods {
        c.targets += 1;
        c.critical += p.critical;
        c.high += p.high;
        c.medium += p.medium;
        c.low += p.low;
    }
    let exposed = crate::pods::exposed_targets(&clusters);
    let mut risky = rows(targets, &exposed);
    risky.retain(|r| r.risk > 0);
    risky.sort_by(|a, b| {
        b.risk
            .cmp(&a.risk)
            .then(a.summary.name.cmp(&b.summary.name))
    });
    risky.truncate(10);
    let recent = state
        .store
        .scans(&ScanFilter {
            limit: Some(10),
            ..Default::default()
        })
        .await
        .map_err(crate::api::ApiError::store)?;
    let failed = state
        .store
        .scans(&ScanFilter {
            status: Some(ScanStatus::Failed),
            limit: Some(10),
            ..Default::default()
        })
        .await
        .map_err(crate::api::ApiError::store)?;
    let db = db_state(&state).await;
    Ok(render(
        "overview.html",
        context! {
            viewer, nav => "overview", classes, risky, recent, failed, db,
        },
    ))
}

fn filter_targets(targets: Vec<TargetSummary>, q: &ListQuery) -> Vec<TargetSummary> {
    let needle = q.needle();
    let min = q.min_rank();
    targets
        .into_iter()
        .filter(|t| {
            needle.as_ref().is_none_or(|n| {
                t.name.to_lowercase().contains(n)
                    || t.target.to_lowercase().contains(n)
                    || t.image_id
                        .as_deref()
                        .is_some_and(|i| i.contains(n.as_str()))
            })
        })
        .filter(|t| {
            let c = &t.counts;
            let at_least = [(4, c.critical), (3, c.high), (2, c.medium), (1, c.low)];
            min == 0 || at_least.iter().any(|(rank, n)| *rank >= min && *n > 0)
        })
        .filter(|t| !q.fixable_only() || t.fixable > 0)
        .collect()
}

/// Workloads show these after the name, then the other target columns.
const WORKLOAD_EXTRA: &[(&str, &str, bool)] =
    &[("", "Namespace", false), ("image", "Image", false)];

const TARGET_COLUMNS: &[(&str, &str, bool)] = &[
    ("name", "Name", false),
    ("os", "OS", false),
    ("packages", "Packages", true),
    ("critical", "Critical", true),
    ("high", "High", true),
    ("medium", "Medium", true),
    ("low", "Low", true),
    ("fixable", "Fixable", true),
    ("scanned", "Scanned", true),
];

fn workload_columns() -> Vec<(&'static str, &'static str, bool)> {
    let mut cols = vec![TARGET_COLUMNS[0]];
    cols.extend_from_slice(WORKLOAD_EXTRA);
    cols.extend_from_slice(&TARGET_COLUMNS[1..]);
    cols
}

fn sort_targets(rows: &mut [TargetRow], key: &str, desc: bool) {
    rows.sort_by(|a, b| {
        let (a, b) = (&a.summary, &b.summary);
        let o = match key {
            "name" => a.name.cmp(&b.name),
            "os" => a.os.cmp(&b.os),
            "image" => a.image_id.cmp(&b.image_id),
            "packages" => a.packages.cmp(&b.packages),
            "high" => a.counts.high.cmp(&b.counts.high),
            "medium" => a.counts.medium.cmp(&b.counts.medium),
            "low" => a.counts.low.cmp(&b.counts.low),
            "fixable" => a.fixable.cmp(&b.fixable),
            "scanned" => a.finished_at.cmp(&b.finished_at),
            _ => (a.counts.critical, a.counts.high).cmp(&(b.counts.critical, b.counts.high)),
        };
        let o = if desc { o.reverse() } else { o };
        o.then_with(|| a.name.cmp(&b.name))
    });
}

#[allow(clippy::too_many_arguments)]
async fn target_list(
    state: &AppState,
    viewer: Viewer,
    q: ListQuery,
    kinds: &[&str],
    spec: &[(&'static str, &'static str, bool)],
    path: &str,
    template: &str,
    nav: &str,
) -> PageResult {
    let all = crate::views::latest_targets(state, None, None).await?;
    let clusters = crate::pods::latest(state).await?;
    let exposed = crate::pods::exposed_targets(&clusters);
    let pods = if nav == "workloads" {
        pod_rows(&clusters, &all)
    } else {
        Vec::new()
    };
    let all: Vec<TargetSummary> = all
        .into_iter()
        .filter(|t| kinds.contains(&t.kind.as_str()))
        .filter(|t| q.kind.is_empty() || t.kind == q.kind)
        .collect();
    let mut list = rows(filter_targets(all, &q), &exposed);
    let key = if q.sort.is_empty() {
        "critical"
    } else {
        q.sort.as_str()
    };
    let desc = q.descending(!matches!(key, "name" | "os" | "image"));
    sort_targets(&mut list, key, desc);
    let cols = columns(&q, path, key, desc, spec);
    let page = paginate(list, &q, path);
    Ok(render(
        template,
        context! { viewer, nav, page, cols, q => query_context(&q), path, pods },
    ))
}

/// What the filter form shows.
fn query_context(q: &ListQuery) -> minijinja::Value {
    context! {
        q => q.q, severity => q.severity.to_ascii_uppercase(), fixable => q.fixable_only(),
        kind => q.kind, sort => q.sort, dir => q.dir,
    }
}

/// `/workloads`: every running container (and, with cluster scans, pod).
pub async fn workloads(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    target_list(
        &state,
        viewer,
        q,
        &["container"],
        &workload_columns(),
        "/workloads",
        "workloads.html",
        "workloads",
    )
    .await
}

/// `/images`: every image and host filesystem.
pub async fn images(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    target_list(
        &state,
        viewer,
        q,
        &["image", "rootfs"],
        TARGET_COLUMNS,
        "/images",
        "images.html",
        "images",
    )
    .await
}

/// Vulnerabilities of one package version in one image, grouped.
#[derive(Debug, Serialize)]
struct PackageGroup {
    package: String,
    installed: String,
    fixed: Vec<String>,
    severity: Severity,
    advisories: Vec<(String, String, String)>,
}

#[derive(Debug, Serialize)]
struct LayerRow {
    index: usize,
    digest: String,
    created_by: String,
    size: Option<u64>,
    packages: Vec<String>,
}

fn layer_rows(target: &TargetResult) -> Vec<LayerRow> {
    target
        .layers
        .iter()
        .enumerate()
        .map(|(index, l)| {
            let ids: Vec<&str> = [l.diff_id.as_deref(), l.digest.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            let mut packages: Vec<String> = target
                .packages
                .iter()
                .filter(|p| p.layer.as_deref().is_some_and(|pl| ids.contains(&pl)))
                .map(|p| format!("{} {}", p.name, p.version))
                .collect();
            packages.sort();
            LayerRow {
                index: index + 1,
                digest: l
                    .diff_id
                    .clone()
                    .or_else(|| l.digest.clone())
                    .unwrap_or_default(),
                created_by: l.created_by.clone().unwrap_or_default(),
                size: l.size,
                packages,
            }
        })
        .collect()
}

fn package_groups(target: &TargetResult, q: &ListQuery) -> Vec<PackageGroup> {
    let needle = q.needle();
    let min = q.min_rank();
    let mut groups: BTreeMap<(String, String), PackageGroup> = BTreeMap::new();
    for f in target
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Vulnerability)
    {
        if severity_rank(f.severity.as_str()) < min
            || (q.fixable_only() && f.fixed_version.is_none())
        {
            continue;
        }
        let package = f.package.clone().unwrap_or_default();
        if let Some(n) = &needle {
            if !package.to_lowercase().contains(n.as_str())
                && !f.id.to_lowercase().contains(n.as_str())
            {
                continue;
            }
        }
        let installed = f.installed_version.clone().unwrap_or_default();
        let g = groups
            .entry((package.clone(), installed.clone()))
            .or_insert_with(|| PackageGroup {
                package,
                installed,
                fixed: Vec::new(),
                severity: Severity::Unknown,
                advisories: Vec::new(),
            });
        g.severity = g.severity.max(f.severity);
        if let Some(fix) = &f.fixed_version {
            if !g.fixed.contains(fix) {
                g.fixed.push(fix.clone());
            }
        }
        g.advisories.push((
            f.id.clone(),
            f.severity.as_str().to_string(),
            format!("/vulnerabilities/{}", segment(&f.id)),
        ));
    }
    let mut out: Vec<PackageGroup> = groups.into_values().collect();
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.advisories.len().cmp(&a.advisories.len()))
            .then(a.package.cmp(&b.package))
    });
    out
}

/// `/images/{id}`: layers, the packages each added, findings by package, everything else
/// found, compliance, and downloads.
pub async fn image(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let (summary, target) = match crate::views::image(&state, &id).await {
        Ok(found) => found,
        Err(e) if e.status() == StatusCode::NOT_FOUND => {
            return Err(PageError::not_found(
                "scanned image, container or host by this id or name",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let layers = layer_rows(&target);
    let path = format!("/images/{}", segment(&id));
    let groups = paginate(package_groups(&target, &q), &q, &path);
    let is_compliance =
        |k: FindingKind| matches!(k, FindingKind::Misconfiguration | FindingKind::Compliance);
    let (compliance, other): (Vec<_>, Vec<_>) = target
        .findings
        .iter()
        .filter(|f| f.kind != FindingKind::Vulnerability)
        .partition(|f| is_compliance(f.kind));
    let downloads: Vec<(&str, &str)> = vec![
        ("cyclonedx", "CycloneDX SBOM"),
        ("spdx", "SPDX SBOM"),
        ("sarif", "SARIF"),
        ("json", "JSON result"),
        ("html", "HTML report"),
    ];
    Ok(render(
        "image.html",
        context! {
            viewer, nav => "images", summary, target, layers, groups, other, compliance,
            suppressed => target.suppressed, downloads, path, q => query_context(&q),
            self_href => segment(&id),
        },
    ))
}

/// `?format=` of a download.
#[derive(Debug, Deserialize)]
pub struct DownloadQuery {
    format: String,
}

/// `/images/{id}/download?format=`: the target's own result in a report format.
pub async fn image_download(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DownloadQuery>,
) -> PageResult {
    let format: holdfast_report::Format = q
        .format
        .parse()
        .map_err(|e: String| PageError::new(StatusCode::BAD_REQUEST, e))?;
    let ext = match format {
        holdfast_report::Format::CycloneDx => "cdx.json",
        holdfast_report::Format::Spdx => "spdx.json",
        holdfast_report::Format::Sarif => "sarif",
        holdfast_report::Format::Json => "json",
        holdfast_report::Format::Html => "html",
        _ => {
            return Err(PageError::new(
                StatusCode::BAD_REQUEST,
                "downloads are cyclonedx, spdx, sarif, json or html",
            ))
        }
    };
    let (summary, mut result) = crate::views::image_result(&state, &id).await?;
    result.targets = vec![result.targets.swap_remove(summary.index as usize)];
    result.summary = holdfast_model::ScanSummary::of(&result.targets);
    let body = crate::api::render_report(result, format).await?;
    let name: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (
                header::CONTENT_TYPE,
                crate::api::content_type(format).to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.{ext}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        body,
    )
        .into_response())
}

const VULN_COLUMNS: &[(&str, &str, bool)] = &[
    ("id", "Advisory", false),
    ("severity", "Severity", true),
    ("", "Title", false),
    ("", "Packages", false),
    ("targets", "Affected", true),
    ("", "Fixed in", false),
];

/// `/vulnerabilities`: every advisory the latest scans report, once.
pub async fn vulnerabilities(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let all = crate::views::vulnerabilities(&state).await?;
    let needle = q.needle();
    let min = q.min_rank();
    let mut list: Vec<_> = all
        .into_iter()
        .filter(|v| severity_rank(&v.severity) >= min)
        .filter(|v| !q.fixable_only() || !v.fixed_versions.is_empty())
        .filter(|v| {
            needle.as_ref().is_none_or(|n| {
                v.id.to_lowercase().contains(n.as_str())
                    || v.title.to_lowercase().contains(n.as_str())
                    || v.packages
                        .iter()
                        .any(|p| p.to_lowercase().contains(n.as_str()))
            })
        })
        .collect();
    let key = if q.sort.is_empty() {
        "severity"
    } else {
        q.sort.as_str()
    };
    let desc = q.descending(key != "id");
    list.sort_by(|a, b| {
        let o = match key {
            "id" => a.id.cmp(&b.id),
            "targets" => a.targets.cmp(&b.targets),
            _ => severity_rank(&a.severity)
                .cmp(&severity_rank(&b.severity))
                .then(a.targets.cmp(&b.targets)),
        };
        let o = if desc { o.reverse() } else { o };
        o.then_with(|| a.id.cmp(&b.id))
    });
    let cols = columns(&q, "/vulnerabilities", key, desc, VULN_COLUMNS);
    let page = paginate(list, &q, "/vulnerabilities");
    Ok(render(
        "vulnerabilities.html",
        context! {
            viewer, nav => "vulnerabilities", page, cols, q => query_context(&q),
            path => "/vulnerabilities",
        },
    ))
}

/// `/vulnerabilities/{id}`: the advisory, where it is, what excepts it.
pub async fn vulnerability(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> PageResult {
    let advisory = match open_db(&state).await {
        Ok(open) => {
            let lookup = id.clone();
            tokio::task::spawn_blocking(move || open.db().advisory(&lookup).ok().flatten())
                .await
                .ok()
                .flatten()
        }
        Err(_) => None,
    };
    let detail = crate::views::vulnerability(&state, &id).await?;
    if detail.affected.is_empty() && advisory.is_none() {
        return Err(PageError::not_found(
            "advisory by this id in the database or in stored scans",
        ));
    }
    let affected: Vec<_> = detail
        .affected
        .iter()
        .map(|a| {
            context! {
                row => a.row,
                exception => a.exception,
                href => image_href(a.row.image_id.as_deref(), &a.row.target),
            }
        })
        .collect();
    let references: Vec<(String, bool)> = advisory
        .as_ref()
        .map(|a| {
            a.references
                .iter()
                .map(|r| {
                    (
                        r.clone(),
                        r.starts_with("https://") || r.starts_with("http://"),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(render(
        "vulnerability.html",
        context! {
            viewer, nav => "vulnerabilities", id, advisory, references, affected,
            severity => detail.severity, title => detail.title,
            exceptions => detail.exceptions,
            back => format!("/vulnerabilities/{}", segment(&id)),
        },
    ))
}

/// `/trends`: critical and high per day over 30 days.
pub async fn trends(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> PageResult {
    let days = state
        .store
        .trends(30, holdfast_store::now_ms())
        .await
        .map_err(crate::api::ApiError::store)?;
    let panels = super::trends::panels(&days);
    let table: Vec<_> = days
        .iter()
        .map(|d| {
            context! {
                day => holdfast_store::rfc3339(d.day)[..10].to_string(),
                images => d.images, containers => d.containers, hosts => d.hosts,
            }
        })
        .collect();
    Ok(render(
        "trends.html",
        context! { viewer, nav => "trends", panels, table, first => table.first(), last => table.last() },
    ))
}

/// `/policy`: the verdict policies, the exceptions, and (for admins) the audit log.
pub async fn policy(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> PageResult {
    let policies = crate::edits::policies(&state).await?;
    let now = holdfast_store::now_ms();
    let exceptions: Vec<_> = state
        .store
        .exceptions()
        .await
        .map_err(crate::api::ApiError::store)?
        .into_iter()
        .map(|e| context! { active => e.active(now), e })
        .collect();
    let audit = if viewer.can_edit {
        state
            .store
            .audit_log(50)
            .await
            .map_err(crate::api::ApiError::store)?
    } else {
        Vec::new()
    };
    let severities: Vec<&str> = holdfast_model::Severity::ALL
        .into_iter()
        .rev()
        .map(|s| s.as_str())
        .collect();
    Ok(render(
        "policy.html",
        context! { viewer, nav => "policy", policies, exceptions, audit, severities },
    ))
}

/// The policy form's fields.
#[derive(Debug, Deserialize)]
pub struct PolicyForm {
    csrf: String,
    severity: String,
    #[serde(default)]
    fixable_only: Option<String>,
    #[serde(default)]
    max_image_age_days: String,
}

/// Saves a verdict policy from its form.
pub async fn save_policy(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(name): Path<String>,
    Form(form): Form<PolicyForm>,
) -> PageResult {
    viewer.check_edit(&form.csrf)?;
    let severity = form
        .severity
        .parse()
        .map_err(|e: String| PageError::new(StatusCode::UNPROCESSABLE_ENTITY, e))?;
    let age = form.max_image_age_days.trim();
    let max_image_age_days = if age.is_empty() {
        None
    } else {
        Some(age.parse::<u32>().map_err(|_| {
            PageError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the image age must be a number of days, not {age:?}"),
            )
        })?)
    };
    let policy = crate::edits::VerdictPolicy {
        severity,
        fixable_only: form.fixable_only.is_some(),
        max_image_age_days,
    };
    crate::edits::save_policy(&state, &viewer.name, &name, policy).await?;
    Ok(Redirect::to(&format!("/policy#policy-{}", segment(&name))).into_response())
}

/// The exception form's fields.
#[derive(Debug, Deserialize)]
pub struct ExceptionForm {
    csrf: String,
    advisory: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    package: String,
    reason: String,
    owner: String,
    /// `YYYY-MM-DD`: in force through that day (UTC).
    #[serde(default)]
    expires: String,
    #[serde(default)]
    back: String,
}

fn back_to(back: &str) -> String {
    if back.is_empty() {
        "/policy".into()
    } else {
        super::session::safe_next(Some(back))
    }
}

fn optional(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// Adds an exception from its form.
pub async fn add_exception(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Form(form): Form<ExceptionForm>,
) -> PageResult {
    viewer.check_edit(&form.csrf)?;
    let expires_at = match optional(&form.expires) {
        None => None,
        Some(day) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let date = time::Date::parse(&day, &format).map_err(|_| {
                PageError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("the expiry must be a date as YYYY-MM-DD, not {day:?}"),
                )
            })?;
            let end = date.midnight().assume_utc().unix_timestamp() * 1000 + 86_400_000;
            Some(end)
        }
    };
    let new = NewException {
        advisory: form.advisory.trim().to_string(),
        target: optional(&form.target),
        package: optional(&form.package),
        reason: form.reason.trim().to_string(),
        owner: form.owner.trim().to_string(),
        expires_at,
    };
    crate::edits::add_exception(&state, &viewer.name, &new).await?;
    Ok(Redirect::to(&back_to(&form.back)).into_response())
}

/// The delete form's fields.
#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    csrf: String,
    #[serde(default)]
    back: String,
}

/// Removes an exception.
pub async fn remove_exception(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Form(form): Form<DeleteForm>,
) -> PageResult {
    viewer.check_edit(&form.csrf)?;
    crate::edits::remove_exception(&state, &viewer.name, &id).await?;
    Ok(Redirect::to(&back_to(&form.back)).into_response())
}

/// The regulations the compliance pages filter by: (tag, label).
const REGULATIONS: &[(&str, &str)] = &[
    ("pci-dss", "PCI DSS"),
    ("gdpr", "GDPR"),
    ("hipaa", "HIPAA"),
    ("nist-800-190", "NIST SP 800-190"),
];

/// `?regulation=` of the compliance pages; an empty value is none.
fn regulation(q: &crate::api::RegulationQuery) -> Result<Option<&str>, PageError> {
    match q.regulation.as_deref().filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) if REGULATIONS.iter().any(|(tag, _)| *tag == r) => Ok(Some(r)),
        Some(r) => Err(PageError::new(
            StatusCode::BAD_REQUEST,
            format!("unknown regulation `{r}`: expected pci-dss, gdpr, hipaa or nist-800-190"),
        )),
    }
}

/// `/compliance`: every compliance target's latest run, its status, counts and changes.
pub async fn compliance(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Query(q): Query<crate::api::RegulationQuery>,
) -> PageResult {
    let regulation = regulation(&q)?;
    let targets = crate::compliance::targets(&state, regulation).await?;
    Ok(render(
        "compliance.html",
        context! { viewer, nav => "compliance", targets, regulation, regulations => REGULATIONS },
    ))
}

/// `/compliance/runs/{id}`: one run's checks by section, and what changed since the run
/// before it.
pub async fn compliance_run(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Query(q): Query<crate::api::RegulationQuery>,
) -> PageResult {
    let regulation = regulation(&q)?;
    let run = match crate::compliance::run(&state, &id, regulation).await {
        Ok(run) => run,
        Err(e) if e.status() == StatusCode::NOT_FOUND => {
            return Err(PageError::not_found("finished compliance run by this id"))
        }
        Err(e) => return Err(e.into()),
    };
    let several_targets = run
        .sections
        .iter()
        .any(|(target, _, _)| *target != run.sections[0].0);
    Ok(render(
        "compliance_run.html",
        context! {
            viewer, nav => "compliance", run, regulation, regulations => REGULATIONS,
            several_targets, path => format!("/compliance/runs/{}", segment(&id)),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_slashes_stay_one_segment() {
        assert_eq!(segment("sha256:ab12"), "sha256:ab12");
        assert_eq!(segment("fixtures/demo.tar"), "fixtures%2Fdemo.tar");
        assert_eq!(segment("a b<"), "a%20b%3C");
    }

    #[test]
    fn fixes_and_exposure_raise_the_risk() {
        let mut t = TargetSummary {
            scan_id: "s".into(),
            index: 0,
            target: "t".into(),
            name: "n".into(),
            kind: "image".into(),
            image_id: None,
            os: None,
            packages: 1,
            counts: holdfast_store::SeverityCounts {
                critical: 1,
                high: 2,
                medium: 0,
                low: 1,
                unknown: 0,
            },
            fixable: 0,
            finished_at: 0,
        };
        assert_eq!(risk_score(&t, false), 21);
        t.fixable = 1;
        assert_eq!(risk_score(&t, false), 31);
        assert_eq!(risk_score(&t, true), 62);
    }
}
