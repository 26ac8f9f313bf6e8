//! `--cache-url`: the layer cache shared by a fleet through S3-compatible storage, against
//! moto's S3 server on loopback (under `HOLDFAST_FULL_TESTS=1`; skipped with a note
//! otherwise). The store and the two-tier cache have their own tests in
//! `holdfast-remote-cache`, whose moto helper this file shares.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common::*;

#[path = "../../../holdfast-remote-cache/tests/moto/mod.rs"]
mod moto;

/// `holdfast sbom -f json` of `image` with the cache in `dir` and `url`, the AWS settings
/// given (and no other AWS variable of the caller's), logging the layers it analyses.
fn scan(image: &Path, dir: &Path, url: &str, settings: &[(&str, String)]) -> Output {
    let mut c: Command = holdfast();
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") {
            c.env_remove(name);
        }
    }
    c.args(["sbom", "-f", "json", "--cache-dir", &path_str(dir)])
        .args(["--cache-url", url, &path_str(image)])
        .envs(settings.iter().map(|(k, v)| (k, v)))
        .env("HOLDFAST_LOG", "warn,holdfast::fleet=debug")
        .output()
        .unwrap()
}

fn result(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "holdfast failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// How many layers the scan walked (the walker logs each one on `holdfast::fleet`).
fn analysed(out: &Output) -> usize {
    stderr(out)
        .lines()
        .filter(|l| l.contains("layer analysed"))
        .count()
}

/// The layer results in a cache directory, as `layers/SET/FILE` names.
fn entries(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(sets) = std::fs::read_dir(dir.join("layers")) else {
        return out;
    };
    for set in sets.flatten() {
        for f in std::fs::read_dir(set.path()).unwrap().flatten() {
            out.push(format!(
                "layers/{}/{}",
                set.file_name().to_string_lossy(),
                f.file_name().to_string_lossy()
            ));
        }
    }
    out.sort();
    out
}

/// What a result says about the image, without the parts that change between runs.
fn findings_and_packages(r: &serde_json::Value) -> serde_json::Value {
    let t = &r["targets"][0];
    serde_json::json!({"packages": t["packages"], "findings": t["findings"], "os": t["os"]})
}

#[test]
fn a_fleet_shares_layer_results_through_s3() {
    let Some(moto) = moto::moto_or_skip("a_fleet_shares_layer_results_through_s3") else {
        return;
    };
    moto.create_bucket("fleet");
    let settings = moto.settings();
    let d = temp();
    let raw = vec![
        debian_base(&[("bash", "5.2.15-2+b2"), ("curl", "7.88.1-10+deb12u4")]),
        layer(&[f(
            "app/requirements.txt",
            "requests==2.31.0\nurllib3==2.0.7\n",
        )]),
    ];
    let image = d.path().join("img.tar");
    docker_archive(&image, &raw, Z::Gzip, &[]);
    let url = "s3://fleet/ci";

    // Machine A: a cold cache everywhere; both layers are read and uploaded.
    let a = d.path().join("cache-a");
    let first = scan(&image, &a, url, &settings);
    let first_result = result(&first);
    assert_eq!(analysed(&first), 2, "{}", stderr(&first));
    assert!(!stderr(&first).contains("WARN"), "{}", stderr(&first));
    let local_a = entries(&a);
    assert_eq!(local_a.len(), 2, "{local_a:?}");
    let objects: Vec<String> = moto
        .keys("fleet")
        .into_iter()
        .filter(|k| k.starts_with("ci/layers/"))
        .collect();
    let expected: Vec<String> = local_a.iter().map(|e| format!("ci/{e}")).collect();
    assert_eq!(objects, expected, "every local entry was uploaded");

    // Machine B: an empty cache directory, the same bucket: nothing is read from the image.
    let b = d.path().join("cache-b");
    let second = scan(&image, &b, url, &settings);
    let second_result = result(&second);
    assert_eq!(analysed(&second), 0, "{}", stderr(&second));
    assert_eq!(entries(&b), local_a, "B keeps what it fetched");
    for e in &local_a {
        assert_eq!(
            std::fs::read(a.join(e)).unwrap(),
            std::fs::read(b.join(e)).unwrap()
        );
    }
    assert_eq!(
        findings_and_packages(&first_result),
        findings_and_packages(&second_result)
    );
    assert_eq!(
        package_list(&second_result),
        [
            "bash=5.2.15-2+b2",
            "curl=7.88.1-10+deb12u4",
            "requests=2.31.0",
            "urllib3=2.0.7"
        ]
    );

    // Machine C: the same diff_ids with unreadable blobs; only the bucket can answer.
    let broken = d.path().join("broken.tar");
    docker_archive(
        &broken,
        &raw,
        Z::Gzip,
        &[(0, b"gone".to_vec()), (1, b"gone".to_vec())],
    );
    let third = result(&scan(&broken, &d.path().join("cache-c"), url, &settings));
    assert_eq!(package_list(&third), package_list(&second_result));
}

#[test]
fn an_unusable_remote_cache_is_a_warning_not_a_failure() {
    let Some(moto) = moto::moto_or_skip("an_unusable_remote_cache_is_a_warning_not_a_failure")
    else {
        return;
    };
    let d = temp();
    let image = d.path().join("img.tar");
    docker_archive(
        &image,
        &[debian_base(&[("bash", "5.2.15-2+b2")])],
        Z::Gzip,
        &[],
    );

    // A bucket that does not exist: lookups miss, the upload fails and says so.
    let out = scan(
        &image,
        &d.path().join("missing"),
        "s3://no-such-bucket/x",
        &moto.settings(),
    );
    assert_eq!(package_list(&result(&out)), ["bash=5.2.15-2+b2"]);
    let err = stderr(&out);
    assert!(
        err.contains("WARN") && err.contains("remote cache s3://no-such-bucket/x"),
        "{err}"
    );
    assert!(!err.contains("moto-test-secret"), "{err}");
    assert_eq!(
        entries(&d.path().join("missing")).len(),
        1,
        "the local tier works"
    );

    // An endpoint nobody listens on: the scan reads the image, warns, and is not held up.
    let down = moto::settings_for(&format!("http://127.0.0.1:{}", moto::free_port()));
    let started = Instant::now();
    let out = scan(&image, &d.path().join("down"), "s3://fleet", &down);
    assert_eq!(package_list(&result(&out)), ["bash=5.2.15-2+b2"]);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let err = stderr(&out);
    assert!(
        err.contains("WARN")
            && err.contains("remote cache s3://fleet")
            && err.contains("going on without it"),
        "{err}"
    );
}

#[test]
fn a_cache_url_that_does_not_parse_is_a_flag_error() {
    let d = temp();
    for (url, says) in [
        ("gs://bucket/x", "unsupported cache URL `gs://bucket/x`"),
        (
            "s3://key:secret@fleet",
            "malformed cache URL `s3://***@fleet`",
        ),
    ] {
        let out = holdfast()
            .args([
                "sbom",
                "--cache-dir",
                &path_str(d.path()),
                "--cache-url",
                url,
            ])
            .arg(path_str(&d.path().join("no-image.tar")))
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(err.contains("--cache-url") && err.contains(says), "{err}");
        assert!(!err.contains("secret@"), "{err}");
    }
}
