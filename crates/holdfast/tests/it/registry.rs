//! The real distribution registry (Debian's `docker-registry`) on loopback, filled with
//! `skopeo copy` from images built here: `registry:` must read what the archives say,
//! credentials must work and never leak, broken blobs must fail clearly, and a registry
//! scan must read a shared layer once.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

pub(crate) const USER: &str = "scanner";
pub(crate) const PASSWORD: &str = "pw-Tr0ub4dor-reg";

/// A registry process started by the test, stopped (by its PID) when dropped.
pub(crate) struct Registry {
    child: Child,
    pub(crate) host: String,
    storage: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) struct Tls {
    pub(crate) ca: PathBuf,
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
    htpasswd: PathBuf,
}

pub(crate) fn tools_ready(extra: &[&str]) -> bool {
    ["docker-registry", "skopeo"]
        .iter()
        .chain(extra)
        .all(|t| have_tool(t))
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn start(tls: Option<&Tls>) -> Registry {
    let extra = match tls {
        Some(t) => format!(
            "  tls:\n    certificate: {}\n    key: {}\nauth:\n  htpasswd:\n    realm: holdfast-test\n    path: {}\n",
            t.cert.display(),
            t.key.display(),
            t.htpasswd.display()
        ),
        None => String::new(),
    };
    start_with(&extra)
}

/// A registry whose configuration ends with `extra` (YAML under `http:` first, then
/// top-level sections such as `auth:`).
pub(crate) fn start_with(extra: &str) -> Registry {
    let dir = temp();
    let storage = dir.path().join("storage");
    let port = free_port();
    let mut config = format!(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
        storage.display()
    );
    config.push_str(extra);
    let cfg = dir.path().join("config.yml");
    std::fs::write(&cfg, config).unwrap();
    let mut child = Command::new("docker-registry")
        .args(["serve", &path_str(&cfg)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "docker-registry exited at start"
        );
        assert!(Instant::now() < deadline, "docker-registry did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Registry {
        child,
        host: format!("127.0.0.1:{port}"),
        storage,
        _dir: dir,
    }
}

pub(crate) fn sh(cmd: &str) {
    let out = Command::new("sh").args(["-c", cmd]).output().unwrap();
    assert!(
        out.status.success(),
        "`{cmd}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate for 127.0.0.1 signed by it, and an htpasswd file.
pub(crate) fn make_tls(dir: &Path) -> Tls {
    let d = path_str(dir);
    sh(&format!(
        "cd '{d}' && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=holdfast-test-ca 2>/dev/null \
         && openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 2>/dev/null \
         && printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > ext \
         && openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext 2>/dev/null \
         && htpasswd -Bbn {USER} {PASSWORD} > htpasswd"
    ));
    Tls {
        ca: dir.join("ca.pem"),
        cert: dir.join("srv.pem"),
        key: dir.join("srv.key"),
        htpasswd: dir.join("htpasswd"),
    }
}

/// `skopeo copy` into the registry (plain HTTP or TLS without verification, with creds).
pub(crate) fn push(reg: &Registry, from: &str, to: &str, extra: &[&str]) {
    let out = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false"])
        .args(extra)
        .arg(from)
        .arg(format!("docker://{}/{to}", reg.host))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo copy {from}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The shared base and an app layer of its own.
pub(crate) fn app_layers(name: &str) -> Vec<Vec<u8>> {
    vec![
        debian_base(&[("libc6", "2.36-9+deb12u4"), ("zlib1g", "1:1.2.13.dfsg-1")]),
        layer(&[E::File(
            &format!("usr/lib/python3/dist-packages/{name}-1.0.dist-info/METADATA"),
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n").into_bytes(),
        )]),
    ]
}

pub(crate) fn run_holdfast(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut cmd = holdfast();
    cmd.args(args)
        // No user Docker credentials in the tests.
        .env("DOCKER_CONFIG", env!("CARGO_TARGET_TMPDIR"))
        .env_remove("HOLDFAST_REGISTRY_TOKEN")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

pub(crate) fn json_ok(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "holdfast failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn open_registry_equals_archives_index_zstd_and_fleet_scan() {
    if !tools_ready(&[]) {
        return;
    }
    let reg = start(None);
    let d = temp();
    let insecure = ["--insecure-registry", reg.host.as_str()];

    // A docker-archive (gzip), pushed and read back.
    let archive = d.path().join("app.tar");
    docker_archive(&archive, &app_layers("alpha"), Z::Gzip, &[]);
    push(
        &reg,
        &format!("docker-archive:{}", path_str(&archive)),
        "team/app:1",
        &[],
    );
    let (local, _) = sbom_json(&format!("docker-archive:{}", path_str(&archive)), &[]);
    let remote_ref = format!("registry:{}/team/app:1", reg.host);
    let remote = json_ok(&run_holdfast(
        &[
            "sbom",
            "-f",
            "json",
            "--no-cache",
            &remote_ref,
            insecure[0],
            insecure[1],
        ],
        None,
        &[],
    ));
    assert_eq!(package_list(&remote), package_list(&local));
    assert!(package_list(&remote).contains(&"alpha=1.0".to_string()));
    assert_eq!(remote["targets"][0]["layers"].as_array().unwrap().len(), 2);
    // A bare host/repo:tag resolves to the registry too.
    let bare = format!("{}/team/app:1", reg.host);
    let r = json_ok(&run_holdfast(
        &[
            "sbom",
            "-f",
            "json",
            "--no-cache",
            &bare,
            insecure[0],
            insecure[1],
        ],
        None,
        &[],
    ));
    assert_eq!(package_list(&r), package_list(&local));

    // A multi-platform index: the platform asked for is the one read.
    let multi = d.path().join("multi");
    let arm = vec![debian_base(&[("only-on-arm", "1.0")])];
    let amd = vec![debian_base(&[("only-on-amd64", "1.0")])];
    oci_layout(&multi, &[("arm64", arm), ("amd64", amd)], Z::Gzip, "m");
    push(
        &reg,
        &format!("oci:{}:m", path_str(&multi)),
        "multi:1",
        &["--all"],
    );
    let multi_ref = format!("registry:{}/multi:1", reg.host);
    for (platform, want) in [
        ("linux/arm64", "only-on-arm=1.0"),
        ("linux/amd64", "only-on-amd64=1.0"),
    ] {
        let r = json_ok(&run_holdfast(
            &[
                "sbom",
                "-f",
                "json",
                "--no-cache",
                &multi_ref,
                "--platform",
                platform,
                insecure[0],
                insecure[1],
            ],
            None,
            &[],
        ));
        assert_eq!(package_list(&r), vec![want]);
    }

    // zstd layers, pushed as they are.
    let zdir = d.path().join("zstd");
    oci_layout(&zdir, &[("amd64", app_layers("zeta"))], Z::Zstd, "z");
    push(
        &reg,
        &format!("oci:{}:z", path_str(&zdir)),
        "zstd:1",
        &["--preserve-digests"],
    );
    let (local, _) = sbom_json(&format!("oci:{}:z", path_str(&zdir)), &[]);
    let r = json_ok(&run_holdfast(
        &[
            "sbom",
            "-f",
            "json",
            "--no-cache",
            &format!("registry:{}/zstd:1", reg.host),
            insecure[0],
            insecure[1],
        ],
        None,
        &[],
    ));
    assert_eq!(package_list(&r), package_list(&local));
    assert!(package_list(&r).contains(&"zeta=1.0".to_string()));

    // Three more images on the same base: a cold registry scan downloads every distinct
    // layer once, even with images scanned at the same time.
    for name in ["beta", "gamma", "delta"] {
        let a = d.path().join(format!("{name}.tar"));
        docker_archive(&a, &app_layers(name), Z::Gzip, &[]);
        push(
            &reg,
            &format!("docker-archive:{}", path_str(&a)),
            &format!("team/{name}:1"),
            &[],
        );
    }
    let cache = d.path().join("cache");
    let out = run_holdfast(
        &[
            "scan",
            "registry",
            &reg.host,
            "-f",
            "json",
            "--scanners",
            "secret",
            "--parallel",
            "3",
            "--cache-dir",
            &path_str(&cache),
            "--repo",
            "team/*",
            insecure[0],
            insecure[1],
        ],
        None,
        &[("HOLDFAST_LOG", "holdfast::fleet=debug")],
    );
    let result = json_ok(&out);
    let summary = &result["registry"];
    assert_eq!(summary["images_selected"], 4, "{summary}");
    assert_eq!(summary["images_scanned"], 4, "{summary}");
    assert_eq!(result["targets"].as_array().unwrap().len(), 4);
    let logs = String::from_utf8_lossy(&out.stderr);
    let downloads: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("blob download"))
        .collect();
    let mut distinct: Vec<&str> = downloads
        .iter()
        .filter_map(|l| l.split("digest=").nth(1))
        .collect();
    distinct.sort();
    distinct.dedup();
    // One base layer + four app layers, each fetched once.
    assert_eq!(distinct.len(), 5, "{logs}");
    assert_eq!(downloads.len(), 5, "{logs}");
    // Four processes at once on one fresh cache: still one download per distinct layer
    // (the layer claims are file locks shared across processes).
    let shared = d.path().join("shared-cache");
    let children: Vec<Child> = ["app", "beta", "gamma", "delta"]
        .iter()
        .map(|name| {
            holdfast()
                .args(["sbom", "-f", "json", "--cache-dir", &path_str(&shared)])
                .arg(format!("registry:{}/team/{name}:1", reg.host))
                .args(insecure)
                .env("HOLDFAST_LOG", "holdfast::fleet=debug")
                .env("DOCKER_CONFIG", env!("CARGO_TARGET_TMPDIR"))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut total = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success());
        total += String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| l.contains("blob download"))
            .count();
    }
    assert_eq!(total, 5, "downloads across four concurrent processes");
    // Filters: --tag, --exclude, --max-images.
    let r = json_ok(&run_holdfast(
        &[
            "scan",
            "registry",
            &reg.host,
            "-f",
            "json",
            // All scanners (vulnerabilities against the bundled demo advisories), in parallel.
            "--parallel",
            "3",
            "--no-cache",
            "--exclude",
            "team/beta",
            "--exclude",
            "multi",
            "--max-images",
            "3",
            insecure[0],
            insecure[1],
        ],
        None,
        &[],
    ));
    let names: Vec<&str> = r["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(r["registry"]["images_scanned"], 3, "{}", r["registry"]);
    assert!(
        names
            .iter()
            .all(|n| !n.contains("beta") && !n.contains("multi")),
        "{names:?}"
    );
    // --newest keeps one tag per repository; the table ends with the registry summary.
    push(
        &reg,
        &format!("docker-archive:{}", path_str(&archive)),
        "team/app:2",
        &[],
    );
    let out = run_holdfast(
        &[
            "scan",
            "registry",
            &reg.host,
            "--scanners",
            "secret",
            "--no-cache",
            "--repo",
            "team/app",
            "--newest",
            "1",
            insecure[0],
            insecure[1],
        ],
        None,
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains(&format!(
            "Registry {}: 1 repository, 1 image selected, 1 scanned, 0 failed",
            reg.host
        )),
        "{table}"
    );
    // The cache commands see the entries the scan wrote.
    let info = run_holdfast(
        &["cache", "info", "--cache-dir", &path_str(&cache)],
        None,
        &[],
    );
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(text.contains("entries:   5"), "{text}");
    let clean = run_holdfast(
        &["cache", "clean", "--cache-dir", &path_str(&cache)],
        None,
        &[],
    );
    assert!(String::from_utf8_lossy(&clean.stdout).contains("removed 5 entries"));
}

/// The storage path of a blob in the registry's filesystem driver.
fn blob_data(reg: &Registry, digest: &str) -> PathBuf {
    let hex = digest.strip_prefix("sha256:").unwrap();
    reg.storage
        .join("docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data")
}

#[test]
fn missing_and_corrupted_blobs_fail_clearly() {
    if !tools_ready(&[]) {
        return;
    }
    let reg = start(None);
    let d = temp();
    let insecure = ["--insecure-registry", reg.host.as_str()];
    for name in ["good", "gone", "bad"] {
        let a = d.path().join(format!("{name}.tar"));
        docker_archive(&a, &app_layers(name), Z::Gzip, &[]);
        push(
            &reg,
            &format!("docker-archive:{}", path_str(&a)),
            &format!("{name}:1"),
            &[],
        );
    }
    let layer_digest = |name: &str| -> String {
        let r = json_ok(&run_holdfast(
            &[
                "sbom",
                "-f",
                "json",
                "--no-cache",
                &format!("registry:{}/{name}:1", reg.host),
                insecure[0],
                insecure[1],
            ],
            None,
            &[],
        ));
        r["targets"][0]["layers"][1]["digest"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let gone = layer_digest("gone");
    let bad = layer_digest("bad");
    std::fs::remove_file(blob_data(&reg, &gone)).unwrap();
    let path = blob_data(&reg, &bad);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();

    let cache = d.path().join("cache");
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "registry",
            reg.host.as_str(),
            "-f",
            "json",
            "--cache-dir",
        ];
        let c = path_str(&cache);
        args.push(&c);
        args.extend_from_slice(extra);
        args.extend_from_slice(&insecure);
        json_ok(&run_holdfast(&args, None, &[]))
    };
    for _ in 0..2 {
        // Twice: the corrupted layer must not have been cached by the first run.
        let r = scan(&["--scanners", "secret"]);
        let s = &r["registry"];
        assert_eq!(s["images_selected"], 3, "{s}");
        assert_eq!(s["images_scanned"], 1, "{s}");
        let failed = s["failed"].as_array().unwrap();
        let error_of = |name: &str| -> String {
            failed
                .iter()
                .find(|f| f["image"].as_str().unwrap().contains(&format!("/{name}:1")))
                .unwrap_or_else(|| panic!("{name} not failed: {s}"))["error"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let e = error_of("gone");
        assert!(e.contains(&gone), "{e}");
        let e = error_of("bad");
        assert!(e.contains(&bad) && e.contains("digest mismatch"), "{e}");
        let good = r["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"].as_str().unwrap().ends_with("/good:1"))
            .unwrap();
        assert!(
            !good["warnings"].to_string().contains("layer not scanned"),
            "{good}"
        );
    }
    // Nothing scanned whole: exit 2, the reason still in the result.
    let c = path_str(&cache);
    let out = run_holdfast(
        &[
            "scan",
            "registry",
            &reg.host,
            "-f",
            "json",
            "--scanners",
            "secret",
            "--cache-dir",
            &c,
            "--repo",
            "gone",
            insecure[0],
            insecure[1],
        ],
        None,
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r["registry"]["failed"][0]["error"]
        .as_str()
        .unwrap()
        .contains(&gone));
    // A single image scan reports the layer that failed verification, naming the digest.
    let r = json_ok(&run_holdfast(
        &[
            "sbom",
            "-f",
            "json",
            "--no-cache",
            &format!("registry:{}/bad:1", reg.host),
            insecure[0],
            insecure[1],
        ],
        None,
        &[],
    ));
    let w = warnings_text(&r);
    assert!(w.contains(&bad) && w.contains("digest mismatch"), "{w}");
    assert!(!package_list(&r).contains(&"bad=1.0".to_string()));
}

#[test]
fn tls_and_basic_auth_credentials_never_leak() {
    if !tools_ready(&["openssl", "htpasswd"]) {
        return;
    }
    let d = temp();
    let tls = make_tls(d.path());
    let reg = start(Some(&tls));
    let archive = d.path().join("app.tar");
    docker_archive(&archive, &app_layers("secure"), Z::Gzip, &[]);
    push(
        &reg,
        &format!("docker-archive:{}", path_str(&archive)),
        "private/app:1",
        &["--dest-creds", &format!("{USER}:{PASSWORD}")],
    );
    let (local, _) = sbom_json(&format!("docker-archive:{}", path_str(&archive)), &[]);
    let target = format!("registry:{}/private/app:1", reg.host);
    let ca = path_str(&tls.ca);
    let base = [
        "sbom",
        "-f",
        "json",
        "--no-cache",
        target.as_str(),
        "--registry-ca",
        ca.as_str(),
    ];

    // --username + --password-stdin over TLS with the test's CA.
    let mut args = base.to_vec();
    args.extend(["--username", USER, "--password-stdin", "--debug"]);
    let out = run_holdfast(&args, Some(&format!("{PASSWORD}\n")), &[]);
    let r = json_ok(&out);
    assert_eq!(package_list(&r), package_list(&local));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !all.contains(PASSWORD),
        "the password leaked into the output"
    );

    // A pull secret (a Kubernetes Secret with the Docker config base64-encoded).
    let encode = |b: &[u8]| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(b)
    };
    let auth = encode(format!("{USER}:{PASSWORD}").as_bytes());
    let cfg = format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.host);
    let secret = d.path().join("secret.yaml");
    std::fs::write(
        &secret,
        format!("apiVersion: v1\nkind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {}\n", encode(cfg.as_bytes())),
    )
    .unwrap();
    let mut args = base.to_vec();
    let s = path_str(&secret);
    args.extend(["--pull-secret", s.as_str()]);
    assert_eq!(
        package_list(&json_ok(&run_holdfast(&args, None, &[]))),
        package_list(&local)
    );

    // The Docker config (`docker login`'s auths), and a whole-registry scan with it.
    let docker_dir = d.path().join("docker");
    std::fs::create_dir_all(&docker_dir).unwrap();
    std::fs::write(docker_dir.join("config.json"), &cfg).unwrap();
    let docker_env = [("DOCKER_CONFIG", docker_dir.to_str().unwrap())];
    let mut cmd_out = holdfast()
        .args([
            "scan",
            "registry",
            &reg.host,
            "-f",
            "json",
            "--scanners",
            "secret",
            "--no-cache",
            "--registry-ca",
            &ca,
        ])
        .envs(docker_env)
        .output()
        .unwrap();
    let r = json_ok(&cmd_out);
    assert_eq!(r["registry"]["images_scanned"], 1, "{}", r["registry"]);
    cmd_out.stdout.clear();

    // A credential helper named by `credHelpers` (the `docker_credential` protocol:
    // server on stdin, JSON on stdout).
    let bin = d.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-hftest");
    std::fs::write(
        &helper,
        format!("#!/bin/sh\nread server\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$server\"\n"),
    )
    .unwrap();
    sh(&format!("chmod +x '{}'", path_str(&helper)));
    let helper_dir = d.path().join("docker-helper");
    std::fs::create_dir_all(&helper_dir).unwrap();
    std::fs::write(
        helper_dir.join("config.json"),
        format!(r#"{{"credHelpers":{{"{}":"hftest"}}}}"#, reg.host),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        path_str(&bin),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = holdfast()
        .args(base)
        .env("DOCKER_CONFIG", &helper_dir)
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(package_list(&json_ok(&out)), package_list(&local));

    // The same helper as the default store for every registry (`credsStore`).
    let store_dir = d.path().join("docker-store");
    std::fs::create_dir_all(&store_dir).unwrap();
    std::fs::write(store_dir.join("config.json"), r#"{"credsStore":"hftest"}"#).unwrap();
    let out = holdfast()
        .args(base)
        .env("DOCKER_CONFIG", &store_dir)
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(package_list(&json_ok(&out)), package_list(&local));

    // A bearer token this registry does not take: refused, the token not shown.
    let token = "tok-Hq83jd-secret";
    let out = run_holdfast(&base, None, &[("HOLDFAST_REGISTRY_TOKEN", token)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&reg.host) && err.contains("bearer token") && !err.contains(token),
        "{err}"
    );

    // A wrong password: a clear error naming the registry, never the password.
    let wrong = "Wr0ng-pass-Zq9";
    let mut args = base.to_vec();
    args.extend(["--username", USER, "--password-stdin", "--debug"]);
    let out = run_holdfast(&args, Some(wrong), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&reg.host) && err.contains("401"), "{err}");
    assert!(!err.contains(wrong) && !String::from_utf8_lossy(&out.stdout).contains(wrong));
    let out = run_holdfast(
        &[
            "scan",
            "registry",
            &reg.host,
            "--registry-ca",
            &ca,
            "--username",
            USER,
            "--password-stdin",
        ],
        Some(wrong),
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&reg.host) && !err.contains(wrong), "{err}");

    // Without the CA the certificate is refused.
    let out = run_holdfast(&["sbom", "--no-cache", &target], None, &[]);
    assert_eq!(out.status.code(), Some(2));
}
