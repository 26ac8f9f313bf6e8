//! `holdfast compliance docker` on a dockerd of the test's own whose daemon.json and
//! containers break known CIS Docker Benchmark v1.6.0 checks: every planted break is
//! found with its evidence, and no other check of the daemon, runtime and image sections
//! fails. (Sections 1 and 3 judge this machine's own audit rules and system files, which
//! the test does not control; only the test daemon's daemon.json is planted there.)

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;

use crate::common::*;
use crate::dockerd::TestDaemon;

fn ready() -> bool {
    if !["dockerd", "docker", "ip"].iter().all(|t| have_tool(t)) {
        return false;
    }
    if unsafe { libc::geteuid() } != 0 {
        assert!(
            !full_tests(),
            "HOLDFAST_FULL_TESTS=1 but this test needs root (dockerd)"
        );
        eprintln!("skipped: the CIS Docker test needs root");
        return false;
    }
    true
}

/// Check id → status, and check id → evidence messages, of a compliance result.
pub(crate) fn statuses(
    result: &serde_json::Value,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut status = BTreeMap::new();
    let mut evidence = BTreeMap::new();
    for c in result["targets"][0]["checks"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap().to_string();
        status.insert(id.clone(), c["status"].as_str().unwrap().to_string());
        let messages: Vec<String> = c["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["object"].as_str().unwrap_or(""),
                    e["message"].as_str().unwrap()
                )
            })
            .collect();
        evidence.insert(id, messages.join(" | "));
    }
    (status, evidence)
}

