//! The registry's bearer-token mode (`auth: token`): the real distribution registry sends
//! clients to a token server named in its `WWW-Authenticate` realm. The token server here
//! runs in the test on 127.0.0.1: it takes the test's basic credentials and signs an RS256
//! JWT for the requested scopes with a key the test made, as a registry's auth service
//! does. holdfast must get through that flow with `--username/--password-stdin`, take a
//! token from `HOLDFAST_REGISTRY_TOKEN`, list the catalog with its own scope, and say
//! clearly when the token server refuses, without printing a credential or a token.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

use crate::common::*;
use crate::registry::{
    app_layers, json_ok, push, run_holdfast, sh, start_with, tools_ready, PASSWORD, USER,
};

const SERVICE: &str = "holdfast-test-registry";
const ISSUER: &str = "holdfast-test-issuer";

/// The token server: signs with `key`, presents `cert` (also the registry's trusted
/// bundle) in the JWT's `x5c` header, records every scope asked for and every token given.
struct TokenServer {
    port: u16,
    scopes: Arc<Mutex<Vec<String>>>,
    tokens: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TokenServer {
    fn start(key: PathBuf, cert_der: Vec<u8>) -> TokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let scopes = Arc::new(Mutex::new(Vec::new()));
        let tokens = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, t, st) = (scopes.clone(), tokens.clone(), stop.clone());
        let x5c = STANDARD.encode(&cert_der);
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    serve(conn, &key, &x5c, &s, &t);
                }
            }
        });
        TokenServer {
            port,
            scopes,
            tokens,
            stop,
            thread: Some(thread),
        }
    }

    fn scopes(&self) -> Vec<String> {
        self.scopes.lock().unwrap().clone()
    }

    fn tokens(&self) -> Vec<String> {
        self.tokens.lock().unwrap().clone()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn respond(mut conn: TcpStream, status: &str, body: &str) {
    let _ = write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// One request: `GET /token?service=..&scope=..` with basic credentials.
fn serve(
    conn: TcpStream,
    key: &Path,
    x5c: &str,
    scopes: &Mutex<Vec<String>>,
    tokens: &Mutex<Vec<String>>,
) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut authorization = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("authorization") {
                authorization = Some(value.trim().to_string());
            }
        }
    }
    let target = request_line.split(' ').nth(1).unwrap_or("");
    let Some(query) =
        target
            .strip_prefix("/token?")
            .or(if target == "/token" { Some("") } else { None })
    else {
        return respond(conn, "404 Not Found", "{}");
    };
    let expected = format!("Basic {}", STANDARD.encode(format!("{USER}:{PASSWORD}")));
    if authorization.as_deref() != Some(expected.as_str()) {
        return respond(
            conn,
            "401 Unauthorized",
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#,
        );
    }
    let mut access = Vec::new();
    for pair in query.split('&') {
        let Some(("scope", value)) = pair.split_once('=') else {
            continue;
        };
        for scope in percent_decode(value).split(' ').filter(|s| !s.is_empty()) {
            scopes.lock().unwrap().push(scope.to_string());
            // type:name:actions; a repository name has no ':'.
            let (kind, rest) = scope.split_once(':').unwrap_or((scope, ""));
            let (name, actions) = rest.rsplit_once(':').unwrap_or((rest, ""));
            access.push(serde_json::json!({
                "type": kind,
                "name": name,
                "actions": actions.split(',').collect::<Vec<_>>(),
            }));
        }
    }
    let token = sign(key, x5c, access);
    tokens.lock().unwrap().push(token.clone());
    let body = serde_json::json!({"token": token, "access_token": token, "expires_in": 300});
    respond(conn, "200 OK", &body.to_string());
}

/// An RS256 JWT for `access`, signed by `openssl dgst` with the test's key.
fn sign(key: &Path, x5c: &str, access: Vec<serde_json::Value>) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [x5c]});
    let claims = serde_json::json!({
        "iss": ISSUER,
        "sub": USER,
        "aud": SERVICE,
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now - 10,
        "jti": format!("{now}-{}", access.len()),
        "access": access,
    });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-binary", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let mut signature = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut signature)
        .unwrap();
    assert!(child.wait().unwrap().success(), "openssl dgst -sign failed");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[test]
