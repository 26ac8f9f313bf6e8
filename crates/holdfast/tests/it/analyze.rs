//! `--analyze` and `holdfast analyze` against an OpenAI-compatible server written here: a
//! loopback HTTP/1.1 listener that records every request and answers as each test says
//! (an answer, a 429 with Retry-After, nothing at all).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

/// One request the fake server received.
#[derive(Debug, Clone)]
struct Req {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    at: Instant,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the request body is JSON")
    }

    fn system(&self) -> String {
        self.json()["messages"][0]["content"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn user(&self) -> String {
        self.json()["messages"][1]["content"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// What the server does with a request.
enum Reply {
    /// 200 with a Chat Completions body whose answer is this text.
    Answer(String),
    /// This status, these headers, this body.
    Status(u16, Vec<(&'static str, String)>, String),
    /// Read the request and never answer (the connection stays open).
    Hang,
}

type Responder = Box<dyn Fn(&Req, usize) -> Reply + Send + Sync>;

/// The fake OpenAI-compatible server.
struct FakeAi {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Req>>>,
}

impl FakeAi {
    fn start(responder: impl Fn(&Req, usize) -> Reply + Send + Sync + 'static) -> FakeAi {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests: Arc<Mutex<Vec<Req>>> = Arc::default();
        let responder: Arc<Responder> = Arc::new(Box::new(responder));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let seen = seen.clone();
                let responder = responder.clone();
                std::thread::spawn(move || serve(stream, &seen, &responder));
            }
        });
        FakeAi { addr, requests }
    }

    /// The API's base URL.
    fn base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    fn requests(&self) -> Vec<Req> {
        self.requests.lock().unwrap().clone()
    }
}

/// Reads requests from one connection and answers them (`Connection: close` after each).
fn serve(stream: TcpStream, seen: &Mutex<Vec<Req>>, responder: &Responder) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let req = Req {
        method,
        target,
        headers,
        body,
        at: Instant::now(),
    };
    let n = {
        let mut seen = seen.lock().unwrap();
        seen.push(req.clone());
        seen.len() - 1
    };
    let (status, extra, body) = match responder(&req, n) {
        Reply::Answer(text) => (
            200,
            Vec::new(),
            json!({
                "id": format!("chatcmpl-{n}"),
                "object": "chat.completion",
                "model": "test-model",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
            })
            .to_string(),
        ),
        Reply::Status(code, extra, body) => (code, extra, body),
        Reply::Hang => {
            std::thread::sleep(Duration::from_secs(60));
            return;
        }
    };
    let mut out = stream;
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (n, v) in extra {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(body.as_bytes());
    let _ = out.flush();
}

const TOKEN: &str = "hf-test-token-7f3a9c";

/// The binary, with no AI or proxy setting inherited from the environment.
fn hf() -> std::process::Command {
    let mut c = holdfast();
    for v in [
        "HOLDFAST_AI_ENDPOINT",
        "HOLDFAST_AI_MODEL",
        "HOLDFAST_AI_TOKEN",
        "HOLDFAST_AI_CHUNK_CHARS",
        "HOLDFAST_AI_TIMEOUT",
        "HOLDFAST_AI_MAX_PARTS",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        c.env_remove(v);
    }
    c
}

/// Clear values planted in the image: none may reach the model.
struct Planted {
    github: String,
    stripe: String,
    npm: String,
    db_password: String,
}

/// A deterministic token over letters and digits (xorshift): no real credential.
fn tok(n: usize, seed: u64) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ALNUM[(x % ALNUM.len() as u64) as usize] as char
        })
        .collect()
}

fn planted() -> Planted {
    Planted {
        github: format!("ghp_{}", tok(36, 11)),
        stripe: format!("sk_live_{}", tok(24, 12)),
        npm: format!("npm_{}", tok(36, 13)),
        db_password: tok(18, 14),
    }
}

/// An image with vulnerable Debian packages and secrets in a file, the Env and history.
fn fixture_image(dir: &Path, p: &Planted) -> PathBuf {
    let base = debian_base(&[("curl", "7.88.1-10"), ("openssl", "3.0.9-1")]);
    let app = layer(&[f(
        "app/settings.py",
        &format!(
            "DATABASE_URL = \"postgres://app:{}@db.example.invalid:5432/app\"\nGITHUB_TOKEN = \"{}\"\n",
            p.db_password, p.github
        ),
    )]);
    let layers = vec![base, app];
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    let cfg = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/bin", format!("STRIPE_API_KEY={}", p.stripe)], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [
            {"created_by": "ADD rootfs.tar /"},
            {"created_by": format!("/bin/sh -c echo //registry.example.invalid/:_authToken={} > /root/.npmrc && npm ci", p.npm)},
        ],
    }))
    .unwrap();
    let img = dir.join("app.tar");
    docker_archive_with_config(&img, &layers, Z::Plain, &[], cfg);
    img
}

