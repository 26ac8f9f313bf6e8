//! Keeping secrets out of what is sent to the model.
//!
//! The summary is built from fields that hold no secret (ids, severities, titles,
//! package names and versions, paths); a finding's `evidence` and `fingerprint` are never
//! read into it. This module is the second line: every text that goes out passes through
//! a [`Scrubber`], which removes what a secret could still look like there: the
//! evidence and fingerprint strings of the result's own findings wherever they appear,
//! redacted secrets as the secret scanner writes them (`ghp_*****`), credentials in URLs,
//! values of secret-looking names (`API_TOKEN=...`, `--password ...`), and, in layer
//! commands, long random-looking tokens.

use holdfast_model::ScanResult;

/// What replaces anything removed.
pub const REDACTED: &str = "[redacted]";

/// Words that make a name secret-looking: its value is removed.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "access_key",
    "access-key",
    "private_key",
    "private-key",
    "credential",
    "auth",
];

/// Shortest evidence or fingerprint string searched for literally: shorter ones would
/// match ordinary words.
const MIN_LITERAL: usize = 4;

/// Shortest run of token characters in a layer command that may be a random token.
const MIN_TOKEN: usize = 24;

/// Removes secrets and what identifies them from text sent to the model.
#[derive(Debug, Clone, Default)]
pub struct Scrubber {
    /// Evidence and fingerprint strings of the result's findings, longest first.
    literals: Vec<String>,
}

impl Scrubber {
    /// A scrubber that also removes every evidence and fingerprint string (and the bare
    /// hash of each fingerprint) of `result`'s findings, kept and suppressed.
    pub fn for_result(result: &ScanResult) -> Self {
        let mut literals = Vec::new();
        for t in &result.targets {
            for f in t.findings.iter().chain(&t.suppressed) {
                if let Some(e) = &f.evidence {
                    literals.push(e.trim().to_string());
                }
                if let Some(fp) = &f.fingerprint {
                    literals.push(fp.trim().to_string());
                    if let Some((_, hash)) = fp.split_once(':') {
                        literals.push(hash.trim().to_string());
                    }
                }
            }
        }
        literals.retain(|l| l.chars().count() >= MIN_LITERAL);
        literals.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        literals.dedup();
        Scrubber { literals }
    }

    /// `text` on one line, without control characters, with every kind of secret this
    /// module knows replaced by [`REDACTED`].
    pub fn text(&self, text: &str) -> String {
        let mut s: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        for l in &self.literals {
            if s.contains(l.as_str()) {
                s = s.replace(l.as_str(), REDACTED);
            }
        }
        let s = masked_evidence(&s);
        let s = url_credentials(&s);
        secret_assignments(&s, false)
    }

    /// A layer command: [`Scrubber::text`], then `name: value` pairs of secret-looking
    /// names and long random-looking tokens removed too (a command line is where a
    /// secret the rules did not know would be).
    pub fn command(&self, text: &str) -> String {
        random_tokens(&secret_assignments(&self.text(text), true))
    }
}

