//! Secret rules: the TOML schema shared by the built-in set and user rule files, and the
//! compiled form the matcher runs (keyword automata, regexes, allow lists).
//!
//! A rule file holds `[[rule]]` tables (a new rule, or one that replaces a built-in rule of
//! the same id), `[[allow]]` tables (paths and values that are never findings) and a
//! `disable = [ids]` list that turns built-in rules off.

use std::collections::HashMap;

use holdfast_model::Severity;
use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::keywords::KeywordIndex;

/// The rules written for holdfast, embedded in the binary.
pub const BUILTIN_RULES: &str = include_str!("builtin.toml");

/// Bound on the compiled size of one user regex, so a hostile or careless rule file cannot
/// make the scanner use unbounded memory.
const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// Why a rule file was refused.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{file}: not a valid secret rule file: {source}")]
    Toml {
        file: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("{file}: rule `{id}`: invalid regex: {source}")]
    Regex {
        file: String,
        id: String,
        #[source]
        source: regex::Error,
    },
    #[error("{file}: rule `{id}`: {message}")]
    Invalid {
        file: String,
        id: String,
        message: String,
    },
    #[error("keyword automaton: {0}")]
    Keywords(#[from] aho_corasick::BuildError),
}

/// One file of rules, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
    #[serde(default)]
    allow: Vec<AllowSpec>,
    /// Ids of rules (built-in or from an earlier file) to turn off.
    #[serde(default)]
    disable: Vec<String>,
}

/// A rule as written in TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    title: String,
    severity: Severity,
    /// Literals one of which must occur in the text before the regex runs; none means the
    /// regex always runs.
    #[serde(default)]
    keywords: Vec<String>,
    /// Keywords match case-insensitively unless this is set.
    #[serde(default)]
    case_sensitive: bool,
    /// The pattern; a group named `secret` (or several `secret...` in alternatives) marks
    /// the secret within the match.
    regex: String,
    /// Only files whose absolute path matches this regex.
    #[serde(default)]
    path: Option<String>,
    /// Minimum Shannon entropy of the secret, in bits per byte.
    #[serde(default)]
    min_entropy: Option<f64>,
    /// The secret must hold both letters and digits.
    #[serde(default)]
    letters_and_digits: bool,
    /// A generic rule's match is dropped where a specific rule matched the same bytes.
    #[serde(default)]
    generic: bool,
    #[serde(default)]
    remediation: Option<String>,
}

/// An allow rule as written in TOML.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowSpec {
    id: String,
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
    /// Regexes over absolute image paths: matching files are not scanned.
    #[serde(default)]
    paths: Vec<String>,
    /// Regexes over the secret's clear value: matching values are not findings.
    #[serde(default)]
    regexes: Vec<String>,
}

/// One compiled rule.
#[derive(Debug)]
pub struct SecretRule {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub regex: Regex,
    /// Indexes of the capture groups named `secret...` (alternatives of one pattern); the
    /// first that took part is the secret. Empty: the whole match.
    pub secret_groups: Vec<usize>,
    pub path: Option<Regex>,
    pub min_entropy: Option<f64>,
    pub letters_and_digits: bool,
    pub generic: bool,
    pub remediation: Option<String>,
}

/// The compiled rules: what the matcher runs over every file.
#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<SecretRule>,
    /// Case-insensitive keywords, and for each keyword the rules it enables.
    pub keywords_ci: KeywordIndex,
    /// Case-sensitive keywords.
    pub keywords_cs: KeywordIndex,
    /// Rules without keywords: they run on every file.
    pub unconditional: Vec<usize>,
    /// One set for every allow-path regex, one for every allow-value regex.
    pub allow_paths: RegexSet,
    pub allow_values: RegexSet,
    /// Hash of every rule source, for the analyzer's cache key.
    pub digest: [u8; 32],
}