/// Every evidence and fingerprint string of a JSON result's findings.
fn evidence_and_fingerprints(result: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for t in result["targets"].as_array().unwrap() {
        for f in t["findings"].as_array().unwrap() {
            for k in ["evidence", "fingerprint"] {
                if let Some(s) = f[k].as_str() {
                    out.push(s.to_string());
                    if let Some((_, hash)) = s.split_once("sha256:") {
                        out.push(hash.to_string());
                    }
                }
            }
        }
    }
    out
}

fn find_file(dir: &Path, ext: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(ext))
        .unwrap_or_else(|| panic!("no {ext} file in {}", dir.display()))
}

fn scan_args<'a>(img: &'a str, ai: &'a FakeAi, extra: &[&'a str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "scan",
        "image",
        "--no-cache",
        "--no-plugins",
        "--scanners",
        "vuln,secret",
        img,
        "--analyze",
        "--ai-endpoint",
        &ai.base(),
        "--ai-model",
        "test-model",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

#[test]
fn scan_analyze_sends_a_redacted_summary_and_shows_the_answer_everywhere() {
    let d = temp();
    let p = planted();
    let img = path_str(&fixture_image(d.path(), &p));
    let ai = FakeAi::start(|_, _| {
        Reply::Answer(
            "Fix first: upgrade openssl to 3.0.13-1~deb12u1; revoke the GitHub token.".into(),
        )
    });
    let out_dir = d.path().join("out");
    let out = hf()
        .args(scan_args(
            &img,
            &ai,
            &[
                "-f",
                "json,table,html",
                "-o",
                &path_str(&out_dir),
                "--exit-code",
                "5",
            ],
        ))
        .env("HOLDFAST_AI_TOKEN", TOKEN)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(5),
        "the verdict's exit code: {stderr}"
    );
    let result: Value =
        serde_json::from_slice(&std::fs::read(find_file(&out_dir, ".json")).unwrap()).unwrap();

    // The fixture is meaningful: secrets (with evidence and fingerprints) and vulnerabilities.
    let ids: Vec<&str> = result["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    for id in [
        "HF-SECRET-GITHUB-TOKEN",
        "HF-SECRET-STRIPE-KEY",
        "HF-SECRET-NPM-TOKEN",
        "HF-SECRET-DATABASE-URL",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert!(ids.iter().any(|i| i.contains("CVE-2024-0727")), "{ids:?}");
    let hidden = evidence_and_fingerprints(&result);
    assert!(hidden.len() >= 8, "{hidden:?}");

    // One request, of the Chat Completions shape.
    let reqs = ai.requests();
    assert_eq!(reqs.len(), 1, "{reqs:#?}");
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.target, "/v1/chat/completions");
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let body = r.json();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][1]["role"], "user");
    assert!(body["temperature"].is_number());
    assert!(
        r.system().contains("security engineer"),
        "the default prompt"
    );
    let user = r.user();
    // What the model needs: ids, packages, versions, fixed versions, paths, the target.
    for want in [
        "HF-SECRET-GITHUB-TOKEN",
        "/app/settings.py:2",
        "openssl 3.0.9-1, fixed in 3.0.13-1~deb12u1",
        "CVE-2024-0727",
        "OS debian 12",
        "app.tar",
    ] {
        assert!(user.contains(want), "missing `{want}` in:\n{user}");
    }
    // What it must never get: the clear values, their evidence and fingerprints.
    let raw = String::from_utf8_lossy(&r.body).to_string();
    let clear = [&p.github, &p.stripe, &p.npm, &p.db_password];
    for text in [&raw, &user] {
        for c in clear {
            assert!(!text.contains(c.as_str()), "clear secret sent: {c}");
            assert!(!text.contains(&c[..12]), "part of a secret sent: {c}");
        }
        for h in &hidden {
            assert!(
                !text.contains(h.as_str()),
                "evidence or fingerprint sent: {h}\n{text}"
            );
        }
        assert!(
            !text.contains("*****"),
            "a redacted secret's head was sent:\n{text}"
        );
    }

    // The answer, in every output; the token in none.
    let a = &result["analysis"];
    assert_eq!(a["model"], "test-model");
    assert_eq!(a["endpoint"], ai.addr.to_string());
    assert_eq!(a["parts"], 1);
    assert_eq!(a["warnings"], json!([]));
    assert_eq!(a["sections"][0]["kind"], "part");
    assert!(a["sections"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("Fix first: upgrade openssl"));
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(table.contains("\nAnalysis\n========\n"), "{table}");
    assert!(table.contains("Fix first: upgrade openssl"), "{table}");
    let html = std::fs::read_to_string(find_file(&out_dir, ".html")).unwrap();
    assert!(html.contains("<section id=\"analysis\">"));
    assert!(html.contains("Fix first: upgrade openssl"));
    let json_text = serde_json::to_string(&result).unwrap();
    for text in [&table, &html, &json_text, &stderr.to_string()] {
        assert!(!text.contains(TOKEN), "the token was written out");
    }
    // The result still validates against the published schema.
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("docs/result.schema.json")).unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(&result).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// A saved result with `n` vulnerabilities per severity over two targets, plus a small one.
fn big_result(n: usize) -> Value {
    let sevs = ["CRITICAL", "HIGH", "MEDIUM", "LOW"];
    let target = |name: &str, count: usize| {
        let findings: Vec<Value> = (0..count)
            .flat_map(|i| {
                sevs.iter().map(move |s| {
                    json!({
                        "kind": "vulnerability", "id": format!("CVE-2024-{}{:04}", s.len(), i),
                        "severity": s, "title": format!("pkg{i}: a flaw rated {s}"),
                        "package": format!("pkg{i}"), "installed_version": "1.0",
                        "fixed_version": "1.1", "path": "/var/lib/dpkg/status", "removed": false
                    })
                })
            })
            .collect();
        json!({"kind": "image", "name": name, "os": {"family": "debian", "version": "12"},
               "layers": [], "packages": [], "findings": findings, "warnings": []})
    };
    let targets = vec![
        target("big-a.tar", n),
        target("big-b.tar", n),
        target("small.tar", 1),
    ];
    let findings: usize = 2 * n * 4 + 4;
    json!({
        "schema_version": 1, "tool": {"name": "holdfast", "version": "0.1.0"},
        "created_at": "2026-01-01T00:00:00Z", "db": null, "targets": targets,
        "summary": {"targets": 3, "packages": 0, "findings": findings,
                    "by_severity": {"UNKNOWN": 0, "LOW": 0, "MEDIUM": 0, "HIGH": 0, "CRITICAL": 0},
                    "warnings": 0}
    })
}

