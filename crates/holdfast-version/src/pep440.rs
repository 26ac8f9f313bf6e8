//! Python package versions (PEP 440), parsed and ordered by the `pep440_rs`
//! crate.
//!
//! PEP 440 ("Version scheme" and "Summary of permitted suffixes and relative
//! ordering"): `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`, with the
//! normalisations of the PEP's appendix (case, `-`/`_`/`.` separators,
//! `alpha`/`beta`/`c`/`pre`/`preview` spellings, implicit `0`, `v` prefix,
//! surrounding whitespace). Ordering, as in Python's `packaging`:
//!
//! * epoch first, then the release numbers with trailing zeros ignored
//!   (`1.0 == 1.0.0`);
//! * `X.devN < XaN < XbN < XrcN < X < X.postN`, with a dev release of a
//!   pre- or post-release just before it (`1.0a1.dev1 < 1.0a1`);
//! * a local version sorts after the same public version; local segments
//!   compare numerically when both are numbers, a number is newer than a
//!   string, strings compare case-insensitively.
//!
//! Release numbers beyond `u64` are rejected (Python accepts them).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::error::{check_bounds, VersionError};
use crate::Scheme;

/// A parsed PEP 440 version.
#[derive(Debug, Clone)]
pub struct Pep440Version {
    original: String,
    parsed: pep440_rs::Version,
}

impl Pep440Version {
    /// Parses a PEP 440 version string.
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        check_bounds(Scheme::Pep440, s)?;
        if s.trim().is_empty() {
            return Err(VersionError::new(
                Scheme::Pep440,
                s,
                crate::VersionErrorKind::Empty,
            ));
        }
        let parsed = pep440_rs::Version::from_str(s)
            .map_err(|e| VersionError::malformed(Scheme::Pep440, s, e.to_string()))?;
        Ok(Pep440Version {
            original: s.to_owned(),
            parsed,
        })
    }

    /// The string this version was parsed from.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The underlying `pep440_rs` version (normalised form via `Display`).
    pub fn as_pep440(&self) -> &pep440_rs::Version {
        &self.parsed
    }
}

impl Ord for Pep440Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parsed.cmp(&other.parsed)
    }
}

impl PartialOrd for Pep440Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Pep440Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Pep440Version {}

impl fmt::Display for Pep440Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Compares two PEP 440 version strings.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(Pep440Version::parse(a)?.cmp(&Pep440Version::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn pep_ordering() {
        let ordered = [
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
            "1!0.1",
        ];
        for w in ordered.windows(2) {
            assert_eq!(compare(w[0], w[1]).unwrap(), Less, "{} < {}", w[0], w[1]);
        }
        assert_eq!(compare("1.0", "1.0.0").unwrap(), Equal);
        assert_eq!(compare("v1.0", "1.0").unwrap(), Equal);
        assert_eq!(compare("1.0-1", "1.0.post1").unwrap(), Equal);
        assert_eq!(compare("1.0RC1", "1.0c1").unwrap(), Equal);
        assert!(Pep440Version::parse("1.0.x").is_err());
        assert!(Pep440Version::parse("   ").is_err());
    }
}
