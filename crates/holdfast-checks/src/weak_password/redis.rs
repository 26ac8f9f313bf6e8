//! `redis.conf`: whether clients must authenticate, and with what.
//!
//! Directives are `name value...`, one per line, later ones winning; values may be quoted.
//! Authentication is `requirepass` or ACL `user` lines with `>password`; without either,
//! `protected-mode` (on by default) refuses clients from other hosts.

use serde::{Deserialize, Serialize};

use super::secret::SecretDigest;

/// What the weak-password check needs from one redis.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedisConfig {
    /// The last `requirepass`, digested, with its line.
    pub requirepass: Option<(SecretDigest, u32)>,
    /// ACL users with passwords, or an ACL file, are configured.
    pub acl_auth: bool,
    pub protected_mode_off: bool,
    /// No `bind` (all interfaces) or a bind address other than loopback.
    pub listens_beyond_loopback: bool,
}

fn unquote(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

fn is_loopback(addr: &str) -> bool {
    let a = addr.trim_start_matches('-');
    a.starts_with("127.") || a == "::1" || a == "localhost"
}

/// Parses one redis.conf.
pub fn parse(text: &str) -> RedisConfig {
    let mut c = RedisConfig {
        requirepass: None,
        acl_auth: false,
        protected_mode_off: false,
        listens_beyond_loopback: true,
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (name, value) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        match name.to_ascii_lowercase().as_str() {
            "requirepass" => {
                let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
                let pw = unquote(value);
                c.requirepass = (!pw.is_empty()).then(|| (SecretDigest::of(pw), n));
            }
            "user"
                if value
                    .split_whitespace()
                    .any(|t| t.starts_with('>') || t.starts_with('#')) =>
            {
                c.acl_auth = true;
            }
            "aclfile" => c.acl_auth = true,
            "protected-mode" => c.protected_mode_off = unquote(value).eq_ignore_ascii_case("no"),
            "bind" => {
                c.listens_beyond_loopback = !value.split_whitespace().all(is_loopback);
            }
            _ => {}
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_debian_settings_are_loopback_and_protected() {
        let c = parse("bind 127.0.0.1 -::1\nprotected-mode yes\n# requirepass foobared\n");
        assert_eq!(c.requirepass, None);
        assert!(!c.listens_beyond_loopback && !c.protected_mode_off && !c.acl_auth);
    }

    #[test]
    fn last_requirepass_wins_and_is_only_kept_as_a_digest() {
        let c =
            parse("requirepass first\nrequirepass \"redis\"\nbind 0.0.0.0\nprotected-mode no\n");
        let (d, line) = c.requirepass.unwrap();
        assert_eq!(d, SecretDigest::of("redis"));
        assert_eq!(line, 2);
        assert!(c.listens_beyond_loopback && c.protected_mode_off);
        assert!(parse("user default on >s3cr3t-long ~* +@all\n").acl_auth);
        assert!(!parse("user default on nopass ~* +@all\n").acl_auth);
    }
}
