//! The service's settings: flags, the environment names the runtime image scanner's users
//! know, and the config file's `[server]` table.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Deserialize;

/// How the service runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where the API listens.
    pub listen: SocketAddr,
    /// The SQLite store and anything else the service keeps.
    pub data_dir: PathBuf,
    /// A PostgreSQL URL instead of SQLite.
    pub database_url: Option<String>,
    /// TLS certificate chain (PEM).
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Scans run at once by this process.
    pub workers: usize,
    /// Run workers and the scheduler only, no API.
    pub worker_only: bool,
    /// The vulnerability database file the service matches with and serves.
    pub db_path: PathBuf,
    /// The default interval of schedules that name none (`SCAN_INTERVAL`).
    pub scan_interval: Duration,
    /// Where each finished result is also written as JSON (`SEC_REPORT_DIR`).
    pub report_dir: Option<PathBuf>,
    /// Skip images from quay.io (`DISABLE_QUAYIO_SCAN`).
    pub skip_quay: bool,
    /// How long a worker's lease on a scan lasts before another may take it over.
    pub lease: Duration,
    /// How often the scheduler looks for due schedules and expired leases.
    pub tick: Duration,
    /// A scan running longer than this is cancelled.
    pub scan_timeout: Duration,
    /// Schedules from the config file.
    pub schedules: Vec<ConfigSchedule>,
    /// Serve the admission webhook at `POST /admission`, judged by the stored policy.
    pub admission: bool,
    /// `--policy` directories or files of extra checks for the compliance runs.
    pub policies: Vec<PathBuf>,
    /// The webhook's infrastructure settings (an authorization plugin config without
    /// `[[policies]]`).
    pub admission_config: Option<PathBuf>,
}

impl ServerConfig {
    /// Settings with defaults for everything but the data directory.
    pub fn new(data_dir: PathBuf) -> ServerConfig {
        ServerConfig {
            listen: "127.0.0.1:8080".parse().expect("a literal address"),
            db_path: holdfast_scan::default_db_path(),
            data_dir,
            database_url: None,
            tls_cert: None,
            tls_key: None,
            workers: 2,
            worker_only: false,
            scan_interval: Duration::from_secs(12 * 3600),
            report_dir: None,
            skip_quay: false,
            lease: Duration::from_secs(120),
            tick: Duration::from_secs(5),
            scan_timeout: Duration::from_secs(3600),
            schedules: Vec::new(),
            admission: false,
            admission_config: None,
            policies: Vec::new(),
        }
    }

    /// Reads the `[server]` table of a holdfast config file.
    pub fn read_config_file(&mut self, path: &Path) -> Result<()> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file `{}`", path.display()))?;
        let file: ConfigFile = toml::from_str(&text)
            .with_context(|| format!("in the config file `{}`", path.display()))?;
        if let Some(server) = file.server {
            for s in &server.schedules {
                let spec = s.spec.clone().unwrap_or_else(|| self.default_spec());
                crate::scheduler::parse_spec(&spec)
                    .map_err(anyhow::Error::msg)
                    .with_context(|| {
                        format!(
                            "schedule `{}` in the config file `{}`",
                            s.name,
                            path.display()
                        )
                    })?;
            }
            self.schedules = server.schedules;
        }
        Ok(())
    }

    /// `every <SCAN_INTERVAL>`.
    pub fn default_spec(&self) -> String {
        format!("every {}", humantime::format_duration(self.scan_interval))
    }
}

/// A schedule the config file declares (`[[server.schedules]]`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConfigSchedule {
    /// Its unique name.
    pub name: String,
    /// The target, in the API's target syntax.
    pub target: String,
    /// `every 12h` or a cron expression; `SCAN_INTERVAL` when absent.
    #[serde(default)]
    pub spec: Option<String>,
    /// The scanners; the default ones when absent.
    #[serde(default)]
    pub scanners: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    server: Option<ServerTable>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerTable {
    #[serde(default)]
    schedules: Vec<ConfigSchedule>,
}
