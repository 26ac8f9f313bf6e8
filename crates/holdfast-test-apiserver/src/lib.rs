//! A Kubernetes API server for tests, on loopback over plain HTTP.
//!
//! It serves objects loaded from YAML (multi-document, or `kind: List`) at the real REST
//! paths, with the discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/GROUP/VERSION`,
//! `/version`) that kubectl and kube's client read first. Lists page with `limit` and
//! `continue` (a token from before the store changed answers 410 Gone, as etcd's compaction
//! does), filter with `labelSelector` (`k=v`, `k!=v`, `k`), and answer `as=Table` requests
//! with a name column. `watch=true` streams the objects newer than `resourceVersion` as
//! `ADDED` events and ends. Missing objects are 404, and listing secrets is 403, as a
//! scanner's least-privilege role would have it; errors are `Status` objects. Every request
//! is logged, so a test can say what a client did and did not ask.
//!
//! A create (`POST` to a collection, as `kubectl create` sends it) goes through the
//! validating admission webhooks of the fixture's `ValidatingWebhookConfiguration`s, as
//! the real API server calls them: an `AdmissionReview` v1 over HTTPS to the webhook's
//! `clientConfig.url`, trusting only its `caBundle`, within `timeoutSeconds`; a denial is
//! 403 with the webhook's message, an unreachable webhook follows `failurePolicy`, and
//! `dryRun=All` is refused for webhooks with side effects, then stores nothing.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{json, Value};

/// One kind the server knows: where it lives and what it is called.
struct Resource {
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
}

const RESOURCES: &[Resource] = &[
    res("", "v1", "pods", "Pod", true),
    res("", "v1", "services", "Service", true),
    res("", "v1", "endpoints", "Endpoints", true),
    res("", "v1", "secrets", "Secret", true),
    res("", "v1", "serviceaccounts", "ServiceAccount", true),
    res("", "v1", "namespaces", "Namespace", false),
    res("apps", "v1", "replicasets", "ReplicaSet", true),
    res("apps", "v1", "deployments", "Deployment", true),
    res("apps", "v1", "statefulsets", "StatefulSet", true),
    res("apps", "v1", "daemonsets", "DaemonSet", true),
    res("batch", "v1", "jobs", "Job", true),
    res("batch", "v1", "cronjobs", "CronJob", true),
    res("networking.k8s.io", "v1", "ingresses", "Ingress", true),
    res(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "EndpointSlice",
        true,
    ),
    res(
        "gateway.networking.k8s.io",
        "v1",
        "httproutes",
        "HTTPRoute",
        true,
    ),
    res(
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        false,
    ),
];

