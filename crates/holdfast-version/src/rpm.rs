//! RPM versions (`[epoch:]version[-release]`), ordered as by rpm ≥ 4.15.
//!
//! The string is split like rpm's `parseEVR`: the epoch is a leading run of
//! digits followed by `:` (an empty one means 0), the release is what follows
//! the last `-`, the version is what is between.
//!
//! Each part is compared with `rpmvercmp` (rpm 4.15 and later):
//!
//! * characters other than ASCII letters, digits, `~` and `^` only separate
//!   segments and are otherwise ignored (`1.0_1` equals `1.0.1`);
//! * a segment is a maximal run of digits (compared numerically) or of
//!   letters (compared bytewise); a digit segment is newer than a letter one;
//! * `~` sorts before anything, even the end of the string (`1.0~rc1` <
//!   `1.0`);
//! * `^` sorts after the end of the string but before any other segment
//!   (`1.0` < `1.0^git1` < `1.0.1`).
//!
//! Epoch, version and release are compared in turn, as rpm's Python binding
//! `rpm.labelCompare` does: a missing epoch is `0`, and a missing release
//! sorts before any release. (rpm's dependency matching instead lets a
//! missing release match every release; that relation is not an order, so it
//! is not what [`Ord`] implements here.)

use std::cmp::Ordering;
use std::fmt;

use crate::error::{check_bounds, VersionError};
use crate::num::cmp_digits;
use crate::Scheme;

/// A parsed RPM EVR (epoch, version, release).
#[derive(Debug, Clone)]
pub struct RpmVersion {
    original: String,
    /// Byte range of the epoch digits; `None` when there is no `:`.
    epoch: Option<(usize, usize)>,
    version: (usize, usize),
    /// Byte range of the release; `None` when there is no `-`.
    release: Option<(usize, usize)>,
}

impl RpmVersion {
    /// Parses an RPM `[epoch:]version[-release]` string.
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        let err = |reason: &str| VersionError::malformed(Scheme::Rpm, s, reason);
        check_bounds(Scheme::Rpm, s)?;
        if let Some(b) = s.bytes().find(|b| !b.is_ascii_graphic()) {
            return Err(err(&format!(
                "character {:?} is not allowed in a version",
                b as char
            )));
        }
        // rpm's parseEVR: leading digits, then ':' makes them the epoch.
        let digits_end = s.bytes().take_while(u8::is_ascii_digit).count();
        let (epoch, version_start) = if s.as_bytes().get(digits_end) == Some(&b':') {
            (Some((0, digits_end)), digits_end + 1)
        } else {
            (None, 0)
        };
        // The release follows the last '-' after the epoch.
        let (version_end, release) = match s[version_start..].rfind('-') {
            Some(dash) => (
                version_start + dash,
                Some((version_start + dash + 1, s.len())),
            ),
            None => (s.len(), None),
        };
        if version_end == version_start {
            return Err(err("version is empty"));
        }
        if let Some((start, end)) = release {
            if start == end {
                return Err(err("release is empty"));
            }
        }
        Ok(RpmVersion {
            original: s.to_owned(),
            epoch,
            version: (version_start, version_end),
            release,
        })
    }

    /// The string this version was parsed from.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The epoch digits as written; `None` when the string has no epoch
    /// (which compares as `0`).
    pub fn epoch(&self) -> Option<&str> {
        self.epoch.map(|(a, b)| &self.original[a..b])
    }

    /// The version part.
    pub fn version(&self) -> &str {
        &self.original[self.version.0..self.version.1]
    }

    /// The release part; `None` when absent.
    pub fn release(&self) -> Option<&str> {
        self.release.map(|(a, b)| &self.original[a..b])
    }
}

/// One segment of an rpm version string, as `rpmvercmp` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    Tilde,
    Caret,
    Alpha(&'a str),
    Num(&'a str),
}

/// Splits a version or release into `rpmvercmp` segments, dropping the
/// separators.
struct Segments<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Iterator for Segments<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        let bytes = self.s.as_bytes();
        // Skip separators: anything but alphanumerics, '~' and '^'.
        while self.pos < bytes.len()
            && !bytes[self.pos].is_ascii_alphanumeric()
            && bytes[self.pos] != b'~'
            && bytes[self.pos] != b'^'
        {
            self.pos += 1;
        }
        let start = self.pos;
        let first = *bytes.get(start)?;
        let run = |pos: &mut usize, pred: fn(&u8) -> bool| {
            while *pos < bytes.len() && pred(&bytes[*pos]) {
                *pos += 1;
            }
        };
        Some(match first {
            b'~' => {
                self.pos += 1;
                Segment::Tilde
            }
            b'^' => {
                self.pos += 1;
                Segment::Caret
            }
            b if b.is_ascii_digit() => {
                run(&mut self.pos, u8::is_ascii_digit);
                Segment::Num(&self.s[start..self.pos])
            }
            _ => {
                run(&mut self.pos, u8::is_ascii_alphabetic);
                Segment::Alpha(&self.s[start..self.pos])
            }
        })
    }
}

