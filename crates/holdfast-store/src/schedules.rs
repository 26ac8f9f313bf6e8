//! Schedules: targets scanned again and again. The spec (`every 12h`, cron) is parsed by
//! the service; the store keeps it and when it is next due.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{new_id, now_ms, Result, Store, StoreError};

/// A schedule as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Schedule {
    /// Its id.
    pub id: String,
    /// Its unique name.
    pub name: String,
    /// The target, in the CLI's target syntax.
    pub target: String,
    /// The scanners; empty for the default ones.
    pub scanners: Vec<String>,
    /// `every DURATION` or a cron expression.
    pub spec: String,
    /// Unix ms.
    pub next_run_at: i64,
    /// Unix ms.
    pub last_run_at: Option<i64>,
    /// The image digest the last queued scan was for: an unchanged image is not scanned again.
    pub last_digest: Option<String>,
    /// Whether it runs.
    pub enabled: bool,
}

/// A schedule to add or replace (by name).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NewSchedule {
    /// Its unique name.
    pub name: String,
    /// The target.
    pub target: String,
    /// The scanners.
    #[serde(default)]
    pub scanners: Vec<String>,
    /// `every DURATION` or a cron expression.
    pub spec: String,
}

fn schedule_from_row(r: &AnyRow) -> Result<Schedule> {
    let scanners: String = r.try_get("scanners")?;
    Ok(Schedule {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        target: r.try_get("target")?,
        scanners: serde_json::from_str(&scanners).map_err(|source| StoreError::Json {
            what: "schedules.scanners",
            source,
        })?,
        spec: r.try_get("spec")?,
        next_run_at: r.try_get("next_run_at")?,
        last_run_at: r.try_get("last_run_at")?,
        last_digest: r.try_get("last_digest")?,
        enabled: r.try_get::<i64, _>("enabled")? != 0,
    })
}

const COLUMNS: &str =
    "id, name, target, scanners, spec, next_run_at, last_run_at, last_digest, enabled";

impl Store {
    /// Adds a schedule, or replaces the one with the same name; it is first due at
    /// `next_run_at`.
    pub async fn upsert_schedule(&self, new: &NewSchedule, next_run_at: i64) -> Result<Schedule> {
        if new.name.trim().is_empty() || new.target.trim().is_empty() {
            return Err(StoreError::Invalid(
                "a schedule needs a name and a target".into(),
            ));
        }
        let scanners = serde_json::to_string(&new.scanners).expect("strings serialise");
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM schedules WHERE name = $1")
            .bind(&new.name)
            .execute(&mut *tx)
            .await?;
        let id = new_id();
        sqlx::query(
            "INSERT INTO schedules (id, name, target, scanners, spec, next_run_at, enabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
        )
        .bind(&id)
        .bind(&new.name)
        .bind(&new.target)
        .bind(&scanners)
        .bind(&new.spec)
        .bind(next_run_at)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Schedule {
            id,
            name: new.name.clone(),
            target: new.target.clone(),
            scanners: new.scanners.clone(),
            spec: new.spec.clone(),
            next_run_at,
            last_run_at: None,
            last_digest: None,
            enabled: true,
        })
    }

    /// Every schedule, by name.
    pub async fn schedules(&self) -> Result<Vec<Schedule>> {
        let sql = format!("SELECT {COLUMNS} FROM schedules ORDER BY name");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(schedule_from_row).collect()
    }

    /// The enabled schedules due at `now`.
    pub async fn due_schedules(&self, now: i64) -> Result<Vec<Schedule>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM schedules WHERE enabled = 1 AND next_run_at <= $1 ORDER BY next_run_at"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(schedule_from_row).collect()
    }

    /// Records that a schedule ran (whether or not it queued a scan) and when it is due
    /// next. Only the caller that saw it due at `was_due` moves it, so two servers never
    /// both queue the same run.
    pub async fn advance_schedule(
        &self,
        id: &str,
        was_due: i64,
        next_run_at: i64,
        digest: Option<&str>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE schedules SET next_run_at = $1, last_run_at = $2, \
             last_digest = COALESCE($3, last_digest) WHERE id = $4 AND next_run_at = $5",
        )
        .bind(next_run_at)
        .bind(now_ms())
        .bind(digest)
        .bind(id)
        .bind(was_due)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes a schedule by id or name; false when there was none.
    pub async fn delete_schedule(&self, id_or_name: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM schedules WHERE id = $1 OR name = $1")
            .bind(id_or_name)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
