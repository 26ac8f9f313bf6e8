//! The audit log: who changed what, when.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{new_id, now_ms, Result, Store};

/// One change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its id.
    pub id: String,
    /// Unix ms.
    pub at: i64,
    /// The token name that made the change.
    pub actor: String,
    /// What was done (`exception.create`, `schedule.delete`, ...).
    pub action: String,
    /// What it was done to, as JSON.
    pub detail: String,
}

impl Store {
    /// Records a change.
    pub async fn audit(&self, actor: &str, action: &str, detail: &serde_json::Value) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit (id, at, actor, action, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new_id())
        .bind(now_ms())
        .bind(actor)
        .bind(action)
        .bind(detail.to_string())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The latest changes, newest first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, detail FROM audit ORDER BY at DESC, id DESC LIMIT $1",
        )
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }
}
