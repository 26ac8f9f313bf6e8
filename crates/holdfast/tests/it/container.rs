//! `scan container` against a real Docker daemon: containers created from an image
//! imported by the test with risky settings, each found through the Engine API; a
//! hardened one with no escape finding; a running one whose process list holds a
//! reverse-shell-looking command line. Every container made here is removed by id.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::*;

const IMAGE: &str = "holdfast-test/escape-min:1";

fn docker(args: &[&str]) -> (bool, String, String) {
    let out = Command::new("docker").args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

fn daemon_ready() -> bool {
    let (ok, _, _) = docker(&["version", "--format", "{{.Server.Version}}"]);
    if !ok {
        assert!(
            !full_tests(),
            "HOLDFAST_FULL_TESTS=1 but no Docker daemon answers"
        );
        eprintln!("skipped: no Docker daemon");
    }
    ok
}

/// Imports a tiny image: the host's `sh`, `sleep` and their libraries, nothing setuid.
fn import_image() {
    let mut b = tar::Builder::new(Vec::new());
    for p in runtime_files() {
        b.append_path_with_name(&p, p.trim_start_matches('/'))
            .unwrap();
    }
    for dir in ["tmp", "etc", "proc", "sys", "dev"] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(if dir == "tmp" { 0o1777 } else { 0o755 });
        h.set_size(0);
        b.append_data(&mut h, dir, std::io::empty()).unwrap();
    }
    let bytes = b.into_inner().unwrap();
    let mut child = Command::new("docker")
        .args(["import", "-", IMAGE])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    assert!(child.wait().unwrap().success(), "docker import failed");
}

/// Removes the containers it holds when dropped, by id, even when an assertion failed.
struct Containers(Vec<String>);

impl Containers {
    fn create(&mut self, args: &[&str]) -> String {
        let mut all = vec!["create"];
        all.extend_from_slice(args);
        let (ok, id, err) = docker(&all);
        assert!(ok, "docker create {args:?}: {err}");
        self.0.push(id.clone());
        id
    }
}

impl Drop for Containers {
    fn drop(&mut self) {
        for id in &self.0 {
            let _ = docker(&["rm", "-f", id]);
        }
    }
}

