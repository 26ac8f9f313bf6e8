//! The example plugins written in Python and in POSIX sh (`plugins/examples/`), and the
//! Python helper they use, run as holdfast runs them: their events are checked against
//! the event schema and parsed with the strict Rust types, then compared to what a
//! fixture rootfs should give.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use common::{events, info, request, run, scan};
use holdfast_plugin::{Command, Event, LogLevel, PluginFinding};
use serde_json::{json, Value};

fn example(dir: &str, file: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/examples")
        .join(dir)
        .join(file);
    let mode = fs::metadata(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "{} is not executable", path.display());
    path
}

fn env_files() -> PathBuf {
    example("env-files", "holdfast-plugin-env-files")
}

fn world_writable_etc() -> PathBuf {
    example("world-writable-etc", "holdfast-plugin-world-writable-etc")
}

fn write(root: &Path, path: &str, text: &str, mode: u32) {
    let path = root.join(path.trim_start_matches('/'));
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
}

fn mkdir(root: &Path, path: &str, mode: u32) {
    let path = root.join(path.trim_start_matches('/'));
    fs::create_dir_all(&path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
}

fn findings(events: &[Event]) -> Vec<PluginFinding> {
    let mut found: Vec<PluginFinding> = events
        .iter()
        .filter_map(|e| match e {
            Event::Finding { finding } => Some(finding.clone()),
            _ => None,
        })
        .collect();
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

fn logs(events: &[Event]) -> Vec<(LogLevel, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Log { level, message } => Some((*level, message.clone())),
            _ => None,
        })
        .collect()
}

// ---- env-files (Python) ----

/// What a finding of env-files is compared on: id, severity, title, path, line and the
/// keys its description names.
type EnvSummary = (String, String, String, Option<String>, Option<u32>, String);

/// A rootfs with `.env` files that hold values, some that do not, and symlinks out of it;
/// `outside` is a directory next to it.
fn env_fixture() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let rootfs = dir.path().join("rootfs");
    let outside = dir.path().join("outside");
    write(
        &rootfs,
        "/app/.env",
        "# database\n\nexport API_KEY=\"s3cr3t-key\"\nEMPTY=\nDB_PASSWORD=hunter2 # the old one\nAPI_KEY=again\n",
        0o644,
    );
    write(
        &rootfs,
        "/srv/.env.example",
        "# fill these in\nAPI_KEY=\nDB_PASSWORD=\"\"\nTOKEN=''\nSECRET= # ask ops\n\n",
        0o644,
    );
    write(
        &rootfs,
        "/deep/a/b/.env.production",
        "\r\nTOKEN=tok-123\r\n",
        0o600,
    );
    write(&rootfs, "/app/env", "NOT_A_DOTENV=value\n", 0o644);
    write(&rootfs, "/app/.envrc", "export DIRENV=value\n", 0o644);
    write(&rootfs, "/app/.environment", "ENVIRONMENT=value\n", 0o644);
    write(
        &rootfs,
        "/big/.env",
        &format!("BIG={}\n", "x".repeat(200)),
        0o644,
    );
    mkdir(&rootfs, "/var/.env", 0o755);
    write(&outside, "/.env", "OUTSIDE=value\n", 0o644);
    write(&outside, "/dir/.env", "OUTSIDE=value\n", 0o644);
    symlink(outside.join(".env"), rootfs.join("srv/.env")).unwrap();
    symlink(outside.join("dir"), rootfs.join("linked")).unwrap();
    symlink("/etc/passwd", rootfs.join("app/.env.passwd")).unwrap();
    (dir, rootfs)
}

fn env_finding(path: &str, line: u32, keys: &str) -> EnvSummary {
    (
        "ENV-FILE-VALUES".into(),
        "MEDIUM".into(),
        "Environment file with values in the image".into(),
        Some(path.into()),
        Some(line),
        keys.into(),
    )
}