const fn res(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> Resource {
    Resource {
        group,
        version,
        plural,
        kind,
        namespaced,
    }
}

impl Resource {
    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

#[derive(Default)]
struct Store {
    objects: Vec<Value>,
    /// The store's resourceVersion: bumped on every change.
    version: u64,
    /// `VERB PATH?QUERY` of every request, in order.
    log: Vec<String>,
    /// Groups served: a CRD's group only when the fixture holds objects of it.
    groups: Vec<&'static str>,
}

/// A running test API server; stopped when dropped.
pub struct ApiServer {
    addr: SocketAddr,
    store: Arc<Mutex<Store>>,
    _runtime: tokio::runtime::Runtime,
}

impl ApiServer {
    /// Loads `yaml` (documents separated by `---`, or `kind: List` documents) and serves
    /// it on a free loopback port.
    pub fn start(yaml: &str) -> Self {
        let mut store = Store::default();
        for doc in serde_norway::Deserializer::from_str(yaml) {
            let value: Value = match serde::Deserialize::deserialize(doc) {
                Ok(v) => v,
                Err(e) => panic!("fixture YAML: {e}"),
            };
            store.add(value);
        }
        let mut groups: Vec<&'static str> =
            vec!["apps", "batch", "networking.k8s.io", "discovery.k8s.io"];
        if store.objects.iter().any(|o| o["kind"] == "HTTPRoute") {
            groups.push("gateway.networking.k8s.io");
        }
        if store
            .objects
            .iter()
            .any(|o| o["kind"] == "ValidatingWebhookConfiguration")
        {
            groups.push("admissionregistration.k8s.io");
        }
        store.groups = groups;
        let store = Arc::new(Mutex::new(store));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the test API server");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(store.clone());
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        ApiServer {
            addr,
            store,
            _runtime: runtime,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Writes a kubeconfig naming this server as context `test` (and `other`, for
    /// `--context`), and returns its path.
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: test\n\
             clusters:\n- name: test\n  cluster:\n    server: {url}\n\
             - name: other\n  cluster:\n    server: http://127.0.0.1:9\n\
             users:\n- name: test\n  user:\n    token: test-token\n\
             contexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n\
             - name: other\n  context:\n    cluster: other\n    user: test\n",
            url = self.url()
        );
        std::fs::write(&path, text).expect("write the kubeconfig");
        path
    }

    /// Every request so far, `VERB PATH?QUERY`.
    pub fn requests(&self) -> Vec<String> {
        self.store.lock().expect("store").log.clone()
    }

    /// Adds an object, as a client's create would; continue tokens issued before expire.
    pub fn add(&self, object: Value) {
        self.store.lock().expect("store").add(object);
    }
}

impl Store {
    fn add(&mut self, object: Value) {
        if object["kind"] == "List" {
            for item in object["items"].as_array().cloned().unwrap_or_default() {
                self.add(item);
            }
            return;
        }
        if object.is_null() {
            return;
        }
        self.version += 1;
        let mut object = object;
        let meta = &mut object["metadata"];
        meta["resourceVersion"] = json!(self.version.to_string());
        if meta.get("uid").is_none() {
            meta["uid"] = json!(format!("00000000-0000-4000-8000-{:012}", self.version));
        }
        if meta.get("creationTimestamp").is_none() {
            meta["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
        }
        self.objects.push(object);
    }
}

fn status(code: StatusCode, reason: &str, message: String) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code.as_u16(),
    });
    (code, axum::Json(body)).into_response()
}

/// What a path names.
enum Route<'a> {
    Versions,
    Groups,
    Resources(&'static str, &'static str),
    Version,
    List(&'a Resource, Option<String>),
    Get(&'a Resource, Option<String>, String),
}

fn route(path: &str) -> Option<Route<'static>> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api"] => return Some(Route::Versions),
        ["apis"] => return Some(Route::Groups),
        ["version"] => return Some(Route::Version),
        ["api", "v1"] => return Some(Route::Resources("", "v1")),
        ["apis", g, v] => {
            let r = RESOURCES
                .iter()
                .find(|r| r.group == *g && r.version == *v)?;
            return Some(Route::Resources(r.group, r.version));
        }
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return None,
    };
    let find = |plural: &str| {
        RESOURCES
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    };
    match rest {
        [plural] => Some(Route::List(find(plural)?, None)),
        ["namespaces", name] if group.is_empty() => {
            Some(Route::Get(find("namespaces")?, None, name.to_string()))
        }
        ["namespaces", ns, plural] => Some(Route::List(find(plural)?, Some(ns.to_string()))),
        ["namespaces", ns, plural, name] => Some(Route::Get(
            find(plural)?,
            Some(ns.to_string()),
            name.to_string(),
        )),
        [plural, name] => Some(Route::Get(find(plural)?, None, name.to_string())),
        _ => None,
    }
}

/// The query parameters, decoded.
fn query(request: &Request) -> BTreeMap<String, String> {
    serde_urlencoded::from_str(request.uri().query().unwrap_or_default()).unwrap_or_default()
}

/// `k=v`, `k==v`, `k!=v` and `k` terms, comma-separated, all of which must hold.
fn labels_match(object: &Value, selector: &str) -> bool {
    let labels = &object["metadata"]["labels"];
    selector.split(',').filter(|t| !t.is_empty()).all(|term| {
        if let Some((k, v)) = term.split_once("!=") {
            labels[k.trim()].as_str() != Some(v.trim())
        } else if let Some((k, v)) = term.split_once('=') {
            labels[k.trim()].as_str() == Some(v.trim_start_matches('=').trim())
        } else {
            labels.get(term.trim()).is_some()
        }
    })
}

