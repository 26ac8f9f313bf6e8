//! Java runtimes installed from tarballs: the `release` file at the root of every JDK and
//! JRE image since Java 9 (and in most 8 builds), `KEY="value"` lines written by the
//! OpenJDK build (`make/ReleaseFile.gmk`): `JAVA_VERSION`, `JAVA_RUNTIME_VERSION`,
//! `IMPLEMENTOR`, `IMAGE_TYPE`, `BUILD_TYPE`.
//!
//! The runtime is one package of type `binary`: the name is the product (`openjdk`,
//! `jdk`, `jre`, `temurin`, `corretto`, `zulu`, `liberica`, `graalvm`), `vendor` the
//! vendor as CPEs spell it (`oracle`, `eclipse`, `amazon`, `azul`, ...), the version the
//! full runtime version (`17.0.8.1+1`, `1.8.0_412-b08`) when the file has one, and the
//! purl `pkg:generic/VENDOR/PRODUCT@VERSION`: with the vendor, the CPE-like identity NVD
//! advisories name (`cpe:2.3:a:oracle:openjdk:17.0.8`). No OSV ecosystem covers JDKs.
//!
//! Only a file named `release` in a directory that looks like a Java home is read (its
//! name holds `jdk`, `jre` or `java`, or its parent is `jvm` or `java`), and only one with
//! `JAVA_VERSION` counts.

use std::collections::HashMap;

use holdfast_model::path::{file_name, parent};
use holdfast_model::{PackageType, Purl};

use crate::analyzer::FileFact;
use crate::catalog::package::{lang_package, plausible_name, plausible_version};

/// Whether `path` may be a Java home's `release` file (no I/O, little allocation: only
/// for files named `release`).
pub(crate) fn wanted(path: &str) -> bool {
    if file_name(path) != "release" {
        return false;
    }
    let dir = parent(path);
    let home = file_name(dir).to_ascii_lowercase();
    let up = file_name(parent(dir));
    home.contains("jdk")
        || home.contains("jre")
        || home.contains("java")
        || up == "jvm"
        || up == "java"
}

/// The runtime a `release` file describes; no package when it is not a Java one.
pub(crate) fn parse(text: &str, path: &str) -> Vec<FileFact> {
    let keys = release_keys(text);
    let Some(java_version) = keys.get("JAVA_VERSION").filter(|v| !v.is_empty()) else {
        return vec![FileFact::Packages(Vec::new())];
    };
    let runtime = keys
        .get("JAVA_RUNTIME_VERSION")
        .filter(|r| r.starts_with(java_version.as_str()));
    let version = runtime.unwrap_or(java_version);
    if !plausible_version(version) {
        return vec![
            FileFact::Packages(Vec::new()),
            FileFact::malformed(format!(
                "JAVA_VERSION `{}` is not a version",
                crate::catalog::shorten(version, 64)
            )),
        ];
    }
    let implementor = keys.get("IMPLEMENTOR").map(String::as_str).unwrap_or("");
    let jre = keys.get("IMAGE_TYPE").is_some_and(|t| t == "JRE")
        || file_name(parent(path)).to_ascii_lowercase().contains("jre");
    let commercial = keys.get("BUILD_TYPE").is_some_and(|t| t == "commercial");
    let (vendor, product) = identity(implementor, jre, commercial);
    if !plausible_name(&vendor) {
        return vec![FileFact::Packages(Vec::new())];
    }
    let purl = Purl::new("generic", product)
        .namespace(&vendor)
        .version(version)
        .to_string();
    let mut p = lang_package(
        PackageType::Binary,
        product,
        version,
        purl,
        None,
        None,
        path,
    );
    p.vendor = Some(vendor);
    vec![FileFact::Packages(vec![p])]
}

