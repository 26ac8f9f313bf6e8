//! Reads a Kubernetes cluster for a scan, through the `kube` client (kubeconfig with
//! `KUBECONFIG` honoured, the in-cluster service account, exec credential plugins).
//!
//! [`discover`] lists the pods (paged), resolves each one's owner (a ReplicaSet's
//! Deployment, a Job's CronJob), collects its images with the digests the nodes resolved
//! them to, and de-duplicates them by digest so each is scanned once. It reads the pull
//! secrets a pod names, and its service account's, each by name (a scanner never lists
//! secrets), and marks the pods the internet reaches (see [`exposure`]). What cannot be read
//! (a missing secret, a broken reference) is a [`ClusterError`] and the rest goes on; only
//! an unreachable API server or a refused pod list ends the discovery.

pub mod exposure;
mod pods;
mod secrets;

use std::path::PathBuf;

use holdfast_model::{ClusterError, ClusterPod};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

pub use pods::registry_host;
pub use secrets::docker_config_from_secret;

/// What to read from which cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// A kubeconfig file; `None` uses `KUBECONFIG`, `~/.kube/config`, then the in-cluster
    /// service account.
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context; `None` uses the current one.
    pub context: Option<String>,
    /// Only this namespace; `None` reads all namespaces.
    pub namespace: Option<String>,
    /// A label selector for the pods (`app=web,tier!=db`).
    pub selector: Option<String>,
    /// Registries whose images are not scanned (`quay.io`, `registry.local:5000`).
    pub skip_registries: Vec<String>,
    /// Namespaces whose pods are not read.
    pub skip_namespaces: Vec<String>,
    /// Objects asked for per list request; `None` is 500.
    pub page_size: Option<u32>,
}

/// One image to scan, once, for every pod that runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterImage {
    /// What its pods' images are de-duplicated by ([`ClusterInventory::image_key`]).
    pub key: String,
    /// What to pull: `repo@digest` when a node resolved the image, else the pod spec's
    /// reference.
    pub reference: String,
    /// The digest the nodes run, when known.
    pub digest: Option<String>,
    /// A `.dockerconfigjson` document merged from the pull secrets of the pods running
    /// it, when they name any that could be read.
    pub docker_config: Option<String>,
    /// Skipped by `skip_registries`: not to be scanned.
    pub skipped: bool,
}

/// What [`discover`] read.
#[derive(Debug, Clone, Default)]
pub struct ClusterInventory {
    /// The context read (`in-cluster` without a kubeconfig).
    pub context: String,
    /// Every pod; each image's `target` is left for the scan to fill in.
    pub pods: Vec<ClusterPod>,
    /// The distinct images, in the order first met.
    pub images: Vec<ClusterImage>,
    /// One pod spec per workload (owner, or the pod itself when it has none), for the
    /// configuration checks.
    pub workloads: Vec<WorkloadSpec>,
    /// What could not be read.
    pub errors: Vec<ClusterError>,
}

/// A workload's pods, by one of them: its spec as the cluster runs it (admission defaults
/// and mutations applied, which a manifest in git does not show).
#[derive(Debug, Clone, Default)]
pub struct WorkloadSpec {
    pub namespace: String,
    /// The owner's kind (`Deployment`, `DaemonSet`, ...), or `Pod` for a bare pod.
    pub kind: String,
    pub name: String,
    /// The first pod met, as JSON, without its status and managed fields.
    pub pod: serde_json::Value,
    /// How many of the cluster's pods it stands for.
    pub pods: usize,
}

impl ClusterInventory {
    /// The key a pod image is de-duplicated by: its digest, else its reference.
    pub fn image_key(reference: &str, digest: Option<&str>) -> String {
        digest
            .map(str::to_string)
            .unwrap_or_else(|| reference.to_string())
    }
}

/// Why a cluster could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("kubeconfig: {0}")]
    Config(String),
    #[error("cannot list pods: {0}")]
    ListPods(String),
    #[error("cannot start the client runtime: {0}")]
    Runtime(String),
}

/// Objects asked for per page unless the options say.
const PAGE: u32 = 500;

/// Every object `api` lists, `page` at a time (`limit` and `continue`).
pub(crate) async fn list_paged<K>(
    api: &kube::Api<K>,
    params: kube::api::ListParams,
    page: Option<u32>,
) -> Result<Vec<K>, kube::Error>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut params = params.limit(page.unwrap_or(PAGE));
    let mut items = Vec::new();
    loop {
        let page = api.list(&params).await?;
        let next = page.metadata.continue_.clone().filter(|c| !c.is_empty());
        items.extend(page.items);
        match next {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(items),
        }
    }
}