async fn handle(State(shared): State<Arc<Mutex<Store>>>, request: Request) -> Response {
    if request.method() == axum::http::Method::POST {
        return create(shared, request).await;
    }
    let store = shared;
    let path = request.uri().path().to_string();
    let q = query(&request);
    let table = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("as=Table"));
    let mut store = store.lock().expect("store");
    store.log.push(format!(
        "{} {}{}",
        request.method(),
        path,
        request
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default()
    ));
    let Some(route) = route(&path) else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        );
    };
    match route {
        Route::Versions => axum::Json(json!({
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
        }))
        .into_response(),
        Route::Version => axum::Json(json!({
            "major": "1", "minor": "33", "gitVersion": "v1.33.0", "platform": "linux/amd64",
        }))
        .into_response(),
        Route::Groups => {
            let groups: Vec<Value> = store
                .groups
                .iter()
                .map(|g| {
                    let gv = json!({"groupVersion": format!("{g}/v1"), "version": "v1"});
                    json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
                })
                .collect();
            axum::Json(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
                .into_response()
        }
        Route::Resources(group, version) => {
            if !group.is_empty() && !store.groups.contains(&group) {
                return status(StatusCode::NOT_FOUND, "NotFound", format!("no group {group}"));
            }
            let resources: Vec<Value> = RESOURCES
                .iter()
                .filter(|r| r.group == group && r.version == version)
                .map(|r| {
                    json!({
                        "name": r.plural, "singularName": r.kind.to_lowercase(),
                        "shortNames": short_names(r.plural),
                        "namespaced": r.namespaced, "kind": r.kind,
                        "verbs": ["create", "get", "list", "watch"],
                    })
                })
                .collect();
            let gv = if group.is_empty() {
                version.to_string()
            } else {
                format!("{group}/{version}")
            };
            axum::Json(json!({
                "kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": gv, "resources": resources,
            }))
            .into_response()
        }
        Route::Get(r, ns, name) => {
            if !r.group.is_empty() && !store.groups.contains(&r.group) {
                return status(StatusCode::NOT_FOUND, "NotFound", format!("no group {}", r.group));
            }
            let found = store.objects.iter().find(|o| {
                o["kind"] == r.kind
                    && o["metadata"]["name"] == name.as_str()
                    && (ns.is_none() || o["metadata"]["namespace"].as_str() == ns.as_deref())
            });
            match found {
                Some(o) => {
                    let mut o = o.clone();
                    o["apiVersion"] = json!(r.api_version());
                    axum::Json(o).into_response()
                }
                None => status(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    format!("{} \"{name}\" not found", r.plural),
                ),
            }
        }
        Route::List(r, ns) => {
            if !r.group.is_empty() && !store.groups.contains(&r.group) {
                return status(StatusCode::NOT_FOUND, "NotFound", format!("no group {}", r.group));
            }
            if r.plural == "secrets" {
                return status(
                    StatusCode::FORBIDDEN,
                    "Forbidden",
                    "secrets is forbidden: User \"test\" cannot list resource \"secrets\"".into(),
                );
            }
            let selector = q.get("labelSelector").cloned().unwrap_or_default();
            let since: u64 = q
                .get("resourceVersion")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut items: Vec<Value> = store
                .objects
                .iter()
                .filter(|o| o["kind"] == r.kind)
                .filter(|o| ns.is_none() || o["metadata"]["namespace"].as_str() == ns.as_deref())
                .filter(|o| labels_match(o, &selector))
                .cloned()
                .map(|mut o| {
                    o["apiVersion"] = json!(r.api_version());
                    o
                })
                .collect();
            if q.get("watch").is_some_and(|w| w == "true" || w == "1") {
                let events: String = items
                    .iter()
                    .filter(|o| {
                        o["metadata"]["resourceVersion"]
                            .as_str()
                            .and_then(|v| v.parse::<u64>().ok())
                            .is_some_and(|v| v > since)
                    })
                    .map(|o| format!("{}\n", json!({"type": "ADDED", "object": o})))
                    .collect();
                return Response::builder()
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(events))
                    .expect("a response");
            }
            let start = match q.get("continue").filter(|c| !c.is_empty()) {
                None => 0,
                Some(token) => match decode_continue(token) {
                    Some((offset, v)) if v == store.version => offset,
                    Some(_) => {
                        return status(
                            StatusCode::GONE,
                            "Expired",
                            "The provided continue parameter is too old to display a consistent list result.".into(),
                        )
                    }
                    None => {
                        return status(
                            StatusCode::BAD_REQUEST,
                            "BadRequest",
                            format!("invalid continue token {token}"),
                        )
                    }
                },
            };
            let limit: usize = q
                .get("limit")
                .and_then(|l| l.parse().ok())
                .filter(|l| *l > 0)
                .unwrap_or(usize::MAX);
            let total = items.len();
            let page: Vec<Value> = items.drain(start.min(total)..).take(limit).collect();
            let next = start + page.len();
            let mut metadata = json!({"resourceVersion": store.version.to_string()});
            if next < total {
                metadata["continue"] = json!(encode_continue(next, store.version));
                metadata["remainingItemCount"] = json!(total - next);
            }
            if table {
                let rows: Vec<Value> = page
                    .iter()
                    .map(|o| {
                        json!({
                            "cells": [o["metadata"]["name"]],
                            "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]},
                        })
                    })
                    .collect();
                return axum::Json(json!({
                    "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
                    "columnDefinitions": [{"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0}],
                    "rows": rows,
                }))
                .into_response();
            }
            axum::Json(json!({
                "kind": format!("{}List", r.kind), "apiVersion": r.api_version(),
                "metadata": metadata, "items": page,
            }))
            .into_response()
        }
    }
}

/// Most bytes of an object a client may create.
const MAX_CREATE: usize = 1 << 20;

/// A create: the admission webhooks judge it, then it is stored (or, with `dryRun=All`,
/// only answered).
async fn create(shared: Arc<Mutex<Store>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let q = query(&request);
    shared.lock().expect("store").log.push(format!(
        "POST {path}{}",
        request
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default()
    ));
    let (r, ns) = match route(&path) {
        Some(Route::List(r, ns)) => (r, ns),
        _ => {
            return status(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                format!("the server does not allow this method on the requested resource ({path})"),
            )
        }
    };
    let body = match axum::body::to_bytes(request.into_body(), MAX_CREATE).await {
        Ok(b) => b,
        Err(e) => {
            return status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!("cannot read the body: {e}"),
            )
        }
    };
    let mut object: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!("the body is not JSON: {e}"),
            )
        }
    };
    if object["kind"] != r.kind {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("the body is a {}, not a {}", object["kind"], r.kind),
        );
    }
    if let Some(ns) = &ns {
        object["metadata"]["namespace"] = json!(ns);
    }
    let dry_run = q.get("dryRun").is_some_and(|d| d == "All");
    let webhooks: Vec<Value> = {
        let store = shared.lock().expect("store");
        store
            .objects
            .iter()
            .filter(|o| o["kind"] == "ValidatingWebhookConfiguration")
            .flat_map(|o| o["webhooks"].as_array().cloned().unwrap_or_default())
            .filter(|w| webhook_matches(w, r, ns.as_deref()))
            .collect()
    };
    for webhook in &webhooks {
        let name = webhook["name"].as_str().unwrap_or_default().to_string();
        let side_effects = webhook["sideEffects"].as_str().unwrap_or("Unknown");
        if dry_run && !matches!(side_effects, "None" | "NoneOnDryRun") {
            return status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!("admission webhook \"{name}\" does not support dry run"),
            );
        }
        match call_webhook(webhook, r, ns.as_deref(), &object, dry_run).await {
            Ok(response) if response["allowed"] == true => {}
            Ok(response) => {
                let message = response["status"]["message"].as_str().unwrap_or_default();
                let code = response["status"]["code"]
                    .as_u64()
                    .and_then(|c| StatusCode::from_u16(c as u16).ok())
                    .unwrap_or(StatusCode::FORBIDDEN);
                return status(
                    code,
                    "Forbidden",
                    format!("admission webhook \"{name}\" denied the request: {message}"),
                );
            }
            Err(e) if webhook["failurePolicy"] == "Ignore" => {
                shared
                    .lock()
                    .expect("store")
                    .log
                    .push(format!("webhook {name} ignored: {e}"));
            }
            Err(e) => {
                return status(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    format!("Internal error occurred: failed calling webhook \"{name}\": {e}"),
                )
            }
        }
    }
    let mut store = shared.lock().expect("store");
    if dry_run {
        let meta = &mut object["metadata"];
        meta["uid"] = json!("00000000-0000-4000-8000-dryrun000000");
        meta["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
    } else {
        store.add(object.clone());
        object = store.objects.last().cloned().unwrap_or(object);
    }
    object["apiVersion"] = json!(r.api_version());
    (StatusCode::CREATED, axum::Json(object)).into_response()
}

