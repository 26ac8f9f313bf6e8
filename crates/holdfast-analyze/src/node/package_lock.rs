//! npm's `package-lock.json` and `npm-shrinkwrap.json` (npm docs, "package-lock.json").
//!
//! Lockfile v2 and v3 list every package in `packages`, keyed by install path
//! (`node_modules/a`, `node_modules/a/node_modules/b`, `node_modules/@s/c`); the `""` key
//! is the project itself and other keys without `node_modules/` are workspace folders,
//! which are not packages but say which dependencies are direct. `link: true` entries are
//! symlinks whose `resolved` names the folder that holds the package. v1 (and v2's
//! back-compat copy, ignored when `packages` is present) nests packages in `dependencies`
//! trees. `dev: true` marks packages only development dependencies need.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt;

use holdfast_model::DependencyScope;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use crate::analyzer::{AnalyzeError, FileFact};
use crate::catalog::lenient::{JBool, JKeys, JStr};
use crate::catalog::{Catalog, Eco};

use super::npm_alias;

/// The path component that starts an install path.
const NODE_MODULES: &str = "node_modules/";

/// A v2/v3 entry at an install path: what a package needs, nothing more.
#[derive(Deserialize, Default)]
struct Installed {
    #[serde(default)]
    name: JStr,
    #[serde(default)]
    version: JStr,
    #[serde(default)]
    dev: JBool,
    #[serde(default)]
    link: JBool,
    #[serde(default)]
    resolved: JStr,
}

/// A v2/v3 entry for the project (`""`) or a workspace folder: its dependency names too
/// (development ones need not be kept: their packages carry `dev: true`).
#[derive(Deserialize, Default)]
struct Project {
    #[serde(default)]
    name: JStr,
    #[serde(default)]
    version: JStr,
    #[serde(default)]
    dependencies: JKeys,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: JKeys,
    #[serde(default, rename = "peerDependencies")]
    peer_dependencies: JKeys,
}

/// The v2/v3 `packages` map, split by key as it is read.
#[derive(Default)]
struct Packages {
    installed: Vec<(String, Installed)>,
    projects: HashMap<String, Project>,
}

/// A v1 `dependencies` entry; nesting is bounded by serde_json's recursion limit.
#[derive(Deserialize)]
struct V1Entry {
    #[serde(default)]
    version: JStr,
    #[serde(default)]
    dev: JBool,
    #[serde(default)]
    dependencies: Option<BTreeMap<String, V1Entry>>,
}

/// The parts of a lockfile that are read.
#[derive(Default)]
struct Lock {
    packages: Option<Packages>,
    dependencies: Option<BTreeMap<String, V1Entry>>,
}

/// Whether a `packages` key is an install path rather than a project folder.
fn is_install_path(key: &str) -> bool {
    key.starts_with(NODE_MODULES) || key.contains("/node_modules/")
}

