//! `holdfast server`: the service (`holdfast-server`) with its settings from flags and
//! the environment, and `holdfast server token ...` on the same store.

use std::process::ExitCode;

use anyhow::{Context, Result};
use holdfast_server::ServerConfig;
use holdfast_store::Scope;

use crate::cli::{ServerArgs, ServerCommand, StoreArgs, TokenCommand};

/// Runs the service until SIGTERM or SIGINT, or one token command.
pub fn run(args: ServerArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("holdfast-server")
        .build()
        .context("cannot start the async runtime")?;
    match args.command {
        Some(ServerCommand::Token(cmd)) => runtime.block_on(token(cmd)),
        None => {
            let config = config(&args)?;
            let cache = holdfast_remote_cache::layer_cache(
                args.cache_dir.clone(),
                args.cache_url.as_deref(),
            )
            .context("--cache-url")?;
            runtime.block_on(holdfast_server::run(config, Some(cache)))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn config(args: &ServerArgs) -> Result<ServerConfig> {
    let mut config = ServerConfig::new(data_dir(&args.store));
    config.listen = match (args.listen, std::env::var("HTTP_PORT")) {
        (Some(addr), _) => addr,
        (None, Ok(port)) => {
            let port: u16 = port
                .trim()
                .parse()
                .with_context(|| format!("HTTP_PORT `{port}` is not a port number"))?;
            std::net::SocketAddr::from(([0, 0, 0, 0], port))
        }
        (None, Err(_)) => config.listen,
    };
    config.database_url = args.store.database_url.clone();
    config.tls_cert = args.tls_cert.clone();
    config.tls_key = args.tls_key.clone();
    config.workers = args.workers.max(1);
    config.worker_only = args.worker;
    config.admission = args.admission || args.admission_config.is_some();
    config.admission_config = args.admission_config.clone();
    config.policies = args.policy.clone();
    if let Some(db) = &args.db {
        config.db_path = db.clone();
    }
    config.scan_interval = args.scan_interval;
    config.report_dir = args.report_dir.clone();
    config.skip_quay = args.skip_quay;
    config.lease = args.lease;
    config.tick = args.tick;
    if let Some(path) = &args.config {
        config.read_config_file(path)?;
    }
    Ok(config)
}

fn data_dir(store: &StoreArgs) -> std::path::PathBuf {
    store.data_dir.clone().unwrap_or_else(|| {
        dirs::data_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("holdfast")
            .join("server")
    })
}

async fn open(store: &StoreArgs) -> Result<holdfast_store::Store> {
    let mut config = ServerConfig::new(data_dir(store));
    config.database_url = store.database_url.clone();
    holdfast_server::open_store(&config).await
}

async fn token(cmd: TokenCommand) -> Result<ExitCode> {
    match cmd {
        TokenCommand::Create { scope, name, store } => {
            let scope: Scope = scope.parse().context("--scope")?;
            let store = open(&store).await?;
            let (info, token) = store.create_token(&name, scope).await?;
            eprintln!(
                "token {} ({}, scope {}): shown once, keep it",
                info.id,
                info.name,
                info.scope.as_str()
            );
            println!("{token}");
        }
        TokenCommand::List { store } => {
            let store = open(&store).await?;
            for t in store.tokens().await? {
                let state = match t.revoked_at {
                    Some(at) => format!("revoked {}", holdfast_store::rfc3339(at)),
                    None => "live".into(),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{state}",
                    t.id,
                    t.name,
                    t.scope.as_str(),
                    holdfast_store::rfc3339(t.created_at)
                );
            }
        }
        TokenCommand::Revoke { id, store } => {
            let store = open(&store).await?;
            if !store.revoke_token(&id).await? {
                anyhow::bail!("no live token with id `{id}`");
            }
            eprintln!("token {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}
