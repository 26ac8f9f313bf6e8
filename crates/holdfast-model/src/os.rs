//! The operating system an image is built on, and the one table that names each family
//! the way os-release and package URLs do.

use serde::{Deserialize, Serialize};

use crate::PackageType;

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
    /// The family's name as it appears in the JSON result (`os.family`), the table and
    /// HTML reports and CycloneDX. Not an os-release `ID` and not a purl namespace: `alma`
    /// here is `almalinux` in both (see [`OsFamily::from_os_release_id`] and
    /// [`OsFamily::purl_namespace`]).
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

/// One row of the family table: the os-release `ID`s of a family, the package format its
/// package manager installs, and the purl namespace of those packages.
struct FamilyRow {
    family: OsFamily,
    /// os-release(5) `ID` values, lower-case; the first is the family's own.
    ids: &'static [&'static str],
    /// What the family's package manager installs.
    package_type: PackageType,
    /// The purl namespace of the family's packages (purl-spec `PURL-TYPES.rst`: the
    /// vendor for deb, apk and rpm). For AlmaLinux it is the os-release `ID`,
    /// `almalinux`.
    purl_namespace: &'static str,
}

/// Every family an os-release `ID` names. Distroless (told apart by `PRETTY_NAME` or by
/// dpkg's `status.d`) and Unknown have no row.
const FAMILIES: &[FamilyRow] = &[
    FamilyRow {
        family: OsFamily::Debian,
        ids: &["debian"],
        package_type: PackageType::Deb,
        purl_namespace: "debian",
    },
    FamilyRow {
        family: OsFamily::Ubuntu,
        ids: &["ubuntu"],
        package_type: PackageType::Deb,
        purl_namespace: "ubuntu",
    },
    FamilyRow {
        family: OsFamily::Alpine,
        ids: &["alpine"],
        package_type: PackageType::Apk,
        purl_namespace: "alpine",
    },
    FamilyRow {
        family: OsFamily::Wolfi,
        ids: &["wolfi"],
        package_type: PackageType::Apk,
        purl_namespace: "wolfi",
    },
    FamilyRow {
        family: OsFamily::Chainguard,
        ids: &["chainguard"],
        package_type: PackageType::Apk,
        purl_namespace: "chainguard",
    },
    FamilyRow {
        family: OsFamily::Redhat,
        ids: &["rhel"],
        package_type: PackageType::Rpm,
        purl_namespace: "redhat",
    },
    FamilyRow {
        family: OsFamily::Centos,
        ids: &["centos"],
        package_type: PackageType::Rpm,
        purl_namespace: "centos",
    },
    FamilyRow {
        family: OsFamily::Rocky,
        ids: &["rocky"],
        package_type: PackageType::Rpm,
        purl_namespace: "rocky",
    },
    FamilyRow {
        family: OsFamily::Alma,
        ids: &["almalinux"],
        package_type: PackageType::Rpm,
        purl_namespace: "almalinux",
    },
    FamilyRow {
        family: OsFamily::Oracle,
        ids: &["ol"],
        package_type: PackageType::Rpm,
        purl_namespace: "oracle",
    },
    FamilyRow {
        family: OsFamily::Fedora,
        ids: &["fedora"],
        package_type: PackageType::Rpm,
        purl_namespace: "fedora",
    },
    FamilyRow {
        family: OsFamily::Amazon,
        ids: &["amzn"],
        package_type: PackageType::Rpm,
        purl_namespace: "amazon",
    },
    FamilyRow {
        family: OsFamily::Suse,
        ids: &["sles", "sled", "sle-micro"],
        package_type: PackageType::Rpm,
        purl_namespace: "suse",
    },
    FamilyRow {
        family: OsFamily::Opensuse,
        ids: &[
            "opensuse",
            "opensuse-leap",
            "opensuse-tumbleweed",
            "opensuse-microos",
        ],
        package_type: PackageType::Rpm,
        purl_namespace: "opensuse",
    },
    FamilyRow {
        family: OsFamily::Photon,
        ids: &["photon"],
        package_type: PackageType::Rpm,
        purl_namespace: "photon",
    },
    FamilyRow {
        family: OsFamily::Mariner,
        ids: &["mariner", "azurelinux"],
        package_type: PackageType::Rpm,
        purl_namespace: "mariner",
    },
];

