//! Hostile images: every case gets a clear warning or error, the rest of the scan goes on,
//! nothing is written or read on the host outside the image, memory stays bounded.

use std::process::{Command, Stdio};

use crate::common::*;

/// Runs a command and returns (stdout, stderr, exit code, peak RSS in MiB as the process
/// itself measured it: a parent's wait4 would also count the test's own memory).
fn run_measured(mut cmd: Command) -> (Vec<u8>, String, i32, u64) {
    let out = cmd
        .env("HOLDFAST_PRINT_PEAK_RSS", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let kib: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("holdfast: peak RSS "))
        .and_then(|v| v.trim_end_matches(" KiB").parse().ok())
        .expect("the binary reports its peak RSS");
    (out.stdout, err, out.status.code().unwrap_or(-1), kib / 1024)
}

/// The memory ceiling documented in the README for these inputs.
const CEILING_MIB: u64 = 300;

fn scan(img: &std::path::Path, extra: &[&str]) -> (serde_json::Value, String, u64) {
    let mut c = holdfast();
    c.args(["sbom", "-f", "json", "--no-cache", &path_str(img)])
        .args(extra);
    let (out, err, code, rss) = run_measured(c);
    assert_eq!(code, 0, "scan failed: {err}");
    assert!(
        rss < CEILING_MIB,
        "peak RSS {rss} MiB over the {CEILING_MIB} MiB ceiling"
    );
    (serde_json::from_slice(&out).unwrap(), err, rss)
}

#[test]
fn climbing_and_absolute_entry_names() {
    let d = temp();
    let l = layer(&[
        E::RawName(
            b"../../../../tmp/holdfast-escape/var/lib/dpkg/status",
            b"Package: evil\nVersion: 1\n".to_vec(),
        ),
        E::RawName(
            b"/var/lib/dpkg/status",
            b"Package: bash\nStatus: install ok installed\nVersion: 5.2\n".to_vec(),
        ),
    ]);
    let p = d.path().join("img.tar");
    docker_archive(&p, &[l], Z::Plain, &[]);
    let (r, _, _) = scan(&p, &[]);
    assert_eq!(package_list(&r), vec!["bash=5.2"]);
    assert!(
        warnings_text(&r).contains("climbs out of the layer root"),
        "{}",
        warnings_text(&r)
    );
    assert!(!std::path::Path::new("/tmp/holdfast-escape").exists());
}

#[test]
fn symlinks_resolve_inside_the_image_only() {
    let d = temp();
    // os-release climbs with `..` and another link is absolute: both must land in the image.
    let l = layer(&[
        E::Symlink(
            "etc/os-release",
            "../../../../../../../../usr/lib/os-release",
        ),
        f("usr/lib/os-release", "ID=alpine\nVERSION_ID=3.19.1\n"),
        E::Symlink("etc/alpine-release", "/etc/hostname"),
    ]);
    let p = d.path().join("img.tar");
    docker_archive(&p, &[l], Z::Plain, &[]);
    let (r, _, _) = scan(&p, &[]);
    assert_eq!(r["targets"][0]["os"]["family"], "alpine");
    // A link to a host path that the image lacks finds nothing (the host has os-release).
    let l = layer(&[E::Symlink(
        "etc/os-release",
        "/proc/self/root/etc/os-release",
    )]);
    let p2 = d.path().join("img2.tar");
    docker_archive(&p2, &[l], Z::Plain, &[]);
    let (r, _, _) = scan(&p2, &[]);
    assert!(r["targets"][0]["os"].is_null(), "{}", r["targets"][0]["os"]);
}

#[test]
fn files_written_through_a_lower_symlinked_directory() {
    let d = temp();
    let lower = layer(&[
        E::Dir("opt/db"),
        E::Symlink("var/lib/dpkg", "/../../opt/db"),
    ]);
    let upper = layer(&[f(
        "var/lib/dpkg/status",
        "Package: bash\nStatus: install ok installed\nVersion: 5.2\n",
    )]);
    let p = d.path().join("img.tar");
    docker_archive(&p, &[lower, upper], Z::Plain, &[]);
    let (r, _, _) = scan(&p, &[]);
    assert_eq!(package_list(&r), vec!["bash=5.2"]);
    assert_eq!(r["targets"][0]["packages"][0]["path"], "/opt/db/status");
}

#[test]
fn hard_links_missing_outside_and_cyclic() {
    let d = temp();
    let status = "Package: bash\nStatus: install ok installed\nVersion: 5.2\n";
    let l = layer(&[
        f("usr/lib/os-release", "ID=debian\nVERSION_ID=12\n"),
        E::Hardlink("etc/os-release", "usr/lib/os-release"),
        E::Hardlink("var/lib/dpkg/status", "nowhere/status"),
        E::Hardlink("lib/apk/db/installed", "../../../etc/passwd"),
        E::Hardlink("a", "b"),
        E::Hardlink("b", "a"),
        f("real/status", status),
    ]);
    let p = d.path().join("img.tar");
    docker_archive(&p, &[l], Z::Plain, &[]);
    let (r, _, _) = scan(&p, &[]);
    assert_eq!(
        r["targets"][0]["os"]["family"], "debian",
        "a hard link shares its target's facts"
    );
    assert!(package_list(&r).is_empty());
    let w = warnings_text(&r);
    assert!(w.contains("hard link to `/nowhere/status`"), "{w}");
    assert!(w.contains("climbing target"), "{w}");
}

