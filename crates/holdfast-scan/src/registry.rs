//! Scanning a whole registry: list, select, scan images concurrently on one connection,
//! and sum the outcome up, worst images first.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use globset::{Glob, GlobSet, GlobSetBuilder};
use holdfast_model::{
    error_chain, FailedImage, ImageFindings, RegistrySummary, ScanSummary, Severity, TargetResult,
    WarningKind,
};
use holdfast_source::registry::{
    list_repositories, list_tags, parse_reference, RegistryConnection,
};
use holdfast_source::{RegistrySource, Source, SourceError};

use crate::progress::{ProgressSink, ScanEvent};
use crate::target::{Plan, Scanned};
use crate::{RegistrySelection, ScanError};

/// What a registry scan produced: one result per image scanned (wholly or not), and the
/// summary.
pub(crate) struct RegistryOutcome {
    pub targets: Vec<TargetResult>,
    /// The database the images were matched against, when one was.
    pub db: Option<holdfast_model::DbDescription>,
    pub summary: RegistrySummary,
}

fn globs(patterns: &[String], flag: &'static str) -> Result<Option<GlobSet>, ScanError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p).map_err(|source| ScanError::BadGlob {
            flag,
            pattern: p.clone(),
            source,
        })?);
    }
    b.build().map(Some).map_err(|source| ScanError::BadGlob {
        flag,
        pattern: patterns.join(","),
        source,
    })
}

/// Lists, selects and scans the images of one registry.
pub(crate) fn scan_registry(
    plan: &Plan<'_>,
    sel: &RegistrySelection,
    progress: &dyn ProgressSink,
) -> Result<RegistryOutcome, ScanError> {
    let host = sel.host.as_str();
    let request = plan.request;
    let repo_globs = globs(&sel.repos, "--repo")?;
    let tag_globs = globs(&sel.tags, "--tag")?;
    let exclude = globs(&sel.exclude, "--exclude")?;
    let conn =
        RegistryConnection::new(host, &request.open.registry).map_err(ScanError::Registry)?;
    let mut failed: Vec<FailedImage> = Vec::new();

    let repos: Vec<String> = list_repositories(&conn)
        .map_err(ScanError::Registry)?
        .into_iter()
        .filter(|r| repo_globs.as_ref().is_none_or(|g| g.is_match(r)))
        .filter(|r| !exclude.as_ref().is_some_and(|g| g.is_match(r)))
        .collect();
    let mut picks = Vec::new();
    for repo in &repos {
        request.cancel.check()?;
        let tags = match list_tags(&conn, repo) {
            Ok(t) => t,
            Err(e) => {
                failed.push(FailedImage {
                    image: format!("{host}/{repo}"),
                    error: e.to_string(),
                });
                continue;
            }
        };
        let mut tags: Vec<String> = tags
            .into_iter()
            .filter(|t| tag_globs.as_ref().is_none_or(|g| g.is_match(t)))
            .filter(|t| {
                !exclude
                    .as_ref()
                    .is_some_and(|g| g.is_match(format!("{repo}:{t}")))
            })
            .collect();
        if let Some(n) = sel.newest {
            tags = newest_tags(&conn, plan, host, repo, tags, n, &mut failed);
        }
        picks.extend(tags.into_iter().map(|t| format!("{host}/{repo}:{t}")));
    }
    if let Some(max) = sel.max_images {
        picks.truncate(max);
    }
    if picks.is_empty() {
        return Err(ScanError::NoImages {
            host: host.to_string(),
            repositories: repos.len(),
            unreadable: failed.len(),
        });
    }
    progress.event(&ScanEvent::RegistrySelected {
        registry: host,
        images: picks.len(),
    });

    let outcomes = scan_all(&conn, plan, &picks, sel.parallel, progress);
    let mut targets = Vec::new();
    let mut scanned = 0;
    for (image, outcome) in picks.iter().zip(outcomes) {
        match outcome {
            Ok(done) => {
                match incomplete(&done.0) {
                    Some(reason) => failed.push(FailedImage {
                        image: image.clone(),
                        error: reason,
                    }),
                    None => scanned += 1,
                }
                targets.push(done);
            }
            // Cancellation stops the whole request, not one image.
            Err(e @ (ScanError::Cancelled | ScanError::DeadlineExceeded)) => return Err(e),
            Err(e) => failed.push(FailedImage {
                image: image.clone(),
                error: error_chain(&e),
            }),
        }
    }
    let (results, dbs): (Vec<TargetResult>, Vec<_>) = targets.into_iter().unzip();
    let summary = summarize(host, repos.len(), picks.len(), scanned, failed, &results);
    Ok(RegistryOutcome {
        targets: results,
        db: dbs.into_iter().flatten().next(),
        summary,
    })
}

