//! Version schemes used to match installed packages against OSV advisories.
//!
//! Each scheme lives in its own module and is a set of pure functions: no I/O,
//! no global state, no panics on any input. Inputs are untrusted (they come
//! from container images and advisory feeds), so every parser rejects strings
//! longer than [`MAX_VERSION_LEN`] bytes and does work linear in the length of
//! what it accepts.
//!
//! | scheme | module | rules followed |
//! | --- | --- | --- |
//! | [`Scheme::Dpkg`] | [`dpkg`] | Debian Policy 5.6.12, dpkg's `verrevcmp` |
//! | [`Scheme::Rpm`] | [`rpm`] | `rpmvercmp` of rpm ≥ 4.15 (`~`, `^`), EVR as `rpm.labelCompare` |
//! | [`Scheme::Apk`] | [`apk`] | apk-tools' version rules (Alpine, Wolfi) |
//! | [`Scheme::Pep440`] | [`pep440`] | PEP 440 through the `pep440_rs` crate |
//! | [`Scheme::Semver`] | [`semver`] | SemVer 2.0.0 precedence (npm, crates.io) |
//! | [`Scheme::Go`] | [`go`] | Go module versions (`golang.org/x/mod/semver`) |
//! | [`Scheme::Maven`] | [`maven`] | Maven 3.8's `ComparableVersion` |
//! | [`Scheme::RubyGems`] | [`rubygems`] | `Gem::Version` |
//! | [`Scheme::NuGet`] | [`nuget`] | NuGet.Versioning's `NuGetVersion` |
//! | [`Scheme::Composer`] | [`composer`] | Composer's `VersionParser::normalize` + PHP `version_compare` |
//!
//! The top-level [`parse`] and [`compare`] dispatch on a [`Scheme`];
//! [`Scheme::for_osv_ecosystem`] picks the scheme for an OSV ecosystem name.
//! Parse advisory bounds once with [`parse`] and compare the resulting
//! [`Version`]s many times.
//!
//! ```
//! use holdfast_version::{compare, parse, Scheme};
//! use std::cmp::Ordering;
//!
//! let scheme = Scheme::for_osv_ecosystem("Debian:12").unwrap();
//! assert_eq!(compare(scheme, "1.0~rc1-1", "1.0-1").unwrap(), Ordering::Less);
//!
//! let fixed = parse(Scheme::Pep440, "2.31.0").unwrap();
//! let installed = parse(Scheme::Pep440, "2.31.0rc1").unwrap();
//! assert!(installed < fixed);
//! ```

use std::cmp::Ordering;
use std::fmt;

pub mod apk;
pub mod composer;
pub mod dpkg;
mod error;
pub mod go;
pub mod maven;
pub mod nuget;
mod num;
pub mod pep440;
pub mod rpm;
pub mod rubygems;
pub mod semver;

pub use error::{VersionError, VersionErrorKind, MAX_VERSION_LEN};

/// A version scheme: the rules by which one ecosystem orders its versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    /// Debian and Ubuntu packages (`dpkg`).
    Dpkg,
    /// RPM packages: Red Hat, Rocky, Alma, SUSE, openSUSE, ….
    Rpm,
    /// Alpine and Wolfi/Chainguard packages (`apk`).
    Apk,
    /// Python packages (PEP 440).
    Pep440,
    /// SemVer 2.0.0, as used by npm and crates.io.
    Semver,
    /// Go modules.
    Go,
    /// Maven artifacts.
    Maven,
    /// Ruby gems.
    RubyGems,
    /// NuGet packages.
    NuGet,
    /// Composer (Packagist) packages.
    Composer,
}

impl Scheme {
    /// Every scheme, in declaration order.
    pub const ALL: [Scheme; 10] = [
        Scheme::Dpkg,
        Scheme::Rpm,
        Scheme::Apk,
        Scheme::Pep440,
        Scheme::Semver,
        Scheme::Go,
        Scheme::Maven,
        Scheme::RubyGems,
        Scheme::NuGet,
        Scheme::Composer,
    ];

