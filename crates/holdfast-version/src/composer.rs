//! Composer (Packagist) versions: normalised like Composer's
//! `VersionParser::normalize`, then ordered like PHP's `version_compare`.
//!
//! Normalisation (composer/semver 3):
//!
//! * surrounding whitespace, a trailing `@stable`/`@RC`/`@beta`/`@alpha`/
//!   `@dev` flag and `+build` metadata are dropped;
//! * classical versions `v?X[.Y[.Z[.W]]]` (X of at most 5 digits) are
//!   padded to four numbers (`v1.2` → `1.2.0.0`);
//! * date versions (`20230115`, `2023-01-15`, `2023.01.15.1`: four digits,
//!   one to six two-digit groups, at most one group of one to three digits)
//!   keep their digits, with separators turned into `.`;
//! * a modifier may follow: `[._-]?` then a stability (`stable`, `RC`,
//!   `beta`/`b`, `alpha`/`a`, `patch`/`pl`/`p`) with optional numbers, then
//!   an optional `[.-]dev`; `stable` is dropped, the others are spelled out
//!   (`1.0b2` → `1.0.0.0-beta2`, `1.0-dev` → `1.0.0.0-dev`);
//! * numeric branches `1.x-dev`, `2.1.*-dev` become `1.9999999.9999999.9999999-dev`.
//!
//! Named branches (`dev-main`, `dev-master`, `master`) have no order in
//! Composer and are rejected.
//!
//! `version_compare` then splits the normalised string into parts at `.`,
//! `-`, `_`, `+` and at every digit/non-digit switch, and compares them
//! pairwise: numbers numerically; names by rank, `dev` < `alpha` = `a` <
//! `beta` = `b` < `RC` = `rc` < a number < `patch` = `pl` = `p`; when one
//! list runs out, the longer one is newer if its next part is a number or a
//! patch, older otherwise. Hence `dev < alpha < beta < RC < stable < patch`.

use std::cmp::Ordering;
use std::fmt;

use crate::error::{check_bounds, VersionError};
use crate::num::{cmp_digits, strip_zeros};
use crate::Scheme;

/// One `version_compare` part, ordered by rank. `End` stands for "no more
/// parts"; it sorts after every pre-release name and before numbers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    /// A name that is not a special form (rank -1 in PHP).
    Other,
    Dev,
    Alpha,
    Beta,
    Rc,
    End,
    /// A number, leading zeros stripped (compared numerically: by length,
    /// then bytes).
    Num(usize, String),
    Patch,
}

impl Part {
    /// PHP's `compare_special_version_forms`: a name's rank by prefix.
    fn name(s: &str) -> Part {
        const FORMS: [(&str, Part); 9] = [
            ("dev", Part::Dev),
            ("alpha", Part::Alpha),
            ("a", Part::Alpha),
            ("beta", Part::Beta),
            ("b", Part::Beta),
            ("RC", Part::Rc),
            ("rc", Part::Rc),
            ("pl", Part::Patch),
            ("p", Part::Patch),
        ];
        FORMS
            .iter()
            .find(|(prefix, _)| s.starts_with(prefix))
            .map_or(Part::Other, |(_, p)| p.clone())
    }

    fn number(digits: &str) -> Part {
        let d = strip_zeros(digits);
        Part::Num(d.len(), d.to_owned())
    }
}

/// Splits a version like PHP's `php_canonicalize_version` and returns its
/// parts.
fn php_parts(v: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i].is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            parts.push(Part::number(&v[start..i]));
        } else if b[i].is_ascii_alphabetic() {
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            parts.push(Part::name(&v[start..i]));
        } else {
            // '.', '-', '_', '+' and any other non-alphanumeric separate.
            i += 1;
        }
    }
    parts
}

/// A parsed Composer version.
#[derive(Debug, Clone)]
pub struct ComposerVersion {
    original: String,
    normalized: String,
    parts: Vec<Part>,
}

