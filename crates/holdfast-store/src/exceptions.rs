//! Advisory exceptions: accepted risks with a reason, an owner and an expiry.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{new_id, now_ms, Result, Store, StoreError};

/// An exception as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Exception {
    /// Its id.
    pub id: String,
    /// The advisory (or one of its aliases) it covers.
    pub advisory: String,
    /// Only for targets with this name (all when absent).
    pub target: Option<String>,
    /// Only for this package (all when absent).
    pub package: Option<String>,
    /// Why the risk is accepted.
    pub reason: String,
    /// Who answers for it.
    pub owner: String,
    /// Unix ms after which it no longer applies.
    pub expires_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// The token name that made it.
    pub created_by: String,
}

/// An exception to add.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NewException {
    /// The advisory it covers.
    pub advisory: String,
    /// Only for targets with this name.
    #[serde(default)]
    pub target: Option<String>,
    /// Only for this package.
    #[serde(default)]
    pub package: Option<String>,
    /// Why.
    pub reason: String,
    /// Who answers for it.
    pub owner: String,
    /// Unix ms after which it no longer applies.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

impl Exception {
    /// Whether it is in force at `now` (Unix ms).
    pub fn active(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|t| t > now)
    }

    /// Whether it covers `advisory` (or one of `aliases`) of `package` in `target`.
    pub fn covers(
        &self,
        advisory: &str,
        aliases: &[String],
        package: Option<&str>,
        target: &str,
    ) -> bool {
        (self.advisory == advisory || aliases.contains(&self.advisory))
            && self.target.as_deref().is_none_or(|t| t == target)
            && self.package.as_deref().is_none_or(|p| Some(p) == package)
    }
}

fn exception_from_row(r: &AnyRow) -> Result<Exception> {
    Ok(Exception {
        id: r.try_get("id")?,
        advisory: r.try_get("advisory")?,
        target: r.try_get("target")?,
        package: r.try_get("package")?,
        reason: r.try_get("reason")?,
        owner: r.try_get("owner")?,
        expires_at: r.try_get("expires_at")?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
    })
}

impl Store {
    /// Adds an exception.
    pub async fn create_exception(&self, new: &NewException, by: &str) -> Result<Exception> {
        for (field, value) in [
            ("advisory", &new.advisory),
            ("reason", &new.reason),
            ("owner", &new.owner),
        ] {
            if value.trim().is_empty() {
                return Err(StoreError::Invalid(format!(
                    "an exception needs a non-empty {field}"
                )));
            }
        }
        let e = Exception {
            id: new_id(),
            advisory: new.advisory.trim().to_string(),
            target: new.target.clone(),
            package: new.package.clone(),
            reason: new.reason.clone(),
            owner: new.owner.clone(),
            expires_at: new.expires_at,
            created_at: now_ms(),
            created_by: by.to_string(),
        };
        sqlx::query(
            "INSERT INTO exceptions (id, advisory, target, package, reason, owner, expires_at, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&e.id)
        .bind(&e.advisory)
        .bind(e.target.as_deref())
        .bind(e.package.as_deref())
        .bind(&e.reason)
        .bind(&e.owner)
        .bind(e.expires_at)
        .bind(e.created_at)
        .bind(&e.created_by)
        .execute(self.pool())
        .await?;
        Ok(e)
    }

    /// Every exception, expired ones included, newest first.
    pub async fn exceptions(&self) -> Result<Vec<Exception>> {
        let rows = sqlx::query(
            "SELECT id, advisory, target, package, reason, owner, expires_at, created_at, created_by \
             FROM exceptions ORDER BY created_at DESC",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(exception_from_row).collect()
    }

    /// The exceptions in force now.
    pub async fn active_exceptions(&self) -> Result<Vec<Exception>> {
        let now = now_ms();
        Ok(self
            .exceptions()
            .await?
            .into_iter()
            .filter(|e| e.active(now))
            .collect())
    }

    /// Deletes an exception; false when there was none.
    pub async fn delete_exception(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM exceptions WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
