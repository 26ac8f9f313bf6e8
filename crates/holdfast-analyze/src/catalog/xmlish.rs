//! A small reader of the XML that Maven writes (`pom.xml`): elements, their text, and
//! nothing else.
//!
//! Enough for the project model's element values, not a conforming parser: attributes,
//! processing instructions, comments, doctype declarations and namespaces prefixes are
//! skipped, CDATA sections are text, and the five predefined entities and numeric
//! character references are decoded. Work is linear in the input, and nesting is bounded
//! by [`MAX_DEPTH`]: deeper elements are still read, but only their path's first levels
//! are kept.

use std::borrow::Cow;

/// Element nesting kept on the path; deeper elements are reported as malformed input.
pub(crate) const MAX_DEPTH: usize = 64;

/// Why a document could not be read to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmlError(pub String);

/// Walks the elements of `text`. For every element that closes, `f` gets the path of
/// element names from the root to it (prefixes dropped) and its own text (trimmed, entity
/// references decoded; the text of child elements is not included).
pub(crate) fn walk(text: &str, mut f: impl FnMut(&[String], &str)) -> Result<(), XmlError> {
    let mut path: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            push_text(&mut texts, rest);
            break;
        };
        push_text(&mut texts, &rest[..lt]);
        rest = &rest[lt..];
        if let Some(r) = rest.strip_prefix("<!--") {
            rest = skip_past(r, "-->")?;
        } else if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let end = r
                .find("]]>")
                .ok_or_else(|| XmlError("unterminated CDATA section".into()))?;
            if let Some(t) = texts.last_mut() {
                t.push_str(&r[..end]);
            }
            rest = &r[end + 3..];
        } else if let Some(r) = rest.strip_prefix("<?") {
            rest = skip_past(r, "?>")?;
        } else if let Some(r) = rest.strip_prefix("<!") {
            rest = skip_past(r, ">")?;
        } else if let Some(r) = rest.strip_prefix("</") {
            let end = r
                .find('>')
                .ok_or_else(|| XmlError("unterminated closing tag".into()))?;
            let name = local(r[..end].trim());
            match path.last() {
                Some(open) if *open == name => {}
                Some(open) => {
                    return Err(XmlError(format!(
                        "`</{}>` closes `<{}>`",
                        short(name),
                        short(open)
                    )))
                }
                None => return Err(XmlError(format!("`</{}>` closes nothing", short(name)))),
            }
            let own = texts.pop().unwrap_or_default();
            f(&path, decode(own.trim()).as_ref());
            path.pop();
            rest = &r[end + 1..];
        } else {
            let r = &rest[1..];
            let end = tag_end(r).ok_or_else(|| XmlError("unterminated tag".into()))?;
            let tag = &r[..end];
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name = local(tag.split(|c: char| c.is_whitespace()).next().unwrap_or(""));
            if name.is_empty() {
                return Err(XmlError("a tag without a name".into()));
            }
            if path.len() >= MAX_DEPTH {
                return Err(XmlError(format!(
                    "elements nested more than {MAX_DEPTH} levels deep"
                )));
            }
            path.push(name.to_string());
            if self_closing {
                f(&path, "");
                path.pop();
            } else {
                texts.push(String::new());
            }
            rest = &r[end + 1..];
        }
    }
    match path.last() {
        Some(open) => Err(XmlError(format!("`<{}>` is never closed", short(open)))),
        None => Ok(()),
    }
}

/// Appends character data to the innermost open element's text (outside the root, it
/// is dropped).
fn push_text(texts: &mut [String], s: &str) {
    if let Some(t) = texts.last_mut() {
        // Text of an element is small in a pom; a hostile file cannot grow one past the
        // file's own size, which the walker bounds.
        t.push_str(s);
    }
}

/// The rest of `s` after the first `end`.
fn skip_past<'a>(s: &'a str, end: &str) -> Result<&'a str, XmlError> {
    s.find(end)
        .map(|i| &s[i + end.len()..])
        .ok_or_else(|| XmlError(format!("no `{end}` before the end of the file")))
}

/// Where a start tag ends: the first `>` outside a quoted attribute value.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i),
            (None, '<') => return None,
            _ => {}
        }
    }
    None
}

/// An element name without its namespace prefix.
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// At most 64 bytes of a name, for messages.
fn short(s: &str) -> &str {
    super::shorten(s, 64)
}

/// Decodes the predefined entities and character references; anything else is kept.
pub(crate) fn decode(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(semi) = rest[..rest.len().min(12)].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(text: &str) -> Result<Vec<(String, String)>, XmlError> {
        let mut out = Vec::new();
        walk(text, |p, t| out.push((p.join("/"), t.to_string())))?;
        Ok(out)
    }

    #[test]
    fn elements_text_and_skipped_parts() {
        let got = collect(
            "<?xml version=\"1.0\"?>\n<!-- c <x> -->\n<!DOCTYPE p>\n<p:project xmlns:p=\"u\" a='>'>\n  <groupId>g&amp;h</groupId>\n  <empty/>\n  <v><![CDATA[1<2]]></v>\n  <parent><version>&#49;.0</version></parent>\n</p:project>\n",
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                ("project/groupId".into(), "g&h".into()),
                ("project/empty".into(), "".into()),
                ("project/v".into(), "1<2".into()),
                ("project/parent/version".into(), "1.0".into()),
                ("project/parent".into(), "".into()),
                ("project".into(), "".into()),
            ]
        );
    }

    #[test]
    fn malformed_documents() {
        assert!(collect("<a><b></a>").is_err());
        assert!(collect("<a>").is_err());
        assert!(collect("</a>").is_err());
        assert!(collect("<a").is_err());
        assert!(collect("<!-- open").is_err());
        assert!(collect(&"<a>".repeat(MAX_DEPTH + 1)).is_err());
        assert_eq!(decode("&bogus; &#xZZ; &"), "&bogus; &#xZZ; &");
    }
}