/// The stability flags Composer strips from the end (`@dev`, …).
const FLAGS: [&str; 5] = ["stable", "rc", "beta", "alpha", "dev"];

/// Stabilities of the modifier, in the regex's alternation order.
const STABILITIES: [&str; 9] = [
    "stable", "beta", "b", "rc", "alpha", "a", "patch", "pl", "p",
];

/// Matches Composer's `$modifierRegex` on the whole of `rest`
/// (`[._-]?(?:(stability)((?:[.-]?\d+)*+)?)?([.-]?dev)?$`, case-insensitive)
/// and returns (stability, numbers, dev).
fn match_modifier(rest: &str) -> Option<(Option<&str>, &str, bool)> {
    let lower = rest.to_ascii_lowercase();
    let mut i = 0;
    let b = lower.as_bytes();
    if matches!(b.first(), Some(b'.' | b'_' | b'-')) {
        i += 1;
    }
    let mut stability = None;
    let mut numbers = "";
    if let Some(st) = STABILITIES.iter().find(|st| lower[i..].starts_with(*st)) {
        // The longer alternatives come first, and a shorter one could only
        // leave letters that nothing after it accepts, so the first match
        // is the regex's match.
        stability = Some(&rest[i..i + st.len()]);
        i += st.len();
        let start = i;
        loop {
            let mut j = i;
            if matches!(b.get(j), Some(b'.' | b'-')) {
                j += 1;
            }
            let digits = b[j..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                break;
            }
            i = j + digits;
        }
        numbers = &rest[start..i];
    }
    let mut dev = false;
    let tail = &lower[i..];
    if tail == "dev" || tail == ".dev" || tail == "-dev" {
        dev = true;
        i = lower.len();
    }
    (i == lower.len()).then_some((stability, numbers, dev))
}

/// Appends the normalised modifier (Composer's `normalize`, after the
/// version numbers have been matched).
fn push_modifier(out: &mut String, stability: Option<&str>, numbers: &str, dev: bool) -> bool {
    if let Some(st) = stability {
        if st == "stable" {
            // Composer returns at once: a `-dev` after `stable` is dropped.
            return true;
        }
        out.push('-');
        out.push_str(match st.to_ascii_lowercase().as_str() {
            "a" | "alpha" => "alpha",
            "b" | "beta" => "beta",
            "p" | "pl" | "patch" => "patch",
            "rc" => "RC",
            // "STABLE" and friends: Composer keeps them lower-cased.
            _ => "stable",
        });
        out.push_str(numbers.trim_start_matches(['.', '-']));
    }
    if dev {
        out.push_str("-dev");
    }
    true
}

/// `v?(\d{1,5})(\.\d+)?(\.\d+)?(\.\d+)?` + modifier.
fn normalize_classical(v: &str) -> Option<String> {
    let body = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let b = body.as_bytes();
    let major = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if major == 0 || major > 5 {
        return None;
    }
    let mut out = body[..major].to_owned();
    let mut i = major;
    let mut components = 1;
    while components < 4 && b.get(i) == Some(&b'.') {
        let n = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            break;
        }
        out.push_str(&body[i..i + 1 + n]);
        i += 1 + n;
        components += 1;
    }
    for _ in components..4 {
        out.push_str(".0");
    }
    let (stability, numbers, dev) = match_modifier(&body[i..])?;
    push_modifier(&mut out, stability, numbers, dev);
    Some(out)
}

