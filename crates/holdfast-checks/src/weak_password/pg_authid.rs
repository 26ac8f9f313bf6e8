//! PostgreSQL role passwords in `global/1260`, the heap file of the shared catalog
//! `pg_authid`.
//!
//! `rolpassword` holds `md5` + hex(MD5(password || role name)) or a SCRAM-SHA-256 verifier
//! `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64), as PostgreSQL's
//! documentation of `pg_authid` describes. Rows are found by those patterns; the role
//! name is the `name` column (64 bytes, NUL-padded) that starts each row a few bytes
//! earlier, after the row header.

use std::sync::OnceLock;

use base64::Engine;
use hmac::{Hmac, Mac};
use md5::Md5;
use regex::bytes::Regex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A role's stored password verifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PgSecret {
    /// The 32 hex digits after `md5`.
    Md5(String),
    /// A SCRAM-SHA-256 verifier: iterations, salt and StoredKey (base64).
    Scram {
        iterations: u32,
        salt: String,
        stored_key: String,
    },
}

/// One role with a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PgRole {
    pub name: Option<String>,
    pub secret: PgSecret,
}

impl PgSecret {
    /// The scheme's name for reports.
    pub fn scheme(&self) -> &'static str {
        match self {
            PgSecret::Md5(_) => "md5",
            PgSecret::Scram { .. } => "SCRAM-SHA-256",
        }
    }

    /// Whether `password` is the role's password.
    pub fn verify(&self, role: &str, password: &str) -> bool {
        match self {
            PgSecret::Md5(hex_digest) => {
                let mut h = Md5::new();
                h.update(password.as_bytes());
                h.update(role.as_bytes());
                hex::encode(h.finalize()) == *hex_digest
            }
            PgSecret::Scram {
                iterations,
                salt,
                stored_key,
            } => scram_stored_key(password, salt, *iterations).is_some_and(|k| k == *stored_key),
        }
    }
}

/// RFC 5802's StoredKey, H(HMAC(SaltedPassword, "Client Key")), base64. Candidates are
/// ASCII-only in practice, for which SASLprep is the identity.
fn scram_stored_key(password: &str, salt_b64: &str, iterations: u32) -> Option<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let salt = b64.decode(salt_b64).ok()?;
    let mut salted = [0u8; 32];
    pbkdf2::pbkdf2::<Hmac<Sha256>>(password.as_bytes(), &salt, iterations, &mut salted).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&salted).ok()?;
    mac.update(b"Client Key");
    let client_key = mac.finalize().into_bytes();
    Some(b64.encode(Sha256::digest(client_key)))
}

/// Iteration counts above this are not tried (a hostile file could ask for billions).
pub const MAX_ITERATIONS: u32 = 1 << 20;

fn role_before(data: &[u8], at: usize) -> Option<String> {
    static NAME: OnceLock<Regex> = OnceLock::new();
    let name = NAME.get_or_init(|| {
        Regex::new(r"(?-u)\x00([A-Za-z_][\x21-\x7e]{0,62})\x00{8}").expect("static regex")
    });
    let region = &data[at.saturating_sub(120)..at];
    let m = name.captures_iter(region).last()?;
    let n = m.get(1)?;
    std::str::from_utf8(n.as_bytes()).ok().map(str::to_string)
}

