//! The on-disk database: its schema, the builder that writes it, and [`info`].
//!
//! One SQLite file, written by [`Builder`] (or [`build`]) into a temporary file in the
//! target's directory and renamed over the target only once complete, so a reader never
//! sees half a database and a failed build leaves the old one in place.
//!
//! ```sql
//! metadata(key TEXT PRIMARY KEY, value TEXT)          -- see META_* below
//! advisories(
//!   rowid INTEGER PRIMARY KEY,
//!   id TEXT UNIQUE,              -- OSV `id`
//!   modified, published, withdrawn TEXT,               -- RFC 3339, as given
//!   summary TEXT, details TEXT,  -- bounded (MAX_SUMMARY_BYTES, MAX_DETAILS_BYTES)
//!   severity TEXT,               -- OSV top-level `severity[]`, JSON, as given
//!   db_severity TEXT,            -- `database_specific.severity`, as given
//!   rating TEXT, cvss_vector TEXT, cvss_score REAL,   -- record-level rating
//!   refs TEXT, aliases TEXT, related TEXT,            -- JSON arrays of strings
//!   source TEXT)                 -- the file or zip member it came from
//! affected(                     -- WITHOUT ROWID: one package's rows are adjacent
//!   ecosystem TEXT,              -- `affected[].package.ecosystem`, as given
//!   name TEXT,                   -- `affected[].package.name`, normalize_name()d
//!   advisory INTEGER REFERENCES advisories(rowid),
//!   entry INTEGER,               -- index in `affected[]`
//!   ranges TEXT,                 -- ECOSYSTEM/SEMVER `ranges[]`, see below (GIT dropped)
//!   versions TEXT,               -- `versions[]`, one per line; NULL when empty
//!   rating TEXT, rating_source TEXT, cvss_vector TEXT, cvss_score REAL,
//!   PRIMARY KEY (ecosystem, name, advisory, entry))
//! INDEX affected_advisory ON affected(advisory)
//! ```
//!
//! `ranges` holds one line per range: the `type`, then one tab-separated `key=version`
//! per event, in the record's order (`ECOSYSTEM\tintroduced=0\tfixed=1:1.2.13.dfsg-1`).
//! Matching reads it without a JSON parser; versions with control characters are not
//! stored (their range is dropped as bad). Withdrawn advisories keep their `advisories`
//! row but get no `affected` rows: they can never match.
//!
//! Ratings (`severity.rs`) are computed here, once, per `affected[]` entry: matching
//! reads a word and a number instead of parsing vectors.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::Serialize;

use crate::ecosystem::normalize_name;
use crate::ingest::{self, IngestWarning, Limits, Sink};
use crate::osv::{Advisory, Event};
use crate::severity::{rate, Rating, RatingInputs};
use crate::DbError;

/// Version of the database layout; [`crate::VulnDb::open`] refuses any other.
pub const SCHEMA_VERSION: u32 = 1;

/// Longest `summary` kept, in bytes.
pub const MAX_SUMMARY_BYTES: usize = 1024;
/// Longest `details` kept, in bytes (cut at a character boundary, marked with `…`).
pub const MAX_DETAILS_BYTES: usize = 16 * 1024;
/// Longest id, alias, package name or ecosystem accepted, in bytes.
const MAX_ID_BYTES: usize = 512;
/// Most aliases, related ids or references kept per record.
const MAX_LIST: usize = 1024;

const META_SCHEMA: &str = "schema_version";
const META_BUILT_AT: &str = "built_at";
const META_BUILDER: &str = "builder";
const META_SOURCES: &str = "sources";
const META_ECOSYSTEMS: &str = "ecosystems";
const META_ADVISORIES: &str = "advisories";
const META_WITHDRAWN: &str = "withdrawn";

const SCHEMA: &str = "
CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE advisories (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    modified TEXT NOT NULL,
    published TEXT,
    withdrawn TEXT,
    summary TEXT,
    details TEXT,
    severity TEXT,
    db_severity TEXT,
    rating TEXT NOT NULL,
    cvss_vector TEXT,
    cvss_score REAL,
    refs TEXT NOT NULL,
    aliases TEXT NOT NULL,
    related TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE TABLE affected (
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    advisory INTEGER NOT NULL REFERENCES advisories(rowid),
    entry INTEGER NOT NULL,
    ranges TEXT NOT NULL,
    versions TEXT,
    rating TEXT NOT NULL,
    rating_source TEXT NOT NULL,
    cvss_vector TEXT,
    cvss_score REAL,
    PRIMARY KEY (ecosystem, name, advisory, entry)
) WITHOUT ROWID;
CREATE INDEX affected_advisory ON affected(advisory);
";

/// One source of a build and how many advisories were read from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SourceInfo {
    /// The path (or label, for [`Builder::add_zip_reader`]) as given.
    pub source: String,
    /// Records read from it and accepted (before duplicates across sources are merged).
    pub advisories: usize,
}

