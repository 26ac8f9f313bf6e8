//! Pods of the latest cluster scans: what `/report`, the `pod_security_issue` gauge and
//! the console's exposure read. A cluster scan's result holds the pods (`cluster.pods`)
//! and, in `targets`, each distinct image once; a pod image's `target` names the target
//! that holds its findings.

use std::collections::HashSet;

use holdfast_model::ClusterSummary;
use serde::{Deserialize, Serialize};

use crate::api::ApiError;
use crate::AppState;

/// The scan target prefix of cluster scans.
pub const CLUSTER_PREFIX: &str = "cluster:";

/// The pods of one cluster's latest finished scan.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterScan {
    /// The scan.
    pub scan_id: String,
    /// The scan's target (`cluster:CONTEXT`).
    pub target: String,
    /// What the scan read of the cluster.
    pub cluster: ClusterSummary,
}

/// Only the `cluster` part of a stored result: the targets are skipped unread.
#[derive(Deserialize)]
struct ClusterPart {
    #[serde(default)]
    cluster: Option<ClusterSummary>,
}

/// The latest scan of every cluster, with its pods.
pub async fn latest(state: &AppState) -> Result<Vec<ClusterScan>, ApiError> {
    let rows = state
        .store
        .latest_results_of(CLUSTER_PREFIX)
        .await
        .map_err(ApiError::store)?;
    let mut out = Vec::new();
    for (scan_id, target, json) in rows {
        let part: ClusterPart = match serde_json::from_str(&json) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(scan = %scan_id, "stored cluster result is unreadable: {e}");
                continue;
            }
        };
        if let Some(cluster) = part.cluster {
            out.push(ClusterScan {
                scan_id,
                target,
                cluster,
            });
        }
    }
    Ok(out)
}

/// Every (scan id, target name) a pod the internet reaches runs.
pub fn exposed_targets(clusters: &[ClusterScan]) -> HashSet<(String, String)> {
    clusters
        .iter()
        .flat_map(|c| {
            c.cluster
                .pods
                .iter()
                .filter(|p| p.is_public)
                .flat_map(|p| p.images.iter().filter_map(|i| i.target.clone()))
                .map(|t| (c.scan_id.clone(), t))
        })
        .collect()
}