/// Whether `s` (digits and `.:-` only) matches
/// `\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?` in full.
fn date_group_matches(s: &[u8]) -> bool {
    fn rest(s: &[u8], twos: usize, smalls: usize) -> bool {
        if s.is_empty() {
            return twos >= 1;
        }
        let body = if matches!(s[0], b'.' | b':' | b'-') {
            &s[1..]
        } else {
            s
        };
        let digits = body.iter().take_while(|c| c.is_ascii_digit()).count();
        // Another two-digit chunk (only before any short chunk).
        if smalls == 0 && twos < 6 && digits >= 2 && rest(&body[2..], twos + 1, 0) {
            return true;
        }
        // One last chunk of one to three digits, after a two-digit one.
        if twos >= 1 && smalls == 0 {
            for n in 1..=digits.min(3) {
                if rest(&body[n..], twos, smalls + 1) {
                    return true;
                }
            }
        }
        false
    }
    s.len() >= 4 && s[..4].iter().all(u8::is_ascii_digit) && rest(&s[4..], 0, 0)
}

/// `v?(date)` + modifier, the date's separators turned into `.`.
fn normalize_date(v: &str) -> Option<String> {
    let body = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let b = body.as_bytes();
    let run = b
        .iter()
        .take_while(|c| c.is_ascii_digit() || matches!(c, b'.' | b':' | b'-'))
        .count()
        .min(40);
    // Try the longest date prefix first, as the regex's greedy
    // quantifiers do.
    for end in (4..=run).rev() {
        if !b[end - 1].is_ascii_digit() || !date_group_matches(&b[..end]) {
            continue;
        }
        if let Some((stability, numbers, dev)) = match_modifier(&body[end..]) {
            let mut out: String = body[..end]
                .chars()
                .map(|c| if c.is_ascii_digit() { c } else { '.' })
                .collect();
            push_modifier(&mut out, stability, numbers, dev);
            return Some(out);
        }
    }
    None
}

/// Composer's `normalizeBranch` for numeric branches (`1.x`, `2.1.*`).
fn normalize_numeric_branch(name: &str) -> Option<String> {
    let body = name.strip_prefix(['v', 'V']).unwrap_or(name);
    let mut out = String::new();
    let mut pieces = body.split('.');
    let first = pieces.next()?;
    if !crate::num::all_digits(first) {
        return None;
    }
    out.push_str(first);
    let mut count = 1;
    for piece in pieces {
        count += 1;
        if count > 4 {
            return None;
        }
        out.push('.');
        if crate::num::all_digits(piece) {
            out.push_str(piece);
        } else if matches!(piece, "x" | "X" | "*") {
            out.push_str("9999999");
        } else {
            return None;
        }
    }
    for _ in count..4 {
        out.push_str(".9999999");
    }
    out.push_str("-dev");
    Some(out)
}

/// Composer's `VersionParser::normalize`, without named branches.
fn normalize(input: &str) -> Result<String, &'static str> {
    let mut v = input.trim();
    // Stability flags: "1.0@beta".
    if let Some(at) = v.rfind('@') {
        if FLAGS.contains(&v[at + 1..].to_ascii_lowercase().as_str()) {
            v = &v[..at];
        }
    }
    if matches!(v, "master" | "trunk" | "default") || v.to_ascii_lowercase().starts_with("dev-") {
        return Err("branch names have no version order");
    }
    // Build metadata: "1.0.0+build".
    if let Some((head, tail)) = v.split_once('+') {
        if !head.is_empty()
            && !head.contains([',', ' ', '\t'])
            && !tail.is_empty()
            && !tail.contains(char::is_whitespace)
        {
            v = head;
        }
    }
    if let Some(n) = normalize_classical(v).or_else(|| normalize_date(v)) {
        return Ok(n);
    }
    // Numeric branches: "(.*?)[.-]?dev$".
    if v.to_ascii_lowercase().ends_with("dev") {
        let stem = &v[..v.len() - 3];
        let stem = stem.strip_suffix(['.', '-']).unwrap_or(stem);
        if let Some(n) = normalize_numeric_branch(stem.trim()) {
            return Ok(n);
        }
    }
    Err("invalid version string")
}

