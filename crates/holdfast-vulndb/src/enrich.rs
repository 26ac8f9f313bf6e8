//! Ratings for the advisories that rate nothing themselves, from other sources, applied
//! once at build time so that matching stays a lookup.
//!
//! After every OSV record is stored, an `affected` row still rated `UNKNOWN` takes, in
//! this order (the first source that rates it wins):
//!
//! 1. **an alias in the same database**: a record whose id is one of this record's ids
//!    (its own and its aliases), or that shares a CVE id with it, and that rates itself
//!    (a `PYSEC` record without CVSS takes its `GHSA` alias's vector);
//! 2. **NVD** (`--nvd FILE`): CVE API 2.0 JSON (`{"vulnerabilities": [{"cve": {"id",
//!    "metrics": {"cvssMetricV40" | "cvssMetricV31" | "cvssMetricV30": [{"type":
//!    "Primary" | "Secondary", "cvssData": {"vectorString", "baseScore"}}]}}}]}`), plain or
//!    gzip: the newest CVSS version present, the primary source's metric first;
//! 3. **Debian's security tracker** (`--debian-tracker FILE`, its `data/json` export:
//!    `{"SOURCE-PACKAGE": {"CVE-…": {"releases": {"bookworm": {"urgency": "low", …}}}}}`),
//!    for rows of a `Debian:N` ecosystem: the urgency for that release and source package
//!    (`unimportant` and `low` → LOW, `medium` → MEDIUM, `high` → HIGH; anything else
//!    rates nothing).
//!
//! The row's `rating_source` says which: `alias:ID`, `nvd`, `debian-tracker`.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use holdfast_model::Severity;
use rusqlite::{params, Connection};
use serde::Deserialize;

use crate::severity::score_vector;
use crate::DbError;

/// Largest NVD or tracker file read (inflated), in bytes.
const MAX_EXTRA_BYTES: u64 = 2 << 30;

/// A rating from another source, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExtraRating {
    pub severity: Severity,
    pub vector: Option<String>,
    pub score: Option<f64>,
    pub source: String,
}

/// Inflates `bytes` when they are gzip, within [`MAX_EXTRA_BYTES`].
pub(crate) fn inflate(label: &Path, bytes: &[u8]) -> Result<Vec<u8>, DbError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        if bytes.len() as u64 > MAX_EXTRA_BYTES {
            return Err(DbError::io(
                label,
                std::io::Error::other("larger than 2 GiB"),
            ));
        }
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_EXTRA_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| DbError::io(label, e))?;
    if out.len() as u64 > MAX_EXTRA_BYTES {
        return Err(DbError::io(
            label,
            std::io::Error::other("larger than 2 GiB once inflated"),
        ));
    }
    Ok(out)
}

/// Reads a file, inflating it when it is gzip, within [`MAX_EXTRA_BYTES`].
fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>, DbError> {
    let mut raw = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_EXTRA_BYTES + 1).read_to_end(&mut raw))
        .map_err(|e| DbError::io(path, e))?;
    inflate(path, &raw)
}

#[derive(Deserialize)]
struct NvdFeed {
    #[serde(default)]
    vulnerabilities: Vec<NvdItem>,
}

#[derive(Deserialize)]
struct NvdItem {
    cve: NvdCve,
}

#[derive(Deserialize)]
struct NvdCve {
    id: String,
    #[serde(default)]
    metrics: HashMap<String, Vec<NvdMetric>>,
}

#[derive(Deserialize)]
struct NvdMetric {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(rename = "cvssData")]
    data: NvdCvssData,
}

#[derive(Deserialize)]
struct NvdCvssData {
    #[serde(rename = "vectorString")]
    vector: String,
}

/// The CVE ratings of one NVD CVE API 2.0 file: for each CVE, the newest CVSS version's
/// metric, the primary source's first.
pub(crate) fn read_nvd(path: &Path) -> Result<HashMap<String, ExtraRating>, DbError> {
    parse_nvd(path, &read_maybe_gzip(path)?)
}

