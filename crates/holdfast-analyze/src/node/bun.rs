//! `bun.lock`, Bun's text lockfile (Bun 1.2+): JSON with comments and trailing commas
//! (JSONC). `workspaces` maps each workspace path (`""` is the root) to its `name` and
//! `dependencies`, `optionalDependencies`, `peerDependencies`, `devDependencies`;
//! `packages` maps an install path (`lodash`, `express/debug` for a nested copy) to an
//! array whose first element is the resolution, `NAME@VERSION`. Resolutions that are not
//! registry versions (`app@workspace:packages/app`, `x@github:...`, `y@link:...`,
//! `z@file:...`) are the project's own code or not published: they are not reported.
//!
//! Scopes: a package a workspace lists in `dependencies`, `optionalDependencies` or
//! `peerDependencies` is direct; one it lists only in `devDependencies` is dev; any
//! other is transitive (the lockfile does not say which packages only dev ones need).

use std::collections::HashMap;

use holdfast_model::DependencyScope;
use serde_json::Value;

use super::split_name_at;
use crate::analyzer::{AnalyzeError, FileFact};
use crate::catalog::{Catalog, Eco};

/// JSONC as JSON: `//` and `/* */` comments removed and commas before `}` or `]`
/// dropped, outside strings. Linear in the input.
pub(super) fn jsonc_to_json(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    // Where a comma was copied that may turn out to be trailing.
    let mut pending_comma: Option<usize> = None;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' => {
                pending_comma = None;
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(b.len());
                out.extend_from_slice(&b[start..i]);
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i = (i + 2).min(b.len());
                continue;
            }
            b',' => {
                pending_comma = Some(out.len());
                out.push(c);
            }
            b'}' | b']' => {
                if let Some(at) = pending_comma.take() {
                    out[at] = b' ';
                }
                out.push(c);
            }
            c if c.is_ascii_whitespace() => out.push(c),
            _ => {
                pending_comma = None;
                out.push(c);
            }
        }
        i += 1;
    }
    // Only ASCII bytes were removed or replaced, and strings were copied whole.
    String::from_utf8(out).unwrap_or_default()
}

/// Parses a `bun.lock`.
pub(super) fn parse(text: &str, path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    let doc: Value = serde_json::from_str(&jsonc_to_json(text))
        .map_err(|e| AnalyzeError::Malformed(format!("bun.lock is not valid JSONC: {e}")))?;
    let Some(packages) = doc.get("packages").and_then(Value::as_object) else {
        return Err(AnalyzeError::Malformed(
            "bun.lock has no `packages` object".into(),
        ));
    };
    // name → development only (false when any workspace needs it at run time).
    let mut direct: HashMap<&str, bool> = HashMap::new();
    if let Some(ws) = doc.get("workspaces").and_then(Value::as_object) {
        for w in ws.values() {
            for (section, dev) in [
                ("dependencies", false),
                ("optionalDependencies", false),
                ("peerDependencies", false),
                ("devDependencies", true),
            ] {
                for name in w
                    .get(section)
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    let e = direct.entry(name.0.as_str()).or_insert(dev);
                    *e &= dev;
                }
            }
        }
    }
    let mut cat = Catalog::new(Eco::Npm, path);
    for (key, entry) in packages {
        let Some(resolution) = entry.get(0).and_then(Value::as_str) else {
            cat.invalid(format!("`{key}` without a resolution"));
            continue;
        };
        let Some((name, version)) = split_name_at(resolution) else {
            cat.invalid(format!("`{key}`: resolution `{resolution}`"));
            continue;
        };
        if version.contains(':') {
            continue; // workspace:, link:, file:, github:, git+...: not a registry version
        }
        // Only the top-level copy is what a workspace's dependency resolves to.
        let top_level =
            !key.contains('/') || (key.starts_with('@') && key.matches('/').count() == 1);
        let scope = match direct.get(name) {
            Some(true) if top_level => Some(DependencyScope::Dev),
            Some(false) if top_level => Some(DependencyScope::Direct),
            _ => Some(DependencyScope::Transitive),
        };
        cat.add(name, version, scope);
    }
    Ok(cat.into_facts())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::{list, s};
    use holdfast_model::WarningKind;
    use DependencyScope::*;

    const LOCK: &str = r#"{
  // written by bun
  "lockfileVersion": 1,
  "workspaces": {
    "": {
      "name": "app",
      "dependencies": { "express": "^4.18.0", "lib": "workspace:*", },
      "devDependencies": { "@types/node": "^20", },
    },
    "packages/lib": { "name": "lib", "dependencies": { "ms": "2.1.3" } },
  },
  /* every installed package */
  "packages": {
    "@types/node": ["@types/node@20.1.0", "", {}, "sha512-a"],
    "express": ["express@4.18.2", "", { "dependencies": { "debug": "2.6.9" } }, "sha512-b"],
    "express/debug": ["debug@2.6.9", "", {}, "sha512-c"],
    "lib": ["lib@workspace:packages/lib"],
    "ms": ["ms@2.1.3", "", {}, "sha512-d"],
    "gitdep": ["gitdep@github:acme/gitdep#abc", {}, "abc"],
    "broken": [],
  },
}
"#;

    #[test]
    fn packages_with_scopes() {
        let facts = parse(LOCK, "/app/bun.lock").unwrap();
        assert_eq!(
            list(&facts),
            vec![
                s("@types/node", "20.1.0", Some(Dev)),
                s("express", "4.18.2", Some(Direct)),
                s("debug", "2.6.9", Some(Transitive)),
                s("ms", "2.1.3", Some(Direct)),
            ]
        );
        assert!(
            matches!(&facts[1], FileFact::Skipped { kind: WarningKind::MalformedFile, message }
            if message.contains("`broken` without a resolution"))
        );
    }

    #[test]
    fn jsonc_and_bad_input() {
        assert_eq!(
            jsonc_to_json("{\"a\": \"//not a comment,}\", // c\n \"b\": [1,2,],}"),
            "{\"a\": \"//not a comment,}\", \n \"b\": [1,2 ] }"
        );
        assert!(parse("{\"packages\": ", "/bun.lock").is_err());
        assert!(parse("{\"lockfileVersion\": 1}", "/bun.lock").is_err());
    }
}