impl RuleSet {
    /// The built-in rules alone.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        RuleSet::compile(&[])
    }

    /// The built-in rules, then each user file in order (`(name, text)`): its rules are added
    /// (replacing a rule of the same id), its allow rules appended, its `disable` ids dropped.
    pub fn compile(user_files: &[(String, String)]) -> Result<RuleSet, RuleError> {
        let mut specs: Vec<(String, RuleSpec)> = Vec::new();
        let mut allow_paths: Vec<String> = Vec::new();
        let mut allow_values: Vec<String> = Vec::new();
        let mut hasher = Sha256::new();
        let user_files = user_files.iter().map(|(n, t)| (n.as_str(), t.as_str()));
        for (name, text) in
            std::iter::once(("built-in secret rules", BUILTIN_RULES)).chain(user_files)
        {
            hasher.update((name.len() as u64).to_le_bytes());
            hasher.update(name.as_bytes());
            hasher.update((text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
            let file: RuleFile = toml::from_str(text).map_err(|source| RuleError::Toml {
                file: name.to_string(),
                source,
            })?;
            for id in &file.disable {
                specs.retain(|(_, s)| &s.id != id);
            }
            for spec in file.rule {
                specs.retain(|(_, s)| s.id != spec.id);
                specs.push((name.to_string(), spec));
            }
            for a in file.allow {
                for p in &a.paths {
                    check_regex(name, &a.id, p)?;
                }
                for r in &a.regexes {
                    check_regex(name, &a.id, r)?;
                }
                allow_paths.extend(a.paths);
                allow_values.extend(a.regexes);
            }
        }

        let mut rules = Vec::with_capacity(specs.len());
        let mut ci: HashMap<String, Vec<usize>> = HashMap::new();
        let mut cs: HashMap<String, Vec<usize>> = HashMap::new();
        let mut unconditional = Vec::new();
        for (file, spec) in specs {
            let idx = rules.len();
            let regex = build_regex(&file, &spec.id, &spec.regex)?;
            let secret_groups = regex
                .capture_names()
                .enumerate()
                .filter(|(_, n)| n.is_some_and(|n| n.starts_with("secret")))
                .map(|(i, _)| i)
                .collect();
            let path = spec
                .path
                .as_deref()
                .map(|p| build_regex(&file, &spec.id, p))
                .transpose()?;
            if spec.keywords.iter().any(String::is_empty) {
                return Err(RuleError::Invalid {
                    file,
                    id: spec.id,
                    message: "empty keyword".into(),
                });
            }
            if spec.keywords.is_empty() {
                unconditional.push(idx);
            }
            for k in &spec.keywords {
                if spec.case_sensitive {
                    cs.entry(k.clone()).or_default().push(idx);
                } else {
                    ci.entry(k.to_ascii_lowercase()).or_default().push(idx);
                }
            }
            rules.push(SecretRule {
                id: spec.id,
                title: spec.title,
                severity: spec.severity,
                regex,
                secret_groups,
                path,
                min_entropy: spec.min_entropy,
                letters_and_digits: spec.letters_and_digits,
                generic: spec.generic,
                remediation: spec.remediation,
            });
        }
        let keywords_ci = KeywordIndex::build(ci, true)?;
        let keywords_cs = KeywordIndex::build(cs, false)?;
        let set = |patterns: &[String]| {
            RegexSetBuilder::new(patterns)
                .size_limit(REGEX_SIZE_LIMIT * 4)
                .build()
                .map_err(|source| RuleError::Regex {
                    file: "allow rules".into(),
                    id: "allow".into(),
                    source,
                })
        };
        Ok(RuleSet {
            rules,
            keywords_ci,
            keywords_cs,
            unconditional,
            allow_paths: set(&allow_paths)?,
            allow_values: set(&allow_values)?,
            digest: hasher.finalize().into(),
        })
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&SecretRule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

fn build_regex(file: &str, id: &str, pattern: &str) -> Result<Regex, RuleError> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|source| RuleError::Regex {
            file: file.to_string(),
            id: id.to_string(),
            source,
        })
}

fn check_regex(file: &str, id: &str, pattern: &str) -> Result<(), RuleError> {
    build_regex(file, id, pattern).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_compile_with_unique_ids() {
        let set = RuleSet::builtin().unwrap();
        let mut ids: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule ids");
        assert!(n >= 30, "{n} rules");
        assert!(
            set.unconditional.is_empty(),
            "every built-in rule has keywords"
        );
    }

    #[test]
    fn user_files_add_replace_and_disable() {
        let user = r#"
disable = ["HF-SECRET-JWT"]
[[rule]]
id = "ACME-TOKEN"
title = "ACME token"
severity = "HIGH"
keywords = ["acme_"]
regex = '''acme_(?P<secret>[a-z0-9]{16})'''
"#;
        let base = RuleSet::builtin().unwrap();
        let set = RuleSet::compile(&[("acme.toml".into(), user.into())]).unwrap();
        assert!(set.get("HF-SECRET-JWT").is_none());
        assert!(set.get("ACME-TOKEN").is_some());
        assert_eq!(set.rules.len(), base.rules.len());
        assert_ne!(set.digest, base.digest, "user files change the cache key");
    }

    #[test]
    fn bad_user_files_name_the_file_and_rule() {
        let e = RuleSet::compile(&[("x.toml".into(), "[[rule]]\nid=1".into())]).unwrap_err();
        assert!(e.to_string().starts_with("x.toml:"), "{e}");
        let bad = "[[rule]]\nid = \"R1\"\ntitle = \"t\"\nseverity = \"LOW\"\nregex = \"(\"\n";
        let e = RuleSet::compile(&[("y.toml".into(), bad.into())]).unwrap_err();
        assert!(e.to_string().contains("rule `R1`"), "{e}");
        let unknown = "[[rule]]\nid = \"R1\"\ntitle = \"t\"\nseverity = \"LOW\"\nregex = \"a\"\nkeyword = [\"a\"]\n";
        assert!(RuleSet::compile(&[("z.toml".into(), unknown.into())]).is_err());
    }
}

#[cfg(test)]
mod keyword_tests {
    use super::RuleSet;

    /// Rules keyed by `abcde`, `bcdef`, `cdef` (in the automaton), `cd` (searched alone)
    /// and a case-sensitive `ABCDE`, each matching its keyword followed by `=` and a value.
    fn overlapping() -> RuleSet {
        let rule = |id: &str, kw: &str, cs: bool| {
            format!(
                "[[rule]]\nid = \"{id}\"\ntitle = \"t\"\nseverity = \"LOW\"\nkeywords = [\"{kw}\"]\ncase_sensitive = {cs}\nregex = '''{kw}=(?P<secret>[0-9]+)'''\n"
            )
        };
        let toml = [
            rule("R-ABCDE", "abcde", false),
            rule("R-BCDEF", "bcdef", false),
            rule("R-CDEF", "cdef", false),
            rule("R-CD", "cd", false),
            rule("R-ABCDE-CS", "ABCDE", true),
        ]
        .concat();
        let disable_builtin: Vec<String> = RuleSet::builtin()
            .unwrap()
            .rules
            .iter()
            .map(|r| format!("\"{}\"", r.id))
            .collect();
        let toml = format!("disable = [{}]\n{toml}", disable_builtin.join(", "));
        RuleSet::compile(&[("kw.toml".into(), toml)]).unwrap()
    }

    fn found(set: &RuleSet, text: &str) -> Vec<String> {
        let mut ids: Vec<String> = set
            .scan_text(None, text.as_bytes())
            .matches
            .iter()
            .map(|m| set.rules[m.rule].id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    #[test]
    fn keywords_inside_or_across_a_longer_match_still_enable_their_rules() {
        let set = overlapping();
        // `bcdef` starts inside `abcde`, `cdef` inside both: each rule's regex must run.
        assert_eq!(
            found(&set, "x abcdef=1 abcde=2 bcdef=3 cdef=4 cd=5"),
            ["R-ABCDE", "R-BCDEF", "R-CD", "R-CDEF"]
        );
        // `cdef` is there only as part of `bcdef`'s text, `cd` only inside a longer word.
        assert_eq!(found(&set, "xbcdef=5"), ["R-BCDEF", "R-CDEF"]);
        assert_eq!(found(&set, "xabcd=5"), ["R-CD"]);
        assert_eq!(found(&set, "ABCDE=6"), ["R-ABCDE-CS"]);
        assert_eq!(found(&set, "nothing here"), Vec::<String>::new());
    }
}
