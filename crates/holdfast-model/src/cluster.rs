//! What a cluster scan adds to the result: every pod, what owns it, the images it runs
//! (each pointing at the target that holds its findings) and whether the internet reaches
//! it; and what could not be read.

use serde::{Deserialize, Serialize};

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
