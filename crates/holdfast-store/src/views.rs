//! Views across scans: what the latest finished scan of each target says.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::sql::Sql;

use crate::{Result, Store};

/// The latest finished scan of every target.
const LATEST: &str = "SELECT s.id FROM scans s WHERE s.status = 'finished' AND s.finished_at = \
     (SELECT MAX(s2.finished_at) FROM scans s2 WHERE s2.target = s.target AND s2.status = 'finished')";

/// Findings by severity.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SeverityCounts {
    /// CRITICAL.
    pub critical: i64,
    /// HIGH.
    pub high: i64,
    /// MEDIUM.
    pub medium: i64,
    /// LOW.
    pub low: i64,
    /// UNKNOWN and the rest.
    pub unknown: i64,
}

/// One target of a finished scan: an image, a container, a host directory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TargetSummary {
    /// The scan it comes from.
    pub scan_id: String,
    /// Its index in the scan's `targets`.
    pub index: i64,
    /// The scan's target, as asked.
    pub target: String,
    /// The target's name in the result.
    pub name: String,
    /// `image`, `container`, `rootfs`, ...
    pub kind: String,
    /// The image id (config digest), when known.
    pub image_id: Option<String>,
    /// `debian 12`, ...
    pub os: Option<String>,
    /// Packages found.
    pub packages: i64,
    /// Findings by severity.
    pub counts: SeverityCounts,
    /// Vulnerability findings with a fixed version.
    pub fixable: i64,
    /// When the scan finished, Unix ms.
    pub finished_at: i64,
}

/// One stored finding, with where it was found.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FindingRow {
    /// The scan.
    pub scan_id: String,
    /// The target's name.
    pub target: String,
    /// The target's kind.
    pub target_kind: String,
    /// The image id, when known.
    pub image_id: Option<String>,
    /// The finding's kind.
    pub kind: String,
    /// The advisory or rule id.
    pub id: String,
    /// Its severity.
    pub severity: String,
    /// Its title.
    pub title: String,
    /// The package.
    pub package: Option<String>,
    /// The installed version.
    pub installed_version: Option<String>,
    /// The version that fixes it.
    pub fixed_version: Option<String>,
    /// The file.
    pub path: Option<String>,
}

/// One advisory across every target it affects.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VulnerabilitySummary {
    /// The advisory id.
    pub id: String,
    /// Its severity.
    pub severity: String,
    /// Its title.
    pub title: String,
    /// The affected packages.
    pub packages: Vec<String>,
    /// How many targets it affects.
    pub targets: i64,
    /// The fixed versions seen.
    pub fixed_versions: Vec<String>,
}

/// Critical and high findings of one class of targets on one day.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TrendCounts {
    /// CRITICAL findings.
    pub critical: i64,
    /// HIGH findings.
    pub high: i64,
}

/// What the targets known at the end of one day held, by class: each target counted by
/// its latest scan finished by then.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TrendDay {
    /// Midnight UTC starting the day, Unix ms.
    pub day: i64,
    /// Images.
    pub images: TrendCounts,
    /// Running containers.
    pub containers: TrendCounts,
    /// Hosts (root filesystems).
    pub hosts: TrendCounts,
}

/// A target an advisory affects, with the versions.
pub type AffectedTarget = FindingRow;

fn summary_from_row(r: &AnyRow) -> Result<TargetSummary> {
    Ok(TargetSummary {
        scan_id: r.try_get("scan_id")?,
        index: r.try_get("idx")?,
        target: r.try_get("target")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        image_id: r.try_get("image_id")?,
        os: r.try_get("os")?,
        packages: r.try_get("packages")?,
        counts: SeverityCounts {
            critical: r.try_get("critical")?,
            high: r.try_get("high")?,
            medium: r.try_get("medium")?,
            low: r.try_get("low")?,
            unknown: r.try_get("unknown")?,
        },
        fixable: r.try_get("fixable")?,
        finished_at: r.try_get("finished_at")?,
    })
}

fn finding_from_row(r: &AnyRow) -> Result<FindingRow> {
    Ok(FindingRow {
        scan_id: r.try_get("scan_id")?,
        target: r.try_get("name")?,
        target_kind: r.try_get("target_kind")?,
        image_id: r.try_get("image_id")?,
        kind: r.try_get("kind")?,
        id: r.try_get("finding_id")?,
        severity: r.try_get("severity")?,
        title: r.try_get("title")?,
        package: r.try_get("package")?,
        installed_version: r.try_get("installed_version")?,
        fixed_version: r.try_get("fixed_version")?,
        path: r.try_get("path")?,
    })
}

/// Orders stored severity names: CRITICAL 4 down to anything unknown 0.
pub fn severity_rank(s: &str) -> u8 {
    match s {
        "CRITICAL" => 4,
        "HIGH" => 3,
        "MEDIUM" => 2,
        "LOW" => 1,
        _ => 0,
    }
}

