//! The deb822 control-file syntax shared by dpkg's status database and Debian's
//! machine-readable copyright files (Debian Policy 5.1): paragraphs of `Field: value`
//! lines separated by blank lines, continuation lines starting with a space or tab.
//!
//! The parser never fails: lines that fit no rule are skipped and counted, so one broken
//! paragraph cannot hide the rest of the database.

/// One paragraph: fields in order, names as written (compare case-insensitively).
#[derive(Debug, Default)]
pub struct Paragraph<'a> {
    pub fields: Vec<(&'a str, String)>,
    /// 1-based line where the paragraph starts.
    pub line: usize,
}

impl Paragraph<'_> {
    /// The first value of a field, matched case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Longest field value kept, in bytes; longer values are cut (descriptions are not needed
/// whole and a hostile 100 KB line must not be copied around).
const MAX_VALUE_BYTES: usize = 8 << 10;

/// Splits a control file into paragraphs. Returns them with the number of lines that were
/// not `Field: value` or continuation lines.
pub fn paragraphs(text: &str) -> (Vec<Paragraph<'_>>, usize) {
    let mut out = Vec::new();
    let mut current = Paragraph::default();
    let mut bad_lines = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            if !current.fields.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = current.fields.last_mut() {
                if v.len() < MAX_VALUE_BYTES {
                    v.push('\n');
                    push_bounded(v, line.trim());
                }
            } else {
                bad_lines += 1;
            }
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) if !k.is_empty() && !k.contains(char::is_whitespace) && k.len() < 128 => {
                if current.fields.is_empty() {
                    current.line = i + 1;
                }
                let mut value = String::new();
                push_bounded(&mut value, v.trim());
                current.fields.push((k, value));
            }
            _ => bad_lines += 1,
        }
    }
    if !current.fields.is_empty() {
        out.push(current);
    }
    (out, bad_lines)
}

fn push_bounded(dst: &mut String, s: &str) {
    let room = MAX_VALUE_BYTES.saturating_sub(dst.len());
    if s.len() <= room {
        dst.push_str(s);
    } else {
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        dst.push_str(&s[..end]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_continuations() {
        let (ps, bad) =
            paragraphs("Package: a\nDescription: x\n more\n\n\nnonsense line\nPackage: b\n");
        assert_eq!(ps.len(), 2);
        assert_eq!(ps[0].get("description"), Some("x\nmore"));
        assert_eq!(ps[1].get("Package"), Some("b"));
        assert_eq!(bad, 1);
    }

    #[test]
    fn long_lines_are_cut() {
        let text = format!("Package: a\nDescription: {}\n", "x".repeat(100_000));
        let (ps, _) = paragraphs(&text);
        assert!(ps[0].get("Description").unwrap().len() <= MAX_VALUE_BYTES);
    }
}