/// What a build did.
#[derive(Debug, Clone, Default)]
pub struct BuildReport {
    /// Distinct advisories in the database (withdrawn ones included).
    pub advisories: usize,
    /// Of those, withdrawn (`withdrawn` set): kept, never matched.
    pub withdrawn: usize,
    /// Rows of the `affected` table: one per usable `affected[]` entry.
    pub affected_rows: usize,
    /// Records whose id was read before; the one with the later `modified` is kept.
    pub duplicates: usize,
    /// `GIT` ranges dropped: matching by commit needs the repository.
    pub git_ranges_skipped: usize,
    /// Ranges of an unknown `type`, or with no usable event, dropped.
    pub bad_ranges_skipped: usize,
    /// `affected[]` entries without a package (GIT-only records) or without a usable
    /// range or version list.
    pub affected_skipped: usize,
    /// Advisories per ecosystem (`affected[].package.ecosystem` as given), withdrawn
    /// ones excluded.
    pub ecosystems: BTreeMap<String, usize>,
    /// Every source, in the order added.
    pub sources: Vec<SourceInfo>,
    /// The first [`Limits::max_warnings_kept`] warnings.
    pub warnings: Vec<IngestWarning>,
    /// All warnings, kept or not.
    pub warning_count: usize,
    /// Wall time of the build.
    pub elapsed: Duration,
    /// `affected` rows that rated nothing themselves and were rated from an alias, NVD
    /// or Debian's tracker (see [`crate::enrich`]).
    pub enriched: crate::enrich::EnrichCounts,
}

/// What a built database holds, from its `metadata` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DbInfo {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// When the build finished, RFC 3339 UTC.
    pub built_at: String,
    /// The crate and version that wrote it.
    pub builder: String,
    /// Distinct advisories (withdrawn included).
    pub advisories: usize,
    /// Withdrawn advisories.
    pub withdrawn: usize,
    /// Advisories per ecosystem, withdrawn ones excluded.
    pub ecosystems: BTreeMap<String, usize>,
    /// The sources it was built from.
    pub sources: Vec<SourceInfo>,
}

/// Builds a database at `out` from OSV sources: directories, `.json` files, `.zip`s.
///
/// See [`crate::ingest`] for what a source may be and [`Builder`] for the steps.
pub fn build(sources: &[PathBuf], out: &Path) -> Result<BuildReport, DbError> {
    let mut b = Builder::create(out)?;
    for s in sources {
        b.add_path(s)?;
    }
    b.finish()
}

/// Reads a database's metadata.
pub fn info(db: &Path) -> Result<DbInfo, DbError> {
    let conn = open_read_only(db)?;
    read_info(&conn)
}

/// Opens a database read-only, hardened, and checks its schema version.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection, DbError> {
    // Opening a missing file read-only is an SQLite "cannot open"; say which file.
    fs::metadata(path).map_err(|e| DbError::io(path, e))?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // The file may come from elsewhere (a download): no triggers or views may run
    // functions with side effects, and the schema cannot be corrupted by writes.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA,
        false,
    )?;
    // Reads pages with read(2) into SQLite's own bounded page cache. Through a memory map,
    // every page a scan touched counted in its resident memory: a third of the growth of
    // a vulnerability scan's peak between a 370 MiB and a 1.6 GiB image, and more with a
    // larger database. The pages are in the OS page cache either way.
    conn.execute_batch("PRAGMA mmap_size = 0;")?;
    let found: Option<String> = conn
        .query_row(
            "SELECT value FROM metadata WHERE key = ?1",
            [META_SCHEMA],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(_, Some(ref msg)) if msg.contains("no such table") => {
                DbError::SchemaMismatch {
                    found: "none (no metadata table)".into(),
                    expected: SCHEMA_VERSION,
                }
            }
            e => e.into(),
        })?;
    match found {
        Some(v) if v == SCHEMA_VERSION.to_string() => Ok(conn),
        found => Err(DbError::SchemaMismatch {
            found: found.unwrap_or_else(|| "none".into()),
            expected: SCHEMA_VERSION,
        }),
    }
}

