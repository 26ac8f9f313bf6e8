//! Scans: the queue, the leases workers hold, and results written in one transaction.

use std::time::Duration;

use holdfast_model::{ScanResult, Severity};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::sql::{Param, Sql};

use crate::{new_id, now_ms, Backend, Result, Store, StoreError};

/// Where a scan is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanStatus {
    /// Waiting for a worker.
    Queued,
    /// Leased by a worker.
    Running,
    /// Done; its result is stored.
    Finished,
    /// Done without a result; `error` says why.
    Failed,
}

impl ScanStatus {
    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanStatus::Queued => "queued",
            ScanStatus::Running => "running",
            ScanStatus::Finished => "finished",
            ScanStatus::Failed => "failed",
        }
    }
}

impl std::str::FromStr for ScanStatus {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "queued" => ScanStatus::Queued,
            "running" => ScanStatus::Running,
            "finished" => ScanStatus::Finished,
            "failed" => ScanStatus::Failed,
            other => {
                return Err(StoreError::Invalid(format!(
                    "unknown scan status {other:?}: expected queued, running, finished or failed"
                )))
            }
        })
    }
}

/// A scan as stored, without its result.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScanRecord {
    /// Time-ordered id.
    pub id: String,
    /// The target, in the CLI's target syntax.
    pub target: String,
    /// The scanners asked for; empty means the default ones.
    pub scanners: Vec<String>,
    /// Where it is.
    pub status: ScanStatus,
    /// Why it failed.
    pub error: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// When a worker last took it, Unix ms.
    pub started_at: Option<i64>,
    /// Unix ms.
    pub finished_at: Option<i64>,
    /// How many times a worker took it.
    pub attempts: i64,
    /// The schedule that queued it.
    pub schedule_id: Option<String>,
    /// The interrupted scan this one repeats.
    pub retry_of: Option<String>,
    /// How long the scan ran.
    pub duration_ms: Option<i64>,
}

/// A scan to queue.
#[derive(Debug, Clone, Default)]
pub struct NewScan {
    /// The target, in the CLI's target syntax.
    pub target: String,
    /// The scanners; empty for the default ones.
    pub scanners: Vec<String>,
    /// The schedule that queues it.
    pub schedule_id: Option<String>,
    /// The interrupted scan it repeats.
    pub retry_of: Option<String>,
    /// No worker takes it before this time (Unix ms): a retry's backoff, kept in the
    /// store so a restart does not lose it.
    pub not_before: Option<i64>,
}

/// Which scans to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct ScanFilter {
    /// Only in this state.
    pub status: Option<ScanStatus>,
    /// Only of this target.
    pub target: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Skip this many.
    pub offset: Option<i64>,
}

const SCAN_COLUMNS: &str = "id, target, scanners, status, error, created_at, started_at, \
     finished_at, attempts, schedule_id, retry_of, duration_ms";

/// Work leased past this many attempts is failed instead of queued again.
pub const MAX_ATTEMPTS: i64 = 3;

fn scan_from_row(row: &AnyRow) -> Result<ScanRecord> {
    let scanners: String = row.try_get("scanners")?;
    let status: String = row.try_get("status")?;
    Ok(ScanRecord {
        id: row.try_get("id")?,
        target: row.try_get("target")?,
        scanners: serde_json::from_str(&scanners).map_err(|source| StoreError::Json {
            what: "scans.scanners",
            source,
        })?,
        status: status.parse()?,
        error: row.try_get("error")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        attempts: row.try_get("attempts")?,
        schedule_id: row.try_get("schedule_id")?,
        retry_of: row.try_get("retry_of")?,
        duration_ms: row.try_get("duration_ms")?,
    })
}

impl Store {
    /// Queues a scan.
    pub async fn enqueue(&self, scan: &NewScan) -> Result<ScanRecord> {
        let id = new_id();
        let scanners = serde_json::to_string(&scan.scanners).expect("strings serialise");
        let now = now_ms();
        sqlx::query(
            "INSERT INTO scans (id, target, scanners, status, created_at, attempts, schedule_id, retry_of, not_before) \
             VALUES ($1, $2, $3, 'queued', $4, 0, $5, $6, $7)",
        )
        .bind(&id)
        .bind(&scan.target)
        .bind(&scanners)
        .bind(now)
        .bind(scan.schedule_id.as_deref())
        .bind(scan.retry_of.as_deref())
        .bind(scan.not_before)
        .execute(self.pool())
        .await?;
        Ok(ScanRecord {
            id,
            target: scan.target.clone(),
            scanners: scan.scanners.clone(),
            status: ScanStatus::Queued,
            error: None,
            created_at: now,
            started_at: None,
            finished_at: None,
            attempts: 0,
            schedule_id: scan.schedule_id.clone(),
            retry_of: scan.retry_of.clone(),
            duration_ms: None,
        })
    }

