//! Debian package versions, ordered as by `dpkg --compare-versions`.
//!
//! Syntax (Debian Policy 5.6.12): `[epoch:]upstream_version[-debian_revision]`.
//!
//! * The epoch is the part before the first `:`; a non-negative integer that
//!   fits dpkg's `int` (at most 2147483647). Absent means 0.
//! * The revision is the part after the last `-`; absent means empty, which
//!   sorts as `0` (so `1.0` equals `1.0-0`).
//! * Upstream version and revision are compared with dpkg's `verrevcmp`:
//!   alternating non-digit and digit runs; non-digit runs compare character
//!   by character where `~` sorts before everything (even the end of the
//!   string), then the end, then letters, then all other characters (in
//!   ASCII order); digit runs compare numerically.
//!
//! dpkg only warns about an upstream version that does not start with a
//! digit or holds characters outside Policy's set, and still orders it; so
//! does this module. It rejects what dpkg rejects outright (empty parts,
//! bad epochs, embedded whitespace) and, being stricter, anything outside
//! printable ASCII.

use std::cmp::Ordering;
use std::fmt;

use crate::error::{check_bounds, VersionError};
use crate::num::cmp_digits;
use crate::Scheme;

/// A parsed Debian version: epoch, upstream version and revision.
#[derive(Debug, Clone)]
pub struct DpkgVersion {
    original: String,
    epoch: u32,
    /// Byte range of the upstream version within `original`.
    upstream: (usize, usize),
    /// Byte range of the revision within `original` (empty when absent).
    revision: (usize, usize),
}

/// The largest epoch dpkg accepts (`INT_MAX`).
const MAX_EPOCH: u32 = i32::MAX as u32;

impl DpkgVersion {
    /// Parses a Debian version string.
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        let err = |reason: &str| VersionError::malformed(Scheme::Dpkg, s, reason);
        check_bounds(Scheme::Dpkg, s)?;
        // dpkg: "version string has embedded spaces"; we also refuse other
        // control and non-ASCII bytes, whose order dpkg leaves to the C
        // library's signed `char`.
        if let Some(b) = s.bytes().find(|b| !b.is_ascii_graphic()) {
            return Err(err(&format!(
                "character {:?} is not allowed in a version",
                b as char
            )));
        }

        // Epoch: everything before the first colon (dpkg's parseversion).
        let (epoch, rest_start) = match s.find(':') {
            Some(colon) => {
                let digits = &s[..colon];
                if digits.is_empty() {
                    return Err(err("epoch in version is empty"));
                }
                if !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err("epoch in version is not number"));
                }
                let significant = digits.trim_start_matches('0');
                let epoch = if significant.is_empty() {
                    0
                } else if significant.len() > 10 {
                    return Err(err("epoch in version is too big"));
                } else {
                    significant
                        .parse::<u64>()
                        .map_err(|_| err("epoch in version is not number"))?
                };
                let epoch = u32::try_from(epoch)
                    .ok()
                    .filter(|&e| e <= MAX_EPOCH)
                    .ok_or_else(|| err("epoch in version is too big"))?;
                if colon + 1 == s.len() {
                    return Err(err("nothing after colon in version number"));
                }
                (epoch, colon + 1)
            }
            None => (0, 0),
        };

        // Revision: everything after the last hyphen.
        let rest = &s[rest_start..];
        let (upstream, revision) = match rest.rfind('-') {
            Some(dash) => {
                if dash + 1 == rest.len() {
                    return Err(err("revision number is empty"));
                }
                (
                    (rest_start, rest_start + dash),
                    (rest_start + dash + 1, s.len()),
                )
            }
            None => ((rest_start, s.len()), (s.len(), s.len())),
        };
        if upstream.0 == upstream.1 {
            return Err(err("version number is empty"));
        }

        Ok(DpkgVersion {
            original: s.to_owned(),
            epoch,
            upstream,
            revision,
        })
    }

    /// The string this version was parsed from.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The epoch (0 when absent).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The upstream version.
    pub fn upstream(&self) -> &str {
        &self.original[self.upstream.0..self.upstream.1]
    }

    /// The Debian revision; empty when absent.
    pub fn revision(&self) -> &str {
        &self.original[self.revision.0..self.revision.1]
    }
}

