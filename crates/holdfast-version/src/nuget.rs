//! NuGet package versions, ordered like NuGet.Versioning's `NuGetVersion`
//! with the default `VersionComparer`.
//!
//! Syntax (`NuGetVersion.TryParse`): surrounding whitespace is trimmed;
//! one to four `.`-separated numbers (`Major.Minor.Patch.Revision`, missing
//! ones are 0, leading zeros allowed, each at most 2147483647), then an
//! optional `-` pre-release of `.`-separated labels of `[0-9A-Za-z-]` (a
//! purely numeric label has no leading zero), then optional `+` metadata.
//!
//! Ordering (SemVer 2.0.0 with NuGet's extensions):
//!
//! * the four numbers compare numerically (`1.0 == 1.0.0.0`);
//! * a pre-release is older than the release;
//! * labels compare pairwise: both numeric (as `int.TryParse` sees them)
//!   numerically, a numeric label before a non-numeric one, otherwise
//!   case-insensitively (`1.0.0-RC.1 == 1.0.0-rc.1`); a shorter list of
//!   labels that is a prefix of the other is older;
//! * metadata is ignored.

use std::cmp::Ordering;
use std::fmt;

use crate::error::{check_bounds, VersionError};
use crate::Scheme;

/// A parsed NuGet version.
#[derive(Debug, Clone)]
pub struct NuGetVersion {
    original: String,
    numbers: [u32; 4],
    labels: Vec<String>,
}

/// A label's value when `int.TryParse` accepts it (an optional `-` sign and
/// digits, within `i32`).
fn numeric_label(label: &str) -> Option<i64> {
    let digits = label.strip_prefix('-').unwrap_or(label);
    if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude: i64 = digits.parse().ok()?;
    let value = if label.starts_with('-') {
        -magnitude
    } else {
        magnitude
    };
    (i64::from(i32::MIN)..=i64::from(i32::MAX))
        .contains(&value)
        .then_some(value)
}

fn valid_part(part: &str) -> bool {
    !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl NuGetVersion {
    /// Parses a NuGet version string.
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        check_bounds(Scheme::NuGet, s)?;
        let err = |reason: &str| VersionError::malformed(Scheme::NuGet, s, reason);
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return Err(VersionError::new(
                Scheme::NuGet,
                s,
                crate::VersionErrorKind::Empty,
            ));
        }
        // Metadata after the first '+', pre-release after the first '-'.
        let (rest, metadata) = match trimmed.split_once('+') {
            Some((rest, meta)) => (rest, Some(meta)),
            None => (trimmed, None),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (rest, None),
        };
        let mut numbers = [0u32; 4];
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() > 4 {
            return Err(err("more than four version numbers"));
        }
        for (slot, part) in numbers.iter_mut().zip(&parts) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("version numbers must be digits"));
            }
            let significant = part.trim_start_matches('0');
            *slot = if significant.is_empty() {
                0
            } else {
                significant
                    .parse::<u32>()
                    .ok()
                    .filter(|&n| n <= i32::MAX as u32)
                    .ok_or_else(|| err("version number is larger than 2147483647"))?
            };
        }
        let mut labels = Vec::new();
        if let Some(pre) = pre {
            for label in pre.split('.') {
                if !valid_part(label) {
                    return Err(err("invalid pre-release label"));
                }
                if label.len() > 1
                    && label.starts_with('0')
                    && label.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(err("numeric pre-release label has a leading zero"));
                }
                labels.push(label.to_owned());
            }
        }
        if let Some(meta) = metadata {
            if !meta.split('.').all(valid_part) {
                return Err(err("invalid build metadata"));
            }
        }
        Ok(NuGetVersion {
            original: s.to_owned(),
            numbers,
            labels,
        })
    }

    /// The string this version was parsed from.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Whether this is a pre-release.
    pub fn is_prerelease(&self) -> bool {
        !self.labels.is_empty()
    }
}

/// NuGet's `CompareRelease` for one pair of labels.
fn cmp_label(a: &str, b: &str) -> Ordering {
    match (numeric_label(a), numeric_label(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        // StringComparer.OrdinalIgnoreCase folds to upper case.
        (None, None) => a
            .bytes()
            .map(|c| c.to_ascii_uppercase())
            .cmp(b.bytes().map(|c| c.to_ascii_uppercase())),
    }
}

impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| {
            match (self.is_prerelease(), other.is_prerelease()) {
                (false, false) => Ordering::Equal,
                (false, true) => Ordering::Greater,
                (true, false) => Ordering::Less,
                (true, true) => {
                    for (a, b) in self.labels.iter().zip(&other.labels) {
                        let ord = cmp_label(a, b);
                        if ord != Ordering::Equal {
                            return ord;
                        }
                    }
                    self.labels.len().cmp(&other.labels.len())
                }
            }
        })
    }
}

impl PartialOrd for NuGetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for NuGetVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for NuGetVersion {}

impl fmt::Display for NuGetVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Compares two NuGet version strings.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(NuGetVersion::parse(a)?.cmp(&NuGetVersion::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_invalid() {
        for bad in [
            "",
            "1.2.3.4.5",
            "a",
            "1.0.0-",
            "1.0.0-a..b",
            "1.0.0+",
            "1.0.0-01",
            "1.0.x",
            "2147483648.0",
            "1.0.0-a_b",
            "v1.0",
        ] {
            assert!(NuGetVersion::parse(bad).is_err(), "{bad:?}");
        }
    }
}
