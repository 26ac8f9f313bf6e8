//! Alpine (and Wolfi/Chainguard) package versions, ordered like apk-tools.
//!
//! Syntax accepted (apk-tools' `digit{.digit}...{letter}{_suf{#}}...{-r#}`):
//!
//! ```text
//! version  = number { "." number | letter [number] } { "_" suffix [number] } [ "-r" number ]
//! letter   = "a" … "z"
//! suffix   = "alpha" | "beta" | "pre" | "rc"          (pre-releases)
//!          | "cvs" | "svn" | "git" | "hg" | "p"       (post-releases)
//! ```
//!
//! Ordering follows apk-tools 2.x's token comparison:
//!
//! * The version is read as a list of tokens, each with a type and a value.
//!   The types, in apk's order, are: a `.`-component, a bare number (the
//!   first one, or one following a letter or a zero run), a letter, a
//!   suffix, a suffix number, the `-r` revision, and the end.
//! * Tokens are compared pairwise while both sides have tokens of the same
//!   type: numbers numerically, letters by byte, suffixes in the order
//!   `_alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git < _hg < _p`.
//! * A `.`-component that starts with `0` is compared as a decimal fraction
//!   (apk's "leading zero" rule): its run of zeros is one token, valued the
//!   more negative the more zeros (`1.01 < 1.1`, `1.001 < 1.01`), and the
//!   digits after the zeros are a bare-number token.
//! * When the two sides reach tokens of different types, a pre-release
//!   suffix makes its side older (`1.0_rc1 < 1.0`); otherwise the side whose
//!   token type comes later in the list above is older (`1.0 < 1.0.1`,
//!   `1.0-r1 < 1.0_p1`, `1.0 < 1.0-r0`).
//!
//! Like the fixed apk-tools (its test vectors say `6.0_pre1 < 6.0` and
//! `6.0_p1 > 6.0`), a zero component followed by a suffix, letter or
//! revision continues with that token. Numbers of any length are compared
//! exactly, where apk-tools 2.x would overflow a C `int`.
//!
//! Strings apk-tools would call invalid (unknown suffixes, a `-` not followed
//! by `r`, …) are rejected, as are a few degenerate forms apk-tools 2.x
//! tolerates (an empty component in `1..2` or `1.`, a bare `-r`).

use std::cmp::Ordering;
use std::fmt;

use crate::error::{check_bounds, VersionError};
use crate::num::cmp_digits;
use crate::Scheme;

/// Token types, in apk-tools' order (`enum PARTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// A `.`-separated component (`TOKEN_DIGIT_OR_ZERO`).
    Component,
    /// A bare number (`TOKEN_DIGIT`).
    Digits,
    /// A single lowercase letter (`TOKEN_LETTER`).
    Letter,
    /// `_alpha`, `_p`, … (`TOKEN_SUFFIX`).
    Suffix,
    /// The number after a suffix (`TOKEN_SUFFIX_NO`).
    SuffixNumber,
    /// The `-rN` revision (`TOKEN_REVISION_NO`).
    Revision,
    /// End of the version (`TOKEN_END`).
    End,
}

/// A token's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    /// A run of `n` leading zeros in a component: sorts below every number,
    /// and below fewer zeros.
    Zeros(usize),
    /// A number, as a byte range of ASCII digits in the original string.
    Number(usize, usize),
    /// A letter's byte, or a suffix's rank (negative for pre-releases).
    Small(i32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Token {
    kind: Kind,
    value: Value,
}

/// Suffix names and their ranks; pre-release names first, as apk-tools
/// tries them (so `_pre` is not read as `_p` followed by `re`).
const SUFFIXES: [(&str, i32); 9] = [
    ("alpha", -4),
    ("beta", -3),
    ("pre", -2),
    ("rc", -1),
    ("cvs", 0),
    ("svn", 1),
    ("git", 2),
    ("hg", 3),
    ("p", 4),
];

/// A parsed apk version.
#[derive(Debug, Clone)]
pub struct ApkVersion {
    original: String,
    tokens: Vec<Token>,
}

/// Where the parser is in the grammar.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// After a number or component: `.`, a letter, `_`, `-r` or the end.
    Number,
    /// After a letter: digits, `_`, `-r` or the end.
    Letter,
    /// After a suffix or its number: `_`, `-r` or the end.
    Suffix,
    /// After the revision: only the end.
    Revision,
}

impl ApkVersion {
    /// Parses an apk version string.
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        let err = |reason: String| VersionError::malformed(Scheme::Apk, s, reason);
        check_bounds(Scheme::Apk, s)?;
        let b = s.as_bytes();
        let digits_at = |from: usize| {
            let mut end = from;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
            end
        };
        let mut tokens = Vec::new();

        // The leading number.
        let mut pos = digits_at(0);
        if pos == 0 {
            return Err(err("version must start with a digit".into()));
        }
        tokens.push(Token {
            kind: Kind::Digits,
            value: Value::Number(0, pos),
        });
        let mut state = State::Number;

