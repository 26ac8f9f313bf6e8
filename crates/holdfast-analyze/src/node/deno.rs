//! `deno.lock`, versions 3 and 4: the npm packages a Deno project resolved.
//!
//! * v3: `packages.npm` maps `NAME@VERSION` to its integrity and dependencies;
//!   `packages.specifiers` maps what the code imports (`npm:chalk@5`) to the resolution
//!   (`npm:chalk@5.3.0`).
//! * v4: the same at the top level: `npm` keys are `NAME@VERSION`, with a peer suffix
//!   after `_` (`@types/react-dom@18.2.0_@types+react@18.2.0`); `specifiers` map
//!   `npm:chalk@5` to `5.3.0`.
//!
//! Packages a specifier resolves to are direct, the others transitive. JSR packages
//! (`jsr` keys) have no OSV ecosystem or purl type of their own yet: not reported. `remote`
//! (hashes of URLs) names no packages.

use std::collections::HashSet;

use holdfast_model::DependencyScope;
use serde_json::{Map, Value};

use super::split_name_at;
use crate::analyzer::{AnalyzeError, FileFact};
use crate::catalog::{Catalog, Eco};

/// Parses a `deno.lock`.
pub(super) fn parse(bytes: &[u8], path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    let doc: Value = serde_json::from_slice(bytes)
        .map_err(|e| AnalyzeError::Malformed(format!("deno.lock is not valid JSON: {e}")))?;
    let version = doc.get("version").and_then(Value::as_str).unwrap_or("");
    let empty = Map::new();
    let (npm, specifiers) = match version {
        "3" | "2" => {
            let p = doc.get("packages");
            (
                p.and_then(|p| p.get("npm")).and_then(Value::as_object),
                p.and_then(|p| p.get("specifiers"))
                    .and_then(Value::as_object),
            )
        }
        "4" | "5" => (
            doc.get("npm").and_then(Value::as_object),
            doc.get("specifiers").and_then(Value::as_object),
        ),
        other => {
            return Err(AnalyzeError::Malformed(format!(
                "deno.lock version `{}` is not one this reader knows (3, 4)",
                crate::catalog::shorten(other, 16)
            )))
        }
    };
    // `name@version` of every package a specifier resolves to.
    let mut direct: HashSet<String> = HashSet::new();
    for (spec, resolved) in specifiers.unwrap_or(&empty) {
        let (Some(spec), Some(resolved)) = (spec.strip_prefix("npm:"), resolved.as_str()) else {
            continue;
        };
        let Some((name, _)) = split_name_at(spec).or(Some((spec, ""))) else {
            continue;
        };
        let version = resolved
            .strip_prefix("npm:")
            .and_then(|r| split_name_at(r).map(|(_, v)| v))
            .unwrap_or(resolved);
        direct.insert(format!("{name}@{}", peerless(version)));
    }
    let mut cat = Catalog::new(Eco::Npm, path);
    for key in npm.unwrap_or(&empty).keys() {
        let Some((name, version)) = split_name_at(key) else {
            cat.invalid(format!("`{key}`"));
            continue;
        };
        let version = peerless(version);
        let scope = if direct.contains(&format!("{name}@{version}")) {
            DependencyScope::Direct
        } else {
            DependencyScope::Transitive
        };
        cat.add(name, version, Some(scope));
    }
    Ok(cat.into_facts())
}

/// A version without v4's peer-dependency suffix (`18.2.0_@types+react@18.2.0`).
fn peerless(v: &str) -> &str {
    v.split('_').next().unwrap_or(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::{list, s};
    use holdfast_model::WarningKind;
    use DependencyScope::*;

    #[test]
    fn version_3() {
        let lock = br#"{
  "version": "3",
  "packages": {
    "specifiers": { "npm:chalk@5": "npm:chalk@5.3.0", "jsr:@std/path@^0.220": "jsr:@std/path@0.220.1" },
    "jsr": { "@std/path@0.220.1": { "integrity": "x" } },
    "npm": {
      "chalk@5.3.0": { "integrity": "sha512-a", "dependencies": {} },
      "ansi-styles@6.2.1": { "integrity": "sha512-b", "dependencies": {} }
    }
  },
  "remote": { "https://deno.land/std@0.200.0/path/mod.ts": "abc" }
}"#;
        assert_eq!(
            list(&parse(lock, "/app/deno.lock").unwrap()),
            vec![
                s("chalk", "5.3.0", Some(Direct)),
                s("ansi-styles", "6.2.1", Some(Transitive))
            ]
        );
    }

    #[test]
    fn version_4_with_peer_suffixes() {
        let lock = br#"{
  "version": "4",
  "specifiers": { "npm:@types/react-dom@18": "18.2.0_@types+react@18.2.0", "npm:react@^18": "18.2.0", "jsr:@std/assert@1": "1.0.8" },
  "jsr": { "@std/assert@1.0.8": { "integrity": "x" } },
  "npm": {
    "@types/react-dom@18.2.0_@types+react@18.2.0": { "integrity": "sha512-a", "dependencies": ["@types/react"] },
    "@types/react@18.2.0": { "integrity": "sha512-b" },
    "react@18.2.0": { "integrity": "sha512-c" },
    "noversion": {}
  }
}"#;
        let facts = parse(lock, "/app/deno.lock").unwrap();
        assert_eq!(
            list(&facts),
            vec![
                s("@types/react-dom", "18.2.0", Some(Direct)),
                s("@types/react", "18.2.0", Some(Transitive)),
                s("react", "18.2.0", Some(Direct)),
            ]
        );
        assert!(
            matches!(&facts[1], FileFact::Skipped { kind: WarningKind::MalformedFile, message }
            if message.contains("`noversion`"))
        );
    }

    #[test]
    fn bad_input() {
        assert!(parse(b"{", "/deno.lock").is_err());
        assert!(matches!(parse(b"{\"version\": \"9\"}", "/deno.lock"),
            Err(AnalyzeError::Malformed(m)) if m.contains("`9`")));
    }
}
