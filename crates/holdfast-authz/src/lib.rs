//! The Docker Engine authorization plugin: `holdfast authz -c config.toml`.
//!
//! dockerd started with `--authorization-plugin=NAME` asks the plugin listening on
//! `/run/docker/plugins/NAME.sock` about every API call before handling it. This crate
//! answers: the calls a policy covers (container creation, pulls, pushes, any Docker
//! API operation that concerns an image) are allowed or denied by holdfast's verdict on
//! that image; everything else is allowed at once.
//!
//! # Design
//!
//! ```text
//! dockerd ──HTTP/unix──► server.rs (axum) ──► Authorizer::authorize
//!                                              │ action.rs: method + path → operation,
//!                                              │            body/query/path → subject
//!                                              │ engine.rs: subject → image id / digest
//!                                              │            (bollard, registry manifest)
//!                                              │ cache (digest, policy version) ─ hit ─► verdict
//!                                              │ miss: holdfast_scan::scan on a blocking
//!                                              │       thread, once per key however many ask
//!                                              ▼
//!                          holdfast_policy::verdict (risk_level_filter) ─► allow / deny
//!                          + one JSON line in the auth log, alert (log, webhook)
//! ```
//!
//! * **Protocol** ([`protocol`], [`server`]): `Plugin.Activate` answers
//!   `{"Implements":["authz"]}`; `AuthZPlugin.AuthZReq` is decided; `AuthZPlugin.AuthZRes`
//!   is always allowed (the decision was made before the daemon acted).
//! * **Operations** ([`action`]): one table maps method and path (version prefix and
//!   query removed) to veinmind-runner's operation names, and says which image each
//!   concerns. Policies may only name operations that concern an image and that the
//!   plugin does not itself use while scanning.
//! * **Images**: a container create's `Image` and a push's local image are resolved to
//!   their image id by the daemon the plugin is configured for (`holdfast.docker_host`,
//!   else `DOCKER_HOST`); a pull is resolved by reading its manifest and config from the
//!   registry, then scanned straight from there, pinned to that digest. The image id
//!   (config digest) is the cache key for both, so a pulled image is not scanned again
//!   when a container is created from it under an identical policy.
//! * **Verdicts**: each policy is a scan request (its scanners, plugins, parameters) and
//!   a severity filter; the result is judged by [`holdfast_policy::verdict`], the gate
//!   every holdfast front end uses. Verdicts are cached by (image id, policy version),
//!   the version hashing everything that decides them (scanners, plugins and their
//!   versions, parameters, severities, the database path, holdfast's version), for
//!   `holdfast.cache_ttl`.
//! * **Deadline**: an answer is due `holdfast.timeout` after the request arrived
//!   (dockerd waits for its plugins without a limit, so the plugin must keep one). A
//!   scan that fails or is late is decided by `holdfast.fail_mode` (closed by default:
//!   deny); a late scan goes on in the background, bounded by `holdfast.scan_timeout`,
//!   and its verdict fills the cache for the next request. A dead plugin cannot answer
//!   at all: dockerd then retries for about 15 seconds and fails the request, so
//!   fail-open can only be had from a live plugin.
//! * **Logs**: the plugin log (its own messages) and the auth log (one JSON line per
//!   decision: user, operation, image, verdict, reason, elapsed ms, each policy's
//!   outcome; then one line per alert). Alerts are also POSTed to
//!   `holdfast.alert_webhook`. Registry credentials (the client's `X-Registry-Auth`
//!   when a proxy forwards it, `[docker_auth]`) travel only inside the registry options
//!   and are never logged.

#![warn(missing_docs)]

pub mod action;
pub mod admission;
pub mod audit;
pub mod authorizer;
pub mod config;
pub mod engine;
pub mod protocol;
pub mod server;

use std::sync::Arc;

use anyhow::{Context, Result};

pub use authorizer::{Authorizer, Backend};
pub use config::{load, Config, Loaded};
pub use engine::EngineBackend;

/// Runs the plugin for a loaded config until SIGTERM or SIGINT, then removes its
/// socket. Sets `DOCKER_HOST` from `holdfast.docker_host` first (before any thread
/// starts), so the engine's daemon source reads images from that daemon too.
pub fn run(loaded: Loaded) -> Result<()> {
    let config = loaded.config;
    if let Some(host) = &config.holdfast.docker_host {
        std::env::set_var("DOCKER_HOST", host);
    }
    let (log, audit) = open_logs(&config, &loaded.warnings)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("holdfast-authz")
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async {
        let backend = EngineBackend::new(&config, &log)?;
        let authorizer = Arc::new(Authorizer::new(&config, backend, audit, log.clone()));
        let listener = server::bind(&config.listener)
            .with_context(|| format!("cannot listen on `{}`", config.listener.display()))?;
        log.info(&format!(
            "listening on {} with {} polic{} (fail_mode = {}, timeout = {})",
            config.listener.display(),
            authorizer.rules().len(),
            if authorizer.rules().len() == 1 {
                "y"
            } else {
                "ies"
            },
            config.holdfast.fail_mode.as_str(),
            humantime::format_duration(config.holdfast.timeout),
        ));
        let served = server::serve(listener, authorizer, shutdown()).await;
        let _ = std::fs::remove_file(&config.listener);
        log.info("stopped");
        served.context("the server failed")
    })?;
    // Scans still running in the background are abandoned.
    runtime.shutdown_background();
    Ok(())
}

/// Opens the plugin log and the decision log a config names, and logs the config's
/// warnings.
pub fn open_logs(
    config: &Config,
    warnings: &[String],
) -> Result<(Arc<audit::PluginLog>, Arc<audit::Audit>)> {
    let log = Arc::new(
        audit::PluginLog::open(&config.log.plugin_log_path).with_context(|| {
            format!(
                "cannot open the plugin log `{}`",
                config.log.plugin_log_path.display()
            )
        })?,
    );
    let audit = Arc::new(
        audit::Audit::open(
            &config.log.auth_log_path,
            config.holdfast.alert_webhook.clone(),
        )
        .with_context(|| {
            format!(
                "cannot open the auth log `{}`",
                config.log.auth_log_path.display()
            )
        })?,
    );
    for w in warnings {
        log.warn(&format!("{}: {w}", config.source.display()));
    }
    Ok((log, audit))
}

pub(crate) async fn shutdown() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
