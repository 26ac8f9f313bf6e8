//! Every source kind yields the same inventory for the same layers.

use crate::common::*;

fn layers() -> Vec<Vec<u8>> {
    vec![
        debian_base(&[("bash", "5.2.15-2+b2"), ("zlib1g", "1:1.2.13.dfsg-1")]),
        layer(&[f("usr/share/doc/bash/copyright", "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-3+\n")]),
    ]
}

const EXPECTED: [&str; 2] = ["bash=5.2.15-2+b2", "zlib1g=1:1.2.13.dfsg-1"];

#[test]
fn docker_archive_plain_gzip_zstd() {
    let d = temp();
    for (name, z) in [("plain", Z::Plain), ("gzip", Z::Gzip), ("zstd", Z::Zstd)] {
        let p = d.path().join(format!("{name}.tar"));
        docker_archive(&p, &layers(), z, &[]);
        for target in [format!("docker-archive:{}", path_str(&p)), path_str(&p)] {
            let (r, _) = sbom_json(&target, &[]);
            assert_eq!(package_list(&r), EXPECTED, "{name} via {target}");
            let t = &r["targets"][0];
            assert_eq!(t["os"]["family"], "debian");
            assert_eq!(t["os"]["version"], "12");
            let bash = &t["packages"][0];
            assert_eq!(
                bash["purl"],
                "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12".replace("%2B", "+")
            );
            assert_eq!(bash["licenses"][0], "GPL-3+");
            assert_eq!(bash["layer"], sha256(&layers()[0]));
            assert_eq!(bash["path"], "/var/lib/dpkg/status");
            assert_eq!(t["layers"][1]["created_by"], "RUN step 1");
        }
    }
}

#[test]
fn oci_layout_and_archive_with_tag() {
    let d = temp();
    let dir = d.path().join("layout");
    oci_layout(&dir, &[("amd64", layers())], Z::Gzip, "v1");
    for target in [
        format!("oci:{}", path_str(&dir)),
        format!("oci:{}:v1", path_str(&dir)),
        path_str(&dir),
    ] {
        let (r, _) = sbom_json(&target, &[]);
        assert_eq!(package_list(&r), EXPECTED, "{target}");
        assert!(r["targets"][0]["layers"][0]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:"));
    }
    let out = holdfast()
        .args([
            "sbom",
            "-f",
            "json",
            "--no-cache",
            &format!("oci:{}:nope", path_str(&dir)),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no image tagged `nope`"));
    let archive = d.path().join("layout.tar");
    tar_dir(&dir, &archive);
    for target in [
        format!("oci-archive:{}", path_str(&archive)),
        path_str(&archive),
    ] {
        let (r, _) = sbom_json(&target, &[]);
        assert_eq!(package_list(&r), EXPECTED, "{target}");
    }
}

#[test]
fn oci_index_picks_host_platform_unless_told() {
    let d = temp();
    let dir = d.path().join("multi");
    let arm = vec![debian_base(&[("only-on-arm", "1.0")])];
    let amd = vec![debian_base(&[("only-on-amd64", "1.0")])];
    let host = if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "amd64"
    };
    oci_layout(&dir, &[("arm64", arm), ("amd64", amd)], Z::Zstd, "multi");
    let (r, _) = sbom_json(&path_str(&dir), &[]);
    let want = if host == "amd64" {
        "only-on-amd64=1.0"
    } else {
        "only-on-arm=1.0"
    };
    assert_eq!(package_list(&r), vec![want]);
    let (r, _) = sbom_json(&path_str(&dir), &["--platform", "linux/arm64"]);
    assert_eq!(package_list(&r), vec!["only-on-arm=1.0"]);
    assert_eq!(r["targets"][0]["platform"], "linux/arm64");
    let out = holdfast()
        .args([
            "sbom",
            "--no-cache",
            &path_str(&dir),
            "--platform",
            "linux/s390x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("linux/s390x") && err.contains("linux/arm64, linux/amd64"),
        "{err}"
    );
}

#[test]
fn rootfs_directory() {
    let d = temp();
    let root = d.path();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("lib/apk/db")).unwrap();
    std::fs::write(root.join("etc/alpine-release"), "3.19.1\n").unwrap();
    std::fs::write(
        root.join("lib/apk/db/installed"),
        "P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\n\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\n\n",
    )
    .unwrap();
    // A symlink out of the root must not be followed onto the host.
    std::os::unix::fs::symlink("/etc/os-release", root.join("etc/os-release")).unwrap();
    let out = holdfast()
        .args([
            "scan",
            "rootfs",
            "-f",
            "json",
            "--no-cache",
            &path_str(root),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        package_list(&r),
        vec!["libcrypto3=3.1.4-r5", "musl=1.2.4-r2"]
    );
    let t = &r["targets"][0];
    assert_eq!(t["kind"], "rootfs");
    assert_eq!(t["os"]["family"], "alpine");
    assert_eq!(t["os"]["version"], "3.19.1");
    assert_eq!(
        t["packages"][0]["purl"],
        "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=3.19.1"
    );
    assert_eq!(t["packages"][0]["source_name"], "openssl");
}

#[test]
fn distroless_status_d() {
    let l = layer(&[
        f("etc/os-release", "PRETTY_NAME=\"Distroless\"\nNAME=\"Debian GNU/Linux\"\nID=\"debian\"\nVERSION_ID=\"12\"\n"),
        f("var/lib/dpkg/status.d/base", "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n"),
        f("var/lib/dpkg/status.d/libssl3", "Package: libssl3\nSource: openssl\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\n"),
        f("var/lib/dpkg/status.d/libssl3.md5sums", "0123  usr/lib/x86_64-linux-gnu/libssl.so.3\n"),
    ]);
    let d = temp();
    let p = d.path().join("distroless.tar");
    docker_archive(&p, &[l], Z::Plain, &[]);
    let (r, _) = sbom_json(&path_str(&p), &[]);
    assert_eq!(
        package_list(&r),
        vec!["base-files=12.4+deb12u5", "libssl3=3.0.11-1~deb12u2"]
    );
    let t = &r["targets"][0];
    assert_eq!(t["os"]["family"], "debian");
    assert_eq!(t["os"]["pretty_name"], "Distroless");
    assert_eq!(t["packages"][1]["path"], "/var/lib/dpkg/status.d/libssl3");
    assert_eq!(t["packages"][1]["source_name"], "openssl");
}
