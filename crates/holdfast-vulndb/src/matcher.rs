//! Matching installed packages against a built database.
//!
//! A scan runs in three steps inside one read transaction: each package is planned (see
//! `ecosystem.rs` for which ecosystems and names it is looked up under), the `affected`
//! rows of every planned (ecosystem, name) are read with one statement per ecosystem
//! (the names passed as a JSON array) and their ranges parsed once, and each package's
//! `affected[]` entries are evaluated as the OSV schema's "Evaluation" section says:
//!
//! * `versions[]` lists are matched exactly (for Go, with or without the `v` prefix);
//! * `ECOSYSTEM` and `SEMVER` ranges are evaluated with the ecosystem's
//!   [`holdfast_version::Scheme`] (SemVer for `SEMVER` ranges of ecosystems without
//!   one): events sorted by version, `introduced` opens the range (`"0"` before every
//!   version, whatever the scheme can parse), `fixed` closes it at that version,
//!   `last_affected` closes it after that version, and `limit` bounds it from above
//!   (`"*"` is infinity). A range with an event that does not parse is skipped and
//!   counted, never guessed at; `GIT` ranges were dropped (and counted) at build time;
//! * withdrawn advisories have no `affected` rows, so never match.
//!
//! Then one finding is made per vulnerability and package: records that alias each
//! other (a `GHSA`, a `PYSEC`, a `DEBIAN-CVE-…` with the same CVE alias) are merged, the
//! CVE id becomes the finding's id and the other ids its aliases; `related` ids become
//! references. A record naming several CVEs (a DSA fixing three) gives one finding per
//! CVE.
//!
//! Package names and versions come from the image and are untrusted: the hash maps keep
//! std's keyed hasher, and nothing here is worse than linear in the rows read.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::rc::Rc;

use holdfast_model::{Cvss, Finding, FindingKind, FindingStatus, OsRelease, Package, Severity};
use holdfast_version::{parse, Scheme, Version};
use rusqlite::{Connection, OptionalExtension};

use crate::db::{open_read_only, read_info, DbInfo};
use crate::ecosystem::{lookups, normalize_name, os_selectors, Selector};
use crate::DbError;

/// A vulnerability database opened read-only, shareable between threads.
///
/// It holds a small pool of read-only connections so that concurrent scans match in
/// parallel. One is opened with the database; more are opened when matches overlap, up to
/// a bound, and only while the path still names the same file (device and inode): a `db
/// update` renames a new file into place, and a handle must keep reading the file it was
/// opened on, so after a rename matches wait for the connections it has.
pub struct VulnDb {
    pool: ConnectionPool,
    info: DbInfo,
    /// Every ecosystem the database holds advisories for.
    ecosystems: Vec<String>,
}

/// One finding and what the [`Finding`] model has no field for.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchedAdvisory {
    /// The finding, ready for the result.
    pub finding: Finding,
    /// The CVSS vector the severity was computed from, when it was.
    pub cvss_vector: Option<String>,
    /// The CVSS base score (or a database's bare score), when there is one.
    pub cvss_score: Option<f64>,
    /// Index of the package in the slice given to [`VulnDb::match_packages`].
    pub package_index: usize,
    /// The OSV ecosystem the match was made in (`Debian:12`, `PyPI`).
    pub ecosystem: String,
    /// The ids of the OSV records merged into this finding, sorted.
    pub advisories: Vec<String>,
}

/// One advisory as stored, for display.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AdvisoryDetails {
    /// Its id.
    pub id: String,
    /// One line.
    pub summary: Option<String>,
    /// The description.
    pub details: Option<String>,
    /// The severity the database gives it.
    pub severity: Option<String>,
    /// The CVSS vector.
    pub cvss_vector: Option<String>,
    /// The CVSS base score.
    pub cvss_score: Option<f64>,
    /// RFC 3339, as given.
    pub published: Option<String>,
    /// RFC 3339, as given.
    pub modified: Option<String>,
    /// Reference URLs.
    pub references: Vec<String>,
    /// Other ids of the same problem.
    pub aliases: Vec<String>,
}

/// What matching skipped, for the scan's warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchStats {
    /// Packages looked up in at least one ecosystem the database holds.
    pub packages_looked_up: usize,
    /// Packages with no OSV ecosystem (no OS detected, a crate from git, ...).
    pub packages_without_ecosystem: usize,
    /// Packages whose ecosystem has no advisories in this database.
    pub packages_ecosystem_not_in_db: usize,
    /// Installed versions that their scheme could not parse (only exact `versions[]`
    /// matching was possible for them).
    pub unparseable_installed_versions: usize,
    /// Ranges skipped because an event did not parse, or the ecosystem has no version
    /// scheme.
    pub unusable_ranges: usize,
}

/// Findings and statistics of one [`VulnDb::match_packages_report`] call.
#[derive(Debug, Clone, Default)]
pub struct MatchReport {
    /// The findings, by package (input order), then id.
    pub matches: Vec<MatchedAdvisory>,
    /// What was skipped.
    pub stats: MatchStats,
}

impl VulnDb {
    /// Opens a database built by [`crate::build`]; fails on another schema version.
    pub fn open(path: &Path) -> Result<VulnDb, DbError> {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
        Self::open_with_connections(path, workers)
    }

