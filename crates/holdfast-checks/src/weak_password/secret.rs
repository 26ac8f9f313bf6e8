//! A clear-text password found in a configuration file, kept only as a digest.
//!
//! The layer cache stores what analyzers record; a digest lets the image-wide step test
//! the password against the dictionary without the clear value ever being written to the
//! cache or a report.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::dictionary::{Candidates, Source};

/// The SHA-256 of a password and its length in characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretDigest {
    pub sha256: String,
    pub chars: usize,
}

/// Shorter than this is weak whatever the characters.
pub const MIN_CHARS: usize = 8;

impl SecretDigest {
    /// The digest of a clear password.
    pub fn of(password: &str) -> SecretDigest {
        SecretDigest {
            sha256: hex::encode(Sha256::digest(password.as_bytes())),
            chars: password.chars().count(),
        }
    }

    /// Why the password is weak, if it is: one of the `derived` guesses, a password whose
    /// digest is in `known` (the dictionaries, indexed once per image), or too short.
    pub fn weakness(
        &self,
        derived: &Candidates,
        known: &HashMap<String, Source>,
    ) -> Option<String> {
        let hit = derived
            .iter()
            .find(|(p, _)| SecretDigest::of(p).sha256 == self.sha256)
            .map(|(_, s)| s)
            .or_else(|| known.get(&self.sha256).copied());
        match hit {
            Some(Source::Derived) => Some(format!("it matches {}", Source::Derived.describe())),
            Some(s) => Some(format!("it is in {}", s.describe())),
            None if self.chars < MIN_CHARS => Some(format!(
                "it is {} characters long (under {MIN_CHARS})",
                self.chars
            )),
            None => None,
        }
    }
}
