//! What a cluster scan adds to the result: every pod, what owns it, the images it runs
//! (each pointing at the target that holds its findings) and whether the internet reaches
//! it; and what could not be read.

use serde::{Deserialize, Serialize};

use crate::{Severity, TargetResult};

/// How risky some findings are, the one ranking every report and the console use:
/// severities weighted (critical 10, high 5, medium 2, low 1), half as much again when a
/// fix exists for any of them, doubled when the internet reaches the workload.
pub fn risk_score(
    critical: i64,
    high: i64,
    medium: i64,
    low: i64,
    fixable: bool,
    exposed: bool,
) -> i64 {
    let base = 10 * critical + 5 * high + 2 * medium + low;
    let fixable = if fixable { base / 2 } else { 0 };
    (base + fixable) * if exposed { 2 } else { 1 }
}

impl ClusterPod {
    /// The pod's findings by severity (critical, high, medium, low), each image's target
    /// counted once, and whether any has a fixed version.
    pub fn counts(&self, targets: &[TargetResult]) -> ([i64; 4], bool) {
        let mut counts = [0i64; 4];
        let mut fixable = false;
        let mut seen: Vec<&str> = Vec::new();
        for name in self.images.iter().filter_map(|i| i.target.as_deref()) {
            if seen.contains(&name) {
                continue;
            }
            seen.push(name);
            for f in targets
                .iter()
                .filter(|t| t.name == name)
                .flat_map(|t| &t.findings)
            {
                let at = match f.severity {
                    Severity::Critical => 0,
                    Severity::High => 1,
                    Severity::Medium => 2,
                    Severity::Low => 3,
                    _ => continue,
                };
                counts[at] += 1;
                fixable |= f.fixed_version.is_some();
            }
        }
        (counts, fixable)
    }

    /// [`risk_score`] of the pod's findings, doubled when it is public.
    pub fn risk(&self, targets: &[TargetResult]) -> i64 {
        let ([c, h, m, l], fixable) = self.counts(targets);
        risk_score(c, h, m, l, fixable, self.is_public)
    }
}

/// A Kubernetes cluster's pods and the errors met reading them (`scan cluster`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSummary {
    /// The kubeconfig context (or `in-cluster`) the scan read.
    pub context: String,
    pub pods: Vec<ClusterPod>,
    /// Per pod or image: a missing pull secret, an image that could not be scanned, a
    /// broken reference. The rest of the cluster was still scanned.
    #[serde(default)]
    pub errors: Vec<ClusterError>,
}

/// One pod.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPod {
    pub namespace: String,
    pub name: String,
    /// The workload that owns it (Deployment through its ReplicaSet, StatefulSet,
    /// DaemonSet, Job, CronJob through its Job); absent for a bare pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<PodOwner>,
    pub images: Vec<PodImage>,
    /// Whether the internet reaches it: through an Ingress, a LoadBalancer or NodePort
    /// Service, or a Gateway API HTTPRoute.
    pub is_public: bool,
    /// The chains that made it public, e.g. `Ingress shop/web → Service shop/web →
    /// EndpointSlice shop/web-x7k2 → Pod shop/web-5d9c`.
    #[serde(default)]
    pub exposure: Vec<String>,
}

/// The workload owning a pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodOwner {
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `Job`, `CronJob`, `ReplicaSet`, ...
    pub kind: String,
    pub name: String,
}

/// One container image of a pod.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodImage {
    /// The container it runs in (`init:` before an init container's name).
    pub container: String,
    /// The image as the pod spec names it.
    pub reference: String,
    /// The digest the node resolved it to (the container status' `imageID`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The name of the target in `targets[]` holding its findings; absent when the image
    /// was skipped or could not be scanned (see `errors`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// Something a cluster scan could not read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub message: String,
}
