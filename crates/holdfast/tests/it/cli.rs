//! The command line itself: help text and the demo image, under snapshot.

use crate::common::*;

/// Runs in the repository root so that paths in outputs are the same on every machine.
fn stdout_of(args: &[&str]) -> String {
    let out = holdfast()
        .current_dir(repo_root())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("help", stdout_of(&["--help"]));
    insta::assert_snapshot!("help_scan_image", stdout_of(&["scan", "image", "--help"]));
    insta::assert_snapshot!("help_sbom", stdout_of(&["sbom", "--help"]));
}

fn demo() -> String {
    "fixtures/demo/demo-image.tar".to_string()
}

#[test]
fn demo_image_table() {
    insta::assert_snapshot!(
        "demo_table",
        stdout_of(&["scan", "image", "--no-cache", "--scanners", "vuln", &demo()])
    );
}

/// The README's first command: every scanner has something to say about the demo image.
#[test]
fn demo_image_all_scanners() {
    let out = stdout_of(&["scan", "image", "--no-cache", &demo()]);
    for section in [
        "Vulnerabilities (12)",
        "Secrets (1)",
        "Malware (1)",
        "Webshells (1)",
        "Backdoors (1)",
        "Weak passwords (1)",
        "Image history (2)",
    ] {
        assert!(out.contains(section), "no `{section}` in:\n{out}");
    }
    insta::assert_snapshot!("demo_all_scanners", out);
}

