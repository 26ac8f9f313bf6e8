//! Reader for `rpmdb.sqlite` (rpm >= 4.16; RHEL 9, Fedora 33+).
//!
//! rpm's sqlite backend (`lib/backend/sqlite.c`) keeps one row per package
//! in `Packages(hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)`;
//! `blob` is the header blob. The other tables are indexes and are ignored.
//!
//! SQLite is asked to read the file only: it is opened with
//! `SQLITE_OPEN_READ_ONLY` and the `immutable=1` URI parameter (no locks, no
//! `-shm`, nothing written next to the image's file). Because an untrusted
//! schema could make a query expensive, the reader insists that `Packages`
//! is an ordinary table, turns off `trusted_schema`, caps value sizes, and
//! aborts any statement that runs more than a fixed number of VM steps.
//!
//! A database in WAL mode may keep committed rows in `rpmdb.sqlite-wal`
//! until the next checkpoint. `immutable=1` ignores that file, so when a
//! non-empty WAL is present both files are copied to a private temporary
//! directory and the copy is opened read-only without `immutable`, which
//! lets SQLite replay the WAL there.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rusqlite::limits::Limit;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use crate::header::MAX_HEADER_BLOB;
use crate::{Collector, RpmDbError, RpmDbRead};

/// The progress handler runs every this many SQLite VM instructions...
const PROGRESS_INTERVAL: i32 = 10_000;
/// ...and aborts the statement after this many calls (2e8 instructions,
/// orders of magnitude above what reading a real database takes).
const PROGRESS_BUDGET: u64 = 20_000;

/// Reads an `rpmdb.sqlite` file in place, without modifying it or its
/// directory. A non-empty `<path>-wal` beside it is taken into account (see
/// the module docs).
pub fn read_sqlite(path: &Path) -> Result<RpmDbRead, RpmDbError> {
    let wal = wal_path(path);
    let wal_used = fs::metadata(&wal).map(|m| m.len() > 0).unwrap_or(false);
    if !wal_used {
        return read_opened(&open(path, true)?);
    }
    let dir = temp_dir()?;
    let db_copy = dir.path().join("rpmdb.sqlite");
    fs::copy(path, &db_copy).map_err(|source| RpmDbError::Io {
        context: format!("copying {} to a temporary directory", path.display()),
        source,
    })?;
    fs::copy(&wal, wal_path(&db_copy)).map_err(|source| RpmDbError::Io {
        context: format!("copying {} to a temporary directory", wal.display()),
        source,
    })?;
    let conn = open(&db_copy, false)?;
    let read = read_opened(&conn);
    drop(conn);
    read
}

/// Reads an `rpmdb.sqlite` held in memory. SQLite needs a file, so the bytes
/// are written to a private temporary file that is deleted afterwards. Rows
/// that only exist in a `-wal` file are not seen; use
/// [`read_sqlite_bytes_with_wal`] when the WAL is available.
pub fn read_sqlite_bytes(bytes: &[u8]) -> Result<RpmDbRead, RpmDbError> {
    read_sqlite_bytes_with_wal(bytes, &[])
}

/// Like [`read_sqlite_bytes`], also replaying the contents of the database's
/// `rpmdb.sqlite-wal` file (pass an empty slice if there is none).
pub fn read_sqlite_bytes_with_wal(db: &[u8], wal: &[u8]) -> Result<RpmDbRead, RpmDbError> {
    let dir = temp_dir()?;
    let db_path = dir.path().join("rpmdb.sqlite");
    write(&db_path, db)?;
    if !wal.is_empty() {
        write(&wal_path(&db_path), wal)?;
    }
    let conn = open(&db_path, wal.is_empty())?;
    let read = read_opened(&conn);
    drop(conn);
    read
}

