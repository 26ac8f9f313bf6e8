//! `holdfast server` as processes: the real binary on loopback ports, with SQLite in a
//! temporary data directory or a private PostgreSQL (the store's test helper), a lease
//! of 2 s and a scheduler tick of 200 ms so recoveries show within seconds. Requests go
//! through `curl`. Every process started here is killed by its PID when its guard drops.
//!
//! The PostgreSQL tests (SIGKILL on PostgreSQL, several `--worker` processes on one queue,
//! an outage) are heavy: they run under `HOLDFAST_FULL_TESTS=1`, where a missing
//! PostgreSQL is a failure.

use std::fs::OpenOptions;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::{full_tests, have_tool, holdfast, path_str, repo_root, temp};

#[path = "../../../holdfast-store/tests/support/postgres.rs"]
mod postgres;
use postgres::TestPostgres;

/// A `holdfast server` process, killed (SIGKILL, by its PID) when dropped.
struct Server {
    child: Option<Child>,
    /// The flags it was started with, but `--listen`, for a restart.
    args: Vec<String>,
    /// Its API port; `None` for a `--worker`.
    port: Option<u16>,
    /// stdout and stderr of every run, appended.
    log: PathBuf,
    /// `https` with `--tls-cert`.
    scheme: &'static str,
    /// Extra curl flags (the CA certificate).
    curl: Vec<String>,
}

impl Server {
    /// Starts an API server (with its workers) with `args` on a free loopback port.
    fn api(log: PathBuf, args: Vec<String>) -> Server {
        let mut s = Server {
            child: None,
            args,
            port: Some(free_port()),
            log,
            scheme: "http",
            curl: Vec::new(),
        };
        s.spawn();
        s
    }

    /// Starts a `--worker` process (no API).
    fn worker(log: PathBuf, mut args: Vec<String>) -> Server {
        args.push("--worker".into());
        let mut s = Server {
            child: None,
            args,
            port: None,
            log,
            scheme: "http",
            curl: Vec::new(),
        };
        s.spawn();
        s
    }

    /// An API server over HTTPS with this certificate and key.
    fn tls(log: PathBuf, mut args: Vec<String>, cert: &Path, key: &Path) -> Server {
        args.extend(["--tls-cert".into(), path_str(cert)]);
        args.extend(["--tls-key".into(), path_str(key)]);
        let mut s = Server {
            child: None,
            args,
            port: Some(free_port()),
            log,
            scheme: "https",
            curl: vec!["--cacert".into(), path_str(cert)],
        };
        s.spawn();
        s
    }

    /// Spawns the process and, for an API server, waits until it listens; a port taken
    /// meanwhile by someone else is replaced by another.
    fn spawn(&mut self) {
        for _ in 0..3 {
            let listening_before = self.log_text().matches("holdfast server listening").count();
            let log = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)
                .unwrap();
            let mut cmd = holdfast();
            cmd.arg("server").args(&self.args);
            if let Some(port) = self.port {
                cmd.args(["--listen", &format!("127.0.0.1:{port}")]);
            }
            for var in [
                "HOLDFAST_DATA_DIR",
                "HOLDFAST_DATABASE_URL",
                "HOLDFAST_CONFIG",
                "HOLDFAST_TOKEN",
                "HTTP_PORT",
                "NUM_THREADS",
                "SCAN_INTERVAL",
                "SEC_REPORT_DIR",
                "DISABLE_QUAYIO_SCAN",
                "LOG_LEVEL",
                "http_proxy",
                "https_proxy",
                "HTTP_PROXY",
                "HTTPS_PROXY",
                "ALL_PROXY",
                "all_proxy",
            ] {
                cmd.env_remove(var);
            }
            let child = cmd
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap();
            self.child = Some(child);
            if self.port.is_none() {
                return;
            }
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                    self.child = None;
                    let text = self.log_text();
                    if text.contains("cannot listen on") {
                        self.port = Some(free_port());
                        break;
                    }
                    panic!("the server exited ({status}) before listening:\n{text}");
                }
                if self.log_text().matches("holdfast server listening").count() > listening_before
                    && TcpStream::connect(("127.0.0.1", self.port.unwrap())).is_ok()
                {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "the server did not listen within 30 s:\n{}",
                    self.log_text()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("no free port for the server:\n{}", self.log_text());
    }