    /// [`open`](Self::open) with `connections` pooled connections (at least one): at most
    /// that many matches run at once.
    pub fn open_with_connections(path: &Path, connections: usize) -> Result<VulnDb, DbError> {
        let identity = file_identity(path);
        let first = open_read_only(path)?;
        let info = read_info(&first)?;
        let ecosystems = info.ecosystems.keys().cloned().collect();
        Ok(VulnDb {
            pool: ConnectionPool {
                path: path.to_path_buf(),
                identity,
                max: connections.max(1),
                state: std::sync::Mutex::new(PoolState {
                    idle: vec![first],
                    opened: 1,
                }),
                returned: std::sync::Condvar::new(),
            },
            info,
            ecosystems,
        })
    }

    /// The database's metadata.
    pub fn info(&self) -> &DbInfo {
        &self.info
    }

    /// One advisory by its id, or by an alias when no record has that id: what a detail
    /// page shows about it.
    pub fn advisory(&self, id: &str) -> Result<Option<AdvisoryDetails>, DbError> {
        let conn = self.pool.take();
        let columns = "SELECT id, summary, details, severity, cvss_vector, cvss_score, \
                       published, modified, refs, aliases FROM advisories";
        let read = |r: &rusqlite::Row<'_>| -> rusqlite::Result<AdvisoryDetails> {
            let list = |s: Option<String>| -> Vec<String> {
                s.and_then(|s| serde_json::from_str(&s).ok())
                    .unwrap_or_default()
            };
            Ok(AdvisoryDetails {
                id: r.get(0)?,
                summary: r.get(1)?,
                details: r.get(2)?,
                severity: r.get(3)?,
                cvss_vector: r.get(4)?,
                cvss_score: r.get(5)?,
                published: r.get(6)?,
                modified: r.get(7)?,
                references: list(r.get(8)?),
                aliases: list(r.get(9)?),
            })
        };
        let by_id = conn
            .prepare_cached(&format!("{columns} WHERE id = ?1"))?
            .query_row([id], read)
            .optional()?;
        if by_id.is_some() {
            return Ok(by_id);
        }
        // Aliases are a JSON array of strings: the quoted id is an exact element.
        let quoted = serde_json::to_string(id).expect("a string serialises");
        let by_alias = conn
            .prepare_cached(&format!(
                "{columns} WHERE instr(aliases, ?1) > 0 ORDER BY id LIMIT 1"
            ))?
            .query_row([quoted], read)
            .optional()?;
        Ok(by_alias)
    }

    /// Matches `packages` (of an image whose OS is `os`) against the database.
    ///
    /// Returns one [`MatchedAdvisory`] per vulnerability and package, by package, then
    /// id. Use [`match_packages_report`](Self::match_packages_report) for what was
    /// skipped.
    pub fn match_packages(
        &self,
        os: Option<&OsRelease>,
        packages: &[Package],
    ) -> Result<Vec<MatchedAdvisory>, DbError> {
        Ok(self.match_packages_report(os, packages)?.matches)
    }

    /// [`match_packages`](Self::match_packages), with statistics.
    pub fn match_packages_report(
        &self,
        os: Option<&OsRelease>,
        packages: &[Package],
    ) -> Result<MatchReport, DbError> {
        let conn = self.pool.take();
        let conn: &Connection = &conn;
        let mut scan = Scan {
            db: self,
            conn,
            advisory_stmt: conn.prepare(
                "SELECT id, summary, details, aliases, related, refs FROM advisories
                 WHERE rowid = ?1",
            )?,
            entries: HashMap::new(),
            empty: Rc::new(Vec::new()),
            advisories: HashMap::new(),
            resolved: HashMap::new(),
            stats: MatchStats::default(),
        };
        // One read transaction for the whole scan: SQLite then takes its file lock and
        // checks the file for changes once, not once per statement.
        let tx = conn.unchecked_transaction()?;
        // 1. Where each package is looked up; 2. every (ecosystem, name) fetched and
        // parsed at once; 3. each package evaluated against its rows.
        let os_sel = os.map(os_selectors);
        let plans: Vec<Plan> = packages
            .iter()
            .map(|p| scan.plan(os_sel.as_deref(), p))
            .collect();
        scan.prefetch(&plans)?;
        let mut matches = Vec::new();
        for (index, (pkg, plan)) in packages.iter().zip(&plans).enumerate() {
            scan.package(index, pkg, plan, &mut matches)?;
        }
        let stats = std::mem::take(&mut scan.stats);
        drop(scan);
        tx.finish()?;
        Ok(MatchReport { matches, stats })
    }
}

/// The device and inode `path` names now, to tell whether it was replaced.
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Read-only connections to one database file; a match takes one and gives it back.
struct ConnectionPool {
    path: std::path::PathBuf,
    /// The file the first connection opened.
    identity: Option<(u64, u64)>,
    /// Most connections opened.
    max: usize,
    state: std::sync::Mutex<PoolState>,
    returned: std::sync::Condvar,
}

struct PoolState {
    idle: Vec<Connection>,
    opened: usize,
}

impl ConnectionPool {
    /// Takes an idle connection; opens another while under the bound and the path still
    /// names the same file; else waits for one to come back.
    fn take(&self) -> PooledConnection<'_> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(conn) = state.idle.pop() {
                return PooledConnection {
                    pool: self,
                    conn: Some(conn),
                };
            }
            if state.opened < self.max
                && self.identity.is_some()
                && file_identity(&self.path) == self.identity
            {
                if let Ok(conn) = open_read_only(&self.path) {
                    // Re-check after opening: a rename between the two looks is caught.
                    if file_identity(&self.path) == self.identity {
                        state.opened += 1;
                        return PooledConnection {
                            pool: self,
                            conn: Some(conn),
                        };
                    }
                }
            }
            state = self.returned.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// A connection taken from the pool, given back when dropped.
