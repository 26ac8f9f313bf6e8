//! `holdfast authz` as a real dockerd's authorization plugin: a second dockerd started by
//! the test (its own data root, exec root, socket and containerd namespace) asks the
//! plugin about every API call. A container create of an image with a weak root
//! password is denied with holdfast's message on the docker CLI's stderr, a clean one is
//! allowed; pushes and pulls against a local registry follow their policies; a scan
//! that misses the deadline answers by the fail mode; and a plugin killed mid-request
//! shows what dockerd does then. Every process started here is stopped by its PID.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::*;
use crate::dockerd::{cmdline, own_bridge, read_pid, terminate};
use crate::registry;

/// The deadline of an answer in these tests.
const TIMEOUT_SECS: u64 = 8;

/// Processes and files the test made, stopped and removed when dropped (even when an
/// assertion failed), each by its PID or path.
struct Guard {
    plugin: Option<Child>,
    dockerd: Option<Child>,
    socket: PathBuf,
    /// Where the test plugin records the PIDs of its sleepers.
    pid_dir: PathBuf,
    exec_root: PathBuf,
    /// The test dockerd's own bridge, deleted at the end.
    bridge: Option<String>,
}

impl Guard {
    fn stop_plugin(&mut self) {
        if let Some(mut c) = self.plugin.take() {
            terminate(&mut c, Duration::from_secs(5));
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut d) = self.dockerd.take() {
            terminate(&mut d, Duration::from_secs(20));
        }
        // dockerd stops its containerd; one left behind by a killed dockerd is stopped
        // here by the PID it recorded.
        let containerd_pid = self.exec_root.join("containerd/containerd.pid");
        if let Some(pid) = read_pid(&containerd_pid) {
            if cmdline(pid).contains("containerd") {
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        self.stop_plugin();
        if let Ok(entries) = std::fs::read_dir(&self.pid_dir) {
            for e in entries.flatten() {
                if let Some(pid) = read_pid(&e.path()) {
                    if cmdline(pid).contains("sleep") {
                        unsafe { libc::kill(pid, libc::SIGKILL) };
                    }
                }
            }
        }
        let _ = std::fs::remove_file(&self.socket);
        if let Some(b) = self.bridge.take() {
            let _ = Command::new("ip").args(["link", "del", &b]).status();
        }
    }
}

fn mkpasswd(password: &str) -> String {
    let mut child = Command::new("mkpasswd")
        .args(["--method=sha512crypt", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A `docker save`-style archive whose image has the given tags.
fn archive(path: &Path, layers: &[Vec<u8>], tags: &[String]) {
    let cfg = config(layers, "amd64");
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, name, data).unwrap();
    };
    let cfg_name = format!("{}.json", &sha256(&cfg)[7..]);
    add(&cfg_name, &cfg);
    let mut names = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let name = format!("l{i}/layer.tar");
        add(&name, l);
        names.push(name);
    }
    let manifest = serde_json::json!([{"Config": cfg_name, "RepoTags": tags, "Layers": names}]);
    add("manifest.json", &serde_json::to_vec(&manifest).unwrap());
    b.into_inner().unwrap().flush().unwrap();
}

/// An image whose root password is `shadow_root` (a crypt hash, or `*`).
fn image_layer(shadow_root: &str, marker: &str) -> Vec<u8> {
    layer(&[
        E::Dir("etc"),
        f("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
        f(
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
        ),
        E::File(
            "etc/shadow",
            format!("root:{shadow_root}:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n")
                .into_bytes(),
        ),
        f("etc/marker", marker),
    ])
}

/// A plugin (holdfast's plugin protocol) that takes a minute: it records its PID for
/// the guard, then sleeps.
fn slow_plugin(dir: &Path, pid_dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join("slow");
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\n[ \"$1\" = info ] && {{ echo '{{\"protocol\":1,\"name\":\"slow\",\"version\":\"1.0\",\"commands\":[\"scan/image\"],\"kinds\":[\"misconfiguration\"]}}'; exit 0; }}\necho $$ > {}/slow-$$\ncat >/dev/null\nexec sleep 60\n",
            pid_dir.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Collects the bodies POSTed to it, one per connection, answering 200.
fn webhook() -> (String, mpsc::Receiver<serde_json::Value>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        break Some(body[..len].to_string());
                    }
                }
            };
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            if let Some(v) = body.and_then(|b| serde_json::from_str(&b).ok()) {
                if tx.send(v).is_err() {
                    return;
                }
            }
        }
    });
    (url, rx)
}

struct Setup<'a> {
    dir: &'a Path,
    socket: &'a Path,
    docker_sock: &'a Path,
    registry: &'a str,
    webhook: &'a str,
}

