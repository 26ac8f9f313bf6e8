//! Candidate passwords: the built-in dictionary, guesses derived from account and host
//! names, and a user's `--dict` file.
//!
//! The built-in list is two data files: exact common passwords, most likely first, and
//! words that are expanded here with the variations people use to satisfy a password
//! policy (capital first letter, digit and year suffixes, a trailing `!`, letter-for-digit
//! substitutions). Expanding in code keeps the data small and reviewable.

use std::collections::HashMap;
use std::sync::OnceLock;

const EXACT: &str = include_str!("../../data/weak-passwords.txt");
const WORDS: &str = include_str!("../../data/weak-words.txt");

/// Where a candidate came from; reported instead of the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Derived from the account's or the host's name.
    Derived,
    /// The built-in dictionary.
    BuiltIn,
    /// The user's `--dict` file.
    UserDictionary,
}

impl Source {
    /// How a report names the source.
    pub fn describe(self) -> &'static str {
        match self {
            Source::Derived => "a guess derived from the account, service or host name",
            Source::BuiltIn => "the built-in dictionary of common passwords",
            Source::UserDictionary => "the dictionary given with --dict",
        }
    }
}

/// An ordered list of candidates without duplicates, each with its source.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    list: Vec<(String, Source)>,
    seen: HashMap<String, Source>,
}

impl Candidates {
    /// Adds a candidate unless it is already there.
    pub fn push(&mut self, password: &str, source: Source) {
        if !self.seen.contains_key(password) {
            self.seen.insert(password.to_string(), source);
            self.list.push((password.to_string(), source));
        }
    }

    /// Adds every candidate of `other` not already there.
    pub fn extend(&mut self, other: &Candidates) {
        for (p, s) in &other.list {
            self.push(p, *s);
        }
    }

    /// Whether `password` is a candidate, and from where.
    pub fn source_of(&self, password: &str) -> Option<Source> {
        self.seen.get(password).copied()
    }

    /// The candidates in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Source)> {
        self.list.iter().map(|(p, s)| (p.as_str(), *s))
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

fn data_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// The built-in dictionary, built once.
pub fn built_in() -> &'static Candidates {
    static LIST: OnceLock<Candidates> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut c = Candidates::default();
        for p in data_lines(EXACT) {
            c.push(p, Source::BuiltIn);
        }
        let words: Vec<&str> = data_lines(WORDS).collect();
        // Plain words first, then their variants in the order people pick them.
        for w in &words {
            c.push(w, Source::BuiltIn);
        }
        for w in &words {
            for v in word_variants(w) {
                c.push(&v, Source::BuiltIn);
            }
        }
        for v in digit_runs() {
            c.push(&v, Source::BuiltIn);
        }
        c
    })
}

fn capitalised(w: &str) -> String {
    let mut chars = w.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn leet(w: &str) -> String {
    w.chars()
        .map(|c| match c {
            'a' => '@',
            'o' => '0',
            'e' => '3',
            's' => '$',
            'i' => '1',
            other => other,
        })
        .collect()
}

/// A word's common variants (not the word itself).
fn word_variants(w: &str) -> Vec<String> {
    let cap = capitalised(w);
    let mut out = vec![
        cap.clone(),
        w.to_uppercase(),
        format!("{w}1"),
        format!("{cap}1"),
        format!("{w}123"),
        format!("{cap}123"),
        format!("{w}12"),
        format!("{w}1234"),
        format!("{w}!"),
        format!("{cap}!"),
        format!("{cap}1!"),
        format!("{cap}123!"),
        format!("{w}01"),
        format!("{w}2024"),
        format!("{cap}2024"),
        format!("{w}2025"),
    ];
    let l = leet(w);
    if l != w {
        out.push(l);
    }
    out
}

/// Years and runs of one digit.
fn digit_runs() -> Vec<String> {
    let mut out: Vec<String> = (1970..=2026).rev().map(|y| y.to_string()).collect();
    for d in 0..=9u8 {
        for len in 4..=10 {
            out.push(std::iter::repeat_n(char::from(b'0' + d), len).collect());
        }
    }
    out
}

/// Guesses from a name (an account, a host or a service): the name and its variants,
/// reversed, doubled.
pub fn derived_from(names: &[&str]) -> Candidates {
    let mut c = Candidates::default();
    for name in names.iter().filter(|n| !n.is_empty()) {
        c.push(name, Source::Derived);
        for v in word_variants(name) {
            c.push(&v, Source::Derived);
        }
        c.push(&name.chars().rev().collect::<String>(), Source::Derived);
        c.push(&format!("{name}{name}"), Source::Derived);
        c.push(&format!("{name}@123"), Source::Derived);
        for y in 2019..=2026 {
            c.push(&format!("{name}{y}"), Source::Derived);
        }
    }
    c
}

/// Reads a user dictionary: one candidate per line, blank lines skipped, bounded to
/// `max` entries.
pub fn user_dictionary(text: &str, max: usize) -> Candidates {
    let mut c = Candidates::default();
    for line in text.lines().take(max) {
        let p = line.strip_suffix('\r').unwrap_or(line);
        if !p.is_empty() {
            c.push(p, Source::UserDictionary);
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_has_a_few_thousand_unique_candidates_most_common_first() {
        let b = built_in();
        assert!(b.len() > 3000 && b.len() < 6000, "{} candidates", b.len());
        let first: Vec<&str> = b.iter().take(3).map(|c| c.0).collect();
        assert_eq!(first, vec!["123456", "password", "123456789"]);
        for p in [
            "password1",
            "Password123",
            "admin",
            "qwerty",
            "Summer2024",
            "2019",
        ] {
            assert_eq!(b.source_of(p), Some(Source::BuiltIn), "{p}");
        }
        assert_eq!(b.source_of("p@$$w0rd"), Some(Source::BuiltIn));
        assert_eq!(b.source_of("correct horse battery staple"), None);
    }

    #[test]
    fn derived_guesses_cover_the_usual_patterns() {
        let d = derived_from(&["alice", "web01"]);
        for p in [
            "alice",
            "Alice",
            "alice123",
            "ecila",
            "alicealice",
            "web01",
            "Web01!",
        ] {
            assert_eq!(d.source_of(p), Some(Source::Derived), "{p}");
        }
    }

    #[test]
    fn user_dictionary_is_bounded_and_keeps_spaces() {
        let u = user_dictionary("one\r\n\ntwo words\nthree\n", 2);
        let got: Vec<&str> = u.iter().map(|c| c.0).collect();
        assert_eq!(got, vec!["one"]);
        let u = user_dictionary("one\n\ntwo words\nthree\n", 10);
        assert_eq!(u.len(), 3);
        assert_eq!(u.source_of("two words"), Some(Source::UserDictionary));
    }
}