struct PooledConnection<'p> {
    pool: &'p ConnectionPool,
    conn: Option<Connection>,
}

impl std::ops::Deref for PooledConnection<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("present until dropped")
    }
}

impl Drop for PooledConnection<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut state = self.pool.state.lock().unwrap_or_else(|e| e.into_inner());
            state.idle.push(conn);
            self.pool.returned.notify_one();
        }
    }
}

/// State of one `match_packages` call: caches live as long as the scan.
struct Scan<'a> {
    db: &'a VulnDb,
    /// The pooled connection this scan holds.
    conn: &'a Connection,
    /// One advisory's text fields.
    advisory_stmt: rusqlite::Statement<'a>,
    /// `ecosystem NUL name` → its parsed `affected` rows.
    entries: HashMap<Box<str>, Rc<Vec<Entry>>>,
    /// The rows of every name the database does not know.
    empty: Rc<Vec<Entry>>,
    /// advisory rowid → the record's text fields.
    advisories: HashMap<i64, Rc<AdvisoryRow>>,
    /// selector → the stored ecosystems it picks.
    resolved: HashMap<Selector, Rc<Vec<String>>>,
    stats: MatchStats,
}

/// Where one package is looked up.
enum Plan {
    /// No OSV ecosystem covers it.
    NoEcosystem,
    /// Its ecosystems have no advisories in this database.
    NotInDb,
    /// One (ecosystem, name, version) per stored ecosystem and lookup.
    Lookups(Vec<Planned>),
}

/// One (ecosystem, name) to read, and the version to evaluate there.
struct Planned {
    /// `ecosystem NUL name`: the cache key.
    key: Box<str>,
    version: String,
}

impl Planned {
    fn eco_name(&self) -> (&str, &str) {
        self.key.split_once('\0').unwrap_or((&self.key, ""))
    }
}

/// One parsed `affected` row.
struct Entry {
    advisory: i64,
    ecosystem: Rc<str>,
    scheme: Option<Scheme>,
    ranges: Vec<ParsedRange>,
    versions: Vec<String>,
    severity: Severity,
    vector: Option<String>,
    score: Option<f64>,
    /// Where a rating from outside the record came from (`alias:ID`, `nvd`,
    /// `debian-tracker`); `None` when the record rates itself or nothing does.
    outside_source: Option<String>,
}

/// A range whose events all parsed, sorted by version.
struct ParsedRange {
    scheme: Scheme,
    events: Vec<ParsedEvent>,
    /// `limit` events: the range holds only versions below one of them.
    limits: Vec<Bound>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum EventKind {
    Introduced,
    Fixed,
    LastAffected,
}

struct ParsedEvent {
    kind: EventKind,
    bound: Bound,
}

/// A version in an event: the special `introduced: "0"`, `limit: "*"`, or a version.
enum Bound {
    Zero,
    Infinity,
    At(Version),
}

impl Bound {
    fn cmp_version(&self, v: &Version) -> Ordering {
        match self {
            Bound::Zero => Ordering::Less,
            Bound::Infinity => Ordering::Greater,
            Bound::At(b) => b.cmp(v),
        }
    }

    fn cmp_bound(&self, other: &Bound) -> Ordering {
        match (self, other) {
            (Bound::Zero, Bound::Zero) | (Bound::Infinity, Bound::Infinity) => Ordering::Equal,
            (Bound::Zero, _) | (_, Bound::Infinity) => Ordering::Less,
            (_, Bound::Zero) | (Bound::Infinity, _) => Ordering::Greater,
            (Bound::At(a), Bound::At(b)) => a.cmp(b),
        }
    }
}

/// An advisory's text fields, read once per scan, for advisories that matched.
struct AdvisoryRow {
    id: String,
    summary: Option<String>,
    details: Option<String>,
    aliases: Vec<String>,
    related: Vec<String>,
    refs: Vec<String>,
}

impl AdvisoryRow {
    /// The record's id, then its aliases.
    fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// One advisory matched for one package; borrows the scan's parsed entries.
struct Hit<'e> {
    advisory: Rc<AdvisoryRow>,
    ecosystem: &'e str,
    scheme: Option<Scheme>,
    /// The version that fixes it, when the matching range has one.
    fixed: Option<&'e str>,
    /// The entry whose rating the hit carries (the highest, after merging).
    rating: &'e Entry,
}

impl Scan<'_> {
    /// Decides where `pkg` is looked up.
    fn plan(&mut self, os: Option<&[Selector]>, pkg: &Package) -> Plan {
        let lookups = lookups(os, pkg);
        if lookups.is_empty() {
            return Plan::NoEcosystem;
        }
        let mut planned = Vec::new();
        for lookup in lookups {
            for sel in lookup.selectors.iter() {
                let ecos = self.resolve(sel);
                for eco in ecos.iter() {
                    let name = normalize_name(eco, &lookup.name);
                    planned.push(Planned {
                        key: format!("{eco}\0{name}").into(),
                        version: lookup.version.clone(),
                    });
                }
            }
        }
        if planned.is_empty() {
            Plan::NotInDb
        } else {
            Plan::Lookups(planned)
        }
    }