/// Builds the client the options name, and the context's name.
async fn client(options: &ClusterOptions) -> Result<(Client, String), KubeError> {
    let config_err = |e: &dyn std::fmt::Display| KubeError::Config(e.to_string());
    let wanted = KubeConfigOptions {
        context: options.context.clone(),
        ..KubeConfigOptions::default()
    };
    let (config, context) = match &options.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .map_err(|e| KubeError::Config(format!("{}: {e}", path.display())))?;
            let context = options
                .context
                .clone()
                .or_else(|| kubeconfig.current_context.clone())
                .unwrap_or_default();
            let config = Config::from_custom_kubeconfig(kubeconfig, &wanted)
                .await
                .map_err(|e| config_err(&e))?;
            (config, context)
        }
        None if options.context.is_some() => {
            let config = Config::from_kubeconfig(&wanted)
                .await
                .map_err(|e| config_err(&e))?;
            (config, options.context.clone().unwrap_or_default())
        }
        None => {
            let context = Kubeconfig::read()
                .ok()
                .and_then(|k| k.current_context)
                .unwrap_or_else(|| "in-cluster".into());
            let config = Config::infer().await.map_err(|e| config_err(&e))?;
            (config, context)
        }
    };
    let client = Client::try_from(config).map_err(|e| config_err(&e))?;
    Ok((client, context))
}

/// How long [`PullSecretReader`] keeps what it read: a burst of admissions of one
/// workload reads its secrets once, and a rotated secret is used within this time.
pub const PULL_SECRET_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// Most pods' pull secrets kept at once.
const MAX_KEPT: usize = 1024;

/// What one pod's pull secrets gave: the merged document and the problems.
type PodSecrets = (Option<String>, Vec<String>);

/// Reads the pull secrets of pods one at a time, for callers that see pods one by one
/// (the admission webhook). What it read for a (namespace, service account, pull secret
/// names) is kept for [`PULL_SECRET_TTL`], so cached verdicts cost no API request.
#[derive(Clone)]
pub struct PullSecretReader {
    client: Client,
    context: String,
    kept: std::sync::Arc<
        std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, PodSecrets)>>,
    >,
}

impl PullSecretReader {
    /// A reader for the cluster `options` names (kubeconfig, context, or in-cluster).
    pub async fn connect(options: &ClusterOptions) -> Result<Self, KubeError> {
        let (client, context) = client(options).await?;
        Ok(PullSecretReader {
            client,
            context,
            kept: Default::default(),
        })
    }

    /// The context it reads (`in-cluster` without a kubeconfig).
    pub fn context(&self) -> &str {
        &self.context
    }

    /// The `.dockerconfigjson` merged from the pull secrets a pod with `spec` in `ns`
    /// may use (its own, then its service account's), and what was wrong with any.
    pub async fn for_pod(
        &self,
        ns: &str,
        spec: &k8s_openapi::api::core::v1::PodSpec,
    ) -> PodSecrets {
        let own: Vec<&str> = spec
            .image_pull_secrets
            .iter()
            .flatten()
            .map(|r| r.name.as_str())
            .collect();
        let key = format!(
            "{ns}\n{}\n{}",
            spec.service_account_name.as_deref().unwrap_or("default"),
            own.join("\n")
        );
        if let Some((at, found)) = self.kept.lock().ok().and_then(|k| k.get(&key).cloned()) {
            if at.elapsed() < PULL_SECRET_TTL {
                return found;
            }
        }
        let mut accounts = std::collections::HashMap::new();
        let names = pods::pull_secret_names(&self.client, ns, spec, &mut accounts).await;
        let found = if names.is_empty() {
            (None, Vec::new())
        } else {
            secrets::Secrets::new(self.client.clone())
                .docker_config(ns, &names)
                .await
        };
        if let Ok(mut kept) = self.kept.lock() {
            if kept.len() >= MAX_KEPT {
                kept.retain(|_, (at, _)| at.elapsed() < PULL_SECRET_TTL);
                if kept.len() >= MAX_KEPT {
                    kept.clear();
                }
            }
            kept.insert(key, (std::time::Instant::now(), found.clone()));
        }
        found
    }
}

/// Reads the cluster, on a runtime of its own (callers are synchronous).
pub fn discover(options: &ClusterOptions) -> Result<ClusterInventory, KubeError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| KubeError::Runtime(e.to_string()))?;
    runtime.block_on(discover_async(options))
}

/// [`discover`] for async callers.
pub async fn discover_async(options: &ClusterOptions) -> Result<ClusterInventory, KubeError> {
    let (client, context) = client(options).await?;
    let mut inventory = pods::read(&client, options).await?;
    inventory.context = context;
    let exposure = exposure::read(&client, options, &inventory.pods).await;
    inventory.errors.extend(exposure.errors);
    for pod in &mut inventory.pods {
        if let Some(chains) = exposure
            .public
            .get(&(pod.namespace.clone(), pod.name.clone()))
        {
            pod.is_public = true;
            pod.exposure = chains.clone();
        }
    }
    Ok(inventory)
}