/// The plugin's config: veinmind-runner's tables (with its misspelling) and holdfast's.
fn write_config(s: &Setup<'_>, push_blocks: bool, fail_mode: &str) -> PathBuf {
    let text = format!(
        r#"[log]
plugin_log_path = "{dir}/plugin.log"
report_log_path = "{dir}/auth.log"

[listener]
listener_addr = "{socket}"

[[policies]]
action = "container_create"
enabled_plugins = ["weak-password"]
risk_level_filter = ["High", "Critical"]
block = true
alert = true

[[policies]]
action = "image_create"
enabled_plugins = ["veinmind-weakpass"]
plugin_paramas = ["veinmind-weakpass:scan.serviceName=ssh"]
risk_level_filter = ["Critical"]
block = true
alert = true

[[policies]]
action = "image_push"
enabled_plugins = ["weak-password"]
block = {push_blocks}
alert = true

[[policies]]
action = "image_tag"
enabled_plugins = ["slow"]
block = true

[holdfast]
fail_mode = "{fail_mode}"
timeout = "{TIMEOUT_SECS}s"
scan_timeout = "40s"
weak_password_timeout = "4s"
docker_host = "unix://{docker_sock}"
insecure_registries = ["{registry}"]
cache_dir = "{dir}/cache"
plugin_dirs = ["{dir}/plugins"]
alert_webhook = "{webhook}"
log_uncovered = true
"#,
        dir = s.dir.display(),
        socket = s.socket.display(),
        docker_sock = s.docker_sock.display(),
        registry = s.registry,
        webhook = s.webhook,
    );
    let p = s.dir.join(format!("authz-{push_blocks}-{fail_mode}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

/// Starts `holdfast authz -c CONFIG` and waits for its socket to answer.
fn start_plugin(config: &Path, socket: &Path, log: &Path) -> Child {
    let _ = std::fs::remove_file(socket);
    let mut child = holdfast()
        .args(["authz", "-c", &path_str(config)])
        .env_remove("DOCKER_HOST")
        .env_remove("HOLDFAST_PLUGIN_PATH")
        .env("DOCKER_CONFIG", log.parent().unwrap())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    while std::os::unix::net::UnixStream::connect(socket).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "holdfast authz exited ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < until, "the plugin did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn docker(host: &str, config_dir: &Path, args: &[&str]) -> Output {
    Command::new("docker")
        .arg("-H")
        .arg(host)
        .args(args)
        .env("DOCKER_CONFIG", config_dir)
        .env_remove("DOCKER_HOST")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The plugin's logs, for failure messages.
fn logs(dir: &Path) -> String {
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap_or_default();
    format!(
        "auth.log:\n{}\nplugin.log:\n{}",
        read("auth.log"),
        read("plugin.log")
    )
}

fn auth_log(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("auth.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn ready() -> bool {
    let tools = ["dockerd", "docker", "docker-registry", "mkpasswd", "ip"]
        .iter()
        .all(|t| have_tool(t));
    if !tools {
        return false;
    }
    if unsafe { libc::geteuid() } != 0 {
        assert!(
            !full_tests(),
            "HOLDFAST_FULL_TESTS=1 but the authz test needs root (dockerd, /run/docker/plugins)"
        );
        eprintln!("skipped: the authz test needs root");
        return false;
    }
    true
}

#[test]
fn dockerd_asks_holdfast_before_creating_pulling_and_pushing() {
    if !ready() {
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("hfa")
        .tempdir_in("/tmp")
        .unwrap();
    let dir = tmp.path();
    let pid = std::process::id();
    let plugin_name = format!("holdfast-test-{pid}");
    let socket = PathBuf::from(format!("/run/docker/plugins/{plugin_name}.sock"));
    let docker_sock = dir.join("docker.sock");
    let host = format!("unix://{}", docker_sock.display());
    let pid_dir = dir.join("pids");
    std::fs::create_dir_all(&pid_dir).unwrap();
    let client_config = dir.join("client");
    std::fs::create_dir_all(&client_config).unwrap();
    let mut guard = Guard {
        plugin: None,
        dockerd: None,
        socket: socket.clone(),
        pid_dir: pid_dir.clone(),
        exec_root: dir.join("exec"),
        bridge: None,
    };

    let reg = registry::start_with("");
    let (hook_url, hook) = webhook();
    slow_plugin(&dir.join("plugins"), &pid_dir);
    let setup = Setup {
        dir,
        socket: &socket,
        docker_sock: &docker_sock,
        registry: &reg.host,
        webhook: &hook_url,
    };

    // The images: root's password is 123456 in one, locked in the other.
    let weak_tags = vec![
        "holdfast-test/weak:1".to_string(),
        format!("{}/holdfast-test/weak:1", reg.host),
    ];
    let clean_tags = vec![
        "holdfast-test/clean:1".to_string(),
        format!("{}/holdfast-test/clean:1", reg.host),
    ];
    let weak = dir.join("weak.tar");
    archive(
        &weak,
        &[image_layer(&mkpasswd("123456"), "weak")],
        &weak_tags,
    );
    let clean = dir.join("clean.tar");
    archive(&clean, &[image_layer("*", "clean")], &clean_tags);

    // The plugin first (dockerd checks its authorization plugins when it starts), then
    // a dockerd of the test's own.
    let config_a = write_config(&setup, false, "closed");
    guard.plugin = Some(start_plugin(&config_a, &socket, &dir.join("plugin-a.err")));
    std::fs::write(dir.join("daemon.json"), "{}").unwrap();
    let bridge = own_bridge();
    guard.bridge = Some(bridge.clone());
    let dockerd_log = std::fs::File::create(dir.join("dockerd.log")).unwrap();
    guard.dockerd = Some(
        Command::new("dockerd")
            .arg("--data-root")
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(dir.join("docker.pid"))
            .arg("--config-file")
            .arg(dir.join("daemon.json"))
            .args(["-H", &host, "--iptables=false"])
            .arg(format!("--bridge={bridge}"))
            .args(["--containerd-namespace", &plugin_name])
            .args([
                "--containerd-plugins-namespace",
                &format!("{plugin_name}-plugins"),
            ])
            .arg(format!("--authorization-plugin={plugin_name}"))
            .stdout(Stdio::null())
            .stderr(dockerd_log)
            .spawn()
            .unwrap(),
    );
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let v = docker(
            &host,
            &client_config,
            &["version", "--format", "{{.Server.Version}}"],
        );
        if v.status.success() {
            break;
        }
        if let Some(Ok(Some(status))) = guard.dockerd.as_mut().map(|d| d.try_wait()) {
            panic!(
                "dockerd exited ({status}): {}",
                std::fs::read_to_string(dir.join("dockerd.log")).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < until,
            "dockerd did not answer: {}",
            std::fs::read_to_string(dir.join("dockerd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let d = |args: &[&str]| docker(&host, &client_config, args);

    // `docker load` is no policy's operation: allowed without a scan.
    for a in [&weak, &clean] {
        let o = d(&["load", "-i", &path_str(a)]);
        assert!(o.status.success(), "{}", text(&o));
    }

    // Creating a container from the weak image is denied; the CLI shows why.
    let t = Instant::now();
    let o = d(&["create", "--name", "hf-weak", "holdfast-test/weak:1"]);
    let took = t.elapsed();
    assert!(!o.status.success(), "{}\n{}", text(&o), logs(dir));
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        stderr.contains(&format!(
            "authorization denied by plugin {plugin_name}: holdfast: blocked holdfast-test/weak:1 (container_create): HF-WEAKPW-SHADOW (CRITICAL) /etc/shadow: Account root has a guessable password"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("123456"), "{stderr}");
    eprintln!("denied create in {took:?}: {}", stderr.trim());
    // A clean one is allowed.
    let o = d(&["create", "--name", "hf-clean", "holdfast-test/clean:1"]);
    assert!(o.status.success(), "{}", text(&o));
    // Denied again from the cache.
    let t = Instant::now();
    let o = d(&["create", "holdfast-test/weak:1"]);
    assert!(!o.status.success());
    eprintln!("denied again (cached) in {:?}", t.elapsed());
    // An image the daemon does not have: the plugin allows, the daemon refuses.
    let o = d(&["create", "--pull=never", "holdfast-test/nowhere:1"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success()
            && !err.contains("authorization denied")
            && err.contains("No such image"),
        "{}",
        text(&o)
    );

    // Pushes: this policy alerts without blocking, so both images reach the registry.
    for tag in [&weak_tags[1], &clean_tags[1]] {
        let o = d(&["push", tag]);
        assert!(o.status.success(), "push {tag}: {}", text(&o));
    }
    // Pulls straight from the registry: the weak image is denied, the clean one allowed.
    for tag in [&weak_tags[1], &clean_tags[1]] {
        let o = d(&["rmi", tag]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let o = d(&["pull", &weak_tags[1]]);
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "holdfast: blocked {} (image_create): HF-WEAKPW-SHADOW",
            weak_tags[1]
        )),
        "{err}"
    );
    let o = d(&["pull", &clean_tags[1]]);
    assert!(o.status.success(), "{}", text(&o));

    // A scan that misses the deadline (a plugin that sleeps a minute) is denied by the
    // default fail mode, within the deadline.
    let t = Instant::now();
    let o = d(&["tag", "holdfast-test/clean:1", "holdfast-test/clean:slow"]);
    let took = t.elapsed();
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "did not finish within {TIMEOUT_SECS}s (fail_mode = closed)"
        )),
        "{err}"
    );
    assert!(
        took < Duration::from_secs(TIMEOUT_SECS + 4),
        "answered after {took:?}"
    );

    // The plugin killed while dockerd waits for its answer: dockerd cannot reach it and
    // fails the request (after retrying): fail-closed by the daemon, whatever the
    // plugin's own fail mode.
    let (tx, rx) = mpsc::channel();
    let (h, cfg) = (host.clone(), client_config.clone());
    std::thread::spawn(move || {
        let t = Instant::now();
        let o = docker(
            &h,
            &cfg,
            &["tag", "holdfast-test/clean:1", "holdfast-test/clean:kill"],
        );
        let _ = tx.send((o, t.elapsed()));
    });
    std::thread::sleep(Duration::from_secs(2));
    let killed_at = Instant::now();
    if let Some(mut p) = guard.plugin.take() {
        p.kill().unwrap();
        p.wait().unwrap();
    }
    let (o, took) = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("docker tag hung after the plugin died");
    let after_kill = killed_at.elapsed();
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(err.contains(&plugin_name), "{err}");
    eprintln!(
        "plugin killed mid-request: docker tag failed {after_kill:?} after the kill ({took:?} in all): {}",
        err.trim()
    );

    // Restarted with blocking pushes and fail-open: the killed request left no tag, a
    // late scan is now allowed, and the weak push is denied.
    let config_b = write_config(&setup, true, "open");
    guard.plugin = Some(start_plugin(&config_b, &socket, &dir.join("plugin-b.err")));
    let o = d(&["image", "inspect", "holdfast-test/clean:kill"]);
    assert!(!o.status.success(), "{}", text(&o));
    let t = Instant::now();
    let o = d(&["tag", "holdfast-test/clean:1", "holdfast-test/clean:open"]);
    let took = t.elapsed();
    assert!(o.status.success(), "fail-open: {}", text(&o));
    assert!(
        took >= Duration::from_secs(TIMEOUT_SECS - 1)
            && took < Duration::from_secs(TIMEOUT_SECS + 4),
        "answered after {took:?}"
    );
    // The pushed tag comes back with a load (no policy covers loads).
    let o = d(&["load", "-i", &path_str(&weak)]);
    assert!(o.status.success(), "{}", text(&o));
    let o = d(&["push", &weak_tags[1]]);
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "holdfast: blocked {} (image_push): HF-WEAKPW-SHADOW",
            weak_tags[1]
        )),
        "{err}"
    );
    guard.stop_plugin();

    // The auth log: one JSON line per decision, alerts after.
    let log = auth_log(dir);
    let denied = log
        .iter()
        .find(|e| e["event"] == "decision" && e["action"] == "container_create")
        .unwrap();
    assert_eq!(denied["verdict"], "deny");
    assert_eq!(denied["image"], "holdfast-test/weak:1");
    assert!(denied["reason"]
        .as_str()
        .unwrap()
        .contains("HF-WEAKPW-SHADOW"));
    assert!(denied["elapsed_ms"].is_u64());
    assert!(denied["user"].is_string());
    assert!(log.iter().any(|e| e["action"] == "container_create"
        && e["verdict"] == "deny"
        && e["cached"] == true));
    let pull = log
        .iter()
        .find(|e| e["event"] == "decision" && e["action"] == "image_create")
        .unwrap();
    assert_eq!(pull["verdict"], "deny");
    assert_eq!(pull["cached"], false);
    // Alerts also went to the webhook: the denied create, the allowed weak push.
    let mut alerts = Vec::new();
    while let Ok(a) = hook.recv_timeout(Duration::from_secs(2)) {
        alerts.push(a);
    }
    assert!(
        alerts
            .iter()
            .any(|a| a["action"] == "container_create" && a["blocked"] == true),
        "{alerts:?}"
    );
    assert!(
        alerts
            .iter()
            .any(|a| a["action"] == "image_push" && a["blocked"] == false),
        "{alerts:?}"
    );
    let plugin_log = std::fs::read_to_string(dir.join("plugin.log")).unwrap();
    assert!(plugin_log.contains("plugin_paramas"), "{plugin_log}");
}
