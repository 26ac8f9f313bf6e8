//! An installed package's `package.json` (npm "package.json" docs): `name`, `version`,
//! and the license, written as `"license": "MIT"`, the deprecated
//! `"license": {"type": "MIT"}` or `"licenses": [{"type": "MIT"}]`.
//!
//! [`parse_application`] reads a project's own `package.json` (outside `node_modules`):
//! its package has scope `application`, and one without a name or version is no package
//! and no warning either.
//!
//! Installed packages are files directly inside `node_modules`, so `"private": true` (which keeps
//! a project from being published) is no reason to skip one: workspace packages linked
//! into `node_modules` are often private and still installed code.

use holdfast_model::DependencyScope;
use serde::Deserialize;

use crate::analyzer::{AnalyzeError, FileFact};
use crate::catalog::lenient::{JLicenses, JStr};
use crate::catalog::{Catalog, Eco};

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    name: JStr,
    #[serde(default)]
    version: JStr,
    #[serde(default)]
    license: JLicenses,
    #[serde(default)]
    licenses: JLicenses,
}

/// Parses an installed package.json; a file that is not a JSON object is unusable.
pub(super) fn parse(bytes: &[u8], path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    let m: Manifest = serde_json::from_slice(bytes)
        .map_err(|e| AnalyzeError::Malformed(format!("package.json is not valid JSON: {e}")))?;
    let mut cat = Catalog::new(Eco::Npm, path);
    match (m.name.as_deref(), m.version.as_deref()) {
        (Some(name), Some(version)) => {
            let mut licenses = m.license.0;
            licenses.extend(m.licenses.0);
            cat.add_full(name, version, None, licenses, None);
        }
        (name, _) => cat.invalid(format!(
            "package.json without a {}",
            if name.is_some() { "version" } else { "name" }
        )),
    }
    Ok(cat.into_facts())
}

/// Parses a project's own package.json: the application's package, if it names one.
pub(super) fn parse_application(bytes: &[u8], path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    let m: Manifest = serde_json::from_slice(bytes)
        .map_err(|e| AnalyzeError::Malformed(format!("package.json is not valid JSON: {e}")))?;
    let mut cat = Catalog::new(Eco::Npm, path);
    if let (Some(name), Some(version)) = (m.name.as_deref(), m.version.as_deref()) {
        let mut licenses = m.license.0;
        licenses.extend(m.licenses.0);
        cat.add_full(
            name,
            version,
            Some(DependencyScope::Application),
            licenses,
            None,
        );
    }
    Ok(cat.into_facts())
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_model::WarningKind;

    #[test]
    fn manifest_fields() {
        let facts = parse(
            br#"{"name": "@types/node", "version": "20.1.0", "license": "MIT", "private": true, "dependencies": {"x": "1"}}"#,
            "/a/node_modules/@types/node/package.json",
        )
        .unwrap();
        let FileFact::Packages(p) = &facts[0] else {
            panic!("packages")
        };
        assert_eq!(p[0].purl, "pkg:npm/%40types/node@20.1.0");
        assert_eq!(p[0].licenses, vec!["MIT"]);
        let facts = parse(
            br#"{"name": "old", "version": "0.1.0", "licenses": [{"type": "MIT"}, {"type": "Apache-2.0"}]}"#,
            "/p",
        )
        .unwrap();
        let FileFact::Packages(p) = &facts[0] else {
            panic!("packages")
        };
        assert_eq!(p[0].licenses, vec!["MIT", "Apache-2.0"]);
    }

    #[test]
    fn application_manifest() {
        let facts = parse_application(
            br#"{"name": "bench-app", "version": "1.0.0", "private": true, "dependencies": {"express": "4.16.0"}}"#,
            "/app/package.json",
        )
        .unwrap();
        let FileFact::Packages(p) = &facts[0] else {
            panic!("packages")
        };
        assert_eq!(p[0].purl, "pkg:npm/bench-app@1.0.0");
        assert_eq!(p[0].scope, Some(DependencyScope::Application));
        let facts = parse_application(br#"{"private": true}"#, "/app/package.json").unwrap();
        assert_eq!(facts.len(), 1);
        assert!(matches!(&facts[0], FileFact::Packages(p) if p.is_empty()));
        assert!(parse_application(b"{,", "/app/package.json").is_err());
    }

    #[test]
    fn bad_input() {
        assert!(parse(b"not json", "/p").is_err());
        assert!(parse(b"\"a string\"", "/p").is_err());
        assert!(parse(&[0xff, 0xfe, 0x00], "/p").is_err());
        let facts = parse(br#"{"name": "x", "version": 1}"#, "/p").unwrap();
        assert!(matches!(&facts[0], FileFact::Packages(p) if p.is_empty()));
        assert!(matches!(
            &facts[1],
            FileFact::Skipped {
                kind: WarningKind::MalformedFile,
                ..
            }
        ));
    }
}
