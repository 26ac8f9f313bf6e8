//! `/etc/passwd` and `/etc/shadow` lines, as `shadow(5)` and `passwd(5)` define them.
//!
//! Both are colon-separated; a malformed line is skipped, not fatal, because an image may
//! hold anything. Also used by the backdoor checker (service accounts, shells).

use serde::{Deserialize, Serialize};

/// One `/etc/passwd` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswdEntry {
    pub name: String,
    /// The second field: `x` (look in shadow), a hash, empty, or a lock.
    pub password: String,
    pub uid: u32,
    pub home: String,
    pub shell: String,
    /// 1-based line number.
    pub line: u32,
}

/// One `/etc/shadow` entry (the fields the checks use).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowEntry {
    pub name: String,
    /// The encrypted password field: a hash, empty, or `*`/`!`-prefixed locks.
    pub password: String,
    /// 1-based line number.
    pub line: u32,
}

fn numbered_lines(text: &str) -> impl Iterator<Item = (u32, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (u32::try_from(i + 1).unwrap_or(u32::MAX), l))
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
}

/// Parses `/etc/passwd`; lines without seven fields or a numeric uid are skipped.
pub fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    numbered_lines(text)
        .filter_map(|(line, l)| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() != 7 || f[0].is_empty() {
                return None;
            }
            Some(PasswdEntry {
                name: f[0].to_string(),
                password: f[1].to_string(),
                uid: f[2].parse().ok()?,
                home: f[5].to_string(),
                shell: f[6].to_string(),
                line,
            })
        })
        .collect()
}

/// Parses `/etc/shadow`; lines with fewer than two fields are skipped.
pub fn parse_shadow(text: &str) -> Vec<ShadowEntry> {
    numbered_lines(text)
        .filter_map(|(line, l)| {
            let mut f = l.split(':');
            let name = f.next().filter(|n| !n.is_empty())?;
            let password = f.next()?;
            Some(ShadowEntry {
                name: name.to_string(),
                password: password.to_string(),
                line,
            })
        })
        .collect()
}

/// Whether a shell lets nobody log in (`nologin`, `false`, empty is *not* one: it means
/// `/bin/sh`).
pub fn is_nologin_shell(shell: &str) -> bool {
    let base = shell.rsplit('/').next().unwrap_or(shell);
    matches!(base, "nologin" | "false" | "sync" | "halt" | "shutdown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_debian_lines_and_skips_garbage() {
        let p = parse_passwd(
            "root:x:0:0:root:/root:/bin/bash\n\
             daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
             broken:x:notanumber:0::/:/bin/sh\n\
             short:x:0\n\
             \n\
             toor::0:0::/root:/bin/sh\n",
        );
        assert_eq!(p.len(), 3);
        assert_eq!(p[2].name, "toor");
        assert_eq!(p[2].password, "");
        assert_eq!(p[2].line, 6);
        assert!(is_nologin_shell(&p[1].shell));
        assert!(!is_nologin_shell(&p[0].shell));

        let s = parse_shadow("root:*:19000:0:99999:7:::\nalice:$y$j9T$a$b:19000::::::\n:x\nbad\n");
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].password, "$y$j9T$a$b");
    }
}
