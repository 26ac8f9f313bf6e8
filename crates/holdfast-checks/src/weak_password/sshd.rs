//! `sshd_config` and its `Include`d files: the effective global settings.
//!
//! As `sshd_config(5)` says, the first value obtained for a keyword wins, `Include`
//! inserts the matching files (sorted) in place, and a `Match` block's settings apply
//! only to matching connections, so only what comes before the first `Match` is global.

use serde::{Deserialize, Serialize};

/// The global settings of one sshd config file, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshdFile {
    /// (keyword lower-cased, value, line).
    pub settings: Vec<(String, String, u32)>,
}

/// Parses one file: comments and `Match` blocks are dropped.
pub fn parse(text: &str) -> SshdFile {
    let mut settings = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line
            .split_once(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or((line, ""));
        let k = k.to_ascii_lowercase();
        if k == "match" {
            break;
        }
        let v = v.trim().trim_start_matches('=').trim();
        settings.push((k, v.to_string(), u32::try_from(i + 1).unwrap_or(u32::MAX)));
    }
    SshdFile { settings }
}

/// Whether `path` matches a glob of `Include` (`*` and `?` within one path component).
pub fn glob_match(pattern: &str, path: &str) -> bool {
    fn m(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => m(&p[1..], s) || (!s.is_empty() && s[0] != b'/' && m(p, &s[1..])),
            (Some(b'?'), Some(c)) if *c != b'/' => m(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => m(&p[1..], &s[1..]),
            _ => false,
        }
    }
    m(pattern.as_bytes(), path.as_bytes())
}

/// Effective first-wins values: `files` maps a path to its parsed file; `root` is the
/// main config. Include depth is bounded, as sshd bounds it.
pub fn effective(
    root: &str,
    files: &dyn Fn(&str) -> Option<SshdFile>,
    all_paths: &[String],
) -> Vec<(String, String, String, u32)> {
    let mut out: Vec<(String, String, String, u32)> = Vec::new();
    walk(root, files, all_paths, 0, &mut out);
    out
}

fn walk(
    path: &str,
    files: &dyn Fn(&str) -> Option<SshdFile>,
    all_paths: &[String],
    depth: usize,
    out: &mut Vec<(String, String, String, u32)>,
) {
    if depth > 16 {
        return;
    }
    let Some(f) = files(path) else { return };
    for (k, v, line) in f.settings {
        if k == "include" {
            for pat in v.split_whitespace() {
                let pat = if pat.starts_with('/') {
                    pat.to_string()
                } else {
                    format!("/etc/ssh/{pat}")
                };
                let mut matched: Vec<&String> =
                    all_paths.iter().filter(|p| glob_match(&pat, p)).collect();
                matched.sort();
                for p in matched {
                    walk(p, files, all_paths, depth + 1, out);
                }
            }
        } else if !out.iter().any(|(seen, ..)| *seen == k) {
            out.push((k, v, path.to_string(), line));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_value_wins_through_includes_and_match_is_not_global() {
        let main = parse(
            "Include /etc/ssh/sshd_config.d/*.conf\n\
             PermitRootLogin yes\n\
             PasswordAuthentication yes\n\
             Match User bob\n  PermitEmptyPasswords yes\n",
        );
        let inc = parse("PasswordAuthentication no\n");
        let paths = vec![
            "/etc/ssh/sshd_config".to_string(),
            "/etc/ssh/sshd_config.d/50-cloud.conf".to_string(),
            "/etc/ssh/sshd_config.d/notes.txt".to_string(),
        ];
        let get = |p: &str| match p {
            "/etc/ssh/sshd_config" => Some(main.clone()),
            "/etc/ssh/sshd_config.d/50-cloud.conf" => Some(inc.clone()),
            _ => None,
        };
        let e = effective("/etc/ssh/sshd_config", &get, &paths);
        let v = |k: &str| e.iter().find(|x| x.0 == k).map(|x| x.1.as_str());
        assert_eq!(v("passwordauthentication"), Some("no"));
        assert_eq!(v("permitrootlogin"), Some("yes"));
        assert_eq!(v("permitemptypasswords"), None);
        assert!(glob_match("/a/*.conf", "/a/x.conf"));
        assert!(!glob_match("/a/*.conf", "/a/b/x.conf"));
    }
}