pub(crate) fn read_info(conn: &Connection) -> Result<DbInfo, DbError> {
    let mut meta: HashMap<String, String> = HashMap::new();
    let mut stmt = conn.prepare("SELECT key, value FROM metadata")?;
    for row in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))? {
        let (k, v) = row?;
        meta.insert(k, v);
    }
    let get = |k: &str| {
        meta.get(k)
            .cloned()
            .ok_or_else(|| DbError::BadMetadata(format!("no {k}")))
    };
    let num = |k: &str| -> Result<usize, DbError> {
        get(k)?
            .parse()
            .map_err(|_| DbError::BadMetadata(format!("{k} is not a number")))
    };
    let json_err = |k: &str, e: serde_json::Error| DbError::BadMetadata(format!("{k}: {e}"));
    Ok(DbInfo {
        schema_version: SCHEMA_VERSION,
        built_at: get(META_BUILT_AT)?,
        builder: get(META_BUILDER)?,
        advisories: num(META_ADVISORIES)?,
        withdrawn: num(META_WITHDRAWN)?,
        ecosystems: serde_json::from_str(&get(META_ECOSYSTEMS)?)
            .map_err(|e| json_err(META_ECOSYSTEMS, e))?,
        sources: serde_json::from_str(&get(META_SOURCES)?)
            .map_err(|e| json_err(META_SOURCES, e))?,
    })
}

/// Writes a database step by step: [`create`](Builder::create), any number of
/// [`add_path`](Builder::add_path) / [`add_zip_reader`](Builder::add_zip_reader), then
/// [`finish`](Builder::finish). Dropping a builder without finishing removes its
/// temporary file and leaves `out` untouched.
pub struct Builder {
    inner: Option<Inner>,
    tmp: PathBuf,
    out: PathBuf,
}

struct Inner {
    conn: Connection,
    limits: Limits,
    /// id → (rowid, modified) of every advisory stored so far.
    seen: HashMap<String, (i64, String)>,
    report: BuildReport,
    started: Instant,
    /// Label of the source being read, and its accepted records.
    source: SourceInfo,
    /// CVE ratings from NVD files, applied in `finish` to what rates nothing itself.
    nvd: HashMap<String, crate::enrich::ExtraRating>,
    /// Urgencies from Debian's security tracker, likewise.
    tracker: crate::enrich::TrackerUrgencies,
}