impl ComposerVersion {
    /// Parses and normalises a Composer version string.
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        check_bounds(Scheme::Composer, s)?;
        if s.bytes().any(|b| b.is_ascii_control() || !b.is_ascii()) {
            return Err(VersionError::malformed(
                Scheme::Composer,
                s,
                "control or non-ASCII character in version",
            ));
        }
        let normalized =
            normalize(s).map_err(|reason| VersionError::malformed(Scheme::Composer, s, reason))?;
        let parts = php_parts(&normalized);
        Ok(ComposerVersion {
            original: s.to_owned(),
            normalized,
            parts,
        })
    }

    /// The string this version was parsed from.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Composer's normalised form (`1.0.0.0-beta2`).
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

impl Ord for ComposerVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.parts.len().max(other.parts.len());
        for i in 0..n {
            let a = self.parts.get(i).unwrap_or(&Part::End);
            let b = other.parts.get(i).unwrap_or(&Part::End);
            let ord = match (a, b) {
                (Part::Num(_, x), Part::Num(_, y)) => cmp_digits(x, y),
                _ => a.cmp(b),
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for ComposerVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ComposerVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ComposerVersion {}

impl fmt::Display for ComposerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Compares two Composer version strings.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(ComposerVersion::parse(a)?.cmp(&ComposerVersion::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_composer() {
        let cases = [
            ("1.0.0", "1.0.0.0"),
            ("1.2.3.4", "1.2.3.4"),
            ("v1.0.0", "1.0.0.0"),
            ("1.0", "1.0.0.0"),
            ("1.0.0RC1dev", "1.0.0.0-RC1-dev"),
            ("1.0.0-rC15-dev", "1.0.0.0-RC15-dev"),
            ("1.0.0.RC.15-dev", "1.0.0.0-RC15-dev"),
            ("1.0.0-rc1", "1.0.0.0-RC1"),
            ("1.0.0.pl3-dev", "1.0.0.0-patch3-dev"),
            ("1.0-dev", "1.0.0.0-dev"),
            ("0", "0.0.0.0"),
            ("10.4.13-beta", "10.4.13.0-beta"),
            ("10.4.13beta2", "10.4.13.0-beta2"),
            ("10.4.13beta.2", "10.4.13.0-beta2"),
            ("v1.13.11-beta.0", "1.13.11.0-beta0"),
            ("1.13.11.0-beta0", "1.13.11.0-beta0"),
            ("10.4.13-b", "10.4.13.0-beta"),
            ("10.4.13-b5", "10.4.13.0-beta5"),
            ("v1.0.0", "1.0.0.0"),
            ("2010.01", "2010.01.0.0"),
            ("2010.01.02", "2010.01.02.0"),
            ("2010-01-02", "2010.01.02"),
            ("2010-01-02.5", "2010.01.02.5"),
            ("20100102-203040", "20100102.203040"),
            ("20100102203040-10", "20100102203040.10"),
            ("20100102-203040-p1", "20100102.203040-patch1"),
            ("201903.0", "201903.0"),
            ("201903.0-p2", "201903.0-patch2"),
            ("1.0.0+foo@dev", "1.0.0.0"),
            ("1.0.0-alpha.3.1+foo/-bar", "1.0.0.0-alpha3.1"),
            ("1.0.0-stable", "1.0.0.0"),
            ("1.x-dev", "1.9999999.9999999.9999999-dev"),
            ("2.1.*-dev", "2.1.9999999.9999999-dev"),
            (" 1.0.0", "1.0.0.0"),
            ("1.0.0 ", "1.0.0.0"),
        ];
        for (input, want) in cases {
            let v = ComposerVersion::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(v.normalized(), want, "{input:?}");
        }
        for bad in [
            "a",
            "1.0.0-meh",
            "1.0.0.0.0",
            "feature-foo",
            "dev-master",
            "master",
            "dev-feature",
            "1.0.0+",
            "",
        ] {
            assert!(ComposerVersion::parse(bad).is_err(), "{bad:?}");
        }
    }
}
