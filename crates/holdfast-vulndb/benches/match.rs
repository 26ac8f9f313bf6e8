//! Matching 5,000 packages against a database of realistic size.
//!
//! The database is built once, in the setup, from generated advisories (never from a
//! real feed), shaped like osv.dev's: about 150,000 records —
//!
//! * Debian 12: 1,500 source packages, most with a handful of advisories, a dozen with
//!   hundreds, and `chromium` and `linux` with 4,000 each (as in the real feed); 85% of
//!   the fixes are older than the installed version, 12% newer, 3% unfixed;
//! * npm: 80,000 malware-style records (one name each, every version affected) and
//!   20,000 advisories over 8,000 names;
//! * PyPI 15,000 over 5,000 names, Go 6,000 over 1,500, Maven 6,000, crates.io 2,000.
//!
//! Two images of 5,000 packages each (1,000 Debian binaries from 400 source packages,
//! 2,500 npm, 800 PyPI, 500 Go, 200 crates):
//!
//! * `realistic`: like a real image — `linux-libc-dev` but no browser, and most language
//!   packages (90–95%) have no advisory at all;
//! * `stress`: every package has advisories and every advisory applies (Debian versions
//!   older than every fix, `chromium` and `linux` with three binaries each): tens of
//!   thousands of findings, the worst case.
//!
//! Each iteration is one full `match_packages` call: a fresh scan with cold caches.
//!
//! ```text
//! cargo bench --bench match
//! ```

use std::io::{Cursor, Write};
use std::sync::OnceLock;

use holdfast_model::{OsFamily, OsRelease, Package, PackageType};
use holdfast_vulndb::{Builder, VulnDb};

fn main() {
    divan::main();
}

/// A small deterministic generator (64-bit LCG, high bits).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// True with probability `pct`%.
    fn pct(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

/// One ecosystem's `all.zip`, in memory.
struct Feed {
    zip: zip::ZipWriter<Cursor<Vec<u8>>>,
    n: usize,
}

impl Feed {
    fn new() -> Self {
        Feed {
            zip: zip::ZipWriter::new(Cursor::new(Vec::new())),
            n: 0,
        }
    }
    fn add(&mut self, record: &serde_json::Value) {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        self.zip
            .start_file(format!("{}.json", self.n), opts)
            .unwrap();
        self.zip
            .write_all(serde_json::to_string(record).unwrap().as_bytes())
            .unwrap();
        self.n += 1;
    }
    fn finish(self) -> Vec<u8> {
        self.zip.finish().unwrap().into_inner()
    }
}

const VECTORS: [&str; 3] = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:L",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
];

#[allow(clippy::too_many_arguments)]
fn record(
    id: &str,
    aliases: &[String],
    eco: &str,
    name: &str,
    range_type: &str,
    events: serde_json::Value,
    rng: &mut Rng,
) -> serde_json::Value {
    let mut r = serde_json::json!({
        "id": id,
        "modified": "2025-01-01T00:00:00Z",
        "published": "2024-01-01T00:00:00Z",
        "aliases": aliases,
        "summary": format!("{name}: generated advisory {id}"),
        "details": "Generated for the benchmark. ".repeat(8),
        "affected": [{
            "package": {"ecosystem": eco, "name": name},
            "ranges": [{"type": range_type, "events": events}],
        }],
        "references": [{"type": "WEB", "url": format!("https://example.invalid/{id}")}],
    });
    if rng.below(3) == 0 {
        r["severity"] =
            serde_json::json!([{"type": "CVSS_V3", "score": VECTORS[rng.below(3) as usize]}]);
    } else {
        let word = ["LOW", "MODERATE", "HIGH"][rng.below(3) as usize];
        r["database_specific"] = serde_json::json!({ "severity": word });
    }
    r
}

const DEB_SOURCES: u64 = 1500;

/// Debian source package `i`: its name and the version a current image has.
fn deb_source(i: u64) -> (String, String) {
    let name = match i {
        0 => "chromium".to_string(),
        1 => "linux".to_string(),
        _ => format!("src{i}"),
    };
    (name, format!("{}.{}-{}", 5 + i % 7, 10 + i % 13, 2 + i % 3))
}