#[test]
fn demo_image_formats() {
    let filters = vec![
        (r#""created_at": "[^"]+""#, r#""created_at": "[time]""#),
        (r#""timestamp": "[^"]+""#, r#""timestamp": "[time]""#),
        (r#""created": "[^"]+""#, r#""created": "[time]""#),
        (r#"urn:uuid:[0-9a-f-]+"#, "urn:uuid:[uuid]"),
        (r#"holdfast-[0-9a-f]{8}-[0-9a-f-]+"#, "holdfast-[uuid]"),
        (r#""version": "\d+\.\d+\.\d+""#, r#""version": "[version]""#),
        (r#"holdfast-\d+\.\d+\.\d+"#, "holdfast-[version]"),
    ];
    for format in ["json", "cyclonedx", "spdx"] {
        let out = stdout_of(&[
            "sbom",
            "--no-cache",
            "-f",
            format,
            "--pkg-types",
            "os",
            &demo(),
        ]);
        insta::with_settings!({filters => filters.clone()}, {
            insta::assert_snapshot!(format!("demo_{format}"), out);
        });
    }
}

#[test]
fn several_formats_into_a_directory() {
    let d = temp();
    let out_dir = d.path().join("out");
    let table = stdout_of(&[
        "sbom",
        "--no-cache",
        "-f",
        "table,json,spdx",
        "-o",
        &path_str(&out_dir),
        &demo(),
    ]);
    assert!(table.contains("libssl3"), "the table also goes to stdout");
    for name in [
        "demo-image.tar.json",
        "demo-image.tar.spdx.json",
        "demo-image.tar.txt",
    ] {
        assert!(out_dir.join(name).is_file(), "{name}");
    }
}

#[test]
fn unknown_flags_values_fail_clearly() {
    let out = holdfast()
        .current_dir(repo_root())
        .args(["sbom", "-f", "xml", &demo()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown format `xml`"));
    let out = holdfast()
        .current_dir(repo_root())
        .args(["sbom", "--pkg-types", "nope", &demo()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--pkg-types"));
}

#[test]
fn vulnerability_scan_with_a_built_database() {
    let d = temp();
    let db = d.path().join("osv.db");
    let fixtures = repo_root().join("crates/holdfast-vulndb/tests/fixtures/osv");
    stdout_of(&[
        "db",
        "build",
        "--from",
        &path_str(&fixtures),
        "-o",
        &path_str(&db),
    ]);
    let info = stdout_of(&["db", "info", "--db", &path_str(&db)]);
    assert!(info.contains("Debian:12"), "{info}");
    let out = stdout_of(&[
        "scan",
        "image",
        "--no-cache",
        "-f",
        "json",
        "--db",
        &path_str(&db),
        &demo(),
    ]);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let findings = r["targets"][0]["findings"].as_array().unwrap();
    let has = |pkg: &str, id: &str| {
        findings
            .iter()
            .any(|f| f["package"] == pkg && f["id"] == id)
    };
    // libssl3 is matched through its source package, openssl.
    assert!(has("libssl3", "CVE-2023-5678"), "{findings:?}");
    assert!(has("Django", "CVE-2021-33203"));
    assert!(has("minimist", "CVE-2020-7598"));
    assert_eq!(r["db"]["advisories"], 15);
    // Without a database the scan matches the bundled demo advisories and says so.
    let out = holdfast()
        .current_dir(repo_root())
        .args(["scan", "image", "--no-cache", "-f", "json", &demo()])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("holdfast db build"));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["db"]["demo"], true);
    let findings = r["targets"][0]["findings"].as_array().unwrap();
    let has = |pkg: &str, id: &str| {
        findings
            .iter()
            .any(|f| f["package"] == pkg && f["id"] == id)
    };
    assert!(has("libssl3", "CVE-2024-0727"));
    assert!(has("PyYAML", "CVE-2020-1747"));
    let pyyaml = findings
        .iter()
        .find(|f| f["id"] == "CVE-2020-1747")
        .unwrap();
    assert_eq!(
        pyyaml["cvss"]["score"], 9.8,
        "the vector's base score is kept"
    );
    assert_eq!(pyyaml["severity"], "CRITICAL");
    assert!(has("lodash", "CVE-2020-8203"));
    // curl 7.88.1-10+deb12u4 is the fixed version of CVE-2023-38545: not reported.
    assert!(!has("curl", "CVE-2023-38545"));
    assert!(has("curl", "CVE-2023-46218"));
    // A named database that is missing is an error.
    let out = holdfast()
        .current_dir(repo_root())
        .args(["scan", "image", "--db", "/nonexistent.db", &demo()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn gates_severity_unfixed_ignore_file_and_exit_code() {
    let run = |extra: &[&str]| {
        let out = holdfast()
            .current_dir(repo_root())
            .args(["scan", "image", "-q", "--no-cache", "-f", "json"])
            .args(["--scanners", "vuln"])
            .args(extra)
            .arg(demo())
            .output()
            .unwrap();
        let ids: Vec<String> = serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .map(|r| {
                r["targets"][0]["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| {
                        format!(
                            "{}:{}",
                            f["package"].as_str().unwrap(),
                            f["id"].as_str().unwrap()
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        (out.status.code(), ids)
    };
    let (code, all) = run(&[]);
    assert_eq!(code, Some(0), "no --exit-code: 0 whatever is found");
    assert!(all.len() > 5);
    let (code, critical) = run(&["--severity", "CRITICAL", "--exit-code", "3"]);
    assert_eq!(code, Some(3));
    assert!(
        !critical.is_empty() && critical.iter().all(|i| i.contains("CVE-2020-1747")),
        "{critical:?}"
    );
    let d = temp();
    let ignore = d.path().join("ignore");
    std::fs::write(&ignore, "# accepted: not loaded from untrusted input\nCVE-2020-1747 exp:2999-12-31\nCVE-2024-0727 pkg:openssl\n").unwrap();
    let (code, left) = run(&[
        "--severity",
        "CRITICAL",
        "--exit-code",
        "3",
        "--ignorefile",
        &path_str(&ignore),
    ]);
    assert_eq!((code, left.len()), (Some(0), 0));
    let (_, scoped) = run(&["--ignorefile", &path_str(&ignore)]);
    assert!(
        scoped.contains(&"libssl3:CVE-2024-0727".to_string()),
        "the pkg: scope keeps libssl3"
    );
    assert!(!scoped.contains(&"openssl:CVE-2024-0727".to_string()));
    std::fs::write(&ignore, "CVE-2020-1747 exp:2020-01-01\n").unwrap();
    let (_, expired) = run(&["--severity", "CRITICAL", "--ignorefile", &path_str(&ignore)]);
    assert!(!expired.is_empty(), "an expired rule no longer suppresses");
}

#[test]
fn openvex_statements_suppress_and_are_kept() {
    let d = temp();
    let vex = d.path().join("demo.vex.json");
    std::fs::write(
        &vex,
        r#"{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.invalid/vex/demo-1",
  "author": "holdfast tests",
  "timestamp": "2026-01-01T00:00:00Z",
  "version": 1,
  "statements": [
    {
      "vulnerability": {"name": "CVE-2020-1747"},
      "products": [{"@id": "pkg:oci/demo", "subcomponents": [{"@id": "pkg:pypi/pyyaml@5.3"}]}],
      "status": "not_affected",
      "justification": "vulnerable_code_not_in_execute_path",
      "impact_statement": "full_load is never called"
    },
    {
      "vulnerability": {"name": "CVE-2023-46218"},
      "products": [{"@id": "pkg:deb/debian/curl@7.88.1-10+deb12u4?arch=amd64"}],
      "status": "affected"
    },
    {
      "vulnerability": "GHSA-p6mc-m468-83gw",
      "products": ["pkg:npm/lodash@4.17.14"],
      "status": "fixed"
    }
  ]
}"#,
    )
    .unwrap();
    let out = holdfast()
        .current_dir(repo_root())
        .args([
            "scan",
            "image",
            "-q",
            "--no-cache",
            "-f",
            "json",
            "--exit-code",
            "4",
            "--scanners",
            "vuln",
            "--vex",
            &path_str(&vex),
            &demo(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "other findings remain");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &r["targets"][0];
    let ids = |key: &str| -> Vec<String> {
        t[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| {
                        format!(
                            "{}:{}",
                            f["package"].as_str().unwrap(),
                            f["id"].as_str().unwrap()
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let findings = ids("findings");
    let suppressed = ids("suppressed");
    assert!(
        !findings.iter().any(|i| i.ends_with("CVE-2020-1747")),
        "{findings:?}"
    );
    assert_eq!(
        suppressed
            .iter()
            .filter(|i| i.ends_with("CVE-2020-1747"))
            .count(),
        1,
        "one finding for PyYAML 5.3, found in two places: {suppressed:?}"
    );
    let s = &t["suppressed"][0];
    assert_eq!(s["locations"].as_array().map(Vec::len), Some(2));
    assert_eq!(s["suppression"]["by"], "vex");
    assert_eq!(
        s["suppression"]["statement"]["justification"],
        "vulnerable_code_not_in_execute_path"
    );
    // `affected` changes nothing; a `fixed` statement for another version does not apply.
    assert!(findings.contains(&"curl:CVE-2023-46218".to_string()));
    assert!(findings.contains(&"lodash:CVE-2020-8203".to_string()));
    let bad = d.path().join("bad.json");
    std::fs::write(&bad, "{\"statements\": 3}").unwrap();
    let out = holdfast()
        .current_dir(repo_root())
        .args([
            "scan",
            "image",
            "-q",
            "--no-cache",
            "--vex",
            &path_str(&bad),
            &demo(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json"));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    // Like `holdfast sbom ... | head -c 0`: the reader is gone before anything is written
    // (the result, a few KiB, would fit in the pipe's buffer otherwise).
    let mut child = holdfast()
        .current_dir(repo_root())
        .args(["sbom", "-f", "json", "--no-cache", &demo()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    assert!(out.status.success(), "{stderr}");
}