/// The roles with passwords in one `pg_authid` heap file.
pub fn parse(data: &[u8]) -> Vec<PgRole> {
    static SECRET: OnceLock<Regex> = OnceLock::new();
    let secret = SECRET.get_or_init(|| {
        Regex::new(
            r"(?-u)md5([0-9a-f]{32})|SCRAM-SHA-256\$([0-9]{1,10}):([A-Za-z0-9+/=]{4,64})\$([A-Za-z0-9+/=]{44}):[A-Za-z0-9+/=]{44}",
        )
        .expect("static regex")
    });
    let text = |m: Option<regex::bytes::Match<'_>>| {
        m.map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
    };
    let mut out = Vec::new();
    for c in secret.captures_iter(data) {
        let Some(whole) = c.get(0) else { continue };
        let secret = if let Some(hex) = text(c.get(1)) {
            PgSecret::Md5(hex)
        } else {
            let Some(iterations) = text(c.get(2)).and_then(|i| i.parse().ok()) else {
                continue;
            };
            if iterations == 0 || iterations > MAX_ITERATIONS {
                continue;
            }
            PgSecret::Scram {
                iterations,
                salt: text(c.get(3)).unwrap_or_default(),
                stored_key: text(c.get(4)).unwrap_or_default(),
            }
        };
        out.push(PgRole {
            name: role_before(data, whole.start()),
            secret,
        });
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `pg_authid` row laid out as PostgreSQL 15 writes it (row header, the 64-byte
    /// name, seven bools, rolconnlimit -1, then the password as a varlena).
    pub(crate) fn row(name: &str, password_field: &str) -> Vec<u8> {
        let mut r = vec![0u8; 16];
        r.extend([
            0x0f, 0x00, 0x0c, 0x00, 0x03, 0x08, 0x20, 0xff, 0x07, 0, 0, 0, 0, 0, 0, 0,
        ]);
        r.extend([0x05, 0x35, 0x00, 0x00]);
        let mut n = name.as_bytes().to_vec();
        n.resize(64, 0);
        r.extend(n);
        r.extend([1, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        let len = password_field.len() + 1;
        if len < 127 {
            r.push(u8::try_from(len << 1 | 1).unwrap_or(0));
        } else {
            r.extend(
                u32::try_from(len + 3)
                    .unwrap_or(0)
                    .wrapping_shl(2)
                    .to_le_bytes(),
            );
        }
        r.extend(password_field.as_bytes());
        r.extend([0xff, 0xff, 0xff, 0xff]);
        r
    }

    /// A SCRAM-SHA-256 verifier built the way PostgreSQL builds one.
    pub(crate) fn scram_verifier(password: &str, salt: &[u8], iterations: u32) -> String {
        let b64 = base64::engine::general_purpose::STANDARD;
        let salt_b64 = b64.encode(salt);
        let stored = scram_stored_key(password, &salt_b64, iterations).unwrap_or_default();
        // The ServerKey is not checked; any 32 bytes in base64 keep the format.
        format!(
            "SCRAM-SHA-256${iterations}:{salt_b64}${stored}:{}",
            b64.encode([7u8; 32])
        )
    }

    #[test]
    fn rfc7677_test_vector() {
        // RFC 7677's example credentials (password "pencil", this salt, 4096 iterations);
        // the StoredKey as Python's hashlib/hmac compute it.
        let stored = scram_stored_key("pencil", "W22ZaJ0SNY7soEsUEjb6gQ==", 4096).unwrap();
        assert_eq!(stored, "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=");
    }

    #[test]
    fn md5_and_scram_rows_with_their_roles() {
        let mut data = vec![0u8; 40];
        let md5_field = format!("md5{}", hex::encode(Md5::digest(b"app123app")));
        data.extend(row("app", &md5_field));
        data.extend(row(
            "report",
            &scram_verifier("Zr9!mK2#qP7xL4", b"0123456789abcdef", 4096),
        ));
        data.extend(row("pg_monitor", ""));
        let roles = parse(&data);
        assert_eq!(roles.len(), 2);
        assert_eq!(roles[0].name.as_deref(), Some("app"));
        assert!(roles[0].secret.verify("app", "app123"));
        assert!(!roles[0].secret.verify("app", "app124"));
        assert_eq!(roles[1].name.as_deref(), Some("report"));
        assert!(roles[1].secret.verify("report", "Zr9!mK2#qP7xL4"));
        assert!(!roles[1].secret.verify("report", "postgres"));
    }
}