fn write_result(dir: &Path, v: &Value) -> PathBuf {
    let p = dir.join("result.json");
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p
}

#[test]
fn a_large_result_is_asked_in_parts_and_every_answer_is_kept() {
    let d = temp();
    let saved = write_result(d.path(), &big_result(40));
    let ai = FakeAi::start(|req, n| {
        if req.system().contains("described in parts") {
            Reply::Answer("OVERALL-ANSWER".into())
        } else {
            Reply::Answer(format!("PART-ANSWER-{n}"))
        }
    });
    let out_file = d.path().join("analysed.json");
    let out = hf()
        .args([
            "analyze",
            "-r",
            &path_str(&saved),
            "-f",
            "json",
            "-o",
            &path_str(&out_file),
        ])
        .args(["--ai-endpoint", &ai.base(), "--ai-model", "test-model"])
        .env("HOLDFAST_AI_CHUNK_CHARS", "4000")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let result: Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    let a = &result["analysis"];
    let reqs = ai.requests();
    let parts = a["parts"].as_u64().unwrap() as usize;
    assert!(parts >= 4, "{parts} parts");
    assert_eq!(
        reqs.len(),
        parts + 1,
        "one request per part, then the merge"
    );
    assert_eq!(a["findings"], 2 * 40 * 4 + 4);
    for (i, r) in reqs[..parts].iter().enumerate() {
        let user = r.user();
        assert!(user.len() <= 4000, "part {i}: {} characters", user.len());
        assert!(
            user.contains(&format!("this is part {} of {parts}", i + 1)),
            "{user}"
        );
    }
    // Each part's answer is its own section; the merge comes first.
    let sections = a["sections"].as_array().unwrap();
    assert_eq!(sections.len(), parts + 1);
    assert_eq!(sections[0]["kind"], "overall");
    assert_eq!(sections[0]["text"], "OVERALL-ANSWER");
    for (i, s) in sections[1..].iter().enumerate() {
        assert_eq!(s["kind"], "part");
        assert_eq!(s["text"], format!("PART-ANSWER-{i}"));
    }
    // The merge request carried every part's answer.
    let merge = reqs[parts].user();
    for i in 0..parts {
        assert!(merge.contains(&format!("PART-ANSWER-{i}")), "{merge}");
    }
    // Split by target and severity: no part holds big-a.tar's CRITICAL and LOW together.
    for s in &sections[1..] {
        let sev: Vec<&str> = s["severities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        if s["targets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "big-a.tar")
        {
            assert!(!(sev.contains(&"CRITICAL") && sev.contains(&"LOW")), "{s}");
        }
    }
    // Every finding was described exactly once over the parts.
    let all: String = reqs[..parts].iter().map(Req::user).collect();
    for i in 0..40 {
        let id = format!("CVE-2024-8{i:04} ");
        // Once per big target, and small.tar's one finding per severity is number 0.
        let want = if i == 0 { 3 } else { 2 };
        assert_eq!(all.matches(&id).count(), want, "{id}");
    }
    assert!(stderr.contains("part 1 of"), "{stderr}");
}