/// Language package `i`: name and installed version.
fn lang_pkg(prefix: &str, i: u64) -> (String, String) {
    (
        format!("{prefix}-pkg-{i}"),
        format!("{}.{}.{}", i % 9, i % 17, i % 4),
    )
}

struct Generated {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    realistic: Vec<Package>,
    stress: Vec<Package>,
}

fn generated() -> &'static Generated {
    static G: OnceLock<Generated> = OnceLock::new();
    G.get_or_init(generate)
}

fn generate() -> Generated {
    let mut rng = Rng(42);
    let mut cve = 10_000u64;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench.db");
    let mut b = Builder::create(&out).unwrap();

    // Debian 12.
    let mut feed = Feed::new();
    for i in 0..DEB_SOURCES {
        let (name, installed) = deb_source(i);
        let count = match i {
            0 | 1 => 4000,
            2..=13 => 300,
            _ => 1 + rng.below(12),
        };
        let (major, minor) = {
            let mut p = installed.split(['.', '-']);
            let a: u64 = p.next().unwrap().parse().unwrap();
            let b: u64 = p.next().unwrap().parse().unwrap();
            (a, b)
        };
        for _ in 0..count {
            cve += 1;
            let roll = rng.below(100);
            let events = if roll < 3 {
                serde_json::json!([{"introduced": "0"}])
            } else {
                // 85% fixed before the installed version, 12% after it.
                let fixed = if roll < 88 {
                    format!(
                        "{}.{}-{}+deb12u1",
                        major - 1 - rng.below(3),
                        rng.below(30),
                        rng.below(4)
                    )
                } else {
                    format!("{major}.{}-1+deb12u1", minor + 1 + rng.below(5))
                };
                serde_json::json!([{"introduced": "0"}, {"fixed": fixed}])
            };
            let id = format!("DEBIAN-CVE-2024-{cve}-{name}");
            let aliases = [format!("CVE-2024-{cve}")];
            feed.add(&record(
                &id,
                &aliases,
                "Debian:12",
                &name,
                "ECOSYSTEM",
                events,
                &mut rng,
            ));
        }
    }
    b.add_zip_reader("Debian/all.zip", Cursor::new(feed.finish()))
        .unwrap();

    // npm malware records: one name each, every version.
    let mut feed = Feed::new();
    for k in 0..80_000u64 {
        let name = format!("mal-{k}");
        let events = serde_json::json!([{"introduced": "0"}]);
        let id = format!("MAL-2024-{k}");
        feed.add(&record(&id, &[], "npm", &name, "SEMVER", events, &mut rng));
    }
    b.add_zip_reader("npm-mal/all.zip", Cursor::new(feed.finish()))
        .unwrap();

    // Language advisories: (ecosystem, name prefix, names, advisories, range type).
    let langs = [
        ("npm", "npm", 8000u64, 20_000u64, "SEMVER"),
        ("PyPI", "py", 5000, 15_000, "ECOSYSTEM"),
        ("Go", "example.com/mod", 1500, 6000, "SEMVER"),
        ("Maven", "org.example:artifact", 2000, 6000, "ECOSYSTEM"),
        ("crates.io", "crate", 900, 2000, "SEMVER"),
    ];
    for (eco, prefix, names, advisories, range_type) in langs {
        let mut feed = Feed::new();
        for k in 0..advisories {
            let (name, _) = lang_pkg(prefix, rng.below(names));
            let (a, b2) = (rng.below(9), rng.below(17));
            let events = serde_json::json!([
                {"introduced": "0"},
                {"fixed": format!("{a}.{b2}.0")},
                {"introduced": format!("{}.0.0", a + 1)},
                {"fixed": format!("{}.{}.1", a + 1, rng.below(17))},
            ]);
            cve += 1;
            let id = format!("GHSA-{eco}-{k}");
            let aliases = [format!("CVE-2024-{cve}")];
            feed.add(&record(
                &id, &aliases, eco, &name, range_type, events, &mut rng,
            ));
        }
        b.add_zip_reader(&format!("{eco}/all.zip"), Cursor::new(feed.finish()))
            .unwrap();
    }
    let report = b.finish().unwrap();
    eprintln!(
        "generated database: {} advisories, {} affected rows, built in {:.2?}",
        report.advisories, report.affected_rows, report.elapsed
    );

    let pkg = |t: PackageType, name: String, version: String, src: Option<(String, String)>| {
        let ecosystem = match t {
            PackageType::Npm => Some("npm"),
            PackageType::Python => Some("PyPI"),
            PackageType::Golang => Some("Go"),
            PackageType::Cargo => Some("crates.io"),
            _ => None,
        };
        Package {
            id: String::new(),
            name,
            version,
            package_type: t,
            purl: String::new(),
            source_name: src.as_ref().map(|s| s.0.clone()),
            source_version: src.map(|s| s.1),
            arch: None,
            epoch: None,
            licenses: Vec::new(),
            vendor: None,
            ecosystem: ecosystem.map(str::to_string),
            scope: None,
            layer: None,
            path: "/var/lib/dpkg/status".into(),
            owner: None,
            digests: Vec::new(),
            evidence: None,
        }
    };
    let langs = [
        (PackageType::Npm, "npm", 2500u64, 8000u64, 5u64),
        (PackageType::Python, "py", 800, 5000, 10),
        (PackageType::Golang, "example.com/mod", 500, 1500, 10),
        (PackageType::Cargo, "crate", 200, 900, 5),
    ];

    // A realistic image: linux-libc-dev, no browser, 399 other sources.
    let mut realistic = Vec::with_capacity(5000);
    let (linux, linux_v) = deb_source(1);
    realistic.push(pkg(
        PackageType::Deb,
        "linux-libc-dev".into(),
        linux_v.clone(),
        Some((linux, linux_v)),
    ));
    for j in 1..1000u64 {
        let src = deb_source(2 + (j % 399) * 3);
        realistic.push(pkg(
            PackageType::Deb,
            format!("{}-bin{j}", src.0),
            src.1.clone(),
            Some(src),
        ));
    }
    for (t, prefix, n, names, pct) in langs {
        for i in 0..n {
            let (name, version) = if rng.pct(pct) {
                lang_pkg(prefix, rng.below(names))
            } else {
                lang_pkg(&format!("{prefix}-clean"), i)
            };
            realistic.push(pkg(t, name, version, None));
        }
    }

    // The worst case: everything has advisories, every Debian fix is newer.
    let mut stress = Vec::with_capacity(5000);
    for j in 0..1000u64 {
        let (name, _) = deb_source(j % 400);
        let src = (name, "0.1-1".to_string());
        stress.push(pkg(
            PackageType::Deb,
            format!("{}-bin{j}", src.0),
            src.1.clone(),
            Some(src),
        ));
    }
    for (t, prefix, n, names, _) in langs {
        for _ in 0..n {
            let (name, version) = lang_pkg(prefix, rng.below(names));
            stress.push(pkg(t, name, version, None));
        }
    }
    assert_eq!((realistic.len(), stress.len()), (5000, 5000));
    Generated {
        _dir: dir,
        db: out,
        realistic,
        stress,
    }
}

