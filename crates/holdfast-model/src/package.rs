//! An installed or locked package found in a target.

use serde::{Deserialize, Serialize};

/// The packaging system a package belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageType {
    Deb,
    Rpm,
    Apk,
    Python,
    Npm,
    Golang,
    Cargo,
    Maven,
    Gem,
    Composer,
    Nuget,
    /// A runtime or program known from files other than a package database (a JDK's
    /// `release` file); purl type `generic`.
    Binary,
    /// A PHP extension installed with `pecl` (PEAR's registry); purl type `pecl`.
    Pecl,
}

impl PackageType {
    /// Whether this is an operating-system package (as opposed to a language library).
    pub fn is_os(self) -> bool {
        matches!(self, PackageType::Deb | PackageType::Rpm | PackageType::Apk)
    }

    /// The name used in the JSON result and in `--pkg-types` listings.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageType::Deb => "deb",
            PackageType::Rpm => "rpm",
            PackageType::Apk => "apk",
            PackageType::Python => "python",
            PackageType::Npm => "npm",
            PackageType::Golang => "golang",
            PackageType::Cargo => "cargo",
            PackageType::Maven => "maven",
            PackageType::Gem => "gem",
            PackageType::Composer => "composer",
            PackageType::Nuget => "nuget",
            PackageType::Binary => "binary",
            PackageType::Pecl => "pecl",
        }
    }
}

/// How a package got into the target, where the file recording it says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DependencyScope {
    Direct,
    Transitive,
    Dev,
    /// The project's own package: a root manifest outside any dependency folder (a
    /// `package.json` beside its lock, a `Cargo.lock`'s root crate, a .NET app's own
    /// `project` entry), the CycloneDX component type `application`. It has no
    /// `ecosystem`: a registry package of the same name is another package.
    Application,
}

/// A hash algorithm of a [`PackageDigest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DigestAlgorithm {
    /// SHA-1, what Maven Central is searched by.
    Sha1,
    /// SHA-256.
    Sha256,
}

impl DigestAlgorithm {
    /// The name in the JSON result (`sha1`, `sha256`).
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha1 => "sha1",
            DigestAlgorithm::Sha256 => "sha256",
        }
    }
}

/// A digest of the file a package was read from (a Java archive's SHA-1).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PackageDigest {
    /// The hash algorithm.
    pub algorithm: DigestAlgorithm,
    /// The digest as lower-case hex.
    pub value: String,
}

/// How a package was identified, where it is not the package manager's own record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// A Java archive's `META-INF/maven/**/pom.properties`.
    PomProperties,
    /// A Java archive's `META-INF/maven/**/pom.xml` (no `pom.properties` beside it).
    PomXml,
    /// A Java archive's `META-INF/MANIFEST.MF`.
    Manifest,
    /// The file's name alone (`commons-io-2.11.0.jar`): a guess.
    FileName,
    /// A Go main module's version from the `-X` flags of the `-ldflags` build setting.
    GoLdflags,
    /// A Go main module's version found as a string in the binary (what `-ldflags -X`
    /// linked in, when the build info does not record the flags): a guess.
    BinaryContent,
    /// A Go main module's pseudo-version made from the VCS stamp of the build info.
    VcsStamp,
    /// A declaration whose version is not resolved (a Maven `${property}`, a setup.py
    /// range): named, not matched against advisories.
    Unresolved,
}

impl Evidence {
    /// The name in the JSON result.
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::PomProperties => "pom-properties",
            Evidence::PomXml => "pom-xml",
            Evidence::Manifest => "manifest",
            Evidence::FileName => "file-name",
            Evidence::GoLdflags => "go-ldflags",
            Evidence::BinaryContent => "binary-content",
            Evidence::VcsStamp => "vcs-stamp",
            Evidence::Unresolved => "unresolved",
        }
    }
}

/// One package, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// Unique within a target; set by the merge (the purl, made unique when needed).
    #[serde(default)]
    pub id: String,
    pub name: String,
    /// The full version as the package manager prints it (`1:1.2.13.dfsg-1`, `5.1.8-6.el9`).
    pub version: String,
    #[serde(rename = "type")]
    pub package_type: PackageType,
    pub purl: String,
    /// The source package (dpkg `Source:`, apk origin, rpm source rpm name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// rpm epoch, kept apart because rpm tools print it apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// The OSV ecosystem name used to match advisories (`Debian`, `PyPI`, `npm`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<DependencyScope>,
    /// The diff_id of the layer that holds the file this package was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// Absolute path, inside the image, of the file this package was read from.
    pub path: String,
    /// For a language package: the OS package whose file list names the file it was read
    /// from, as `TYPE/NAME` (`deb/docker-registry`, `apk/py3-pip`, `rpm/skopeo`). Such a
    /// package is fixed by upgrading its owner, not by the language's package manager.
    /// Never set on OS packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Digests of the file the package was read from (a Java archive's SHA-1; for a
    /// nested archive, of the nested archive's bytes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub digests: Vec<PackageDigest>,
    /// How the package was identified, when that is weaker than a package manager's own
    /// record (see [`Evidence`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_json_reads_and_new_fields_round_trip() {
        let old = r#"{"name":"a","version":"1","type":"npm","purl":"pkg:npm/a@1","path":"/p"}"#;
        let p: Package = serde_json::from_str(old).unwrap();
        assert!(p.digests.is_empty() && p.evidence.is_none());
        assert!(!serde_json::to_string(&p).unwrap().contains("digests"));

        let mut p = p;
        p.scope = Some(DependencyScope::Application);
        p.evidence = Some(Evidence::PomXml);
        p.digests.push(PackageDigest {
            algorithm: DigestAlgorithm::Sha1,
            value: "ab".into(),
        });
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["scope"], "application");
        assert_eq!(json["evidence"], Evidence::PomXml.as_str());
        assert_eq!(json["digests"][0]["algorithm"], "sha1");
        assert_eq!(serde_json::from_value::<Package>(json).unwrap(), p);
        assert_eq!(
            serde_json::to_value(PackageType::Binary).unwrap(),
            PackageType::Binary.as_str()
        );
    }
}