    /// One scan, without its result.
    pub async fn scan(&self, id: &str) -> Result<Option<ScanRecord>> {
        let sql = format!("SELECT {SCAN_COLUMNS} FROM scans WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(scan_from_row).transpose()
    }

    /// One scan and its result JSON (when finished), in one query: the API's hot read.
    pub async fn scan_with_result_json(
        &self,
        id: &str,
    ) -> Result<Option<(ScanRecord, Option<String>)>> {
        let sql = format!("SELECT {SCAN_COLUMNS}, result FROM scans WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(row) => Ok(Some((scan_from_row(&row)?, row.try_get("result")?))),
            None => Ok(None),
        }
    }

    /// A finished scan's result, as the JSON the CLI prints.
    pub async fn scan_result_json(&self, id: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT result FROM scans WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(row) => row.try_get("result")?,
            None => None,
        })
    }

    /// A finished scan's result, decoded.
    pub async fn scan_result(&self, id: &str) -> Result<Option<ScanResult>> {
        self.scan_result_json(id)
            .await?
            .map(|json| {
                serde_json::from_str(&json).map_err(|source| StoreError::Json {
                    what: "scans.result",
                    source,
                })
            })
            .transpose()
    }

    /// Scans, newest first.
    pub async fn scans(&self, filter: &ScanFilter) -> Result<Vec<ScanRecord>> {
        let mut q = Sql::new(&format!("SELECT {SCAN_COLUMNS} FROM scans WHERE 1 = 1"));
        if let Some(status) = filter.status {
            q.push(" AND status = ").bind(status.as_str());
        }
        if let Some(target) = &filter.target {
            q.push(" AND target = ").bind(target.clone());
        }
        q.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .bind(filter.limit.unwrap_or(100).clamp(1, 1000))
            .push(" OFFSET ")
            .bind(filter.offset.unwrap_or(0).max(0));
        let rows = q.query().fetch_all(self.pool()).await?;
        rows.iter().map(scan_from_row).collect()
    }

    /// Deletes a scan and everything derived from it; false when there was none.
    pub async fn delete_scan(&self, id: &str) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        delete_derived(&mut tx, id).await?;
        let done = sqlx::query("DELETE FROM scans WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Leases the oldest queued scan to `worker` for `lease`; `None` when the queue is
    /// empty. On PostgreSQL, concurrent workers skip rows another one has locked, so no
    /// scan is taken twice.
    pub async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<ScanRecord>> {
        // The connection first, then the clock: a lease computed before a slow acquire
        // (the database just came back) could expire before it is granted.
        let mut conn = self.pool().acquire().await?;
        let now = now_ms();
        let pick = match self.backend() {
            Backend::Postgres => {
                "SELECT id FROM scans WHERE status = 'queued' AND (not_before IS NULL OR not_before <= $3) \
                 ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
            }
            Backend::Sqlite => {
                "SELECT id FROM scans WHERE status = 'queued' AND (not_before IS NULL OR not_before <= $3) \
                 ORDER BY created_at, id LIMIT 1"
            }
        };
        let sql = format!(
            "UPDATE scans SET status = 'running', lease_owner = $1, lease_expires = $2, \
             started_at = $3, attempts = attempts + 1 WHERE id = ({pick}) AND status = 'queued' \
             RETURNING {SCAN_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(now + lease.as_millis() as i64)
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(scan_from_row).transpose()
    }

    /// Extends `worker`'s lease on a running scan; false when the lease was lost.
    pub async fn renew(&self, id: &str, worker: &str, lease: Duration) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE scans SET lease_expires = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'running'",
        )
        .bind(now_ms() + lease.as_millis() as i64)
        .bind(id)
        .bind(worker)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Stores a finished scan's result and its derived rows in one transaction. False
    /// (and nothing written) when `worker` no longer holds the lease.
    pub async fn finish(
        &self,
        id: &str,
        worker: &str,
        result: &ScanResult,
        duration_ms: i64,
    ) -> Result<bool> {
        let json = serde_json::to_string(result).expect("a scan result serialises");
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE scans SET status = 'finished', result = $1, finished_at = $2, duration_ms = $3, \
             error = NULL, lease_owner = NULL, lease_expires = NULL \
             WHERE id = $4 AND lease_owner = $5 AND status = 'running'",
        )
        .bind(&json)
        .bind(now_ms())
        .bind(duration_ms)
        .bind(id)
        .bind(worker)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_derived(&mut tx, id, result).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Stores a result made elsewhere (a CI job's `holdfast scan --format json`) as a
    /// finished scan of `target` that finished at `finished_at` (Unix ms), with its derived
    /// rows, in one transaction.
    pub async fn import_result(
        &self,
        target: &str,
        result: &ScanResult,
        finished_at: i64,
    ) -> Result<ScanRecord> {
        let id = new_id();
        let json = serde_json::to_string(result).expect("a scan result serialises");
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO scans (id, target, scanners, status, created_at, started_at, finished_at, \
             attempts, duration_ms, result) VALUES ($1, $2, '[]', 'finished', $3, $3, $3, 0, 0, $4)",
        )
        .bind(&id)
        .bind(target)
        .bind(finished_at)
        .bind(&json)
        .execute(&mut *tx)
        .await?;
        insert_derived(&mut tx, &id, result).await?;
        tx.commit().await?;
        Ok(ScanRecord {
            id,
            target: target.to_string(),
            scanners: Vec::new(),
            status: ScanStatus::Finished,
            error: None,
            created_at: finished_at,
            started_at: Some(finished_at),
            finished_at: Some(finished_at),
            attempts: 0,
            schedule_id: None,
            retry_of: None,
            duration_ms: Some(0),
        })
    }

    /// Replaces a finished scan's result (a re-match against a new database) and its
    /// derived rows, in one transaction.
    pub async fn replace_result(&self, id: &str, result: &ScanResult) -> Result<bool> {
        let json = serde_json::to_string(result).expect("a scan result serialises");
        let mut tx = self.pool().begin().await?;
        let done =
            sqlx::query("UPDATE scans SET result = $1 WHERE id = $2 AND status = 'finished'")
                .bind(&json)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        delete_derived(&mut tx, id).await?;
        insert_derived(&mut tx, id, result).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Marks a running scan failed with `error`; false when `worker` no longer holds it.
    pub async fn fail(
        &self,
        id: &str,
        worker: &str,
        error: &str,
        duration_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE scans SET status = 'failed', error = $1, finished_at = $2, duration_ms = $3, \
             lease_owner = NULL, lease_expires = NULL \
             WHERE id = $4 AND lease_owner = $5 AND status = 'running'",
        )
        .bind(error)
        .bind(now_ms())
        .bind(duration_ms)
        .bind(id)
        .bind(worker)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Scans whose lease ran out (their worker died or the server was killed): each is
    /// marked failed, saying so, and queued again as a new scan unless it already ran
    /// [`MAX_ATTEMPTS`] times. Returns `(failed, requeued)` id pairs.
    pub async fn recover_expired(&self) -> Result<Vec<(String, Option<String>)>> {
        let now = now_ms();
        let mut tx = self.pool().begin().await?;
        let sql = format!(
            "UPDATE scans SET status = 'failed', \
             error = 'interrupted: the worker holding it stopped before it finished', \
             finished_at = $1, lease_owner = NULL, lease_expires = NULL \
             WHERE status = 'running' AND lease_expires < $2 RETURNING {SCAN_COLUMNS}"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
        let mut out = Vec::new();
        for row in &rows {
            let scan = scan_from_row(row)?;
            let chain = retry_chain_attempts(&mut tx, &scan).await?;
            let requeued = if chain < MAX_ATTEMPTS {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO scans (id, target, scanners, status, created_at, attempts, schedule_id, retry_of) \
                     VALUES ($1, $2, $3, 'queued', $4, 0, $5, $6)",
                )
                .bind(&id)
                .bind(&scan.target)
                .bind(serde_json::to_string(&scan.scanners).expect("strings serialise"))
                .bind(now)
                .bind(scan.schedule_id.as_deref())
                .bind(&scan.id)
                .execute(&mut *tx)
                .await?;
                Some(id)
            } else {
                None
            };
            out.push((scan.id, requeued));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// How many scans wait for a worker, and how many run.
    pub async fn queue_depth(&self) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT \
               COALESCE(SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END), 0) AS queued, \
               COALESCE(SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END), 0) AS running \
             FROM scans WHERE status IN ('queued', 'running')",
        )
        .fetch_one(self.pool())
        .await?;
        Ok((row.try_get("queued")?, row.try_get("running")?))
    }

    /// Scans by status, for the metrics.
    pub async fn scan_counts(&self) -> Result<Vec<(ScanStatus, i64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM scans GROUP BY status")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let status: String = r.try_get("status")?;
                Ok((status.parse()?, r.try_get("n")?))
            })
            .collect()
    }
}