    /// Kills the process with SIGKILL, as a crash would.
    fn sigkill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again with the same flags and port.
    fn restart(&mut self) {
        self.sigkill();
        self.spawn();
    }

    /// Whether the process still runs.
    fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    fn url(&self) -> String {
        format!(
            "{}://127.0.0.1:{}",
            self.scheme,
            self.port.expect("an API server")
        )
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The ids of the scans this process started, in order, from its log.
    fn started(&self) -> Vec<String> {
        log_ids(&self.log_text(), "scan started scan=")
    }

    fn finished(&self) -> Vec<String> {
        log_ids(&self.log_text(), "scan finished scan=")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.sigkill();
    }
}

fn log_ids(text: &str, marker: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split(marker).nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The flags every test server shares: its data directory, cache, a vulnerability
/// database path (absent: the demo advisories), a short lease and tick, info logs.
fn base_args(dir: &Path, store: &[String], db: &Path) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--data-dir".into(),
        path_str(&dir.join("data")),
        "--db".into(),
        path_str(db),
        "--cache-dir".into(),
        path_str(&dir.join("cache")),
        "--lease".into(),
        "2s".into(),
        "--tick".into(),
        "200ms".into(),
        "--log-level".into(),
        "info".into(),
    ];
    args.extend(store.iter().cloned());
    args
}

/// A store on SQLite in `dir/data`.
fn sqlite_store(dir: &Path) -> Vec<String> {
    vec!["--data-dir".into(), path_str(&dir.join("data"))]
}

/// The store flags a server adds to `base_args` (which has `--data-dir` already): none
/// for SQLite, `--database-url` for PostgreSQL.
fn server_store(store: &[String]) -> Vec<String> {
    if store.first().is_some_and(|f| f == "--data-dir") {
        Vec::new()
    } else {
        store.to_vec()
    }
}

/// `holdfast server token ...` on a store.
fn token_cmd(args: &[&str], store: &[String]) -> Output {
    holdfast()
        .args(["server", "token"])
        .args(args)
        .args(store)
        .env_remove("HOLDFAST_DATA_DIR")
        .env_remove("HOLDFAST_DATABASE_URL")
        .output()
        .unwrap()
}

/// A new token of `scope`.
fn token(store: &[String], scope: &str) -> String {
    let out = token_cmd(&["create", "--scope", scope, "--name", "test"], store);
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// An HTTP answer; `code` 0 when curl could not get one (`body` then says why).
#[derive(Debug)]
struct Reply {
    code: u16,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.code, self.body))
    }
}

/// One request with curl: `url`, an optional bearer token and JSON body, extra flags.
fn curl(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
    extra: &[String],
) -> Reply {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--noproxy", "*", "--max-time", "15", "-X", method])
        .args(extra)
        .args(["-o", "-", "-w", "\n%{http_code}"]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/json", "--data-binary"])
            .arg(b.to_string());
    }
    let out = cmd.arg(url).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    let code: u16 = code.trim().parse().unwrap_or(0);
    if !out.status.success() || code == 0 {
        return Reply {
            code: 0,
            body: stderr(&out),
        };
    }
    Reply {
        code,
        body: body.to_string(),
    }
}

fn call(
    srv: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    curl(
        method,
        &format!("{}{path}", srv.url()),
        token,
        body,
        &srv.curl,
    )
}

/// `GET path` that must answer 200 with JSON.
fn get_json(srv: &Server, path: &str, token: &str) -> Value {
    let r = call(srv, "GET", path, Some(token), None);
    assert_eq!(r.code, 200, "GET {path}: {}\n{}", r.body, srv.log_text());
    r.json()
}

/// Queues a scan of `target`; its id.
fn queue(srv: &Server, token: &str, target: &str) -> String {
    let r = call(
        srv,
        "POST",
        "/api/v1/scans",
        Some(token),
        Some(&json!({ "target": target })),
    );
    assert_eq!(r.code, 202, "POST /api/v1/scans: {}", r.body);
    r.json()["id"].as_str().unwrap().to_string()
}

