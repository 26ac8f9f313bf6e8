//! The vulnerability database of a process: opened once, shared by every target and
//! every concurrent request, swapped atomically when it is rebuilt.
//!
//! [`VulnDbHandle`] is cheap to clone (an `Arc`). It opens its database on first use, so
//! a request that matches nothing never touches it, and an explicitly named database that
//! cannot be opened is an error for exactly the requests that need it. Without a built
//! database it compiles the bundled demo advisories once, into a temporary directory that
//! lives as long as the handle. [`VulnDbHandle::reload`] opens the file again (after `db
//! update` renamed a new one into place) and swaps it in: requests that already hold the
//! old database finish on it, new ones get the new one.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use holdfast_model::DbDescription;
use holdfast_source::LayerCache;
use holdfast_vulndb::{DbInfo, VulnDb};

use crate::progress::{ProgressSink, ScanEvent};
use crate::{DemoDbError, ScanError};

/// A database older than this many days gets a warning.
pub const STALE_AFTER_DAYS: i64 = 7;

/// The demo advisories (`fixtures/demo/advisories/`), used when no database was built.
pub const DEMO_ADVISORIES: &[(&str, &str)] = &[
    (
        "DEBIAN-CVE-2023-38545-curl.json",
        include_str!("../../../fixtures/demo/advisories/DEBIAN-CVE-2023-38545-curl.json"),
    ),
    (
        "DEBIAN-CVE-2023-46218-curl.json",
        include_str!("../../../fixtures/demo/advisories/DEBIAN-CVE-2023-46218-curl.json"),
    ),
    (
        "DEBIAN-CVE-2023-52425-expat.json",
        include_str!("../../../fixtures/demo/advisories/DEBIAN-CVE-2023-52425-expat.json"),
    ),
    (
        "DEBIAN-CVE-2023-5678-openssl.json",
        include_str!("../../../fixtures/demo/advisories/DEBIAN-CVE-2023-5678-openssl.json"),
    ),
    (
        "DEBIAN-CVE-2024-0727-openssl.json",
        include_str!("../../../fixtures/demo/advisories/DEBIAN-CVE-2024-0727-openssl.json"),
    ),
    (
        "GHSA-p6mc-m468-83gw.json",
        include_str!("../../../fixtures/demo/advisories/GHSA-p6mc-m468-83gw.json"),
    ),
    (
        "PYSEC-2018-28.json",
        include_str!("../../../fixtures/demo/advisories/PYSEC-2018-28.json"),
    ),
    (
        "PYSEC-2019-133.json",
        include_str!("../../../fixtures/demo/advisories/PYSEC-2019-133.json"),
    ),
    (
        "PYSEC-2020-96.json",
        include_str!("../../../fixtures/demo/advisories/PYSEC-2020-96.json"),
    ),
    (
        "PYSEC-2022-19.json",
        include_str!("../../../fixtures/demo/advisories/PYSEC-2022-19.json"),
    ),
];

/// The default database file, beside the layer cache.
pub fn default_db_path() -> PathBuf {
    LayerCache::default_dir().join("db").join("holdfast.db")
}

/// Where a handle finds its database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// A file the user named: failing to open it is an error.
    Explicit(PathBuf),
    /// The default file; when it does not exist, the bundled demo advisories.
    DefaultOrDemo(PathBuf),
}

impl DbLocation {
    /// `explicit` when given, else the default path with the demo fallback.
    pub fn from_option(explicit: Option<&Path>) -> Self {
        match explicit {
            Some(p) => DbLocation::Explicit(p.to_path_buf()),
            None => DbLocation::DefaultOrDemo(default_db_path()),
        }
    }
}

/// An opened database and what the result says about it.
pub struct OpenDb {
    db: VulnDb,
    path: PathBuf,
    description: DbDescription,
    /// Keeps the demo database's directory until the last user drops it.
    _demo_dir: Option<tempfile::TempDir>,
}

impl OpenDb {
    /// The database.
    pub fn db(&self) -> &VulnDb {
        &self.db
    }