fn env_summary(found: &[PluginFinding]) -> Vec<EnvSummary> {
    found
        .iter()
        .map(|f| {
            // The description names the keys with values, not the others; never a value.
            for value in ["s3cr3t", "hunter2", "again", "tok-123", "OUTSIDE", "EMPTY"] {
                assert!(!f.description.contains(value), "{value} in {f:?}");
            }
            assert!(f.remediation.is_some(), "{f:?}");
            assert_eq!(f.kind, None, "the manifest's kind is the default");
            let keys = f.description.split(": ").nth(1).unwrap_or_default();
            let keys = keys.split(". ").next().unwrap_or_default();
            (
                f.id.clone(),
                f.severity.clone(),
                f.title.clone(),
                f.path.clone(),
                f.line,
                keys.to_string(),
            )
        })
        .collect()
}

#[test]
fn env_files_info() {
    let manifest = info(&env_files());
    assert_eq!(manifest.name, "env-files");
    assert_eq!(
        manifest.commands,
        [
            Command::ScanImage,
            Command::ScanContainer,
            Command::ScanRootfs
        ]
    );
    assert_eq!(manifest.kinds, ["secret"]);
    let param = manifest.param("max_file_size").unwrap();
    assert_eq!(param.kind, holdfast_plugin::ParamType::Integer);
    assert_eq!(param.default, Some(json!(1048576)));
}

#[test]
fn env_files_reports_files_with_values() {
    let (_dir, rootfs) = env_fixture();
    let req = request(
        Command::ScanImage,
        &rootfs,
        json!({"Env": ["PATH=/bin"]}),
        json!({"max_file_size": 150}),
    );
    let events = scan(&env_files(), Command::ScanImage, &req);
    assert_eq!(
        env_summary(&findings(&events)),
        [
            env_finding("/app/.env", 3, "API_KEY, DB_PASSWORD"),
            env_finding("/deep/a/b/.env.production", 2, "TOKEN"),
        ]
    );
    let logs = logs(&events);
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].0, LogLevel::Warn);
    assert!(
        logs[0].1.contains("/big/.env") && logs[0].1.contains("max_file_size"),
        "{logs:?}"
    );
}

#[test]
fn env_files_default_size_limit_and_other_commands() {
    let (_dir, rootfs) = env_fixture();
    for command in [Command::ScanContainer, Command::ScanRootfs] {
        // No params: the plugin uses its default limit, and the big file is read.
        let req = request(command, &rootfs, Value::Null, json!({}));
        let events = scan(&env_files(), command, &req);
        assert_eq!(
            env_summary(&findings(&events)),
            [
                env_finding("/app/.env", 3, "API_KEY, DB_PASSWORD"),
                env_finding("/big/.env", 1, "BIG"),
                env_finding("/deep/a/b/.env.production", 2, "TOKEN"),
            ]
        );
        assert_eq!(logs(&events), []);
    }
}

#[test]
fn env_files_bad_usage_and_bad_requests() {
    let plugin = env_files();
    let (_dir, rootfs) = env_fixture();
    for args in [&["scan", "config"][..], &["scan"], &["bogus"], &[]] {
        let out = run(&plugin, args, "");
        assert_eq!(out.status, Some(2), "{args:?}: {out:?}");
        assert!(
            out.stdout.is_empty() && out.stderr.starts_with("env-files: "),
            "{out:?}"
        );
    }
    let out = run(&plugin, &["scan", "image"], "{not json");
    assert_eq!(out.status, Some(1), "{out:?}");
    assert!(out.stderr.contains("request"), "{out:?}");
    let req = request(
        Command::ScanImage,
        &rootfs,
        Value::Null,
        json!({"max_file_size": "big"}),
    );
    let out = run(&plugin, &["scan", "image"], &req.to_string());
    assert_eq!(out.status, Some(1), "{out:?}");
    assert!(out.stderr.contains("max_file_size"), "{out:?}");
    let req = request(
        Command::ScanImage,
        &rootfs.join("missing"),
        Value::Null,
        json!({}),
    );
    let out = run(&plugin, &["scan", "image"], &req.to_string());
    assert_eq!(out.status, Some(1), "{out:?}");
    assert!(out.stderr.contains("rootfs"), "{out:?}");
}

