//! Builds databases from the fixture records in `tests/fixtures/osv/` (and from broken
//! inputs made on the spot) and checks the exact findings packages get.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use holdfast_model::{FindingStatus, OsFamily, OsRelease, Package, PackageType, Severity};
use holdfast_vulndb::{build, info, Builder, DbError, Limits, MatchedAdvisory, VulnDb};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv")
}

fn debian12() -> OsRelease {
    OsRelease {
        family: OsFamily::Debian,
        version: "12".into(),
        pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
        codename: Some("bookworm".into()),
    }
}

fn pkg(
    t: PackageType,
    name: &str,
    version: &str,
    source: Option<(&str, &str)>,
    eco: Option<&str>,
) -> Package {
    Package {
        id: String::new(),
        name: name.into(),
        version: version.into(),
        package_type: t,
        purl: String::new(),
        source_name: source.map(|s| s.0.to_string()),
        source_version: source.map(|s| s.1.to_string()),
        arch: None,
        epoch: None,
        licenses: Vec::new(),
        vendor: None,
        ecosystem: eco.map(str::to_string),
        scope: None,
        layer: Some("sha256:layer".into()),
        path: "/var/lib/dpkg/status".into(),
        owner: None,
        digests: Vec::new(),
        evidence: None,
    }
}

fn deb(name: &str, version: &str, source: &str, source_version: &str) -> Package {
    pkg(
        PackageType::Deb,
        name,
        version,
        Some((source, source_version)),
        None,
    )
}

fn lang(t: PackageType, eco: &str, name: &str, version: &str) -> Package {
    pkg(t, name, version, None, Some(eco))
}

/// The parts of a match the tests pin down.
#[derive(Debug, PartialEq)]
struct Seen {
    package: String,
    id: String,
    severity: Severity,
    status: FindingStatus,
    fixed: Option<String>,
    aliases: Vec<String>,
    advisories: Vec<String>,
    score: Option<f64>,
}

fn seen(m: &MatchedAdvisory) -> Seen {
    Seen {
        package: m.finding.package.clone().unwrap(),
        id: m.finding.id.clone(),
        severity: m.finding.severity,
        status: m.finding.status.unwrap(),
        fixed: m.finding.fixed_version.clone(),
        aliases: m.finding.aliases.clone(),
        advisories: m.advisories.clone(),
        score: m.cvss_score,
    }
}

#[allow(clippy::too_many_arguments)]
fn want(
    package: &str,
    id: &str,
    severity: Severity,
    fixed: Option<&str>,
    aliases: &[&str],
    advisories: &[&str],
    score: Option<f64>,
) -> Seen {
    Seen {
        package: package.into(),
        id: id.into(),
        severity,
        status: if fixed.is_some() {
            FindingStatus::Fixed
        } else {
            FindingStatus::Affected
        },
        fixed: fixed.map(str::to_string),
        aliases: aliases.iter().map(|s| s.to_string()).collect(),
        advisories: advisories.iter().map(|s| s.to_string()).collect(),
        score,
    }
}

fn fixture_db(dir: &Path) -> PathBuf {
    let out = dir.join("vuln.db");
    let report = build(&[fixtures()], &out).expect("fixtures build");
    assert_eq!(report.warning_count, 0, "{:?}", report.warnings);
    out
}

#[test]
fn fixture_build_report_and_info() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("vuln.db");
    let report = build(&[fixtures()], &out).unwrap();
    assert_eq!(report.warning_count, 0, "{:?}", report.warnings);
    assert_eq!(report.advisories, 15);
    assert_eq!(report.withdrawn, 1);
    assert_eq!(report.git_ranges_skipped, 1);
    assert_eq!(report.duplicates, 0);
    // The withdrawn advisory is stored, but has no `affected` rows.
    assert_eq!(report.affected_rows, 15);
    let ecos: Vec<(&str, usize)> = report
        .ecosystems
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        ecos,
        [
            ("Debian:12", 3),
            ("Go", 1),
            ("PyPI", 5),
            ("crates.io", 2),
            ("npm", 3)
        ]
    );
    let i = info(&out).unwrap();
    assert_eq!(i.schema_version, holdfast_vulndb::SCHEMA_VERSION);
    assert_eq!(i.advisories, 15);
    assert_eq!(i.withdrawn, 1);
    assert_eq!(i.ecosystems, report.ecosystems);
    assert_eq!(i.sources.len(), 1);
    assert_eq!(i.sources[0].advisories, 15);
    assert!(i.sources[0].source.ends_with("fixtures/osv"));
    assert!(
        i.built_at.ends_with('Z') && i.built_at.len() == 20,
        "{}",
        i.built_at
    );
    // No temporary file is left beside the database.
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["vuln.db"]);
}

