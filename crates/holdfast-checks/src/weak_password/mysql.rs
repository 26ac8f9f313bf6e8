//! `mysql_native_password` hashes in a MySQL/MariaDB data directory.
//!
//! The hash is `*` and 40 upper-case hex digits: SHA1(SHA1(password)). It sits in the
//! `Password`/`authentication_string` column of `mysql/user.MYD` (MyISAM, MySQL 5 and
//! MariaDB before 10.4) or in the JSON of `mysql/global_priv.MAD`/`.MYD` (MariaDB 10.4+).
//! Rows are found by the hash pattern, not by decoding the storage engines' formats; the
//! account name is the printable token stored just before the hash (fixed-width MyISAM
//! rows) or before the JSON (global_priv), which is how both engines lay the row out.

use std::sync::OnceLock;

use regex::bytes::Regex;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

/// One account row found in a data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MysqlAccount {
    pub user: Option<String>,
    /// `*HEX`, or empty for an empty password.
    pub hash: String,
}

/// The native-password hash of a candidate.
pub fn native_hash(password: &str) -> String {
    let once = Sha1::digest(password.as_bytes());
    format!("*{}", hex::encode_upper(Sha1::digest(once)))
}

fn user_before(data: &[u8], at: usize) -> Option<String> {
    let from = at.saturating_sub(300);
    let mut region = &data[from..at];
    if let Some(json) = find_last(region, b"{\"access\"") {
        region = &region[..json];
    }
    let token = region
        .split(|b| !(0x21..=0x7e).contains(b))
        .rfind(|t| !t.is_empty())?;
    let token = std::str::from_utf8(token).ok()?;
    let ok = token.len() <= 80
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-@%".contains(&b));
    ok.then(|| token.to_string())
}

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// The accounts of one data file.
pub fn parse(data: &[u8]) -> Vec<MysqlAccount> {
    static HASH: OnceLock<Regex> = OnceLock::new();
    static EMPTY: OnceLock<Regex> = OnceLock::new();
    let hash = HASH.get_or_init(|| Regex::new(r"\*[0-9A-F]{40}").expect("static regex"));
    let empty = EMPTY.get_or_init(|| {
        Regex::new(
            r#""plugin"\s*:\s*"mysql_native_password"\s*,\s*"authentication_string"\s*:\s*""([^}]*)"#,
        )
        .expect("static regex")
    });
    let mut out = Vec::new();
    for m in hash.find_iter(data) {
        out.push(MysqlAccount {
            user: user_before(data, m.start()),
            hash: String::from_utf8_lossy(m.as_bytes()).into_owned(),
        });
    }
    for c in empty.captures_iter(data) {
        let (Some(whole), Some(rest)) = (c.get(0), c.get(1)) else {
            continue;
        };
        // A locked account cannot log in, whatever its password.
        if find_last(rest.as_bytes(), b"\"account_locked\":true").is_some() {
            continue;
        }
        out.push(MysqlAccount {
            user: user_before(data, whole.start()),
            hash: String::new(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_native_hash() {
        // The documented example: PASSWORD('password') in MySQL 5.
        assert_eq!(
            native_hash("password"),
            "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"
        );
    }

    #[test]
    fn finds_fixed_width_and_global_priv_rows() {
        let mut myd = b"\xfe\x00localhost                                                   root                            ".to_vec();
        myd.extend(native_hash("root").as_bytes());
        myd.extend(b"YYYYN\x00\x00");
        let a = parse(&myd);
        assert_eq!(
            a,
            vec![MysqlAccount {
                user: Some("root".into()),
                hash: native_hash("root")
            }]
        );

        let mut aria = b"\x00\x09localhost\x05admin\x8a\x01".to_vec();
        aria.extend(format!("{{\"access\":0,\"plugin\":\"mysql_native_password\",\"authentication_string\":\"{}\"}}", native_hash("x")).as_bytes());
        aria.extend(b"\x00\x09localhost\x0bmariadb.sys\x55\x00{\"access\":0,\"plugin\":\"mysql_native_password\",\"authentication_string\":\"\",\"account_locked\":true}");
        aria.extend(b"\x00\x01%\x04anon\x90\x00{\"access\":0,\"plugin\":\"mysql_native_password\",\"authentication_string\":\"\"}");
        let a = parse(&aria);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].user.as_deref(), Some("admin"));
        assert_eq!(
            a[1],
            MysqlAccount {
                user: Some("anon".into()),
                hash: String::new()
            }
        );
    }
}
