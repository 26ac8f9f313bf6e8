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
}
