//! One pass of every secret rule over one text: the keyword automata find which rules can
//! match at all, only those rules' regexes run, then the gates and allow rules decide.

use super::redact::{has_letters_and_digits, shannon_entropy};
use super::rules::RuleSet;

/// Most matches kept per text: a hostile file of a million keys yields a bounded result.
pub const MAX_MATCHES_PER_TEXT: usize = 100;

/// One secret found in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretMatch {
    /// Index of the rule in the rule set.
    pub rule: usize,
    /// The clear value. It never leaves the checker: findings carry it redacted and hashed.
    pub secret: String,
    /// 1-based line of the secret's first byte.
    pub line: u32,
    /// Byte range of the secret in the text.
    pub start: usize,
    pub end: usize,
}

/// What one text yielded.
#[derive(Debug, Default)]
pub struct TextMatches {
    pub matches: Vec<SecretMatch>,
    /// More than [`MAX_MATCHES_PER_TEXT`] matched; the rest were dropped.
    pub truncated: bool,
}

impl RuleSet {
    /// Whether files at this path are never scanned (an allow rule names it).
    pub fn path_allowed(&self, path: &str) -> bool {
        self.allow_paths.is_match(path.as_bytes())
    }

    /// Every secret in `text`. `path` scopes the path-bound rules; `None` (the image
    /// config's Env, history commands) runs only the rules bound to no path.
    pub fn scan_text(&self, path: Option<&str>, text: &[u8]) -> TextMatches {
        let mut candidate = vec![false; self.rules.len()];
        for &i in &self.unconditional {
            candidate[i] = true;
        }
        self.keywords_ci.mark(text, &mut candidate);
        self.keywords_cs.mark(text, &mut candidate);

        let mut found: Vec<SecretMatch> = Vec::new();
        let mut truncated = false;
        'rules: for (idx, rule) in self.rules.iter().enumerate() {
            if !candidate[idx] {
                continue;
            }
            match (&rule.path, path) {
                (Some(re), Some(p)) if !re.is_match(p.as_bytes()) => continue,
                (Some(_), None) => continue,
                _ => {}
            }
            for caps in rule.regex.captures_iter(text) {
                let m = if rule.secret_groups.is_empty() {
                    caps.get(0)
                } else {
                    rule.secret_groups.iter().find_map(|g| caps.get(*g))
                };
                let Some(m) = m else { continue };
                let Ok(secret) = std::str::from_utf8(m.as_bytes()) else {
                    continue;
                };
                let secret = secret.trim_end_matches(['\r', '\n']);
                if let Some(min) = rule.min_entropy {
                    if shannon_entropy(secret) < min {
                        continue;
                    }
                }
                if rule.letters_and_digits && !has_letters_and_digits(secret) {
                    continue;
                }
                if self
                    .allow_values
                    .is_match(without_key_material(secret).as_bytes())
                {
                    continue;
                }
                if found.len() >= MAX_MATCHES_PER_TEXT {
                    truncated = true;
                    break 'rules;
                }
                found.push(SecretMatch {
                    rule: idx,
                    secret: secret.to_string(),
                    line: 0,
                    start: m.start(),
                    end: m.start() + secret.len(),
                });
            }
        }

        // A generic rule's match is noise where a specific rule matched the same bytes.
        let specific: Vec<(usize, usize)> = found
            .iter()
            .filter(|m| !self.rules[m.rule].generic)
            .map(|m| (m.start, m.end))
            .collect();
        found.retain(|m| {
            !self.rules[m.rule].generic || !specific.iter().any(|(s, e)| m.start < *e && *s < m.end)
        });

        found.sort_by_key(|m| (m.start, m.rule));
        number_lines(text, &mut found);
        TextMatches {
            matches: found,
            truncated,
        }
    }
}

/// Fills in line numbers with one forward pass over the text (matches sorted by start).
fn number_lines(text: &[u8], matches: &mut [SecretMatch]) {
    let mut line: u32 = 1;
    let mut pos = 0;
    for m in matches {
        let upto = m.start.min(text.len());
        if upto >= pos {
            line = line.saturating_add(bytecount_newlines(&text[pos..upto]));
            pos = upto;
        }
        m.line = line;
    }
}

fn bytecount_newlines(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.iter().filter(|b| **b == b'\n').count()).unwrap_or(u32::MAX)
}

/// For a multi-line value (a PEM block), the value with its runs of 40 or more base64
/// characters taken out, for the allow rules: a placeholder word (`your`, `fake`,
/// `Sample`) turns up by chance inside the body of a random private key, which must still
/// be reported, while a placeholder key (`YOUR KEY HERE` between the armour lines) is
/// still allowed. One-line values (tokens, documented example keys) are read whole.
fn without_key_material(value: &str) -> std::borrow::Cow<'_, str> {
    const MIN_RUN: usize = 40;
    if !value.contains('\n') {
        return std::borrow::Cow::Borrowed(value);
    }
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_');
    let mut out = String::new();
    let mut run_start = None;
    let mut cut_any = false;
    let mut last = 0;
    for (i, c) in value
        .char_indices()
        .chain(std::iter::once((value.len(), ' ')))
    {
        match (is_b64(c) && i < value.len(), run_start) {
            (true, None) => run_start = Some(i),
            (false, Some(start)) => {
                if i - start >= MIN_RUN {
                    out.push_str(&value[last..start]);
                    last = i;
                    cut_any = true;
                }
                run_start = None;
            }
            _ => {}
        }
    }
    if !cut_any {
        return std::borrow::Cow::Borrowed(value);
    }
    out.push_str(&value[last..]);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod key_material_tests {
    use super::without_key_material;

    #[test]
    fn long_base64_runs_are_not_read_by_allow_rules() {
        let body = "MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAyourKEYxfakeQ";
        let key = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----");
        let seen = without_key_material(&key);
        assert!(!seen.contains("your") && !seen.contains("fake"), "{seen}");
        assert!(seen.contains("BEGIN PRIVATE KEY"));
        // A placeholder body stays visible to the allow rules.
        let placeholder = "-----BEGIN PRIVATE KEY-----\nYOUR KEY HERE\n-----END PRIVATE KEY-----";
        assert_eq!(without_key_material(placeholder), placeholder);
        // One-line values are read whole.
        assert_eq!(without_key_material("changeme123"), "changeme123");
        let documented = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        assert_eq!(without_key_material(documented), documented);
    }
}