#[test]
fn gzip_bomb_layer_is_bounded_and_other_layers_still_scanned() {
    let d = temp();
    let good = debian_base(&[("bash", "5.2")]);
    let bomb_raw = layer(&[E::File("zeros", vec![0u8; 64 << 20])]);
    let p = d.path().join("bomb.tar");
    docker_archive(&p, &[good, bomb_raw.clone()], Z::Gzip, &[]);
    let (r, _, _) = scan(&p, &["--max-layer-size", "8000000"]);
    assert_eq!(package_list(&r), vec!["bash=5.2"]);
    let w = warnings_text(&r);
    assert!(w.contains("decompression bomb"), "{w}");
    assert!(
        w.contains(&sha256(&bomb_raw)),
        "the warning names the layer: {w}"
    );
}

#[test]
fn truncated_layer() {
    let d = temp();
    let good = debian_base(&[("bash", "5.2")]);
    let big = layer(&[E::File(
        "big",
        (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect(),
    )]);
    let gz = compress(&big, Z::Gzip);
    let p = d.path().join("trunc.tar");
    docker_archive(
        &p,
        &[good, big.clone()],
        Z::Gzip,
        &[(1, gz[..gz.len() / 2].to_vec())],
    );
    let (r, _, _) = scan(&p, &[]);
    assert_eq!(package_list(&r), vec!["bash=5.2"]);
    let w = warnings_text(&r);
    assert!(
        w.contains("layer stream stopped") && w.contains(&sha256(&big)),
        "{w}"
    );
}

#[test]
fn bad_manifests_are_clear_errors() {
    let d = temp();
    let p = d.path().join("notjson.tar");
    {
        let mut b = tar::Builder::new(std::fs::File::create(&p).unwrap());
        let mut h = tar::Header::new_gnu();
        h.set_size(9);
        h.set_mode(0o644);
        b.append_data(&mut h, "manifest.json", &b"{not json"[..])
            .unwrap();
        b.finish().unwrap();
    }
    let out = holdfast()
        .args(["sbom", "--no-cache", &path_str(&p)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("manifest.json") && err.contains("not a valid docker-archive manifest"),
        "{err}"
    );

    let p2 = d.path().join("missing.tar");
    {
        let cfg = config(&[], "amd64");
        let mut b = tar::Builder::new(std::fs::File::create(&p2).unwrap());
        for (name, data) in [
            ("c.json", cfg),
            (
                "manifest.json",
                br#"[{"Config":"c.json","Layers":["gone/layer.tar"]}]"#.to_vec(),
            ),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, &data[..]).unwrap();
        }
        b.finish().unwrap();
    }
    let out = holdfast()
        .args(["sbom", "--no-cache", &path_str(&p2)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("gone/layer.tar"), "{err}");
}

#[test]
fn ten_thousand_deep_tree() {
    let d = temp();
    let mut b = tar::Builder::new(Vec::new());
    let mut path = String::new();
    for _ in 0..10_000 {
        path.push_str("d/");
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        b.append_data(&mut h, &path, std::io::empty()).unwrap();
    }
    let deep = b.into_inner().unwrap();
    let p = d.path().join("deep.tar");
    docker_archive(&p, &[debian_base(&[("bash", "5.2")]), deep], Z::Plain, &[]);
    let (r, _, _) = scan(&p, &[]);
    assert_eq!(package_list(&r), vec!["bash=5.2"]);
    assert!(
        warnings_text(&r).contains("longer than 4096"),
        "{}",
        warnings_text(&r)
    );
}

#[test]
fn garbage_and_long_lines_in_dpkg_status() {
    let d = temp();
    let mut status = b"Package: bash\nStatus: install ok installed\nVersion: 5.2\n\n".to_vec();
    status.extend(std::iter::repeat_n(b'x', 100_000));
    status.extend(b"\nDescription: ");
    status.extend(std::iter::repeat_n(b'y', 100_000));
    status.extend(b"\n\n\x00\xff\xfe garbage \x01\n\nPackage: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13\n");
    let l = layer(&[E::File("var/lib/dpkg/status", status)]);
    let p = d.path().join("img.tar");
    docker_archive(&p, &[l], Z::Plain, &[]);
    let (r, _, _) = scan(&p, &[]);
    assert_eq!(package_list(&r), vec!["bash=5.2", "zlib1g=1:1.2.13"]);
    assert!(
        warnings_text(&r).contains("unreadable lines skipped"),
        "{}",
        warnings_text(&r)
    );
}