/// Whether a webhook's rules cover creating `r` in `ns` (its namespaceSelector read for
/// `kubernetes.io/metadata.name` In/NotIn, the form charts use).
fn webhook_matches(webhook: &Value, r: &Resource, ns: Option<&str>) -> bool {
    let any = |list: &Value, want: &str| {
        list.as_array()
            .is_some_and(|l| l.iter().any(|v| v == "*" || v == want))
    };
    let rule_hit = webhook["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|rule| {
            any(&rule["operations"], "CREATE")
                && any(&rule["apiGroups"], r.group)
                && any(&rule["apiVersions"], r.version)
                && any(&rule["resources"], r.plural)
        });
    let ns_hit = webhook["namespaceSelector"]["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["key"] == "kubernetes.io/metadata.name")
        .all(|e| {
            let listed = ns.is_some_and(|n| any(&e["values"], n));
            match e["operator"].as_str() {
                Some("NotIn") => !listed,
                Some("In") => listed,
                _ => true,
            }
        });
    rule_hit && ns_hit
}

/// Sends one AdmissionReview to a webhook's URL and returns its `response`.
async fn call_webhook(
    webhook: &Value,
    r: &Resource,
    ns: Option<&str>,
    object: &Value,
    dry_run: bool,
) -> Result<Value, String> {
    let config = &webhook["clientConfig"];
    let url = config["url"]
        .as_str()
        .ok_or("the test API server calls webhooks by clientConfig.url only")?;
    let ca = base64::engine::general_purpose::STANDARD
        .decode(config["caBundle"].as_str().unwrap_or_default())
        .map_err(|e| format!("caBundle is not base64: {e}"))?;
    let cert = reqwest::Certificate::from_pem(&ca).map_err(|e| format!("caBundle: {e}"))?;
    let timeout = webhook["timeoutSeconds"].as_u64().unwrap_or(10);
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(cert)
        .timeout(std::time::Duration::from_secs(timeout))
        .build()
        .map_err(|e| e.to_string())?;
    let uid = format!(
        "{:032x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
    let gvr = json!({"group": r.group, "version": r.version, "resource": r.plural});
    let review = json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": uid, "kind": gvk, "resource": gvr, "requestKind": gvk, "requestResource": gvr,
            "name": object["metadata"]["name"], "namespace": ns, "operation": "CREATE",
            "userInfo": {"username": "test", "groups": ["system:authenticated"]},
            "object": object, "oldObject": null, "dryRun": dry_run,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        }
    });
    let answer: Value = client
        .post(url)
        .header("content-type", "application/json")
        .body(review.to_string())
        .send()
        .await
        .map_err(|e| format!("Post \"{url}\": {e}"))?
        .error_for_status()
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| format!("the answer is not an AdmissionReview: {e}"))?;
    if answer["response"]["uid"] != json!(uid) {
        return Err("the answer's uid is not the request's".into());
    }
    Ok(answer["response"].clone())
}

/// kubectl's short names (`svc`, `ing`, ...), which discovery announces.
fn short_names(plural: &str) -> Vec<&'static str> {
    match plural {
        "pods" => vec!["po"],
        "services" => vec!["svc"],
        "endpoints" => vec!["ep"],
        "serviceaccounts" => vec!["sa"],
        "namespaces" => vec!["ns"],
        "replicasets" => vec!["rs"],
        "deployments" => vec!["deploy"],
        "statefulsets" => vec!["sts"],
        "daemonsets" => vec!["ds"],
        "cronjobs" => vec!["cj"],
        "ingresses" => vec!["ing"],
        _ => Vec::new(),
    }
}

fn encode_continue(offset: usize, version: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{offset}:{version}"))
}

fn decode_continue(token: &str) -> Option<(usize, u64)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (offset, version) = text.split_once(':')?;
    Some((offset.parse().ok()?, version.parse().ok()?))
}
