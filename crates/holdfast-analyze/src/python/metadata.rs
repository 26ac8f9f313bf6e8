//! Core metadata of an installed distribution (`METADATA`, `PKG-INFO`): RFC 822 style
//! headers up to the first empty line, then the description body, which is not read
//! (Python Packaging "Core metadata specifications").

use crate::analyzer::{AnalyzeError, FileFact};
use crate::catalog::{shorten, valid_field, Catalog, Eco};

use super::valid_name;

/// A `License:` value longer than this, or spread over several lines, is the license
/// text rather than its name, and is not kept.
const MAX_LICENSE_NAME: usize = 100;

/// The headers this cataloger uses.
#[derive(Default)]
struct Headers {
    name: Option<String>,
    version: Option<String>,
    license: Option<String>,
    license_multiline: bool,
    license_expression: Option<String>,
    classifier_licenses: Vec<String>,
}

/// Which header a continuation line continues.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    License,
    Other,
}

/// Parses one metadata file into its package. A file without a valid `Name` and
/// `Version` is unusable.
pub(super) fn parse(text: &str, path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    let h = headers(text);
    let name = h
        .name
        .ok_or_else(|| AnalyzeError::Malformed("no `Name` header".into()))?;
    if !valid_name(&name) {
        return Err(AnalyzeError::Malformed(format!(
            "`Name: {}` is not a valid distribution name",
            shorten(&name, 64)
        )));
    }
    let version = h
        .version
        .ok_or_else(|| AnalyzeError::Malformed("no `Version` header".into()))?;
    if !valid_field(&version) {
        return Err(AnalyzeError::Malformed(format!(
            "`Version: {}` is not a version",
            shorten(&version, 64)
        )));
    }
    // Licenses, most specific first: the SPDX expression (PEP 639), the free-text
    // `License` field when it is a name and not the license text, then the trove
    // classifiers (`License :: OSI Approved :: MIT License`).
    let licenses = if let Some(expr) = h.license_expression {
        vec![expr]
    } else if let Some(l) = h.license.filter(|l| {
        !h.license_multiline
            && !l.is_empty()
            && l.len() <= MAX_LICENSE_NAME
            && !l.eq_ignore_ascii_case("UNKNOWN")
    }) {
        vec![l]
    } else {
        h.classifier_licenses
    };
    let mut cat = Catalog::new(Eco::Python, path);
    cat.add_full(&name, &version, None, licenses, None);
    Ok(cat.into_facts())
}

/// Reads the header block. Field names are case-insensitive, as in email headers; a line
/// starting with whitespace continues the previous field.
fn headers(text: &str) -> Headers {
    let mut h = Headers::default();
    let mut last = Last::Other;
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if last == Last::License && !line.trim().is_empty() {
                h.license_multiline = true;
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            last = Last::Other;
            continue;
        };
        let value = value.trim();
        last = Last::Other;
        if key.eq_ignore_ascii_case("Name") {
            h.name.get_or_insert_with(|| value.to_string());
        } else if key.eq_ignore_ascii_case("Version") {
            h.version.get_or_insert_with(|| value.to_string());
        } else if key.eq_ignore_ascii_case("License") {
            if h.license.is_none() {
                h.license = Some(value.to_string());
                last = Last::License;
            }
        } else if key.eq_ignore_ascii_case("License-Expression") {
            if !value.is_empty() {
                h.license_expression
                    .get_or_insert_with(|| value.to_string());
            }
        } else if key.eq_ignore_ascii_case("Classifier") {
            // `License :: OSI Approved :: BSD License` names the license last;
            // `License :: OSI Approved` alone names none.
            if let Some(rest) = value.strip_prefix("License ::") {
                if let Some(l) = rest.rsplit("::").next().map(str::trim) {
                    if !l.is_empty() && l != "OSI Approved" && h.classifier_licenses.len() < 16 {
                        h.classifier_licenses.push(l.to_string());
                    }
                }
            }
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> holdfast_model::Package {
        let facts = parse(text, "/x/METADATA").expect("parses");
        let FileFact::Packages(p) = &facts[0] else {
            panic!("packages")
        };
        assert_eq!(p.len(), 1);
        p[0].clone()
    }

    #[test]
    fn wheel_metadata() {
        let p = one("Metadata-Version: 2.1\r\nName: Django\r\nVersion: 3.2\r\nLicense: BSD-3-Clause\r\nClassifier: License :: OSI Approved :: BSD License\r\n\r\nName: not-this\r\n");
        assert_eq!(
            (p.name.as_str(), p.version.as_str(), p.purl.as_str()),
            ("Django", "3.2", "pkg:pypi/django@3.2")
        );
        assert_eq!(p.licenses, vec!["BSD-3-Clause"]);
        assert_eq!(p.ecosystem.as_deref(), Some("PyPI"));
    }

    #[test]
    fn license_sources_in_order() {
        let p = one("Name: a\nVersion: 1\nLicense-Expression: MIT OR Apache-2.0\nLicense: MIT\n");
        assert_eq!(p.licenses, vec!["MIT OR Apache-2.0"]);
        let p = one("Name: a\nVersion: 1\nLicense: Copyright (c) someone\n        Permission is hereby granted\nClassifier: License :: OSI Approved :: MIT License\nClassifier: License :: OSI Approved\n");
        assert_eq!(p.licenses, vec!["MIT License"]);
        let p = one("Name: a\nVersion: 1\nLicense: UNKNOWN\n");
        assert!(p.licenses.is_empty());
    }

    #[test]
    fn unusable_files_are_errors() {
        assert!(parse("Version: 1\n", "/m").is_err());
        assert!(parse("Name: a\n", "/m").is_err());
        assert!(parse("Name: bad name!\nVersion: 1\n", "/m").is_err());
        assert!(parse("Name: a\nVersion: \n", "/m").is_err());
        assert!(parse("\u{0}\u{1}garbage", "/m").is_err());
    }
}