impl<'de> Deserialize<'de> for Packages {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Packages;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object keyed by install path")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Packages, A::Error> {
                let mut out = Packages::default();
                while let Some(key) = map.next_key::<String>()? {
                    if is_install_path(&key) {
                        let e: Installed = map.next_value()?;
                        out.installed.push((key, e));
                    } else {
                        let p: Project = map.next_value()?;
                        out.projects.insert(key, p);
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for Lock {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lock;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a package-lock.json object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Lock, A::Error> {
                let mut lock = Lock::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "packages" if lock.packages.is_none() => {
                            lock.packages = Some(map.next_value()?);
                            // v2 keeps a v1 copy for old npm versions: not needed now.
                            lock.dependencies = None;
                        }
                        "dependencies" if lock.packages.is_none() => {
                            lock.dependencies = map.next_value()?;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(lock)
            }
        }
        d.deserialize_map(V)
    }
}

/// Parses a package-lock.json; a file that is not a JSON object of the lockfile's shape
/// is unusable.
pub(super) fn parse(bytes: &[u8], path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    let lock: Lock = serde_json::from_slice(bytes)
        .map_err(|e| AnalyzeError::Malformed(format!("not a valid package-lock.json: {e}")))?;
    let mut cat = Catalog::new(Eco::Npm, path);
    match (lock.packages, lock.dependencies) {
        (Some(packages), _) => v2(&packages, &mut cat),
        (None, Some(deps)) => v1(&deps, &mut cat),
        (None, None) => {}
    }
    Ok(cat.into_facts())
}

/// v2/v3: every install path is a package; links take the package from their target.
fn v2(p: &Packages, cat: &mut Catalog<'_>) {
    // Direct dependencies are what the project or a workspace asks for, installed in its
    // own node_modules (or hoisted to the project's).
    let mut direct_prod: HashSet<&str> = HashSet::new();
    for proj in p.projects.values() {
        for list in [
            &proj.dependencies,
            &proj.optional_dependencies,
            &proj.peer_dependencies,
        ] {
            direct_prod.extend(list.0.iter().map(String::as_str));
        }
    }
    let has_root = p.projects.contains_key("");
    let mut by_key: Option<HashMap<&str, &Installed>> = None;
    for (key, e) in &p.installed {
        let Some(at) = key.rfind(NODE_MODULES) else {
            continue;
        };
        let install_name = &key[at + NODE_MODULES.len()..];
        let owner = key[..at].trim_end_matches('/');
        let (name, version) = if e.link.0 {
            let Some(target) = e.resolved.as_deref() else {
                cat.invalid(format!("link `{key}` without a target"));
                continue;
            };
            let found = match p.projects.get(target) {
                Some(proj) => Some((proj.name.as_deref(), proj.version.as_deref())),
                None => by_key
                    .get_or_insert_with(|| {
                        p.installed.iter().map(|(k, v)| (k.as_str(), v)).collect()
                    })
                    .get(target)
                    .filter(|t| !t.link.0)
                    .map(|t| (t.name.as_deref(), t.version.as_deref())),
            };
            let Some((name, version)) = found else {
                cat.invalid(format!(
                    "link `{key}` to `{target}`, which the lockfile lacks"
                ));
                continue;
            };
            (name.unwrap_or(install_name), version)
        } else {
            // An aliased install (`"node_modules/foo": {"name": "bar"}`) records the real
            // name in `name`.
            (
                e.name.as_deref().unwrap_or(install_name),
                e.version.as_deref(),
            )
        };
        let Some(version) = version else {
            cat.invalid(format!("`{key}` without a version"));
            continue;
        };
        let scope = if e.dev.0 {
            Some(DependencyScope::Dev)
        } else if !has_root {
            None
        } else if p.projects.contains_key(owner) && direct_prod.contains(install_name) {
            Some(DependencyScope::Direct)
        } else {
            Some(DependencyScope::Transitive)
        };
        cat.add(name, version, scope);
    }
}

/// v1: a tree of `dependencies`, walked with an explicit queue.
fn v1(deps: &BTreeMap<String, V1Entry>, cat: &mut Catalog<'_>) {
    let mut queue: VecDeque<(&String, &V1Entry)> = deps.iter().collect();
    while let Some((install_name, e)) = queue.pop_front() {
        if let Some(nested) = &e.dependencies {
            queue.extend(nested.iter());
        }
        let Some(version) = e.version.as_deref() else {
            cat.invalid(format!("`{install_name}` without a version"));
            continue;
        };
        // v1 records an aliased install as `"version": "npm:real@1.0.0"`.
        let (name, version) = npm_alias(version).unwrap_or((install_name, version));
        // Git, tarball and folder dependencies carry a URL or path instead of a version.
        if version.contains([':', '/']) {
            continue;
        }
        let scope = e.dev.0.then_some(DependencyScope::Dev);
        cat.add(name, version, scope);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::list;
    use holdfast_model::WarningKind;
    use DependencyScope::*;

    #[test]
    fn v3_with_workspaces_links_and_aliases() {
        let text = br#"{
          "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
          "packages": {
            "": {"name": "app", "version": "1.0.0", "workspaces": ["packages/*"],
                 "dependencies": {"express": "4.16.0", "my-lodash": "npm:lodash@4.17.15"},
                 "devDependencies": {"minimist": "1.2.0"}},
            "node_modules/express": {"version": "4.16.0", "resolved": "https://r/express-4.16.0.tgz"},
            "node_modules/debug": {"version": "2.6.9"},
            "node_modules/my-lodash": {"name": "lodash", "version": "4.17.15"},
            "node_modules/minimist": {"version": "1.2.0", "dev": true},
            "node_modules/express/node_modules/debug": {"version": "3.1.0"},
            "node_modules/@app/util": {"resolved": "packages/util", "link": true},
            "node_modules/broken": {"resolved": "packages/missing", "link": true},
            "packages/util": {"name": "@app/util", "version": "0.2.0", "dependencies": {"ms": "^2"}},
            "packages/util/node_modules/ms": {"version": "2.1.3"}
          },
          "dependencies": {"ignored": {"version": "9.9.9"}}
        }"#;
        let facts = parse(text, "/app/package-lock.json").unwrap();
        let s = |n: &str, v: &str, sc| (n.to_string(), v.to_string(), sc);
        assert_eq!(
            list(&facts),
            vec![
                s("express", "4.16.0", Some(Direct)),
                s("debug", "2.6.9", Some(Transitive)),
                s("lodash", "4.17.15", Some(Direct)),
                s("minimist", "1.2.0", Some(Dev)),
                s("debug", "3.1.0", Some(Transitive)),
                s("@app/util", "0.2.0", Some(Transitive)),
                s("ms", "2.1.3", Some(Direct)),
            ]
        );
        assert!(
            matches!(&facts[1], FileFact::Skipped { kind: WarningKind::MalformedFile, message: m } if m.contains("packages/missing"))
        );
    }

    #[test]
    fn v1_tree() {
        let text = br#"{"name": "app", "lockfileVersion": 1, "requires": true, "dependencies": {
            "express": {"version": "4.16.0", "requires": {"debug": "2.6.9"},
                        "dependencies": {"debug": {"version": "2.6.9"}}},
            "minimist": {"version": "1.2.0", "dev": true},
            "alias": {"version": "npm:lodash@4.17.15"},
            "local": {"version": "file:../local"},
            "gitdep": {"version": "github:user/repo#abcdef"}
        }}"#;
        let facts = parse(text, "/app/package-lock.json").unwrap();
        let s = |n: &str, v: &str, sc| (n.to_string(), v.to_string(), sc);
        assert_eq!(
            list(&facts),
            vec![
                s("lodash", "4.17.15", None),
                s("express", "4.16.0", None),
                s("minimist", "1.2.0", Some(Dev)),
                s("debug", "2.6.9", None),
            ]
        );
    }

    #[test]
    fn bad_shapes_are_errors_not_panics() {
        assert!(parse(b"[]", "/p").is_err());
        assert!(parse(br#"{"packages": [1, 2]}"#, "/p").is_err());
        assert!(parse(b"{\"packages\": {\"node_modules/a\": ", "/p").is_err());
        // v1 trees nest through our own structs: serde_json's recursion limit stops them.
        let deep = format!(
            r#"{{"dependencies": {}{{}}{}}}"#,
            r#"{"a": {"version": "1", "dependencies": "#.repeat(10_000),
            "}}".repeat(10_000)
        );
        let err = parse(deep.as_bytes(), "/p").unwrap_err().to_string();
        assert!(err.contains("recursion limit"), "{err}");
        let facts = parse(br#"{"packages": {"node_modules/a": {"version": 1}}}"#, "/p").unwrap();
        assert!(matches!(&facts[0], FileFact::Packages(p) if p.is_empty()));
    }
}