impl Builder {
    /// Starts a build whose result will replace `out`.
    pub fn create(out: &Path) -> Result<Builder, DbError> {
        let dir = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let file = out
            .file_name()
            .ok_or_else(|| DbError::io(out, std::io::Error::other("no file name")))?
            .to_string_lossy()
            .into_owned();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tmp = dir.join(format!(".{file}.tmp-{}-{nanos}", std::process::id()));
        let started = Instant::now();
        // Connection::open would also open an existing file: insist on a fresh one.
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| DbError::io(&tmp, e))?;
        let mut builder = Builder {
            inner: None,
            tmp: tmp.clone(),
            out: out.to_path_buf(),
        };
        let conn = Connection::open(&tmp)?;
        // A temporary file renamed into place when complete: no journal is needed.
        conn.execute_batch(
            "PRAGMA journal_mode = OFF;
             PRAGMA synchronous = OFF;
             PRAGMA locking_mode = EXCLUSIVE;
             PRAGMA cache_size = -65536;",
        )?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch("BEGIN")?;
        builder.inner = Some(Inner {
            conn,
            limits: Limits::default(),
            seen: HashMap::new(),
            report: BuildReport::default(),
            started,
            source: SourceInfo {
                source: String::new(),
                advisories: 0,
            },
            nvd: HashMap::new(),
            tracker: HashMap::new(),
        });
        Ok(builder)
    }

    /// Replaces the default [`Limits`].
    pub fn with_limits(mut self, limits: Limits) -> Self {
        if let Some(i) = self.inner.as_mut() {
            i.limits = limits;
        }
        self
    }

    fn inner(&mut self) -> &mut Inner {
        self.inner.as_mut().expect("builder used after finish")
    }

    /// Adds a directory (recursively: `*.json` and `*.zip`), a `.json` file or a `.zip`.
    pub fn add_path(&mut self, source: &Path) -> Result<(), DbError> {
        let inner = self.inner();
        inner.begin_source(source.display().to_string());
        let limits = inner.limits;
        let res = ingest::read_source(source, &limits, inner);
        inner.end_source();
        res
    }

    /// Adds an OSV `all.zip` from any reader (a download held in memory, say);
    /// `label` names it in warnings and in the database's list of sources.
    pub fn add_zip_reader<R: Read + Seek>(
        &mut self,
        label: &str,
        reader: R,
    ) -> Result<(), DbError> {
        let inner = self.inner();
        inner.begin_source(label.to_string());
        let limits = inner.limits;
        let res = ingest::read_zip(&ingest::sanitize(label), reader, &limits, inner);
        inner.end_source();
        res
    }

    /// Adds an NVD CVE API 2.0 JSON file (plain or gzip): its CVSS ratings rate the
    /// advisories that name those CVEs and rate nothing themselves.
    pub fn add_nvd(&mut self, path: &Path) -> Result<(), DbError> {
        let ratings = crate::enrich::read_nvd(path)?;
        self.inner().nvd.extend(ratings);
        Ok(())
    }

    /// Adds Debian's security tracker JSON export (plain or gzip): its urgencies rate the
    /// Debian advisories that nothing else rates.
    pub fn add_debian_tracker(&mut self, path: &Path) -> Result<(), DbError> {
        let urgencies = crate::enrich::read_debian_tracker(path)?;
        self.inner().tracker.extend(urgencies);
        Ok(())
    }

    /// [`add_nvd`](Self::add_nvd) on a download held in memory; `label` (its URL) names
    /// it in errors.
    pub fn add_nvd_bytes(&mut self, label: &str, bytes: &[u8]) -> Result<(), DbError> {
        let label = Path::new(label);
        let ratings = crate::enrich::parse_nvd(label, &crate::enrich::inflate(label, bytes)?)?;
        self.inner().nvd.extend(ratings);
        Ok(())
    }

    /// [`add_debian_tracker`](Self::add_debian_tracker) on a download held in memory.
    pub fn add_debian_tracker_bytes(&mut self, label: &str, bytes: &[u8]) -> Result<(), DbError> {
        let label = Path::new(label);
        let urgencies =
            crate::enrich::parse_debian_tracker(label, &crate::enrich::inflate(label, bytes)?)?;
        self.inner().tracker.extend(urgencies);
        Ok(())
    }

    /// Writes the metadata, commits, and renames the database over `out`.
    pub fn finish(mut self) -> Result<BuildReport, DbError> {
        let inner = self.inner.take().expect("builder used after finish");
        let report = inner.finish()?;
        sync_file(&self.tmp)?;
        fs::rename(&self.tmp, &self.out).map_err(|e| DbError::io(&self.out, e))?;
        if let Some(dir) = self.out.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Make the rename durable; not every platform can open a directory.
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(report)
    }
}

impl Drop for Builder {
    fn drop(&mut self) {
        // After a successful finish the temporary file has been renamed away.
        drop(self.inner.take());
        let _ = fs::remove_file(&self.tmp);
    }
}

fn sync_file(path: &Path) -> Result<(), DbError> {
    fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| DbError::io(path, e))
}

impl Sink for Inner {
    fn record(&mut self, label: String, bytes: Vec<u8>) -> Result<(), DbError> {
        let adv: Advisory = match serde_json::from_slice(&bytes) {
            Ok(a) => a,
            Err(e) => {
                self.warn(ingest::warning(&label, format!("not an OSV record: {e}")));
                return Ok(());
            }
        };
        drop(bytes);
        if let Err(why) = check_record(&adv) {
            self.warn(ingest::warning(&label, why));
            return Ok(());
        }
        self.insert(&label, adv)
    }

    fn warn(&mut self, warning: IngestWarning) {
        self.report.warning_count += 1;
        if self.report.warnings.len() < self.limits.max_warnings_kept {
            self.report.warnings.push(warning);
        }
    }
}

/// The fields without which a record is skipped: those the schema requires.
fn check_record(adv: &Advisory) -> Result<(), String> {
    let id = adv.id.trim();
    if id.is_empty() {
        return Err("skipped: no `id`".into());
    }
    if !valid_id(id) {
        return Err("skipped: `id` is too long or has control characters".into());
    }
    if adv.modified.trim().is_empty() {
        return Err(format!("skipped {id}: no `modified`"));
    }
    Ok(())
}

fn valid_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_ID_BYTES && !s.chars().any(char::is_control)
}

/// Cuts `s` to at most `max` bytes at a character boundary, marking the cut.
fn bounded(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// A version fit for the `ranges` / `versions` encoding: bounded, no control characters.
fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= holdfast_version::MAX_VERSION_LEN
        && !v.chars().any(char::is_control)
}

