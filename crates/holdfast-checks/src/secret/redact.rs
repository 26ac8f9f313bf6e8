//! Making a matched secret safe to show: a redacted form for people, a hash for machines,
//! and the entropy figure the generic rules are gated on.

use sha2::{Digest, Sha256};

/// The first four characters of the secret, then `*****`; never more of it.
pub fn redact(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    format!("{head}*****")
}

/// `sha256:` of the clear value, so the same secret is recognised across files, layers,
/// images and runs without being shown.
pub fn fingerprint(secret: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(secret.as_bytes())))
}

/// Shannon entropy of the value's bytes, in bits per byte. Random tokens over a 62-letter
/// alphabet score about 5; words and placeholders score under 3.
pub fn shannon_entropy(value: &str) -> f64 {
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for b in bytes {
        counts[*b as usize] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Whether the value mixes letters and digits, as generated secrets do and identifiers in
/// code (`self.tokenize`, `SECRET_KEY_FALLBACK`) do not.
pub fn has_letters_and_digits(value: &str) -> bool {
    value.bytes().any(|b| b.is_ascii_alphabetic()) && value.bytes().any(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_four_characters_only() {
        assert_eq!(redact("ghp_abcdefgh"), "ghp_*****");
        assert_eq!(redact("ab"), "ab*****");
        // Characters, not bytes: a multi-byte secret is not cut inside a character.
        assert_eq!(redact("éééééé"), "éééé*****");
    }

    #[test]
    fn fingerprint_is_the_sha256_of_the_clear_value() {
        assert_eq!(
            fingerprint("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn entropy_separates_words_from_tokens() {
        assert!(shannon_entropy("changeme") < 3.0);
        assert!(shannon_entropy("aaaaaaaaaaaa") < 0.1);
        assert!(shannon_entropy("q8Zr2LmX0vTb7WcN4yPe") > 4.0);
        assert_eq!(shannon_entropy(""), 0.0);
    }

    #[test]
    fn mixed_classes() {
        assert!(has_letters_and_digits("hunter2"));
        assert!(!has_letters_and_digits("self.tokenize"));
        assert!(!has_letters_and_digits("12345678"));
    }
}
