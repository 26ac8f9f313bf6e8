//! Plugins end to end: discovery, the three example plugins on a fixture image, their
//! findings in every format and through the policy, parameters, and plugins that fail.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::common::*;

/// A layer whose entries carry modes: (path, mode, content); a path ending in `/` is a
/// directory.
fn layer_with_modes(entries: &[(&str, u32, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, mode, content) in entries {
        let mut h = tar::Header::new_gnu();
        if path.ends_with('/') {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
        } else {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(content.len() as u64);
        }
        h.set_mode(*mode);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, path, content.as_bytes()).unwrap();
    }
    b.into_inner().unwrap()
}

/// The fixture image: a `.env` with values and one without, a world-writable file and a
/// normal one under /etc, and port 22 exposed.
fn fixture_image(dir: &Path) -> String {
    let base = layer_with_modes(&[
        ("etc/", 0o755, ""),
        ("etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\n"),
        ("etc/evil.conf", 0o666, "x=1\n"),
        ("etc/ok.conf", 0o644, "x=1\n"),
        ("app/", 0o755, ""),
        ("app/.env", 0o644, "# settings\nDEBUG=\nAPI_TOKEN=abc123\n"),
    ]);
    let upper = layer_with_modes(&[
        ("srv/", 0o755, ""),
        ("srv/.env.example", 0o644, "API_TOKEN=\nPASSWORD=\"\"\n"),
    ]);
    let raw = vec![base, upper];
    let cfg = config_with(
        &raw,
        serde_json::json!({"Env": ["PATH=/usr/bin"], "Cmd": ["sshd"], "ExposedPorts": {"22/tcp": {}}}),
    );
    let path = dir.join("image.tar");
    docker_archive_with_config(&path, &raw, Z::Gzip, &[], cfg);
    format!("docker-archive:{}", path_str(&path))
}

/// The Rust example plugin, built by the workspace, copied into a directory of its own
/// (the build directory holds other executables that are not plugins).
fn rust_example(dir: &Path) -> PathBuf {
    let built = Path::new(env!("CARGO_BIN_EXE_holdfast"))
        .parent()
        .unwrap()
        .join("holdfast-plugin-ssh-port");
    if !built.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "-p", "holdfast-plugin-ssh-port"])
            .current_dir(repo_root())
            .status()
            .unwrap();
        assert!(status.success(), "building the Rust example plugin failed");
    }
    let plugins = dir.join("rust-plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(&built, plugins.join("holdfast-plugin-ssh-port")).unwrap();
    plugins
}

