//! `mysql_native_password` hashes in a MySQL/MariaDB data directory.
//!
//! The hash is `*` and 40 upper-case hex digits: SHA1(SHA1(password)). It sits in the
//! `Password`/`authentication_string` column of `mysql/user.MYD` (MyISAM, MySQL 5 and
//! MariaDB before 10.4) or in the JSON of `mysql/global_priv.MAD`/`.MYD` (MariaDB 10.4+).
//! Rows are found by the hash pattern, not by decoding the storage engines' formats. The
//! account is read from what precedes it: in Aria's global_priv rows, Host and User are
//! stored back to back after their lengths (u16 each, little-endian, then the u32 length
//! of the JSON), as a data directory made by MariaDB 10.11 shows; in fixed-width MyISAM
//! rows the user is the last printable token before the hash.

use std::sync::OnceLock;

use regex::bytes::Regex;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

/// One account row found in a data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MysqlAccount {
    pub user: Option<String>,
    /// The Host column, when the row layout told it apart from the user.
    #[serde(default)]
    pub host: Option<String>,
    /// `*HEX`, or empty for an empty password.
    pub hash: String,
}

/// The native-password hash of a candidate.
pub fn native_hash(password: &str) -> String {
    let once = Sha1::digest(password.as_bytes());
    format!("*{}", hex::encode_upper(Sha1::digest(once)))
}

fn printable(b: u8) -> bool {
    (0x21..=0x7e).contains(&b)
}

fn u16_at(data: &[u8], at: usize) -> Option<usize> {
    let b = data.get(at..at + 2)?;
    Some(usize::from(u16::from_le_bytes([b[0], b[1]])))
}

/// Host and User stored back to back right before `end`, after their u16 lengths and
/// the u32 length of the next column (Aria's dynamic rows).
fn host_user_before(data: &[u8], end: usize) -> Option<(String, String)> {
    let lowest = end.saturating_sub(255 + 128);
    let mut start = end;
    while start > lowest && printable(data[start - 1]) {
        start -= 1;
        if start < 8 {
            continue;
        }
        let (Some(hl), Some(ul)) = (u16_at(data, start - 8), u16_at(data, start - 6)) else {
            continue;
        };
        if hl >= 1 && ul >= 1 && hl + ul == end - start {
            let host = std::str::from_utf8(&data[start..start + hl]).ok()?;
            let user = std::str::from_utf8(&data[start + hl..end]).ok()?;
            return Some((host.to_string(), user.to_string()));
        }
    }
    None
}

fn account_before(data: &[u8], at: usize) -> (Option<String>, Option<String>) {
    let from = at.saturating_sub(300);
    let region = &data[from..at];
    if let Some(json) = find_last(region, b"{\"access\"") {
        if let Some((host, user)) = host_user_before(data, from + json) {
            return (Some(user), Some(host));
        }
        return (last_token(&region[..json]), None);
    }
    (last_token(region), None)
}

fn last_token(region: &[u8]) -> Option<String> {
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
    static LOCKED: OnceLock<Regex> = OnceLock::new();
    let locked =
        LOCKED.get_or_init(|| Regex::new(r#""account_locked"\s*:\s*true"#).expect("static regex"));
    let mut out = Vec::new();
    for m in hash.find_iter(data) {
        let (user, host) = account_before(data, m.start());
        out.push(MysqlAccount {
            user,
            host,
            hash: String::from_utf8_lossy(m.as_bytes()).into_owned(),
        });
    }
    for c in empty.captures_iter(data) {
        let (Some(whole), Some(rest)) = (c.get(0), c.get(1)) else {
            continue;
        };
        // A locked account cannot log in, whatever its password.
        if locked.is_match(rest.as_bytes()) {
            continue;
        }
        let (user, host) = account_before(data, whole.start());
        out.push(MysqlAccount {
            user,
            host,
            hash: String::new(),
        });
    }
    // Aria and MyISAM keep old row versions in the file: report each account once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|a| seen.insert((a.user.clone(), a.host.clone(), a.hash.clone())));
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn known_native_hash() {
        // The documented example: PASSWORD('password') in MySQL 5.
        assert_eq!(
            native_hash("password"),
            "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"
        );
    }

    /// A global_priv row as Aria stores it (see the module comment).
    pub(crate) fn aria_row(host: &str, user: &str, json: &str) -> Vec<u8> {
        let len16 = |s: &str| u16::try_from(s.len()).unwrap_or(0).to_le_bytes();
        let mut r = vec![0x08, 0x00];
        r.extend(len16(host));
        r.extend(len16(user));
        r.extend(u32::try_from(json.len()).unwrap_or(0).to_le_bytes());
        r.extend(host.as_bytes());
        r.extend(user.as_bytes());
        r.extend(json.as_bytes());
        r
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
                host: None,
                hash: native_hash("root")
            }]
        );

        let native = |h: &str| {
            format!("{{\"access\": 0, \"plugin\": \"mysql_native_password\", \"authentication_string\": \"{h}\"}}")
        };
        let mut aria = vec![0u8; 32];
        aria.extend(aria_row("localhost", "admin", &native(&native_hash("x"))));
        aria.extend(aria_row("localhost", "mariadb.sys", r#"{"access":0,"plugin":"mysql_native_password","authentication_string":"","account_locked":true}"#));
        aria.extend(aria_row("%", "anon", &native("")));
        // An old version of the same row, as Aria leaves them.
        aria.extend(aria_row("%", "anon", &native("")));
        let a = parse(&aria);
        assert_eq!(a.len(), 2, "{a:?}");
        assert_eq!(a[0].user.as_deref(), Some("admin"));
        assert_eq!(a[0].host.as_deref(), Some("localhost"));
        assert_eq!(
            a[1],
            MysqlAccount {
                user: Some("anon".into()),
                host: Some("%".into()),
                hash: String::new()
            }
        );
    }
}
