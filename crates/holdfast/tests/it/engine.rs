//! The scan engine as another front end uses it: eight requests at once inside one tokio
//! runtime, sharing one database handle and one layer cache, give the same targets as
//! eight sequential runs of the command line; a rebuilt database swapped in reaches new
//! requests while a request holding the old one keeps it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use holdfast_model::FindingKind;
use holdfast_policy::Policy;
use holdfast_scan::{
    AnalyzerGroup, CancelToken, CheckConfig, DbLocation, NoProgress, ScanError, ScanRequest,
    Target, VulnDbHandle, WalkLimits,
};
use holdfast_source::{LayerCache, OpenOptions, TargetSpec};

use crate::common::*;

/// The scanners both sides run (weak-password guessing is left out: it is bounded by
/// time, not by work, and would only slow the test).
const SCANNERS: &str = "vuln,secret,malware,webshell,backdoor,escape,history,suid";

/// Seven small Debian images with different package sets and one planted secret each,
/// plus the demo image: eight targets.
fn images(dir: &Path) -> Vec<PathBuf> {
    let sets: [&[(&str, &str)]; 7] = [
        &[("curl", "7.88.1-10+deb12u3")],
        &[("curl", "7.88.1-10+deb12u4"), ("libexpat1", "2.5.0-1")],
        &[("openssl", "3.0.11-1~deb12u2")],
        &[
            ("openssl", "3.0.13-1~deb12u1"),
            ("curl", "7.88.1-10+deb12u5"),
        ],
        &[("expat", "2.5.0-1+deb12u1"), ("curl", "7.88.1-10")],
        &[("bash", "5.2.15-2+b2")],
        &[("openssl", "3.0.9-1"), ("expat", "2.5.0-1")],
    ];
    let mut out = vec![repo_root().join("fixtures/demo/demo-image.tar")];
    for (i, packages) in sets.iter().enumerate() {
        let key = format!("AKIA{}", "Q7ZL3MXW5R2TN8VB".get(i..).unwrap_or("X"));
        let secret = format!("aws_access_key_id = {key:0<20}\n");
        let app = layer(&[f("app/settings.ini", &secret)]);
        let path = dir.join(format!("img{i}.tar"));
        docker_archive(&path, &[debian_base(packages), app], Z::Gzip, &[]);
        out.push(path);
    }
    out
}

/// The result's targets as JSON, for comparison (the time stamps differ by run).
fn targets_json(result: &serde_json::Value) -> serde_json::Value {
    result["targets"].clone()
}

fn request(target: &Path, db: &VulnDbHandle, cache: &Path) -> ScanRequest {
    let name = target.display().to_string();
    ScanRequest {
        targets: vec![Target::Spec {
            spec: TargetSpec::parse_image(&name).unwrap(),
            name,
        }],
        scanners: SCANNERS
            .split(',')
            .map(|s| s.parse::<FindingKind>().unwrap())
            .collect(),
        sbom: false,
        package_types: vec![AnalyzerGroup::OsPackages, AnalyzerGroup::Library],
        skip_os_owned: false,
        checks: CheckConfig::default(),
        policy: Policy {
            today: Some(time::OffsetDateTime::now_utc().date()),
            ..Policy::default()
        },
        ignore_source: None,
        open: OpenOptions::default(),
        walk: WalkLimits {
            max_file_bytes: 64 << 20,
            ..WalkLimits::default()
        },
        cache: Some(LayerCache::new(cache)),
        db: db.clone(),
        cancel: CancelToken::new(),
        plugins: Default::default(),
        misconfig: Default::default(),
    }
}