impl Store {
    /// The targets of every target's latest finished scan; `kind` and `image_id` narrow it.
    pub async fn latest_targets(
        &self,
        kind: Option<&str>,
        image_id: Option<&str>,
    ) -> Result<Vec<TargetSummary>> {
        let mut q = Sql::new(
            "SELECT st.scan_id, st.idx, s.target, st.name, st.kind, st.image_id, st.os, st.packages, \
             st.critical, st.high, st.medium, st.low, st.unknown, s.finished_at, \
             (SELECT COUNT(*) FROM findings f WHERE f.scan_id = st.scan_id AND f.target_idx = st.idx \
              AND f.kind = 'vulnerability' AND f.fixed_version IS NOT NULL) AS fixable \
             FROM scan_targets st JOIN scans s ON s.id = st.scan_id WHERE st.scan_id IN (",
        );
        q.push(LATEST).push(")");
        if let Some(kind) = kind {
            q.push(" AND st.kind = ").bind(kind);
        }
        if let Some(image) = image_id {
            q.push(" AND st.image_id = ").bind(image);
        }
        q.push(" ORDER BY st.critical DESC, st.high DESC, st.name");
        let rows = q.query().fetch_all(self.pool()).await?;
        rows.iter().map(summary_from_row).collect()
    }

    /// The findings of the latest scans, of the given kinds (all when empty) and advisory
    /// or rule ids (all when empty).
    pub async fn latest_findings(&self, kinds: &[&str], ids: &[&str]) -> Result<Vec<FindingRow>> {
        self.findings_where(None, kinds, ids).await
    }

    /// The findings of the latest finished scan of every target named `PREFIX...` (the
    /// clusters' with `cluster:`).
    pub async fn latest_findings_of(&self, prefix: &str) -> Result<Vec<FindingRow>> {
        self.findings_where(Some(prefix), &[], &[]).await
    }

    /// The latest finished scan of every target named `PREFIX...`: its id and target.
    pub async fn latest_scans_of(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        let mut q = Sql::new("SELECT s.id, s.target FROM scans s WHERE s.id IN (");
        q.push(LATEST)
            .push(" AND s.target LIKE ")
            .bind(format!("{prefix}%"))
            .push(") AND s.result IS NOT NULL ORDER BY s.target");
        let rows = q.query().fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("target")?)))
            .collect()
    }

    /// Every target named `PREFIX...` that any scan, in any state, was queued for.
    pub async fn targets_named(&self, prefix: &str) -> Result<Vec<String>> {
        let mut q = Sql::new("SELECT DISTINCT target FROM scans WHERE target LIKE ");
        q.bind(format!("{prefix}%")).push(" ORDER BY target");
        let rows = q.query().fetch_all(self.pool()).await?;
        rows.iter().map(|r| Ok(r.try_get("target")?)).collect()
    }

    /// Findings of the latest scans (of targets named `prefix...` when given).
    async fn findings_where(
        &self,
        prefix: Option<&str>,
        kinds: &[&str],
        ids: &[&str],
    ) -> Result<Vec<FindingRow>> {
        let mut q = Sql::new(
            "SELECT f.scan_id, st.name, st.kind AS target_kind, st.image_id, f.kind, f.finding_id, \
             f.severity, f.title, f.package, f.installed_version, f.fixed_version, f.path \
             FROM findings f JOIN scan_targets st ON st.scan_id = f.scan_id AND st.idx = f.target_idx \
             WHERE f.scan_id IN (",
        );
        q.push(LATEST);
        if let Some(prefix) = prefix {
            q.push(" AND s.target LIKE ").bind(format!("{prefix}%"));
        }
        q.push(")");
        if !kinds.is_empty() {
            q.push(" AND f.kind IN ")
                .row(kinds.iter().map(|k| (*k).into()).collect());
        }
        if !ids.is_empty() {
            q.push(" AND f.finding_id IN ")
                .row(ids.iter().map(|id| (*id).into()).collect());
        }
        q.push(" ORDER BY st.name, f.finding_id");
        let rows = q.query().fetch_all(self.pool()).await?;
        rows.iter().map(finding_from_row).collect()
    }

    /// Every advisory the latest scans report, worst first, each once with how many
    /// targets it affects. `skip` says which findings an exception covers; the rows it
    /// sees carry the scan, target name, id, severity, title, package and fixed version.
    pub async fn vulnerabilities(
        &self,
        skip: impl Fn(&FindingRow) -> bool,
    ) -> Result<Vec<VulnerabilitySummary>> {
        // Only the columns the summary needs, unsorted: this reads every vulnerability of
        // every latest scan, and decoding is most of its cost.
        let mut q = Sql::new(
            "SELECT f.scan_id, st.name, f.finding_id, f.severity, f.title, f.package, \
             f.fixed_version FROM findings f \
             JOIN scan_targets st ON st.scan_id = f.scan_id AND st.idx = f.target_idx \
             WHERE f.kind = 'vulnerability' AND f.scan_id IN (",
        );
        q.push(LATEST).push(")");
        let raw = q.query().fetch_all(self.pool()).await?;
        let mut rows = Vec::with_capacity(raw.len());
        for r in &raw {
            rows.push(FindingRow {
                scan_id: r.try_get("scan_id")?,
                target: r.try_get("name")?,
                target_kind: String::new(),
                image_id: None,
                kind: "vulnerability".into(),
                id: r.try_get("finding_id")?,
                severity: r.try_get("severity")?,
                title: r.try_get("title")?,
                package: r.try_get("package")?,
                installed_version: None,
                fixed_version: r.try_get("fixed_version")?,
                path: None,
            });
        }
        let mut by_id: BTreeMap<
            String,
            (VulnerabilitySummary, std::collections::BTreeSet<String>),
        > = BTreeMap::new();
        for f in rows.iter().filter(|f| !skip(f)) {
            let (v, targets) = by_id.entry(f.id.clone()).or_insert_with(|| {
                (
                    VulnerabilitySummary {
                        id: f.id.clone(),
                        severity: f.severity.clone(),
                        title: f.title.clone(),
                        packages: Vec::new(),
                        targets: 0,
                        fixed_versions: Vec::new(),
                    },
                    Default::default(),
                )
            });
            if severity_rank(&f.severity) > severity_rank(&v.severity) {
                v.severity = f.severity.clone();
            }
            if let Some(p) = &f.package {
                if !v.packages.contains(p) {
                    v.packages.push(p.clone());
                }
            }
            if let Some(fix) = &f.fixed_version {
                if !v.fixed_versions.contains(fix) {
                    v.fixed_versions.push(fix.clone());
                }
            }
            targets.insert(format!("{}\0{}", f.scan_id, f.target));
        }
        let mut out: Vec<VulnerabilitySummary> = by_id
            .into_values()
            .map(|(mut v, targets)| {
                v.targets = targets.len() as i64;
                v
            })
            .collect();
        out.sort_by(|a, b| {
            severity_rank(&b.severity)
                .cmp(&severity_rank(&a.severity))
                .then(b.targets.cmp(&a.targets))
                .then(a.id.cmp(&b.id))
        });
        Ok(out)
    }
}

