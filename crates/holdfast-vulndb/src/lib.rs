//! OSV advisories into one on-disk SQLite database, and packages matched against it.
//!
//! Three steps, one module each:
//!
//! 1. [`ingest`] reads OSV records (<https://ossf.github.io/osv-schema/>) from
//!    directories of `*.json` files and from the per-ecosystem `all.zip` archives that
//!    osv.dev publishes. Broken or hostile files are skipped with a warning that names
//!    them; nothing read from a feed is trusted to be small or well formed.
//! 2. [`db`] writes everything into one SQLite file ([`build`]), built beside the target
//!    and renamed into place, and reads back what it holds ([`info`]).
//! 3. [`matcher`] opens that file read-only ([`VulnDb`]) and matches installed packages
//!    against it ([`VulnDb::match_packages`]), one finding per vulnerability and package.
//!
//! ```no_run
//! use holdfast_vulndb::{build, VulnDb};
//! use std::path::{Path, PathBuf};
//!
//! let report = build(&[PathBuf::from("osv/")], Path::new("vuln.db"))?;
//! eprintln!("{} advisories, {} warnings", report.advisories, report.warning_count);
//! let db = VulnDb::open(Path::new("vuln.db"))?;
//! let matches = db.match_packages(None, &[])?;
//! assert!(matches.is_empty());
//! # Ok::<(), holdfast_vulndb::DbError>(())
//! ```

pub mod db;
mod ecosystem;
pub mod enrich;
pub mod ingest;
pub mod matcher;
mod osv;
mod severity;
pub mod update;

use std::path::PathBuf;

pub use db::{build, info, BuildReport, Builder, DbInfo, SourceInfo, SCHEMA_VERSION};
pub use ecosystem::normalize_name;
pub use ingest::{IngestWarning, Limits};
pub use matcher::{AdvisoryDetails, MatchReport, MatchStats, MatchedAdvisory, VulnDb};

/// Everything that can go wrong building, opening or querying a vulnerability database.
///
/// Problems with single advisories are not errors: they are [`IngestWarning`]s and the
/// rest of the feed is still built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A source given to [`build`] is neither a directory, a `.json` file nor a `.zip`.
    #[error("{}: not a directory, .json file or .zip archive", .0.display())]
    BadSource(PathBuf),
    /// The database was written by a different, incompatible schema.
    #[error("vulnerability database schema {found}, this build reads {expected}")]
    SchemaMismatch {
        /// The schema version found in the file (`None` when there is no metadata).
        found: String,
        /// [`SCHEMA_VERSION`].
        expected: u32,
    },
    /// The database's metadata is not what this crate writes.
    #[error("vulnerability database metadata: {0}")]
    BadMetadata(String),
}

impl DbError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DbError::Io {
            path: path.into(),
            source,
        }
    }
}
