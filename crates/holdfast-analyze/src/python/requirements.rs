//! pip requirements files (`requirements*.txt`), read per pip's "Requirements File
//! Format": one requirement per line, `\` at the end of a line continues it, `#` at the
//! start of a line or after whitespace starts a comment, lines starting with `-` are
//! options. Only pinned requirements (`name==version`, `name===version`) name a version;
//! everything else is skipped without a warning, since it is not an error.
//!
//! `-r other.txt` and `-c constraints.txt` are not followed: every `requirements*.txt` in
//! the tree is read on its own.

use crate::analyzer::FileFact;
use crate::catalog::{shorten, Catalog, Eco};

use super::valid_name;

/// Parses a requirements file into its pinned packages.
pub(super) fn parse(text: &str, path: &str) -> Vec<FileFact> {
    let mut cat = Catalog::new(Eco::Python, path);
    let mut logical = String::new();
    for raw in text.lines() {
        let line = strip_comment(raw.strip_suffix('\r').unwrap_or(raw));
        match line.strip_suffix('\\') {
            Some(head) => {
                logical.push_str(head);
                logical.push(' ');
            }
            None => {
                logical.push_str(line);
                requirement(&logical, &mut cat);
                logical.clear();
            }
        }
    }
    if !logical.is_empty() {
        requirement(&logical, &mut cat);
    }
    cat.into_facts()
}

/// Removes a comment: `#` at the start of the line or after whitespace.
fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'#' && (i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t') {
            return &line[..i];
        }
    }
    line
}

/// Reads one logical line; adds it when it pins a version.
pub(super) fn requirement(line: &str, cat: &mut Catalog<'_>) {
    let line = line.trim();
    // Options (`-r`, `-c`, `-e`, `-i`, `--hash`, ...) and empty lines.
    if line.is_empty() || line.starts_with('-') {
        return;
    }
    // Per-requirement options follow the requirement after whitespace: `--hash=...`.
    let line = match line.find(" --").or_else(|| line.find("\t--")) {
        Some(i) => &line[..i],
        None => line,
    };
    // Environment markers (PEP 508) follow `;`; they do not change the pinned version.
    let line = line.split(';').next().unwrap_or("").trim();
    // Direct references (`name @ https://...`) and paths or URLs name no version.
    if line.contains('@') || line.contains("://") {
        return;
    }
    let Some((spec, version)) = line.split_once("==") else {
        return;
    };
    // `===` is arbitrary equality: still one exact version.
    let version = version.strip_prefix('=').unwrap_or(version).trim();
    if version.is_empty()
        || version.contains(|c: char| {
            c.is_whitespace() || matches!(c, ',' | '<' | '>' | '~' | '=' | '*' | '$')
        })
    {
        // Not one version: `==1.*`, `==1.0,<2`, `==${VERSION}`.
        return;
    }
    // Extras (`name[security]`) do not change the distribution.
    let name = match spec.split_once('[') {
        Some((n, _)) => n,
        None => spec,
    }
    .trim();
    if !valid_name(name) {
        cat.invalid(format!("`{}`", shorten(line, 80)));
        return;
    }
    cat.add(name, version, None);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pins(text: &str) -> (Vec<(String, String, String)>, Vec<FileFact>) {
        let mut facts = parse(text, "/app/requirements.txt");
        let FileFact::Packages(p) = facts.remove(0) else {
            panic!("packages")
        };
        (
            p.into_iter().map(|p| (p.name, p.version, p.purl)).collect(),
            facts,
        )
    }

    #[test]
    fn pinned_lines_only() {
        let text = "# comment\n-r base.txt\n-e git+https://x.test/r.git#egg=r\n--index-url https://pypi.test/simple\nDjango==3.2.0  # via -r in\nrequests[security,socks] == 2.19.1 ; python_version < \"3\"\nPyYAML==5.3 \\\n    --hash=sha256:aaa \\\n    --hash=sha256:bbb\nurllib3===1.24.1\nflask>=1.0\nsix\nfoo==1.*\nbar==1.0,<2\npkg @ https://x.test/pkg-1.0.tar.gz\nzope.interface==5.4.0\nepoch==1!2.0\n./local/dir\nbad!name==1.0\nlast==2.0 \\";
        let (got, warnings) = pins(text);
        let want = [
            ("Django", "3.2.0", "pkg:pypi/django@3.2.0"),
            ("requests", "2.19.1", "pkg:pypi/requests@2.19.1"),
            ("PyYAML", "5.3", "pkg:pypi/pyyaml@5.3"),
            ("urllib3", "1.24.1", "pkg:pypi/urllib3@1.24.1"),
            ("zope.interface", "5.4.0", "pkg:pypi/zope-interface@5.4.0"),
            ("epoch", "1!2.0", "pkg:pypi/epoch@1%212.0"),
            ("last", "2.0", "pkg:pypi/last@2.0"),
        ];
        let got: Vec<(&str, &str, &str)> = got
            .iter()
            .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn comment_needs_whitespace_before_it() {
        assert_eq!(strip_comment("a==1#b"), "a==1#b");
        assert_eq!(strip_comment("a==1 #b"), "a==1 ");
        assert_eq!(strip_comment("#x"), "");
    }
}
