//! A line reader for the block-style YAML that lockfiles are written in (`pnpm-lock.yaml`,
//! yarn berry's `yarn.lock`), and for yarn v1's own `key value` syntax, which has the same
//! shape.
//!
//! It is not a YAML parser: it sees each `key: value` or `key:` line with the keys of the
//! mappings that enclose it (by indentation), which is all the lockfile readers need. What
//! these files never hold is skipped rather than understood: sequence items (`- x`), and
//! lines more indented than a key that already has a value (block scalars, continued
//! scalars, flow collections spread over several lines). Work is linear in the text and the
//! nesting kept is bounded by [`MAX_DEPTH`].

use std::borrow::Cow;

/// Deepest nesting of mappings followed; lines below it are skipped. Lockfiles use four.
pub(crate) const MAX_DEPTH: usize = 16;

/// What the reader reports.
pub(crate) enum Event<'s, 'a> {
    /// A `---` document marker: what came before belongs to another document.
    Document,
    /// A mapping line.
    Entry {
        /// The keys of the enclosing mappings, outermost first.
        ancestors: &'s [Cow<'a, str>],
        /// The key, unquoted.
        key: &'s str,
        /// The value, unquoted; `None` when a nested mapping follows.
        value: Option<&'s str>,
    },
}

/// Reads `text` line by line, calling `f` for each mapping line and document marker.
/// Returns the number of lines that were neither (unreadable).
pub(crate) fn walk<'a>(text: &'a str, mut f: impl FnMut(Event<'_, 'a>)) -> usize {
    let mut indents: Vec<usize> = Vec::new();
    let mut keys: Vec<Cow<'a, str>> = Vec::new();
    // Lines more indented than this belong to a scalar value, not to a mapping.
    let mut skip_deeper: Option<usize> = None;
    let mut unreadable = 0usize;
    for raw in text.lines() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let content = line.trim_start_matches([' ', '\t']);
        let indent = line.len() - content.len();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if let Some(d) = skip_deeper {
            if indent > d {
                continue;
            }
            skip_deeper = None;
        }
        if indent == 0 && (content == "---" || content.starts_with("--- ") || content == "...") {
            indents.clear();
            keys.clear();
            f(Event::Document);
            continue;
        }
        if content == "-" || content.starts_with("- ") {
            // Sequence items: nothing the lockfile readers need lives in one.
            skip_deeper = Some(indent);
            continue;
        }
        let Some((key, value)) = split_line(content) else {
            unreadable += 1;
            skip_deeper = Some(indent);
            continue;
        };
        while indents.last().is_some_and(|&i| i >= indent) {
            indents.pop();
            keys.pop();
        }
        if indents.len() >= MAX_DEPTH {
            skip_deeper = Some(indent);
            continue;
        }
        let key = unquote(key);
        let value = value.map(unquote);
        f(Event::Entry {
            ancestors: &keys,
            key: &key,
            value: value.as_deref(),
        });
        if value.is_some() {
            skip_deeper = Some(indent);
        } else {
            indents.push(indent);
            keys.push(key);
        }
    }
    unreadable
}

/// Splits a line (without its indentation) into key and value: at the first `:` outside
/// quotes that ends the line or is followed by a space (YAML), else at the first space
/// outside quotes (yarn v1's `version "1.0.0"`). A line that is neither is unreadable.
fn split_line(content: &str) -> Option<(&str, Option<&str>)> {
    let bytes = content.as_bytes();
    let mut quote: Option<u8> = None;
    let mut first_space: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' && q == b'"' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'"' | b'\'' => quote = Some(b),
                b':' if i + 1 == bytes.len() || bytes[i + 1] == b' ' => {
                    let key = content[..i].trim_end();
                    let value = strip_comment(content[i + 1..].trim());
                    if key.is_empty() {
                        return None;
                    }
                    return Some((key, (!value.is_empty()).then_some(value)));
                }
                b' ' if first_space.is_none() => first_space = Some(i),
                _ => {}
            },
        }
        i += 1;
    }
    let at = first_space?;
    let key = &content[..at];
    let value = strip_comment(content[at + 1..].trim());
    Some((key, (!value.is_empty()).then_some(value)))
}

/// Drops a ` # comment` after a plain (unquoted) value.
fn strip_comment(value: &str) -> &str {
    if value.starts_with(['"', '\'']) {
        return value;
    }
    match value.find(" #") {
        Some(i) => value[..i].trim_end(),
        None => value,
    }
}

