//! A dockerd of a test's own: its data root, exec root, socket, bridge and containerd
//! namespace, stopped (with the containerd it started) by its PID when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A running test dockerd.
pub struct TestDaemon {
    child: Option<Child>,
    exec_root: PathBuf,
    bridge: Option<String>,
    /// `unix://...` for DOCKER_HOST and `docker -H`.
    pub host: String,
    /// A docker CLI config directory of the test's own.
    pub client_config: PathBuf,
}

impl TestDaemon {
    /// Starts dockerd under `dir` with `daemon.json` as its config file and `extra`
    /// flags; waits until its API answers.
    pub fn start(dir: &Path, daemon_json: &str, extra: &[String]) -> TestDaemon {
        let config = dir.join("daemon.json");
        std::fs::write(&config, daemon_json).unwrap();
        let client_config = dir.join("client");
        std::fs::create_dir_all(&client_config).unwrap();
        let namespace = format!("holdfast-test-{}", std::process::id());
        let mut daemon = TestDaemon {
            child: None,
            exec_root: dir.join("exec"),
            bridge: Some(own_bridge()),
            host: format!("unix://{}", dir.join("docker.sock").display()),
            client_config,
        };
        let log = std::fs::File::create(dir.join("dockerd.log")).unwrap();
        daemon.child = Some(
            Command::new("dockerd")
                .arg("--data-root")
                .arg(dir.join("data"))
                .arg("--exec-root")
                .arg(&daemon.exec_root)
                .arg("--pidfile")
                .arg(dir.join("docker.pid"))
                .arg("--config-file")
                .arg(&config)
                .args(["-H", &daemon.host, "--iptables=false"])
                .arg(format!("--bridge={}", daemon.bridge.as_deref().unwrap()))
                .args(["--containerd-namespace", &namespace])
                .args([
                    "--containerd-plugins-namespace",
                    &format!("{namespace}-plugins"),
                ])
                .args(extra)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if daemon
                .docker(&["version", "--format", "{{.Server.Version}}"])
                .status
                .success()
            {
                return daemon;
            }
            let log = || std::fs::read_to_string(dir.join("dockerd.log")).unwrap_or_default();
            if let Some(Ok(Some(status))) = daemon.child.as_mut().map(|d| d.try_wait()) {
                panic!("dockerd exited ({status}): {}", log());
            }
            assert!(Instant::now() < until, "dockerd did not answer: {}", log());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Runs the docker CLI against this daemon.
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .arg("--config")
            .arg(&self.client_config)
            .args(["-H", &self.host])
            .args(args)
            .output()
            .unwrap()
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        if let Some(mut d) = self.child.take() {
            terminate(&mut d, Duration::from_secs(20));
        }
        // dockerd stops its containerd; one left behind by a killed dockerd is stopped
        // here by the PID it recorded.
        if let Some(pid) = read_pid(&self.exec_root.join("containerd/containerd.pid")) {
            if cmdline(pid).contains("containerd") {
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        if let Some(b) = self.bridge.take() {
            let _ = Command::new("ip").args(["link", "del", &b]).status();
        }
    }
}

/// A bridge of the test's own for its dockerd. With `--bridge=none` dockerd deletes the
/// host's `docker0` when it starts, which breaks the host daemon's containers (the
/// container tests run at the same time); a named bridge leaves `docker0` alone.
pub fn own_bridge() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let pid = std::process::id();
    let name = format!("hfb{}x{n}", pid % 100_000);
    let subnet = format!("10.{}.{}.1/24", 213 + n % 20, pid % 250);
    let ip = |args: &[&str]| {
        let out = Command::new("ip").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "ip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let _ = Command::new("ip").args(["link", "del", &name]).output();
    ip(&["link", "add", &name, "type", "bridge"]);
    ip(&["addr", "add", &subnet, "dev", &name]);
    ip(&["link", "set", &name, "up"]);
    name
}

pub fn read_pid(p: &Path) -> Option<i32> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

pub fn cmdline(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// SIGTERM, then SIGKILL after `grace`.
pub fn terminate(c: &mut Child, grace: Duration) {
    unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
    let until = Instant::now() + grace;
    while Instant::now() < until {
        if let Ok(Some(_)) = c.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = c.kill();
    let _ = c.wait();
}