// ---- the Python helper ----

/// A plugin written in a temporary directory that exercises the helper.
fn python_plugin(dir: &Path) -> PathBuf {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/sdk/python");
    let script = format!(
        r#"#!/usr/bin/env python3
import sys
sys.path.insert(0, {sdk:?})
from holdfast_plugin import Plugin

def scan(request, emit):
    what = request["params"]["what"]
    emit.progress(0)
    emit.log("debug", "target " + request["target"]["name"])
    if what == "all":
        emit.finding("T-1", "LOW", "minimal")
        emit.finding("T-2", "CRITICAL", "full \"quoted\" \u00e9", description="d", path="/x/\udcff",
                     line=7, remediation="r", kind="backdoor")
        emit.finding("T-3", "HIGH", "empties left out", description="", path=None)
    elif what == "bad-severity":
        emit.finding("T-1", "SEVERE", "t")
    elif what == "bad-field":
        emit.finding("T-1", "LOW", "t", cve="CVE-1")
    elif what == "raise":
        raise RuntimeError("it broke")
    emit.progress(1, total=1)

Plugin("py-test", "0.1", ["scan/rootfs"], params=[{{"name": "what", "default": "all"}}],
       kinds=["malware"]).run(scan)
"#,
        sdk = sdk.to_str().unwrap()
    );
    let path = dir.join("holdfast-plugin-py-test");
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn python_helper_writes_valid_events() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = python_plugin(dir.path());
    let manifest = info(&plugin);
    assert_eq!(manifest.param("what").unwrap().default, Some(json!("all")));
    assert_eq!(manifest.kinds, ["malware"]);

    // The default of `what` is filled in when holdfast sends no value.
    let req = request(Command::ScanRootfs, dir.path(), Value::Null, json!({}));
    let events = scan(&plugin, Command::ScanRootfs, &req);
    let full = PluginFinding::new("T-2", "CRITICAL", "full \"quoted\" é")
        .description("d")
        .path("/x/\u{FFFD}")
        .line(7)
        .remediation("r")
        .kind("backdoor");
    assert_eq!(
        events,
        [
            Event::Progress {
                done: 0,
                total: None
            },
            Event::Log {
                level: LogLevel::Debug,
                message: "target test-rootfs".into()
            },
            Event::Finding {
                finding: PluginFinding::new("T-1", "LOW", "minimal")
            },
            Event::Finding { finding: full },
            Event::Finding {
                finding: PluginFinding::new("T-3", "HIGH", "empties left out")
            },
            Event::Progress {
                done: 1,
                total: Some(1)
            },
        ]
    );
}

#[test]
fn python_helper_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = python_plugin(dir.path());
    for (what, error) in [
        ("raise", "RuntimeError: it broke"),
        ("bad-severity", "SEVERE"),
        ("bad-field", "cve"),
    ] {
        let req = request(
            Command::ScanRootfs,
            dir.path(),
            Value::Null,
            json!({"what": what}),
        );
        let out = run(&plugin, &["scan", "rootfs"], &req.to_string());
        assert_eq!(out.status, Some(1), "{what}: {out:?}");
        assert!(
            out.stderr.starts_with("py-test: ") && out.stderr.contains(error),
            "{out:?}"
        );
        // What was written before the failure is still whole events.
        assert!(!events(&out.stdout).is_empty());
    }
    for args in [
        &["scan", "image"][..],
        &["scan", "rootfs", "now"],
        &["help"],
    ] {
        let out = run(&plugin, args, "");
        assert_eq!(out.status, Some(2), "{args:?}: {out:?}");
    }
    let out = run(&plugin, &["scan", "rootfs"], r#"{"protocol":2}"#);
    assert_eq!(out.status, Some(1), "{out:?}");
    assert!(out.stderr.contains("protocol"), "{out:?}");
}

