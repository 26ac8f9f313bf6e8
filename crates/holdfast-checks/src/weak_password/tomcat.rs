//! `tomcat-users.xml`: the `<user>` elements of Tomcat's memory realm.
//!
//! Only one element type and three attributes matter, so a small scanner over the text
//! (comments removed first: Debian ships every user commented out) is enough and avoids an
//! XML parser for one file.

use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::secret::SecretDigest;

/// One `<user>` element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TomcatUser {
    pub name: String,
    pub password: Option<SecretDigest>,
    /// The attribute looks like a hex digest rather than a password.
    pub looks_digested: bool,
    pub roles: String,
    pub line: u32,
}

fn strip_comments(text: &str) -> String {
    // Comments are replaced by as many newlines as they held, to keep line numbers.
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after.find("-->").map_or(after.len(), |e| e + 3);
        out.extend(after[..end].chars().filter(|c| *c == '\n'));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn unescape(v: &str) -> String {
    v.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Whether a password attribute holds what Tomcat's `digest.sh` writes: hex, or
/// `salt$iterations$hex` for salted and iterated digests.
fn looks_like_digest(p: &str) -> bool {
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    let parts: Vec<&str> = p.split('$').collect();
    match parts.as_slice() {
        [h] => matches!(h.len(), 32 | 40 | 64 | 128) && hex(h),
        [salt, iterations, h] => {
            hex(salt)
                && !iterations.is_empty()
                && iterations.bytes().all(|b| b.is_ascii_digit())
                && hex(h)
        }
        _ => false,
    }
}

/// The users of one tomcat-users.xml.
pub fn parse(text: &str) -> Vec<TomcatUser> {
    static USER: OnceLock<Regex> = OnceLock::new();
    static ATTR: OnceLock<Regex> = OnceLock::new();
    let user = USER.get_or_init(|| Regex::new(r"<user\s([^>]*)>").expect("static regex"));
    let attr = ATTR.get_or_init(|| {
        Regex::new(r#"([A-Za-z]+)\s*=\s*(?:"([^"]*)"|'([^']*)')"#).expect("static regex")
    });
    let text = strip_comments(text);
    let mut out = Vec::new();
    for m in user.captures_iter(&text) {
        let Some(whole) = m.get(0) else { continue };
        let line = text[..whole.start()].matches('\n').count() + 1;
        let (mut name, mut password, mut roles) = (None, None, String::new());
        for a in attr.captures_iter(&m[1]) {
            let v = unescape(a.get(2).or(a.get(3)).map_or("", |v| v.as_str()));
            match &a[1] {
                "username" | "name" => name = Some(v),
                "password" => password = Some(v),
                "roles" => roles = v,
                _ => {}
            }
        }
        let Some(name) = name else { continue };
        let looks_digested = password.as_deref().is_some_and(looks_like_digest);
        out.push(TomcatUser {
            name,
            password: password.as_deref().map(SecretDigest::of),
            looks_digested,
            roles,
            line: u32::try_from(line).unwrap_or(u32::MAX),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commented_users_are_ignored_and_lines_kept() {
        let xml = "<?xml version='1.0' encoding='utf-8'?>\n<tomcat-users>\n<!--\n  <user username=\"admin\" password=\"<must-be-changed>\" roles=\"manager-gui\"/>\n-->\n  <user username=\"tomcat\" password=\"tomcat\" roles=\"manager-gui,admin-gui\"/>\n  <user name='ops' password='5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8' roles='manager-script'/>\n</tomcat-users>\n";
        let u = parse(xml);
        assert_eq!(u.len(), 2);
        assert_eq!(u[0].name, "tomcat");
        assert_eq!(u[0].line, 6);
        assert_eq!(u[0].password, Some(SecretDigest::of("tomcat")));
        assert!(!u[0].looks_digested);
        assert!(u[1].looks_digested);
    }
}
