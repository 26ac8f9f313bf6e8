//! The service in-process on a loopback port, with a token of each scope, for the tests
//! of the API and of the console.

#![allow(dead_code)]

#[path = "../../../holdfast-store/tests/support/postgres.rs"]
pub mod postgres;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use holdfast_server::ServerConfig;
use holdfast_store::Scope;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub fn demo_image() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/demo/demo-image.tar")
}

/// A running service and tokens of each scope.
pub struct Service {
    pub base: String,
    pub http: reqwest::Client,
    pub read: String,
    pub scan: String,
    pub admin: String,
    pub db_path: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Service {
    pub async fn start(database_url: Option<String>) -> Service {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ServerConfig::new(dir.path().join("data"));
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.database_url = database_url;
        config.db_path = dir.path().join("db/holdfast.db");
        config.tick = Duration::from_millis(200);
        config.lease = Duration::from_secs(30);
        let store = holdfast_server::open_store(&config).await.unwrap();
        let read = store.create_token("reader", Scope::Read).await.unwrap().1;
        let scan = store.create_token("ci", Scope::Scan).await.unwrap().1;
        let admin = store.create_token("alice", Scope::Admin).await.unwrap().1;
        store.close().await;
        let db_path = config.db_path.clone();
        let cache = holdfast_source::LayerCache::new(dir.path().join("cache"));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = tokio::sync::oneshot::channel::<SocketAddr>();
        let task = tokio::spawn(async move {
            holdfast_server::run_until(
                config,
                Some(cache),
                async {
                    let _ = stop_rx.await;
                },
                move |addr| {
                    let _ = addr_tx.send(addr);
                },
            )
            .await
            .unwrap();
        });
        let addr = addr_rx.await.expect("the service starts");
        Service {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            read,
            scan,
            admin,
            db_path,
            stop: Some(stop_tx),
            task: Some(task),
            _dir: dir,
        }
    }

    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap();
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    /// Files `result` as a finished scan of `target` (`POST /api/v1/results`).
    pub async fn import(&self, result: &Value, target: &str) {
        let resp = self
            .http
            .post(format!(
                "{}/api/v1/results?target={}",
                self.base,
                urlencode(target)
            ))
            .bearer_auth(&self.scan)
            .json(result)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{}",
            resp.text().await.unwrap()
        );
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn scan_and_wait(&self, target: &str) -> Value {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/scans",
                Some(&self.scan),
                Some(json!({ "target": target })),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let id = body["id"].as_str().unwrap().to_string();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (_, scan) = self.get(&format!("/api/v1/scans/{id}"), &self.read).await;
            match scan["status"].as_str().unwrap() {
                "finished" | "failed" => return scan,
                _ => {}
            }
            assert!(Instant::now() < deadline, "scan {id} did not end: {scan}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `scenario` against a service on SQLite, then on PostgreSQL.
pub fn on_both<F, Fut>(scenario: F)
where
    F: Fn(Service) -> Fut,
    Fut: std::future::Future<Output = Service>,
{
    let rt = runtime();
    rt.block_on(async {
        let service = Service::start(None).await;
        scenario(service).await.stop().await;
    });
    if let Some(pg) = postgres::TestPostgres::start() {
        let url = pg.fresh_database();
        rt.block_on(async {
            let service = Service::start(Some(url)).await;
            scenario(service).await.stop().await;
        });
    }
}

/// `s` percent-encoded for a query string.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// RFC 3339 for `days` days ago: a result's `created_at` in the past.
pub fn days_ago(days: i64) -> String {
    (time::OffsetDateTime::now_utc() - time::Duration::days(days))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// A copy of the first vulnerability finding of `result`'s first target, as advisory `id`
/// with `severity`.
pub fn vulnerability_like(result: &Value, id: &str, severity: &str) -> Value {
    let mut f = result["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "vulnerability")
        .unwrap()
        .clone();
    f["id"] = json!(id);
    f["severity"] = json!(severity);
    f
}

/// A cluster scan's result, made from the demo image's: the demo target as the web
/// image two public pods run, a clean copy as the api image, and a pod whose image was
/// not scanned.
pub fn cluster_result(demo: &Value) -> Value {
    let mut web = demo["targets"][0].clone();
    web["name"] = json!("registry.example/shop/web@sha256:0a1b");
    let mut api = web.clone();
    api["name"] = json!("registry.example/shop/api:2");
    api["findings"] = json!([]);
    let mut result = demo.clone();
    result["targets"] = json!([web, api]);
    let web_image = json!([{"container": "web", "reference": "registry.example/shop/web:1",
        "digest": "sha256:0a1b", "target": "registry.example/shop/web@sha256:0a1b"}]);
    result["cluster"] = json!({
        "context": "prod",
        "pods": [
            {"namespace": "shop", "name": "web-a", "owner": {"kind": "Deployment", "name": "web"},
             "images": web_image, "is_public": true,
             "exposure": ["Ingress shop/web → Service shop/web → EndpointSlice shop/web-q8 → Pod shop/web-a"]},
            {"namespace": "shop", "name": "web-b", "owner": {"kind": "Deployment", "name": "web"},
             "images": web_image, "is_public": true, "exposure": ["Service shop/web (LoadBalancer)"]},
            {"namespace": "shop", "name": "api-1", "images": [{"container": "api",
             "reference": "registry.example/shop/api:2", "target": "registry.example/shop/api:2"}],
             "is_public": false, "exposure": []},
            {"namespace": "tools", "name": "tool", "images": [{"container": "tool",
             "reference": "quay.io/team/tool:1"}], "is_public": false, "exposure": []},
        ],
        "errors": [{"image": "quay.io/team/tool:1", "message": "not scanned: its registry is skipped"}],
    });
    result
}