fn bearer_token_flow_through_the_realm() {
    if !tools_ready(&["openssl"]) {
        return;
    }
    let d = temp();
    let dir = path_str(d.path());
    sh(&format!(
        "cd '{dir}' && openssl req -x509 -newkey rsa:2048 -nodes -keyout token.key -out token.pem -days 2 -subj /CN=holdfast-test-token 2>/dev/null \
         && openssl x509 -in token.pem -outform DER -out token.der"
    ));
    let server = TokenServer::start(
        d.path().join("token.key"),
        std::fs::read(d.path().join("token.der")).unwrap(),
    );
    let reg = start_with(&format!(
        "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {dir}/token.pem\n",
        server.port
    ));

    let archive = d.path().join("app.tar");
    docker_archive(&archive, &app_layers("tokened"), Z::Gzip, &[]);
    push(
        &reg,
        &format!("docker-archive:{}", path_str(&archive)),
        "team/app:1",
        &["--dest-creds", &format!("{USER}:{PASSWORD}")],
    );
    assert!(
        server
            .scopes()
            .iter()
            .any(|s| s.starts_with("repository:team/app:") && s.contains("push")),
        "the push went through the token server: {:?}",
        server.scopes()
    );
    let (local, _) = sbom_json(&format!("docker-archive:{}", path_str(&archive)), &[]);

    // The registry refuses a client without a token and names the realm; holdfast follows
    // it with the basic credentials and pulls with the token it gets.
    let target = format!("registry:{}/team/app:1", reg.host);
    let base = [
        "sbom",
        "-f",
        "json",
        "--no-cache",
        target.as_str(),
        "--insecure-registry",
        reg.host.as_str(),
    ];
    let before = server.tokens().len();
    let mut args = base.to_vec();
    args.extend(["--username", USER, "--password-stdin", "--debug"]);
    let out = run_holdfast(&args, Some(&format!("{PASSWORD}\n")), &[]);
    let r = json_ok(&out);
    assert_eq!(package_list(&r), package_list(&local));
    assert!(
        server.tokens().len() > before,
        "holdfast asked the realm for a token"
    );
    assert!(
        server
            .scopes()
            .iter()
            .any(|s| s == "repository:team/app:pull"),
        "{:?}",
        server.scopes()
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(PASSWORD), "the password leaked");
    for t in server.tokens() {
        assert!(!all.contains(&t), "a token leaked into the output");
    }

    // A token got beforehand (as a CI job would) through HOLDFAST_REGISTRY_TOKEN.
    let token = server.tokens().last().unwrap().clone();
    let out = run_holdfast(&base, None, &[("HOLDFAST_REGISTRY_TOKEN", &token)]);
    assert_eq!(package_list(&json_ok(&out)), package_list(&local));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&token));

    // The whole registry: the catalog needs its own scope.
    let out = run_holdfast(
        &[
            "scan",
            "registry",
            &reg.host,
            "-f",
            "json",
            "--scanners",
            "secret",
            "--no-cache",
            "--insecure-registry",
            &reg.host,
            "--username",
            USER,
            "--password-stdin",
        ],
        Some(PASSWORD),
        &[],
    );
    let r = json_ok(&out);
    assert_eq!(r["registry"]["images_scanned"], 1, "{}", r["registry"]);
    assert!(
        server.scopes().iter().any(|s| s == "registry:catalog:*"),
        "{:?}",
        server.scopes()
    );

    // The token server refuses a wrong password: a clear error naming the registry, and
    // neither the password nor anything secret in it.
    let wrong = "Wr0ng-pass-Tk7";
    let mut args = base.to_vec();
    args.extend(["--username", USER, "--password-stdin"]);
    let out = run_holdfast(&args, Some(wrong), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&reg.host), "{err}");
    assert!(!err.contains(wrong) && !String::from_utf8_lossy(&out.stdout).contains(wrong));
}
