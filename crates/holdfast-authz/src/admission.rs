//! The Kubernetes validating admission webhook: `holdfast admission`.
//!
//! The API server POSTs an `AdmissionReview` (admission.k8s.io/v1) over HTTPS for each
//! pod or workload created or updated. The images of its pod template (containers, init
//! and ephemeral containers) are judged by the same [`Authorizer`] the Docker plugin uses,
//! with the config's `container_create` policies: verdicts cached by (image digest, policy
//! version), scans shared by concurrent requests, the deadline and fail mode of
//! `[holdfast]`. The answer allows, or denies with the message the plugin would give
//! (`holdfast: blocked IMAGE (container_create): FINDING (SEVERITY) package version:
//! title; ...`), which kubectl shows to whoever applied the object.
//!
//! When the webhook can reach the cluster (in-cluster service account, or a kubeconfig),
//! the images are pulled with the pod's own pull secrets and its service account's, each
//! read by name (and kept for 30 seconds per namespace, account and secret names), as
//! the kubelet would pull them.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::extract::State;
use axum::routing::{get, post};
use axum::Json;
use serde_json::{json, Value};

pub use holdfast_kube::ClusterOptions;

use crate::action::RegistryAuth;
use crate::audit::PluginLog;
use crate::authorizer::{Authorizer, Backend};

/// What the webhook judges with.
pub struct Webhook<B: Backend> {
    /// The policies and their verdict cache.
    pub authorizer: Arc<Authorizer<B>>,
    /// Reads pods' pull secrets; `None` when no cluster is reachable or asked for.
    pub pull_secrets: Option<holdfast_kube::PullSecretReader>,
    /// Where problems with pull secrets are said.
    pub log: Arc<PluginLog>,
}

/// How `holdfast admission` runs.
#[derive(Debug, Clone)]
pub struct AdmissionOptions {
    /// Address to serve HTTPS on.
    pub listen: SocketAddr,
    /// The certificate chain (PEM).
    pub cert: std::path::PathBuf,
    /// Its key (PEM).
    pub key: std::path::PathBuf,
    /// The cluster whose pull secrets are read: a kubeconfig and context, else the
    /// in-cluster service account; `None` reads none.
    pub cluster: Option<holdfast_kube::ClusterOptions>,
}

/// The pod spec inside an object of the kinds a webhook is registered for.
fn pod_spec<'a>(kind: &str, object: &'a Value) -> Option<&'a Value> {
    match kind {
        "Pod" => object.get("spec"),
        "CronJob" => object.pointer("/spec/jobTemplate/spec/template/spec"),
        "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "DaemonSet"
        | "Job"
        | "ReplicationController" => object.pointer("/spec/template/spec"),
        _ => None,
    }
}

/// Every image the object's pods would run, in order, each once.
pub fn images_of(kind: &str, object: &Value) -> Vec<String> {
    let Some(spec) = pod_spec(kind, object) else {
        return Vec::new();
    };
    let mut images: Vec<String> = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for c in spec[list].as_array().into_iter().flatten() {
            if let Some(image) = c["image"].as_str().filter(|i| !i.is_empty()) {
                if !images.iter().any(|i| i == image) {
                    images.push(image.to_string());
                }
            }
        }
    }
    images
}

/// The pod's pull secrets as credentials, when the webhook reads them; problems are
/// logged and the images are pulled without the secrets that failed.
async fn pull_credentials<B: Backend>(
    webhook: &Webhook<B>,
    kind: &str,
    namespace: &str,
    object: &Value,
) -> Option<RegistryAuth> {
    let reader = webhook.pull_secrets.as_ref()?;
    let spec = pod_spec(kind, object)?;
    let spec: k8s_openapi::api::core::v1::PodSpec = serde_json::from_value(spec.clone()).ok()?;
    let (document, errors) = reader.for_pod(namespace, &spec).await;
    for e in errors {
        webhook.log.warn(&format!("{kind} in {namespace}: {e}"));
    }
    document.map(RegistryAuth::from_docker_config)
}

