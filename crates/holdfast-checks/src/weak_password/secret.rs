//! A clear-text password found in a configuration file, kept only as a digest.
//!
//! The layer cache stores what analyzers record; a digest lets the image-wide step test
//! the password against the dictionary without the clear value ever being written to the
//! cache or a report.

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

    /// Why the password is weak, if it is: in a candidate list, or too short.
    pub fn weakness(&self, candidates: &Candidates) -> Option<String> {
        let hit = candidates
            .iter()
            .find(|(p, _)| SecretDigest::of(p).sha256 == self.sha256)
            .map(|(_, s)| s);
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