/// [`read_nvd`] on bytes already read (and inflated); `label` names them in errors.
pub(crate) fn parse_nvd(
    label: &Path,
    bytes: &[u8],
) -> Result<HashMap<String, ExtraRating>, DbError> {
    let feed: NvdFeed = serde_json::from_slice(bytes).map_err(|e| {
        DbError::io(
            label,
            std::io::Error::other(format!("not an NVD CVE API 2.0 JSON file: {e}")),
        )
    })?;
    let mut out = HashMap::new();
    for item in feed.vulnerabilities {
        let cve = item.cve;
        'versions: for (key, kind) in [
            ("cvssMetricV40", "CVSS_V4"),
            ("cvssMetricV31", "CVSS_V3"),
            ("cvssMetricV30", "CVSS_V3"),
        ] {
            let Some(list) = cve.metrics.get(key) else {
                continue;
            };
            let primary_first = list
                .iter()
                .filter(|m| m.kind == "Primary")
                .chain(list.iter().filter(|m| m.kind != "Primary"));
            for m in primary_first {
                if let Some(r) = score_vector(&m.data.vector, kind) {
                    out.insert(
                        cve.id.trim().to_string(),
                        ExtraRating {
                            severity: r.severity,
                            vector: r.vector,
                            score: r.score,
                            source: "nvd".into(),
                        },
                    );
                    break 'versions;
                }
            }
        }
    }
    Ok(out)
}

/// `(source package, CVE, release code name)` → urgency word, from Debian's tracker.
pub(crate) type TrackerUrgencies = HashMap<(String, String, String), String>;

#[derive(Deserialize)]
struct TrackerIssue {
    #[serde(default)]
    releases: HashMap<String, TrackerRelease>,
}

#[derive(Deserialize)]
struct TrackerRelease {
    #[serde(default)]
    urgency: Option<String>,
}

/// Reads Debian's security tracker JSON export.
pub(crate) fn read_debian_tracker(path: &Path) -> Result<TrackerUrgencies, DbError> {
    parse_debian_tracker(path, &read_maybe_gzip(path)?)
}

/// [`read_debian_tracker`] on bytes already read (and inflated).
pub(crate) fn parse_debian_tracker(
    label: &Path,
    bytes: &[u8],
) -> Result<TrackerUrgencies, DbError> {
    let data: HashMap<String, HashMap<String, TrackerIssue>> = serde_json::from_slice(bytes)
        .map_err(|e| {
            DbError::io(
                label,
                std::io::Error::other(format!("not Debian's security tracker JSON: {e}")),
            )
        })?;
    let mut out = HashMap::new();
    for (package, issues) in data {
        for (cve, issue) in issues {
            for (release, r) in issue.releases {
                if let Some(u) = r.urgency {
                    out.insert((package.clone(), cve.clone(), release), u);
                }
            }
        }
    }
    Ok(out)
}

/// A Debian urgency as a severity: `unimportant` and `low` are LOW, `medium` MEDIUM,
/// `high` HIGH; the tracker marks guesses with a trailing `*`, which is ignored.
fn urgency_severity(urgency: &str) -> Option<Severity> {
    match urgency.trim().trim_end_matches('*').trim() {
        "unimportant" | "low" => Some(Severity::Low),
        "medium" => Some(Severity::Medium),
        "high" => Some(Severity::High),
        _ => None,
    }
}

/// The code name of a Debian release number, as the tracker names releases.
fn debian_codename(version: &str) -> Option<&'static str> {
    Some(match version {
        "9" => "stretch",
        "10" => "buster",
        "11" => "bullseye",
        "12" => "bookworm",
        "13" => "trixie",
        "14" => "forky",
        _ => return None,
    })
}

/// How strong a rating is, to pick among aliases: a score beats a word.
fn strength(r: &ExtraRating) -> (bool, u64, Severity) {
    (
        r.score.is_some(),
        r.score.map_or(0, |s| (s * 10.0) as u64),
        r.severity,
    )
}

/// What one enrichment pass changed, for the build report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnrichCounts {
    /// `affected` rows rated from an alias in the same database.
    pub from_alias: usize,
    /// Rated from NVD.
    pub from_nvd: usize,
    /// Rated from Debian's tracker.
    pub from_debian_tracker: usize,
}