// ---- world-writable-etc (sh) ----

/// What a finding of world-writable-etc is compared on: id, severity, title, path and
/// remediation.
type EtcSummary = (String, String, String, Option<String>, Option<String>);

/// A rootfs whose /etc has world-writable files and directories, a sticky directory,
/// symlinks out of the rootfs, and odd names.
fn etc_fixture() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let rootfs = dir.path().join("rootfs");
    let outside = dir.path().join("outside");
    write(&outside, "/open.conf", "x", 0o666);
    write(&outside, "/dir/open.conf", "x", 0o666);
    mkdir(&rootfs, "/etc", 0o755);
    write(&rootfs, "/etc/evil.conf", "x", 0o666);
    write(&rootfs, "/etc/ok.conf", "x", 0o644);
    write(&rootfs, "/etc/group-writable.conf", "x", 0o664);
    write(&rootfs, "/etc/only-other-write", "x", 0o602);
    write(&rootfs, "/etc/cron.d/job", "x", 0o646);
    write(&rootfs, "/etc/cron.d/ok", "x", 0o600);
    mkdir(&rootfs, "/etc/cron.d", 0o777);
    mkdir(&rootfs, "/etc/tmp", 0o1777);
    write(&rootfs, "/etc/tmp/inside-sticky", "x", 0o666);
    write(&rootfs, "/etc/we\"ird\\name", "x", 0o666);
    write(&rootfs, "/etc/new\nline", "x", 0o666);
    write(&rootfs, "/etc/ünïcode", "x", 0o666);
    write(&rootfs, "/srv/open", "x", 0o666);
    mkdir(&rootfs, "/tmp", 0o1777);
    symlink(outside.join("open.conf"), rootfs.join("etc/link.conf")).unwrap();
    symlink(outside.join("dir"), rootfs.join("etc/linkdir")).unwrap();
    (dir, rootfs)
}

fn etc_summary(found: &[PluginFinding]) -> Vec<EtcSummary> {
    found
        .iter()
        .map(|f| {
            assert_eq!(f.line, None);
            assert_eq!(f.kind, None);
            assert!(f.description.contains(f.path.as_deref().unwrap()), "{f:?}");
            (
                f.id.clone(),
                f.severity.clone(),
                f.title.clone(),
                f.path.clone(),
                f.remediation.clone(),
            )
        })
        .collect()
}

fn etc_finding(path: &str, directory: bool) -> EtcSummary {
    let what = if directory { "directory" } else { "file" };
    (
        "WORLD-WRITABLE-ETC".into(),
        "HIGH".into(),
        format!("World-writable {what} under /etc"),
        Some(path.into()),
        Some(format!("chmod o-w {path}")),
    )
}

fn etc_expected() -> Vec<EtcSummary> {
    let mut expected = vec![
        etc_finding("/etc/cron.d", true),
        etc_finding("/etc/cron.d/job", false),
        etc_finding("/etc/evil.conf", false),
        etc_finding("/etc/newline", false),
        etc_finding("/etc/only-other-write", false),
        etc_finding("/etc/tmp/inside-sticky", false),
        etc_finding("/etc/we\"ird\\name", false),
        etc_finding("/etc/ünïcode", false),
    ];
    expected.sort_by(|a, b| a.3.cmp(&b.3));
    expected
}

#[test]
fn world_writable_etc_info() {
    let manifest = info(&world_writable_etc());
    assert_eq!(manifest.name, "world-writable-etc");
    assert_eq!(
        manifest.commands,
        [
            Command::ScanImage,
            Command::ScanContainer,
            Command::ScanRootfs
        ]
    );
    assert_eq!(manifest.kinds, ["misconfiguration"]);
    assert!(manifest.params.is_empty());
}