fn bookworm() -> OsRelease {
    OsRelease {
        family: OsFamily::Debian,
        version: "12".into(),
        pretty_name: None,
        codename: Some("bookworm".into()),
    }
}

fn run(bencher: divan::Bencher, packages: &[Package], label: &str) {
    let g = generated();
    let db = VulnDb::open(&g.db).unwrap();
    let os = bookworm();
    let n = db.match_packages(Some(&os), packages).unwrap().len();
    eprintln!("{label}: {n} findings for {} packages", packages.len());
    bencher.bench_local(|| {
        db.match_packages(Some(&os), divan::black_box(packages))
            .unwrap()
    });
}

/// 5,000 packages of a realistic image.
#[divan::bench(sample_count = 50)]
fn realistic_5000_packages(bencher: divan::Bencher) {
    run(bencher, &generated().realistic, "realistic");
}

/// 5,000 packages that all have advisories, all applying.
#[divan::bench(sample_count = 20)]
fn stress_5000_packages(bencher: divan::Bencher) {
    run(bencher, &generated().stress, "stress");
}

/// Opening the database and matching the realistic image.
#[divan::bench(sample_count = 20)]
fn open_and_match_realistic(bencher: divan::Bencher) {
    let g = generated();
    let os = bookworm();
    bencher.bench_local(|| {
        let db = VulnDb::open(&g.db).unwrap();
        db.match_packages(Some(&os), divan::black_box(&g.realistic))
            .unwrap()
    });
}