/// Encodes one ECOSYSTEM/SEMVER range as a `ranges` line; `None` when the range has no
/// `introduced` event (the schema requires one) or a version that cannot be stored.
/// Events with other than exactly one key set (invalid per the schema) are dropped.
pub(crate) fn encode_range(kind: &str, events: &[Event]) -> Option<String> {
    let mut line = kind.to_string();
    let mut introduced = false;
    for e in events {
        let (key, v) = match (&e.introduced, &e.fixed, &e.last_affected, &e.limit) {
            (Some(v), None, None, None) => ("introduced", v),
            (None, Some(v), None, None) => ("fixed", v),
            (None, None, Some(v), None) => ("last_affected", v),
            (None, None, None, Some(v)) => ("limit", v),
            _ => continue,
        };
        let v = v.trim();
        if !valid_version(v) {
            return None;
        }
        introduced |= key == "introduced";
        line.push('\t');
        line.push_str(key);
        line.push('=');
        line.push_str(v);
    }
    introduced.then_some(line)
}

fn string_list(items: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = items.filter(|s| valid_id(s)).take(MAX_LIST).collect();
    serde_json::to_string(&v).unwrap_or_else(|_| "[]".into())
}

impl Inner {
    fn begin_source(&mut self, label: String) {
        self.source = SourceInfo {
            source: label,
            advisories: 0,
        };
    }

    fn end_source(&mut self) {
        let s = std::mem::replace(
            &mut self.source,
            SourceInfo {
                source: String::new(),
                advisories: 0,
            },
        );
        self.report.sources.push(s);
    }