fn build_db(from: &Path, out: &Path) {
    let st = holdfast()
        .args([
            "db",
            "build",
            "-q",
            "--from",
            &path_str(from),
            "-o",
            &path_str(out),
        ])
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn concurrent_requests_match_sequential_cli_runs() {
    let d = temp();
    let db_path = d.path().join("osv.db");
    build_db(&repo_root().join("fixtures/demo/advisories"), &db_path);
    let images = images(d.path());
    assert_eq!(images.len(), 8);

    // Eight runs of the command line, one after the other, on a cache of their own.
    let cli_cache = d.path().join("cli-cache");
    let sequential: Vec<serde_json::Value> = images
        .iter()
        .map(|img| {
            let out = holdfast()
                .args(["scan", "image", "-f", "json", "--scanners", SCANNERS])
                .args([
                    "--db",
                    &path_str(&db_path),
                    "--cache-dir",
                    &path_str(&cli_cache),
                ])
                .arg(img)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice(&out.stdout).unwrap()
        })
        .collect();

    // The same eight at once, through the engine, in one runtime, sharing one handle
    // and one (cold) cache.
    let handle = VulnDbHandle::new(DbLocation::Explicit(db_path.clone()));
    let engine_cache = d.path().join("engine-cache");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let concurrent: Vec<serde_json::Value> = runtime.block_on(async {
        let tasks: Vec<_> = images
            .iter()
            .map(|img| {
                let req = request(img, &handle, &engine_cache);
                tokio::spawn(holdfast_scan::scan_async(req, Arc::new(NoProgress)))
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            let result = t.await.unwrap().unwrap();
            out.push(serde_json::to_value(&result).unwrap());
        }
        out
    });

    let mut findings = 0;
    for (cli, engine) in sequential.iter().zip(&concurrent) {
        assert_eq!(targets_json(cli), targets_json(engine));
        assert_eq!(cli["db"], engine["db"]);
        findings += engine["summary"]["findings"].as_u64().unwrap();
    }
    // Not vacuous: vulnerabilities and secrets were found across the images.
    assert!(findings >= 20, "only {findings} findings");
    let kinds = serde_json::to_string(&concurrent).unwrap();
    assert!(kinds.contains("\"vulnerability\"") && kinds.contains("\"secret\""));
}

#[test]
fn reload_swaps_the_database_for_new_requests_only() {
    let d = temp();
    let osv = d.path().join("osv");
    std::fs::create_dir_all(&osv).unwrap();
    let demo = repo_root().join("fixtures/demo/advisories");
    // First a database with the curl advisories only, then with all of them.
    for entry in std::fs::read_dir(&demo).unwrap() {
        let p = entry.unwrap().path();
        if p.file_name().unwrap().to_string_lossy().contains("curl") {
            std::fs::copy(&p, osv.join(p.file_name().unwrap())).unwrap();
        }
    }
    let db_path = d.path().join("holdfast.db");
    build_db(&osv, &db_path);
    let handle = VulnDbHandle::new(DbLocation::Explicit(db_path.clone()));
    let img = d.path().join("img.tar");
    docker_archive(
        &img,
        &[debian_base(&[
            ("curl", "7.88.1-10"),
            ("openssl", "3.0.9-1"),
        ])],
        Z::Gzip,
        &[],
    );
    let scan_ids = |h: &VulnDbHandle| -> Vec<String> {
        let result =
            holdfast_scan::scan(&request(&img, h, &d.path().join("c")), &NoProgress).unwrap();
        let mut ids: Vec<String> = result.targets[0]
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::Vulnerability)
            .map(|f| f.id.clone())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(scan_ids(&handle), ["CVE-2023-38545", "CVE-2023-46218"]);
    let held = handle.get(&NoProgress).unwrap();
    assert_eq!(held.description().advisories, 2);

    // `db update` writes a new file and renames it into place; then the handle reloads.
    build_db(&demo, &db_path);
    handle.reload(&NoProgress).unwrap();
    assert_eq!(
        scan_ids(&handle),
        [
            "CVE-2023-38545",
            "CVE-2023-46218",
            "CVE-2023-5678",
            "CVE-2024-0727"
        ]
    );
    // The request that held the old database still reads the old file.
    assert_eq!(held.description().advisories, 2);
    let old = held
        .db()
        .match_packages(None, &[])
        .expect("the old database is still readable");
    assert!(old.is_empty());
}

#[test]
fn a_cancelled_request_stops_with_an_error() {
    let d = temp();
    let handle = VulnDbHandle::new(DbLocation::Explicit(d.path().join("none.db")));
    let img = d.path().join("img.tar");
    docker_archive(&img, &[debian_base(&[("curl", "7.88.1-10")])], Z::Gzip, &[]);
    let req = request(&img, &handle, &d.path().join("c"));
    req.cancel.cancel();
    assert!(matches!(
        holdfast_scan::scan(&req, &NoProgress),
        Err(ScanError::Cancelled)
    ));
    // A deadline already past stops it the same way.
    let mut req = request(&img, &handle, &d.path().join("c"));
    req.cancel = CancelToken::with_deadline(std::time::Instant::now());
    assert!(matches!(
        holdfast_scan::scan(&req, &NoProgress),
        Err(ScanError::DeadlineExceeded)
    ));
}