#[test]
fn debian_packages_match_on_source_packages() {
    let dir = tempfile::tempdir().unwrap();
    let db = VulnDb::open(&fixture_db(dir.path())).unwrap();
    let packages = [
        deb("libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
        deb("openssl", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
        deb(
            "libssl3-fixed",
            "3.0.13-1~deb12u1",
            "openssl",
            "3.0.13-1~deb12u1",
        ),
        deb(
            "zlib1g",
            "1:1.2.11.dfsg-2+deb11u2",
            "zlib",
            "1:1.2.11.dfsg-2+deb11u2",
        ),
        // Without the epoch, 1.2.99 is older than 1:1.2.13.
        deb("zlib1g-noepoch", "1.2.99-1", "zlib", "1.2.99-1"),
        deb("zlib1g-dev", "1:1.2.13.dfsg-1", "zlib", "1:1.2.13.dfsg-1"),
        deb("apt", "2.6.1", "apt", "2.6.1"),
        deb("libfoo1", "1.0-1", "foo", "1.0-1"),
    ];
    let report = db
        .match_packages_report(Some(&debian12()), &packages)
        .unwrap();
    let got: Vec<Seen> = report.matches.iter().map(seen).collect();
    let openssl = |p: &str| {
        want(
            p,
            "CVE-2023-5678",
            Severity::Medium,
            Some("3.0.13-1~deb12u1"),
            &["DEBIAN-CVE-2023-5678-openssl"],
            &["DEBIAN-CVE-2023-5678-openssl"],
            Some(5.3),
        )
    };
    let zlib = |p: &str| {
        want(
            p,
            "CVE-2022-37434",
            Severity::Critical,
            Some("1:1.2.13.dfsg-1"),
            &["DEBIAN-CVE-2022-37434-zlib"],
            &["DEBIAN-CVE-2022-37434-zlib"],
            Some(9.8),
        )
    };
    assert_eq!(
        got,
        [
            openssl("libssl3"),
            openssl("openssl"),
            zlib("zlib1g"),
            zlib("zlib1g-noepoch"),
            want(
                "apt",
                "CVE-2011-3374",
                Severity::Low,
                None,
                &["DEBIAN-CVE-2011-3374-apt"],
                &["DEBIAN-CVE-2011-3374-apt"],
                None
            ),
        ]
    );
    assert_eq!(report.stats.packages_looked_up, packages.len());
    let m = &report.matches[0];
    assert_eq!(m.package_index, 0);
    assert_eq!(m.ecosystem, "Debian:12");
    assert_eq!(
        m.cvss_vector.as_deref(),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L")
    );
    let f = &m.finding;
    assert_eq!(f.installed_version.as_deref(), Some("3.0.11-1~deb12u2"));
    assert_eq!(f.layer.as_deref(), Some("sha256:layer"));
    assert_eq!(
        f.title,
        "openssl: excessive time spent in DH check / generation with large Q parameter value"
    );
    assert_eq!(
        f.references,
        ["https://security-tracker.debian.org/tracker/CVE-2023-5678"]
    );

    // No OS, no OS ecosystem: nothing is matched.
    let none = db.match_packages_report(None, &packages).unwrap();
    assert!(none.matches.is_empty());
    assert_eq!(none.stats.packages_without_ecosystem, packages.len());
    // Another Debian release has no advisories in this database.
    let mut d11 = debian12();
    d11.version = "11".into();
    let other = db.match_packages_report(Some(&d11), &packages).unwrap();
    assert!(other.matches.is_empty());
    assert_eq!(other.stats.packages_ecosystem_not_in_db, packages.len());
}

#[test]
fn language_packages() {
    use PackageType::*;
    let dir = tempfile::tempdir().unwrap();
    let db = VulnDb::open(&fixture_db(dir.path())).unwrap();
    let packages = [
        lang(Python, "PyPI", "PyYAML", "5.3"),
        lang(Python, "PyPI", "pyyaml", "5.3.1"),
        lang(Python, "PyPI", "PyYAML", "5.0"),
        lang(Python, "PyPI", "Django", "3.2.3"),
        lang(Python, "PyPI", "django", "3.1.5"),
        lang(Python, "PyPI", "Django", "2.2.24"),
        lang(Python, "PyPI", "requests", "2.19.1"),
        lang(Python, "PyPI", "requests", "2.20.0"),
        lang(Npm, "npm", "lodash", "4.17.11"),
        lang(Npm, "npm", "lodash", "4.17.12"),
        lang(Npm, "npm", "minimist", "0.0.8"),
        lang(Npm, "npm", "minimist", "1.2.0"),
        lang(Npm, "npm", "minimist", "1.2.5"),
        lang(Npm, "npm", "bassmaster", "1.5.1"),
        lang(Npm, "npm", "bassmaster", "1.5.2"),
        lang(Npm, "npm", "Lodash", "4.17.11"),
        lang(Golang, "Go", "github.com/gin-gonic/gin", "v1.5.0"),
        lang(Golang, "Go", "github.com/gin-gonic/gin", "v1.6.0"),
        lang(Cargo, "crates.io", "atty", "0.2.14"),
        // A crate from git: its cataloger set no ecosystem, so it is not looked up.
        pkg(Cargo, "atty", "0.2.14", None, None),
    ];
    let report = db
        .match_packages_report(Some(&debian12()), &packages)
        .unwrap();
    let got: Vec<Seen> = report.matches.iter().map(seen).collect();
    let pyyaml = want(
        "PyYAML",
        "CVE-2020-1747",
        Severity::Critical,
        Some("5.3.1"),
        &["GHSA-6757-jp84-gxfx", "PYSEC-2020-96"],
        &["CVE-2020-1747", "GHSA-6757-jp84-gxfx", "PYSEC-2020-96"],
        Some(9.8),
    );
    let django = |p: &str, fixed: &str| {
        want(
            p,
            "CVE-2021-33203",
            Severity::Medium,
            Some(fixed),
            &["GHSA-68w8-qjq3-2gfm", "PYSEC-2021-98"],
            &["PYSEC-2021-98"],
            None,
        )
    };
    let minimist = |fixed: &str| {
        want(
            "minimist",
            "CVE-2020-7598",
            Severity::Medium,
            Some(fixed),
            &["GHSA-vh95-rmgr-6w4m"],
            &["GHSA-vh95-rmgr-6w4m"],
            Some(5.6),
        )
    };
    assert_eq!(
        got,
        [
            pyyaml,
            django("Django", "3.2.4"),
            django("django", "3.1.12"),
            // Matched by its `versions` list only: the GIT range gives no fix.
            want(
                "requests",
                "CVE-2018-18074",
                Severity::Unknown,
                None,
                &["GHSA-x84v-xcm2-53pg", "PYSEC-2018-28"],
                &["PYSEC-2018-28"],
                None
            ),
            want(
                "lodash",
                "CVE-2019-10744",
                Severity::Critical,
                Some("4.17.12"),
                &["GHSA-jf85-cpcp-j695"],
                &["GHSA-jf85-cpcp-j695"],
                Some(9.1)
            ),
            minimist("0.2.1"),
            minimist("1.2.2"),
            // last_affected: affected, no fix known; a bare score rates it.
            want(
                "bassmaster",
                "CVE-2014-7205",
                Severity::Medium,
                None,
                &["NSWG-ECO-1"],
                &["NSWG-ECO-1"],
                Some(6.5)
            ),
            want(
                "github.com/gin-gonic/gin",
                "CVE-2020-36567",
                Severity::Unknown,
                Some("1.6.0"),
                &["GHSA-6vm3-jj99-7229", "GO-2020-0001"],
                &["GO-2020-0001"],
                None
            ),
            // No CVE: the two records alias each other; the GHSA id is preferred.
            want(
                "atty",
                "GHSA-g98v-hv3f-hcfr",
                Severity::Low,
                None,
                &["RUSTSEC-2021-0145"],
                &["GHSA-g98v-hv3f-hcfr", "RUSTSEC-2021-0145"],
                None
            ),
        ]
    );
    let indexes: Vec<usize> = report.matches.iter().map(|m| m.package_index).collect();
    assert_eq!(indexes, [0, 3, 4, 6, 8, 10, 11, 13, 16, 18]);
    assert_eq!(report.stats.packages_without_ecosystem, 1);
    // `related` ids become references, after the record's own.
    let refs = &report.matches[0].finding.references;
    assert!(
        refs.contains(&"https://osv.dev/vulnerability/GHSA-6757-jp84-gxfx".to_string()),
        "{refs:?}"
    );
    // Text comes from the best-ranked record that has it.
    assert_eq!(
        report.matches[0].finding.title,
        "Improper Input Validation in PyYAML"
    );
}

fn write(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in members {
        if name.ends_with('/') {
            w.add_directory(*name, opts).unwrap();
        } else {
            w.start_file(*name, opts).unwrap();
            w.write_all(bytes).unwrap();
        }
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn broken_inputs_are_warnings_and_the_rest_is_built() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let fx = fixtures();
    let good = |rel: &str| fs::read(fx.join(rel)).unwrap();
    write(
        &src.join("Debian/openssl.json"),
        &good("Debian/DEBIAN-CVE-2023-5678-openssl.json"),
    );
    write(
        &src.join("deep/er/still/zlib.json"),
        &good("Debian/DEBIAN-CVE-2022-37434-zlib.json"),
    );
    write(&src.join("broken.json"), b"this is not json {");
    write(
        &src.join("no-id.json"),
        br#"{"modified": "2024-01-01T00:00:00Z", "affected": []}"#,
    );
    write(
        &src.join("no-modified.json"),
        br#"{"id": "HFTEST-2", "affected": []}"#,
    );
    write(
        &src.join("wrong-type.json"),
        br#"{"id": "HFTEST-3", "modified": "2024-01-01T00:00:00Z", "aliases": "CVE-1"}"#,
    );
    // Missing optional fields and a package-less affected entry are fine.
    write(
        &src.join("sparse.json"),
        br#"{"id": "HFTEST-4", "modified": "2024-01-01T00:00:00Z", "affected": [{"ranges": []}], "related": null}"#,
    );
    write(&src.join("notes.txt"), b"not an advisory, not read");
    // A file over the per-advisory limit, without writing 16 MiB: a sparse file.
    let huge = fs::File::create(src.join("huge.json")).unwrap();
    huge.set_len(Limits::default().max_record_bytes + 1)
        .unwrap();
    drop(huge);
    let go = good("Go/GO-2020-0001.json");
    write(
        &src.join("Go/all.zip"),
        &zip_of(&[
            ("GO-2020-0001.json", &go),
            ("garbage.json", b"\x00\x01\x02"),
            ("somedir/", b""),
            ("README.txt", b"ignored"),
        ]),
    );
    write(&src.join("corrupt.zip"), b"PK\x03\x04 but nothing else");

    let out = dir.path().join("vuln.db");
    let report = build(std::slice::from_ref(&src), &out).unwrap();
    assert_eq!(report.advisories, 4, "{:?}", report.warnings);
    assert_eq!(report.affected_skipped, 1);
    let mut warned: Vec<String> = report
        .warnings
        .iter()
        .map(|w| {
            let p = w
                .file
                .strip_prefix(src.to_str().unwrap())
                .unwrap_or(&w.file);
            p.trim_start_matches('/').to_string()
        })
        .collect();
    warned.sort();
    assert_eq!(
        warned,
        [
            "Go/all.zip!garbage.json",
            "broken.json",
            "corrupt.zip",
            "huge.json",
            "no-id.json",
            "no-modified.json",
            "wrong-type.json",
        ]
    );
    assert_eq!(report.warning_count, 7);
    let huge_warning = report
        .warnings
        .iter()
        .find(|w| w.file.ends_with("huge.json"))
        .unwrap();
    assert!(huge_warning.message.contains("limit"), "{huge_warning}");
    let no_mod = report
        .warnings
        .iter()
        .find(|w| w.file.ends_with("no-modified.json"))
        .unwrap();
    assert!(no_mod.message.contains("HFTEST-2"), "{no_mod}");

    // What was built still matches.
    let db = VulnDb::open(&out).unwrap();
    let m = db
        .match_packages(
            Some(&debian12()),
            &[
                deb("libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
                lang(
                    PackageType::Golang,
                    "Go",
                    "github.com/gin-gonic/gin",
                    "1.5.0",
                ),
            ],
        )
        .unwrap();
    let ids: Vec<&str> = m.iter().map(|m| m.finding.id.as_str()).collect();
    assert_eq!(ids, ["CVE-2023-5678", "CVE-2020-36567"]);
}

#[test]
fn zip_readers_limits_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let fx = fixtures();
    let lodash = fs::read(fx.join("npm/GHSA-jf85-cpcp-j695.json")).unwrap();
    // The same advisory again, modified later, with the fix moved: the newer one wins.
    let newer = String::from_utf8(lodash.clone())
        .unwrap()
        .replace("2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z")
        .replace("4.17.12", "4.17.21");
    let big = format!(
        "{{\"id\": \"HFTEST-BIG\", \"pad\": \"{}\"}}",
        "x".repeat(40_000)
    );
    let out = dir.path().join("db/vuln.db");
    fs::create_dir_all(out.parent().unwrap()).unwrap();
    let mut b = Builder::create(&out).unwrap().with_limits(Limits {
        max_record_bytes: 32 * 1024,
        ..Limits::default()
    });
    b.add_zip_reader(
        "npm/all.zip",
        std::io::Cursor::new(zip_of(&[("a.json", &lodash), ("big.json", big.as_bytes())])),
    )
    .unwrap();
    b.add_zip_reader(
        "npm-newer.zip",
        std::io::Cursor::new(zip_of(&[("a.json", newer.as_bytes())])),
    )
    .unwrap();
    // An older copy after the newer one changes nothing.
    b.add_zip_reader(
        "npm-older.zip",
        std::io::Cursor::new(zip_of(&[("a.json", &lodash)])),
    )
    .unwrap();
    let report = b.finish().unwrap();
    assert_eq!(report.advisories, 1);
    assert_eq!(report.duplicates, 2);
    assert_eq!(report.warning_count, 1);
    assert_eq!(report.warnings[0].file, "npm/all.zip!big.json");
    let sources: Vec<(&str, usize)> = report
        .sources
        .iter()
        .map(|s| (s.source.as_str(), s.advisories))
        .collect();
    assert_eq!(
        sources,
        [
            ("npm/all.zip", 1),
            ("npm-newer.zip", 1),
            ("npm-older.zip", 1)
        ]
    );
    let db = VulnDb::open(&out).unwrap();
    let m = db
        .match_packages(None, &[lang(PackageType::Npm, "npm", "lodash", "4.17.15")])
        .unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].finding.fixed_version.as_deref(), Some("4.17.21"));
}

#[test]
fn failed_builds_leave_the_old_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = fixture_db(dir.path());
    let before = fs::read(&out).unwrap();
    let err = build(&[dir.path().join("missing")], &out).unwrap_err();
    assert!(matches!(err, DbError::Io { .. }), "{err}");
    let err = build(&[dir.path().join("vuln.db")], &out).unwrap_err();
    assert!(matches!(err, DbError::BadSource(_)), "{err}");
    assert_eq!(fs::read(&out).unwrap(), before);
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["vuln.db"]);
}

