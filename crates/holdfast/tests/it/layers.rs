//! Merging layers: whiteouts, opaque directories, attribution, and the layer cache.

use crate::common::*;

#[test]
fn whiteouts_and_opaque_dirs_and_attribution() {
    let base = debian_base(&[("bash", "5.2.15-2+b2")]);
    let upper = layer(&[
        // dpkg rewrote its database: bash stays from the base, curl is new here.
        E::File(
            "var/lib/dpkg/status",
            b"Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n\nPackage: curl\nStatus: install ok installed\nVersion: 7.88.1-10+deb12u4\nArchitecture: amd64\n".to_vec(),
        ),
        E::File("lib/apk/db/installed", b"P:ghost\nV:1.0\n\n".to_vec()),
    ]);
    let top = layer(&[
        f("lib/apk/db/.wh.installed", ""),
        f("usr/lib/.wh..wh..opq", ""),
    ]);
    let raw = vec![base.clone(), upper.clone(), top];
    let d = temp();
    let p = d.path().join("img.tar");
    docker_archive(&p, &raw, Z::Plain, &[]);
    let (r, _) = sbom_json(&path_str(&p), &[]);
    assert_eq!(
        package_list(&r),
        vec!["bash=5.2.15-2+b2", "curl=7.88.1-10+deb12u4"]
    );
    let pk = r["targets"][0]["packages"].as_array().unwrap();
    assert_eq!(
        pk[0]["layer"],
        sha256(&base),
        "bash was installed in the base layer"
    );
    assert_eq!(
        pk[1]["layer"],
        sha256(&upper),
        "curl arrived with the upper layer"
    );
    // The opaque /usr/lib hid os-release; /etc/os-release now dangles: no OS from it.
    assert!(r["targets"][0]["os"].is_null());
}

#[test]
fn cache_is_used_and_keyed_by_diff_id() {
    let d = temp();
    let cache = d.path().join("cache");
    let raw = vec![debian_base(&[("bash", "5.2.15-2+b2")])];
    let good = d.path().join("good.tar");
    docker_archive(&good, &raw, Z::Gzip, &[]);
    let run = |img: &std::path::Path, extra: &[&str]| {
        let out = holdfast()
            .args([
                "sbom",
                "-f",
                "json",
                "--cache-dir",
                &path_str(&cache),
                &path_str(img),
            ])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success());
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let first = run(&good, &[]);
    assert_eq!(package_list(&first), vec!["bash=5.2.15-2+b2"]);
    assert!(walkdir_count(&cache) >= 1, "a cache entry was written");
    // Same diff_id, unreadable blob: only a cache hit can still list bash.
    let broken = d.path().join("broken.tar");
    docker_archive(&broken, &raw, Z::Gzip, &[(0, b"not a layer".to_vec())]);
    assert_eq!(package_list(&run(&broken, &[])), vec!["bash=5.2.15-2+b2"]);
    let uncached = run(&broken, &["--no-cache"]);
    assert!(package_list(&uncached).is_empty());
    assert!(
        warnings_text(&uncached).contains("layer"),
        "{}",
        warnings_text(&uncached)
    );
}

#[test]
fn mismatched_diff_id_is_not_cached() {
    let d = temp();
    let cache = d.path().join("cache");
    let claimed = debian_base(&[("bash", "5.2.15-2+b2")]);
    let actual = debian_base(&[("evil", "6.6.6")]);
    let p = d.path().join("liar.tar");
    // The config claims `claimed`'s diff_id, the blob holds other bytes.
    docker_archive(&p, &[claimed], Z::Plain, &[(0, actual)]);
    let out = holdfast()
        .args([
            "sbom",
            "-f",
            "json",
            "--cache-dir",
            &path_str(&cache),
            &path_str(&p),
        ])
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(package_list(&r), vec!["evil=6.6.6"]);
    assert!(
        warnings_text(&r).contains("not to the diff_id"),
        "{}",
        warnings_text(&r)
    );
    assert_eq!(
        walkdir_count(&cache.join("layers")),
        0,
        "nothing cached under a diff_id the bytes do not have"
    );
}

fn walkdir_count(dir: &std::path::Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                n += 1;
            }
        }
    }
    n
}