fn all_scans(srv: &Server, token: &str) -> Vec<Value> {
    get_json(srv, "/api/v1/scans?limit=1000", token)["scans"]
        .as_array()
        .unwrap()
        .clone()
}

/// Polls `f` every 100 ms until it gives a value, or fails after `timeout`.
fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until scan `id` has `status`, and returns it; fails early when it reaches
/// another final state.
fn wait_status(srv: &Server, token: &str, id: &str, status: &str, timeout: Duration) -> Value {
    wait_for(&format!("scan {id} to be {status}"), timeout, || {
        let scan = get_json(srv, &format!("/api/v1/scans/{id}"), token);
        let now = scan["status"].as_str().unwrap().to_string();
        assert!(
            now == status || !matches!(now.as_str(), "finished" | "failed"),
            "scan {id} is {now}, not {status}: {scan}\n{}",
            srv.log_text()
        );
        (now == status).then_some(scan)
    })
}

fn demo_image() -> PathBuf {
    repo_root()
        .join("fixtures/demo/demo-image.tar")
        .canonicalize()
        .unwrap()
}

/// `n` copies of the demo image under `dir`, as `docker-archive:` targets, so each scan
/// has a target of its own.
fn demo_targets(dir: &Path, prefix: &str, n: usize) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    (0..n)
        .map(|i| {
            let path = dir.join(format!("{prefix}-{i}.tar"));
            std::fs::copy(demo_image(), &path).unwrap();
            format!("docker-archive:{}", path_str(&path))
        })
        .collect()
}

