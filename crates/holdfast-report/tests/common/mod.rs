//! Scan results built in code for the report tests and the benchmark: vulnerabilities with
//! and without CVSS, suppressed findings (VEX and ignore file), a secret, an escape risk
//! with neither package nor path, several layers, and hostile strings where image content
//! goes.

#![allow(dead_code)]

use holdfast_model::{
    Cvss, DependencyScope, DigestAlgorithm, Evidence, Finding, FindingKind, FindingStatus,
    LayerInfo, Location, OsFamily, OsRelease, Package, PackageDigest, PackageType, ScanResult,
    ScanSummary, Severity, SuppressionInfo, TargetKind, TargetResult, ToolInfo, Warning,
    SCHEMA_VERSION,
};

pub const L1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
pub const L2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
pub const L3: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

/// A package named `<script>alert(1)</script>` would run in a careless HTML report.
pub const HOSTILE_NAME: &str = "<script>alert(1)</script>";
/// A secret in a file whose name is markup.
pub const HOSTILE_PATH: &str = "/app/<img src=x onerror=alert(2)>.env";

fn layer(diff_id: &str, created_by: &str, size: u64) -> LayerInfo {
    LayerInfo {
        diff_id: Some(diff_id.into()),
        digest: Some(diff_id.replace("sha256:", "sha256:d")),
        created_by: Some(created_by.into()),
        size: Some(size),
        media_type: None,
    }
}

pub fn package(name: &str, version: &str, ty: PackageType, path: &str, layer: &str) -> Package {
    let purl = match ty {
        PackageType::Deb => format!("pkg:deb/debian/{name}@{version}?distro=debian-12"),
        PackageType::Npm => format!("pkg:npm/{name}@{version}"),
        _ => format!("pkg:generic/{name}@{version}"),
    };
    Package {
        id: purl.clone(),
        name: name.into(),
        version: version.into(),
        package_type: ty,
        purl,
        source_name: None,
        source_version: None,
        arch: None,
        epoch: None,
        licenses: Vec::new(),
        vendor: None,
        ecosystem: None,
        scope: None,
        layer: Some(layer.into()),
        path: path.into(),
        owner: None,
        digests: Vec::new(),
        evidence: None,
    }
}

/// The Go standard library compiled into the binary at `path`.
fn go_binary_stdlib(path: &str, layer: &str) -> Package {
    let mut p = package("stdlib", "v1.19.8", PackageType::Golang, path, layer);
    p.purl = "pkg:golang/stdlib@v1.19.8".into();
    p.id = format!("{}#{path}", p.purl);
    p
}

pub fn vuln(
    id: &str,
    sev: Severity,
    pkg: &str,
    installed: &str,
    fixed: Option<&str>,
    layer: &str,
) -> Finding {
    let mut f = Finding::new(
        FindingKind::Vulnerability,
        id,
        sev,
        format!("{pkg}: flaw in {id}"),
    );
    f.description = format!("A long description of {id}. It goes on for a while to show that the table cuts what does not fit.");
    f.package = Some(pkg.into());
    f.installed_version = Some(installed.into());
    f.fixed_version = fixed.map(str::to_string);
    f.status = Some(if fixed.is_some() {
        FindingStatus::Fixed
    } else {
        FindingStatus::Affected
    });
    f.layer = Some(layer.into());
    f.references = vec![
        format!("https://example.invalid/advisories/{id}"),
        "javascript:alert(3)".into(),
    ];
    f
}

/// The project's own package (CycloneDX `application`, SPDX purpose `APPLICATION`).
fn app_package() -> Package {
    let mut p = package(
        "bench-app",
        "1.0.0",
        PackageType::Npm,
        "/app/package.json",
        L3,
    );
    p.scope = Some(DependencyScope::Application);
    p.ecosystem = None;
    p
}

/// A jar known by its file name, with its SHA-1 (CycloneDX `hashes`, SPDX `checksums`).
fn jar_package() -> Package {
    let mut p = package(
        "commons-io",
        "2.11.0",
        PackageType::Maven,
        "/opt/lib/commons-io-2.11.0.jar",
        L3,
    );
    p.purl = "pkg:maven/commons-io@2.11.0".into();
    p.id = p.purl.clone();
    p.evidence = Some(Evidence::FileName);
    p.digests = vec![PackageDigest {
        algorithm: DigestAlgorithm::Sha1,
        value: "a2503f302b11ebde7ebc3df41daebe0e4eea3689".into(),
    }];
    p
}

