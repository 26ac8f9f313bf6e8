//! holdfast as a service: a REST API over the store (`holdfast-store`), workers that run
//! queued scans through the engine (`holdfast-scan`), schedules, the vulnerability
//! database served to a fleet, and Prometheus metrics.
//!
//! ```text
//! HTTP (axum) ─► api ─► Store ◄─ worker (claim, lease, scan_async, finish in one tx)
//!                 │       ▲
//!        /metrics ┘       └── scheduler (due schedules, expired leases, DB reloads)
//! ```
//!
//! Every process shares one `Store`, one `VulnDbHandle` and one layer cache. With
//! PostgreSQL, several processes (`holdfast server --worker`) share the queue.

mod admission;
mod api;
mod auth;
mod compliance;
mod config;
mod console;
mod dbserve;
mod edits;
mod metrics;
mod openapi;
mod pods;
mod scheduler;
mod targets;
mod views;
mod worker;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use holdfast_scan::VulnDbHandle;
use holdfast_source::LayerCache;
use holdfast_store::Store;
use tokio::sync::watch;

pub use config::{ConfigSchedule, ServerConfig};
pub use scheduler::{next_run, parse_spec, ScheduleSpec};
pub use targets::{parse_target, TargetKindArg};

/// What every handler, worker and the scheduler share.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// The vulnerability database, shared by every scan; reloaded when its file changes.
    pub db: VulnDbHandle,
    /// The database file `GET /api/v1/db` serves and `db` reloads watch.
    pub db_path: std::path::PathBuf,
    /// The layer cache every scan uses.
    pub cache: Option<LayerCache>,
    /// The process's settings.
    pub config: Arc<ServerConfig>,
    /// Counters and histograms kept in memory.
    pub metrics: Arc<metrics::Metrics>,
    /// Set when the store last failed (for `/readyz`), cleared when it answers.
    pub health: Arc<std::sync::Mutex<Health>>,
    /// A stable name for this process's worker leases.
    pub worker_id: String,
    /// The admission webhook (`--admission`), built from the stored policy.
    pub admission: Arc<admission::AdmissionState>,
    /// The pods of cluster scans, read once per scan.
    pub clusters: Arc<pods::ClusterCache>,
}

/// What `/readyz` reports besides a live query.
#[derive(Debug, Default, Clone)]
pub struct Health {
    /// The last store error a background loop saw, while it lasts.
    pub store_error: Option<String>,
}

impl AppState {
    /// Notes that the store answered.
    pub(crate) fn set_store_ok(&self) {
        let mut h = self.health.lock().expect("health lock");
        h.store_error = None;
    }

    /// Notes that the store failed, for `/readyz`.
    pub(crate) fn set_store_error(&self, e: &dyn std::fmt::Display) {
        let mut h = self.health.lock().expect("health lock");
        h.store_error = Some(e.to_string());
    }
}

/// Opens the store and runs the service until SIGINT or SIGTERM: the API (unless
/// `worker_only`), the workers and the scheduler.
pub async fn run(config: ServerConfig, cache: Option<LayerCache>) -> Result<()> {
    run_until(config, cache, shutdown_signal(), |_| {}).await
}

/// [`run`] until `shutdown` completes; `ready` is called with the address the API
/// listens on once it does (tests listen on port 0).
pub async fn run_until(
    config: ServerConfig,
    cache: Option<LayerCache>,
    shutdown: impl std::future::Future<Output = ()>,
    ready: impl FnOnce(SocketAddr),
) -> Result<()> {
    holdfast_scan::check_policies(&config.policies).context("--policy")?;
    let store = open_store(&config).await?;
    let db_path = config.db_path.clone();
    let db = VulnDbHandle::new(holdfast_scan::DbLocation::DefaultOrDemo(db_path.clone()));
    let state = AppState {
        store,
        db,
        db_path,
        cache,
        metrics: Arc::new(metrics::Metrics::new()),
        health: Default::default(),
        worker_id: format!("{}-{}", hostname(), std::process::id()),
        admission: Default::default(),
        clusters: Default::default(),
        config: Arc::new(config),
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..state.config.workers.max(1) {
        tasks.spawn(worker::run(state.clone(), n, stop_rx.clone()));
    }
    tasks.spawn(scheduler::run(state.clone(), stop_rx.clone()));
    let mut bound = None;
    if !state.config.worker_only {
        let app = api::router(state.clone());
        let addr = state.config.listen;
        let handle = axum_server::Handle::new();
        let shutdown = handle.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _ = stop.wait_for(|s| *s).await;
            shutdown.graceful_shutdown(Some(Duration::from_secs(10)));
        });
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let serve = match (&state.config.tls_cert, &state.config.tls_key) {
            (Some(cert), Some(key)) => {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                    .await
                    .with_context(|| {
                        format!(
                            "cannot load the TLS certificate `{}` and key `{}`",
                            cert.display(),
                            key.display()
                        )
                    })?;
                let listener = bind(addr)?;
                let addr = listener.local_addr()?;
                tracing::info!(%addr, "holdfast server listening (https)");
                bound = Some(addr);
                tokio::spawn(
                    axum_server::from_tcp_rustls(listener, tls)?
                        .handle(handle)
                        .serve(service),
                )
            }
            (None, None) => {
                let listener = bind(addr)?;
                let addr = listener.local_addr()?;
                tracing::info!(%addr, "holdfast server listening (http)");
                bound = Some(addr);
                tokio::spawn(
                    axum_server::from_tcp(listener)?
                        .handle(handle)
                        .serve(service),
                )
            }
            _ => anyhow::bail!("--tls-cert and --tls-key go together"),
        };
        tasks.spawn(async move {
            if let Ok(Err(e)) = serve.await {
                tracing::error!("the HTTP server stopped: {e}");
            }
        });
    }
    if let Some(addr) = bound {
        ready(addr);
    }
    shutdown.await;
    tracing::info!("stopping: no new scans are taken; running ones are left to their lease");
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(15), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    state.store.close().await;
    Ok(())
}

/// Opens the configured store: PostgreSQL when a URL is given, else SQLite in the data
/// directory.
pub async fn open_store(config: &ServerConfig) -> Result<Store> {
    match &config.database_url {
        Some(url) => Store::open(url).await.with_context(|| {
            format!(
                "cannot open the database {}",
                holdfast_store::redact_url(url)
            )
        }),
        None => Store::open_in_dir(&config.data_dir)
            .await
            .with_context(|| format!("cannot open the store in `{}`", config.data_dir.display())),
    }
}

fn bind(addr: SocketAddr) -> Result<std::net::TcpListener> {
    let listener =
        std::net::TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "holdfast".into())
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
