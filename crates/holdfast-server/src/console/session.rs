//! Signing in: an API token typed into `/login` opens a session whose secret lives in an
//! HttpOnly, SameSite=Strict cookie (Secure under TLS). Every form carries the session's
//! CSRF token; the login form carries one of its own in a short-lived cookie (double
//! submit), so another site cannot sign a browser in either.

use axum::extract::{Form, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use holdfast_store::{Scope, Session};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::{render, PageError};
use crate::api::ApiError;
use crate::AppState;

/// The session cookie.
const SESSION_COOKIE: &str = "holdfast_session";
/// The login form's CSRF cookie.
const LOGIN_COOKIE: &str = "holdfast_login";
/// How long a session lasts.
const SESSION_TTL_MS: i64 = 12 * 3_600_000;

/// Who is looking, as the templates see it.
#[derive(Debug, Clone, Serialize)]
pub struct Viewer {
    /// The token's name.
    pub name: String,
    /// `read`, `scan` or `admin`.
    pub scope: &'static str,
    /// Whether edit controls are shown (admin tokens).
    pub can_edit: bool,
    /// The value forms send back.
    pub csrf: String,
}

impl Viewer {
    fn of(session: &Session) -> Viewer {
        Viewer {
            name: session.token.name.clone(),
            scope: session.token.scope.as_str(),
            can_edit: session.token.scope.allows(Scope::Admin),
            csrf: session.csrf.clone(),
        }
    }

    /// Refuses a form without this session's CSRF token.
    fn check_csrf(&self, sent_csrf: &str) -> Result<(), PageError> {
        if constant_time_eq(sent_csrf.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(PageError::new(
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from this console. Reload the page and try again.",
            ))
        }
    }

    /// Refuses a form without this session's CSRF token, or from a token that may not edit.
    pub(crate) fn check_edit(&self, sent_csrf: &str) -> Result<(), PageError> {
        self.check_csrf(sent_csrf)?;
        if !self.can_edit {
            return Err(PageError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "Changes need a token with the admin scope; you signed in with a {} token.",
                    self.scope
                ),
            ));
        }
        Ok(())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn set_cookie(state: &AppState, name: &str, value: &str, max_age_s: i64) -> String {
    let secure = if state.config.tls_cert.is_some() {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{secure}")
}

fn random_hex() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS random source");
    hex::encode(b)
}

/// Lets a request through with its [`Viewer`] when it holds a live session; sends the
/// browser to `/login` (coming back here after) otherwise.
pub async fn require(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let secret = cookie(request.headers(), SESSION_COOKIE);
    let session = match secret {
        Some(s) => match state.store.session(&s).await {
            Ok(found) => found,
            Err(e) => return PageError::from(ApiError::store(e)).into_response(),
        },
        None => None,
    };
    match session {
        Some(session) => {
            request.extensions_mut().insert(Viewer::of(&session));
            next.run(request).await
        }
        None => {
            let here = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            let to = format!(
                "/login?{}",
                serde_urlencoded::to_string([("next", here.as_str())]).unwrap_or_default()
            );
            Redirect::to(&to).into_response()
        }
    }
}

/// Where to go after signing in: a path on this site only.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/".into(),
    }
}

/// `?next=` of the login page.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// The sign-in form.
pub async fn login_form(State(state): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    login_page(&state, q.next.as_deref(), None, StatusCode::OK)
}

fn login_page(
    state: &AppState,
    next: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let nonce = random_hex();
    let mut r = render(
        "login.html",
        context! { next => safe_next(next), csrf => nonce, error => error },
    );
    *r.status_mut() = status;
    if let Ok(v) = set_cookie(state, LOGIN_COOKIE, &nonce, 600).parse() {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    token: String,
    csrf: String,
    next: Option<String>,
}

/// Checks the token and opens a session.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.csrf.as_bytes()) {
        return login_page(
            &state,
            form.next.as_deref(),
            Some("The sign-in form expired. Please try again."),
            StatusCode::FORBIDDEN,
        );
    }
    let token = match state.store.verify_token(form.token.trim()).await {
        Ok(Some(t)) => t,
        Ok(None) => {
            // Never echo or log the token.
            return login_page(
                &state,
                form.next.as_deref(),
                Some("That token is unknown or revoked."),
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(e) => return PageError::from(ApiError::store(e)).into_response(),
    };
    let (secret, _) = match state.store.create_session(&token, SESSION_TTL_MS).await {
        Ok(s) => s,
        Err(e) => return PageError::from(ApiError::store(e)).into_response(),
    };
    tracing::info!(token = %token.name, "console sign-in");
    let mut r = Redirect::to(&safe_next(form.next.as_deref())).into_response();
    let h = r.headers_mut();
    if let Ok(v) = set_cookie(&state, SESSION_COOKIE, &secret, SESSION_TTL_MS / 1000).parse() {
        h.append(header::SET_COOKIE, v);
    }
    if let Ok(v) = set_cookie(&state, LOGIN_COOKIE, "", 0).parse() {
        h.append(header::SET_COOKIE, v);
    }
    r
}

/// The sign-out form's field.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// Ends the session.
pub async fn logout(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&form.csrf) {
        return e.into_response();
    }

    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = state.store.delete_session(&secret).await {
            tracing::warn!("ending a console session: {e}");
        }
    }
    let mut r = Redirect::to("/login").into_response();
    if let Ok(v) = set_cookie(&state, SESSION_COOKIE, "", 0).parse() {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/images?q=a")), "/images?q=a");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; holdfast_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, LOGIN_COOKIE), None);
    }
}
