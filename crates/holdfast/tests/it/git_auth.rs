//! `scan config URL` against a repository that asks for a login: a loopback HTTP server of
//! the test's own answers every request with 401. holdfast asks the credential helper of
//! the user's git configuration, as git does, and then refuses to send what it got over
//! plain http: no request carries it. (The positive path needs HTTPS, and the HTTPS
//! transport trusts only the built-in web roots, so a test CA cannot stand in.)

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::*;

const USER: &str = "holdfast-ci";
const PASSWORD: &str = "s3cret-token";

/// A loopback server that answers 401 to every request, on a thread, until the test
/// process ends; counts the requests, and those that carried an `Authorization` header.
fn unauthorized_server() -> (u16, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (requests, with_auth) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (r, a) = (requests.clone(), with_auth.clone());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut authorized = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                authorized |= line.to_ascii_lowercase().starts_with("authorization:");
            }
            r.fetch_add(1, Ordering::SeqCst);
            if authorized {
                a.fetch_add(1, Ordering::SeqCst);
            }
            let _ = stream.write_all(
                b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\n\
                  Content-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (port, requests, with_auth)
}

#[test]
fn clones_ask_the_users_credential_helper_and_never_send_it_in_clear_text() {
    let (port, requests, with_auth) = unauthorized_server();
    let url = format!("http://127.0.0.1:{port}/team/app.git");
    let tmp = tempfile::tempdir().unwrap();
    // A home whose git configuration names a credential helper, as `git config --global
    // credential.helper` writes it; the helper leaves a mark when asked.
    let asked = tmp.path().join("asked");
    let with_helper = tmp.path().join("home-helper");
    std::fs::create_dir_all(&with_helper).unwrap();
    std::fs::write(
        with_helper.join(".gitconfig"),
        format!(
            "[credential]\n\thelper = \"!f() {{ test \\\"$1\\\" = get && touch {} && \
             echo username={USER} && echo password={PASSWORD}; }}; f\"\n",
            asked.display()
        ),
    )
    .unwrap();
    let scan = |home: &Path| {
        holdfast()
            .args(["scan", "config", &url, "-f", "json", "--quiet"])
            .env("HOME", home)
            .env_remove("XDG_CONFIG_HOME")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("GIT_ASKPASS")
            .env_remove("SSH_ASKPASS")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = scan(&with_helper);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        asked.exists(),
        "the credential helper was not asked: {stderr}"
    );
    assert!(
        stderr.contains(&url) && stderr.contains("clear text"),
        "{stderr}"
    );
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    assert!(requests.load(Ordering::SeqCst) > 0);
    assert_eq!(
        with_auth.load(Ordering::SeqCst),
        0,
        "credentials went over http"
    );

    // Without a helper, the server's 401 is an error that names the repository.
    let bare = tmp.path().join("home-bare");
    std::fs::create_dir_all(&bare).unwrap();
    let out = scan(&bare);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains(&url), "{stderr}");
    assert!(stderr.contains("credentials"), "{stderr}");
    assert_eq!(with_auth.load(Ordering::SeqCst), 0);
}
