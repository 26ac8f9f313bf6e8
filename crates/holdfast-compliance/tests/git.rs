//! `scan config URL`: a repository made by the test with `git`, served on loopback by
//! `git daemon` (git://) and by `git http-backend` behind a CGI server (http://), and read
//! from disk (file://), is cloned with gix and judged as the same files on disk are.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use holdfast_compliance::git_repo::CloneLimits;
use holdfast_compliance::{scan_config, ConfigScanError, ConfigScanOptions};
use holdfast_model::{CheckStatus, TargetResult};

const CORPUS: &str = "tests/fixtures/iac";

fn have(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("HOLDFAST_FULL_TESTS").is_none(),
            "HOLDFAST_FULL_TESTS=1 but `{tool}` is missing"
        );
        eprintln!("skipped: `{tool}` is missing");
    }
    found
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=holdfast",
            "-c",
            "user.email=test@holdfast.invalid",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A repository with two commits: `v1` holds a Dockerfile and a manifest of the corpus,
/// the next commit adds a second manifest.
fn repository(base: &Path) -> PathBuf {
    let repo = base.join("team/app.git");
    std::fs::create_dir_all(repo.join("deploy")).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS);
    std::fs::copy(corpus.join("bad-apt.Dockerfile"), repo.join("Dockerfile")).unwrap();
    std::fs::copy(
        corpus.join("bad-privileged-pod.yaml"),
        repo.join("deploy/pod.yaml"),
    )
    .unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "first"]);
    git(&repo, &["tag", "v1"]);
    std::fs::copy(
        corpus.join("clean-deployment.yaml"),
        repo.join("deploy/web.yaml"),
    )
    .unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "second"]);
    repo
}

fn scan(arg: &str) -> Result<Vec<TargetResult>, ConfigScanError> {
    scan_config(&ConfigScanOptions {
        paths: vec![PathBuf::from(arg)],
        ..ConfigScanOptions::default()
    })
}

/// Target name → the ids of its failed checks.
fn failures(targets: &[TargetResult]) -> Vec<(String, BTreeSet<String>)> {
    targets
        .iter()
        .map(|t| {
            let failed = t
                .checks
                .iter()
                .filter(|c| c.status == CheckStatus::Warn)
                .map(|c| c.id.clone())
                .collect();
            (t.name.clone(), failed)
        })
        .collect()
}

/// What the files judged from disk give, named as the clone of `url` names them.
fn expected(repo: &Path, url: &str, files: &[&str]) -> Vec<(String, BTreeSet<String>)> {
    files
        .iter()
        .map(|f| {
            let local = scan(&repo.join(f).display().to_string()).unwrap();
            let (_, failed) = failures(&local).remove(0);
            assert!(!failed.is_empty() || f.contains("web"), "{f} fails checks");
            (format!("{url}/{f}"), failed)
        })
        .collect()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server the test started, ended by its PID when the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn repositories_are_cloned_and_judged_like_their_files() {
    if !have("git") || !have("python3") {
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let repo = repository(base.path());
    let all = ["Dockerfile", "deploy/pod.yaml", "deploy/web.yaml"];

    // file://, the default branch and then a tag.
    let url = format!("file://{}", repo.display());
    assert_eq!(failures(&scan(&url).unwrap()), expected(&repo, &url, &all));
    assert_eq!(
        failures(&scan(&format!("{url}#v1")).unwrap()),
        expected(&repo, &url, &all[..2]),
        "the tag's tree, without the later commit's file"
    );

    // git:// from git daemon.
    let port = free_port();
    // `git-daemon` itself, not `git daemon`, which would run it as a child the test could
    // not end by the PID it has.
    let exec_path = Command::new("git").arg("--exec-path").output().unwrap();
    let exec_path = String::from_utf8(exec_path.stdout).unwrap();
    let _daemon = Server(
        Command::new(Path::new(exec_path.trim()).join("git-daemon"))
            .args(["--reuseaddr", "--export-all", "--listen=127.0.0.1"])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.path().display()))
            .arg(base.path())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(port);
    let url = format!("git://127.0.0.1:{port}/team/app.git");
    assert_eq!(failures(&scan(&url).unwrap()), expected(&repo, &url, &all));

    // http:// from git http-backend (smart HTTP) behind Python's CGI server, which runs
    // scripts as `nobody` when it runs as root: the tree must be readable to others, and
    // git must accept a repository another user owns.
    std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let cgi = base.path().join("cgi-bin");
    std::fs::create_dir_all(&cgi).unwrap();
    let backend = cgi.join("git");
    std::fs::write(
        &backend,
        format!(
            "#!/bin/sh\nGIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*' \
             GIT_PROJECT_ROOT='{}' GIT_HTTP_EXPORT_ALL=1 exec git http-backend\n",
            base.path().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&backend, std::fs::Permissions::from_mode(0o755)).unwrap();
    let port = free_port();
    let _http = Server(
        Command::new("python3")
            .args(["-m", "http.server", "--cgi", "--bind", "127.0.0.1"])
            .arg(port.to_string())
            .current_dir(base.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(port);
    let url = format!("http://127.0.0.1:{port}/cgi-bin/git/team/app.git");
    assert_eq!(failures(&scan(&url).unwrap()), expected(&repo, &url, &all));

    // A repository that is not there is an error naming it.
    let missing = format!("git://127.0.0.1:{}/team/missing.git", free_port());
    let err = scan(&missing).unwrap_err().to_string();
    assert!(err.contains(&missing), "{err}");
}

fn scan_within(arg: &str, limits: CloneLimits) -> Result<Vec<TargetResult>, ConfigScanError> {
    scan_config(&ConfigScanOptions {
        paths: vec![PathBuf::from(arg)],
        clone_limits: limits,
        ..ConfigScanOptions::default()
    })
}

#[test]
fn clones_stop_at_their_size_and_time_limits() {
    if !have("git") {
        return;
    }
    // 4 MiB that do not compress, beside the corpus files: past a 1 MiB limit.
    let base = tempfile::tempdir().unwrap();
    let repo = repository(base.path());
    let mut noise = vec![0u8; 4 << 20];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for b in &mut noise {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    std::fs::write(repo.join("blob.bin"), &noise).unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "large"]);
    let url = format!("file://{}", repo.display());
    let small = CloneLimits {
        max_bytes: 1 << 20,
        ..CloneLimits::default()
    };
    let err = scan_within(&url, small).unwrap_err().to_string();
    assert!(
        err.contains(&url) && err.contains("clone size limit"),
        "{err}"
    );
    // Within the default limits the same clone works.
    assert!(!scan_within(&url, CloneLimits::default())
        .unwrap()
        .is_empty());

    // A server that accepts and never answers: the clone gives up at its time limit,
    // without waiting for the transfer to notice.
    let tarpit = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = tarpit.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in tarpit.incoming().flatten() {
            held.push(conn);
        }
    });
    let url = format!("git://127.0.0.1:{port}/team/app.git");
    let started = Instant::now();
    let limits = CloneLimits {
        timeout: Duration::from_secs(1),
        ..CloneLimits::default()
    };
    let err = scan_within(&url, limits).unwrap_err().to_string();
    assert!(err.contains("clone time limit"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
