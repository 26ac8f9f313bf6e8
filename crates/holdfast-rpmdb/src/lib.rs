//! Pure-Rust reader for the installed-package database of RPM-based
//! distributions, for scanning untrusted container images without ever
//! running `rpm`.
//!
//! Three on-disk backends are understood:
//!
//! | backend | file | distributions |
//! | --- | --- | --- |
//! | [`RpmDbKind::Sqlite`] | `rpmdb.sqlite` | RHEL/Alma/Rocky 9+, Fedora 33+ |
//! | [`RpmDbKind::BerkeleyDb`] | `Packages` | RHEL/CentOS <= 8, Amazon Linux 2, older SUSE |
//! | [`RpmDbKind::Ndb`] | `Packages.db` | SUSE/openSUSE 15.x+ |
//!
//! Each backend only locates the stored package header blobs; [`parse_header`]
//! turns a blob into an [`RpmPackage`].
//!
//! Input is treated as hostile: no data-derived offset is used unchecked,
//! allocation is bounded by the input size or fixed caps, page chains are
//! walked with cycle detection, and nothing recurses. One damaged package
//! becomes a warning in [`RpmDbRead::warnings`]; only damage that makes the
//! whole database unreadable is an error.
//!
//! ```no_run
//! let bytes = std::fs::read("var/lib/rpm/Packages")?;
//! if let Some(kind) = holdfast_rpmdb::detect_kind(&bytes) {
//!     let read = holdfast_rpmdb::read_packages(kind, &bytes)?;
//!     for p in &read.packages {
//!         println!("{} {}-{}", p.name, p.version, p.release);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bdb;
mod bytes;
mod error;
mod header;
mod ndb;
mod sqlite;

use std::fmt::Display;

pub use error::RpmDbError;
pub use sqlite::{read_sqlite, read_sqlite_bytes, read_sqlite_bytes_with_wal};

/// Cap on the bytes of file paths kept for a single package. Paths are
/// rebuilt by joining a directory name and a base name, so a small hostile
/// header could otherwise expand into gigabytes.
pub const MAX_FILE_PATH_BYTES_PER_PACKAGE: usize = 64 << 20;
/// Cap on the bytes of file paths kept for a whole database read. Real
/// databases (a few thousand packages, a few hundred thousand files) use a
/// few tens of MiB.
pub const MAX_FILE_PATH_BYTES_TOTAL: usize = 512 << 20;
/// Cap on the number of warnings kept; further ones are counted in a final
/// summary warning.
pub const MAX_WARNINGS: usize = 1000;

/// One installed package, as recorded in the rpm database.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RpmPackage {
    /// Package name (NAME tag), e.g. `bash`.
    pub name: String,
    /// EPOCH tag; `None` when the package has no epoch (rpm treats that as 0
    /// when comparing versions).
    pub epoch: Option<u32>,
    /// VERSION tag, e.g. `5.1.8`.
    pub version: String,
    /// RELEASE tag, e.g. `6.el9`.
    pub release: String,
    /// ARCH tag, e.g. `x86_64` or `noarch`; absent on pseudo packages.
    pub arch: Option<String>,
    /// SOURCERPM tag, e.g. `bash-5.1.8-6.el9.src.rpm`.
    pub source_rpm: Option<String>,
    /// LICENSE tag.
    pub license: Option<String>,
    /// VENDOR tag.
    pub vendor: Option<String>,
    /// Installed size in bytes: LONGSIZE tag, else SIZE tag.
    pub size: Option<u64>,
    /// MODULARITYLABEL tag (RHEL/Fedora modular packages), e.g.
    /// `perl:5.30:8030020200826185052:466ea64f`.
    pub modularity_label: Option<String>,
    /// Installed file paths, rebuilt from DIRNAMES + BASENAMES + DIRINDEXES
    /// (or OLDFILENAMES for ancient headers). Empty if the package owns no
    /// files or its file list was damaged (a warning says so).
    pub files: Vec<String>,
}

/// The on-disk format of an rpm database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RpmDbKind {
    /// `rpmdb.sqlite`: SQLite 3 database with a `Packages(hnum, blob)` table.
    Sqlite,
    /// `Packages`: Berkeley DB hash database keyed by header number.
    BerkeleyDb,
    /// `Packages.db`: rpm's own "ndb" package store.
    Ndb,
}

/// The result of reading a database: the packages that could be read, and
/// one warning per record that could not (or was only partly) read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RpmDbRead {
    /// Packages in storage order, without `gpg-pubkey` pseudo packages.
    pub packages: Vec<RpmPackage>,
    /// Human-readable descriptions of skipped or partly read records.
    pub warnings: Vec<String>,
}

/// SQLite file header: "SQLite format 3" followed by a NUL byte.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Identifies the database format from its first bytes.
///
/// * SQLite: the 16-byte string `SQLite format 3\0` at offset 0.
/// * Berkeley DB hash: magic `0x061561` at offset 12 of the metadata page,
///   in either byte order (Berkeley DB `DBMETA.magic`).
/// * NDB: `RpmP` at offset 0 (little-endian `PKGDB_MAGIC`).
pub fn detect_kind(bytes: &[u8]) -> Option<RpmDbKind> {
    if bytes.starts_with(SQLITE_MAGIC) {
        Some(RpmDbKind::Sqlite)
    } else if ndb::has_magic(bytes) {
        Some(RpmDbKind::Ndb)
    } else if bdb::has_magic(bytes) {
        Some(RpmDbKind::BerkeleyDb)
    } else {
        None
    }
}

