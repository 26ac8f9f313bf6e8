//! Named verdict policies (`ci`, `admission`): JSON documents the service defines, kept
//! here with who changed them last.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{now_ms, Result, Store, StoreError};

/// A policy as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredPolicy {
    /// Its name.
    pub name: String,
    /// The document.
    pub body: serde_json::Value,
    /// Unix ms.
    pub updated_at: i64,
    /// The token name that saved it.
    pub updated_by: String,
}

fn policy_from_row(r: &AnyRow) -> Result<StoredPolicy> {
    let body: String = r.try_get("body")?;
    Ok(StoredPolicy {
        name: r.try_get("name")?,
        body: serde_json::from_str(&body).map_err(|source| StoreError::Json {
            what: "policies.body",
            source,
        })?,
        updated_at: r.try_get("updated_at")?,
        updated_by: r.try_get("updated_by")?,
    })
}

impl Store {
    /// Every stored policy, by name.
    pub async fn policies(&self) -> Result<Vec<StoredPolicy>> {
        let rows =
            sqlx::query("SELECT name, body, updated_at, updated_by FROM policies ORDER BY name")
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(policy_from_row).collect()
    }

    /// One stored policy.
    pub async fn policy(&self, name: &str) -> Result<Option<StoredPolicy>> {
        let row =
            sqlx::query("SELECT name, body, updated_at, updated_by FROM policies WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await?;
        row.as_ref().map(policy_from_row).transpose()
    }

    /// Saves (creates or replaces) a policy.
    pub async fn put_policy(
        &self,
        name: &str,
        body: &serde_json::Value,
        by: &str,
    ) -> Result<StoredPolicy> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO policies (name, body, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET body = excluded.body, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(name)
        .bind(body.to_string())
        .bind(now)
        .bind(by)
        .execute(self.pool())
        .await?;
        Ok(StoredPolicy {
            name: name.to_string(),
            body: body.clone(),
            updated_at: now,
            updated_by: by.to_string(),
        })
    }
}
