//! What a checker's finding is called and what to do about it, read from TOML data so the
//! wording lives with the rules rather than in code branches.

use std::collections::HashMap;

use holdfast_model::{Finding, FindingKind, Severity};
use serde::Deserialize;

/// The fixed part of one finding id.
#[derive(Debug, Clone, Deserialize)]
pub struct FindingText {
    pub id: String,
    #[serde(deserialize_with = "severity")]
    pub severity: Severity,
    /// May hold `{subject}`, replaced by what the finding is about.
    pub title: String,
    pub description: String,
    pub remediation: String,
}

/// Parses a severity name as the JSON contract writes it.
pub fn severity<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Severity, D::Error> {
    let s = String::deserialize(d)?;
    Severity::ALL
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown severity `{s}`")))
}

#[derive(Deserialize)]
struct Catalog {
    finding: Vec<FindingText>,
}

/// The finding texts of one checker, by id.
#[derive(Debug)]
pub struct FindingTexts {
    kind: FindingKind,
    by_id: HashMap<String, FindingText>,
}

impl FindingTexts {
    /// Parses a `[[finding]]` list. Panics on malformed data: the file is compiled in and
    /// a unit test loads it.
    pub fn parse(kind: FindingKind, toml_text: &str) -> FindingTexts {
        let c: Catalog = match toml::from_str(toml_text) {
            Ok(c) => c,
            Err(e) => panic!("built-in finding texts do not parse: {e}"),
        };
        FindingTexts {
            kind,
            by_id: c.finding.into_iter().map(|f| (f.id.clone(), f)).collect(),
        }
    }

    /// A finding for `id` about `subject`. Panics on an unknown id (a programming error
    /// the unit tests catch).
    pub fn finding(&self, id: &str, subject: &str) -> Finding {
        let Some(t) = self.by_id.get(id) else {
            panic!("no finding text for {id}");
        };
        let mut f = Finding::new(
            self.kind,
            &t.id,
            t.severity,
            t.title.replace("{subject}", subject),
        );
        f.description = t.description.clone();
        f.remediation = Some(t.remediation.clone());
        f
    }

    /// Every id, for tests.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.by_id.keys().map(String::as_str)
    }
}
