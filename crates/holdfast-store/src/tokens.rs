//! API tokens: made here, shown once, stored as their SHA-256.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{new_id, now_ms, random_hex, secret_hash, Result, Store, StoreError};

/// What a token may do. Each scope allows what the ones before it allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read scans, views and metrics.
    Read,
    /// Also queue and delete scans.
    Scan,
    /// Also manage exceptions, schedules and tokens.
    Admin,
}

impl Scope {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Scan => "scan",
            Scope::Admin => "admin",
        }
    }

    /// Whether a token of this scope may do what `needed` allows.
    pub fn allows(self, needed: Scope) -> bool {
        self >= needed
    }
}

impl std::str::FromStr for Scope {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "read" => Scope::Read,
            "scan" => Scope::Scan,
            "admin" => Scope::Admin,
            other => {
                return Err(StoreError::Invalid(format!(
                    "unknown token scope {other:?}: expected read, scan or admin"
                )))
            }
        })
    }
}

/// A token as stored (never the token itself).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenInfo {
    /// Its id.
    pub id: String,
    /// Who or what it is for.
    pub name: String,
    /// What it may do.
    pub scope: Scope,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms, when revoked.
    pub revoked_at: Option<i64>,
}

/// The prefix every token starts with, so scanners of leaked secrets can spot one.
pub const TOKEN_PREFIX: &str = "hft_";

pub(crate) fn token_from_row(row: &AnyRow) -> Result<TokenInfo> {
    let scope: String = row.try_get("scope")?;
    Ok(TokenInfo {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        scope: scope.parse()?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl Store {
    /// Makes a token; returns what is stored and the token, which is never stored.
    pub async fn create_token(&self, name: &str, scope: Scope) -> Result<(TokenInfo, String)> {
        let token = format!("{TOKEN_PREFIX}{}", random_hex(32));
        let info = TokenInfo {
            id: new_id(),
            name: name.to_string(),
            scope,
            created_at: now_ms(),
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO tokens (id, name, scope, hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&info.id)
        .bind(&info.name)
        .bind(scope.as_str())
        .bind(secret_hash(&token))
        .bind(info.created_at)
        .execute(self.pool())
        .await?;
        Ok((info, token))
    }

    /// The live token `token` is, if any.
    pub async fn verify_token(&self, token: &str) -> Result<Option<TokenInfo>> {
        let row = sqlx::query(
            "SELECT id, name, scope, created_at, revoked_at FROM tokens \
             WHERE hash = $1 AND revoked_at IS NULL",
        )
        .bind(secret_hash(token))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    /// Every token, live or revoked.
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query(
            "SELECT id, name, scope, created_at, revoked_at FROM tokens ORDER BY created_at",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes a token; false when there was no live one with this id.
    pub async fn revoke_token(&self, id: &str) -> Result<bool> {
        let done =
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now_ms())
                .bind(id)
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() > 0)
    }
}