/// Removes YAML quotes from a scalar that is one quoted string: `'it''s'` → `it's`,
/// `"a\"b"` → `a"b`. Anything else comes back as it is.
pub(crate) fn unquote(s: &str) -> Cow<'_, str> {
    let b = s.as_bytes();
    if b.len() < 2 {
        return Cow::Borrowed(s);
    }
    match (b[0], b[b.len() - 1]) {
        (b'\'', b'\'') => {
            let inner = &s[1..s.len() - 1];
            // A lone quote inside means this is not one single-quoted scalar.
            if inner.replace("''", "").contains('\'') {
                return Cow::Borrowed(s);
            }
            if inner.contains("''") {
                Cow::Owned(inner.replace("''", "'"))
            } else {
                Cow::Borrowed(inner)
            }
        }
        (b'"', b'"') => {
            let inner = &s[1..s.len() - 1];
            if !inner.contains(['\\', '"']) {
                return Cow::Borrowed(inner);
            }
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match c {
                    '"' => return Cow::Borrowed(s),
                    '\\' => match chars.next() {
                        Some('n') => out.push('\n'),
                        Some('t') => out.push('\t'),
                        Some('u') => {
                            let hex: String = chars.by_ref().take(4).collect();
                            match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                                Some(c) => out.push(c),
                                None => out.push('\u{fffd}'),
                            }
                        }
                        Some(other) => out.push(other),
                        None => {}
                    },
                    c => out.push(c),
                }
            }
            Cow::Owned(out)
        }
        _ => Cow::Borrowed(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(text: &str) -> (Vec<(String, String, Option<String>)>, usize) {
        let mut out = Vec::new();
        let bad = walk(text, |e| match e {
            Event::Document => out.push(("---".into(), String::new(), None)),
            Event::Entry {
                ancestors,
                key,
                value,
            } => out.push((
                ancestors.join("/"),
                key.to_string(),
                value.map(str::to_string),
            )),
        });
        (out, bad)
    }

    #[test]
    fn nesting_quotes_and_yarn_v1_lines() {
        let text = "lockfileVersion: '9.0'\n\npackages:\n\n  '@babel/core@7.0.0':\n    resolution: {integrity: sha512-x}\n    engines: {node: '>=6'}\n\n  express@4.16.0:\n    dev: false\n    cpu:\n      - x64\n    description: |\n      multi: line\n        text\n    version: 4.16.0\n\"a@^1\", \"a@^1.1\":\n  version \"1.1.0\"\n  dependencies:\n    \"@b/c\" \"^2\"\n";
        let (got, bad) = collect(text);
        assert_eq!(bad, 0);
        let want: Vec<(&str, &str, Option<&str>)> = vec![
            ("", "lockfileVersion", Some("9.0")),
            ("", "packages", None),
            ("packages", "@babel/core@7.0.0", None),
            (
                "packages/@babel/core@7.0.0",
                "resolution",
                Some("{integrity: sha512-x}"),
            ),
            (
                "packages/@babel/core@7.0.0",
                "engines",
                Some("{node: '>=6'}"),
            ),
            ("packages", "express@4.16.0", None),
            ("packages/express@4.16.0", "dev", Some("false")),
            ("packages/express@4.16.0", "cpu", None),
            ("packages/express@4.16.0", "description", Some("|")),
            ("packages/express@4.16.0", "version", Some("4.16.0")),
            ("", "\"a@^1\", \"a@^1.1\"", None),
            ("\"a@^1\", \"a@^1.1\"", "version", Some("1.1.0")),
            ("\"a@^1\", \"a@^1.1\"", "dependencies", None),
            ("\"a@^1\", \"a@^1.1\"/dependencies", "@b/c", Some("^2")),
        ];
        let got: Vec<(&str, &str, Option<&str>)> = got
            .iter()
            .map(|(a, k, v)| (a.as_str(), k.as_str(), v.as_deref()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn unquoting() {
        assert_eq!(unquote("'it''s'"), "it's");
        assert_eq!(unquote("\"a\\\"b\\u0041\""), "a\"bA");
        assert_eq!(unquote("\"a\", \"b\""), "\"a\", \"b\"");
        assert_eq!(unquote("'a', 'b'"), "'a', 'b'");
        assert_eq!(unquote("plain"), "plain");
        assert_eq!(unquote("\""), "\"");
    }

    #[test]
    fn urls_in_keys_and_documents_and_depth() {
        let (got, _) = collect("---\nfoo@https://x.test/a.tgz:\n  version: 1.0.0\n");
        assert_eq!(got[0].0, "---");
        assert_eq!(got[1].1, "foo@https://x.test/a.tgz");
        let mut deep = String::new();
        for i in 0..100 {
            deep.push_str(&" ".repeat(i));
            deep.push_str("k:\n");
        }
        let (got, _) = collect(&deep);
        assert_eq!(got.len(), MAX_DEPTH);
    }

    #[test]
    fn garbage_is_counted_not_fatal() {
        let junk: String = (0..5000u32)
            .map(|i| char::from_u32((i * 7919) % 0x2FFF).unwrap_or('x'))
            .collect();
        let _ = collect(&junk);
        let (_, bad) = collect("justoneword\n");
        assert_eq!(bad, 1);
    }
}