/// Rank of a segment (or of the end of the string, `None`) when the two
/// sides differ in kind: `~` < end < `^` < letters < digits.
fn rank(seg: Option<Segment<'_>>) -> u8 {
    match seg {
        Some(Segment::Tilde) => 0,
        None => 1,
        Some(Segment::Caret) => 2,
        Some(Segment::Alpha(_)) => 3,
        Some(Segment::Num(_)) => 4,
    }
}

/// Compares two version (or release) strings like rpm's `rpmvercmp`.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    let mut left = Segments { s: a, pos: 0 };
    let mut right = Segments { s: b, pos: 0 };
    loop {
        let (l, r) = (left.next(), right.next());
        let ord = match (l, r) {
            (None, None) => return Ordering::Equal,
            (Some(Segment::Num(x)), Some(Segment::Num(y))) => cmp_digits(x, y),
            (Some(Segment::Alpha(x)), Some(Segment::Alpha(y))) => x.as_bytes().cmp(y.as_bytes()),
            _ => rank(l).cmp(&rank(r)),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
}

impl Ord for RpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        // rpm.labelCompare: epochs compare with rpmvercmp, missing = "0".
        let epoch = cmp_digits(self.epoch().unwrap_or("0"), other.epoch().unwrap_or("0"));
        epoch
            .then_with(|| rpmvercmp(self.version(), other.version()))
            .then_with(|| match (self.release(), other.release()) {
                (Some(a), Some(b)) => rpmvercmp(a, b),
                // A missing release sorts first (labelCompare's
                // compare_values).
                (a, b) => a.is_some().cmp(&b.is_some()),
            })
    }
}

impl PartialOrd for RpmVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for RpmVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for RpmVersion {}

impl fmt::Display for RpmVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Compares two RPM EVR strings.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(RpmVersion::parse(a)?.cmp(&RpmVersion::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn rpmvercmp_cases() {
        // Cases from rpm's own test suite (rpmvercmp.at), as remembered.
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "2.0", Less),
            ("2.0.1", "2.0.1a", Less),
            ("5.5p1", "5.5p2", Less),
            ("5.5p10", "5.5p1", Greater),
            ("10xyz", "10.1xyz", Less),
            ("xyz10", "xyz10.1", Less),
            ("1.0aa", "1.0a", Greater),
            ("1.0a", "1.0aa", Less),
            ("10.0001", "10.1", Equal),
            ("10.0001", "10.0039", Less),
            ("4.999.9", "5.0", Less),
            ("20101121", "20101122", Less),
            ("2_0", "2_0", Equal),
            ("2.0", "2_0", Equal),
            ("a", "a", Equal),
            ("a+", "a_", Equal),
            ("+", "_", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0~rc1", "1.0~rc2", Less),
            ("1.0~rc1~git123", "1.0~rc1", Less),
            ("1.0^", "1.0", Greater),
            ("1.0^git1", "1.0", Greater),
            ("1.0^git1", "1.01", Less),
            ("1.0^20160101", "1.0.1", Less),
            ("1.0^20160101^git1", "1.0^20160101", Greater),
            ("1.0~rc1^git1", "1.0~rc1", Greater),
            ("1.0^git1~pre", "1.0^git1", Less),
            ("1.0^git1", "1.0^git2", Less),
            ("1.0~rc1^git1", "1.0", Less),
            ("a", "1", Less),
            ("1.0", "1.0.", Equal),
        ];
        for (a, b, want) in cases {
            assert_eq!(rpmvercmp(a, b), want, "{a} vs {b}");
            assert_eq!(rpmvercmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn evr() {
        assert_eq!(compare("1:1.0-1", "2.0-1").unwrap(), Greater);
        assert_eq!(compare("0:1.0-1", "1.0-1").unwrap(), Equal);
        assert_eq!(compare(":1.0-1", "1.0-1").unwrap(), Equal);
        assert_eq!(compare("1.0", "1.0-1").unwrap(), Less);
        assert_eq!(compare("1.0-1.el9", "1.0-1.el9_2").unwrap(), Less);
        let v = RpmVersion::parse("3:1.2-3-4.el8").unwrap();
        assert_eq!(
            (v.epoch(), v.version(), v.release()),
            (Some("3"), "1.2-3", Some("4.el8"))
        );
        let v = RpmVersion::parse("x:1.0").unwrap();
        assert_eq!((v.epoch(), v.version()), (None, "x:1.0"));
        for bad in ["", "1:", "-1", "1.0-", "1 0"] {
            assert!(RpmVersion::parse(bad).is_err(), "{bad:?}");
        }
    }
}