/// (vendor, product) from `IMPLEMENTOR`, as NVD's CPEs name them.
fn identity(implementor: &str, jre: bool, commercial: bool) -> (String, &'static str) {
    let i = implementor.to_ascii_lowercase();
    let (vendor, product) = if i.contains("adoptium") {
        ("eclipse", "temurin")
    } else if i.contains("adoptopenjdk") {
        ("adoptopenjdk", "openjdk")
    } else if i.contains("amazon") {
        ("amazon", "corretto")
    } else if i.contains("azul") {
        ("azul", "zulu")
    } else if i.contains("bellsoft") {
        ("bellsoft", "liberica")
    } else if i.contains("graalvm") {
        ("oracle", "graalvm")
    } else if i.contains("oracle") && commercial {
        ("oracle", if jre { "jre" } else { "jdk" })
    } else if i.contains("oracle") || i.is_empty() {
        ("oracle", "openjdk")
    } else if i.contains("red hat") {
        ("redhat", "openjdk")
    } else if i.contains("microsoft") {
        ("microsoft", "openjdk")
    } else if i.contains("sap") {
        ("sap", "sapmachine")
    } else {
        // A distribution's own build (`Debian`, `Ubuntu`): OpenJDK as Oracle publishes it.
        ("oracle", "openjdk")
    };
    (vendor.to_string(), product)
}

/// `KEY="value"` lines (quotes optional); other lines are ignored.
fn release_keys(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in text.lines().take(1000) {
        if let Some((k, v)) = line.split_once('=') {
            let k = k.trim();
            if k.is_empty() || !k.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                continue;
            }
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            out.insert(k.to_string(), v.trim().to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(facts: &[FileFact]) -> Option<(String, String, String, Option<String>)> {
        let FileFact::Packages(p) = &facts[0] else {
            panic!("packages first")
        };
        p.first().map(|p| {
            (
                p.name.clone(),
                p.version.clone(),
                p.purl.clone(),
                p.vendor.clone(),
            )
        })
    }

    #[test]
    fn paths() {
        assert!(wanted("/opt/java/openjdk/release"));
        assert!(wanted("/usr/lib/jvm/java-17-openjdk-amd64/release"));
        assert!(wanted("/opt/jdk-21.0.1/release"));
        assert!(wanted("/usr/lib/jvm/zulu17/release"));
        assert!(!wanted("/etc/release"));
        assert!(!wanted("/opt/app/release"));
        assert!(!wanted("/opt/java/openjdk/release.txt"));
    }

    #[test]
    fn vendors_and_versions() {
        let temurin = "IMPLEMENTOR=\"Eclipse Adoptium\"\nIMPLEMENTOR_VERSION=\"Temurin-17.0.8.1+1\"\nJAVA_RUNTIME_VERSION=\"17.0.8.1+1\"\nJAVA_VERSION=\"17.0.8.1\"\nIMAGE_TYPE=\"JDK\"\n";
        assert_eq!(
            one(&parse(temurin, "/opt/java/openjdk/release")),
            Some((
                "temurin".into(),
                "17.0.8.1+1".into(),
                "pkg:generic/eclipse/temurin@17.0.8.1+1".into(),
                Some("eclipse".into())
            ))
        );
        let oracle8 = "JAVA_VERSION=\"1.8.0_412\"\nIMPLEMENTOR=\"Oracle Corporation\"\nBUILD_TYPE=\"commercial\"\n";
        assert_eq!(
            one(&parse(oracle8, "/usr/java/jre1.8.0_412/release")).map(|p| (p.0, p.1)),
            Some(("jre".into(), "1.8.0_412".into()))
        );
        let corretto = "IMPLEMENTOR=\"Amazon.com Inc.\"\nJAVA_VERSION=\"21.0.1\"\n";
        assert_eq!(
            one(&parse(
                corretto,
                "/usr/lib/jvm/java-21-amazon-corretto/release"
            ))
            .map(|p| p.2),
            Some("pkg:generic/amazon/corretto@21.0.1".into())
        );
        let openjdk = "JAVA_VERSION=\"11.0.2\"\nJAVA_RUNTIME_VERSION=\"other\"\n";
        assert_eq!(
            one(&parse(openjdk, "/opt/jdk-11.0.2/release")).map(|p| (p.0, p.1)),
            Some(("openjdk".into(), "11.0.2".into()))
        );
    }

    #[test]
    fn not_a_java_release_or_broken() {
        assert_eq!(
            one(&parse("NAME=\"Fedora\"\n", "/opt/java/x/release")),
            None
        );
        assert_eq!(
            one(&parse("\u{0}\u{1}garbage", "/opt/java/x/release")),
            None
        );
        let facts = parse("JAVA_VERSION=\"1 2\"\n", "/opt/java/x/release");
        assert_eq!(one(&facts), None);
        assert!(
            matches!(&facts[1], FileFact::Skipped { message, .. } if message.contains("`1 2`"))
        );
    }
}