    /// Reads and parses the `affected` rows of every planned (ecosystem, name): one
    /// statement per ecosystem, the names passed as a JSON array.
    fn prefetch(&mut self, plans: &[Plan]) -> Result<(), DbError> {
        let mut wanted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for plan in plans {
            if let Plan::Lookups(ls) = plan {
                for l in ls {
                    let (eco, name) = l.eco_name();
                    wanted.entry(eco).or_default().push(name);
                }
            }
        }
        let mut stmt = self.conn.prepare(
            "SELECT name, advisory, ranges, versions, rating, cvss_vector, cvss_score,
                    rating_source
             FROM affected
             WHERE ecosystem = ?1 AND name IN (SELECT value FROM json_each(?2))",
        )?;
        for (eco, mut names) in wanted {
            names.sort_unstable();
            names.dedup();
            let names_json = serde_json::to_string(&names).unwrap_or_else(|_| "[]".into());
            let scheme = Scheme::for_osv_ecosystem(eco);
            let eco_rc: Rc<str> = Rc::from(eco);
            let mut found: HashMap<String, Vec<Entry>> = HashMap::new();
            let mut current: Option<(String, Vec<Entry>)> = None;
            let mut rows = stmt.query(rusqlite::params![eco, names_json])?;
            while let Some(row) = rows.next()? {
                // Read in place from SQLite's row buffer.
                let text = |i: usize| -> Result<Option<&str>, DbError> {
                    Ok(row.get_ref(i)?.as_str_or_null().ok().flatten())
                };
                let name = text(0)?.unwrap_or("");
                let mut ranges = Vec::new();
                for line in text(2)?.unwrap_or("").lines() {
                    match parse_range(line, scheme) {
                        Some(p) => ranges.push(p),
                        None => self.stats.unusable_ranges += 1,
                    }
                }
                let entry = Entry {
                    advisory: row.get(1)?,
                    ecosystem: eco_rc.clone(),
                    scheme,
                    ranges,
                    versions: text(3)?
                        .map(|v| v.lines().map(str::to_string).collect())
                        .unwrap_or_default(),
                    severity: severity_of(text(4)?.unwrap_or("")),
                    vector: row.get(5)?,
                    score: row.get(6)?,
                    outside_source: text(7)?
                        .filter(|s| {
                            s.starts_with("alias:") || *s == "nvd" || *s == "debian-tracker"
                        })
                        .map(str::to_string),
                };
                // A name's rows come together; gather them without a lookup per row.
                match &mut current {
                    Some((n, v)) if n == name => v.push(entry),
                    _ => {
                        if let Some((n, v)) = current.take() {
                            found.entry(n).or_default().extend(v);
                        }
                        current = Some((name.to_string(), vec![entry]));
                    }
                }
            }
            if let Some((n, v)) = current.take() {
                found.entry(n).or_default().extend(v);
            }
            for name in names {
                let rows = match found.remove(name) {
                    Some(v) => Rc::new(v),
                    None => self.empty.clone(),
                };
                self.entries.insert(format!("{eco}\0{name}").into(), rows);
            }
        }
        Ok(())
    }

    fn package(
        &mut self,
        index: usize,
        pkg: &Package,
        plan: &Plan,
        out: &mut Vec<MatchedAdvisory>,
    ) -> Result<(), DbError> {
        let planned = match plan {
            Plan::NoEcosystem => {
                self.stats.packages_without_ecosystem += 1;
                return Ok(());
            }
            Plan::NotInDb => {
                self.stats.packages_ecosystem_not_in_db += 1;
                return Ok(());
            }
            Plan::Lookups(p) => p,
        };
        self.stats.packages_looked_up += 1;
        // The entries of every (ecosystem, name) the package is looked up under.
        let tables: Vec<(&Planned, Rc<Vec<Entry>>)> = planned
            .iter()
            .filter_map(|p| {
                let t = self.entries.get(&p.key)?;
                (!t.is_empty()).then(|| (p, t.clone()))
            })
            .collect();
        if tables.is_empty() {
            return Ok(());
        }
        // The installed version, parsed once per lookup and scheme.
        let mut installed: Vec<(usize, Scheme, Option<Version>)> = Vec::new();
        for (li, (p, table)) in tables.iter().enumerate() {
            for range in table.iter().flat_map(|e| &e.ranges) {
                if !installed
                    .iter()
                    .any(|(l, s, _)| *l == li && *s == range.scheme)
                {
                    let v = parse(range.scheme, &p.version).ok();
                    if v.is_none() {
                        self.stats.unparseable_installed_versions += 1;
                    }
                    installed.push((li, range.scheme, v));
                }
            }
        }
        let mut hits: Vec<Hit<'_>> = Vec::new();
        let mut by_advisory: HashMap<i64, usize> = HashMap::new();
        for (li, (p, table)) in tables.iter().enumerate() {
            let version_of = |scheme: Scheme| {
                installed
                    .iter()
                    .find(|(l, s, _)| *l == li && *s == scheme)
                    .and_then(|(_, _, v)| v.as_ref())
            };
            for entry in table.iter() {
                let Some(fixed) = evaluate(entry, &p.version, version_of) else {
                    continue;
                };
                // Several entries of one advisory (or a binary and a source rpm name):
                // one hit, with the later fix and the higher rating.
                if let Some(&i) = by_advisory.get(&entry.advisory) {
                    let cur = &mut hits[i];
                    cur.fixed = later(cur.fixed, fixed, cur.scheme.or(entry.scheme));
                    if rating_key(entry) > rating_key(cur.rating) {
                        cur.rating = entry;
                    }
                    continue;
                }
                let advisory = self.advisory(entry.advisory)?;
                by_advisory.insert(entry.advisory, hits.len());
                hits.push(Hit {
                    advisory,
                    ecosystem: &entry.ecosystem,
                    scheme: entry.scheme,
                    fixed,
                    rating: entry,
                });
            }
        }
        if hits.is_empty() {
            return Ok(());
        }
        let start = out.len();
        for group in group_hits(&hits) {
            out.push(finding(index, pkg, &hits, group));
        }
        out[start..].sort_by(|a, b| a.finding.id.cmp(&b.finding.id));
        Ok(())
    }

