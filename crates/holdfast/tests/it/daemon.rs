//! A real Debian 12 root filesystem (debootstrap), imported into a real Docker daemon,
//! scanned through the daemon, as a `docker save` archive and as an OCI layout made by
//! skopeo: each inventory must equal what `dpkg-query` says about the same root.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

const IMAGE: &str = "holdfast-test/deb12-minbase:1";

fn sh(cmd: &str) -> String {
    let out = Command::new("sh").args(["-c", cmd]).output().unwrap();
    assert!(
        out.status.success(),
        "`{cmd}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The Debian mirror this machine's apt uses (so the test names no host itself).
fn apt_mirror() -> String {
    let text = sh("cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null || true");
    for line in text.lines() {
        let line = line.trim();
        if let Some(uri) = line.strip_prefix("URIs:") {
            if let Some(u) = uri.split_whitespace().find(|u| !u.contains("security")) {
                return u.to_string();
            }
        }
        if line.starts_with("deb ") && !line.contains("security") {
            if let Some(u) = line.split_whitespace().find(|w| w.starts_with("http")) {
                return u.to_string();
            }
        }
    }
    panic!("no Debian mirror in /etc/apt sources");
}

/// A debootstrapped minbase bookworm, kept between runs in the target dir.
fn rootfs() -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("deb12-minbase");
    if !root.join("var/lib/dpkg/status").is_file() {
        let _ = std::fs::remove_dir_all(&root);
        sh(&format!(
            "debootstrap --variant=minbase bookworm '{}' '{}' >/dev/null",
            root.display(),
            apt_mirror()
        ));
    }
    root
}

fn daemon_ready() -> bool {
    let ok = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !full_tests(),
            "HOLDFAST_FULL_TESTS=1 but no Docker daemon answers"
        );
        eprintln!("skipped: no Docker daemon");
    }
    ok
}

type Row = (String, String, String, String, String);

fn dpkg_query(root: &Path) -> BTreeSet<Row> {
    let out = sh(&format!(
        "dpkg-query -W --admindir='{}/var/lib/dpkg' -f '${{db:Status-Status}}\\t${{Package}}\\t${{Version}}\\t${{Architecture}}\\t${{source:Package}}\\t${{source:Version}}\\n'",
        root.display()
    ));
    out.lines()
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c.len() == 6 && c[0] == "installed").then(|| {
                (
                    c[1].into(),
                    c[2].into(),
                    c[3].into(),
                    c[4].into(),
                    c[5].into(),
                )
            })
        })
        .collect()
}

fn ours(result: &serde_json::Value) -> BTreeSet<Row> {
    result["targets"][0]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "deb")
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
            (
                s("name"),
                s("version"),
                s("arch"),
                s("source_name"),
                s("source_version"),
            )
        })
        .collect()
}

#[test]
fn debootstrap_image_through_daemon_archive_and_oci_matches_dpkg_query() {
    if !(have_tool("debootstrap") && have_tool("docker") && have_tool("skopeo") && daemon_ready()) {
        return;
    }
    let root = rootfs();
    let expected = dpkg_query(&root);
    assert!(
        expected.len() > 50,
        "debootstrap gave {} packages",
        expected.len()
    );
    // Each import makes a new image id; removing the previous one first keeps reruns from
    // leaving untagged images behind.
    sh(&format!(
        "docker rmi -f {IMAGE} >/dev/null 2>&1; tar -C '{}' -c . | docker import - {IMAGE} >/dev/null",
        root.display()
    ));
    let d = temp();
    let archive = d.path().join("img.tar");
    sh(&format!("docker save -o '{}' {IMAGE}", archive.display()));
    let layout = d.path().join("oci");
    sh(&format!(
        "skopeo copy --quiet docker-archive:'{}' oci:'{}':latest",
        archive.display(),
        layout.display()
    ));
    for target in [
        format!("docker:{IMAGE}"),
        format!("docker-archive:{}", path_str(&archive)),
        format!("oci:{}:latest", path_str(&layout)),
    ] {
        let (r, _) = sbom_json(&target, &["--pkg-types", "os"]);
        let got = ours(&r);
        let missing: Vec<_> = expected.difference(&got).collect();
        let extra: Vec<_> = got.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{target}: missing {missing:?}, extra {extra:?}"
        );
        assert_eq!(r["targets"][0]["os"]["family"], "debian", "{target}");
        assert_eq!(r["targets"][0]["os"]["version"], "12", "{target}");
    }
    // A warm daemon scan serves the layer from the cache without exporting the image.
    let cache = d.path().join("cache");
    for _ in 0..2 {
        let out = holdfast()
            .args([
                "sbom",
                "-f",
                "json",
                "--pkg-types",
                "os",
                "--cache-dir",
                &path_str(&cache),
                &format!("docker:{IMAGE}"),
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(ours(&r), expected);
    }
}
