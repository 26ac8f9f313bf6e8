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

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::extract::State;
use axum::routing::{get, post};
use axum::Json;
use serde_json::{json, Value};

use crate::authorizer::{Authorizer, Backend};

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

/// Answers one AdmissionReview (its `request` judged, its `uid` echoed).
pub async fn review<B: Backend>(authorizer: &Authorizer<B>, body: &Value) -> Value {
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
    let (allowed, reason) = authorizer.admit(user, operation, &described, &images).await;
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
pub fn router<B: Backend>(authorizer: Arc<Authorizer<B>>) -> axum::Router {
    async fn handle<B: Backend>(
        State(authorizer): State<Arc<Authorizer<B>>>,
        Json(body): Json<Value>,
    ) -> Json<Value> {
        Json(review(&authorizer, &body).await)
    }
    axum::Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .fallback(post(handle::<B>))
        .with_state(authorizer)
}

/// Serves the webhook over HTTPS on `listen` until SIGTERM or SIGINT.
pub fn run(loaded: crate::Loaded, listen: SocketAddr, cert: &Path, key: &Path) -> Result<()> {
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
            .serve(router(authorizer).into_make_service())
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