    /// The scheme that orders the versions of an OSV ecosystem.
    ///
    /// `ecosystem` is the `affected[].package.ecosystem` field of an OSV
    /// record; a suffix after the first `:` (a release, as in `Debian:12` or
    /// `Alpine:v3.19`, or a registry URL) is ignored. Names are matched
    /// exactly, as the OSV schema spells them. Returns `None` for ecosystems
    /// whose versions are not ordered by any scheme here (for example `Hex`,
    /// `Pub`, or git-only ranges).
    pub fn for_osv_ecosystem(ecosystem: &str) -> Option<Scheme> {
        let base = ecosystem.split(':').next().unwrap_or("").trim();
        Some(match base {
            "Debian" | "Ubuntu" => Scheme::Dpkg,
            "Red Hat" | "Rocky Linux" | "AlmaLinux" | "openSUSE" | "SUSE" | "Mageia"
            | "openEuler" | "Photon OS" | "Azure Linux" => Scheme::Rpm,
            "Alpine" | "Wolfi" | "Chainguard" | "MinimOS" => Scheme::Apk,
            "PyPI" => Scheme::Pep440,
            "npm" | "crates.io" => Scheme::Semver,
            "Go" => Scheme::Go,
            "Maven" => Scheme::Maven,
            "RubyGems" => Scheme::RubyGems,
            "NuGet" => Scheme::NuGet,
            "Packagist" => Scheme::Composer,
            _ => return None,
        })
    }

    /// A short human-readable name for the scheme, as used in errors.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Dpkg => "dpkg",
            Scheme::Rpm => "rpm",
            Scheme::Apk => "apk",
            Scheme::Pep440 => "PEP 440",
            Scheme::Semver => "semver",
            Scheme::Go => "Go module",
            Scheme::Maven => "Maven",
            Scheme::RubyGems => "RubyGems",
            Scheme::NuGet => "NuGet",
            Scheme::Composer => "Composer",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed version of any scheme: parse once, compare many times.
///
/// `Ord` is the scheme's own ordering when both sides share a scheme. Values
/// of different schemes never compare equal; they are ordered by [`Scheme`]
/// first only so that `Ord` stays total. Use [`Version::try_cmp`] to refuse
/// such comparisons instead.
///
/// Equality is the scheme's equivalence, not string equality: in dpkg
/// `1.0` equals `1.00`, in PEP 440 `1.0` equals `1.0.0`. For that reason
/// `Version` does not implement `Hash`.
#[derive(Debug, Clone)]
pub enum Version {
    /// A [`dpkg::DpkgVersion`].
    Dpkg(dpkg::DpkgVersion),
    /// An [`rpm::RpmVersion`].
    Rpm(rpm::RpmVersion),
    /// An [`apk::ApkVersion`].
    Apk(apk::ApkVersion),
    /// A [`pep440::Pep440Version`].
    Pep440(pep440::Pep440Version),
    /// A [`semver::SemverVersion`].
    Semver(semver::SemverVersion),
    /// A [`go::GoVersion`].
    Go(go::GoVersion),
    /// A [`maven::MavenVersion`].
    Maven(maven::MavenVersion),
    /// A [`rubygems::RubyGemsVersion`].
    RubyGems(rubygems::RubyGemsVersion),
    /// A [`nuget::NuGetVersion`].
    NuGet(nuget::NuGetVersion),
    /// A [`composer::ComposerVersion`].
    Composer(composer::ComposerVersion),
}

impl Version {
    /// The scheme this version was parsed with.
    pub fn scheme(&self) -> Scheme {
        match self {
            Version::Dpkg(_) => Scheme::Dpkg,
            Version::Rpm(_) => Scheme::Rpm,
            Version::Apk(_) => Scheme::Apk,
            Version::Pep440(_) => Scheme::Pep440,
            Version::Semver(_) => Scheme::Semver,
            Version::Go(_) => Scheme::Go,
            Version::Maven(_) => Scheme::Maven,
            Version::RubyGems(_) => Scheme::RubyGems,
            Version::NuGet(_) => Scheme::NuGet,
            Version::Composer(_) => Scheme::Composer,
        }
    }

    /// The string this version was parsed from.
    pub fn as_str(&self) -> &str {
        match self {
            Version::Dpkg(v) => v.as_str(),
            Version::Rpm(v) => v.as_str(),
            Version::Apk(v) => v.as_str(),
            Version::Pep440(v) => v.as_str(),
            Version::Semver(v) => v.as_str(),
            Version::Go(v) => v.as_str(),
            Version::Maven(v) => v.as_str(),
            Version::RubyGems(v) => v.as_str(),
            Version::NuGet(v) => v.as_str(),
            Version::Composer(v) => v.as_str(),
        }
    }

