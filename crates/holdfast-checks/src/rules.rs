//! What the rule tables of the checkers share: the text of a finding as the table writes
//! it, and small path, mode and text functions.

use holdfast_model::{Finding, FindingKind, Severity};
use serde::Deserialize;

/// The words of one rule: its stable id, how bad, and what to tell the reader.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RuleText {
    pub id: String,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub remediation: String,
}

impl RuleText {
    /// A finding of `kind` carrying this rule's words, the title as written.
    pub fn finding(&self, kind: FindingKind) -> Finding {
        let mut f = Finding::new(kind, &self.id, self.severity, &self.title);
        f.description = self.description.clone();
        f.remediation = Some(self.remediation.clone());
        f
    }
}

/// Parses an embedded rule table. The tables are part of the binary and covered by
/// tests, so a parse failure is a build defect, not an input error.
pub(crate) fn embedded<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> T {
    match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => panic!("embedded rule table {name} does not parse: {e}"),
    }
}

/// The last component and the parent directory of an absolute image path (`/` for
/// top-level entries and for `/`), as every holdfast crate answers them.
pub(crate) use holdfast_model::path::{file_name, parent};

/// `4755 uid=0 gid=0`: the permission bits in octal and the owner.
pub(crate) fn mode_owner(mode: u32, uid: u64, gid: u64) -> String {
    format!("{:04o} uid={uid} gid={gid}", mode & 0o7777)
}

/// Whether `path` is `prefix` or below it.
pub(crate) fn under(path: &str, prefix: &str) -> bool {
    prefix == "/"
        || path == prefix
        || (path.starts_with(prefix) && path.as_bytes().get(prefix.len()) == Some(&b'/'))
}

/// The longest start of `s` of at most `max` bytes that ends on a character boundary.
pub(crate) fn prefix(s: &str, max: usize) -> &str {
    &s[..s.floor_char_boundary(max)]
}

/// Cuts `s` to at most `max` bytes on a character boundary, marking the cut.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    format!("{}…", prefix(s, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_functions() {
        assert_eq!(file_name("/usr/bin/su"), "su");
        assert_eq!(parent("/usr/bin/su"), "/usr/bin");
        assert_eq!(parent("/su"), "/");
        assert!(under("/etc/x", "/etc"));
        assert!(under("/etc", "/etc"));
        assert!(!under("/etcetera", "/etc"));
        assert_eq!(mode_owner(0o104755, 0, 0), "4755 uid=0 gid=0");
        assert_eq!(clip("abcdef", 3), "abc…");
    }
}