    fn resolve(&mut self, sel: &Selector) -> Rc<Vec<String>> {
        if let Some(r) = self.resolved.get(sel) {
            return r.clone();
        }
        let r: Rc<Vec<String>> = Rc::new(
            sel.resolve(&self.db.ecosystems)
                .into_iter()
                .map(str::to_string)
                .collect(),
        );
        self.resolved.insert(sel.clone(), r.clone());
        r
    }

    fn advisory(&mut self, rowid: i64) -> Result<Rc<AdvisoryRow>, DbError> {
        if let Some(a) = self.advisories.get(&rowid) {
            return Ok(a.clone());
        }
        let list = |s: Option<&str>| -> Vec<String> {
            s.and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default()
        };
        let row = self.advisory_stmt.query_row([rowid], |r| {
            Ok(AdvisoryRow {
                id: r.get(0)?,
                summary: r.get(1)?,
                details: r.get(2)?,
                aliases: list(r.get_ref(3)?.as_str_or_null()?),
                related: list(r.get_ref(4)?.as_str_or_null()?),
                refs: list(r.get_ref(5)?.as_str_or_null()?),
            })
        })?;
        let row = Rc::new(row);
        self.advisories.insert(rowid, row.clone());
        Ok(row)
    }
}

fn severity_of(s: &str) -> Severity {
    Severity::ALL
        .into_iter()
        .find(|x| x.as_str() == s)
        .unwrap_or(Severity::Unknown)
}

/// Parses one line of the `ranges` column (`TYPE\tkey=version\t...`, see `db.rs`);
/// `None` when it cannot be evaluated.
fn parse_range(line: &str, eco_scheme: Option<Scheme>) -> Option<ParsedRange> {
    let mut fields = line.split('\t');
    let scheme = match fields.next()? {
        "SEMVER" => eco_scheme.unwrap_or(Scheme::Semver),
        _ => eco_scheme?,
    };
    let mut events = Vec::new();
    let mut limits = Vec::new();
    for field in fields {
        let (key, raw) = field.split_once('=')?;
        let kind = match key {
            "introduced" => Some(EventKind::Introduced),
            "fixed" => Some(EventKind::Fixed),
            "last_affected" => Some(EventKind::LastAffected),
            "limit" => None,
            _ => return None,
        };
        let bound = match kind {
            // `introduced: "0"` sorts before every version, in every scheme.
            Some(EventKind::Introduced) if raw == "0" => Bound::Zero,
            None if raw.contains('*') => Bound::Infinity,
            _ => Bound::At(parse(scheme, raw).ok()?),
        };
        match kind {
            Some(kind) => events.push(ParsedEvent { kind, bound }),
            None => limits.push(bound),
        }
    }
    // Stable: events at equal versions keep the record's order.
    events.sort_by(|a, b| a.bound.cmp_bound(&b.bound));
    Some(ParsedRange {
        scheme,
        events,
        limits,
    })
}

/// Whether `v` is in `range`: `None` if not, `Some(fixed)` if it is, with the version
/// that fixes it when the range has one above `v`.
fn in_range<'r>(range: &'r ParsedRange, v: &Version) -> Option<Option<&'r str>> {
    if !range.limits.is_empty()
        && !range
            .limits
            .iter()
            .any(|l| l.cmp_version(v) == Ordering::Greater)
    {
        return None;
    }
    // Events are sorted: walk those at or below `v`; the first above it ends the walk
    // and, if it is a `fixed`, names the fix.
    let mut affected = false;
    let mut above = range.events.len();
    for (i, e) in range.events.iter().enumerate() {
        let ord = e.bound.cmp_version(v);
        if ord == Ordering::Greater {
            above = i;
            break;
        }
        match e.kind {
            EventKind::Introduced => affected = true,
            EventKind::Fixed => affected = false,
            // Inclusive: affected up to and including this version.
            EventKind::LastAffected if ord == Ordering::Less => affected = false,
            EventKind::LastAffected => {}
        }
    }
    if !affected {
        return None;
    }
    // The fix is the next `fixed` above `v` (past any overlapping `introduced`), unless
    // the range says it was last affected first.
    let fixed = range.events[above..]
        .iter()
        .find_map(|e| match e.kind {
            // The version as the record writes it: what the user installs.
            EventKind::Fixed => Some(match &e.bound {
                Bound::At(v) => Some(v.as_str()),
                Bound::Zero | Bound::Infinity => None,
            }),
            EventKind::LastAffected => Some(None),
            EventKind::Introduced => None,
        })
        .flatten();
    Some(fixed)
}

/// Evaluates one `affected` entry for an installed version: `None` if not affected,
/// `Some(fixed)` if affected. `parsed` gives the installed version in a scheme.
fn evaluate<'e, 'v>(
    entry: &'e Entry,
    installed: &str,
    parsed: impl Fn(Scheme) -> Option<&'v Version>,
) -> Option<Option<&'e str>> {
    let mut result: Option<Option<&str>> = None;
    if !entry.versions.is_empty() {
        // Exact matching; Go versions are written with and without their `v`.
        let go = entry.scheme == Some(Scheme::Go);
        let norm = |s: &'_ str| -> String {
            if go {
                s.strip_prefix('v').unwrap_or(s).to_string()
            } else {
                s.to_string()
            }
        };
        let want = norm(installed);
        if entry.versions.iter().any(|v| norm(v) == want) {
            result = Some(None);
        }
    }
    for range in &entry.ranges {
        let Some(v) = parsed(range.scheme) else {
            continue;
        };
        if let Some(fixed) = in_range(range, v) {
            result = Some(later(result.flatten(), fixed, Some(range.scheme)));
        }
    }
    result
}