fn examples() -> PathBuf {
    repo_root().join("plugins/examples")
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn scan_json(target: &str, args: &[&str]) -> (serde_json::Value, std::process::Output) {
    let out = holdfast()
        .args(["scan", "image", "-f", "json", "--no-cache", target])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "holdfast failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (serde_json::from_slice(&out.stdout).unwrap(), out)
}

/// (source, id, path) of every plugin finding of the first target, sorted.
fn plugin_findings(result: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = result["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| {
            Some((
                f["source"].as_str()?.to_string(),
                f["id"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap_or("").to_string(),
            ))
        })
        .collect();
    v.sort();
    v
}

fn runs(result: &serde_json::Value) -> Vec<(String, String)> {
    let mut v: Vec<_> = result["targets"][0]["plugins"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r["name"].as_str().unwrap().to_string(),
                        r["status"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn own(v: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    v.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[test]
fn the_three_examples_report_into_one_result() {
    let tmp = temp();
    let image = fixture_image(tmp.path());
    let rust = rust_example(tmp.path());
    let (result, _) = scan_json(
        &image,
        &[
            "--plugin-dir",
            &path_str(&examples()),
            "--plugin-dir",
            &path_str(&rust),
        ],
    );
    assert_eq!(
        plugin_findings(&result),
        own(&[
            ("plugin/env-files", "ENV-FILE-VALUES", "/app/.env"),
            ("plugin/ssh-port", "SSH-PORT-EXPOSED", ""),
            (
                "plugin/world-writable-etc",
                "WORLD-WRITABLE-ETC",
                "/etc/evil.conf"
            ),
        ])
    );
    assert_eq!(
        runs(&result),
        vec![
            ("env-files".into(), "ok".into()),
            ("ssh-port".into(), "ok".into()),
            ("world-writable-etc".into(), "ok".into()),
        ]
    );
    let env = result["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "ENV-FILE-VALUES")
        .unwrap();
    assert_eq!(env["kind"], "secret");
    assert_eq!(env["line"], 3);
    assert!(
        !serde_json::to_string(&result).unwrap().contains("abc123"),
        "a plugin finding names keys, never values"
    );
    // The result still matches the published schema.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("docs/result.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&result)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn plugin_findings_appear_in_every_format() {
    let tmp = temp();
    let image = fixture_image(tmp.path());
    let rust = rust_example(tmp.path());
    let out_dir = tmp.path().join("out");
    let out = holdfast()
        .args([
            "scan",
            "image",
            "--no-cache",
            &image,
            "-f",
            "table,json,html,sarif,cyclonedx,spdx",
            "-o",
        ])
        .arg(&out_dir)
        .args(["--plugin-dir", &path_str(&rust)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("SSH-PORT-EXPOSED"), "{table}");
    let files: Vec<PathBuf> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 6, "{files:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            text.contains("SSH-PORT-EXPOSED"),
            "{} lacks the plugin finding",
            f.display()
        );
    }
}

#[test]
fn the_policy_gates_plugin_findings_like_built_in_ones() {
    let tmp = temp();
    let image = fixture_image(tmp.path());
    let dir = path_str(&examples());
    // Severity: world-writable is HIGH, the .env finding MEDIUM.
    let (result, _) = scan_json(&image, &["--plugin-dir", &dir, "--severity", "HIGH"]);
    assert_eq!(
        plugin_findings(&result),
        own(&[(
            "plugin/world-writable-etc",
            "WORLD-WRITABLE-ETC",
            "/etc/evil.conf"
        )])
    );
    // Ignore rules suppress them, and the exit code follows what is left. Naming the
    // misconfiguration kind also runs the built-in misconfig scanner, whose two findings
    // on this image (no USER, no HEALTHCHECK) are ignored in both runs.
    let builtin = tmp.path().join("builtin-ignore");
    std::fs::write(&builtin, "CIS-DOCKER-4.1\nCIS-DOCKER-4.6\n").unwrap();
    let ignore = tmp.path().join("ignore");
    std::fs::write(
        &ignore,
        "WORLD-WRITABLE-ETC\nENV-FILE-VALUES\nCIS-DOCKER-4.1\nCIS-DOCKER-4.6\n",
    )
    .unwrap();
    let out = holdfast()
        .args([
            "scan",
            "image",
            "-f",
            "json",
            "--no-cache",
            &image,
            "--plugin-dir",
            &dir,
        ])
        .args([
            "--scanners",
            "secret,misconfiguration",
            "--exit-code",
            "9",
            "--ignorefile",
        ])
        .arg(&ignore)
        .output()
        .unwrap();
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(plugin_findings(&result).is_empty());
    let suppressed: BTreeSet<&str> = result["targets"][0]["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        suppressed,
        BTreeSet::from([
            "CIS-DOCKER-4.1",
            "CIS-DOCKER-4.6",
            "ENV-FILE-VALUES",
            "WORLD-WRITABLE-ETC"
        ])
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Without the ignore file they fail the gate.
    let out = holdfast()
        .args([
            "scan",
            "image",
            "-f",
            "json",
            "--no-cache",
            &image,
            "--plugin-dir",
            &dir,
        ])
        .args([
            "--scanners",
            "secret,misconfiguration",
            "--exit-code",
            "9",
            "--ignorefile",
        ])
        .arg(&builtin)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(9));
}

#[test]
fn plugins_are_selected_by_name_kind_and_flag() {
    let tmp = temp();
    let image = fixture_image(tmp.path());
    let dir = path_str(&examples());
    let names = |args: &[&str]| {
        let mut a = vec!["--plugin-dir", &dir];
        a.extend_from_slice(args);
        runs(&scan_json(&image, &a).0)
            .into_iter()
            .map(|(n, _)| n)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&["--plugins", "env-files"]), vec!["env-files"]);
    assert!(names(&["--no-plugins"]).is_empty());
    // By kind: only the plugin that reports secrets runs with --scanners secret.
    assert_eq!(names(&["--scanners", "secret"]), vec!["env-files"]);
    // A plugin named but absent is an error naming what was found.
    let out = holdfast()
        .args([
            "scan",
            "image",
            "--no-cache",
            &image,
            "--plugin-dir",
            &dir,
            "--plugins",
            "nope",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no plugin named `nope` (found: env-files, world-writable-etc)"),
        "{err}"
    );
}

#[test]
fn parameters_reach_the_plugin_and_bad_ones_are_named() {
    let tmp = temp();
    let image = fixture_image(tmp.path());
    let rust = path_str(&rust_example(tmp.path()));
    let (result, _) = scan_json(&image, &["--plugin-dir", &rust]);
    assert_eq!(plugin_findings(&result).len(), 1);
    // The port parameter moves the check to 2222, which the image does not expose.
    let (result, _) = scan_json(
        &image,
        &["--plugin-dir", &rust, "--", "ssh-port:scan/image.port=2222"],
    );
    assert!(plugin_findings(&result).is_empty());
    assert_eq!(runs(&result), vec![("ssh-port".into(), "ok".into())]);
    // The same from the config file.
    let config = tmp.path().join("holdfast.toml");
    std::fs::write(&config, "[plugins]\nparams = [\"ssh-port:port=2222\"]\n").unwrap();
    let (result, _) = scan_json(
        &image,
        &["--plugin-dir", &rust, "--config", &path_str(&config)],
    );
    assert!(plugin_findings(&result).is_empty());
    for (param, message) in [
        ("ssh-port:scan/image.port=ssh", "`ssh` is not an integer"),
        (
            "ssh-port:colour=red",
            "declares no parameter `colour` (it declares: port)",
        ),
        ("ssh-port", "is not NAME:COMMAND.PARAM=VALUE"),
    ] {
        let out = holdfast()
            .args([
                "scan",
                "image",
                "--no-cache",
                &image,
                "--plugin-dir",
                &rust,
                "--",
                param,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{param}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{param}: {err}");
    }
    // An unknown key in the config file names the key.
    std::fs::write(&config, "[plugins]\nparamz = []\n").unwrap();
    let out = holdfast()
        .args([
            "scan",
            "image",
            "--no-cache",
            &image,
            "--plugin-dir",
            &rust,
            "--config",
            &path_str(&config),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("paramz") && err.contains("line 2"), "{err}");
}

/// A plugin that crashes, one that writes garbage lines, one whose `info` is garbage and
/// one that tries to write the rootfs: the scan goes on, each is named, nothing is
/// written, and the materialised rootfs is gone afterwards.
#[test]
fn failing_and_hostile_plugins_are_reported_by_name() {
    let tmp = temp();
    let image = fixture_image(tmp.path());
    let dir = tmp.path().join("plugins");
    let manifest = |name: &str| {
        format!(
            r#"{{"protocol":1,"name":"{name}","version":"0.1","commands":["scan/image","scan/rootfs"],"kinds":["misconfiguration"]}}"#
        )
    };
    script(
        &dir,
        "crasher",
        &format!(
            "[ \"$1\" = info ] && {{ echo '{}'; exit 0; }}\necho 'segfault, sort of' >&2\nexit 3",
            manifest("crasher")
        ),
    );
    script(
        &dir,
        "chatty",
        &format!(
            "[ \"$1\" = info ] && {{ echo '{}'; exit 0; }}\ncat >/dev/null\necho 'hello'\necho '{{\"type\":\"finding\",\"finding\":{{\"id\":\"CHATTY-1\",\"severity\":\"LOW\",\"title\":\"t\"}}}}'\necho '{{\"type\":\"finding\",\"finding\":{{\"id\":\"CHATTY-2\",\"severity\":\"SEVERE\",\"title\":\"t\"}}}}'",
            manifest("chatty")
        ),
    );
    script(&dir, "not-a-plugin", "echo 'usage: not-a-plugin FILE'");
    let record = tmp.path().join("rootfs-path");
    script(
        &dir,
        "writer",
        &format!(
            "[ \"$1\" = info ] && {{ echo '{}'; exit 0; }}\nroot=$(sed -n 's/.*\"rootfs\":\"\\([^\"]*\\)\".*/\\1/p')\necho \"$root\" > {}\nif touch \"$root/etc/planted\" 2>/dev/null; then echo '{{\"type\":\"finding\",\"finding\":{{\"id\":\"WROTE-ROOTFS\",\"severity\":\"HIGH\",\"title\":\"t\"}}}}'; fi\nif [ -f \"$root/etc/passwd\" ]; then echo '{{\"type\":\"finding\",\"finding\":{{\"id\":\"READ-ROOTFS\",\"severity\":\"LOW\",\"title\":\"t\",\"path\":\"/etc/passwd\"}}}}'; fi",
            manifest("writer"),
            record.display()
        ),
    );
    let (result, out) = scan_json(&image, &["--plugin-dir", &path_str(&dir)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not-a-plugin") && stderr.contains("did not print a plugin manifest"),
        "{stderr}"
    );
    assert_eq!(
        runs(&result),
        vec![
            ("chatty".into(), "ok".into()),
            ("crasher".into(), "failed".into()),
            ("writer".into(), "ok".into()),
        ]
    );
    assert_eq!(
        plugin_findings(&result),
        own(&[
            ("plugin/chatty", "CHATTY-1", ""),
            ("plugin/writer", "READ-ROOTFS", "/etc/passwd"),
        ])
    );
    let warnings = warnings_text(&result);
    assert!(warnings.contains("plugin crasher"), "{warnings}");
    assert!(
        warnings.contains("exited with code 3: segfault, sort of"),
        "{warnings}"
    );
    assert!(
        warnings.contains("plugin chatty: output line 1 is not a valid event"),
        "{warnings}"
    );
    assert!(
        warnings.contains("finding `CHATTY-2` dropped: severity `SEVERE`"),
        "{warnings}"
    );
    let rootfs = std::fs::read_to_string(&record).unwrap();
    assert!(rootfs.trim().starts_with('/'), "{rootfs}");
    assert!(
        !Path::new(rootfs.trim()).exists(),
        "the materialised rootfs {rootfs} was left behind"
    );
}

#[test]
fn rootfs_scans_hand_the_directory_itself_to_plugins() {
    let tmp = temp();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("app")).unwrap();
    std::fs::write(root.join("app/.env"), "SECRET_KEY=s3cr3t\n").unwrap();
    std::fs::write(root.join("etc/open.conf"), "x\n").unwrap();
    std::fs::set_permissions(
        root.join("etc/open.conf"),
        std::fs::Permissions::from_mode(0o666),
    )
    .unwrap();
    let out = holdfast()
        .args(["scan", "rootfs", "-f", "json", "--no-cache"])
        .arg(&root)
        .args(["--plugin-dir", &path_str(&examples())])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        plugin_findings(&result),
        own(&[
            ("plugin/env-files", "ENV-FILE-VALUES", "/app/.env"),
            (
                "plugin/world-writable-etc",
                "WORLD-WRITABLE-ETC",
                "/etc/open.conf"
            ),
        ])
    );
    // The directory is read-only to plugins but unchanged for us.
    std::fs::write(root.join("app/after"), "x").unwrap();
}

#[test]
fn plugin_commands_list_describe_install_and_remove() {
    let tmp = temp();
    let data = tmp.path().join("data");
    let run = |args: &[&str]| {
        holdfast()
            .env("XDG_DATA_HOME", &data)
            .env_remove("HOLDFAST_PLUGIN_PATH")
            .args(args)
            .output()
            .unwrap()
    };
    let dir = path_str(&examples());
    let out = run(&["plugin", "list", "--plugin-dir", &dir]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("env-files") && text.contains("world-writable-etc"),
        "{text}"
    );
    let out = run(&["plugin", "info", "env-files", "--plugin-dir", &dir]);
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["protocol"], 1);
    assert_eq!(info["kinds"], serde_json::json!(["secret"]));
    let out = run(&["plugin", "info", "nope", "--plugin-dir", &dir]);
    assert_eq!(out.status.code(), Some(2));
    // Install the shell example into the data directory: found without --plugin-dir.
    let shell = examples().join("world-writable-etc/holdfast-plugin-world-writable-etc");
    let out = run(&["plugin", "install", &path_str(&shell)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(data.join("holdfast/plugins/world-writable-etc").is_file());
    let out = run(&["plugin", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("world-writable-etc"));
    let out = run(&["plugin", "uninstall", "world-writable-etc"]);
    assert!(out.status.success());
    assert!(!data.join("holdfast/plugins/world-writable-etc").exists());
    let out = run(&["plugin", "uninstall", "world-writable-etc"]);
    assert_eq!(out.status.code(), Some(2));
}