        while pos < b.len() {
            let c = b[pos];
            match (state, c) {
                (State::Number, b'.') => {
                    let start = pos + 1;
                    let end = digits_at(start);
                    if end == start {
                        return Err(err(format!("expected a digit after '.' at byte {pos}")));
                    }
                    let zeros = b[start..end].iter().take_while(|&&d| d == b'0').count();
                    if zeros > 0 {
                        tokens.push(Token {
                            kind: Kind::Component,
                            value: Value::Zeros(zeros),
                        });
                        if start + zeros < end {
                            tokens.push(Token {
                                kind: Kind::Digits,
                                value: Value::Number(start + zeros, end),
                            });
                        }
                    } else {
                        tokens.push(Token {
                            kind: Kind::Component,
                            value: Value::Number(start, end),
                        });
                    }
                    pos = end;
                }
                (State::Number, b'a'..=b'z') => {
                    tokens.push(Token {
                        kind: Kind::Letter,
                        value: Value::Small(i32::from(c)),
                    });
                    pos += 1;
                    state = State::Letter;
                }
                (State::Letter, b'0'..=b'9') => {
                    let end = digits_at(pos);
                    tokens.push(Token {
                        kind: Kind::Digits,
                        value: Value::Number(pos, end),
                    });
                    pos = end;
                    state = State::Number;
                }
                (State::Number | State::Letter | State::Suffix, b'_') => {
                    let rest = &s[pos + 1..];
                    let (name, rank) = SUFFIXES
                        .iter()
                        .find(|(name, _)| rest.starts_with(name))
                        .ok_or_else(|| err(format!("unknown suffix at byte {pos}")))?;
                    tokens.push(Token {
                        kind: Kind::Suffix,
                        value: Value::Small(*rank),
                    });
                    pos += 1 + name.len();
                    let end = digits_at(pos);
                    if end > pos {
                        tokens.push(Token {
                            kind: Kind::SuffixNumber,
                            value: Value::Number(pos, end),
                        });
                        pos = end;
                    }
                    state = State::Suffix;
                }
                (State::Number | State::Letter | State::Suffix, b'-') => {
                    if b.get(pos + 1) != Some(&b'r') {
                        return Err(err(format!("expected '-r' at byte {pos}")));
                    }
                    let start = pos + 2;
                    let end = digits_at(start);
                    if end == start {
                        return Err(err("expected a number after '-r'".into()));
                    }
                    tokens.push(Token {
                        kind: Kind::Revision,
                        value: Value::Number(start, end),
                    });
                    pos = end;
                    state = State::Revision;
                }
                _ => {
                    return Err(err(format!(
                        "unexpected character {:?} at byte {pos}",
                        char::from(c)
                    )))
                }
            }
        }
        Ok(ApkVersion {
            original: s.to_owned(),
            tokens,
        })
    }

    /// The string this version was parsed from.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    fn value_cmp(&self, a: Value, other: &Self, b: Value) -> Ordering {
        match (a, b) {
            (Value::Zeros(x), Value::Zeros(y)) => y.cmp(&x),
            (Value::Zeros(_), _) => Ordering::Less,
            (_, Value::Zeros(_)) => Ordering::Greater,
            (Value::Number(s1, e1), Value::Number(s2, e2)) => {
                cmp_digits(&self.original[s1..e1], &other.original[s2..e2])
            }
            (Value::Small(x), Value::Small(y)) => x.cmp(&y),
            // Same-kind tokens never mix numbers and small values.
            (Value::Number(..), Value::Small(_)) => Ordering::Greater,
            (Value::Small(_), Value::Number(..)) => Ordering::Less,
        }
    }
}

/// Whether a token is a pre-release suffix (`_alpha` … `_rc`).
fn is_pre_release(t: Option<&Token>) -> bool {
    matches!(t, Some(Token { kind: Kind::Suffix, value: Value::Small(r) }) if *r < 0)
}

impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let mut i = 0;
        loop {
            let (a, b) = (self.tokens.get(i), other.tokens.get(i));
            let ka = a.map_or(Kind::End, |t| t.kind);
            let kb = b.map_or(Kind::End, |t| t.kind);
            if ka != kb {
                // apk's tail rule: a pre-release suffix loses, otherwise the
                // later token type loses.
                if is_pre_release(a) {
                    return Ordering::Less;
                }
                if is_pre_release(b) {
                    return Ordering::Greater;
                }
                return kb.cmp(&ka);
            }
            match (a, b) {
                (Some(a), Some(b)) => {
                    let ord = self.value_cmp(a.value, other, b.value);
                    if ord != Ordering::Equal {
                        return ord;
                    }
                }
                _ => return Ordering::Equal,
            }
            i += 1;
        }
    }
}

impl PartialOrd for ApkVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ApkVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ApkVersion {}

impl fmt::Display for ApkVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Compares two apk version strings.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(ApkVersion::parse(a)?.cmp(&ApkVersion::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_invalid() {
        for bad in [
            "", "a", "1..2", "1.", "1-r", "1-1", "1_foo", "1_pre_", "1.0A", "1ab", "1a.2",
            "1-r1.2", "1-r1_p1", "1_p1a", "v1.0", "1.0 ", "1.0~abc",
        ] {
            assert!(ApkVersion::parse(bad).is_err(), "{bad:?}");
        }
    }
}