/// One day in Unix ms.
const DAY_MS: i64 = 86_400_000;

impl Store {
    /// Critical and high counts per day for the `days` days ending with the one holding
    /// `now` (Unix ms), oldest first, from stored scans: each day counts every target by
    /// its latest scan finished before the day ended (also scans older than the window).
    pub async fn trends(&self, days: i64, now: i64) -> Result<Vec<TrendDay>> {
        let days = days.clamp(1, 366);
        let first = (now.div_euclid(DAY_MS) - (days - 1)) * DAY_MS;
        // Scans inside the window, and the latest one of each target before it.
        let rows = sqlx::query(
            "SELECT s.target, st.name, st.kind, st.critical, st.high, s.finished_at \
             FROM scan_targets st JOIN scans s ON s.id = st.scan_id \
             WHERE s.status = 'finished' AND (s.finished_at >= $1 OR s.finished_at = \
               (SELECT MAX(s2.finished_at) FROM scans s2 WHERE s2.target = s.target \
                AND s2.status = 'finished' AND s2.finished_at < $1)) \
             ORDER BY s.finished_at",
        )
        .bind(first)
        .fetch_all(self.pool())
        .await?;
        struct Point {
            key: (String, String),
            kind: String,
            counts: TrendCounts,
            at: i64,
        }
        let mut points = Vec::with_capacity(rows.len());
        for r in &rows {
            points.push(Point {
                key: (r.try_get("target")?, r.try_get("name")?),
                kind: r.try_get("kind")?,
                counts: TrendCounts {
                    critical: r.try_get("critical")?,
                    high: r.try_get("high")?,
                },
                at: r.try_get("finished_at")?,
            });
        }
        let mut latest: BTreeMap<(String, String), (String, TrendCounts)> = BTreeMap::new();
        let mut next = points.iter().peekable();
        let mut out = Vec::with_capacity(days as usize);
        for d in 0..days {
            let start = first + d * DAY_MS;
            while let Some(p) = next.next_if(|p| p.at < start + DAY_MS) {
                latest.insert(p.key.clone(), (p.kind.clone(), p.counts));
            }
            let mut day = TrendDay {
                day: start,
                ..Default::default()
            };
            for (kind, c) in latest.values() {
                let slot = match kind.as_str() {
                    "image" => &mut day.images,
                    "container" => &mut day.containers,
                    _ => &mut day.hosts,
                };
                slot.critical += c.critical;
                slot.high += c.high;
            }
            out.push(day);
        }
        Ok(out)
    }
}
