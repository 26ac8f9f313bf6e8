//! `db update --server`: the client against a stand-in for the holdfast server's
//! `GET /api/v1/db`, served on loopback by the test.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use holdfast_vulndb::update::server::{
    update_from_server, ServerError, ServerOptions, ServerUpdate,
};
use sha2::{Digest, Sha256};

const TOKEN: &str = "s3cret-token";

/// What the stand-in serves, changed by the test as it goes.
#[derive(Clone)]
struct Served {
    body: Vec<u8>,
    /// The `ETag` digest; `None` for the body's real one.
    etag: Option<String>,
    /// Answer 503 with a JSON error instead.
    no_database: bool,
}

struct Server {
    base: String,
    served: Arc<Mutex<Served>>,
    /// Each request's headers, in order.
    requests: Arc<Mutex<Vec<Seen>>>,
}

/// The headers of one request that matter here.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    if_none_match: Option<String>,
    authorization: Option<String>,
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn serve(body: Vec<u8>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = Arc::new(Mutex::new(Served {
        body,
        etag: None,
        no_database: false,
    }));
    let requests: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let (state, log) = (served.clone(), requests.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let (mut inm, mut auth) = (None, None);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                if let Some((name, value)) = line.trim_end().split_once(": ") {
                    match name.to_ascii_lowercase().as_str() {
                        "if-none-match" => inm = Some(value.to_string()),
                        "authorization" => auth = Some(value.to_string()),
                        _ => {}
                    }
                }
                line.clear();
            }
            log.lock().unwrap().push(Seen {
                if_none_match: inm.clone(),
                authorization: auth.clone(),
            });
            let s = state.lock().unwrap().clone();
            let etag = format!("\"{}\"", s.etag.unwrap_or_else(|| sha256(&s.body)));
            let path = request.split_whitespace().nth(1).unwrap_or("");
            let (head, body): (String, &[u8]) = if path != "/api/v1/db" {
                ("404 Not Found".into(), b"")
            } else if auth.as_deref() != Some(&format!("Bearer {TOKEN}")) {
                (
                    "401 Unauthorized\r\nContent-Type: application/json".into(),
                    br#"{"error": "missing or invalid token"}"#,
                )
            } else if s.no_database {
                (
                    "503 Service Unavailable\r\nContent-Type: application/json".into(),
                    br#"{"error": "no vulnerability database yet\u001b[31m"}"#,
                )
            } else if inm.as_deref() == Some(&etag) {
                (format!("304 Not Modified\r\nETag: {etag}"), b"")
            } else {
                (
                    format!(
                        "200 OK\r\nContent-Type: application/octet-stream\r\nETag: {etag}\r\n\
                         Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT"
                    ),
                    &s.body,
                )
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body);
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    });
    Server {
        base,
        served,
        requests,
    }
}

/// A real database with one advisory for `name`, as the server would hold.
fn database(dir: &Path, name: &str) -> Vec<u8> {
    let src = dir.join(format!("osv-{name}"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join("GHSA-test.json"),
        format!(
            r#"{{"id":"GHSA-{name}","modified":"2024-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"npm","name":"{name}"}},"ranges":[{{"type":"SEMVER","events":[{{"introduced":"0"}},{{"fixed":"1.0.0"}}]}}]}}]}}"#
        ),
    )
    .unwrap();
    let out = dir.join(format!("{name}.db"));
    holdfast_vulndb::build(&[src], &out).unwrap();
    std::fs::read(out).unwrap()
}

fn options(server: &Server, token: Option<&str>) -> ServerOptions<'static> {
    ServerOptions {
        attempts: 2,
        backoff: Duration::from_millis(10),
        timeout: Duration::from_secs(5),
        ..ServerOptions::new(server.base.clone(), token.map(str::to_string))
    }
}

/// Names in `dir` other than the given ones (temporary files left behind).
fn leftovers(dir: &Path, expected: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !expected.contains(&n.as_str()))
        .collect()
}

