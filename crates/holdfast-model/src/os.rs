//! The operating system an image is built on.

use serde::{Deserialize, Serialize};

/// The distribution family, which decides the package manager and the advisory feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OsFamily {
    Debian,
    Ubuntu,
    Alpine,
    Wolfi,
    Chainguard,
    Redhat,
    Centos,
    Rocky,
    Alma,
    Oracle,
    Fedora,
    Amazon,
    Suse,
    Opensuse,
    Photon,
    Mariner,
    /// Distroless images: Debian packages recorded in `var/lib/dpkg/status.d/`.
    Distroless,
    Unknown,
}

impl OsFamily {
    /// The family's name as it appears in the JSON result and in purl `distro=` qualifiers.
    pub fn as_str(self) -> &'static str {
        match self {
            OsFamily::Debian => "debian",
            OsFamily::Ubuntu => "ubuntu",
            OsFamily::Alpine => "alpine",
            OsFamily::Wolfi => "wolfi",
            OsFamily::Chainguard => "chainguard",
            OsFamily::Redhat => "redhat",
            OsFamily::Centos => "centos",
            OsFamily::Rocky => "rocky",
            OsFamily::Alma => "alma",
            OsFamily::Oracle => "oracle",
            OsFamily::Fedora => "fedora",
            OsFamily::Amazon => "amazon",
            OsFamily::Suse => "suse",
            OsFamily::Opensuse => "opensuse",
            OsFamily::Photon => "photon",
            OsFamily::Mariner => "mariner",
            OsFamily::Distroless => "distroless",
            OsFamily::Unknown => "unknown",
        }
    }
}

/// What the image says about its operating system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// The family, derived from `ID` and `ID_LIKE` or from a fallback file.
    pub family: OsFamily,
    /// The release, e.g. `12` for Debian bookworm, `3.19.1` for Alpine, `9.3` for UBI 9.
    pub version: String,
    /// A human name (`PRETTY_NAME`), when the image gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
    /// The release code name (`VERSION_CODENAME`), e.g. `bookworm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
}