fn temp_dir() -> Result<tempfile::TempDir, RpmDbError> {
    tempfile::Builder::new()
        .prefix("holdfast-rpmdb-")
        .tempdir()
        .map_err(|source| RpmDbError::Io {
            context: "creating a temporary directory for rpmdb.sqlite".into(),
            source,
        })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), RpmDbError> {
    fs::write(path, bytes).map_err(|source| RpmDbError::Io {
        context: format!("writing {}", path.display()),
        source,
    })
}

/// `<path>-wal`, SQLite's name for the write-ahead log.
fn wal_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push("-wal");
    PathBuf::from(s)
}

/// Percent-encodes a path for a `file:` URI (SQLite "URI filenames": `?`,
/// `#` and `%` must be escaped; everything unusual is, to be safe).
fn uri_for(path: &Path, immutable: bool) -> String {
    #[cfg(unix)]
    let raw: Vec<u8> = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let raw: Vec<u8> = path.to_string_lossy().replace('\\', "/").into_bytes();
    let mut uri = String::from("file:");
    for b in raw {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str(if immutable {
        "?mode=ro&immutable=1"
    } else {
        "?mode=ro"
    });
    uri
}

/// Opens the database read-only with the hardening described in the module
/// docs.
fn open(path: &Path, immutable: bool) -> Result<Connection, RpmDbError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(uri_for(path, immutable), flags)?;
    // Values larger than any valid header are refused by SQLite itself.
    let max = i32::try_from(MAX_HEADER_BLOB + 1).unwrap_or(i32::MAX);
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, max)?;
    conn.pragma_update(None, "trusted_schema", false)?;
    conn.pragma_update(None, "cell_size_check", true)?;
    let calls = Arc::new(AtomicU64::new(0));
    conn.progress_handler(
        PROGRESS_INTERVAL,
        Some(move || calls.fetch_add(1, Ordering::Relaxed) >= PROGRESS_BUDGET),
    );
    Ok(conn)
}

