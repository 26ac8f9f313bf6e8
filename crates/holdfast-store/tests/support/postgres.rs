//! A private PostgreSQL server for tests: its own data directory, socket directory and
//! loopback port, started from Debian's `postgresql` binaries and stopped (by its PID)
//! when dropped. Shared by the store's and the service's tests (`#[path]`-included).

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running test server.
pub struct TestPostgres {
    dir: tempfile::TempDir,
    child: Option<Child>,
    bin: PathBuf,
    run_as_postgres: bool,
    /// Its loopback port.
    pub port: u16,
    next_db: std::sync::atomic::AtomicUsize,
}

/// The server binaries: `$HOLDFAST_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`.
fn pg_bin() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("HOLDFAST_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    found.sort();
    found.pop()
}

/// Whether the heavy suites must run (CI): then a missing server is a failure, not a skip.
pub fn full_tests() -> bool {
    std::env::var_os("HOLDFAST_FULL_TESTS").is_some_and(|v| v == "1")
}

impl TestPostgres {
    /// Starts a server, or `None` (with a note) when PostgreSQL is not installed and the
    /// full suites were not asked for.
    pub fn start() -> Option<TestPostgres> {
        let Some(bin) = pg_bin() else {
            assert!(
                !full_tests(),
                "HOLDFAST_FULL_TESTS=1 but no PostgreSQL server binaries (install postgresql)"
            );
            eprintln!("skipping: PostgreSQL is not installed");
            return None;
        };
        // initdb refuses to run as root: run the server as the `postgres` user then.
        let run_as_postgres = unsafe { libc_geteuid() } == 0;
        let dir = tempfile::Builder::new()
            .prefix("holdfast-pg")
            .tempdir()
            .unwrap();
        let data = dir.path().join("data");
        let socket = dir.path().join("socket");
        std::fs::create_dir(&socket).unwrap();
        if run_as_postgres {
            chown_to_postgres(dir.path());
            chown_to_postgres(&socket);
        }
        let port = free_port();
        let mut pg = TestPostgres {
            dir,
            child: None,
            bin,
            run_as_postgres,
            port,
            next_db: Default::default(),
        };
        let status = pg
            .command("initdb")
            .args([
                "-D",
                data.to_str().unwrap(),
                "-U",
                "holdfast",
                "--auth=trust",
                "-E",
                "UTF8",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("initdb runs");
        assert!(status.success(), "initdb failed");
        pg.start_server();
        Some(pg)
    }

    fn command(&self, tool: &str) -> Command {
        use std::os::unix::process::CommandExt;
        let mut c = Command::new(self.bin.join(tool));
        if self.run_as_postgres {
            let (uid, gid) = postgres_ids();
            c.uid(uid).gid(gid).env("HOME", self.dir.path());
        }
        c
    }

    fn start_server(&mut self) {
        let data = self.dir.path().join("data");
        let socket = self.dir.path().join("socket");
        let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
        let mut cmd = self.command("postgres");
        cmd.args([
            "-D",
            data.to_str().unwrap(),
            "-p",
            &self.port.to_string(),
            "-k",
        ])
        .arg(&socket)
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=300",
        ])
        .stdout(Stdio::null())
        .stderr(log);
        let child = cmd.spawn().expect("postgres starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                let ready = self
                    .command("pg_isready")
                    .args([
                        "-h",
                        "127.0.0.1",
                        "-p",
                        &self.port.to_string(),
                        "-U",
                        "holdfast",
                    ])
                    .stdout(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                if ready {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "postgres did not start: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// A new empty database on this server, as a URL.
    pub fn fresh_database(&self) -> String {
        let n = self
            .next_db
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("t{n}");
        let status = self
            .command("createdb")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "holdfast",
                &name,
            ])
            .status()
            .expect("createdb runs");
        assert!(status.success(), "createdb {name} failed");
        format!("postgres://holdfast@127.0.0.1:{}/{name}", self.port)
    }

    /// Stops the server (fast shutdown), as an outage would.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            unsafe { libc_kill(child.id() as i32, 2) };
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and data.
    pub fn restart(&mut self) {
        self.stop();
        self.start_server();
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `postgres` user's uid and gid, from /etc/passwd.
fn postgres_ids() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&"postgres") && f.len() > 3)
                .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
                .flatten()
        })
        .expect("running as root needs the postgres user the postgresql package makes")
}

fn chown_to_postgres(path: &Path) {
    let status = Command::new("chown")
        .args(["postgres:postgres"])
        .arg(path)
        .status()
        .expect("chown runs");
    assert!(status.success());
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