/// The later of two fixed versions (by `scheme` when both parse, else the first).
fn later<'a>(a: Option<&'a str>, b: Option<&'a str>, scheme: Option<Scheme>) -> Option<&'a str> {
    match (a, b) {
        (Some(a), Some(b)) if a != b => {
            let b_later = scheme
                .and_then(|s| Some(parse(s, b).ok()?.cmp(&parse(s, a).ok()?)))
                .is_some_and(|o| o == Ordering::Greater);
            Some(if b_later { b } else { a })
        }
        (a, b) => a.or(b),
    }
}

/// Orders ratings: any score beats no score, then by score, then by severity.
fn rating_key(e: &Entry) -> (bool, u64, Severity) {
    (
        e.score.is_some(),
        e.score.map_or(0, |s| (s * 10.0).round() as u64),
        e.severity,
    )
}

fn is_cve(id: &str) -> bool {
    id.starts_with("CVE-")
}

/// Preference of ids as a finding's id: CVE, then GHSA, then the rest.
fn id_rank(id: &str) -> (u8, &str) {
    let rank = if is_cve(id) {
        0
    } else if id.starts_with("GHSA-") {
        1
    } else {
        2
    };
    (rank, id)
}

/// One finding's worth of hits: its id and the indexes of its hits.
struct Group<'h> {
    id: &'h str,
    members: Vec<usize>,
}

/// Groups one package's hits into findings: one per CVE, or per set of records that
/// alias each other when none names a CVE.
fn group_hits<'h>(hits: &'h [Hit<'_>]) -> Vec<Group<'h>> {
    let n = hits.len();
    let own_cves: Vec<Vec<&str>> = hits
        .iter()
        .map(|h| {
            let mut c: Vec<&str> = h.advisory.ids().filter(|id| is_cve(id)).collect();
            c.sort_unstable();
            c.dedup();
            c
        })
        .collect();
    // The common case: one record, at most one CVE.
    if n == 1 && own_cves[0].len() <= 1 {
        let id = own_cves[0].first().copied().unwrap_or(&hits[0].advisory.id);
        return vec![Group {
            id,
            members: vec![0],
        }];
    }
    // Union records sharing a non-CVE id (a PYSEC naming a GHSA that names the CVE).
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (i, h) in hits.iter().enumerate() {
        for id in h.advisory.ids().filter(|id| !is_cve(id)) {
            match owner.get(id) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    parent[a] = b;
                }
                None => {
                    owner.insert(id, i);
                }
            }
        }
    }
    let roots: Vec<usize> = (0..n).map(|i| find(&mut parent, i)).collect();
    let mut comp_cves: HashMap<usize, Vec<&str>> = HashMap::new();
    for i in 0..n {
        comp_cves.entry(roots[i]).or_default().extend(&own_cves[i]);
    }
    // Key: a CVE, or a component without one.
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Key<'a> {
        Cve(&'a str),
        Component(usize),
    }
    let mut groups: BTreeMap<Key<'_>, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let keys: &[&str] = if !own_cves[i].is_empty() {
            &own_cves[i]
        } else {
            &comp_cves[&roots[i]]
        };
        if keys.is_empty() {
            groups.entry(Key::Component(roots[i])).or_default().push(i);
        }
        for k in keys {
            let members = groups.entry(Key::Cve(k)).or_default();
            if members.last() != Some(&i) {
                members.push(i);
            }
        }
    }
    groups
        .into_iter()
        .map(|(key, members)| {
            let id = match key {
                Key::Cve(c) => c,
                // No CVE: the best of the matched records' own ids.
                Key::Component(_) => members
                    .iter()
                    .map(|&i| hits[i].advisory.id.as_str())
                    .min_by(|a, b| id_rank(a).cmp(&id_rank(b)))
                    .unwrap_or_default(),
            };
            Group { id, members }
        })
        .collect()
}

