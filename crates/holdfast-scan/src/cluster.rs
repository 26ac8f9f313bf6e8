//! Scanning a Kubernetes cluster: read its pods (`holdfast-kube`), scan each distinct
//! image once from its registry with the pull secrets of the pods that run it, and point
//! every pod's images at their results.

use std::collections::HashMap;

use holdfast_compliance::kubernetes::Workload;
use holdfast_compliance::LiveWorkload;
use holdfast_kube::{discover, ClusterImage, ClusterInventory, ClusterOptions};
use holdfast_model::{ClusterError, ClusterSummary, DbDescription, FindingKind, TargetResult};
use holdfast_source::registry::Secret;
use holdfast_source::{RegistrySource, SourceError};

use crate::progress::ProgressSink;
use crate::registry::scan_each;
use crate::target::{Plan, Scanned};
use crate::ScanError;
use holdfast_model::error_chain;

/// Which cluster to scan, and how many images at once.
#[derive(Debug, Clone, Default)]
pub struct ClusterSelection {
    pub options: ClusterOptions,
    /// Images scanned at once; 0 means 1.
    pub parallel: usize,
    /// Judge the workloads' pod specs only, scanning no image (`compliance kubernetes
    /// --cluster`). Otherwise pod specs are judged when the `misconfig` scanner runs.
    /// Either way with the request's [`crate::MisconfigSettings`].
    pub specs_only: bool,
}

/// What a cluster scan produced.
pub(crate) struct ClusterOutcome {
    pub targets: Vec<TargetResult>,
    pub db: Option<DbDescription>,
    pub summary: ClusterSummary,
}

/// Reads the cluster and scans its images.
pub(crate) fn scan_cluster(
    plan: &Plan<'_>,
    sel: &ClusterSelection,
    progress: &dyn ProgressSink,
) -> Result<ClusterOutcome, ScanError> {
    let ClusterInventory {
        context,
        mut pods,
        images,
        workloads,
        mut errors,
    } = discover(&sel.options).map_err(ScanError::Cluster)?;
    let mut targets = Vec::new();
    if sel.specs_only || plan.scanners.contains(&FindingKind::Misconfiguration) {
        let live = workloads
            .into_iter()
            .map(|w| LiveWorkload {
                target: format!("cluster {context}: {} {}/{}", w.kind, w.namespace, w.name),
                workload: Workload {
                    kind: w.kind,
                    name: w.name,
                    namespace: Some(w.namespace),
                },
                pod: w.pod,
            })
            .collect();
        let misconfig = &plan.request.misconfig;
        let judged =
            holdfast_compliance::judge_workloads(live, &misconfig.policies, &misconfig.regulations)
                .map_err(ScanError::Config)?;
        for mut target in judged {
            plan.request.cancel.check()?;
            progress.event(&crate::ScanEvent::TargetStarted { name: &target.name });
            plan.finish(&mut target, progress, true);
            targets.push(target);
        }
    }
    let images = if sel.specs_only { Vec::new() } else { images };
    let wanted: Vec<&ClusterImage> = images.iter().filter(|i| !i.skipped).collect();
    for skipped in images.iter().filter(|i| i.skipped) {
        errors.push(ClusterError {
            image: Some(skipped.reference.clone()),
            message: "not scanned: its registry is skipped".into(),
            ..ClusterError::default()
        });
    }
    let outcomes = scan_all(plan, &wanted, sel.parallel, progress);
    let mut db = None;
    // Image key (as holdfast-kube de-duplicated them) → the target holding its findings.
    let mut scanned: HashMap<String, String> = HashMap::new();
    for (image, outcome) in wanted.iter().zip(outcomes) {
        match outcome {
            Ok((target, d)) => {
                db = db.or(d);
                scanned.insert(image.key.clone(), target.name.clone());
                targets.push(target);
            }
            Err(e @ (ScanError::Cancelled | ScanError::DeadlineExceeded)) => return Err(e),
            Err(e) => errors.push(ClusterError {
                image: Some(image.reference.clone()),
                message: error_chain(&e),
                ..ClusterError::default()
            }),
        }
    }
    for pod in &mut pods {
        for image in &mut pod.images {
            let key = ClusterInventory::image_key(&image.reference, image.digest.as_deref());
            image.target = scanned.get(&key).cloned();
        }
    }
    Ok(ClusterOutcome {
        targets,
        db,
        summary: ClusterSummary {
            context,
            pods,
            errors,
        },
    })
}

/// Scans the images with `parallel` threads; outcomes come back in order.
fn scan_all(
    plan: &Plan<'_>,
    images: &[&ClusterImage],
    parallel: usize,
    progress: &dyn ProgressSink,
) -> Vec<Result<Scanned, ScanError>> {
    fn name<'a>(image: &'a &ClusterImage) -> &'a str {
        &image.reference
    }
    scan_each(plan, images, parallel, progress, name, |image| {
        let source = open(plan, image).map_err(|source| ScanError::Open {
            target: image.reference.clone(),
            source,
        })?;
        plan.scan_source(&source, progress, true)
    })
}

/// Opens one image from its registry, with the pods' pull secrets when they had any
/// (else the request's own registry credentials).
fn open(plan: &Plan<'_>, image: &ClusterImage) -> Result<RegistrySource, SourceError> {
    let open = &plan.request.open;
    let mut registry = open.registry.clone();
    if let Some(config) = &image.docker_config {
        registry.auth.pull_secret = Some(Secret::new(config.clone()));
    }
    RegistrySource::open(
        &image.reference,
        &image.reference,
        open.platform.as_ref(),
        &registry,
        open.limits,
    )
}
