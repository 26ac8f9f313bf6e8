//! Severities from outside a record: an alias in the same database, NVD CVE API 2.0
//! files, Debian's security tracker. The inputs are small files in those formats, written
//! here.

use std::fs;
use std::io::Write;
use std::path::Path;

use holdfast_model::{OsFamily, OsRelease, Package, PackageType, Severity};
use holdfast_vulndb::{Builder, VulnDb};

fn debian12() -> OsRelease {
    OsRelease {
        family: OsFamily::Debian,
        version: "12".into(),
        pretty_name: None,
        codename: Some("bookworm".into()),
    }
}

fn package(t: PackageType, name: &str, version: &str, eco: Option<&str>) -> Package {
    Package {
        id: String::new(),
        name: name.into(),
        version: version.into(),
        package_type: t,
        purl: String::new(),
        source_name: None,
        source_version: None,
        arch: None,
        epoch: None,
        licenses: Vec::new(),
        vendor: None,
        ecosystem: eco.map(str::to_string),
        scope: None,
        layer: None,
        path: "/x".into(),
        owner: None,
        digests: Vec::new(),
        evidence: None,
    }
}

fn debian_record(id: &str, package: &str, fixed: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id, "modified": "2024-01-01T00:00:00Z",
        "aliases": [id.trim_start_matches("DEBIAN-")],
        "affected": [{
            "package": {"ecosystem": "Debian:12", "name": package},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]
        }]
    })
}

fn write_json(dir: &Path, name: &str, v: &serde_json::Value) {
    fs::write(dir.join(name), serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

/// NVD's shape: the newest version first in our preference; a secondary v3.1 metric that
/// must lose to the primary one.
fn nvd_feed() -> serde_json::Value {
    serde_json::json!({
        "resultsPerPage": 2, "format": "NVD_CVE", "version": "2.0",
        "vulnerabilities": [
            {"cve": {"id": "CVE-2023-0001", "metrics": {
                "cvssMetricV31": [
                    {"source": "cna@example.invalid", "type": "Secondary",
                     "cvssData": {"version": "3.1", "vectorString": "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", "baseScore": 1.8, "baseSeverity": "LOW"}},
                    {"source": "nvd@nist.gov", "type": "Primary",
                     "cvssData": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8, "baseSeverity": "CRITICAL"}}
                ],
                "cvssMetricV2": [
                    {"source": "nvd@nist.gov", "type": "Primary",
                     "cvssData": {"version": "2.0", "vectorString": "AV:N/AC:L/Au:N/C:P/I:N/A:N", "baseScore": 5.0}}
                ]
            }}},
            {"cve": {"id": "CVE-2023-0004", "metrics": {}}}
        ]
    })
}

/// The tracker's shape: source package → CVE → releases.
fn tracker() -> serde_json::Value {
    serde_json::json!({
        "curl": {
            "CVE-2023-0002": {"scope": "remote", "releases": {
                "bookworm": {"status": "resolved", "urgency": "medium", "fixed_version": "7.88.1-10+deb12u5"},
                "bullseye": {"status": "open", "urgency": "high"}
            }},
            "CVE-2023-0003": {"releases": {"bookworm": {"status": "open", "urgency": "not yet assigned"}}}
        }
    })
}

#[test]
fn ratings_from_aliases_nvd_and_the_debian_tracker() {
    let dir = tempfile::tempdir().unwrap();
    let osv = dir.path().join("osv");
    fs::create_dir_all(&osv).unwrap();
    for (n, id) in [
        "CVE-2023-0001",
        "CVE-2023-0002",
        "CVE-2023-0003",
        "CVE-2023-0004",
    ]
    .iter()
    .enumerate()
    {
        write_json(
            &osv,
            &format!("d{n}.json"),
            &debian_record(&format!("DEBIAN-{id}"), "curl", "7.88.1-10+deb12u9"),
        );
    }
    // A PYSEC record that rates nothing, and its GHSA alias, which has a vector but is
    // about another package (so the two are never merged at match time).
    write_json(
        &osv,
        "pysec.json",
        &serde_json::json!({
            "id": "PYSEC-2023-1", "modified": "2024-01-01T00:00:00Z", "aliases": ["GHSA-aaaa-bbbb-cccc"],
            "affected": [{"package": {"ecosystem": "PyPI", "name": "demo"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}]
        }),
    );
    write_json(
        &osv,
        "ghsa.json",
        &serde_json::json!({
            "id": "GHSA-aaaa-bbbb-cccc", "modified": "2024-01-01T00:00:00Z",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
            "affected": [{"package": {"ecosystem": "PyPI", "name": "demo-other"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}]
        }),
    );
    // NVD gzipped, the tracker plain: both forms are read.
    let nvd = dir.path().join("nvdcve-2.0-2023.json.gz");
    let mut gz = flate2::write::GzEncoder::new(
        fs::File::create(&nvd).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(&serde_json::to_vec(&nvd_feed()).unwrap())
        .unwrap();
    gz.finish().unwrap();
    let tracker_path = dir.path().join("tracker.json");
    write_json(dir.path(), "tracker.json", &tracker());

    let db_path = dir.path().join("db");
    let mut b = Builder::create(&db_path).unwrap();
    b.add_path(&osv).unwrap();
    b.add_nvd(&nvd).unwrap();
    b.add_debian_tracker(&tracker_path).unwrap();
    let report = b.finish().unwrap();
    assert_eq!(report.enriched.from_alias, 1);
    assert_eq!(report.enriched.from_nvd, 1);
    assert_eq!(report.enriched.from_debian_tracker, 1);

    let db = VulnDb::open(&db_path).unwrap();
    let mut curl = package(PackageType::Deb, "curl", "7.88.1-10", None);
    curl.source_name = Some("curl".into());
    curl.source_version = Some("7.88.1-10".into());
    let mut rated: Vec<(String, Severity, Option<String>, Option<f64>)> = db
        .match_packages(Some(&debian12()), &[curl])
        .unwrap()
        .into_iter()
        .map(|m| {
            let f = m.finding;
            (
                f.id,
                f.severity,
                f.severity_source,
                f.cvss.and_then(|c| c.score),
            )
        })
        .collect();
    rated.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        rated,
        [
            // The primary v3.1 metric, not the secondary one or v2.
            (
                "CVE-2023-0001".into(),
                Severity::Critical,
                Some("nvd".into()),
                Some(9.8)
            ),
            // bookworm's urgency, not bullseye's.
            (
                "CVE-2023-0002".into(),
                Severity::Medium,
                Some("debian-tracker".into()),
                None
            ),
            // "not yet assigned" rates nothing.
            ("CVE-2023-0003".into(), Severity::Unknown, None, None),
            // In NVD without a metric.
            ("CVE-2023-0004".into(), Severity::Unknown, None, None),
        ]
    );

    let demo = package(PackageType::Python, "demo", "1.0", Some("PyPI"));
    let m = db.match_packages(None, &[demo]).unwrap();
    assert_eq!(m.len(), 1);
    let f = &m[0].finding;
    assert_eq!(f.id, "PYSEC-2023-1");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.severity_source.as_deref(), Some("GHSA-aaaa-bbbb-cccc"));
    assert_eq!(f.cvss.as_ref().and_then(|c| c.score), Some(7.5));
}

#[test]
fn a_file_that_is_not_nvd_json_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("nvd.json");
    fs::write(&bad, b"{\"vulnerabilities\": 3}").unwrap();
    let mut b = Builder::create(&dir.path().join("db")).unwrap();
    let err = b.add_nvd(&bad).unwrap_err().to_string();
    assert!(err.contains("nvd.json"), "{err}");
}
