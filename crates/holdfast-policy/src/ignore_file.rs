//! `.holdfastignore`: one rule per line, `ID [exp:YYYY-MM-DD] [pkg:NAME] [path:PREFIX]`,
//! `#` starts a comment. A rule matches a finding whose id or one of its aliases is ID,
//! within the optional package and path scope, until the expiry date has passed (the rule
//! still applies on that day).

use holdfast_model::Finding;

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreRule {
    pub id: String,
    pub expires: Option<time::Date>,
    pub package: Option<String>,
    pub path_prefix: Option<String>,
    /// 1-based line in the file, for reports.
    pub line: usize,
}

/// A parsed ignore file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IgnoreFile {
    pub rules: Vec<IgnoreRule>,
}

/// A line that is not a rule.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ParseError {
    pub line: usize,
    pub reason: String,
}

impl IgnoreFile {
    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<IgnoreFile, ParseError> {
        let date_format = time::macros::format_description!("[year]-[month]-[day]");
        let mut rules = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let mut words = line.split_whitespace();
            let id = words.next().unwrap_or_default().to_string();
            let mut rule = IgnoreRule {
                id,
                expires: None,
                package: None,
                path_prefix: None,
                line: i + 1,
            };
            for w in words {
                let err = |reason: String| ParseError {
                    line: i + 1,
                    reason,
                };
                if let Some(d) = w.strip_prefix("exp:") {
                    rule.expires = Some(
                        time::Date::parse(d, &date_format)
                            .map_err(|e| err(format!("`{d}` is not a date (YYYY-MM-DD): {e}")))?,
                    );
                } else if let Some(p) = w.strip_prefix("pkg:") {
                    rule.package = Some(p.to_string());
                } else if let Some(p) = w.strip_prefix("path:") {
                    rule.path_prefix = Some(p.to_string());
                } else {
                    return Err(err(format!(
                        "unknown word `{w}`; expected exp:YYYY-MM-DD, pkg:NAME or path:PREFIX"
                    )));
                }
            }
            rules.push(rule);
        }
        Ok(IgnoreFile { rules })
    }

    /// The first rule that suppresses `f` on `today` (no date: expiry is not checked).
    pub fn matching_rule(&self, f: &Finding, today: Option<time::Date>) -> Option<&IgnoreRule> {
        self.rules.iter().find(|r| {
            let id_hit = r.id == f.id || f.aliases.contains(&r.id);
            let live = match (r.expires, today) {
                (Some(exp), Some(t)) => t <= exp,
                _ => true,
            };
            let pkg_ok = r
                .package
                .as_deref()
                .is_none_or(|p| f.package.as_deref() == Some(p));
            let path_ok = r
                .path_prefix
                .as_deref()
                .is_none_or(|p| f.path.as_deref().is_some_and(|fp| fp.starts_with(p)));
            id_hit && live && pkg_ok && path_ok
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_the_line() {
        let e = IgnoreFile::parse("CVE-1\nCVE-2 exp:tomorrow\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(IgnoreFile::parse("CVE-1 bogus").is_err());
        let f =
            IgnoreFile::parse("  # only a comment\n\nCVE-9 pkg:zlib path:/usr # why\n").unwrap();
        assert_eq!(f.rules[0].package.as_deref(), Some("zlib"));
        assert_eq!(f.rules[0].line, 3);
    }
}
