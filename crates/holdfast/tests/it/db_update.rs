//! `holdfast db update` from mirrors and from a holdfast server (`--server`), against
//! stand-ins the test serves on loopback.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::common::{holdfast, path_str, temp};

const TOKEN: &str = "fleet-token-5e3c";

/// One request as the stand-in saw it.
struct Request {
    path: String,
    if_none_match: Option<String>,
    authorization: Option<String>,
}

/// Serves on 127.0.0.1 with `answer(request) -> (status line and extra headers, body)`
/// until the test ends; returns the base URL.
fn serve(answer: impl Fn(&Request) -> (String, Vec<u8>) + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            let mut request = Request {
                path: first.split_whitespace().nth(1).unwrap_or("").to_string(),
                if_none_match: None,
                authorization: None,
            };
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                if let Some((name, value)) = line.trim_end().split_once(": ") {
                    match name.to_ascii_lowercase().as_str() {
                        "if-none-match" => request.if_none_match = Some(value.into()),
                        "authorization" => request.authorization = Some(value.into()),
                        _ => {}
                    }
                }
                line.clear();
            }
            let (head, body) = answer(&request);
            let _ = write!(
                stream,
                "HTTP/1.1 {head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    });
    base
}

/// A base URL nothing listens on.
fn refused_base() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    base
}

fn advisory(id: &str, eco: &str, name: &str) -> String {
    serde_json::json!({
        "id": id,
        "modified": "2024-01-01T00:00:00Z",
        "affected": [{
            "package": {"name": name, "ecosystem": eco},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.9"}]}]
        }]
    })
    .to_string()
}

/// A zip of stored (uncompressed) members, as APPNOTE.TXT 4.3 lays it out: local headers
/// with the data, then the central directory and its end record.
fn stored_zip(members: &[(&str, String)]) -> Vec<u8> {
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, text) in members {
        let mut crc = flate2::Crc::new();
        crc.update(text.as_bytes());
        let offset = out.len() as u32;
        let (len, name_len) = (text.len() as u32, name.len() as u16);
        // version 2.0, no flags, stored, time 0, date 1980-01-01, crc, sizes, name length.
        let fields = |v: &mut Vec<u8>| {
            for x in [20u16, 0, 0, 0, 0x21] {
                v.extend(x.to_le_bytes());
            }
            for x in [crc.sum(), len, len] {
                v.extend(x.to_le_bytes());
            }
            v.extend(name_len.to_le_bytes());
            v.extend(0u16.to_le_bytes());
        };
        out.extend(0x0403_4b50u32.to_le_bytes());
        fields(&mut out);
        out.extend(name.as_bytes());
        out.extend(text.as_bytes());
        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend(20u16.to_le_bytes());
        fields(&mut central);
        // comment length, disk, internal and external attributes, local header offset.
        central.extend([0u8; 10]);
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let (cd_offset, cd_size) = (out.len() as u32, central.len() as u32);
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    let n = members.len() as u16;
    for x in [0u16, 0, n, n] {
        out.extend(x.to_le_bytes());
    }
    out.extend(cd_size.to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// Builds a database with the binary from one npm advisory for `name`.
fn build_db(dir: &Path, name: &str) -> PathBuf {
    let osv = dir.join(format!("osv-{name}"));
    std::fs::create_dir_all(&osv).unwrap();
    std::fs::write(
        osv.join("a.json"),
        advisory(&format!("GHSA-{name}"), "npm", name),
    )
    .unwrap();
    let db = dir.join(format!("{name}.db"));
    let out = holdfast()
        .args(["db", "build", "--from"])
        .arg(&osv)
        .arg("-o")
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    db
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `holdfast db update` with none of the settings the environment could slip in.
fn db_update() -> Command {
    let mut c = holdfast();
    c.args(["db", "update"])
        .env_remove("HOLDFAST_TOKEN")
        .env_remove("HOLDFAST_FEED_URL")
        .env_remove("HOLDFAST_FEED_MIRRORS");
    c
}

/// The server's `GET /api/v1/db`, serving whatever `db` holds when asked, with `etag`
/// (`None`: the file's real digest).
fn db_server(db: Arc<Mutex<Vec<u8>>>, etag: Option<String>) -> String {
    serve(move |r| {
        let body = db.lock().unwrap().clone();
        let etag = format!("\"{}\"", etag.clone().unwrap_or_else(|| sha256(&body)));
        if r.path != "/api/v1/db" {
            ("404 Not Found".into(), Vec::new())
        } else if r.authorization.as_deref() != Some(&format!("Bearer {TOKEN}")) {
            (
                "401 Unauthorized\r\nContent-Type: application/json".into(),
                br#"{"error":"unauthorized"}"#.to_vec(),
            )
        } else if r.if_none_match.as_deref() == Some(&etag) {
            (format!("304 Not Modified\r\nETag: {etag}"), Vec::new())
        } else {
            (
                format!("200 OK\r\nContent-Type: application/octet-stream\r\nETag: {etag}"),
                body,
            )
        }
    })
}

#[test]
fn server_database_is_installed_then_current() {
    let dir = temp();
    let served = Arc::new(Mutex::new(
        std::fs::read(build_db(dir.path(), "lodash")).unwrap(),
    ));
    let server = db_server(served.clone(), None);
    let local = dir.path().join("fleet/holdfast.db");

    let out = db_update()
        .args(["--server", &server, "-o", &path_str(&local)])
        .env("HOLDFAST_TOKEN", TOKEN)
        .output()
        .unwrap();
    let text = stderr(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("from {server}: 1 advisories")),
        "{text}"
    );
    assert_eq!(std::fs::read(&local).unwrap(), *served.lock().unwrap());
    let installed = std::fs::metadata(&local).unwrap().modified().unwrap();

    let out = db_update()
        .args([
            "--server",
            &server,
            "--token",
            TOKEN,
            "-o",
            &path_str(&local),
        ])
        .output()
        .unwrap();
    let text = stderr(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("is current with"), "{text}");
    assert_eq!(
        std::fs::metadata(&local).unwrap().modified().unwrap(),
        installed,
        "a current database is not rewritten"
    );
    assert!(!text.contains(TOKEN), "{text}");

    let info = holdfast()
        .args(["db", "info", "--db", &path_str(&local)])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&info.stdout).contains("npm: 1"));
}