/// The fixture most tests render.
pub fn fixture() -> ScanResult {
    let packages = vec![
        package(
            "libssl3",
            "3.0.11-1~deb12u2",
            PackageType::Deb,
            "/var/lib/dpkg/status",
            L1,
        ),
        package(
            "zlib1g",
            "1:1.2.13.dfsg-1",
            PackageType::Deb,
            "/var/lib/dpkg/status",
            L1,
        ),
        package(
            "lodash",
            "4.17.20",
            PackageType::Npm,
            "/app/node_modules/lodash/package.json",
            L3,
        ),
        package(
            HOSTILE_NAME,
            "1.0.0",
            PackageType::Npm,
            "/app/node_modules/evil/package.json",
            L3,
        ),
        // The same Go toolchain in two binaries: one purl, so ids carry the path, as the
        // analysis makes them.
        go_binary_stdlib("/usr/bin/skopeo", L1),
        go_binary_stdlib("/usr/bin/docker-registry", L3),
        app_package(),
        jar_package(),
    ];
    let mut critical = vuln(
        "CVE-2024-0001",
        Severity::Critical,
        "libssl3",
        "3.0.11-1~deb12u2",
        Some("3.0.13-1~deb12u1"),
        L1,
    );
    critical.cvss = Some(Cvss {
        vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
        score: Some(9.8),
    });
    critical.aliases = vec!["GHSA-aaaa-bbbb-cccc".into()];
    let high = vuln(
        "CVE-2024-0002",
        Severity::High,
        "libssl3",
        "3.0.11-1~deb12u2",
        None,
        L1,
    );
    let mut medium = vuln(
        "GHSA-xxxx-yyyy-zzzz",
        Severity::Medium,
        "lodash",
        "4.17.20",
        Some("4.17.21"),
        L3,
    );
    medium.cvss = Some(Cvss {
        vector: Some("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N".into()),
        score: Some(5.3),
    });
    // One problem found in two binaries: one finding with two locations.
    let mut stdlib = vuln(
        "CVE-2023-29406",
        Severity::Medium,
        "stdlib",
        "v1.19.8",
        Some("1.19.11"),
        L1,
    );
    stdlib.path = Some("/usr/bin/skopeo".into());
    stdlib.locations = vec![
        Location {
            path: "/usr/bin/skopeo".into(),
            layer: Some(L1.into()),
        },
        Location {
            path: "/usr/bin/docker-registry".into(),
            layer: Some(L3.into()),
        },
    ];
    let hostile = vuln(
        "CVE-2024-6666",
        Severity::Low,
        HOSTILE_NAME,
        "1.0.0",
        None,
        L3,
    );

    let mut secret = Finding::new(
        FindingKind::Secret,
        "HF-SECRET-AWS-ACCESS-KEY",
        Severity::Critical,
        "AWS access key id",
    );
    secret.path = Some(HOSTILE_PATH.into());
    secret.line = Some(3);
    secret.layer = Some(L2.into());
    secret.removed = true;
    secret.evidence = Some("AKIA*****".into());
    secret.fingerprint =
        Some("sha256:5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e".into());
    secret.remediation = Some("Revoke the key and rebuild the image without it.".into());

    let mut escape = Finding::new(
        FindingKind::Escape,
        "HF-ESCAPE-DOCKER-SOCK",
        Severity::High,
        "The image expects the Docker socket to be mounted",
    );
    escape.description = "A container with the Docker socket controls the host.".into();
    escape.remediation = Some("Do not mount /var/run/docker.sock.".into());

    let mut malware = Finding::new(
        FindingKind::Malware,
        "HF-MALWARE-EICAR",
        Severity::Unknown,
        "EICAR test file",
    );
    malware.path = Some("/tmp/eicar.com".into());
    malware.layer = Some(L2.into());

    let mut by_vex = vuln(
        "CVE-2023-7777",
        Severity::High,
        "zlib1g",
        "1:1.2.13.dfsg-1",
        None,
        L1,
    );
    by_vex.suppression = Some(SuppressionInfo {
        by: "vex".into(),
        source: Some("vex/app.openvex.json".into()),
        statement: Some(serde_json::json!({
            "vulnerability": {"name": "CVE-2023-7777"},
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
            "impact_statement": "the app never inflates untrusted data"
        })),
    });
    let mut by_ignore = vuln(
        "CVE-2023-8888",
        Severity::Medium,
        "lodash",
        "4.17.20",
        Some("4.17.21"),
        L3,
    );
    by_ignore.suppression = Some(SuppressionInfo {
        by: "ignore-file".into(),
        source: Some(".holdfastignore".into()),
        statement: Some(serde_json::json!({"line": 4})),
    });
    let mut fixed_by_vex = vuln(
        "CVE-2023-9999",
        Severity::Low,
        "libssl3",
        "3.0.11-1~deb12u2",
        None,
        L1,
    );
    fixed_by_vex.suppression = Some(SuppressionInfo {
        by: "vex".into(),
        source: Some("vex/app.openvex.json".into()),
        statement: Some(
            serde_json::json!({"vulnerability": {"name": "CVE-2023-9999"}, "status": "fixed"}),
        ),
    });

    let target = TargetResult {
        kind: TargetKind::Image,
        name: "docker-archive:app.tar".into(),
        image_id: Some(
            "sha256:abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabca".into(),
        ),
        platform: Some("linux/amd64".into()),
        created: None,
        os: Some(OsRelease {
            family: OsFamily::Debian,
            version: "12".into(),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
            codename: Some("bookworm".into()),
        }),
        layers: vec![
            layer(L1, "/bin/sh -c #(nop) ADD file:0123 in / ", 29_123_456),
            layer(
                L2,
                "RUN /bin/sh -c echo AKIA... > /app/.env && rm /app/.env # <b>bold</b>",
                2_048,
            ),
            layer(L3, "COPY app/ /app/ # buildkit", 1_234_567),
        ],
        packages,
        findings: vec![
            critical, high, medium, stdlib, hostile, secret, escape, malware,
        ],
        suppressed: vec![by_vex, by_ignore, fixed_by_vex],
        warnings: vec![Warning::file(
            holdfast_model::WarningKind::MalformedFile,
            Some(L3),
            "/app/broken/package.json",
            "not valid JSON: expected value at line 1",
        )],
        plugins: Vec::new(),
        checks: Vec::new(),
    };
    result_of(vec![target])
}

