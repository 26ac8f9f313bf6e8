//! Plugins that misbehave: each run is bounded, the process group is gone afterwards,
//! and the valid part of the output still counts.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use holdfast_plugin_host::{run_plugin, Isolation, RunOptions, RunStatus};

fn script(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("plugin");
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

const FINDING: &str = r#"{"type":"finding","finding":{"id":"A","severity":"HIGH","title":"t"}}"#;

fn options(timeout: Duration) -> RunOptions {
    RunOptions {
        timeout,
        max_output: 1 << 20,
        ..RunOptions::default()
    }
}

fn alive(pid: i32) -> bool {
    // A zombie still answers kill(0); read its state to tell.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

#[test]
fn a_plugin_that_writes_a_gigabyte_is_stopped_at_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let p = script(
        dir.path(),
        &format!("echo '{FINDING}'; yes '{FINDING}' | head -c 1000000000"),
    );
    let started = Instant::now();
    let out = run_plugin(
        &p,
        &["scan", "image"],
        b"{}",
        &options(Duration::from_secs(60)),
    );
    assert_eq!(out.status, RunStatus::Overflowed(1 << 20));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(
        !out.findings.is_empty(),
        "findings before the cap still count"
    );
}

#[test]
fn a_child_that_outlives_the_plugin_is_killed_with_its_group() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("child.pid");
    let p = script(
        dir.path(),
        &format!(
            "sleep 60 & echo $! > {}\necho '{FINDING}'\nexit 0",
            pidfile.display()
        ),
    );
    let started = Instant::now();
    let out = run_plugin(
        &p,
        &["scan", "image"],
        b"{}",
        &options(Duration::from_secs(60)),
    );
    assert_eq!(out.status, RunStatus::Ok);
    assert_eq!(out.findings.len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let child: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(5);
    while alive(child) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(child), "the plugin's child {child} is still running");
}

#[test]
fn a_plugin_that_ignores_sigterm_is_killed_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let p = script(
        dir.path(),
        &format!("trap '' TERM\necho '{FINDING}'\nwhile :; do sleep 1; done"),
    );
    let started = Instant::now();
    let out = run_plugin(
        &p,
        &["scan", "image"],
        b"{}",
        &options(Duration::from_secs(1)),
    );
    assert_eq!(out.status, RunStatus::TimedOut(Duration::from_secs(1)));
    assert!(out
        .status
        .message()
        .unwrap()
        .contains("did not finish within 1s"));
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        out.findings.len(),
        1,
        "what came before the deadline counts"
    );
}

#[test]
fn half_a_line_and_garbage_become_numbered_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let p = script(
        dir.path(),
        &format!(
            "echo '{FINDING}'\necho 'not json'\necho '{{\"type\":\"finding\",\"finding\":{{\"id\":\"B\"}}}}'\necho\necho '{FINDING}'\nprintf '{{\"type\":\"fin'"
        ),
    );
    let out = run_plugin(
        &p,
        &["scan", "image"],
        b"{}",
        &options(Duration::from_secs(30)),
    );
    assert_eq!(out.status, RunStatus::Ok);
    assert_eq!(out.findings.len(), 2);
    let lines: Vec<u64> = out.invalid.iter().map(|(n, _)| *n).collect();
    assert_eq!(lines, vec![2, 3, 6], "{:?}", out.invalid);
    assert_eq!(out.invalid_count, 3);
    assert!(
        out.invalid[1].1.contains("missing field"),
        "{:?}",
        out.invalid
    );
}

#[test]
fn a_plugin_that_never_reads_stdin_still_reports() {
    let dir = tempfile::tempdir().unwrap();
    let p = script(dir.path(), &format!("sleep 0.2\necho '{FINDING}'"));
    let request = vec![b' '; 4 << 20];
    let out = run_plugin(
        &p,
        &["scan", "image"],
        &request,
        &options(Duration::from_secs(30)),
    );
    assert_eq!(out.status, RunStatus::Ok);
    assert_eq!(out.findings.len(), 1);
}

#[test]
fn a_crash_names_the_exit_and_the_last_stderr_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = script(dir.path(), "echo 'cannot open database' >&2\nexit 7");
    let out = run_plugin(
        &p,
        &["scan", "image"],
        b"{}",
        &options(Duration::from_secs(30)),
    );
    assert_eq!(
        out.status,
        RunStatus::Failed("exited with code 7: cannot open database".into())
    );
}

#[test]
fn the_request_arrives_whole_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let p = script(
        dir.path(),
        "n=$(wc -c)\nprintf '{\"type\":\"progress\",\"done\":%s}\\n' \"$n\"",
    );
    let request = vec![b'x'; 3 << 20];
    let out = run_plugin(
        &p,
        &["scan", "image"],
        &request,
        &options(Duration::from_secs(30)),
    );
    assert_eq!(out.status, RunStatus::Ok);
    assert_eq!(out.progress, Some((3 << 20, None)));
}

/// Root in a mount namespace, or an unprivileged user in a user namespace: either way,
/// the paths are read-only for the plugin and whatever it starts.
#[test]
fn the_rootfs_and_the_cache_are_read_only_to_the_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let rootfs = dir.path().join("rootfs");
    let cache = dir.path().join("cache");
    std::fs::create_dir_all(rootfs.join("etc")).unwrap();
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    let scratch = dir.path().join("scratch");
    let p = script(
        dir.path(),
        &format!(
            r#"r={r}; c={c}
grep -q root "$r/etc/passwd" && echo '{{"type":"log","level":"info","message":"read ok"}}'
touch "$r/etc/planted" 2>/dev/null && echo '{{"type":"log","level":"error","message":"wrote rootfs"}}'
echo x > "$r/etc/passwd" 2>/dev/null && echo '{{"type":"log","level":"error","message":"overwrote rootfs"}}'
chmod 777 "$r/etc" 2>/dev/null && echo '{{"type":"log","level":"error","message":"chmod rootfs"}}'
touch "$c/planted" 2>/dev/null && echo '{{"type":"log","level":"error","message":"wrote cache"}}'
touch {s} && echo '{{"type":"log","level":"info","message":"scratch ok"}}'
exit 0"#,
            r = rootfs.display(),
            c = cache.display(),
            s = scratch.display(),
        ),
    );
    let mut opts = options(Duration::from_secs(30));
    opts.isolation = Isolation::ReadOnly(vec![rootfs.clone(), cache.clone()]);
    let out = run_plugin(&p, &["scan", "rootfs"], b"{}", &opts);
    assert_eq!(out.status, RunStatus::Ok, "{}", out.stderr_tail);
    let messages: Vec<&str> = out.logs.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(messages, vec!["read ok", "scratch ok"]);
    assert!(!rootfs.join("etc/planted").exists());
    assert!(!cache.join("planted").exists());
    assert_eq!(
        std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap(),
        "root:x:0:0::/root:/bin/sh\n"
    );
    // Outside the plugin, the paths are as writable as before.
    std::fs::write(cache.join("ours"), "x").unwrap();
}