    /// The file it was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The result's `db` object.
    pub fn description(&self) -> &DbDescription {
        &self.description
    }

    /// Whether this is the bundled demo database.
    pub fn is_demo(&self) -> bool {
        self.description.demo
    }

    /// The database's age in whole days, when its build time parses.
    pub fn age_days(&self) -> Option<i64> {
        age_days(self.db.info())
    }
}

/// The process's vulnerability database, opened on first use and shared.
#[derive(Clone)]
pub struct VulnDbHandle {
    inner: Arc<HandleInner>,
}

struct HandleInner {
    location: DbLocation,
    current: Mutex<Option<Arc<OpenDb>>>,
}

impl VulnDbHandle {
    /// A handle on the database at `location`; nothing is opened yet.
    pub fn new(location: DbLocation) -> Self {
        VulnDbHandle {
            inner: Arc::new(HandleInner {
                location,
                current: Mutex::new(None),
            }),
        }
    }

    /// Where the database is looked for.
    pub fn location(&self) -> &DbLocation {
        &self.inner.location
    }

    /// The open database, opening it on the first call. Concurrent first calls open it
    /// once. The demo fallback is announced to `progress`.
    pub fn get(&self, progress: &dyn ProgressSink) -> Result<Arc<OpenDb>, ScanError> {
        let mut slot = self.inner.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(db) = slot.as_ref() {
            return Ok(db.clone());
        }
        let db = Arc::new(open(&self.inner.location, progress)?);
        *slot = Some(db.clone());
        Ok(db)
    }

    /// Opens the database again and swaps it in for new requests; requests that hold
    /// the old one finish on it. On error the old one stays.
    pub fn reload(&self, progress: &dyn ProgressSink) -> Result<(), ScanError> {
        let db = Arc::new(open(&self.inner.location, progress)?);
        *self.inner.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(db);
        Ok(())
    }
}

fn open(location: &DbLocation, progress: &dyn ProgressSink) -> Result<OpenDb, ScanError> {
    let (path, demo_dir) = match location {
        DbLocation::Explicit(p) => (p.clone(), None),
        DbLocation::DefaultOrDemo(p) if p.is_file() => (p.clone(), None),
        DbLocation::DefaultOrDemo(p) => {
            progress.event(&ScanEvent::DemoDatabase {
                expected: p,
                advisories: DEMO_ADVISORIES.len(),
            });
            let (db, dir) = build_demo_db().map_err(ScanError::DemoDb)?;
            (db, Some(dir))
        }
    };
    let db = VulnDb::open(&path).map_err(|source| ScanError::OpenDb {
        path: path.clone(),
        source,
    })?;
    let info = db.info();
    let description = DbDescription {
        path: if demo_dir.is_some() {
            "(bundled demo advisories)".to_string()
        } else {
            path.display().to_string()
        },
        demo: demo_dir.is_some(),
        schema_version: info.schema_version,
        built_at: info.built_at.clone(),
        advisories: info.advisories,
    };
    Ok(OpenDb {
        db,
        path,
        description,
        _demo_dir: demo_dir,
    })
}

/// Compiles the demo advisories into a fresh temporary directory.
fn build_demo_db() -> Result<(PathBuf, tempfile::TempDir), DemoDbError> {
    let dir = tempfile::Builder::new()
        .prefix("holdfast-demo-db-")
        .tempdir()?;
    let src = dir.path().join("osv");
    std::fs::create_dir_all(&src)?;
    for (name, text) in DEMO_ADVISORIES {
        std::fs::write(src.join(name), text)?;
    }
    let db = dir.path().join("demo.db");
    holdfast_vulndb::build(&[src], &db)?;
    Ok((db, dir))
}

/// A database's age in whole days, when its build time parses.
pub fn age_days(info: &DbInfo) -> Option<i64> {
    let built = time::OffsetDateTime::parse(
        &info.built_at,
        &time::format_description::well_known::Rfc3339,
    )
    .ok()?;
    Some((time::OffsetDateTime::now_utc() - built).whole_days())
}