    /// Compares two versions of the same scheme; `None` when the schemes
    /// differ.
    pub fn try_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(match (self, other) {
            (Version::Dpkg(a), Version::Dpkg(b)) => a.cmp(b),
            (Version::Rpm(a), Version::Rpm(b)) => a.cmp(b),
            (Version::Apk(a), Version::Apk(b)) => a.cmp(b),
            (Version::Pep440(a), Version::Pep440(b)) => a.cmp(b),
            (Version::Semver(a), Version::Semver(b)) => a.cmp(b),
            (Version::Go(a), Version::Go(b)) => a.cmp(b),
            (Version::Maven(a), Version::Maven(b)) => a.cmp(b),
            (Version::RubyGems(a), Version::RubyGems(b)) => a.cmp(b),
            (Version::NuGet(a), Version::NuGet(b)) => a.cmp(b),
            (Version::Composer(a), Version::Composer(b)) => a.cmp(b),
            _ => return None,
        })
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.try_cmp(other)
            .unwrap_or_else(|| self.scheme().cmp(&other.scheme()))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses `v` with the rules of `scheme` into a comparable [`Version`].
pub fn parse(scheme: Scheme, v: &str) -> Result<Version, VersionError> {
    Ok(match scheme {
        Scheme::Dpkg => Version::Dpkg(dpkg::DpkgVersion::parse(v)?),
        Scheme::Rpm => Version::Rpm(rpm::RpmVersion::parse(v)?),
        Scheme::Apk => Version::Apk(apk::ApkVersion::parse(v)?),
        Scheme::Pep440 => Version::Pep440(pep440::Pep440Version::parse(v)?),
        Scheme::Semver => Version::Semver(semver::SemverVersion::parse(v)?),
        Scheme::Go => Version::Go(go::GoVersion::parse(v)?),
        Scheme::Maven => Version::Maven(maven::MavenVersion::parse(v)?),
        Scheme::RubyGems => Version::RubyGems(rubygems::RubyGemsVersion::parse(v)?),
        Scheme::NuGet => Version::NuGet(nuget::NuGetVersion::parse(v)?),
        Scheme::Composer => Version::Composer(composer::ComposerVersion::parse(v)?),
    })
}

/// Compares `a` with `b` under the rules of `scheme`.
///
/// Fails, naming the scheme and the string, if either does not parse.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    let a = parse(scheme, a)?;
    let b = parse(scheme, b)?;
    Ok(a.cmp(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osv_ecosystems_map_to_schemes() {
        let cases = [
            ("Debian:12", Some(Scheme::Dpkg)),
            ("Debian", Some(Scheme::Dpkg)),
            ("Ubuntu", Some(Scheme::Dpkg)),
            ("Ubuntu:22.04:LTS", Some(Scheme::Dpkg)),
            ("Alpine:v3.19", Some(Scheme::Apk)),
            ("Red Hat", Some(Scheme::Rpm)),
            ("Red Hat:enterprise_linux:9::appstream", Some(Scheme::Rpm)),
            ("Rocky Linux", Some(Scheme::Rpm)),
            ("AlmaLinux:8", Some(Scheme::Rpm)),
            ("openSUSE", Some(Scheme::Rpm)),
            ("SUSE:Linux Enterprise Server 15 SP5", Some(Scheme::Rpm)),
            ("PyPI", Some(Scheme::Pep440)),
            ("npm", Some(Scheme::Semver)),
            ("crates.io", Some(Scheme::Semver)),
            ("Go", Some(Scheme::Go)),
            ("Maven", Some(Scheme::Maven)),
            ("Maven:https://repo.example/maven2/", Some(Scheme::Maven)),
            ("RubyGems", Some(Scheme::RubyGems)),
            ("NuGet", Some(Scheme::NuGet)),
            ("Packagist", Some(Scheme::Composer)),
            ("Wolfi", Some(Scheme::Apk)),
            ("Chainguard", Some(Scheme::Apk)),
            ("Hex", None),
            ("", None),
            ("debian", None),
        ];
        for (eco, want) in cases {
            assert_eq!(Scheme::for_osv_ecosystem(eco), want, "{eco}");
        }
    }

    #[test]
    fn errors_name_scheme_and_input() {
        let err = compare(Scheme::Dpkg, "1.0", "a:1").unwrap_err();
        assert_eq!(err.scheme(), Scheme::Dpkg);
        assert_eq!(err.input(), "a:1");
        let msg = err.to_string();
        assert!(msg.contains("dpkg") && msg.contains("a:1"), "{msg}");
    }

    #[test]
    fn every_scheme_bounds_input() {
        let long = "1".repeat(MAX_VERSION_LEN + 1);
        for scheme in Scheme::ALL {
            let err = parse(scheme, &long).unwrap_err();
            assert!(
                matches!(err.kind(), VersionErrorKind::TooLong { .. }),
                "{scheme}: {err}"
            );
            assert!(err.input().chars().count() <= 129);
            assert!(parse(scheme, "").is_err(), "{scheme} accepted empty");
        }
    }

    #[test]
    fn versions_of_different_schemes_do_not_compare() {
        let a = parse(Scheme::Dpkg, "1.0").unwrap();
        let b = parse(Scheme::Rpm, "1.0").unwrap();
        assert_eq!(a.try_cmp(&b), None);
        assert_ne!(a, b);
        assert_eq!(a.as_str(), "1.0");
        assert_eq!(a.scheme(), Scheme::Dpkg);
    }
}
