//! Console sessions: a browser that signed in with an API token holds a random secret in a
//! cookie; the store keeps its SHA-256, the token it stands for, and the CSRF token its
//! forms must carry. A session ends at its expiry, at sign-out, or when its token is
//! revoked.

use sqlx::Row;

use crate::tokens::token_from_row;
use crate::{now_ms, random_hex, secret_hash, Result, Store, TokenInfo};

/// A signed-in browser, as a request sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The token the session was opened with.
    pub token: TokenInfo,
    /// The value every form of this session must send back.
    pub csrf: String,
    /// Unix ms.
    pub expires_at: i64,
}

impl Store {
    /// Opens a session for `token` lasting `ttl_ms`; returns the cookie's secret (never
    /// stored) and the session.
    pub async fn create_session(
        &self,
        token: &TokenInfo,
        ttl_ms: i64,
    ) -> Result<(String, Session)> {
        let secret = random_hex(32);
        let now = now_ms();
        let session = Session {
            token: token.clone(),
            csrf: random_hex(32),
            expires_at: now + ttl_ms,
        };
        sqlx::query(
            "INSERT INTO sessions (hash, token_id, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(secret_hash(&secret))
        .bind(&token.id)
        .bind(&session.csrf)
        .bind(now)
        .bind(session.expires_at)
        .execute(self.pool())
        .await?;
        // Expired sessions are removed as new ones open, so the table stays small.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok((secret, session))
    }

    /// The live session whose cookie holds `secret`, with its live token.
    pub async fn session(&self, secret: &str) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT t.id, t.name, t.scope, t.created_at, t.revoked_at, s.csrf, s.expires_at \
             FROM sessions s JOIN tokens t ON t.id = s.token_id \
             WHERE s.hash = $1 AND s.expires_at > $2 AND t.revoked_at IS NULL",
        )
        .bind(secret_hash(secret))
        .bind(now_ms())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(Session {
                token: token_from_row(&r)?,
                csrf: r.try_get("csrf")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Ends the session whose cookie holds `secret`.
    pub async fn delete_session(&self, secret: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE hash = $1")
            .bind(secret_hash(secret))
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
