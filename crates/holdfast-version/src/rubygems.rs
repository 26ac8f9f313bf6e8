//! Ruby gem versions, ordered like RubyGems' `Gem::Version#<=>`.
//!
//! Syntax (`Gem::Version::VERSION_PATTERN`): a number, then `.`-separated
//! alphanumeric parts, then optionally `-` and `.`-separated parts of
//! alphanumerics and `-`; surrounding whitespace is ignored. A `-` means
//! `.pre.` (`1.0-1` is `1.0.pre.1`).
//!
//! Ordering:
//!
//! * the version is split into segments: runs of digits (numbers) and runs
//!   of letters (strings); `1.0.b1` is `[1, 0, "b", 1]`;
//! * any string segment marks a pre-release, older than the release
//!   (`1.0.b1 < 1.0`);
//! * trailing zeros are dropped from the numeric part and from the part
//!   starting at the first string (`1.0.0 == 1`, `1.0.a.0 == 1.a`);
//! * segments compare pairwise, a missing one counting as `0`: numbers
//!   numerically, strings bytewise (case-sensitive), and a string is older
//!   than a number.

use std::cmp::Ordering;
use std::fmt;

use crate::error::{check_bounds, VersionError};
use crate::num::{cmp_digits, strip_zeros};
use crate::Scheme;

/// One segment of a gem version.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Digits, leading zeros stripped (empty for zero).
    Num(String),
    /// Letters.
    Str(String),
}

impl Segment {
    fn is_zero(&self) -> bool {
        matches!(self, Segment::Num(n) if n.is_empty())
    }
}

/// A parsed RubyGems version.
#[derive(Debug, Clone)]
pub struct RubyGemsVersion {
    original: String,
    /// `Gem::Version#canonical_segments`.
    segments: Vec<Segment>,
}

/// Checks `s` (already trimmed) against `Gem::Version::VERSION_PATTERN`:
/// `[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`.
fn matches_pattern(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if i == 0 {
        return false;
    }
    // (\.[0-9a-zA-Z]+)*
    while i < b.len() && b[i] == b'.' {
        let n = b[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        if n == 0 {
            return false;
        }
        i += 1 + n;
    }
    if i == b.len() {
        return true;
    }
    // -[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*
    if b[i] != b'-' {
        return false;
    }
    i += 1;
    let part = |from: usize| {
        b[from..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-')
            .count()
    };
    let n = part(i);
    if n == 0 {
        return false;
    }
    i += n;
    while i < b.len() && b[i] == b'.' {
        let n = part(i + 1);
        if n == 0 {
            return false;
        }
        i += 1 + n;
    }
    i == b.len()
}

impl RubyGemsVersion {
    /// Parses a gem version string.
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        check_bounds(Scheme::RubyGems, s)?;
        // ANCHORED_VERSION_PATTERN allows `\s*` around the version.
        let trimmed =
            s.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\r' | '\n' | '\x0c' | '\x0b'));
        if trimmed.is_empty() {
            // Gem::Version.new("") is "0"; an empty version is refused here.
            return Err(VersionError::new(
                Scheme::RubyGems,
                s,
                crate::VersionErrorKind::Empty,
            ));
        }
        if !matches_pattern(trimmed) {
            return Err(VersionError::malformed(
                Scheme::RubyGems,
                s,
                "Malformed version number string",
            ));
        }
        // `-` becomes `.pre.`; `_segments` scans /[0-9]+|[a-z]+/i, so the
        // separators themselves do not matter beyond splitting runs.
        let mut raw = Vec::new();
        let b = trimmed.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let start = i;
            if b[i].is_ascii_digit() {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                raw.push(Segment::Num(strip_zeros(&trimmed[start..i]).to_owned()));
            } else if b[i].is_ascii_alphabetic() {
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
                raw.push(Segment::Str(trimmed[start..i].to_owned()));
            } else {
                if b[i] == b'-' {
                    raw.push(Segment::Str("pre".to_owned()));
                }
                i += 1;
            }
        }
        // canonical_segments: strip trailing zeros from the numeric part and
        // from the part that starts at the first string, then join them.
        let first_str = raw
            .iter()
            .position(|s| matches!(s, Segment::Str(_)))
            .unwrap_or(raw.len());
        let mut string_part = raw.split_off(first_str);
        let mut segments = raw;
        while segments.last().is_some_and(Segment::is_zero) {
            segments.pop();
        }
        while string_part.last().is_some_and(Segment::is_zero) {
            string_part.pop();
        }
        segments.append(&mut string_part);
        Ok(RubyGemsVersion {
            original: s.to_owned(),
            segments,
        })
    }

    /// The string this version was parsed from.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Whether this is a pre-release (has a letter in it).
    pub fn is_prerelease(&self) -> bool {
        self.segments.iter().any(|s| matches!(s, Segment::Str(_)))
    }
}

impl Ord for RubyGemsVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Segment::Num(String::new());
        let n = self.segments.len().max(other.segments.len());
        for i in 0..n {
            let a = self.segments.get(i).unwrap_or(&zero);
            let b = other.segments.get(i).unwrap_or(&zero);
            let ord = match (a, b) {
                (Segment::Num(x), Segment::Num(y)) => cmp_digits(x, y),
                (Segment::Str(x), Segment::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
                (Segment::Str(_), Segment::Num(_)) => Ordering::Less,
                (Segment::Num(_), Segment::Str(_)) => Ordering::Greater,
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for RubyGemsVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for RubyGemsVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for RubyGemsVersion {}

impl fmt::Display for RubyGemsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Compares two gem version strings.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(RubyGemsVersion::parse(a)?.cmp(&RubyGemsVersion::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn gem_ordering() {
        let ordered = [
            "1.0.a", "1.0.a.1", "1.0.b1", "1.0.pre", "1.0.rc1", "1.0", "1.0.1", "1.1", "2",
        ];
        for w in ordered.windows(2) {
            assert_eq!(compare(w[0], w[1]).unwrap(), Less, "{} < {}", w[0], w[1]);
        }
        assert_eq!(compare("1.0.0", "1").unwrap(), Equal);
        assert_eq!(compare("1.0.a.0", "1.a").unwrap(), Equal);
        assert_eq!(compare("1.0-1", "1.0.pre.1").unwrap(), Equal);
        assert_eq!(compare(" 1.0 ", "1").unwrap(), Equal);
        assert_eq!(compare("1.A", "1.a").unwrap(), Less);
        for bad in ["", "a", "1..0", "1.0-", "1.0_1", "1.0.", "-1"] {
            assert!(RubyGemsVersion::parse(bad).is_err(), "{bad:?}");
        }
    }
}
