//! Go module versions, ordered like `golang.org/x/mod/semver.Compare`.
//!
//! A Go module version is SemVer 2.0.0 with a `v` prefix: `v1.2.3`,
//! `v1.2.3-pre.1`, `v2.0.0+incompatible`. This module accepts the `v` as
//! optional, since OSV's Go ranges omit it.
//!
//! * `vMAJOR` and `vMAJOR.MINOR` are shorthands for `vMAJOR.0.0` and
//!   `vMAJOR.MINOR.0` (as in `x/mod/semver`), without pre-release or build;
//! * build metadata, including `+incompatible`, is ignored;
//! * pseudo-versions (`v0.0.0-20191109021931-daa7c04131f5`,
//!   `v1.2.4-0.20191109021931-daa7c04131f5`, `v1.2.3-pre.0.2019…-…`) are
//!   ordinary pre-releases, so they sort by their timestamp and before the
//!   release they precede, exactly as the Go command orders them.

use std::cmp::Ordering;
use std::fmt;

use crate::error::{check_bounds, VersionError};
use crate::Scheme;

/// A parsed Go module version.
#[derive(Debug, Clone)]
pub struct GoVersion {
    original: String,
    parsed: ::semver::Version,
}

impl GoVersion {
    /// Parses a Go module version, with or without its `v` prefix.
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        check_bounds(Scheme::Go, s)?;
        let err = |reason: String| VersionError::malformed(Scheme::Go, s, reason);
        let bare = s.strip_prefix('v').unwrap_or(s);
        // x/mod/semver: a shorthand has no pre-release or build suffix.
        let core_end = bare.find(['-', '+']).unwrap_or(bare.len());
        let dots = bare[..core_end].matches('.').count();
        let full = match dots {
            0 | 1 if core_end < bare.len() => {
                return Err(err(
                    "a shorthand version (vMAJOR or vMAJOR.MINOR) cannot have a pre-release or build suffix"
                        .into(),
                ))
            }
            0 => format!("{bare}.0.0"),
            1 => format!("{bare}.0"),
            _ => bare.to_owned(),
        };
        let parsed = ::semver::Version::parse(&full).map_err(|e| err(e.to_string()))?;
        Ok(GoVersion {
            original: s.to_owned(),
            parsed,
        })
    }

    /// The string this version was parsed from.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Whether this is a pseudo-version (`vX.Y.Z-[pre.]0.yyyymmddhhmmss-hash`
    /// or `vX.0.0-yyyymmddhhmmss-hash`), as `golang.org/x/mod/module` defines
    /// them.
    pub fn is_pseudo(&self) -> bool {
        let pre = self.parsed.pre.as_str();
        // The last identifier is "yyyymmddhhmmss-abcdef123456".
        let last = pre.rsplit('.').next().unwrap_or("");
        let Some((stamp, rev)) = last.split_once('-') else {
            return false;
        };
        stamp.len() == 14
            && stamp.bytes().all(|b| b.is_ascii_digit())
            && rev.len() >= 12
            && rev.bytes().all(|b| b.is_ascii_alphanumeric())
    }
}

impl Ord for GoVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parsed.cmp_precedence(&other.parsed)
    }
}

impl PartialOrd for GoVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for GoVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GoVersion {}

impl fmt::Display for GoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Compares two Go module versions.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(GoVersion::parse(a)?.cmp(&GoVersion::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn go_ordering() {
        let ordered = [
            "v0.0.0-20191109021931-daa7c04131f5",
            "v0.0.0-20200101000000-000000000000",
            "v0.1.0",
            "v1.2.3-pre",
            "v1.2.3-pre.0.20191109021931-daa7c04131f5",
            "v1.2.3",
            "v1.2.4-0.20191109021931-daa7c04131f5",
            "v1.2.4",
            "v2.0.0+incompatible",
            "v2.0.1",
        ];
        for w in ordered.windows(2) {
            assert_eq!(compare(w[0], w[1]).unwrap(), Less, "{} < {}", w[0], w[1]);
        }
        assert_eq!(compare("v2.0.0+incompatible", "2.0.0").unwrap(), Equal);
        assert_eq!(compare("v1", "v1.0.0").unwrap(), Equal);
        assert_eq!(compare("v1.2", "1.2.0").unwrap(), Equal);
        assert!(GoVersion::parse("v1.2.4-0.20191109021931-daa7c04131f5")
            .unwrap()
            .is_pseudo());
        assert!(!GoVersion::parse("v1.2.4-rc.1").unwrap().is_pseudo());
        for bad in ["v1.2-pre", "v01.0.0", "v1.0.0.0", "vv1", "1.0.0-01", "v"] {
            assert!(GoVersion::parse(bad).is_err(), "{bad:?}");
        }
    }
}