/// Builds the finding of one group for `pkg`.
fn finding(index: usize, pkg: &Package, hits: &[Hit<'_>], group: Group<'_>) -> MatchedAdvisory {
    let Group { id, mut members } = group;
    // Text from the record whose own id is best (the CVE's, a GHSA's), then the rest.
    if members.len() > 1 {
        members.sort_by(|&a, &b| id_rank(&hits[a].advisory.id).cmp(&id_rank(&hits[b].advisory.id)));
    }
    let m = || members.iter().map(|&i| &hits[i]);
    fn nonempty(s: &Option<String>) -> Option<&str> {
        s.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    let title = m()
        .find_map(|h| nonempty(&h.advisory.summary).map(str::to_string))
        .or_else(|| {
            m().find_map(|h| {
                nonempty(&h.advisory.details)
                    .and_then(|d| d.lines().next())
                    .map(|l| l.chars().take(200).collect())
            })
        })
        .unwrap_or_else(|| id.to_string());
    let description = m()
        .find_map(|h| nonempty(&h.advisory.details))
        .unwrap_or_default()
        .to_string();
    // The highest rating, with its vector, and the record it came from.
    let best_hit = m()
        .max_by(|a, b| rating_key(a.rating).cmp(&rating_key(b.rating)))
        .expect("a group has members");
    let best = best_hit.rating;
    let severity_source = match (&best.outside_source, best.severity) {
        (_, Severity::Unknown) => None,
        (Some(alias), _) if alias.starts_with("alias:") => {
            Some(alias.trim_start_matches("alias:").to_string())
        }
        (Some(other), _) => Some(other.clone()),
        (None, _) => Some(best_hit.advisory.id.clone()),
    };
    // The latest fix any record knows of.
    let mut fixed: Option<&str> = None;
    for h in m() {
        fixed = later(fixed, h.fixed, h.scheme);
    }
    let mut references: Vec<String> = Vec::new();
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut aliases: Vec<&str> = Vec::new();
    for h in m() {
        let related = h
            .advisory
            .related
            .iter()
            .map(|r| format!("https://osv.dev/vulnerability/{r}"));
        for r in h.advisory.refs.iter().cloned().chain(related) {
            if seen.insert(r.clone()) {
                references.push(r);
            }
        }
        // Other CVEs of a record naming several are other findings, not aliases.
        aliases.extend(h.advisory.ids().filter(|a| *a != id && !is_cve(a)));
    }
    aliases.sort_unstable();
    aliases.dedup();
    let mut advisories: Vec<String> = m().map(|h| h.advisory.id.clone()).collect();
    advisories.sort_unstable();
    advisories.dedup();
    let installed = match pkg.epoch {
        Some(e) if e > 0 && !pkg.version.contains(':') => format!("{e}:{}", pkg.version),
        _ => pkg.version.clone(),
    };
    MatchedAdvisory {
        finding: Finding {
            kind: FindingKind::Vulnerability,
            id: id.to_string(),
            severity: best.severity,
            title,
            description,
            package: Some(pkg.name.clone()),
            installed_version: Some(installed),
            status: Some(if fixed.is_some() {
                FindingStatus::Fixed
            } else {
                FindingStatus::Affected
            }),
            fixed_version: fixed.map(str::to_string),
            layer: pkg.layer.clone(),
            path: (!pkg.path.is_empty()).then(|| pkg.path.clone()),
            line: None,
            removed: false,
            references,
            aliases: aliases.into_iter().map(str::to_string).collect(),
            cvss: (best.vector.is_some() || best.score.is_some()).then(|| Cvss {
                vector: best.vector.clone(),
                score: best.score,
            }),
            suppression: None,
            remediation: None,
            evidence: None,
            fingerprint: None,
            locations: Vec::new(),
            severity_source,
            source: None,
        },
        cvss_vector: best.vector.clone(),
        cvss_score: best.score,
        package_index: index,
        ecosystem: hits[members[0]].ecosystem.to_string(),
        advisories,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored range from (kind, version) pairs: `i`ntroduced, `f`ixed,
    /// `l`ast_affected, li`m`it.
    fn parsed(eco: &str, kind: &str, events: &[(&str, &str)]) -> Option<ParsedRange> {
        let evs: Vec<crate::osv::Event> = events
            .iter()
            .map(|(k, v)| {
                let mut e = crate::osv::Event::default();
                let v = Some(v.to_string());
                match *k {
                    "i" => e.introduced = v,
                    "f" => e.fixed = v,
                    "l" => e.last_affected = v,
                    _ => e.limit = v,
                }
                e
            })
            .collect();
        let line = crate::db::encode_range(kind, &evs).expect("encodable");
        parse_range(&line, Scheme::for_osv_ecosystem(eco))
    }

    fn check(eco: &str, kind: &str, events: &[(&str, &str)], v: &str) -> Option<Option<String>> {
        let p = parsed(eco, kind, events).expect("range parses");
        in_range(&p, &parse(p.scheme, v).unwrap()).map(|f| f.map(str::to_string))
    }

    #[test]
    fn ranges_follow_the_osv_evaluation() {
        let evs = [("i", "0"), ("f", "1.0.0"), ("i", "2.0.0"), ("f", "2.0.3")];
        assert_eq!(
            check("npm", "SEMVER", &evs, "0.5.0"),
            Some(Some("1.0.0".into()))
        );
        assert_eq!(check("npm", "SEMVER", &evs, "1.0.0"), None);
        assert_eq!(check("npm", "SEMVER", &evs, "1.5.0"), None);
        assert_eq!(
            check("npm", "SEMVER", &evs, "2.0.1"),
            Some(Some("2.0.3".into()))
        );
        assert_eq!(check("npm", "SEMVER", &evs, "3.0.0"), None);
        // Unsorted events are sorted first.
        let shuffled = [("f", "2.0.3"), ("i", "2.0.0"), ("f", "1.0.0"), ("i", "0")];
        assert_eq!(
            check("npm", "SEMVER", &shuffled, "2.0.1"),
            Some(Some("2.0.3".into()))
        );
        // Overlapping introductions: the fix is still the next `fixed`.
        let overlap = [("i", "0"), ("i", "2.0.0"), ("f", "3.0.0")];
        assert_eq!(
            check("npm", "SEMVER", &overlap, "1.0.0"),
            Some(Some("3.0.0".into()))
        );
        // last_affected is inclusive and gives no fix.
        let la = [("i", "1.0"), ("l", "1.5")];
        assert_eq!(check("PyPI", "ECOSYSTEM", &la, "1.5"), Some(None));
        assert_eq!(check("PyPI", "ECOSYSTEM", &la, "1.5.1"), None);
        assert_eq!(check("PyPI", "ECOSYSTEM", &la, "0.9"), None);
        // limit bounds the range.
        let lim = [("i", "0"), ("m", "2.0")];
        assert_eq!(check("PyPI", "ECOSYSTEM", &lim, "1.9"), Some(None));
        assert_eq!(check("PyPI", "ECOSYSTEM", &lim, "2.0"), None);
        let inf = [("i", "0"), ("m", "*")];
        assert_eq!(check("PyPI", "ECOSYSTEM", &inf, "99"), Some(None));
        // dpkg epochs and tildes.
        let deb = [("i", "0"), ("f", "1:1.2.13.dfsg-1")];
        let fix = Some(Some("1:1.2.13.dfsg-1".to_string()));
        assert_eq!(
            check("Debian:12", "ECOSYSTEM", &deb, "1:1.2.11.dfsg-2"),
            fix
        );
        assert_eq!(check("Debian:12", "ECOSYSTEM", &deb, "1.2.99-1"), fix);
        assert_eq!(
            check("Debian:12", "ECOSYSTEM", &deb, "1:1.2.13.dfsg-1"),
            None
        );
        let tilde = [("i", "0"), ("f", "3.0.13-1~deb12u1")];
        assert_eq!(check("Debian:12", "ECOSYSTEM", &tilde, "3.0.13-1"), None);
        assert!(check("Debian:12", "ECOSYSTEM", &tilde, "3.0.13-1~deb12u0").is_some());
    }

    #[test]
    fn unusable_ranges() {
        // An event that does not parse makes the whole range unusable.
        assert!(parsed("npm", "SEMVER", &[("i", "0"), ("f", "not a version")]).is_none());
        // ECOSYSTEM ranges of an ecosystem without a scheme cannot be evaluated...
        assert!(parsed("Hex", "ECOSYSTEM", &[("i", "0"), ("f", "1.0")]).is_none());
        // ... but SEMVER ranges can.
        assert!(parsed("Hex", "SEMVER", &[("i", "0"), ("f", "1.0.0")]).is_some());
    }

    fn entry(advisory: i64) -> Entry {
        Entry {
            advisory,
            ecosystem: Rc::from("Debian:12"),
            scheme: Some(Scheme::Dpkg),
            ranges: Vec::new(),
            versions: Vec::new(),
            severity: Severity::Unknown,
            vector: None,
            score: None,
            outside_source: None,
        }
    }

    fn row(id: &str, aliases: &[&str]) -> Rc<AdvisoryRow> {
        Rc::new(AdvisoryRow {
            id: id.into(),
            summary: None,
            details: None,
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            related: Vec::new(),
            refs: Vec::new(),
        })
    }

    #[test]
    fn grouping_by_cve() {
        // Synthetic ids: a DSA fixing two CVEs, a GHSA for one of them, a PYSEC that only
        // names a GHSA which names the CVE, and a record with no CVE at all.
        let rows = [
            row("DEBIAN-CVE-A", &["CVE-2000-0001"]),
            row("DSA-0000-1", &["CVE-2000-0001", "CVE-2000-0002"]),
            row("GHSA-aaaa", &["CVE-2000-0002"]),
            row("PYSEC-X", &["GHSA-zzzz"]),
            row("GHSA-zzzz", &["CVE-2000-0003"]),
            row("RUSTSEC-1", &[]),
            row("RUSTSEC-2", &["GHSA-yyyy"]),
            row("GHSA-yyyy", &[]),
        ];
        let entries: Vec<Entry> = (0..rows.len() as i64).map(entry).collect();
        let hits: Vec<Hit<'_>> = rows
            .iter()
            .zip(&entries)
            .map(|(r, e)| Hit {
                advisory: r.clone(),
                ecosystem: "Debian:12",
                scheme: e.scheme,
                fixed: None,
                rating: e,
            })
            .collect();
        let groups: Vec<(&str, Vec<&str>)> = group_hits(&hits)
            .into_iter()
            .map(|g| {
                let mut m: Vec<&str> = g
                    .members
                    .iter()
                    .map(|&i| hits[i].advisory.id.as_str())
                    .collect();
                m.sort_unstable();
                (g.id, m)
            })
            .collect();
        assert_eq!(
            groups,
            [
                ("CVE-2000-0001", vec!["DEBIAN-CVE-A", "DSA-0000-1"]),
                ("CVE-2000-0002", vec!["DSA-0000-1", "GHSA-aaaa"]),
                ("CVE-2000-0003", vec!["GHSA-zzzz", "PYSEC-X"]),
                ("RUSTSEC-1", vec!["RUSTSEC-1"]),
                ("GHSA-yyyy", vec!["GHSA-yyyy", "RUSTSEC-2"]),
            ]
        );
        let pkg = Package {
            id: String::new(),
            name: "p".into(),
            version: "1".into(),
            package_type: holdfast_model::PackageType::Deb,
            purl: String::new(),
            source_name: None,
            source_version: None,
            arch: None,
            epoch: None,
            licenses: Vec::new(),
            vendor: None,
            ecosystem: None,
            scope: None,
            layer: None,
            path: String::new(),
            owner: None,
            digests: Vec::new(),
            evidence: None,
        };
        let g = group_hits(&hits).into_iter().nth(1).unwrap();
        let f = finding(0, &pkg, &hits, g);
        // The other CVE of the DSA is another finding, not an alias.
        assert_eq!(f.finding.aliases, ["DSA-0000-1", "GHSA-aaaa"]);
        assert_eq!(f.advisories, ["DSA-0000-1", "GHSA-aaaa"]);
        assert_eq!(f.finding.status, Some(FindingStatus::Affected));
    }
}