#[test]
fn world_writable_etc_reports_what_others_can_write() {
    let (_dir, rootfs) = etc_fixture();
    // An image label named `rootfs` is not the request's rootfs.
    let config = json!({"Labels": {"rootfs": "/"}, "Env": ["rootfs=/"]});
    let req = request(Command::ScanImage, &rootfs, config, json!({}));
    let events = scan(&world_writable_etc(), Command::ScanImage, &req);
    assert_eq!(etc_summary(&findings(&events)), etc_expected());
    assert_eq!(events.len(), etc_expected().len(), "{events:?}");
}

#[test]
fn world_writable_etc_reads_any_json_layout() {
    let (_dir, rootfs) = etc_fixture();
    for command in [Command::ScanContainer, Command::ScanRootfs] {
        // Keys in another order, pretty-printed, a trailing slash and an escaped slash.
        let path = format!("{}/", rootfs.display()).replace('/', "\\/");
        let text = format!(
            "{{\n  \"deadline\": \"2030-01-01T00:00:00Z\",\n  \"config\": {{\"rootfs\": \"/\"}},\n  \"target\": {{\"name\": \"x\", \"kind\": \"{}\"}},\n  \"rootfs\" :\n    \"{path}\",\n  \"params\": {{}}, \"protocol\": 1, \"command\": \"{command}\"\n}}\n",
            command.words()[1]
        );
        let value: Value = serde_json::from_str(&text).unwrap();
        common::assert_valid("request", &value, "the request");
        let out = run(&world_writable_etc(), &command.words(), &text);
        assert_eq!(out.status, Some(0), "{out:?}");
        assert_eq!(etc_summary(&findings(&events(&out.stdout))), etc_expected());
    }
}

#[test]
fn world_writable_etc_does_not_follow_an_etc_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let rootfs = dir.path().join("rootfs");
    write(&dir.path().join("outside"), "/open.conf", "x", 0o666);
    mkdir(&rootfs, "/", 0o755);
    symlink(dir.path().join("outside"), rootfs.join("etc")).unwrap();
    let req = request(Command::ScanImage, &rootfs, Value::Null, json!({}));
    assert_eq!(scan(&world_writable_etc(), Command::ScanImage, &req), []);

    // No /etc at all: a log line, no finding.
    fs::remove_file(rootfs.join("etc")).unwrap();
    let events = scan(&world_writable_etc(), Command::ScanImage, &req);
    assert_eq!(findings(&events), []);
    assert_eq!(logs(&events).len(), 1, "{events:?}");

    // /etc itself world-writable.
    mkdir(&rootfs, "/etc", 0o777);
    assert_eq!(
        etc_summary(&findings(&scan(
            &world_writable_etc(),
            Command::ScanImage,
            &req
        ))),
        [etc_finding("/etc", true)]
    );
}

#[test]
fn world_writable_etc_bad_usage_and_bad_requests() {
    let plugin = world_writable_etc();
    for args in [
        &["scan", "config"][..],
        &["scan"],
        &["bogus"],
        &[],
        &["scan", "image", "x"],
    ] {
        let out = run(&plugin, args, "");
        assert_eq!(out.status, Some(2), "{args:?}: {out:?}");
        assert!(
            out.stdout.is_empty() && out.stderr.contains("world-writable-etc: "),
            "{out:?}"
        );
    }
    for request in [
        "",
        "{}",
        r#"{"target":{"rootfs":"/"}}"#,
        r#"{"rootfs":1}"#,
        r#"{"rootfs":"relative/path"}"#,
        r#"{"rootfs":"/does/not/exist"}"#,
    ] {
        let out = run(&plugin, &["scan", "image"], request);
        assert_eq!(out.status, Some(1), "{request}: {out:?}");
        assert!(out.stdout.is_empty(), "{out:?}");
        assert!(out.stderr.contains("world-writable-etc: "), "{out:?}");
    }
}
