//! moto's standalone S3 server on loopback, for the remote layer-cache tests (this crate's
//! and the binary's, which includes this file by path).
//!
//! The tests run under `HOLDFAST_FULL_TESTS=1` (`scripts/setup-test-deps.sh` installs
//! `moto_server` from PyPI's `moto[server]`) and fail there if it is missing; otherwise
//! they are skipped with a note.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `moto_server`, killed by its PID when dropped.
pub struct Moto {
    child: Child,
    port: u16,
}

/// Starts moto under `HOLDFAST_FULL_TESTS=1`; otherwise prints why `test` is skipped.
pub fn moto_or_skip(test: &str) -> Option<Moto> {
    if std::env::var("HOLDFAST_FULL_TESTS").as_deref() != Ok("1") {
        eprintln!("skipped {test}: set HOLDFAST_FULL_TESTS=1 to run it against moto_server");
        return None;
    }
    Some(Moto::start())
}

/// A loopback port nobody listened on a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Moto {
    /// Starts `moto_server -H 127.0.0.1 -p PORT` and waits until it answers.
    pub fn start() -> Moto {
        let port = free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "HOLDFAST_FULL_TESTS=1, but moto_server does not start \
                 (scripts/setup-test-deps.sh, or: python3 -m pip install 'moto[server]')",
            );
        let mut moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = moto.child.try_wait().unwrap() {
                panic!("moto_server exited at start: {status}");
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return moto;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The AWS settings that point a client at this server (moto accepts any key).
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        settings_for(&self.endpoint())
    }

    /// Creates a bucket.
    pub fn create_bucket(&self, bucket: &str) {
        let (status, body) = self.request("PUT", &format!("/{bucket}"));
        assert_eq!(status, 200, "create bucket {bucket}: {body}");
    }

    /// The names of every object in `bucket`, sorted.
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let (status, body) = self.request("GET", &format!("/{bucket}?list-type=2&max-keys=1000"));
        assert_eq!(status, 200, "list {bucket}: {body}");
        assert!(!body.contains("<IsTruncated>true"), "more than one page");
        let mut keys: Vec<String> = body
            .split("<Key>")
            .skip(1)
            .filter_map(|s| s.split("</Key>").next())
            .map(str::to_string)
            .collect();
        keys.sort();
        keys
    }

    fn request(&self, method: &str, path: &str) -> (u16, String) {
        let (status, body) = self.raw_request(method, path);
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// One plain HTTP/1.1 request, without signature (moto does not check them).
    fn raw_request(&self, method: &str, path: &str) -> (u16, Vec<u8>) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .unwrap();
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).unwrap();
        let split = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("an HTTP answer");
        let head = String::from_utf8_lossy(&answer[..split]).into_owned();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        assert!(
            !head
                .to_ascii_lowercase()
                .contains("transfer-encoding: chunked"),
            "chunked answers are not read here"
        );
        (status, answer[split + 4..].to_vec())
    }
}

/// The AWS settings for an S3 endpoint on loopback, over plain http.
pub fn settings_for(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_ALLOW_HTTP", "true".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "moto-test-secret".to_string()),
    ]
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Ours: we spawned it and hold its handle, so the PID is still this process's.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