fn scan(target: &[&str]) -> serde_json::Value {
    let out = holdfast()
        .args([
            "scan",
            "container",
            "--no-cache",
            "-f",
            "json",
            "--scanners",
            "escape,history,suid",
        ])
        .args(target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn escape_ids(target: &serde_json::Value) -> Vec<String> {
    target["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "escape")
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn created_and_running_containers_through_the_engine_api() {
    if !(have_tool("docker") && have_tool("ldd") && daemon_ready()) {
        return;
    }
    import_image();
    let mut made = Containers(Vec::new());
    let tag = std::process::id();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--privileged".into()], "HF-ESCAPE-PRIVILEGED"),
        (
            vec![
                "-v".into(),
                "/var/run/docker.sock:/var/run/docker.sock".into(),
            ],
            "HF-ESCAPE-DOCKER-SOCK",
        ),
        (
            vec!["--cap-add".into(), "SYS_ADMIN".into()],
            "HF-ESCAPE-CAP-SYS_ADMIN",
        ),
        (vec!["--pid".into(), "host".into()], "HF-ESCAPE-HOST-PID"),
        (
            vec!["-v".into(), "/:/host".into()],
            "HF-ESCAPE-HOST-MOUNT-ROOT",
        ),
    ];
    let mut names = Vec::new();
    for (i, (flags, expected)) in cases.iter().enumerate() {
        let name = format!("hf-escape-{tag}-{i}");
        let mut args: Vec<&str> = vec!["--name", &name];
        args.extend(flags.iter().map(String::as_str));
        args.extend([IMAGE, "/bin/sleep", "600"]);
        made.create(&args);
        let r = scan(&[&name]);
        let t = &r["targets"][0];
        assert_eq!(t["kind"], "container");
        assert_eq!(t["name"], name.as_str());
        let ids = escape_ids(t);
        assert!(
            ids.iter().any(|id| id == expected),
            "{flags:?}: expected {expected} in {ids:?}"
        );
        names.push(name);
    }

    // Hardened: unprivileged user, no capabilities, no new privileges, read-only root.
    let hardened = format!("hf-escape-{tag}-hardened");
    made.create(&[
        "--name",
        &hardened,
        "--user",
        "1000:1000",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--read-only",
        IMAGE,
        "/bin/sleep",
        "600",
    ]);
    let r = scan(&[&hardened]);
    assert_eq!(escape_ids(&r["targets"][0]), Vec::<String>::new());

    // A running container whose process list holds a reverse-shell command line: the
    // shell waits in `sleep`, so the line is visible to `top` and never runs.
    let running = format!("hf-escape-{tag}-running");
    let id = made.create(&[
        "--name",
        &running,
        IMAGE,
        "/bin/sh",
        "-c",
        "sleep 600; bash -i > /dev/tcp/127.0.0.1/9 0>&1",
    ]);
    let (ok, _, err) = docker(&["start", &id]);
    assert!(ok, "docker start: {err}");
    let r = scan(&[&running]);
    let ids = escape_ids(&r["targets"][0]);
    assert!(
        ids.contains(&"HF-ESCAPE-PROC-REVERSE-SHELL".to_string()),
        "top should show the reverse shell: {ids:?}"
    );
    assert!(!ids.contains(&"HF-ESCAPE-PROC-MINER".to_string()));

    // --all: one target per container, ours among them.
    let r = scan(&["--all"]);
    let scanned: Vec<&str> = r["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for n in names.iter().chain([&hardened, &running]) {
        assert!(
            scanned.contains(&n.as_str()),
            "{n} missing from --all: {scanned:?}"
        );
    }
    drop(made);
    let _ = docker(&["rmi", IMAGE]);
}

/// Plugins that answer `scan/container` read the container's filesystem as it is now:
/// a file the running process wrote is there.
#[test]
fn plugins_read_a_running_containers_filesystem() {
    if !(have_tool("docker") && have_tool("ldd") && have_tool("python3") && daemon_ready()) {
        return;
    }
    import_image();
    let mut made = Containers(Vec::new());
    let name = format!("hf-plugin-{}", std::process::id());
    let id = made.create(&[
        "--name",
        &name,
        IMAGE,
        "/bin/sh",
        "-c",
        "echo API_TOKEN=from-the-container > /tmp/.env; sleep 600",
    ]);
    let (ok, _, err) = docker(&["start", &id]);
    assert!(ok, "docker start: {err}");
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !docker(&["exec", &id, "/bin/sh", "-c", "[ -f /tmp/.env ]"]).0 {
        assert!(
            std::time::Instant::now() < until,
            "the container never wrote /tmp/.env"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let out = holdfast()
        .args([
            "scan",
            "container",
            "--no-cache",
            "-f",
            "json",
            "--scanners",
            "secret",
        ])
        .arg(&name)
        .args(["--plugins", "env-files", "--plugin-dir"])
        .arg(repo_root().join("plugins/examples"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &r["targets"][0];
    assert_eq!(t["plugins"][0]["name"], "env-files");
    assert_eq!(t["plugins"][0]["status"], "ok", "{}", t["plugins"]);
    let found: Vec<&str> = t["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["source"] == "plugin/env-files")
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(found, vec!["/tmp/.env"]);
}

/// Creates an exec session in a running container through the Engine API without starting
/// it (this machine cannot start a privileged one; the daemon keeps it all the same).
fn create_exec(container: &str, body: &str) {
    use std::io::Read;
    let mut s = std::os::unix::net::UnixStream::connect("/var/run/docker.sock").unwrap();
    write!(
        s,
        "POST /containers/{container}/exec HTTP/1.0\r\nHost: docker\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.contains(" 201 "), "exec create: {reply}");
}

/// CIS Docker 5.23 and 5.24 from the sessions the daemon holds: a running container with
/// a `--privileged` exec session and one run as uid 0 fails both; a container whose only
/// session runs as another user passes both.
#[test]
fn misconfig_finds_privileged_and_root_exec_sessions() {
    if !(have_tool("docker") && have_tool("ldd") && daemon_ready()) {
        return;
    }
    import_image();
    let mut made = Containers(Vec::new());
    let tag = std::process::id();
    let mut run = |name: &str| {
        let id = made.create(&["--name", name, IMAGE, "/bin/sleep", "600"]);
        let (ok, _, err) = docker(&["start", &id]);
        assert!(ok, "docker start: {err}");
        id
    };
    let risky = format!("hf-exec-{tag}-risky");
    let quiet = format!("hf-exec-{tag}-quiet");
    let risky_id = run(&risky);
    let quiet_id = run(&quiet);
    let (ok, _, err) = docker(&["exec", "-d", "-u", "0", &risky_id, "/bin/sleep", "600"]);
    assert!(ok, "docker exec: {err}");
    create_exec(&risky_id, r#"{"Cmd":["/bin/sleep","1"],"Privileged":true}"#);
    let (ok, _, err) = docker(&["exec", "-d", "-u", "1000", &quiet_id, "/bin/sleep", "600"]);
    assert!(ok, "docker exec: {err}");

    let verdicts = |name: &str| {
        crate::compliance::statuses(&run_json(holdfast().args([
            "scan",
            "container",
            name,
            "--scanners",
            "misconfig",
            "-f",
            "json",
        ])))
    };
    let (status, evidence) = verdicts(&risky);
    assert_eq!(status["CIS-DOCKER-5.23"], "WARN", "{evidence:?}");
    assert!(
        evidence["CIS-DOCKER-5.23"].contains("/bin/sleep 1"),
        "{evidence:?}"
    );
    assert_eq!(status["CIS-DOCKER-5.24"], "WARN", "{evidence:?}");
    assert!(
        evidence["CIS-DOCKER-5.24"].contains("runs as user 0"),
        "{evidence:?}"
    );
    let (status, evidence) = verdicts(&quiet);
    assert_eq!(status["CIS-DOCKER-5.23"], "PASS", "{evidence:?}");
    assert_eq!(status["CIS-DOCKER-5.24"], "PASS", "{evidence:?}");
}