/// Rates the unrated `affected` rows; see the module docs for the order.
pub(crate) fn enrich(
    conn: &Connection,
    nvd: &HashMap<String, ExtraRating>,
    tracker: &TrackerUrgencies,
) -> Result<EnrichCounts, DbError> {
    // Every advisory's ids and its own best rating.
    struct Adv {
        rowid: i64,
        id: String,
        aliases: Vec<String>,
    }
    let mut advisories = Vec::new();
    {
        let mut stmt = conn.prepare("SELECT rowid, id, aliases FROM advisories")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (rowid, id, aliases) = row?;
            let aliases: Vec<String> = serde_json::from_str(&aliases).unwrap_or_default();
            advisories.push(Adv { rowid, id, aliases });
        }
    }
    // The best own rating of each advisory, over its affected rows.
    let mut own: HashMap<i64, ExtraRating> = HashMap::new();
    {
        let mut stmt = conn.prepare(
            "SELECT advisory, rating, cvss_vector, cvss_score FROM affected
             WHERE rating != 'UNKNOWN' AND rating_source NOT LIKE 'alias:%'",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<f64>>(3)?,
            ))
        })?;
        for row in rows {
            let (adv, rating, vector, score) = row?;
            let Some(severity) = parse_severity(&rating) else {
                continue;
            };
            let r = ExtraRating {
                severity,
                vector,
                score,
                source: String::new(),
            };
            match own.get(&adv) {
                Some(cur) if strength(cur) >= strength(&r) => {}
                _ => {
                    own.insert(adv, r);
                }
            }
        }
    }
    // id (own or alias) → the rated advisories that carry it.
    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, a) in advisories.iter().enumerate() {
        if own.contains_key(&a.rowid) {
            for id in std::iter::once(&a.id).chain(&a.aliases) {
                by_id.entry(id.as_str()).or_default().push(i);
            }
        }
    }
    let mut counts = EnrichCounts::default();
    let mut update = conn.prepare(
        "UPDATE affected SET rating = ?1, rating_source = ?2, cvss_vector = ?3, cvss_score = ?4
         WHERE advisory = ?5 AND rating = 'UNKNOWN'",
    )?;
    let mut debian_rows = conn.prepare(
        "SELECT ecosystem, name, entry FROM affected
         WHERE advisory = ?1 AND rating = 'UNKNOWN' AND ecosystem LIKE 'Debian:%'",
    )?;
    let mut update_entry = conn.prepare(
        "UPDATE affected SET rating = ?1, rating_source = 'debian-tracker'
         WHERE advisory = ?2 AND ecosystem = ?3 AND name = ?4 AND entry = ?5",
    )?;
    for a in &advisories {
        if own.contains_key(&a.rowid) && !has_unrated(conn, a.rowid)? {
            continue;
        }
        let ids: Vec<&str> = std::iter::once(a.id.as_str())
            .chain(a.aliases.iter().map(String::as_str))
            .collect();
        // 1. An alias that rates itself.
        let alias = ids
            .iter()
            .flat_map(|id| by_id.get(id).into_iter().flatten())
            .filter(|&&i| advisories[i].rowid != a.rowid)
            .filter_map(|&i| own.get(&advisories[i].rowid).map(|r| (i, r)))
            .max_by(|x, y| strength(x.1).cmp(&strength(y.1)));
        if let Some((i, r)) = alias {
            let source = format!("alias:{}", advisories[i].id);
            let n = update.execute(params![
                r.severity.as_str(),
                source,
                r.vector,
                r.score,
                a.rowid
            ])?;
            counts.from_alias += n;
            continue;
        }
        // 2. NVD, by the record's CVE ids.
        let nvd_rating = ids
            .iter()
            .filter_map(|id| nvd.get(*id))
            .max_by(|x, y| strength(x).cmp(&strength(y)));
        if let Some(r) = nvd_rating {
            let n = update.execute(params![
                r.severity.as_str(),
                r.source,
                r.vector,
                r.score,
                a.rowid
            ])?;
            counts.from_nvd += n;
            continue;
        }
        // 3. Debian's tracker, per Debian row: (source package, CVE, release).
        if tracker.is_empty() {
            continue;
        }
        let rows: Vec<(String, String, i64)> = debian_rows
            .query_map([a.rowid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (ecosystem, name, entry) in rows {
            let release = ecosystem
                .strip_prefix("Debian:")
                .and_then(debian_codename)
                .unwrap_or("");
            let urgency = ids
                .iter()
                .filter(|id| id.starts_with("CVE-"))
                .find_map(|cve| {
                    tracker.get(&(name.clone(), (*cve).to_string(), release.to_string()))
                });
            if let Some(sev) = urgency.and_then(|u| urgency_severity(u)) {
                counts.from_debian_tracker +=
                    update_entry.execute(params![sev.as_str(), a.rowid, ecosystem, name, entry])?;
            }
        }
    }
    Ok(counts)
}

fn has_unrated(conn: &Connection, rowid: i64) -> Result<bool, DbError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM affected WHERE advisory = ?1 AND rating = 'UNKNOWN')",
        )?
        .query_row([rowid], |r| r.get::<_, bool>(0))?)
}

fn parse_severity(s: &str) -> Option<Severity> {
    Some(match s {
        "LOW" => Severity::Low,
        "MEDIUM" => Severity::Medium,
        "HIGH" => Severity::High,
        "CRITICAL" => Severity::Critical,
        _ => return None,
    })
}
