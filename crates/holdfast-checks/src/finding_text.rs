//! What a checker's finding is called and what to do about it, read from TOML data so the
//! wording lives with the rules rather than in code branches.

use std::collections::HashMap;

use holdfast_model::{Finding, FindingKind};
use serde::Deserialize;

use crate::rules::{embedded, RuleText};

#[derive(Deserialize)]
struct Catalog {
    finding: Vec<RuleText>,
}

/// The finding texts of one checker, by id. A title may hold `{subject}`, replaced by
/// what the finding is about.
#[derive(Debug)]
pub struct FindingTexts {
    kind: FindingKind,
    by_id: HashMap<String, RuleText>,
}

impl FindingTexts {
    /// Parses the `[[finding]]` list of the built-in file `name`. Panics on malformed
    /// data: the file is compiled in and a unit test loads it.
    pub fn parse(kind: FindingKind, name: &str, toml_text: &str) -> FindingTexts {
        let c: Catalog = embedded(name, toml_text);
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
        let mut f = t.finding(self.kind);
        f.title = t.title.replace("{subject}", subject);
        f
    }

    /// Every id, for tests.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.by_id.keys().map(String::as_str)
    }
}