/// The weight of one character in a non-digit run (dpkg's `order()`):
/// `~` < end of run < letters < everything else.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// Compares two upstream versions or two revisions (dpkg's `verrevcmp`,
/// Debian Policy 5.6.12).
pub(crate) fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // The non-digit prefix, character by character.
        loop {
            let ca = a.get(i).copied().filter(|c| !c.is_ascii_digit());
            let cb = b.get(j).copied().filter(|c| !c.is_ascii_digit());
            if ca.is_none() && cb.is_none() {
                break;
            }
            let (oa, ob) = (order(ca), order(cb));
            if oa != ob {
                return oa.cmp(&ob);
            }
            // Equal weights: both are the same non-digit character.
            i += 1;
            j += 1;
        }
        // The digit run, numerically.
        let da = digit_run(a, i);
        let db = digit_run(b, j);
        // Both runs are ASCII digits, so the slices are valid UTF-8.
        let ord = cmp_digits(
            std::str::from_utf8(&a[i..da]).unwrap_or(""),
            std::str::from_utf8(&b[j..db]).unwrap_or(""),
        );
        if ord != Ordering::Equal {
            return ord;
        }
        i = da;
        j = db;
    }
    Ordering::Equal
}

/// End of the run of ASCII digits starting at `from`.
fn digit_run(s: &[u8], from: usize) -> usize {
    let mut end = from.min(s.len());
    while end < s.len() && s[end].is_ascii_digit() {
        end += 1;
    }
    end
}

impl Ord for DpkgVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream(), other.upstream()))
            .then_with(|| verrevcmp(self.revision(), other.revision()))
    }
}

impl PartialOrd for DpkgVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for DpkgVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for DpkgVersion {}

impl fmt::Display for DpkgVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Compares two Debian version strings.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(DpkgVersion::parse(a)?.cmp(&DpkgVersion::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap()
    }

    #[test]
    fn policy_examples() {
        assert_eq!(cmp("1.0~rc1", "1.0"), Less);
        assert_eq!(cmp("1.0~~", "1.0~~a"), Less);
        assert_eq!(cmp("1.0~~a", "1.0~"), Less);
        assert_eq!(cmp("1.0~", "1.0"), Less);
        assert_eq!(cmp("1.0", "1.0a"), Less);
        assert_eq!(cmp("1.0a", "1.0+"), Less);
        assert_eq!(cmp("1:0.1", "2.0"), Greater);
        assert_eq!(cmp("0:1.0", "1.0"), Equal);
        assert_eq!(cmp("1.0", "1.0-0"), Equal);
        assert_eq!(cmp("1.00", "1.0"), Equal);
        assert_eq!(cmp("1.0-1", "1.0-1ubuntu1"), Less);
        assert_eq!(cmp("2.30-1+deb12u1", "2.30-1"), Greater);
        assert_eq!(cmp("1.2.3-1~bpo11+1", "1.2.3-1"), Less);
        assert_eq!(cmp("10", "9"), Greater);
        assert_eq!(cmp("1:2:3-4", "1:2:3-4"), Equal);
    }

    #[test]
    fn parts() {
        let v = DpkgVersion::parse("2:1.2-3-4").unwrap();
        assert_eq!((v.epoch(), v.upstream(), v.revision()), (2, "1.2-3", "4"));
    }

    #[test]
    fn rejects_what_dpkg_rejects() {
        for bad in [
            "",
            ":1",
            "a:1",
            "-1:1",
            "1:",
            "1.0-",
            "1 0",
            "2147483648:1",
            "-1",
            "1:-1",
        ] {
            assert!(DpkgVersion::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            DpkgVersion::parse("2147483647:1").unwrap().epoch(),
            i32::MAX as u32
        );
        assert!(DpkgVersion::parse("0000000000000000000001:1").is_ok());
    }
}