#[test]
fn cis_docker_finds_every_planted_break_and_nothing_else() {
    if !ready() {
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("hfc")
        .tempdir_in("/tmp")
        .unwrap();
    let dir = tmp.path();
    let daemon_json = r#"{
        "icc": true,
        "log-level": "debug",
        "insecure-registries": ["10.0.0.1:5000"],
        "userland-proxy": true
    }"#;
    let d = TestDaemon::start(dir, daemon_json, &[]);
    std::fs::set_permissions(
        dir.join("daemon.json"),
        std::fs::Permissions::from_mode(0o666),
    )
    .unwrap();

    let image = dir.join("image.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&image).unwrap());
    let mut h = tar::Header::new_gnu();
    h.set_size(5);
    h.set_mode(0o644);
    b.append_data(&mut h, "etc/hostname", &b"test\n"[..])
        .unwrap();
    b.into_inner().unwrap();
    let ok = |args: &[&str]| {
        let out = d.docker(args);
        assert!(
            out.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&["import", &path_str(&image), "holdfast-test/cis:1"]);
    // Section 5's breaks. Privileged containers cannot start here, so they are created.
    ok(&[
        "create",
        "--name",
        "weak",
        "--privileged",
        "--cap-add",
        "SYS_ADMIN",
        "--pid",
        "host",
        "--ipc",
        "host",
        "--uts",
        "host",
        "--network",
        "host",
        "-v",
        "/var/run/docker.sock:/var/run/docker.sock",
        "-v",
        "/etc:/host-etc",
        "--security-opt",
        "seccomp=unconfined",
        "--restart",
        "always",
        "holdfast-test/cis:1",
        "/bin/true",
    ]);
    ok(&[
        "create",
        "--name",
        "ports",
        "-p",
        "0.0.0.0:80:8080",
        "holdfast-test/cis:1",
        "/bin/true",
    ]);
    ok(&[
        "create",
        "--name",
        "hardened",
        "--read-only",
        "--memory",
        "64m",
        "--cpu-shares",
        "512",
        "--pids-limit",
        "100",
        "--security-opt",
        "no-new-privileges",
        "--cap-drop",
        "ALL",
        "--restart",
        "on-failure:5",
        "--health-cmd",
        "true",
        "--user",
        "1000",
        "-p",
        "127.0.0.1:8080:8080",
        "holdfast-test/cis:1",
        "/bin/true",
    ]);

    let result = run_json(
        holdfast()
            .args(["compliance", "docker", "-f", "json"])
            .env("DOCKER_HOST", &d.host),
    );
    let (status, evidence) = statuses(&result);
    assert_eq!(
        status.len(),
        117,
        "every check of the benchmark is reported"
    );
    let failed: BTreeSet<&str> = status
        .iter()
        .filter(|(id, s)| {
            *s == "WARN"
                && ["CIS-DOCKER-2.", "CIS-DOCKER-4.", "CIS-DOCKER-5."]
                    .iter()
                    .any(|p| id.starts_with(p))
        })
        .map(|(id, _)| id.as_str())
        .collect();
    // Every planted break, and nothing else, in the sections the test controls.
    let planted = [
        // daemon.json and the test daemon's flags
        "CIS-DOCKER-2.2",  // "icc": true
        "CIS-DOCKER-2.3",  // "log-level": "debug"
        "CIS-DOCKER-2.4",  // --iptables=false
        "CIS-DOCKER-2.5",  // "insecure-registries"
        "CIS-DOCKER-2.9",  // no userns-remap
        "CIS-DOCKER-2.12", // no authorization plugin
        "CIS-DOCKER-2.13", // json-file logging only
        "CIS-DOCKER-2.14", // no default no-new-privileges
        "CIS-DOCKER-2.15", // no live-restore
        "CIS-DOCKER-2.16", // "userland-proxy": true
        // the imported image: no USER, no HEALTHCHECK
        "CIS-DOCKER-4.1",
        "CIS-DOCKER-4.6",
        // container `weak` (and `ports` for limits, ports, health and privileges)
        "CIS-DOCKER-5.4",  // --cap-add SYS_ADMIN
        "CIS-DOCKER-5.5",  // --privileged
        "CIS-DOCKER-5.6",  // /etc mounted read-write
        "CIS-DOCKER-5.8",  // host port 80
        "CIS-DOCKER-5.10", // --network host
        "CIS-DOCKER-5.11", // no memory limit
        "CIS-DOCKER-5.12", // no CPU shares
        "CIS-DOCKER-5.13", // writable root filesystem
        "CIS-DOCKER-5.14", // published on 0.0.0.0
        "CIS-DOCKER-5.15", // --restart always
        "CIS-DOCKER-5.16", // --pid host
        "CIS-DOCKER-5.17", // --ipc host
        "CIS-DOCKER-5.21", // --uts host
        "CIS-DOCKER-5.22", // seccomp=unconfined
        "CIS-DOCKER-5.26", // no no-new-privileges
        "CIS-DOCKER-5.27", // no health check
        "CIS-DOCKER-5.29", // no PIDs limit
        "CIS-DOCKER-5.32", // docker.sock mounted
    ];
    let planted: BTreeSet<&str> = planted.into_iter().collect();
    let missed: Vec<_> = planted.difference(&failed).collect();
    let extra: Vec<_> = failed.difference(&planted).collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "missed {missed:?}, unexpected {extra:?}\n{evidence:#?}"
    );
    // The hardened container passes every runtime check it was hardened for.
    for id in &failed {
        if id.starts_with("CIS-DOCKER-5.") {
            assert!(
                !evidence[*id].contains("container hardened"),
                "{id}: {}",
                evidence[*id]
            );
        }
    }
    // Evidence names the setting and the container.
    assert!(
        evidence["CIS-DOCKER-5.5"].contains("container weak"),
        "{}",
        evidence["CIS-DOCKER-5.5"]
    );
    assert!(
        evidence["CIS-DOCKER-2.2"].contains("\"icc\": true"),
        "{}",
        evidence["CIS-DOCKER-2.2"]
    );
    // The misconfig scanner of `scan container` judges one container with the same
    // checks: what it fails is what the benchmark blamed on that container.
    for name in ["weak", "hardened"] {
        let (alone, alone_evidence) = statuses(&run_json(
            holdfast()
                .args([
                    "scan",
                    "container",
                    name,
                    "--scanners",
                    "misconfig",
                    "-f",
                    "json",
                ])
                .env("DOCKER_HOST", &d.host),
        ));
        let runtime_failed: BTreeSet<&str> = alone
            .iter()
            .filter(|(id, s)| id.starts_with("CIS-DOCKER-5.") && *s == "WARN")
            .map(|(id, _)| id.as_str())
            .collect();
        let blamed: BTreeSet<&str> = failed
            .iter()
            .filter(|id| evidence[**id].contains(&format!("container {name}")))
            .copied()
            .collect();
        assert_eq!(runtime_failed, blamed, "{name}: {alone_evidence:#?}");
        assert!(
            alone
                .keys()
                .filter(|id| id.starts_with("CIS-DOCKER-5."))
                .count()
                > 20,
            "{alone:?}"
        );
        // A container's own config is what it runs with: `hardened` runs as 1000 with a
        // health check, though its image sets neither.
        let want = if name == "weak" { "WARN" } else { "PASS" };
        assert_eq!(alone["CIS-DOCKER-4.1"], want, "{name}: {alone_evidence:#?}");
        assert_eq!(alone["CIS-DOCKER-4.6"], want, "{name}: {alone_evidence:#?}");
        assert!(!alone.values().any(|s| s == "ERROR"), "{alone_evidence:#?}");
    }
    // The test daemon's daemon.json (section 3) is judged where the daemon reads it.
    assert_eq!(status["CIS-DOCKER-3.18"], "WARN");
    assert!(
        evidence["CIS-DOCKER-3.18"].contains("0666"),
        "{}",
        evidence["CIS-DOCKER-3.18"]
    );
    // Manual checks are NOTE, never a verdict.
    assert_eq!(status["CIS-DOCKER-2.1"], "NOTE");
    assert!(!status.values().any(|s| s == "ERROR"), "{status:?}");

    // A script check from --policy runs beside the built-in ones on the same document, in
    // a network namespace of its own when it asks for none.
    let policy = dir.join("policy");
    std::fs::create_dir_all(&policy).unwrap();
    std::fs::write(
        policy.join("team.toml"),
        r#"input = "docker-host"
benchmark = "team"
section = "Team rules"

[[checks]]
id = "TEAM-ICC"
title = "icc is off"
severity = "HIGH"
network = false
timeout = "20s"
script = '''
grep -q '"icc":true' && { echo "icc is on in daemon.json"; exit 1; }
exit 0
'''

[[checks]]
id = "TEAM-NO-NET"
title = "scripts without network see only a loopback"
severity = "LOW"
network = false
script = "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | grep -vx lo && exit 1; exit 0"
"#,
    )
    .unwrap();
    let (status, evidence) = statuses(&run_json(
        holdfast()
            .args(["compliance", "docker", "-f", "json", "--policy"])
            .arg(&policy)
            .env("DOCKER_HOST", &d.host),
    ));
    assert_eq!(status["TEAM-ICC"], "WARN", "{}", evidence["TEAM-ICC"]);
    assert!(evidence["TEAM-ICC"].contains("icc is on in daemon.json"));
    assert_eq!(status["TEAM-NO-NET"], "PASS", "{}", evidence["TEAM-NO-NET"]);
    assert_eq!(status.len(), 119);

    // The same run with --compliance keeps only the tagged checks, and --exit-code fails
    // the run on the failures that remain.
    let out = holdfast()
        .args([
            "compliance",
            "docker",
            "-f",
            "json",
            "--compliance",
            "pci",
            "--exit-code",
            "3",
        ])
        .env("DOCKER_HOST", &d.host)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let checks = result["targets"][0]["checks"].as_array().unwrap();
    assert!(!checks.is_empty() && checks.len() < 117);
    assert!(checks
        .iter()
        .all(|c| c["tags"].as_array().unwrap().iter().any(|t| t == "pci-dss")));

    // A later run against the first as its baseline: removing `weak` fixes what only it
    // broke; a hardened container that shares the host's user namespace breaks 5.31,
    // which nothing broke before.
    let baseline = dir.join("baseline.json");
    let out = holdfast()
        .args(["compliance", "docker", "-f", "json", "-o"])
        .arg(&baseline)
        .env("DOCKER_HOST", &d.host)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ok(&["rm", "weak"]);
    ok(&[
        "create",
        "--name",
        "late",
        "--read-only",
        "--memory",
        "64m",
        "--cpu-shares",
        "512",
        "--pids-limit",
        "100",
        "--security-opt",
        "no-new-privileges",
        "--restart",
        "on-failure:5",
        "--health-cmd",
        "true",
        "--user",
        "1000",
        "--cap-drop",
        "ALL",
        "--userns",
        "host",
        "holdfast-test/cis:1",
        "/bin/true",
    ]);
    let out = holdfast()
        .args(["compliance", "docker", "-f", "json", "-o"])
        .arg(dir.join("second.json"))
        .arg("--baseline")
        .arg(&baseline)
        .env("DOCKER_HOST", &d.host)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("compliance: run 1 finished"), "{stderr}");
    for fixed in ["CIS-DOCKER-5.4 ", "CIS-DOCKER-5.5 ", "CIS-DOCKER-5.32 "] {
        assert!(
            stderr.contains(&format!("  fixed {fixed}")),
            "{fixed}: {stderr}"
        );
    }
    assert!(stderr.contains("1 new failure(s)"), "{stderr}");
    let new_pos = stderr
        .find("  new   CIS-DOCKER-5.31 ")
        .expect("5.31 is new");
    assert!(
        new_pos < stderr.find("  fixed ").unwrap(),
        "new failures come first: {stderr}"
    );

    // --every runs again on schedule, each run with its status, until stopped.
    let mut child = holdfast()
        .args(["compliance", "docker", "-f", "json", "-o"])
        .arg(dir.join("every.json"))
        .args(["--every", "1s"])
        .env("DOCKER_HOST", &d.host)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut all = String::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.push_str(&String::from_utf8_lossy(&buf[..n]));
            let _ = tx.send(all.clone());
        }
    });
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut seen = String::new();
    // Run 3's schedule is printed after run 2's status and difference.
    while !seen.contains("run 3 scheduled") && std::time::Instant::now() < until {
        if let Ok(s) = rx.recv_timeout(std::time::Duration::from_secs(1)) {
            seen = s;
        }
    }
    crate::dockerd::terminate(&mut child, std::time::Duration::from_secs(5));
    for state in [
        "run 1 running",
        "run 1 finished",
        "run 2 scheduled",
        "run 2 running",
        "run 2 finished",
    ] {
        assert!(seen.contains(state), "{state}: {seen}");
    }
    assert!(seen.contains("0 new failure(s), 0 fixed"), "{seen}");

    // 5.23 and 5.24 from the host's audit log: `docker exec` lines of the client's EXECVE
    // records, each blamed on the container it named (by name or id prefix).
    let root = dir.join("host");
    std::fs::create_dir_all(root.join("var/log/audit")).unwrap();
    let inspect = d.docker(&["inspect", "-f", "{{.Id}}", "hardened"]);
    let hardened_id = String::from_utf8_lossy(&inspect.stdout).trim().to_string();
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02X}")).collect::<String>();
    std::fs::write(
        root.join("var/log/audit/audit.log.1"),
        "type=EXECVE msg=audit(1764580442.120:88): argc=5 a0=\"docker\" a1=\"exec\" \
         a2=\"--privileged\" a3=\"ports\" a4=\"sh\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("var/log/audit/audit.log"),
        format!(
            "type=EXECVE msg=audit(1764666842.500:91): argc=6 a0=\"/usr/bin/docker\" \
             a1=\"exec\" a2=\"-itu0\" a3=\"{}\" a4=\"sh\" a5={}\n\
             type=EXECVE msg=audit(1764666900.000:92): argc=4 a0=\"docker\" a1=\"exec\" \
             a2=\"late\" a3=\"id\"\n",
            &hardened_id[..12],
            hex("echo hi")
        ),
    )
    .unwrap();
    let (status, evidence) = statuses(&run_json(
        holdfast()
            .arg("--host-root")
            .arg(&root)
            .args(["compliance", "docker", "-f", "json"])
            .env("DOCKER_HOST", &d.host),
    ));
    assert_eq!(status["CIS-DOCKER-5.23"], "WARN");
    assert_eq!(
        evidence["CIS-DOCKER-5.23"],
        "container ports container ports: `docker exec --privileged ports sh` in the audit log \
         at 2025-12-01T09:14:02Z was started with --privileged"
    );
    assert_eq!(status["CIS-DOCKER-5.24"], "WARN");
    assert!(
        evidence["CIS-DOCKER-5.24"].contains("container hardened")
            && evidence["CIS-DOCKER-5.24"].contains("runs as user 0")
            && !evidence["CIS-DOCKER-5.24"].contains("late"),
        "{}",
        evidence["CIS-DOCKER-5.24"]
    );
}