/// Scans the picks with `parallel` threads; outcomes come back in pick order.
fn scan_all(
    conn: &Arc<RegistryConnection>,
    plan: &Plan<'_>,
    picks: &[String],
    parallel: usize,
    progress: &dyn ProgressSink,
) -> Vec<Result<Scanned, ScanError>> {
    scan_each(plan, picks, parallel, progress, String::as_str, |image| {
        scan_one(conn, plan, image, progress)
    })
}

/// Scans `items` with `parallel` threads, each announced under `name(item)`; outcomes
/// come back in order. Shared by registry and cluster scans.
pub(crate) fn scan_each<T: Sync>(
    plan: &Plan<'_>,
    items: &[T],
    parallel: usize,
    progress: &dyn ProgressSink,
    name: impl Fn(&T) -> &str + Sync,
    scan: impl Fn(&T) -> Result<Scanned, ScanError> + Sync,
) -> Vec<Result<Scanned, ScanError>> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Result<Scanned, ScanError>>>> =
        Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..parallel.clamp(1, items.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let label = name(item);
                let outcome = plan.request.cancel.check().and_then(|()| {
                    progress.event(&ScanEvent::TargetStarted { name: label });
                    scan(item)
                });
                if let Err(error) = &outcome {
                    progress.event(&ScanEvent::TargetFailed { name: label, error });
                }
                slots.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(outcome);
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|o| o.unwrap_or(Err(ScanError::Cancelled)))
        .collect()
}

fn scan_one(
    conn: &Arc<RegistryConnection>,
    plan: &Plan<'_>,
    image: &str,
    progress: &dyn ProgressSink,
) -> Result<Scanned, ScanError> {
    let source = open_image(conn, plan, image).map_err(|source| ScanError::Open {
        target: image.to_string(),
        source,
    })?;
    plan.scan_source(&source, progress, true)
}

/// Opens `host/repo:tag` on the shared connection, with the request's platform and
/// limits.
fn open_image(
    conn: &Arc<RegistryConnection>,
    plan: &Plan<'_>,
    image: &str,
) -> Result<RegistrySource, SourceError> {
    let reference = parse_reference(image)?;
    let open = &plan.request.open;
    RegistrySource::open_on(
        conn.clone(),
        &reference,
        image,
        open.platform.as_ref(),
        open.limits,
    )
}

/// Keeps the `n` tags whose images were created last (by the config's `created`).
fn newest_tags(
    conn: &Arc<RegistryConnection>,
    plan: &Plan<'_>,
    host: &str,
    repo: &str,
    tags: Vec<String>,
    n: usize,
    failed: &mut Vec<FailedImage>,
) -> Vec<String> {
    let mut dated = Vec::new();
    for tag in tags {
        let image = format!("{host}/{repo}:{tag}");
        match open_image(conn, plan, &image) {
            Ok(src) => {
                let created = src.metadata().config.created.as_deref().and_then(|c| {
                    time::OffsetDateTime::parse(c, &time::format_description::well_known::Rfc3339)
                        .ok()
                });
                dated.push((created, tag));
            }
            Err(e) => failed.push(FailedImage {
                image,
                error: e.to_string(),
            }),
        }
    }
    // Newest first; images without a date last.
    dated.sort_by_key(|d| std::cmp::Reverse(d.0));
    dated.into_iter().take(n).map(|(_, t)| t).collect()
}

/// Why a scanned image is not wholly scanned: a layer that could not be read.
fn incomplete(target: &TargetResult) -> Option<String> {
    target
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::LayerNotScanned)
        .map(|w| w.message.clone())
}

fn summarize(
    host: &str,
    repositories: usize,
    selected: usize,
    scanned: usize,
    failed: Vec<FailedImage>,
    targets: &[TargetResult],
) -> RegistrySummary {
    let mut worst: Vec<ImageFindings> = targets
        .iter()
        .map(|t| ImageFindings {
            image: t.name.clone(),
            findings: t.findings.len(),
            by_severity: ScanSummary::of(std::slice::from_ref(t)).by_severity,
        })
        .collect();
    // Worst first: compare the counts from the most severe down, then the name.
    worst.sort_by(|a, b| {
        let key = |x: &ImageFindings| -> Vec<usize> {
            Severity::ALL
                .iter()
                .rev()
                .map(|s| x.by_severity.get(s).copied().unwrap_or(0))
                .collect()
        };
        key(b).cmp(&key(a)).then_with(|| a.image.cmp(&b.image))
    });
    RegistrySummary {
        registry: host.to_string(),
        repositories,
        images_selected: selected,
        images_scanned: scanned,
        failed,
        by_severity: ScanSummary::of(targets).by_severity,
        worst,
    }
}