#[test]
fn a_429_with_retry_after_is_waited_for_then_answered() {
    let d = temp();
    let saved = write_result(d.path(), &big_result(1));
    let ai = FakeAi::start(|_, n| {
        if n == 0 {
            Reply::Status(
                429,
                vec![("Retry-After", "1".into())],
                json!({"error": {"message": "Rate limit reached", "type": "requests"}}).to_string(),
            )
        } else {
            Reply::Answer("ANSWER-AFTER-WAIT".into())
        }
    });
    let out = hf()
        .args(["analyze", "-r", &path_str(&saved), "-f", "json"])
        .args(["--ai-endpoint", &ai.base(), "--ai-model", "m"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    let reqs = ai.requests();
    assert_eq!(reqs.len(), 2);
    let waited = reqs[1].at - reqs[0].at;
    assert!(waited >= Duration::from_millis(900), "waited {waited:?}");
    assert_eq!(
        result["analysis"]["sections"][0]["text"],
        "ANSWER-AFTER-WAIT"
    );
    assert_eq!(result["analysis"]["warnings"], json!([]));
}

#[test]
fn a_retry_after_over_the_cap_and_server_errors_are_warnings() {
    let d = temp();
    let saved = write_result(d.path(), &big_result(1));
    let ai = FakeAi::start(|_, _| {
        Reply::Status(429, vec![("Retry-After", "3600".into())], String::new())
    });
    let out = hf()
        .args(["analyze", "-r", &path_str(&saved), "-f", "json"])
        .args(["--ai-endpoint", &ai.base(), "--ai-model", "m"])
        .output()
        .unwrap();
    // Nothing answered: `analyze` says so with its exit code, after writing the result.
    assert_eq!(out.status.code(), Some(2));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        ai.requests().len(),
        1,
        "no retry when asked to wait an hour"
    );
    assert_eq!(result["analysis"]["warnings"][0]["kind"], "rate-limited");
    assert!(result["analysis"]["warnings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("3600 s"));

    let ai = FakeAi::start(|_, _| Reply::Status(503, vec![], "overloaded".into()));
    let out = hf()
        .args(["analyze", "-r", &path_str(&saved), "-f", "json"])
        .args(["--ai-endpoint", &ai.base(), "--ai-model", "m"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ai.requests().len(), 4, "a bounded number of retries");
    assert_eq!(result["analysis"]["warnings"][0]["kind"], "http-status");
    assert!(result["analysis"]["warnings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("HTTP 503"));
}

#[test]
fn a_server_that_never_answers_is_a_warning_and_the_scan_is_unchanged() {
    let d = temp();
    let p = planted();
    let img = path_str(&fixture_image(d.path(), &p));
    let ai = FakeAi::start(|_, _| Reply::Hang);
    let started = Instant::now();
    let out = hf()
        .args(scan_args(&img, &ai, &["-f", "json", "--exit-code", "5"]))
        .env("HOLDFAST_AI_TIMEOUT", "2s")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(started.elapsed() < Duration::from_secs(40));
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    let with: Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = &with["analysis"];
    assert_eq!(a["warnings"][0]["kind"], "timeout", "{a}");
    assert_eq!(a["sections"], json!([]));
    assert!(stderr.contains("warning: analysis:"), "{stderr}");
    assert_eq!(ai.requests().len(), 1, "a timeout is not retried");

    // The same scan without --analyze: the same findings and exit code.
    let plain = hf()
        .args([
            "scan",
            "image",
            "--no-cache",
            "--no-plugins",
            "--scanners",
            "vuln,secret",
            &img,
        ])
        .args(["-f", "json", "--exit-code", "5"])
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(5));
    let without: Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert_eq!(with["targets"], without["targets"]);
    assert_eq!(with["summary"], without["summary"]);
    assert!(without.get("analysis").is_none());
}

#[test]
fn analyze_without_an_endpoint_says_so_and_the_scan_still_runs() {
    let d = temp();
    let p = planted();
    let img = path_str(&fixture_image(d.path(), &p));
    let out = hf()
        .args([
            "scan",
            "image",
            "--no-cache",
            "--no-plugins",
            "--scanners",
            "vuln",
            &img,
        ])
        .args(["-f", "json", "--analyze", "--ai-model", "m", "-q"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("no AI endpoint"), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["analysis"]["warnings"][0]["kind"], "config");
    assert!(!v["targets"][0]["findings"].as_array().unwrap().is_empty());

    // `holdfast analyze` has nothing else to do: it is an error there.
    let saved = write_result(d.path(), &v);
    let out = hf()
        .args([
            "analyze",
            "-r",
            &path_str(&saved),
            "--ai-endpoint",
            "http://127.0.0.1:9/v1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no AI model"));
}

#[test]
fn analyze_a_saved_result_into_json_and_html_with_a_custom_prompt() {
    let d = temp();
    let p = planted();
    let img = path_str(&fixture_image(d.path(), &p));
    let saved = d.path().join("scan.json");
    let out = hf()
        .args([
            "scan",
            "image",
            "--no-cache",
            "--no-plugins",
            "--scanners",
            "vuln,secret",
            &img,
        ])
        .args(["-f", "json", "-o", &path_str(&saved)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ai = FakeAi::start(|_, _| {
        Reply::Answer("1. Upgrade curl.\n2. <script>alert(1)</script> & rotate keys".into())
    });
    let token_file = d.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let out_dir = d.path().join("report");
    let out = hf()
        .args([
            "analyze",
            "-r",
            &path_str(&saved),
            "-f",
            "json,html",
            "-o",
            &path_str(&out_dir),
        ])
        .args(["--ai-endpoint", &ai.base(), "--ai-model", "m"])
        .args(["--ai-token-file", &path_str(&token_file)])
        .args(["-p", "List the CVEs to fix, nothing else."])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reqs = ai.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].system(), "List the CVEs to fix, nothing else.");
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let result: Value =
        serde_json::from_slice(&std::fs::read(find_file(&out_dir, ".json")).unwrap()).unwrap();
    let text = result["analysis"]["sections"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("1. Upgrade curl.\n2. <script>"));
    // The rest of the result is the saved one.
    let before: Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!(result["targets"], before["targets"]);
    // The model's text is text in the page: escaped, never markup.
    let html = std::fs::read_to_string(find_file(&out_dir, ".html")).unwrap();
    assert!(
        html.contains("2. &lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; rotate keys")
            || html.contains("2. &lt;script&gt;alert(1)&lt;/script&gt; &amp; rotate keys"),
        "{}",
        &html[html.find("id=\"analysis\"").unwrap()..][..1500]
    );
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(!html.contains(TOKEN));

    // Formats that do not show the analysis are refused.
    let out = hf()
        .args(["analyze", "-r", &path_str(&saved), "-f", "sarif"])
        .args(["--ai-endpoint", &ai.base(), "--ai-model", "m"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(ai.requests().len(), 1, "refused before asking");
}

#[test]
fn requests_go_through_the_proxy_the_environment_names() {
    let d = temp();
    let saved = write_result(d.path(), &big_result(1));
    // The fake server is the proxy: an HTTP proxy gets the absolute URL.
    let proxy = FakeAi::start(|_, _| Reply::Answer("VIA-PROXY".into()));
    let out = hf()
        .args(["analyze", "-r", &path_str(&saved), "-f", "json"])
        .args([
            "--ai-endpoint",
            "http://ai.example.invalid/v1",
            "--ai-model",
            "m",
        ])
        .env("HTTP_PROXY", format!("http://{}", proxy.addr))
        .env("NO_PROXY", "localhost,.internal.example")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reqs = proxy.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].target,
        "http://ai.example.invalid/v1/chat/completions"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["analysis"]["endpoint"], "ai.example.invalid");
    assert_eq!(v["analysis"]["sections"][0]["text"], "VIA-PROXY");
}