/// Removes secrets redacted the secret scanner's way: up to four characters followed by
/// `*****`.
fn masked_evidence(s: &str) -> String {
    if !s.contains("*****") {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '*' && chars[i..].iter().take_while(|c| **c == '*').count() >= 5 {
            // Take back up to four non-blank characters already written: the secret's head.
            let mut head = 0;
            while head < 4 {
                match out.chars().last() {
                    Some(c) if !c.is_whitespace() && !matches!(c, '=' | ':' | '"' | '\'') => {
                        out.pop();
                        head += 1;
                    }
                    _ => break,
                }
            }
            out.push_str(REDACTED);
            while i < chars.len() && chars[i] == '*' {
                i += 1;
            }
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// `scheme://user:password@host` becomes `scheme://[redacted]@host`.
fn url_credentials(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find("://") {
        let (before, after) = rest.split_at(pos + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '"' | '\'' | '`' | '?' | '#'))
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str(REDACTED);
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| lower.contains(w))
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// The end (byte offset) of a value starting at `start`: a quoted string, or up to the
/// next blank, `;`, `&` or `|`.
fn value_end(s: &str, start: usize) -> usize {
    let rest = &s[start..];
    match rest.chars().next() {
        Some(q @ ('"' | '\'')) => match rest[1..].find(q) {
            Some(close) => start + 1 + close + 1,
            None => s.len(),
        },
        _ => {
            start
                + rest
                    .find(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | ','))
                    .unwrap_or(rest.len())
        }
    }
}

/// Values of secret-looking names: `NAME=value`, `--name value`, `--name=value` and,
/// with `colon`, `NAME: value`, where the name holds a word such as `token` or
/// `password`.
fn secret_assignments(s: &str, colon: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let bytes = s.as_bytes();
    while i < s.len() {
        let c = s[i..].chars().next().unwrap_or(' ');
        if is_name_char(c) && (i == 0 || !is_name_char(s[..i].chars().last().unwrap_or(' '))) {
            // A name starts here.
            let name_end = i + s[i..]
                .find(|c: char| !is_name_char(c))
                .unwrap_or(s.len() - i);
            let name = &s[i..name_end];
            out.push_str(name);
            i = name_end;
            if !is_secret_name(name) || i >= s.len() {
                continue;
            }
            // `=` or `:` (then optional blanks), or a flag followed by a blank.
            let mut j = i;
            let sep = bytes[j];
            if sep == b'=' || (colon && sep == b':') {
                j += 1;
                while j < s.len() && bytes[j] == b' ' {
                    j += 1;
                }
            } else if sep == b' ' && name.starts_with('-') {
                j += 1;
            } else {
                continue;
            }
            if j >= s.len() || bytes[j] == b' ' || (bytes[j] == b'-' && sep == b' ') {
                continue;
            }
            let end = value_end(s, j);
            if end > j && &s[j..end] != REDACTED {
                out.push_str(&s[i..j]);
                out.push_str(REDACTED);
                i = end;
            }
            continue;
        }
        out.push(c);
        i += c.len_utf8();
    }
    out
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '_' | '=' | '-')
}

/// Shannon entropy of the value's bytes, in bits per byte.
fn entropy(value: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in value.bytes() {
        counts[b as usize] += 1;
    }
    let len = value.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Whether a run of token characters looks random: long, letters and digits mixed, and
/// high entropy (a random token scores over 4 bits per byte; package lists score less).
fn looks_random(run: &str) -> bool {
    run.len() >= MIN_TOKEN
        && run.bytes().any(|b| b.is_ascii_alphabetic())
        && run.bytes().any(|b| b.is_ascii_digit())
        && entropy(run) >= 3.8
}

/// Long random-looking tokens replaced.
fn random_tokens(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    for c in s.chars().chain(std::iter::once(' ')) {
        if is_token_char(c) {
            run.push(c);
            continue;
        }
        if looks_random(&run) {
            out.push_str(REDACTED);
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_model::{Finding, FindingKind, Severity};

    #[test]
    fn masked_evidence_is_removed_with_its_head() {
        let s = Scrubber::default();
        assert_eq!(
            s.text("echo //r/:_authToken=npm_***** > .npmrc"),
            "echo //r/:_authToken=[redacted] > .npmrc"
        );
        assert_eq!(s.text("key ghp_*****, then"), "key [redacted], then");
        assert_eq!(s.text("a ab***** b"), "a [redacted] b");
    }

    #[test]
    fn url_credentials_are_removed() {
        let s = Scrubber::default();
        assert_eq!(
            s.text("git clone https://ci:hunter2@git.example/x.git"),
            "git clone https://[redacted]@git.example/x.git"
        );
        assert_eq!(
            s.text("see https://example.com/a@b"),
            "see https://example.com/a@b"
        );
        assert_eq!(
            s.text("postgres://app:pw@db:5432/app and http://u@h"),
            "postgres://[redacted]@db:5432/app and http://[redacted]@h"
        );
    }

    #[test]
    fn values_of_secret_names_are_removed() {
        let s = Scrubber::default();
        assert_eq!(s.text("ENV API_TOKEN=abc123"), "ENV API_TOKEN=[redacted]");
        assert_eq!(
            s.text("mysql --password hunter2 -u root"),
            "mysql --password [redacted] -u root"
        );
        assert_eq!(
            s.text("curl --token=xyz https://a"),
            "curl --token=[redacted] https://a"
        );
        assert_eq!(
            s.text(r#"DB_PASSWORD="with space" next"#),
            "DB_PASSWORD=[redacted] next"
        );
        assert_eq!(s.command("secret: s3cr3t"), "secret: [redacted]");
        assert_eq!(s.text("Hard-coded token: NAME"), "Hard-coded token: NAME");
        // Names without a secret word, and secret words without a value, stay.
        assert_eq!(s.text("PATH=/usr/bin"), "PATH=/usr/bin");
        assert_eq!(s.text("GitHub token in a file"), "GitHub token in a file");
        assert_eq!(s.text("--password -u"), "--password -u");
    }

    #[test]
    fn random_tokens_are_removed_from_commands_only() {
        let s = Scrubber::default();
        let cmd = "RUN curl -H X:q8Zr2LmX0vTb7WcN4yPeQ1sA https://x && apt-get install -y libssl3 python3-dev";
        let out = s.command(cmd);
        assert!(!out.contains("q8Zr2LmX0vTb7WcN4yPeQ1sA"), "{out}");
        assert!(
            out.contains("apt-get install -y libssl3 python3-dev"),
            "{out}"
        );
        // Titles keep theirs (a Go pseudo-version is not a secret).
        assert!(s
            .text("v0.0.0-20210101000000-abcdef123456")
            .contains("abcdef123456"));
    }

    #[test]
    fn evidence_and_fingerprints_of_the_result_are_removed_anywhere() {
        let mut f = Finding::new(FindingKind::Secret, "github-pat", Severity::High, "t");
        f.evidence = Some("SOMETHING-ODD".into());
        f.fingerprint = Some(format!("sha256:{}", "ab".repeat(32)));
        let mut result: ScanResult = serde_json::from_value(serde_json::json!({
            "schema_version": 1, "tool": {"name": "holdfast", "version": "0"},
            "created_at": "", "targets": [], "summary": {
                "targets": 0, "packages": 0, "findings": 0, "by_severity": {}, "warnings": 0}
        }))
        .unwrap();
        result.targets.push(
            serde_json::from_value(serde_json::json!({
                "kind": "image", "name": "x", "os": null, "layers": [], "packages": [],
                "findings": []
            }))
            .unwrap(),
        );
        result.targets[0].findings.push(f);
        let s = Scrubber::for_result(&result);
        let hash = "ab".repeat(32);
        let out = s.text(&format!("a SOMETHING-ODD b sha256:{hash} c {hash}"));
        assert_eq!(out, "a [redacted] b [redacted] c [redacted]");
    }

    #[test]
    fn control_characters_become_blanks() {
        let s = Scrubber::default();
        assert_eq!(s.text("a\nb\x1b[31mc"), "a b [31mc");
    }
}