/// Reads every package from a database held in memory.
///
/// SQLite needs a file, so for [`RpmDbKind::Sqlite`] the bytes are written to
/// a private temporary file first (see [`read_sqlite_bytes`]).
///
/// Returns `Err` only when the database as a whole cannot be read; damaged
/// individual records are skipped and described in
/// [`RpmDbRead::warnings`].
pub fn read_packages(kind: RpmDbKind, bytes: &[u8]) -> Result<RpmDbRead, RpmDbError> {
    match kind {
        RpmDbKind::Sqlite => read_sqlite_bytes(bytes),
        RpmDbKind::BerkeleyDb => bdb::read(bytes),
        RpmDbKind::Ndb => ndb::read(bytes),
    }
}

/// Parses a single rpm header blob (as stored in any of the databases, or
/// the main header of an `.rpm` file including its 8-byte intro).
///
/// Problems that only affect the file list are pushed to `warnings` and
/// leave [`RpmPackage::files`] empty; anything else is an error. File paths
/// are capped at [`MAX_FILE_PATH_BYTES_PER_PACKAGE`] bytes.
pub fn parse_header(blob: &[u8], warnings: &mut Vec<String>) -> Result<RpmPackage, RpmDbError> {
    let mut used = 0;
    header::parse_header_budgeted(blob, warnings, MAX_FILE_PATH_BYTES_PER_PACKAGE, &mut used)
}

/// Accumulates packages and warnings for one database read, enforcing the
/// warning cap and the database-wide file path budget.
#[derive(Default)]
pub(crate) struct Collector {
    read: RpmDbRead,
    suppressed: usize,
    path_bytes: usize,
}

impl Collector {
    /// Records a warning, or counts it once [`MAX_WARNINGS`] is reached.
    pub(crate) fn warn(&mut self, msg: impl Into<String>) {
        if self.read.warnings.len() < MAX_WARNINGS {
            self.read.warnings.push(msg.into());
        } else {
            self.suppressed += 1;
        }
    }

    /// Parses one header blob found at `location` (used as the warning
    /// prefix) and keeps the package unless it is a `gpg-pubkey` pseudo
    /// package (an imported signing key, not software).
    pub(crate) fn add_blob(&mut self, location: &dyn Display, blob: &[u8]) {
        let budget = MAX_FILE_PATH_BYTES_PER_PACKAGE
            .min(MAX_FILE_PATH_BYTES_TOTAL.saturating_sub(self.path_bytes));
        let mut warnings = Vec::new();
        let mut used = 0;
        match header::parse_header_budgeted(blob, &mut warnings, budget, &mut used) {
            Ok(pkg) => {
                for w in warnings {
                    self.warn(format!("{location}: {w}"));
                }
                if pkg.name == "gpg-pubkey" {
                    return;
                }
                self.path_bytes = self.path_bytes.saturating_add(used);
                self.read.packages.push(pkg);
            }
            Err(e) => self.warn(format!("{location}: {e}")),
        }
    }

    /// Finishes the read, appending the count of suppressed warnings.
    pub(crate) fn finish(mut self) -> RpmDbRead {
        if self.suppressed > 0 {
            self.read
                .warnings
                .push(format!("{} further warnings suppressed", self.suppressed));
        }
        self.read
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_magic() {
        assert_eq!(
            detect_kind(b"SQLite format 3\0rest"),
            Some(RpmDbKind::Sqlite)
        );
        assert_eq!(detect_kind(b"RpmP\0\0\0\0"), Some(RpmDbKind::Ndb));
        let mut bdb = vec![0u8; 512];
        bdb[12..16].copy_from_slice(&0x0006_1561u32.to_le_bytes());
        assert_eq!(detect_kind(&bdb), Some(RpmDbKind::BerkeleyDb));
        bdb[12..16].copy_from_slice(&0x0006_1561u32.to_be_bytes());
        assert_eq!(detect_kind(&bdb), Some(RpmDbKind::BerkeleyDb));
        assert_eq!(detect_kind(b""), None);
        assert_eq!(detect_kind(&[0u8; 4096]), None);
    }

    #[test]
    fn wrong_backend_is_a_clean_error() {
        for kind in [RpmDbKind::BerkeleyDb, RpmDbKind::Ndb] {
            let err = read_packages(kind, b"SQLite format 3\0").expect_err("wrong magic");
            assert!(matches!(err, RpmDbError::WrongMagic { expected } if expected == kind));
        }
    }

    #[test]
    fn collector_skips_gpg_pubkey_and_caps_warnings() {
        let mut c = Collector::default();
        c.add_blob(&"a", &header::tests::sample_header("gpg-pubkey"));
        c.add_blob(&"b", &header::tests::sample_header("real"));
        for i in 0..MAX_WARNINGS + 5 {
            c.add_blob(&format!("bad {i}"), b"\0\0");
        }
        let r = c.finish();
        assert_eq!(r.packages.len(), 1);
        assert_eq!(r.packages[0].name, "real");
        assert_eq!(r.warnings.len(), MAX_WARNINGS + 1);
        assert_eq!(
            r.warnings[0],
            "bad 0: rpm header needs 8 bytes but the blob has only 2"
        );
        assert_eq!(r.warnings[MAX_WARNINGS], "5 further warnings suppressed");
    }
}
