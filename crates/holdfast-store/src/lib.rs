//! The service's store: scans (each also its own work item), their results flattened for
//! the cross-image views, API tokens, advisory exceptions, schedules and an audit log.
//!
//! One set of migrations serves SQLite (WAL, in the service's data directory) and
//! PostgreSQL, through sqlx's `Any` driver. Every query is written once, with `$N`
//! placeholders both databases accept; the one statement that differs is how a worker
//! takes the next queued scan (`FOR UPDATE SKIP LOCKED` on PostgreSQL, where several
//! workers share the queue; SQLite serialises writers itself). Times are Unix
//! milliseconds, ids are time-ordered text made here, JSON is kept as text.

mod audit;
mod exceptions;
mod policies;
mod scans;
mod schedules;
mod sessions;
mod sql;
mod tokens;
mod views;

use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr;
use std::sync::Once;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Executor, SqlSafeStr};

pub use audit::AuditEntry;
pub use exceptions::{Exception, NewException};
pub use policies::StoredPolicy;
pub use scans::{NewScan, ScanFilter, ScanRecord, ScanStatus, MAX_ATTEMPTS};
pub use schedules::{NewSchedule, Schedule};
pub use sessions::Session;
pub use tokens::{Scope, TokenInfo};
pub use views::{
    severity_rank, AffectedTarget, FindingRow, SeverityCounts, TargetSummary, TrendCounts,
    TrendDay, VulnerabilitySummary,
};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is neither `sqlite:` nor `postgres:`.
    #[error("unsupported database URL {0:?}: expected sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    /// The database answered with an error, or could not be reached.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The migrations could not be applied.
    #[error("database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A value stored as JSON does not decode.
    #[error("stored JSON in {what}: {source}")]
    Json {
        /// Which column.
        what: &'static str,
        /// The decode error.
        source: serde_json::Error,
    },
    /// A value was refused before it reached the database.
    #[error("{0}")]
    Invalid(String),
}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend's name, as `/readyz` and the metrics call it.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The service's store. Cheap to clone (a connection pool).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (2, "console", include_str!("../migrations/0002_console.sql")),
];

fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

impl Store {
    /// Opens (creating it for SQLite) the database at `url` and applies the migrations.
    ///
    /// `sqlite://PATH` or `sqlite:PATH` is a file (created with its parent directory when
    /// missing); `postgres://` and `postgresql://` are servers.
    pub async fn open(url: &str) -> Result<Store> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        let (url, max) = match backend {
            Backend::Sqlite => {
                let path = url
                    .strip_prefix("sqlite://")
                    .or_else(|| url.strip_prefix("sqlite:"))
                    .unwrap_or_default();
                let path = path.split('?').next().unwrap_or_default();
                if let Some(parent) = Path::new(path).parent() {
                    if !parent.as_os_str().is_empty() {
                        std::fs::create_dir_all(parent).map_err(|e| {
                            StoreError::Invalid(format!("creating {}: {e}", parent.display()))
                        })?;
                    }
                }
                (format!("sqlite://{path}?mode=rwc"), 8)
            }
            Backend::Postgres => (url.to_string(), 16),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        migrator().run(&pool).await?;
        Ok(Store { pool, backend })
    }

    /// Opens `holdfast.sqlite` in `dir`.
    pub async fn open_in_dir(dir: &Path) -> Result<Store> {
        Store::open(&format!(
            "sqlite://{}",
            dir.join("holdfast.sqlite").display()
        ))
        .await
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Answers when the database does: what `/readyz` asks.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// A database URL with its password replaced, fit for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// `bytes` random bytes from the OS, hex-encoded: the secrets of tokens and sessions.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut secret = vec![0u8; bytes];
    getrandom::fill(&mut secret).expect("the OS random source");
    hex::encode(secret)
}

/// The hex SHA-256 of a secret: what the store keeps instead of it.
pub(crate) fn secret_hash(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// A new time-ordered id: the millisecond clock, then 64 random bits, in hex.
pub fn new_id() -> String {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).expect("the OS random source");
    format!("{:012x}{}", now_ms(), hex::encode(random))
}

/// An RFC 3339 time for a stored Unix millisecond time.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://holdfast:s3cret@127.0.0.1:5432/db"),
            "postgres://holdfast:***@127.0.0.1:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn ids_sort_by_time() {
        let a = new_id();
        std::thread::sleep(Duration::from_millis(2));
        let b = new_id();
        assert!(a < b, "{a} < {b}");
        assert_eq!(a.len(), 28);
    }
}