impl OsFamily {
    /// The family an os-release `ID` names (`almalinux` → [`OsFamily::Alma`], `ol` →
    /// [`OsFamily::Oracle`], `amzn` → [`OsFamily::Amazon`], ...). `id` is compared as
    /// given; os-release(5) makes it lower-case. `None` for an `ID` not in the table:
    /// derivatives are placed by their `ID_LIKE`, which is the caller's business.
    pub fn from_os_release_id(id: &str) -> Option<OsFamily> {
        FAMILIES
            .iter()
            .find(|row| row.ids.contains(&id))
            .map(|row| row.family)
    }

    /// The namespace of a package URL for an OS package of type `package_type` installed
    /// on this family: `debian`, `ubuntu`, `alpine`, `wolfi`, `almalinux`, `oracle`, ...
    ///
    /// A package of the family's own format takes the family's namespace; any other
    /// (a deb on an unknown or distroless OS, an rpm on Debian) takes its format's home
    /// distribution: `debian` for deb, `alpine` for apk, `redhat` for rpm. `None` for
    /// language packages, whose purls have no distribution.
    pub fn purl_namespace(self, package_type: PackageType) -> Option<&'static str> {
        let own = FAMILIES
            .iter()
            .find(|row| row.family == self && row.package_type == package_type);
        if let Some(row) = own {
            return Some(row.purl_namespace);
        }
        match package_type {
            PackageType::Deb => Some("debian"),
            PackageType::Apk => Some("alpine"),
            PackageType::Rpm => Some("redhat"),
            _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_ids() {
        let f = OsFamily::from_os_release_id;
        assert_eq!(f("debian"), Some(OsFamily::Debian));
        assert_eq!(f("almalinux"), Some(OsFamily::Alma));
        assert_eq!(f("alma"), None);
        assert_eq!(f("rhel"), Some(OsFamily::Redhat));
        assert_eq!(f("ol"), Some(OsFamily::Oracle));
        assert_eq!(f("amzn"), Some(OsFamily::Amazon));
        assert_eq!(f("sle-micro"), Some(OsFamily::Suse));
        assert_eq!(f("opensuse-tumbleweed"), Some(OsFamily::Opensuse));
        assert_eq!(f("azurelinux"), Some(OsFamily::Mariner));
        assert_eq!(f("ubi"), None);
        assert_eq!(f("Debian"), None);
        assert_eq!(f(""), None);
    }

    #[test]
    fn every_row_is_reachable_by_its_ids() {
        for row in FAMILIES {
            for id in row.ids {
                assert_eq!(OsFamily::from_os_release_id(id), Some(row.family), "{id}");
            }
        }
    }

    #[test]
    fn purl_namespaces() {
        use PackageType::*;
        let ns = |f: OsFamily, t| f.purl_namespace(t);
        assert_eq!(ns(OsFamily::Alma, Rpm), Some("almalinux"));
        assert_eq!(ns(OsFamily::Oracle, Rpm), Some("oracle"));
        assert_eq!(ns(OsFamily::Amazon, Rpm), Some("amazon"));
        assert_eq!(ns(OsFamily::Redhat, Rpm), Some("redhat"));
        assert_eq!(ns(OsFamily::Unknown, Rpm), Some("redhat"));
        assert_eq!(ns(OsFamily::Debian, Rpm), Some("redhat"));
        assert_eq!(ns(OsFamily::Ubuntu, Deb), Some("ubuntu"));
        assert_eq!(ns(OsFamily::Distroless, Deb), Some("debian"));
        assert_eq!(ns(OsFamily::Unknown, Deb), Some("debian"));
        assert_eq!(ns(OsFamily::Alpine, Deb), Some("debian"));
        assert_eq!(ns(OsFamily::Wolfi, Apk), Some("wolfi"));
        assert_eq!(ns(OsFamily::Chainguard, Apk), Some("chainguard"));
        assert_eq!(ns(OsFamily::Ubuntu, Apk), Some("alpine"));
        assert_eq!(ns(OsFamily::Alma, Python), None);
    }
}