#[test]
fn foreign_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let not_db = dir.path().join("not.db");
    fs::write(&not_db, b"hello").unwrap();
    assert!(VulnDb::open(&not_db).is_err());
    // A real SQLite file without our metadata.
    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t(x)")
        .unwrap();
    let err = VulnDb::open(&other).err().unwrap();
    assert!(matches!(err, DbError::SchemaMismatch { .. }), "{err}");
    // Another schema version.
    let newer = dir.path().join("newer.db");
    let c = rusqlite::Connection::open(&newer).unwrap();
    c.execute_batch(
        "CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         INSERT INTO metadata VALUES ('schema_version', '999');",
    )
    .unwrap();
    drop(c);
    let err = info(&newer).err().unwrap();
    assert!(
        matches!(&err, DbError::SchemaMismatch { found, .. } if found == "999"),
        "{err}"
    );
    assert!(matches!(
        VulnDb::open(&dir.path().join("absent.db")).err().unwrap(),
        DbError::Io { .. }
    ));
}

#[test]
fn an_advisory_is_found_by_its_id_or_an_alias() {
    let dir = tempfile::tempdir().unwrap();
    let db = VulnDb::open(&fixture_db(dir.path())).unwrap();
    let a = db.advisory("PYSEC-2020-96").unwrap().unwrap();
    assert_eq!(a.published.as_deref(), Some("2020-03-24T15:15:00Z"));
    assert_eq!(a.modified.as_deref(), Some("2021-06-15T00:00:00Z"));
    assert!(a.details.as_deref().unwrap().contains("PyYAML"));
    assert!(a
        .references
        .iter()
        .any(|r| r == "https://github.com/yaml/pyyaml/pull/386"));
    assert!(a.aliases.iter().any(|x| x == "CVE-2020-1747"));
    let by_alias = db.advisory("CVE-2020-1747").unwrap().unwrap();
    assert!(
        by_alias.id == "CVE-2020-1747" || by_alias.aliases.iter().any(|x| x == "CVE-2020-1747")
    );
    assert!(
        db.advisory("CVE-2020-174").unwrap().is_none(),
        "a prefix is not an alias"
    );
    assert!(db.advisory("CVE-0000-0000").unwrap().is_none());
}