/// How many times this target was tried in the chain of retries ending at `scan`.
async fn retry_chain_attempts(tx: &mut Transaction<'_, Any>, scan: &ScanRecord) -> Result<i64> {
    let mut attempts = scan.attempts.max(1);
    let mut previous = scan.retry_of.clone();
    while let Some(id) = previous {
        if attempts >= MAX_ATTEMPTS {
            break;
        }
        let row = sqlx::query("SELECT attempts, retry_of FROM scans WHERE id = $1")
            .bind(&id)
            .fetch_optional(&mut **tx)
            .await?;
        match row {
            Some(row) => {
                attempts += row.try_get::<i64, _>("attempts")?.max(1);
                previous = row.try_get("retry_of")?;
            }
            None => break,
        }
    }
    Ok(attempts)
}

async fn delete_derived(tx: &mut Transaction<'_, Any>, id: &str) -> Result<()> {
    for sql in [
        "DELETE FROM findings WHERE scan_id = $1",
        "DELETE FROM packages WHERE scan_id = $1",
        "DELETE FROM scan_targets WHERE scan_id = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Rows per multi-row INSERT: well under both databases' bound-parameter limits.
const BATCH_ROWS: usize = 500;

async fn insert_derived(
    tx: &mut Transaction<'_, Any>,
    id: &str,
    result: &ScanResult,
) -> Result<()> {
    for (idx, target) in result.targets.iter().enumerate() {
        let idx = idx as i64;
        let mut counts = [0i64; 5];
        for f in &target.findings {
            counts[severity_slot(f.severity)] += 1;
        }
        sqlx::query(
            "INSERT INTO scan_targets (scan_id, idx, name, kind, image_id, os, packages, \
             critical, high, medium, low, unknown) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(id)
        .bind(idx)
        .bind(&target.name)
        .bind(target.kind.as_str())
        .bind(target.image_id.as_deref())
        .bind(
            target
                .os
                .as_ref()
                .map(|os| format!("{} {}", os.family.as_str(), os.version)),
        )
        .bind(target.packages.len() as i64)
        .bind(counts[0])
        .bind(counts[1])
        .bind(counts[2])
        .bind(counts[3])
        .bind(counts[4])
        .execute(&mut **tx)
        .await?;
        for chunk in target.findings.chunks(BATCH_ROWS) {
            let mut q = Sql::new(
                "INSERT INTO findings (scan_id, target_idx, kind, finding_id, severity, title, \
                 package, installed_version, fixed_version, path) VALUES ",
            );
            for (i, f) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.row(vec![
                    id.into(),
                    idx.into(),
                    f.kind.as_str().into(),
                    f.id.clone().into(),
                    f.severity.as_str().into(),
                    f.title.clone().into(),
                    f.package.clone().into(),
                    f.installed_version.clone().into(),
                    f.fixed_version.clone().into(),
                    f.path.clone().into(),
                ]);
            }
            q.query().execute(&mut **tx).await?;
        }
        for chunk in target.packages.chunks(BATCH_ROWS) {
            let mut q = Sql::new(
                "INSERT INTO packages (scan_id, target_idx, name, version, purl, layer) VALUES ",
            );
            for (i, p) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                let purl: Param = (!p.purl.is_empty()).then(|| p.purl.clone()).into();
                q.row(vec![
                    id.into(),
                    idx.into(),
                    p.name.clone().into(),
                    p.version.clone().into(),
                    purl,
                    p.layer.clone().into(),
                ]);
            }
            q.query().execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// Critical, high, medium, low, then everything else.
pub(crate) fn severity_slot(s: Severity) -> usize {
    match s {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
        _ => 4,
    }
}
