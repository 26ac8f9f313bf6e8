//! Line rules from `data/backdoor-rules.toml`: which file classes they apply to, what
//! they match, and the finding they raise. The code only interprets them.

use std::sync::OnceLock;

use fancy_regex::Regex;
use holdfast_model::{Finding, FindingKind};
use serde::Deserialize;

use crate::finding_text::FindingTexts;
use crate::rules::{prefix, RuleText};

const RULES: &str = include_str!("../../data/backdoor-rules.toml");

/// Longest line a rule is matched against; longer lines are matched on their start.
const MAX_LINE: usize = 8192;
/// Longest evidence kept.
const MAX_EVIDENCE: usize = 200;

#[derive(Deserialize)]
struct RawRule {
    #[serde(flatten)]
    text: RuleText,
    classes: Vec<String>,
    pattern: String,
    #[serde(default)]
    unless: Option<String>,
}

#[derive(Deserialize)]
struct RuleFile {
    rule: Vec<RawRule>,
}

/// One compiled line rule.
pub struct LineRule {
    /// The id and words of the finding it raises.
    pub(crate) text: RuleText,
    pub classes: Vec<String>,
    pattern: Regex,
    unless: Option<Regex>,
}

/// Why the rule data could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("backdoor rules: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("backdoor rule {id}: bad regular expression: {source}")]
    Regex {
        id: String,
        source: Box<fancy_regex::Error>,
    },
}

/// Parses and compiles a rule file.
pub fn parse(text: &str) -> Result<Vec<LineRule>, RuleError> {
    let raw: RuleFile = toml::from_str(text)?;
    raw.rule
        .into_iter()
        .map(|r| {
            let compile = |p: &str| {
                Regex::new(p).map_err(|e| RuleError::Regex {
                    id: r.text.id.clone(),
                    source: Box::new(e),
                })
            };
            Ok(LineRule {
                pattern: compile(&r.pattern)?,
                unless: r.unless.as_deref().map(compile).transpose()?,
                text: r.text,
                classes: r.classes,
            })
        })
        .collect()
}

/// The built-in rules, compiled once. Panics on malformed data: the file is compiled in
/// and the unit tests load it.
pub fn built_in() -> &'static [LineRule] {
    static R: OnceLock<Vec<LineRule>> = OnceLock::new();
    R.get_or_init(|| match parse(RULES) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    })
}

/// The texts of the findings raised by image-wide checks.
pub fn texts() -> &'static FindingTexts {
    static T: OnceLock<FindingTexts> = OnceLock::new();
    T.get_or_init(|| FindingTexts::parse(FindingKind::Backdoor, "backdoor-rules.toml", RULES))
}

/// The findings of the rules of `class` in `text`, one per matching rule and line.
pub fn scan(rules: &[LineRule], class: &str, text: &str) -> Vec<Finding> {
    let active: Vec<&LineRule> = rules
        .iter()
        .filter(|r| r.classes.iter().any(|c| c == class))
        .collect();
    if active.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = prefix(raw, MAX_LINE);
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') || (class == "systemd-unit" && t.starts_with(';')) {
            continue;
        }
        for r in &active {
            // A regex that gives up (backtracking limit) counts as no match.
            if !r.pattern.is_match(line).unwrap_or(false) {
                continue;
            }
            if let Some(u) = &r.unless {
                if u.is_match(line).unwrap_or(false) {
                    continue;
                }
            }
            let mut f = r.text.finding(FindingKind::Backdoor);
            f.line = u32::try_from(i + 1).ok();
            f.evidence = Some(prefix(line.trim(), MAX_EVIDENCE).to_string());
            out.push(f);
        }
    }
    out
}