#[test]
fn server_errors_keep_the_old_database() {
    let dir = temp();
    let old = std::fs::read(build_db(dir.path(), "lodash")).unwrap();
    let newer = std::fs::read(build_db(dir.path(), "minimist")).unwrap();
    let local = dir.path().join("holdfast.db");
    std::fs::write(&local, &old).unwrap();

    // A body that is not what its ETag promises.
    let server = db_server(Arc::new(Mutex::new(newer)), Some("ab".repeat(32)));
    let out = db_update()
        .args([
            "--server",
            &server,
            "--token",
            TOKEN,
            "-o",
            &path_str(&local),
        ])
        .output()
        .unwrap();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("was not changed")
            && text.contains(&format!("{server}/api/v1/db sent a file whose sha256"))
            && text.contains(&"ab".repeat(32)),
        "{text}"
    );
    assert_eq!(std::fs::read(&local).unwrap(), old);

    // No token, then a wrong one.
    let out = db_update()
        .args(["--server", &server, "-o", &path_str(&local)])
        .output()
        .unwrap();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains(&format!(
            "{server}/api/v1/db answered HTTP 401 Unauthorized"
        )) && text.contains("pass --token or set HOLDFAST_TOKEN"),
        "{text}"
    );
    let out = db_update()
        .args(["--server", &server, "-o", &path_str(&local)])
        .env("HOLDFAST_TOKEN", "wrong-secret-77")
        .output()
        .unwrap();
    let text = stderr(&out);
    assert!(
        text.contains("HTTP 401") && text.contains("the token was refused"),
        "{text}"
    );
    assert!(!text.contains("wrong-secret-77"), "{text}");
    assert_eq!(std::fs::read(&local).unwrap(), old);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "temporary files left: {names:?}");
}

#[test]
fn feed_files_come_from_the_mirrors_when_the_feed_is_down() {
    let dir = temp();
    let pypi = stored_zip(&[("PYSEC-1.json", advisory("PYSEC-1", "PyPI", "pyyaml"))]);
    let mirror = serve(move |r| match r.path.as_str() {
        "/PyPI/all.zip" => ("200 OK".into(), pypi.clone()),
        _ => ("404 Not Found".into(), Vec::new()),
    });
    let local_mirror = dir.path().join("osv");
    std::fs::create_dir_all(local_mirror.join("npm")).unwrap();
    std::fs::write(
        local_mirror.join("npm/all.zip"),
        stored_zip(&[("GHSA-1.json", advisory("GHSA-1", "npm", "lodash"))]),
    )
    .unwrap();
    let feed = refused_base();
    let db = dir.path().join("holdfast.db");
    let out = db_update()
        .args(["--feed-url", &feed, "--ecosystem", "PyPI,npm", "-o"])
        .arg(&db)
        .env(
            "HOLDFAST_FEED_MIRRORS",
            format!("{mirror},{}", path_str(&local_mirror)),
        )
        .output()
        .unwrap();
    let text = stderr(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("PyPI: from mirror {mirror}\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("npm: from mirror {}\n", local_mirror.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "skipped: downloading {feed}/PyPI/all.zip failed after 3 attempts"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "skipped: downloading {mirror}/npm/all.zip failed after 1 attempts: HTTP 404"
        )),
        "{text}"
    );
    assert!(text.contains("with 2 advisories"), "{text}");

    // With every source down, the error names each of them.
    let out = db_update()
        .args(["--feed-url", &feed, "--ecosystem", "Go", "-o"])
        .arg(&db)
        .args(["--mirror", &mirror, "--mirror", &path_str(&local_mirror)])
        .output()
        .unwrap();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("was not changed")
            && text.contains("no source could serve Go: 1) ")
            && text.contains(&format!(
                "3) downloading {}",
                local_mirror.join("Go/all.zip").display()
            )),
        "{text}"
    );
}

#[test]
fn server_and_feed_flags_do_not_mix() {
    let out = db_update()
        .args(["--server", "http://127.0.0.1:9", "--ecosystem", "npm"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
}
