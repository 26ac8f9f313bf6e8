//! The plugin's HTTP server: axum on a unix socket, three routes.

use std::future::Future;
use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use tokio::net::UnixListener;

use crate::authorizer::{Authorizer, Backend};
use crate::protocol::{self, Activation, AuthZRequest, AuthZResponse};

/// Largest request body read (dockerd forwards bodies under 1 MiB, base64-encoded).
const MAX_BODY: usize = 4 << 20;

/// The routes: `Plugin.Activate`, `AuthZPlugin.AuthZReq`, `AuthZPlugin.AuthZRes`.
pub fn router<B: Backend>(authorizer: Arc<Authorizer<B>>) -> Router {
    Router::new()
        .route(protocol::ACTIVATE, post(activate))
        .route(protocol::AUTHZ_REQ, post(authz_req::<B>))
        .route(protocol::AUTHZ_RES, post(authz_res))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(authorizer)
}

fn docker_json<T: serde::Serialize>(status: StatusCode, body: T) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, protocol::CONTENT_TYPE)],
        Json(body),
    )
        .into_response()
}

async fn activate() -> Response {
    docker_json(StatusCode::OK, Activation::authz())
}

/// A request that does not parse is denied: dockerd never sends one, and a retry after
/// a dropped connection resends an empty body.
async fn authz_req<B: Backend>(
    State(authorizer): State<Arc<Authorizer<B>>>,
    body: Bytes,
) -> Response {
    match serde_json::from_slice::<AuthZRequest>(&body) {
        Ok(req) => docker_json(StatusCode::OK, authorizer.authorize(req).await),
        Err(e) => docker_json(
            StatusCode::OK,
            AuthZResponse {
                allow: false,
                msg: "holdfast: unreadable authorization request".into(),
                err: format!("holdfast: unreadable AuthZReq: {e}"),
            },
        ),
    }
}

/// Responses are never judged: the decision was made before the daemon acted. The body
/// is still read, so the connection is never closed under a client still writing it.
async fn authz_res(_body: Bytes) -> Response {
    docker_json(StatusCode::OK, AuthZResponse::allow(""))
}

async fn not_found() -> Response {
    docker_json(
        StatusCode::NOT_FOUND,
        AuthZResponse {
            allow: false,
            msg: String::new(),
            err: "holdfast: unknown plugin endpoint".into(),
        },
    )
}

/// Listens on `path` (mode 0660): its directory is made if missing; a socket left by a
/// plugin that died is replaced, one another process listens on is an error, as is any
/// other file there.
pub fn bind(path: &Path) -> io::Result<UnixListener> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_socket() => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("`{}` exists and is not a socket", path.display()),
            ))
        }
        Ok(_) => {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("another process listens on `{}`", path.display()),
                ));
            }
            std::fs::remove_file(path)?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(listener)
}

/// Serves until `shutdown` completes.
pub async fn serve<B: Backend>(
    listener: UnixListener,
    authorizer: Arc<Authorizer<B>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    axum::serve(listener, router(authorizer))
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorizer::tests::{authorizer, create};
    use std::io::{Read, Write};
    use std::time::Duration;

    /// One HTTP/1.1 exchange over the socket, by hand: status and body.
    fn post(path: &Path, endpoint: &str, body: &str) -> (u16, String, String) {
        let mut s = std::os::unix::net::UnixStream::connect(path).unwrap();
        // One write: a handler that answers before the body arrives must not race it.
        let request = format!(
            "POST {endpoint} HTTP/1.1\r\nHost: plugin\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, head.to_string(), body.to_string())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_protocol_over_a_unix_socket() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("plugins/holdfast.sock");
        let (a, _) = authorizer("", Duration::ZERO);
        let listener = bind(&sock).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, a, async {
            let _ = stopped.await;
        }));
        let mode = std::fs::metadata(&sock).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o660);

        let s = sock.clone();
        tokio::task::spawn_blocking(move || {
            let (status, head, body) = post(&s, "/Plugin.Activate", "");
            assert_eq!(status, 200);
            assert!(head.to_ascii_lowercase().contains("application/vnd.docker.plugins.v1.2+json"), "{head}");
            assert_eq!(body, r#"{"Implements":["authz"]}"#);

            let req = serde_json::to_string(&create("weak:1")).unwrap();
            let (status, _, body) = post(&s, "/AuthZPlugin.AuthZReq", &req);
            assert_eq!(status, 200);
            let r: AuthZResponse = serde_json::from_str(&body).unwrap();
            assert!(!r.allow && r.msg.starts_with("holdfast: blocked weak:1 (container_create): CVE-2023-0286"), "{r:?}");

            let req = serde_json::to_string(&create("clean:1")).unwrap();
            let (_, _, body) = post(&s, "/AuthZPlugin.AuthZReq", &req);
            assert_eq!(body, r#"{"Allow":true,"Msg":"","Err":""}"#);

            // What Go sends for an AuthZRes, nulls included.
            let res = r#"{"User":"","UserAuthNMethod":"","RequestMethod":"GET","RequestURI":"/v1.47/info","RequestBody":null,"RequestHeaders":{"User-Agent":"Docker-Client"},"RequestPeerCertificates":null,"ResponseStatusCode":200,"ResponseBody":"e30=","ResponseHeaders":{"Content-Type":"application/json"}}"#;
            let (_, _, body) = post(&s, "/AuthZPlugin.AuthZRes", res);
            assert_eq!(body, r#"{"Allow":true,"Msg":"","Err":""}"#);

            // An unreadable request (a retry after a dropped connection resends an empty
            // body) is denied.
            let (_, _, body) = post(&s, "/AuthZPlugin.AuthZReq", "");
            let r: AuthZResponse = serde_json::from_str(&body).unwrap();
            assert!(!r.allow && !r.err.is_empty(), "{r:?}");

            let (status, _, _) = post(&s, "/VolumeDriver.Mount", "{}");
            assert_eq!(status, 404);

            // A second plugin on the same socket is refused.
            let e = bind(&s).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::AddrInUse);
        })
        .await
        .unwrap();
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        // A socket left behind by a dead plugin is replaced.
        assert!(sock.exists());
        drop(bind(&sock).unwrap());
        let plain = dir.path().join("file");
        std::fs::write(&plain, "x").unwrap();
        assert_eq!(
            bind(&plain).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
    }
}
