//! The web console at `/`: server-rendered pages over the same store, views and edits as
//! the API, for a browser signed in with an API token.
//!
//! ```text
//! /login ─► session cookie (store) ─► pages: overview, workloads, images, image,
//!                                     vulnerabilities, vulnerability, trends, policy
//! POST forms carry the session's CSRF token; edits go through `edits` (audited).
//! ```
//!
//! Templates (minijinja, HTML auto-escaped, so text from images stays inert) and the one
//! stylesheet and script are compiled into the binary; nothing is fetched from elsewhere.
//! Every page is sent with a Content-Security-Policy that allows only this origin's
//! files, no inline script or style.

mod pages;
mod session;
mod table;
mod trends;

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{middleware, Router};
use minijinja::Environment;
use serde::Serialize;

pub use session::Viewer;

use crate::AppState;

/// The templates, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("login.html", include_str!("templates/login.html")),
    ("error.html", include_str!("templates/error.html")),
    ("overview.html", include_str!("templates/overview.html")),
    ("workloads.html", include_str!("templates/workloads.html")),
    ("images.html", include_str!("templates/images.html")),
    ("image.html", include_str!("templates/image.html")),
    (
        "vulnerabilities.html",
        include_str!("templates/vulnerabilities.html"),
    ),
    (
        "vulnerability.html",
        include_str!("templates/vulnerability.html"),
    ),
    ("compliance.html", include_str!("templates/compliance.html")),
    (
        "compliance_run.html",
        include_str!("templates/compliance_run.html"),
    ),
    ("trends.html", include_str!("templates/trends.html")),
    ("policy.html", include_str!("templates/policy.html")),
];

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// The policy every console response carries: this origin's files only, no inline code.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'";

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("console template {name}: {e:#}"));
        }
        env.add_filter("when", |ms: i64| {
            holdfast_store::rfc3339(ms).replace('T', " ")
        });
        env.add_filter("short_digest", |s: String| short_digest(&s));
        env.add_filter("bytes", |n: u64| human_bytes(n));
        env.add_filter("seg", |s: String| pages::segment(&s));
        env.add_global("asset_version", asset_version());
        env.add_global("stale_after_days", holdfast_scan::STALE_AFTER_DAYS);
        env
    })
}

/// `sha256:0123456789ab` for a long digest; anything else as it is.
fn short_digest(s: &str) -> String {
    match s.split_once(':') {
        Some((algo, hex)) if hex.len() > 12 => format!("{algo}:{}", &hex[..12]),
        _ => s.to_string(),
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// A short hash of the assets, in their URLs, so browsers may cache them for long.
fn asset_version() -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(CSS);
    h.update(JS);
    hex::encode(&h.finalize()[..6])
}

/// Renders a template to a response with the console's headers.
pub(crate) fn render(name: &str, context: impl Serialize) -> Response {
    let page = environment()
        .get_template(name)
        .and_then(|t| t.render(context));
    match page {
        Ok(html) => secure(Html(html).into_response()),
        Err(e) => {
            tracing::error!("console template {name}: {e:#}");
            plain_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "this page could not be drawn",
            )
        }
    }
}

fn secure(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn plain_error(status: StatusCode, message: &str) -> Response {
    let mut r = (status, message.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    secure(r)
}

/// An error page: the status and a message, inside the console's frame.
pub(crate) struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    /// An error with this status and message.
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: message.into(),
        }
    }

    /// Nothing by this name.
    pub(crate) fn not_found(what: &str) -> PageError {
        PageError::new(StatusCode::NOT_FOUND, format!("There is no {what}."))
    }
}

impl From<crate::api::ApiError> for PageError {
    fn from(e: crate::api::ApiError) -> Self {
        let (status, message) = e.parts();
        PageError::new(status, message)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut r = render(
            "error.html",
            minijinja::context! { status => self.status.as_u16(), message => self.message },
        );
        *r.status_mut() = self.status;
        r
    }
}

/// Pages return this.
pub(crate) type PageResult = Result<Response, PageError>;

async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return plain_error(StatusCode::NOT_FOUND, "no such file"),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// The console's routes: the sign-in pages and assets open, every page behind a session.
pub fn router(state: AppState) -> Router<AppState> {
    let pages = Router::new()
        .route("/", get(pages::overview))
        .route("/workloads", get(pages::workloads))
        .route("/images", get(pages::images))
        .route("/images/{id}", get(pages::image))
        .route("/images/{id}/download", get(pages::image_download))
        .route("/vulnerabilities", get(pages::vulnerabilities))
        .route("/vulnerabilities/{id}", get(pages::vulnerability))
        .route("/compliance", get(pages::compliance))
        .route("/compliance/runs/{id}", get(pages::compliance_run))
        .route("/trends", get(pages::trends))
        .route("/policy", get(pages::policy))
        .route("/policy/{name}", post(pages::save_policy))
        .route("/exceptions", post(pages::add_exception))
        .route("/exceptions/{id}/delete", post(pages::remove_exception))
        .route("/logout", post(session::logout))
        .layer(middleware::from_fn_with_state(state, session::require));
    Router::new()
        .route("/login", get(session::login_form).post(session::login))
        .route("/static/{name}", get(asset))
        .merge(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        let env = environment();
        for (name, _) in TEMPLATES {
            env.get_template(name).unwrap();
        }
    }

    #[test]
    fn digests_and_sizes_read_well() {
        assert_eq!(
            short_digest("sha256:0123456789abcdef"),
            "sha256:0123456789ab"
        );
        assert_eq!(short_digest("web"), "web");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