/// Answers one AdmissionReview (its `request` judged, its `uid` echoed).
pub async fn review<B: Backend>(webhook: &Webhook<B>, body: &Value) -> Value {
    let authorizer = &webhook.authorizer;
    let request = &body["request"];
    let uid = request["uid"].clone();
    let kind = request["kind"]["kind"].as_str().unwrap_or_default();
    let object = &request["object"];
    let images = images_of(kind, object);
    let namespace = request["namespace"].as_str().unwrap_or_default();
    let name = request["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .or_else(|| object["metadata"]["name"].as_str())
        .map(str::to_string)
        .or_else(|| {
            object["metadata"]["generateName"]
                .as_str()
                .map(|g| format!("{g}*"))
        })
        .unwrap_or_default();
    let described = format!("{kind} {namespace}/{name}");
    let user = request["userInfo"]["username"].as_str().unwrap_or_default();
    let operation = request["operation"].as_str().unwrap_or("CREATE");
    let credentials = if images.is_empty() {
        None
    } else {
        pull_credentials(webhook, kind, namespace, object).await
    };
    let (allowed, reason) = authorizer
        .admit(user, operation, &described, &images, credentials)
        .await;
    let mut response = json!({"uid": uid, "allowed": allowed});
    if !allowed {
        response["status"] = json!({"code": 403, "reason": "Forbidden", "message": reason});
    }
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": response,
    })
}

/// The webhook's routes: any POST is a review; `/healthz` answers `ok`.
pub fn router<B: Backend>(webhook: Arc<Webhook<B>>) -> axum::Router {
    async fn handle<B: Backend>(
        State(webhook): State<Arc<Webhook<B>>>,
        Json(body): Json<Value>,
    ) -> Json<Value> {
        Json(review(&webhook, &body).await)
    }
    axum::Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .fallback(post(handle::<B>))
        .with_state(webhook)
}

/// Serves the webhook over HTTPS until SIGTERM or SIGINT.
pub fn run(loaded: crate::Loaded, options: &AdmissionOptions) -> Result<()> {
    let (listen, cert, key) = (options.listen, &options.cert, &options.key);
    let config = loaded.config;
    let (log, audit) = crate::open_logs(&config, &loaded.warnings)?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("holdfast-admission")
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async {
        let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
            .await
            .with_context(|| {
                format!(
                    "cannot load the TLS certificate `{}` and key `{}`",
                    cert.display(),
                    key.display()
                )
            })?;
        let backend = crate::EngineBackend::new(&config, &log)?;
        let authorizer = Arc::new(Authorizer::new(&config, backend, audit, log.clone()));
        let pull_secrets = match &options.cluster {
            None => None,
            Some(cluster) => match holdfast_kube::PullSecretReader::connect(cluster).await {
                Ok(reader) => {
                    log.info(&format!(
                        "pods' pull secrets are read from the cluster `{}`",
                        reader.context()
                    ));
                    Some(reader)
                }
                // Asked for by a kubeconfig: not reaching it is an error; in-cluster
                // discovery that finds nothing only means no secrets.
                Err(e) if cluster.kubeconfig.is_some() => {
                    return Err(anyhow::anyhow!("cannot read the cluster for pull secrets: {e}"))
                }
                Err(e) => {
                    log.warn(&format!(
                        "pods' pull secrets are not read (no cluster found: {e}); images are pulled with the policy file's credentials"
                    ));
                    None
                }
            },
        };
        let webhook = Arc::new(Webhook {
            authorizer: authorizer.clone(),
            pull_secrets,
            log: log.clone(),
        });
        log.info(&format!(
            "admission webhook on https://{listen} with {} polic{}",
            authorizer.rules().len(),
            if authorizer.rules().len() == 1 {
                "y"
            } else {
                "ies"
            },
        ));
        let handle = axum_server::Handle::new();
        let stopper = handle.clone();
        tokio::spawn(async move {
            crate::shutdown().await;
            stopper.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
        });
        axum_server::bind_rustls(listen, tls)
            .handle(handle)
            .serve(router(webhook).into_make_service())
            .await
            .with_context(|| format!("cannot serve on {listen}"))
    })?;
    runtime.shutdown_background();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_of_pods_and_templates() {
        let pod = json!({"spec": {
            "initContainers": [{"name": "i", "image": "busybox:1"}],
            "containers": [{"name": "a", "image": "app:1"}, {"name": "b", "image": "app:1"}],
            "ephemeralContainers": [{"name": "d", "image": "debug:2"}],
        }});
        assert_eq!(images_of("Pod", &pod), ["busybox:1", "app:1", "debug:2"]);
        let deploy = json!({"spec": {"template": {"spec": {"containers": [{"image": "web:3"}]}}}});
        assert_eq!(images_of("Deployment", &deploy), ["web:3"]);
        let cron = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"image": "job:4"}]}}}}}});
        assert_eq!(images_of("CronJob", &cron), ["job:4"]);
        assert!(images_of("ConfigMap", &json!({"data": {}})).is_empty());
    }
}
