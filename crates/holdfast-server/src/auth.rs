//! Bearer tokens: every route but `/healthz`, `/readyz` and `/metrics` needs one, and
//! each route names the scope it needs. Tokens are never logged; a failed check says
//! which scope was missing, not what was sent.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use holdfast_store::{Scope, TokenInfo};

use crate::api::ApiError;
use crate::AppState;

/// Verified tokens (by SHA-256) are trusted this long before the store is asked again,
/// so a revoked token stops working within this time.
const VERIFIED_FOR: Duration = Duration::from_secs(10);

/// SHA-256 of a token → what it is and when the store last said so.
type Verified = HashMap<[u8; 32], (TokenInfo, Instant)>;

static VERIFIED: Mutex<Option<Verified>> = Mutex::new(None);

/// The caller, as the handlers see it.
#[derive(Debug, Clone)]
pub struct Caller(pub TokenInfo);

/// Checks the bearer token against `needed`, then runs the route with the [`Caller`].
pub async fn require(
    State((state, needed)): State<(AppState, Scope)>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "this call needs `Authorization: Bearer TOKEN`",
            )
        })?
        .to_string();
    let info = verify(&state, &token).await?.ok_or_else(|| {
        ApiError::new(StatusCode::UNAUTHORIZED, "the token is unknown or revoked")
    })?;
    if !info.scope.allows(needed) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "this call needs a token with the `{}` scope; this one has `{}`",
                needed.as_str(),
                info.scope.as_str()
            ),
        ));
    }
    request.extensions_mut().insert(Caller(info));
    Ok(next.run(request).await)
}

async fn verify(state: &AppState, token: &str) -> Result<Option<TokenInfo>, ApiError> {
    use sha2::Digest;
    let key: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
    if let Some((info, at)) = VERIFIED
        .lock()
        .expect("token cache lock")
        .as_ref()
        .and_then(|m| m.get(&key))
    {
        if at.elapsed() < VERIFIED_FOR {
            return Ok(Some(info.clone()));
        }
    }
    let info = state
        .store
        .verify_token(token)
        .await
        .map_err(ApiError::store)?;
    let mut cache = VERIFIED.lock().expect("token cache lock");
    let map = cache.get_or_insert_with(HashMap::new);
    if map.len() > 10_000 {
        map.clear();
    }
    match &info {
        Some(i) => {
            map.insert(key, (i.clone(), Instant::now()));
        }
        None => {
            map.remove(&key);
        }
    }
    Ok(info)
}