pub fn result_of(targets: Vec<TargetResult>) -> ScanResult {
    ScanResult {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo {
            name: "holdfast".into(),
            version: "0.1.0".into(),
        },
        created_at: "2026-01-02T03:04:05Z".into(),
        db: Some(holdfast_model::DbDescription {
            path: "/var/cache/holdfast/db/holdfast.db".into(),
            demo: false,
            schema_version: 1,
            built_at: "2026-01-01T00:00:00Z".into(),
            advisories: 10,
        }),
        summary: ScanSummary::of(&targets),
        targets,
        registry: None,
        cluster: None,
        analysis: None,
    }
}

/// A result with `n` findings over 500 packages in 3 layers, every kind represented.
pub fn synthetic(n: usize) -> ScanResult {
    let layers = [L1, L2, L3];
    let packages: Vec<Package> = (0..500)
        .map(|i| {
            package(
                &format!("pkg-{i}"),
                &format!("1.{i}.0"),
                if i % 2 == 0 {
                    PackageType::Deb
                } else {
                    PackageType::Npm
                },
                if i % 2 == 0 {
                    "/var/lib/dpkg/status"
                } else {
                    "/app/package-lock.json"
                },
                layers[i % 3],
            )
        })
        .collect();
    let findings = (0..n)
        .map(|i| {
            let sev = Severity::ALL[i % 5];
            if i % 10 == 9 {
                let kind = FindingKind::ALL[1 + (i / 10) % 10];
                let mut f = Finding::new(
                    kind,
                    format!("HF-RULE-{}", i % 97),
                    sev,
                    format!("rule {} matched", i % 97),
                );
                f.path = Some(format!("/srv/file-{i}.conf"));
                f.line = Some((i % 300) as u32 + 1);
                f.layer = Some(layers[i % 3].into());
                f
            } else {
                let p = &packages[i % 500];
                let mut f = vuln(
                    &format!("CVE-2025-{:05}", i),
                    sev,
                    &p.name,
                    &p.version,
                    (i % 3 != 0).then_some("9.9.9"),
                    layers[i % 3],
                );
                f.cvss = Some(Cvss {
                    vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
                    score: Some(9.8),
                });
                f
            }
        })
        .collect();
    let target = TargetResult {
        kind: TargetKind::Image,
        name: "docker-archive:synthetic.tar".into(),
        image_id: None,
        platform: Some("linux/amd64".into()),
        created: None,
        os: Some(OsRelease {
            family: OsFamily::Debian,
            version: "12".into(),
            pretty_name: None,
            codename: None,
        }),
        layers: layers
            .iter()
            .map(|l| layer(l, "RUN build", 1 << 20))
            .collect(),
        packages,
        findings,
        suppressed: Vec::new(),
        warnings: Vec::new(),
        plugins: Vec::new(),
        checks: Vec::new(),
    };
    result_of(vec![target])
}