/// Reads all rows of `Packages` from an opened database.
fn read_opened(conn: &Connection) -> Result<RpmDbRead, RpmDbError> {
    // rpm creates `Packages` as an ordinary table; a view or virtual table
    // in an untrusted file could run arbitrary queries, so refuse those.
    let sql: Option<String> = conn
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'Packages'",
            [],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    let sql = sql.ok_or_else(|| RpmDbError::SqliteSchema("no Packages table".into()))?;
    let head: String = sql
        .trim_start()
        .chars()
        .take(12)
        .collect::<String>()
        .to_ascii_uppercase();
    if head != "CREATE TABLE" {
        return Err(RpmDbError::SqliteSchema(
            "Packages is not an ordinary table".into(),
        ));
    }

    // Oversized values are not loaded at all: length() is answered from the
    // record header.
    let mut stmt = conn.prepare(
        "SELECT hnum, \
                CASE WHEN length(blob) <= ?1 THEN CAST(blob AS BLOB) END, \
                typeof(blob), length(blob) \
         FROM Packages",
    )?;
    let limit = i64::try_from(MAX_HEADER_BLOB).unwrap_or(i64::MAX);
    let mut rows = stmt.query([limit])?;
    let mut out = Collector::default();
    let mut n = 0usize;
    loop {
        let row = match rows.next() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                out.warn(format!(
                    "sqlite: reading Packages stopped after {n} rows: {e}"
                ));
                break;
            }
        };
        n += 1;
        let hnum = match row.get_ref(0) {
            Ok(ValueRef::Integer(i)) => i.to_string(),
            Ok(other) => format!("{:?}", other.data_type()),
            Err(e) => e.to_string(),
        };
        let location = format!("sqlite Packages row hnum={hnum}");
        match row.get_ref(1) {
            Ok(ValueRef::Blob(b)) => out.add_blob(&location, b),
            Ok(_) => {
                let ty: String = row.get(2).unwrap_or_default();
                let len: i64 = row.get(3).unwrap_or_default();
                out.warn(format!(
                    "{location}: blob is {ty} of length {len}, not a header blob of at most {MAX_HEADER_BLOB} bytes"
                ));
            }
            Err(e) => out.warn(format!("{location}: {e}")),
        }
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::tests::sample_header;

    /// Creates an rpm-shaped database with rusqlite and returns its bytes.
    fn make_db(dir: &Path, rows: &[(i64, Vec<u8>)], wal: bool) -> (Vec<u8>, Vec<u8>) {
        let path = dir.join("rpmdb.sqlite");
        let conn = Connection::open(&path).expect("create");
        if wal {
            let _: String = conn
                .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
                .expect("wal");
            conn.pragma_update(None, "wal_autocheckpoint", 0)
                .expect("no checkpoint");
        }
        conn.execute_batch(
            "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL);",
        )
        .expect("schema");
        if wal {
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .expect("checkpoint");
        }
        for (h, b) in rows {
            conn.execute("INSERT INTO Packages VALUES (?1, ?2)", (h, b))
                .expect("insert");
        }
        // Copy while the connection is open so the WAL is not checkpointed.
        let db = fs::read(&path).expect("read db");
        let walb = fs::read(wal_path(&path)).unwrap_or_default();
        (db, walb)
    }

    #[test]
    fn reads_rows_and_reports_bad_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, _) = make_db(
            dir.path(),
            &[
                (1, sample_header("one")),
                (2, b"garbage".to_vec()),
                (3, sample_header("gpg-pubkey")),
                (4, sample_header("four")),
            ],
            false,
        );
        assert_eq!(crate::detect_kind(&db), Some(crate::RpmDbKind::Sqlite));
        let r = read_sqlite_bytes(&db).expect("readable");
        let names: Vec<_> = r.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["one", "four"]);
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert!(r.warnings[0].starts_with("sqlite Packages row hnum=2: rpm header"));
    }

    #[test]
    fn wal_rows_are_replayed_when_available() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, wal) = make_db(dir.path(), &[(1, sample_header("in-wal"))], true);
        assert!(!wal.is_empty());
        assert!(read_sqlite_bytes(&db).expect("ok").packages.is_empty());
        let r = read_sqlite_bytes_with_wal(&db, &wal).expect("ok");
        assert_eq!(r.packages.len(), 1);
        // read_sqlite on a path with a WAL beside it, in a directory with
        // odd characters, leaves the directory untouched.
        let odd = dir.path().join("we?ird #dir%");
        fs::create_dir(&odd).expect("mkdir");
        fs::write(odd.join("rpmdb.sqlite"), &db).expect("write");
        fs::write(odd.join("rpmdb.sqlite-wal"), &wal).expect("write");
        let r = read_sqlite(&odd.join("rpmdb.sqlite")).expect("ok");
        assert_eq!(r.packages[0].name, "in-wal");
        let mut names: Vec<_> = fs::read_dir(&odd)
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["rpmdb.sqlite", "rpmdb.sqlite-wal"]);
    }

    #[test]
    fn hostile_schemas_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("v.sqlite");
        let conn = Connection::open(&path).expect("create");
        conn.execute_batch(
            "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) \
             SELECT x AS hnum, x AS blob FROM c;",
        )
        .expect("view");
        drop(conn);
        let err = read_sqlite(&path).expect_err("view refused");
        assert!(err.to_string().contains("no Packages table"), "{err}");

        let path = dir.path().join("n.sqlite");
        Connection::open(&path)
            .expect("create")
            .execute_batch("CREATE TABLE Other(x);")
            .expect("table");
        assert!(matches!(
            read_sqlite(&path),
            Err(RpmDbError::SqliteSchema(_))
        ));

        // Not a database at all.
        assert!(read_sqlite_bytes(b"SQLite format 3\0 but truncated").is_err());
    }

    #[test]
    fn uri_escaping() {
        assert_eq!(
            uri_for(Path::new("/a b/c?d#e%f"), true),
            "file:/a%20b/c%3Fd%23e%25f?mode=ro&immutable=1"
        );
    }
}
