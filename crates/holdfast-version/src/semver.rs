//! SemVer 2.0.0 versions as used by npm and crates.io, parsed by the
//! `semver` crate and ordered by precedence (SemVer 2.0.0 §11).
//!
//! * `MAJOR.MINOR.PATCH` compare numerically;
//! * a version with a pre-release is older than the same version without;
//! * pre-release identifiers compare left to right: numeric ones
//!   numerically, alphanumeric ones in ASCII order, numeric before
//!   alphanumeric, and a shorter list first when it is a prefix;
//! * build metadata (`+…`) is ignored (`1.0.0+a == 1.0.0+b`).
//!
//! As npm's `semver` does, surrounding whitespace and one leading `v` are
//! accepted; leading zeros in numeric parts are not.

use std::cmp::Ordering;
use std::fmt;

use crate::error::{check_bounds, VersionError};
use crate::Scheme;

/// A parsed SemVer 2.0.0 version.
#[derive(Debug, Clone)]
pub struct SemverVersion {
    original: String,
    parsed: ::semver::Version,
}

impl SemverVersion {
    /// Parses a SemVer 2.0.0 version (`1.2.3`, `v1.2.3-rc.1+build`).
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        check_bounds(Scheme::Semver, s)?;
        let trimmed = s.trim();
        let bare = trimmed.strip_prefix('v').unwrap_or(trimmed);
        let parsed = ::semver::Version::parse(bare)
            .map_err(|e| VersionError::malformed(Scheme::Semver, s, e.to_string()))?;
        Ok(SemverVersion {
            original: s.to_owned(),
            parsed,
        })
    }

    /// The string this version was parsed from.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The underlying `semver` crate version.
    pub fn as_semver(&self) -> &::semver::Version {
        &self.parsed
    }
}

impl Ord for SemverVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        // Precedence ignores build metadata (SemVer 2.0.0 §10, §11).
        self.parsed.cmp_precedence(&other.parsed)
    }
}

impl PartialOrd for SemverVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SemverVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SemverVersion {}

impl fmt::Display for SemverVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Compares two SemVer version strings by precedence.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(SemverVersion::parse(a)?.cmp(&SemverVersion::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn spec_examples() {
        // SemVer 2.0.0 §11.
        let ordered = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
        ];
        for w in ordered.windows(2) {
            assert_eq!(compare(w[0], w[1]).unwrap(), Less, "{} < {}", w[0], w[1]);
        }
        assert_eq!(compare("1.0.0+a", "1.0.0+b").unwrap(), Equal);
        assert_eq!(compare("v1.0.0", " 1.0.0 ").unwrap(), Equal);
        for bad in ["1.0", "01.0.0", "1.0.0-01", "1.0.0-", "vv1.0.0", "1.0.0.0"] {
            assert!(SemverVersion::parse(bad).is_err(), "{bad:?}");
        }
    }
}