/// A loopback port that accepts connections and never answers: a registry that hangs.
struct Silent {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Silent {
    fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => held.push(conn),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Silent {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Whether the heavy (PostgreSQL) tests run: only under `HOLDFAST_FULL_TESTS=1`.
fn heavy() -> bool {
    if !full_tests() {
        eprintln!("skipped: set HOLDFAST_FULL_TESTS=1 to run the PostgreSQL server tests");
    }
    full_tests() && have_tool("curl")
}

/// Queues and finishes a scan, hangs a second one on a silent registry, SIGKILLs the
/// server mid-scan and restarts it on the same store.
fn sigkill_mid_scan_loses_nothing(dir: &Path, store: &[String]) {
    let tok = token(store, "scan");
    let args = base_args(dir, &server_store(store), &dir.join("holdfast.db"));
    let mut srv = Server::api(dir.join("server.log"), args);

    let done = queue(
        &srv,
        &tok,
        &format!("docker-archive:{}", path_str(&demo_image())),
    );
    let before = wait_status(&srv, &tok, &done, "finished", Duration::from_secs(60));
    assert!(
        before["result"]["targets"][0]["packages"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{before}"
    );

    let silent = Silent::start();
    let hung = queue(
        &srv,
        &tok,
        &format!("registry:127.0.0.1:{}/x/y:1", silent.port),
    );
    let running = wait_status(&srv, &tok, &hung, "running", Duration::from_secs(30));
    assert_eq!(running["attempts"], 1, "{running}");
    // Let it reach the registry, so the scan is truly under way when the server dies.
    std::thread::sleep(Duration::from_millis(300));

    srv.sigkill();
    srv.restart();
    let restarted = Instant::now();

    let after = get_json(&srv, &format!("/api/v1/scans/{done}"), &tok);
    assert_eq!(after["status"], "finished", "{after}");
    assert_eq!(
        after["result"], before["result"],
        "the finished result changed"
    );
    assert_eq!(after["finished_at"], before["finished_at"]);

    let failed = wait_status(&srv, &tok, &hung, "failed", Duration::from_secs(10));
    let waited = restarted.elapsed();
    assert!(
        waited < Duration::from_secs(8),
        "recovered only after {waited:?} (lease 2 s)"
    );
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(error.contains("interrupted"), "{failed}");
    assert!(
        failed["result"].is_null(),
        "a failed scan shows no result: {failed}"
    );

    // The inventory holds the finished scan's image only: nothing of the interrupted one.
    let images = get_json(&srv, "/api/v1/images", &tok)["targets"].clone();
    let images = images.as_array().unwrap();
    assert_eq!(images.len(), 1, "{images:#?}");
    assert_eq!(images[0]["scan_id"], done.as_str(), "{images:#?}");

    let scans = all_scans(&srv, &tok);
    assert_eq!(scans.len(), 3, "{scans:#?}");
    let retries: Vec<&Value> = scans.iter().filter(|s| s["retry_of"] == hung).collect();
    assert_eq!(retries.len(), 1, "{scans:#?}");
    let retry = retries[0];
    assert_eq!(retry["target"], failed["target"]);
    assert!(
        matches!(retry["status"].as_str(), Some("queued" | "running")),
        "{retry}"
    );
    drop(srv);
    drop(silent);
}

#[test]
fn sigkill_mid_scan_loses_nothing_on_sqlite() {
    if !have_tool("curl") {
        return;
    }
    let dir = temp();
    sigkill_mid_scan_loses_nothing(dir.path(), &sqlite_store(dir.path()));
}

#[test]
fn sigkill_mid_scan_loses_nothing_on_postgres() {
    if !heavy() {
        return;
    }
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let dir = temp();
    let store = vec!["--database-url".to_string(), pg.fresh_database()];
    sigkill_mid_scan_loses_nothing(dir.path(), &store);
    drop(pg);
}

/// Waits until every target of `targets` has a finished scan; returns all scans.
fn wait_all_finished(srv: &Server, tok: &str, targets: &[String], timeout: Duration) -> Vec<Value> {
    wait_for("every target to have a finished scan", timeout, || {
        let scans = all_scans(srv, tok);
        targets
            .iter()
            .all(|t| {
                scans
                    .iter()
                    .any(|s| s["target"] == t.as_str() && s["status"] == "finished")
            })
            .then_some(scans)
    })
}

#[test]
fn workers_on_postgres_run_every_scan_once_and_survive_a_killed_worker() {
    if !heavy() {
        return;
    }
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let dir = temp();
    let dir = dir.path();
    let store = vec!["--database-url".to_string(), pg.fresh_database()];
    let tok = token(&store, "scan");
    let args = |workers: &str| {
        let mut a = base_args(dir, &store, &dir.join("holdfast.db"));
        a.extend(["--workers".into(), workers.into()]);
        a
    };
    let api = Server::api(dir.join("api.log"), args("1"));
    let mut workers: Vec<Server> = (0..3)
        .map(|i| Server::worker(dir.join(format!("worker{i}.log")), args("2")))
        .collect();

    // 12 scans, each of a target of its own, on 4 processes (7 workers).
    let first = demo_targets(&dir.join("images"), "a", 12);
    let ids: Vec<String> = first.iter().map(|t| queue(&api, &tok, t)).collect();
    let scans = wait_all_finished(&api, &tok, &first, Duration::from_secs(90));
    assert_eq!(scans.len(), 12, "{scans:#?}");
    for s in &scans {
        assert_eq!(s["status"], "finished", "{s}");
        assert_eq!(s["attempts"], 1, "taken more than once: {s}");
        assert!(s["retry_of"].is_null(), "{s}");
    }
    let mut processes = 0;
    let mut started: Vec<String> = Vec::new();
    for p in workers.iter().chain([&api]) {
        let mine = p.started();
        processes += usize::from(!mine.is_empty());
        started.extend(mine);
    }
    started.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(
        started, expected,
        "every scan started exactly once, by one process"
    );
    assert!(processes >= 2, "one process took every scan");

    // 12 more; one worker is killed with SIGKILL as soon as it starts one.
    let victim_before = workers[0].started().len();
    let second = demo_targets(&dir.join("images"), "b", 12);
    for t in &second {
        queue(&api, &tok, t);
    }
    // Polled every 5 ms: a demo scan takes well over 100 ms, so the kill lands mid-scan.
    let deadline = Instant::now() + Duration::from_secs(60);
    while workers[0].started().len() == victim_before {
        assert!(
            Instant::now() < deadline,
            "the first worker started no scan:\n{}",
            workers[0].log_text()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    workers[0].sigkill();
    let victim = &workers[0];
    let in_flight: Vec<String> = {
        let done = victim.finished();
        victim
            .started()
            .into_iter()
            .filter(|id| !done.contains(id))
            .collect()
    };

    let scans = wait_all_finished(&api, &tok, &second, Duration::from_secs(90));
    let mut interrupted = 0;
    for t in &second {
        let of_target: Vec<&Value> = scans.iter().filter(|s| s["target"] == t.as_str()).collect();
        let finished: Vec<&&Value> = of_target
            .iter()
            .filter(|s| s["status"] == "finished")
            .collect();
        assert_eq!(
            finished.len(),
            1,
            "{t} finished more than once: {of_target:#?}"
        );
        for s in &of_target {
            assert_eq!(s["attempts"], 1, "taken more than once: {s}");
            if s["status"] == "failed" {
                interrupted += 1;
                assert!(
                    s["error"].as_str().unwrap_or("").contains("interrupted"),
                    "{s}"
                );
                assert!(
                    of_target.iter().any(|r| r["retry_of"] == s["id"]),
                    "no retry of {s}: {of_target:#?}"
                );
            }
        }
    }
    for id in &in_flight {
        let s = scans.iter().find(|s| s["id"] == id.as_str()).unwrap();
        assert!(
            s["status"] == "finished" || s["status"] == "failed",
            "the killed worker's scan {s} was left behind"
        );
    }
    // No scan id ever ran twice, in any process.
    let mut started: Vec<String> = workers
        .iter()
        .chain([&api])
        .flat_map(|p| p.started())
        .collect();
    let n = started.len();
    started.sort();
    started.dedup();
    assert_eq!(started.len(), n, "a scan id was started twice");
    eprintln!(
        "killed worker had {} scan(s) in flight; {interrupted} interrupted and re-queued",
        in_flight.len()
    );
    for w in &mut workers[1..] {
        assert!(w.alive(), "{}", w.log_text());
    }
    drop(workers);
    drop(api);
    drop(pg);
}

/// `/readyz`: (status code, `ready`).
fn readyz(srv: &Server) -> (u16, Option<bool>) {
    let r = call(srv, "GET", "/readyz", None, None);
    let ready = serde_json::from_str::<Value>(&r.body)
        .ok()
        .and_then(|v| v["ready"].as_bool());
    (r.code, ready)
}

#[test]
fn postgres_outage_is_reported_and_survived() {
    if !heavy() {
        return;
    }
    let Some(mut pg) = TestPostgres::start() else {
        return;
    };
    let dir = temp();
    let dir = dir.path();
    let store = vec!["--database-url".to_string(), pg.fresh_database()];
    let tok = token(&store, "scan");
    let mut srv = Server::api(
        dir.join("server.log"),
        base_args(dir, &store, &dir.join("holdfast.db")),
    );
    assert_eq!(readyz(&srv), (200, Some(true)));

    pg.stop();
    let stopped = Instant::now();
    wait_for("/readyz to say 503", Duration::from_secs(20), || {
        (readyz(&srv) == (503, Some(false))).then_some(())
    });
    let noticed = stopped.elapsed();
    std::thread::sleep(Duration::from_secs(1));
    let probe = Instant::now();
    assert_eq!(readyz(&srv), (503, Some(false)));
    eprintln!(
        "/readyz said 503 {noticed:?} after PostgreSQL stopped; a later probe took {:?}",
        probe.elapsed()
    );
    assert!(
        srv.alive(),
        "the server died with the database:\n{}",
        srv.log_text()
    );

    pg.restart();
    wait_for("/readyz to say 200 again", Duration::from_secs(30), || {
        (readyz(&srv) == (200, Some(true))).then_some(())
    });
    assert!(srv.alive());
    let queued = Instant::now();
    let id = queue(
        &srv,
        &tok,
        &format!("docker-archive:{}", path_str(&demo_image())),
    );
    let scan = wait_status(&srv, &tok, &id, "finished", Duration::from_secs(60));
    assert_eq!(scan["attempts"], 1);
    eprintln!(
        "after the outage, a scan finished {:?} after it was queued",
        queued.elapsed()
    );
    assert!(srv.alive());
    drop(srv);
    drop(pg);
}

fn advisory(id: &str, eco: &str, name: &str) -> String {
    json!({
        "id": id,
        "modified": "2024-01-01T00:00:00Z",
        "affected": [{
            "package": {"name": name, "ecosystem": eco},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.9"}]}]
        }]
    })
    .to_string()
}

/// `holdfast db update` with nothing from the environment.
fn db_update() -> Command {
    let mut c = holdfast();
    c.args(["db", "update"])
        .env_remove("HOLDFAST_TOKEN")
        .env_remove("HOLDFAST_FEED_URL")
        .env_remove("HOLDFAST_FEED_MIRRORS");
    c
}

#[test]
fn db_update_takes_the_database_a_running_server_holds() {
    if !have_tool("curl") {
        return;
    }
    let dir = temp();
    let dir = dir.path();
    let osv = dir.join("osv");
    std::fs::create_dir_all(&osv).unwrap();
    std::fs::write(osv.join("a.json"), advisory("GHSA-srv-1", "npm", "lodash")).unwrap();
    std::fs::write(
        osv.join("b.json"),
        advisory("PYSEC-srv-2", "PyPI", "pyyaml"),
    )
    .unwrap();
    let served = dir.join("server.db");
    let out = holdfast()
        .args(["db", "build", "--from"])
        .arg(&osv)
        .arg("-o")
        .arg(&served)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let digest = hex::encode(Sha256::digest(std::fs::read(&served).unwrap()));

    let store = sqlite_store(dir);
    let srv = Server::api(dir.join("server.log"), base_args(dir, &[], &served));
    let read = token(&store, "read");

    // The ETag is the quoted SHA-256 of the file; If-None-Match with it answers 304.
    let headers = dir.join("headers.txt");
    let url = format!("{}/api/v1/db", srv.url());
    let got = curl(
        "GET",
        &url,
        Some(&read),
        None,
        &["-D".into(), path_str(&headers)],
    );
    assert_eq!(got.code, 200, "{}", got.body);
    let head = std::fs::read_to_string(&headers)
        .unwrap()
        .to_ascii_lowercase();
    assert!(head.contains(&format!("etag: \"{digest}\"")), "{head}");
    let current = curl(
        "GET",
        &url,
        Some(&read),
        None,
        &["-H".into(), format!("If-None-Match: \"{digest}\"")],
    );
    assert_eq!(current.code, 304, "{current:?}");

    let local = dir.join("client/holdfast.db");
    let update = |token: Option<&str>| {
        let mut c = db_update();
        c.args(["--server", &srv.url(), "-o", &path_str(&local)]);
        if let Some(t) = token {
            c.args(["--token", t]);
        }
        c.output().unwrap()
    };
    let out = update(Some(&read));
    let text = stderr(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("2 advisories"), "{text}");
    assert_eq!(
        std::fs::read(&local).unwrap(),
        std::fs::read(&served).unwrap()
    );
    let installed = std::fs::metadata(&local).unwrap().modified().unwrap();

    let out = update(Some(&read));
    let text = stderr(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("is current with"), "{text}");
    assert!(!text.contains(&read), "the token was printed: {text}");
    assert_eq!(
        std::fs::metadata(&local).unwrap().modified().unwrap(),
        installed,
        "a current database is not rewritten"
    );

    let out = update(None);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("HTTP 401"), "{text}");
    let out = update(Some("hft_not-a-token"));
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("HTTP 401"), "{text}");
    assert_eq!(
        std::fs::read(&local).unwrap(),
        std::fs::read(&served).unwrap()
    );
}

/// A self-signed certificate for 127.0.0.1 and its key, in `dir`.
fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    (cert, key)
}

#[test]
fn tls_serves_https_only() {
    if !have_tool("curl") || !have_tool("openssl") {
        return;
    }
    let dir = temp();
    let dir = dir.path();
    let (cert, key) = self_signed(dir);

    let store = sqlite_store(dir);
    let read = token(&store, "read");
    let srv = Server::tls(
        dir.join("server.log"),
        base_args(dir, &[], &dir.join("holdfast.db")),
        &cert,
        &key,
    );
    let r = call(&srv, "GET", "/healthz", None, None);
    assert_eq!((r.code, r.body.trim()), (200, "ok"), "{r:?}");
    let r = call(&srv, "GET", "/api/v1/scans", Some(&read), None);
    assert_eq!(r.code, 200, "{r:?}");
    assert!(r.json()["scans"].is_array());

    let port = srv.port.unwrap();
    let plain = curl(
        "GET",
        &format!("http://127.0.0.1:{port}/healthz"),
        None,
        None,
        &[],
    );
    assert_ne!(plain.code, 200, "plain HTTP was answered: {plain:?}");
    assert!(!plain.body.contains("ok\n"), "{plain:?}");
    let untrusted = curl(
        "GET",
        &format!("https://127.0.0.1:{port}/healthz"),
        None,
        None,
        &[],
    );
    assert_eq!(
        untrusted.code, 0,
        "an unknown CA was accepted: {untrusted:?}"
    );
    assert!(
        srv.log_text().contains("listening (https)"),
        "{}",
        srv.log_text()
    );
}

#[test]
fn tokens_are_shown_once_listed_without_secret_and_revoked() {
    if !have_tool("curl") {
        return;
    }
    let dir = temp();
    let dir = dir.path();
    let store = sqlite_store(dir);

    let out = token_cmd(
        &["create", "--scope", "read", "--name", "dashboard"],
        &store,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let used = stdout.trim().to_string();
    assert!(used.starts_with("hft_") && used.len() > 40, "{used}");
    let note = stderr(&out);
    assert!(
        note.contains("shown once") && !note.contains(&used),
        "{note}"
    );
    let used_id = note
        .split_whitespace()
        .nth(1)
        .expect("token ID (...)")
        .to_string();
    let unused = token(&store, "scan");

    let list = token_cmd(&["list"], &store);
    assert!(list.status.success(), "{}", stderr(&list));
    let listed = String::from_utf8(list.stdout).unwrap();
    assert_eq!(listed.lines().count(), 2, "{listed}");
    let line = listed.lines().find(|l| l.starts_with(&used_id)).unwrap();
    assert!(
        line.contains("dashboard") && line.contains("read") && line.ends_with("live"),
        "{line}"
    );
    assert!(
        !listed.contains(&used) && !listed.contains(&unused),
        "{listed}"
    );
    assert!(!listed.contains("hft_"), "{listed}");

    let srv = Server::api(
        dir.join("server.log"),
        base_args(dir, &[], &dir.join("holdfast.db")),
    );
    assert_eq!(
        call(&srv, "GET", "/api/v1/scans", Some(&used), None).code,
        200
    );
    assert_eq!(call(&srv, "GET", "/api/v1/scans", None, None).code, 401);
    let denied = call(
        &srv,
        "POST",
        "/api/v1/scans",
        Some(&used),
        Some(&json!({"target": "docker-archive:/nonexistent.tar"})),
    );
    assert_eq!(denied.code, 403, "{denied:?}");
    // A server without a vulnerability database has none to serve.
    assert_eq!(call(&srv, "GET", "/api/v1/db", Some(&used), None).code, 503);

    let unused_id = String::from_utf8(token_cmd(&["list"], &store).stdout)
        .unwrap()
        .lines()
        .find(|l| !l.starts_with(&used_id))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_string();
    for id in [&used_id, &unused_id] {
        let out = token_cmd(&["revoke", id], &store);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stderr(&out).contains("revoked"), "{}", stderr(&out));
    }
    let listed = String::from_utf8(token_cmd(&["list"], &store).stdout).unwrap();
    assert_eq!(listed.matches("\trevoked ").count(), 2, "{listed}");

    // A token the server never saw is refused at once; one it verified before, once its
    // verification (kept 10 s) runs out.
    assert_eq!(
        call(&srv, "GET", "/api/v1/scans", Some(&unused), None).code,
        401
    );
    let revoked_at = Instant::now();
    wait_for(
        "the revoked token to be refused",
        Duration::from_secs(15),
        || (call(&srv, "GET", "/api/v1/scans", Some(&used), None).code == 401).then_some(()),
    );
    eprintln!("revoked token refused after {:?}", revoked_at.elapsed());

    let again = token_cmd(&["revoke", &used_id], &store);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("no live token"),
        "{}",
        stderr(&again)
    );
}

/// `--admission-config`: the webhook on the server's HTTPS listener follows the policy
/// and exceptions stored in the service, as the console edits them.
#[test]
fn the_servers_admission_webhook_follows_the_stored_policy() {
    use crate::common::{docker_archive, Z};
    if !crate::registry::tools_ready(&["openssl", "curl"]) {
        return;
    }
    let dir = temp();
    let dir = dir.path();
    let (cert, key) = self_signed(dir);
    let reg = crate::registry::start(None);
    let bad = dir.join("bad.tar");
    docker_archive(&bad, &[crate::admission::aws_secret_layer()], Z::Gzip, &[]);
    crate::registry::push(
        &reg,
        &format!("docker-archive:{}", path_str(&bad)),
        "team/bad:1",
        &["--dest-tls-verify=false"],
    );
    let config = dir.join("admission.toml");
    std::fs::write(
        &config,
        format!(
            "[log]\nplugin_log_path = \"admission.log\"\nauth_log_path = \"admission-audit.log\"\n\
             [holdfast]\ntimeout = \"30s\"\ninsecure_registries = [\"{}\"]\ncache_dir = \"acache\"\n",
            reg.host
        ),
    )
    .unwrap();
    let store = sqlite_store(dir);
    let admin = token(&store, "admin");
    let mut args = base_args(dir, &[], &dir.join("holdfast.db"));
    args.extend(["--admission-config".into(), path_str(&config)]);
    let srv = Server::tls(dir.join("server.log"), args, &cert, &key);
    let image = format!("{}/team/bad:1", reg.host);
    let review = json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "u-1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "namespace": "shop", "operation": "CREATE", "userInfo": {"username": "alice"},
            "object": {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "web", "image": image}]}},
        }
    });
    let admit = || {
        let r = call(&srv, "POST", "/admission", None, Some(&review));
        assert_eq!(r.code, 200, "{r:?}\n{}", srv.log_text());
        r.json()["response"].clone()
    };

    // The default policy: every finding counts.
    let answer = admit();
    assert_eq!(answer["allowed"], false, "{answer}");
    let message = answer["status"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("holdfast: blocked {image} (container_create): ")),
        "{message}"
    );
    assert!(message.contains("/app/.env"), "{message}");

    // A stored age limit decides at once; the image states no build time.
    let put = |body: Value| {
        let r = call(
            &srv,
            "PUT",
            "/api/v1/policies/admission",
            Some(&admin),
            Some(&body),
        );
        assert_eq!(r.code, 200, "{r:?}");
    };
    put(json!({"severity": "CRITICAL", "max_image_age_days": 1}));
    let answer = admit();
    assert_eq!(answer["allowed"], false);
    let message = answer["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("the image states no build time (max_image_age 1d)"),
        "{message}"
    );

    // Critical only, and the two AWS findings accepted until tomorrow: admitted.
    put(json!({"severity": "CRITICAL"}));
    let tomorrow = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        + 86_400_000;
    for id in [
        "HF-SECRET-AWS-ACCESS-KEY-ID",
        "HF-SECRET-AWS-SECRET-ACCESS-KEY",
    ] {
        let body =
            json!({"advisory": id, "reason": "test keys", "owner": "sec", "expires_at": tomorrow});
        let r = call(
            &srv,
            "POST",
            "/api/v1/exceptions",
            Some(&admin),
            Some(&body),
        );
        assert_eq!(r.code, 201, "{r:?}");
    }
    let answer = admit();
    assert_eq!(answer["allowed"], true, "{answer}");
    assert_eq!(answer["uid"], "u-1");

    // Without --admission the route is not there.
    let plain = Server::tls(
        dir.join("plain.log"),
        base_args(dir, &[], &dir.join("holdfast.db")),
        &cert,
        &key,
    );
    // HTTP/1.1: over HTTP/2 a 404 sent before the body is read resets the stream, which
    // curl reports as an error instead of the answer.
    let mut extra = plain.curl.clone();
    extra.push("--http1.1".into());
    let url = format!("{}/admission", plain.url());
    let r = curl("POST", &url, None, Some(&review), &extra);
    assert_eq!(r.code, 404, "{r:?}");
}