#[test]
fn the_server_database_is_installed_then_current() {
    let work = tempfile::tempdir().unwrap();
    let bytes = database(work.path(), "lodash");
    let server = serve(bytes.clone());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("holdfast.db");

    let first = update_from_server(&db, &options(&server, Some(TOKEN))).unwrap();
    let ServerUpdate::Installed {
        sha256: digest,
        bytes: size,
        info,
    } = first
    else {
        panic!("{first:?}")
    };
    assert_eq!(digest, sha256(&bytes));
    assert_eq!(size, bytes.len() as u64);
    assert_eq!(info.advisories, 1);
    assert_eq!(std::fs::read(&db).unwrap(), bytes);
    let before = std::fs::metadata(&db).unwrap().modified().unwrap();

    let second = update_from_server(&db, &options(&server, Some(TOKEN))).unwrap();
    assert_eq!(
        second,
        ServerUpdate::Current {
            sha256: sha256(&bytes)
        }
    );
    assert_eq!(std::fs::metadata(&db).unwrap().modified().unwrap(), before);
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(
        requests[0].if_none_match, None,
        "no local database, no If-None-Match"
    );
    assert_eq!(
        requests[1],
        Seen {
            if_none_match: Some(format!("\"{}\"", sha256(&bytes))),
            authorization: Some(format!("Bearer {TOKEN}")),
        }
    );
    assert!(leftovers(dir.path(), &["holdfast.db"]).is_empty());

    // A new database on the server replaces the local one.
    let newer = database(work.path(), "minimist");
    server.served.lock().unwrap().body = newer.clone();
    let third = update_from_server(&db, &options(&server, Some(TOKEN))).unwrap();
    assert!(matches!(third, ServerUpdate::Installed { .. }), "{third:?}");
    assert_eq!(std::fs::read(&db).unwrap(), newer);
}

#[test]
fn a_body_that_is_not_its_etag_is_rejected() {
    let work = tempfile::tempdir().unwrap();
    let old = database(work.path(), "lodash");
    let server = serve(database(work.path(), "minimist"));
    server.served.lock().unwrap().etag = Some("0".repeat(64));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("holdfast.db");
    std::fs::write(&db, &old).unwrap();

    let err = update_from_server(&db, &options(&server, Some(TOKEN))).unwrap_err();
    assert!(matches!(err, ServerError::Checksum { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&server.base) && text.contains(&"0".repeat(64)),
        "{text}"
    );
    assert_eq!(server.requests.lock().unwrap().len(), 2, "retried once");
    assert_eq!(std::fs::read(&db).unwrap(), old, "the old database is kept");
    assert!(leftovers(dir.path(), &["holdfast.db"]).is_empty());
}

#[test]
fn a_file_that_is_not_a_database_is_rejected() {
    let server = serve(b"<html>login page</html>".to_vec());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("holdfast.db");
    let err = update_from_server(&db, &options(&server, Some(TOKEN))).unwrap_err();
    assert!(matches!(err, ServerError::NotADatabase { .. }), "{err}");
    assert!(!db.exists());
    assert!(leftovers(dir.path(), &[]).is_empty());
}

#[test]
fn a_missing_or_wrong_token_is_a_clear_error() {
    let work = tempfile::tempdir().unwrap();
    let server = serve(database(work.path(), "lodash"));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("holdfast.db");

    let err = update_from_server(&db, &options(&server, None)).unwrap_err();
    assert!(matches!(err, ServerError::Unauthorized { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}/api/v1/db answered HTTP 401 Unauthorized: a token is needed",
            server.base
        )
    );
    let err = update_from_server(&db, &options(&server, Some("wrong-token"))).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("401") && text.contains("refused"), "{text}");
    assert!(
        !text.contains("wrong-token"),
        "the token is never shown: {text}"
    );
    assert_eq!(
        server.requests.lock().unwrap().len(),
        2,
        "401 is not retried"
    );
    assert!(!db.exists());
}

#[test]
fn a_server_without_a_database_says_so() {
    let server = serve(Vec::new());
    server.served.lock().unwrap().no_database = true;
    let dir = tempfile::tempdir().unwrap();
    let err = update_from_server(
        &dir.path().join("holdfast.db"),
        &options(&server, Some(TOKEN)),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}/api/v1/db answered HTTP 503 Service Unavailable: no vulnerability database yet [31m",
            server.base
        )
    );
}

#[test]
fn an_unreachable_server_is_retried_then_named() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let opts = ServerOptions {
        attempts: 3,
        backoff: Duration::from_millis(10),
        ..ServerOptions::new(format!("{base}/"), Some(TOKEN.into()))
    };
    let err = update_from_server(&dir.path().join("holdfast.db"), &opts).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "downloading {base}/api/v1/db failed after 3 attempts"
        )),
        "{text}"
    );
    assert!(!text.contains(TOKEN), "{text}");
}