/// `compliance kubernetes` on a node laid out as a host root (the fixture in
/// holdfast-compliance): a kubelet and kube-proxy in its /proc with insecure flags, a
/// KubeletConfiguration and kubeconfigs with loose modes. Every planted break fails,
/// the checks noted as informative say INFO, and nothing else fails.
#[test]
fn cis_kubernetes_node_judges_a_node_under_host_root() {
    #[derive(serde::Deserialize)]
    struct Expected {
        fail: Vec<String>,
        fail_unless_root: Vec<String>,
        info: Vec<String>,
        modes: BTreeMap<String, String>,
    }
    let fixture = repo_root().join("crates/holdfast-compliance/tests/fixtures/node");
    let expected: Expected =
        toml::from_str(&std::fs::read_to_string(fixture.join("expected.toml")).unwrap()).unwrap();
    let tmp = temp();
    let root = tmp.path().join("node");
    let status = std::process::Command::new("cp")
        .args(["-r"])
        .arg(&fixture)
        .arg(&root)
        .status()
        .unwrap();
    assert!(status.success());
    for (path, mode) in &expected.modes {
        let mode = u32::from_str_radix(mode, 8).unwrap();
        std::fs::set_permissions(root.join(path), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let judge_node = || {
        run_json(holdfast().arg("--host-root").arg(&root).args([
            "compliance",
            "kubernetes",
            "-f",
            "json",
        ]))
    };
    let result = judge_node();
    let (status, evidence) = statuses(&result);
    assert!(status.len() >= 24, "{status:?}");
    assert!(
        status.keys().all(|id| id.starts_with("CIS-K8S-")),
        "{status:?}"
    );
    let root_owned = unsafe { libc::geteuid() } == 0;
    let mut want: BTreeSet<&str> = expected.fail.iter().map(String::as_str).collect();
    if !root_owned {
        want.extend(expected.fail_unless_root.iter().map(String::as_str));
    }
    let got: BTreeSet<&str> = status
        .iter()
        .filter(|(_, s)| *s == "WARN")
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(got, want, "{evidence:#?}");
    for id in &expected.info {
        assert_eq!(status[id], "INFO", "{id}: {}", evidence[id]);
    }
    assert!(!status.values().any(|s| s == "ERROR"), "{evidence:#?}");
    assert!(
        evidence["CIS-K8S-4.2.1"].contains("--anonymous-auth"),
        "the flag that decided it is named: {}",
        evidence["CIS-K8S-4.2.1"]
    );
    assert!(
        evidence["CIS-K8S-4.2.6"].contains("kubelet.conf.d/50-iptables.conf"),
        "a --config-dir drop-in is named where it decided: {}",
        evidence["CIS-K8S-4.2.6"]
    );
    assert!(
        evidence["CIS-K8S-4.1.5"].contains("0644"),
        "{}",
        evidence["CIS-K8S-4.1.5"]
    );

    // The same node with kube-proxy in a container, as a DaemonSet runs it: its
    // kubeconfig is only in its own filesystem, under /proc/PID/root on the host, and
    // its mount namespace is not the host init's.
    let proxy_root = root.join("proc/4343/root/var/lib");
    std::fs::create_dir_all(&proxy_root).unwrap();
    std::fs::rename(
        root.join("var/lib/kube-proxy"),
        proxy_root.join("kube-proxy"),
    )
    .unwrap();
    for (pid, ns) in [("1", "mnt:[4026531840]"), ("4343", "mnt:[4026532777]")] {
        std::fs::create_dir_all(root.join(format!("proc/{pid}/ns"))).unwrap();
        std::os::unix::fs::symlink(ns, root.join(format!("proc/{pid}/ns/mnt"))).unwrap();
    }
    let (contained, evidence) = statuses(&judge_node());
    assert_eq!(contained, status, "the same verdicts: {evidence:#?}");
    assert!(
        evidence["CIS-K8S-4.1.3"].contains("/proc/4343/root/var/lib/kube-proxy/kubeconfig"),
        "{}",
        evidence["CIS-K8S-4.1.3"]
    );
}

/// `scan image --scanners misconfig` on an archive whose history records the steps of a
/// careless build in both builders' forms: each break is found at its history step, the
/// config decides USER and HEALTHCHECK, and the base image's steps blame nothing.
#[test]
fn misconfig_scanner_reads_an_images_config_and_history() {
    let tmp = temp();
    let layers = vec![
        layer(&[f("etc/hostname", "x\n")]),
        layer(&[f("app/run", "x\n")]),
    ];
    let mut cfg: serde_json::Value = serde_json::from_slice(&config_with(
        &layers,
        serde_json::json!({"User": "app", "Env": ["PATH=/usr/bin", "API_TOKEN=s3cr3t-value"],
            "Healthcheck": {"Test": ["CMD-SHELL", "curl -f http://localhost/"]}}),
    ))
    .unwrap();
    cfg["history"] = serde_json::json!([
        {"created_by": "/bin/sh -c #(nop) ADD file:4b03b5f551e3d8e7 in / "},
        {"created_by": "/bin/sh -c #(nop)  CMD [\"bash\"]", "empty_layer": true},
        {"created_by": "ENV API_TOKEN=s3cr3t-value", "empty_layer": true},
        {"created_by": "RUN /bin/sh -c apt-get update && apt-get install -y curl # buildkit"},
        {"created_by": "|1 V=2 /bin/sh -c curl -fsSL https://example.com/install.sh | sh", "empty_layer": true},
        {"created_by": "USER app", "empty_layer": true},
        {"created_by": "CMD [\"/app/run\"]", "empty_layer": true},
    ]);
    let image = tmp.path().join("image.tar");
    docker_archive_with_config(
        &image,
        &layers,
        Z::Gzip,
        &[],
        serde_json::to_vec(&cfg).unwrap(),
    );
    let result = run_json(
        holdfast()
            .args(["scan", "image", "--scanners", "misconfig", "-f", "json"])
            .arg(&image),
    );
    let (status, evidence) = statuses(&result);
    let failed: BTreeSet<&str> = status
        .iter()
        .filter(|(_, s)| *s == "WARN")
        .map(|(id, _)| id.as_str())
        .collect();
    let want: BTreeSet<&str> = [
        "HF-DF-APT-NO-RECOMMENDS",
        "HF-DF-APT-LISTS",
        "HF-DF-APT-PIN",
        "HF-DF-CURL-PIPE-SHELL",
        "HF-DF-SECRET-ENV",
    ]
    .into_iter()
    .collect();
    assert_eq!(failed, want, "{evidence:#?}");
    // Evidence names the history step (line 1 is the FROM the history lacks).
    assert!(
        evidence["HF-DF-CURL-PIPE-SHELL"].contains("history step 5"),
        "{}",
        evidence["HF-DF-CURL-PIPE-SHELL"]
    );
    assert!(evidence["HF-DF-APT-PIN"].contains("history step 4"));
    for id in [
        "CIS-DOCKER-4.1",
        "CIS-DOCKER-4.6",
        "HF-DF-ADD-INSTEAD-OF-COPY",
    ] {
        assert_eq!(status[id], "PASS", "{id}: {}", evidence[id]);
    }
    for id in ["HF-DF-ROOT-USER", "HF-DF-MULTIPLE-CMD", "HF-DF-LATEST-TAG"] {
        assert!(!status.contains_key(id), "{id} does not judge a history");
    }
    let findings = result["targets"][0]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 5, "one finding per failed check's evidence");
    assert!(findings.iter().all(|f| f["kind"] == "misconfiguration"));

    // A team's own check joins them through --policy; --compliance keeps only the
    // checks of a regulation (the team's is tagged for none).
    let policies = tmp.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(
        policies.join("env.rego"),
        r#"package team.no_tokens_in_env
import rego.v1

metadata := {"id": "TEAM-ENV", "title": "No tokens in the image's environment", "input": "docker-image", "severity": "HIGH"}

deny contains sprintf("%s sets %s", [input.id, e]) if {
    some e in input.inspect.Config.Env
    contains(e, "TOKEN")
}
"#,
    )
    .unwrap();
    let with_policy = run_json(
        holdfast()
            .args(["scan", "image", "--scanners", "misconfig", "-f", "json"])
            .arg("--policy")
            .arg(&policies)
            .arg(&image),
    );
    let (status, evidence) = statuses(&with_policy);
    assert_eq!(status["TEAM-ENV"], "WARN");
    assert!(
        evidence["TEAM-ENV"].contains("API_TOKEN"),
        "{}",
        evidence["TEAM-ENV"]
    );
    let pci = run_json(
        holdfast()
            .args([
                "scan",
                "image",
                "--scanners",
                "misconfig",
                "--compliance",
                "pci",
            ])
            .args(["-f", "json", "--policy"])
            .arg(&policies)
            .arg(&image),
    );
    let checks = pci["targets"][0]["checks"].as_array().unwrap();
    assert!(
        !checks.is_empty() && checks.len() < status.len(),
        "{}",
        checks.len()
    );
    assert!(checks
        .iter()
        .all(|c| c["tags"].as_array().unwrap().contains(&"pci-dss".into())));
    // A broken policy file is an error that names it, before anything is scanned.
    std::fs::write(
        policies.join("broken.rego"),
        "package broken\nmetadata := {",
    )
    .unwrap();
    let out = holdfast()
        .args(["scan", "image", "--scanners", "misconfig", "--policy"])
        .arg(&policies)
        .arg(&image)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.rego"), "{stderr}");

    // Not asked for, it does not run.
    let out = holdfast()
        .args(["scan", "image", "--scanners", "secret", "-f", "json"])
        .arg(&image)
        .output()
        .unwrap();
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(result["targets"][0]["checks"]
        .as_array()
        .is_none_or(|c| c.is_empty()));
}
