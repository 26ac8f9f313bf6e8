//! Pods of the latest cluster scans: what `/report`, the `pod_security_issue` gauge and
//! the console's exposure read. A cluster scan's result holds the pods (`cluster.pods`)
//! and, in `targets`, each distinct image once; a pod image's `target` names the target
//! that holds its findings.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

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
    pub cluster: Arc<ClusterSummary>,
}

/// Only the `cluster` part of a stored result: the targets are skipped unread.
#[derive(Deserialize)]
struct ClusterPart {
    #[serde(default)]
    cluster: Option<ClusterSummary>,
}

/// The `cluster` part of stored results, by scan id. A scan's pods never change once it
/// finished (re-matching rewrites findings only), so each result is read once; entries
/// of scans no longer the latest are dropped.
#[derive(Default)]
pub struct ClusterCache {
    by_scan: std::sync::Mutex<HashMap<String, Option<Arc<ClusterSummary>>>>,
}

/// The latest scan of every cluster, with its pods.
pub async fn latest(state: &AppState) -> Result<Vec<ClusterScan>, ApiError> {
    let scans = state
        .store
        .latest_scans_of(CLUSTER_PREFIX)
        .await
        .map_err(ApiError::store)?;
    let known: HashMap<String, Option<Arc<ClusterSummary>>> = {
        let mut cache = state.clusters.by_scan.lock().expect("cluster cache lock");
        cache.retain(|id, _| scans.iter().any(|(s, _)| s == id));
        cache.clone()
    };
    let mut out = Vec::new();
    for (scan_id, target) in scans {
        let cluster = match known.get(&scan_id) {
            Some(found) => found.clone(),
            None => {
                let read = read_cluster(state, &scan_id).await?;
                state
                    .clusters
                    .by_scan
                    .lock()
                    .expect("cluster cache lock")
                    .insert(scan_id.clone(), read.clone());
                read
            }
        };
        if let Some(cluster) = cluster {
            out.push(ClusterScan {
                scan_id,
                target,
                cluster,
            });
        }
    }
    Ok(out)
}

/// Reads one stored result's `cluster` part; an unreadable one is logged and has none.
async fn read_cluster(
    state: &AppState,
    scan_id: &str,
) -> Result<Option<Arc<ClusterSummary>>, ApiError> {
    let json = state
        .store
        .scan_result_json(scan_id)
        .await
        .map_err(ApiError::store)?
        .unwrap_or_default();
    match serde_json::from_str::<ClusterPart>(&json) {
        Ok(part) => Ok(part.cluster.map(Arc::new)),
        Err(e) => {
            tracing::warn!(scan = %scan_id, "stored cluster result is unreadable: {e}");
            Ok(None)
        }
    }
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