    fn insert(&mut self, label: &str, adv: Advisory) -> Result<(), DbError> {
        let id = adv.id.trim().to_string();
        if let Some((rowid, modified)) = self.seen.get(&id) {
            self.report.duplicates += 1;
            // RFC 3339 UTC timestamps of one feed compare as strings.
            if adv.modified.as_str() <= modified.as_str() {
                self.source.advisories += 1;
                return Ok(());
            }
            let rowid = *rowid;
            self.conn
                .prepare_cached("DELETE FROM affected WHERE advisory = ?1")?
                .execute([rowid])?;
            self.conn
                .prepare_cached("DELETE FROM advisories WHERE rowid = ?1")?
                .execute([rowid])?;
        }
        self.source.advisories += 1;

        let top = rate(&RatingInputs {
            affected_severity: &[],
            top_severity: &adv.severity,
            affected_database: None,
            top_database: adv.database_specific.as_ref(),
            affected_ecosystem: None,
        });
        let severity_json = (!adv.severity.is_empty())
            .then(|| serde_json::to_string(&adv.severity).ok())
            .flatten();
        let db_severity = adv
            .database_specific
            .as_ref()
            .and_then(|d| d.severity.as_ref())
            .map(|v| match v {
                serde_json::Value::String(s) => bounded(s, 64),
                other => bounded(&other.to_string(), 64),
            });
        let refs = string_list(
            adv.references
                .iter()
                .filter_map(|r| r.url.as_ref())
                .map(|u| u.trim().to_string())
                .filter(|u| u.len() <= 2048),
        );
        let aliases = string_list(adv.aliases.iter().map(|s| s.trim().to_string()));
        let related = string_list(adv.related.iter().map(|s| s.trim().to_string()));
        let withdrawn = adv
            .withdrawn
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty());
        self.conn
            .prepare_cached(
                "INSERT INTO advisories (id, modified, published, withdrawn, summary, details,
                   severity, db_severity, rating, cvss_vector, cvss_score, refs, aliases, related,
                   source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?
            .execute(params![
                id,
                bounded(adv.modified.trim(), 64),
                adv.published.as_deref().map(|p| bounded(p.trim(), 64)),
                withdrawn.map(|w| bounded(w, 64)),
                adv.summary
                    .as_deref()
                    .map(|s| bounded(s.trim(), MAX_SUMMARY_BYTES)),
                adv.details
                    .as_deref()
                    .map(|d| bounded(d.trim(), MAX_DETAILS_BYTES)),
                severity_json,
                db_severity,
                top.severity.as_str(),
                top.vector,
                top.score,
                refs,
                aliases,
                related,
                label,
            ])?;
        let rowid = self.conn.last_insert_rowid();
        self.seen.insert(id, (rowid, adv.modified.clone()));

        if withdrawn.is_some() {
            // Kept for lookups by id; never matched.
            return Ok(());
        }
        for (entry, aff) in adv.affected.iter().enumerate() {
            let Some(pkg) = aff.package.as_ref() else {
                self.report.affected_skipped += 1;
                continue;
            };
            let ecosystem = pkg.ecosystem.trim();
            let name = normalize_name(ecosystem, &pkg.name);
            if !valid_id(ecosystem) || !valid_id(&name) {
                self.report.affected_skipped += 1;
                continue;
            }
            let mut ranges = String::new();
            for r in &aff.ranges {
                match r.kind.as_str() {
                    "GIT" => self.report.git_ranges_skipped += 1,
                    "ECOSYSTEM" | "SEMVER" => match encode_range(&r.kind, &r.events) {
                        Some(line) => {
                            if !ranges.is_empty() {
                                ranges.push('\n');
                            }
                            ranges.push_str(&line);
                        }
                        None => self.report.bad_ranges_skipped += 1,
                    },
                    _ => self.report.bad_ranges_skipped += 1,
                }
            }
            let versions: Vec<&str> = aff
                .versions
                .iter()
                .map(|v| v.trim())
                .filter(|v| valid_version(v))
                .collect();
            if ranges.is_empty() && versions.is_empty() {
                self.report.affected_skipped += 1;
                continue;
            }
            let rating: Rating = rate(&RatingInputs {
                affected_severity: &aff.severity,
                top_severity: &adv.severity,
                affected_database: aff.database_specific.as_ref(),
                top_database: adv.database_specific.as_ref(),
                affected_ecosystem: aff.ecosystem_specific.as_ref(),
            });
            let versions = (!versions.is_empty()).then(|| versions.join("\n"));
            self.conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO affected (ecosystem, name, advisory, entry, ranges,
                       versions, rating, rating_source, cvss_vector, cvss_score)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )?
                .execute(params![
                    ecosystem,
                    name,
                    rowid,
                    entry as i64,
                    ranges,
                    versions,
                    rating.severity.as_str(),
                    rating.source,
                    rating.vector,
                    rating.score,
                ])?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<BuildReport, DbError> {
        self.report.enriched = crate::enrich::enrich(&self.conn, &self.nvd, &self.tracker)?;
        let conn = &self.conn;
        let count = |sql: &str| -> Result<usize, DbError> {
            Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as usize)
        };
        self.report.advisories = count("SELECT COUNT(*) FROM advisories")?;
        self.report.withdrawn =
            count("SELECT COUNT(*) FROM advisories WHERE withdrawn IS NOT NULL")?;
        self.report.affected_rows = count("SELECT COUNT(*) FROM affected")?;
        let mut ecosystems = BTreeMap::new();
        {
            let mut stmt = conn.prepare(
                "SELECT ecosystem, COUNT(DISTINCT advisory) FROM affected GROUP BY ecosystem",
            )?;
            for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
                let (e, n) = row?;
                ecosystems.insert(e, n as usize);
            }
        }
        self.report.ecosystems = ecosystems;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let meta = [
            (META_SCHEMA, SCHEMA_VERSION.to_string()),
            (META_BUILT_AT, rfc3339_utc(now)),
            (
                META_BUILDER,
                concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION")).to_string(),
            ),
            (
                META_SOURCES,
                serde_json::to_string(&self.report.sources).unwrap_or_else(|_| "[]".into()),
            ),
            (
                META_ECOSYSTEMS,
                serde_json::to_string(&self.report.ecosystems).unwrap_or_else(|_| "{}".into()),
            ),
            (META_ADVISORIES, self.report.advisories.to_string()),
            (META_WITHDRAWN, self.report.withdrawn.to_string()),
        ];
        for (k, v) in meta {
            conn.execute(
                "INSERT INTO metadata (key, value) VALUES (?1, ?2)",
                params![k, v],
            )?;
        }
        // No ANALYZE: with the bundled SQLite's STAT4, statistics make SQLite re-prepare
        // a statement whenever its bound values change, i.e. on every lookup.
        conn.execute_batch("COMMIT")?;
        self.report.elapsed = self.started.elapsed();
        let report = std::mem::take(&mut self.report);
        self.conn.close().map_err(|(_, e)| DbError::Sqlite(e))?;
        Ok(report)
    }
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn bounded_cuts_on_char_boundaries() {
        assert_eq!(bounded("abc", 3), "abc");
        let s = bounded("ééééé", 6);
        assert!(s.len() <= 6 && s.ends_with('…'), "{s}");
    }
}
