//! `pnpm-lock.yaml`, lockfile versions 5.x, 6.x and 9.x.
//!
//! `packages` keys name each package: `/name/1.2.3` (5.x, peer suffix after `_`),
//! `/name@1.2.3` (6.x, peer suffix in parentheses), `name@1.2.3` (9.x, no suffix; the
//! suffixed variants are `snapshots` keys). An entry's own `name:` and `version:` fields,
//! written for packages not from the registry, win over the key. 5.x and 6.x mark packages
//! only development needs with `dev: true`; 9.x does not, so there the scopes come from
//! the graph: the importers' (projects') `dependencies`, `optionalDependencies` and
//! `devDependencies` are the roots and `snapshots` give the edges. Top-level
//! `dependencies` (5.x, 6.x without workspaces) count as the `.` importer.

use std::collections::HashMap;

use holdfast_model::{DependencyScope, WarningKind};

use crate::analyzer::FileFact;
use crate::catalog::deps::Graph;
use crate::catalog::yamlish::{self, Event};
use crate::catalog::Catalog;
use crate::catalog::Eco;

use super::split_name_at;

/// One `packages` entry.
struct Entry {
    key: String,
    name: Option<String>,
    version: Option<String>,
    dev: Option<bool>,
}

/// What one document of the lockfile holds.
#[derive(Default)]
struct Lockfile {
    major: u32,
    entries: Vec<Entry>,
    /// (package or snapshot key, dependency name, version reference).
    edges: Vec<(String, String, String)>,
    /// (dependency name, version reference, development only).
    directs: Vec<(String, String, bool)>,
}

/// Whether an importer section lists dependencies: `Some(true)` for development ones.
fn section_is_dependencies(s: &str) -> Option<bool> {
    match s {
        "dependencies" | "optionalDependencies" => Some(false),
        "devDependencies" => Some(true),
        _ => None,
    }
}

impl Lockfile {
    /// Takes one mapping line of the lockfile.
    fn event(&mut self, ancestors: &[std::borrow::Cow<'_, str>], key: &str, value: Option<&str>) {
        // Nothing read here is nested deeper than four mappings.
        if ancestors.len() > 4 {
            return;
        }
        let mut a = [""; 4];
        for (slot, k) in a.iter_mut().zip(ancestors) {
            *slot = k.as_ref();
        }
        match (&a[..ancestors.len()], value) {
            ([], Some(v)) if key == "lockfileVersion" => {
                let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
                self.major = digits.parse().unwrap_or(9);
            }
            (["packages"], _) => self.entries.push(Entry {
                key: key.to_string(),
                name: None,
                version: None,
                dev: None,
            }),
            (["packages", k], Some(v)) => {
                if let Some(e) = self.entries.last_mut().filter(|e| e.key == *k) {
                    match key {
                        "name" => e.name = Some(v.to_string()),
                        "version" => e.version = Some(v.to_string()),
                        "dev" => e.dev = Some(v == "true"),
                        _ => {}
                    }
                }
            }
            (["packages" | "snapshots", k, "dependencies" | "optionalDependencies"], Some(v)) => {
                self.edges
                    .push((k.to_string(), key.to_string(), v.to_string()));
            }
            // 5.x: `dependencies: {name: ref}`; importers likewise.
            ([sect], Some(v)) | (["importers", _, sect], Some(v)) => {
                if let Some(dev) = section_is_dependencies(sect) {
                    self.directs.push((key.to_string(), v.to_string(), dev));
                }
            }
            // 6.x and 9.x: `dependencies: {name: {specifier, version}}`.
            ([sect, name], Some(v)) | (["importers", _, sect, name], Some(v))
                if key == "version" =>
            {
                if let Some(dev) = section_is_dependencies(sect) {
                    self.directs.push((name.to_string(), v.to_string(), dev));
                }
            }
            _ => {}
        }
    }

    /// The name and version a `packages` or `snapshots` key stands for.
    fn parse_key<'k>(&self, key: &'k str) -> Option<(&'k str, &'k str)> {
        if self.major > 0 && self.major < 6 {
            let rest = key.strip_prefix('/')?;
            let skip = usize::from(rest.starts_with('@'));
            let slash = rest
                .match_indices('/')
                .nth(skip)
                .map(|(i, _)| i)
                .filter(|&i| i > 0)?;
            let version = rest[slash + 1..].split('_').next().unwrap_or("");
            (!version.is_empty()).then_some((&rest[..slash], version))
        } else {
            let rest = key.strip_prefix('/').unwrap_or(key);
            let rest = rest.split('(').next().unwrap_or(rest);
            split_name_at(rest).filter(|(n, v)| !n.is_empty() && !v.is_empty())
        }
    }

    /// The graph node a key belongs to: `name@version` without peer suffixes.
    fn node_id(&self, key: &str) -> String {
        match self.parse_key(key) {
            Some((n, v)) => format!("{n}@{v}"),
            None => key.to_string(),
        }
    }

    /// The graph node a dependency reference points to; `None` for workspace links.
    fn resolve(&self, name: &str, reference: &str) -> Option<String> {
        if reference.starts_with("link:") {
            return None;
        }
        if reference.starts_with('/') {
            return Some(self.node_id(reference));
        }
        if self.major > 0 && self.major < 6 {
            if reference.contains('/') {
                return Some(reference.to_string());
            }
            let v = reference.split('_').next().unwrap_or(reference);
            return Some(format!("{name}@{v}"));
        }
        let r = reference.split('(').next().unwrap_or(reference);
        // 9.x writes an aliased dependency's reference as `real-name@1.0.0`.
        if split_name_at(r).is_some() {
            Some(r.to_string())
        } else {
            Some(format!("{name}@{r}"))
        }
    }

    /// Adds every package, with its scope, to the catalog.
    fn into_catalog(self, cat: &mut Catalog<'_>) {
        let mut first: HashMap<String, usize> = HashMap::new();
        let ids: Vec<String> = self.entries.iter().map(|e| self.node_id(&e.key)).collect();
        for (i, id) in ids.iter().enumerate() {
            first.entry(id.clone()).or_insert(i);
        }
        let mut graph = Graph::new(self.entries.len());
        for (from, name, reference) in &self.edges {
            let from = first.get(&self.node_id(from));
            let to = self.resolve(name, reference).and_then(|id| first.get(&id));
            if let (Some(&f), Some(&t)) = (from, to) {
                graph.edge(f, t);
            }
        }
        for (name, reference, dev) in &self.directs {
            if let Some(&t) = self.resolve(name, reference).and_then(|id| first.get(&id)) {
                graph.root(t, *dev);
            }
        }
        let scopes = graph.scopes();
        for (e, id) in self.entries.iter().zip(&ids) {
            let parsed = self.parse_key(&e.key);
            let name = e.name.as_deref().or(parsed.map(|p| p.0));
            let version = e.version.as_deref().or(parsed.map(|p| p.1));
            let (Some(name), Some(version)) = (name, version) else {
                cat.invalid(format!("`{}` without a name or version", e.key));
                continue;
            };
            // A key of a tarball or git dependency without a `version:` field holds a URL.
            if e.version.is_none() && version.contains([':', '/']) {
                continue;
            }
            let g = first.get(id).and_then(|&i| scopes[i]);
            let scope = match e.dev {
                Some(true) => Some(DependencyScope::Dev),
                Some(false) if g == Some(DependencyScope::Direct) => g,
                Some(false) => Some(DependencyScope::Transitive),
                None => g,
            };
            cat.add(name, version, scope);
        }
    }
}

/// Parses a pnpm lockfile. A file may hold several YAML documents (pnpm 9 puts the
/// lockfile of its own `packageManager` environment first, and each has its packages):
/// every document is read, each with its own graph, into one catalog.
pub(super) fn parse(text: &str, path: &str) -> Vec<FileFact> {
    let mut cat = Catalog::new(Eco::Npm, path);
    let mut lock = Lockfile::default();
    let unreadable = yamlish::walk(text, |e| match e {
        Event::Document => std::mem::take(&mut lock).into_catalog(&mut cat),
        Event::Entry {
            ancestors,
            key,
            value,
        } => lock.event(ancestors, key, value),
    });
    lock.into_catalog(&mut cat);
    if unreadable > 0 {
        cat.note(
            WarningKind::MalformedFile,
            format!("{unreadable} unreadable lines skipped"),
        );
    }
    cat.into_facts()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::{list, s};
    use DependencyScope::*;

    #[test]
    fn every_document_is_read() {
        let text = "---\nlockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    configDependencies: {}\n    packageManagerDependencies:\n      pnpm:\n        specifier: 9.15.0\n        version: 9.15.0\n\npackages:\n\n  pnpm@9.15.0:\n    resolution: {integrity: sha512-p}\n\nsnapshots:\n\n  pnpm@9.15.0: {}\n\n---\nlockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n      ms:\n        specifier: 2.1.3\n        version: 2.1.3\n\npackages:\n\n  ms@2.1.3:\n    resolution: {integrity: sha512-m}\n\n  bad key:\n    resolution: {integrity: sha512-x}\n\nsnapshots:\n\n  ms@2.1.3: {}\n";
        let facts = parse(text, "/p/pnpm-lock.yaml");
        assert_eq!(
            list(&facts),
            vec![s("pnpm", "9.15.0", None), s("ms", "2.1.3", Some(Direct))]
        );
    }

    #[test]
    fn v5_keys_with_peer_suffixes() {
        let text = "lockfileVersion: 5.4\n\nspecifiers:\n  react-dom: 17.0.2\n  typescript: ^4.0.0\n\ndependencies:\n  react-dom: 17.0.2_react@17.0.2\n\ndevDependencies:\n  typescript: 4.9.5\n\npackages:\n\n  /react-dom/17.0.2_react@17.0.2:\n    resolution: {integrity: sha512-x}\n    dependencies:\n      react: 17.0.2\n    dev: false\n\n  /react/17.0.2:\n    resolution: {integrity: sha512-y}\n    dev: false\n\n  /typescript/4.9.5:\n    dev: true\n\n  /@babel/core/7.0.0_@babel+x@1.0.0:\n    dev: true\n\n  github.com/user/repo/abcdef:\n    name: repo\n    version: 1.0.0\n    dev: false\n";
        assert_eq!(
            list(&parse(text, "/p/pnpm-lock.yaml")),
            vec![
                s("react-dom", "17.0.2", Some(Direct)),
                s("react", "17.0.2", Some(Transitive)),
                s("typescript", "4.9.5", Some(Dev)),
                s("@babel/core", "7.0.0", Some(Dev)),
                s("repo", "1.0.0", Some(Transitive)),
            ]
        );
    }

    #[test]
    fn v9_scopes_from_importers_and_snapshots() {
        let text = "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n\nimporters:\n\n  .:\n    dependencies:\n      express:\n        specifier: 4.16.0\n        version: 4.16.0\n      my-ms:\n        specifier: npm:ms@^2\n        version: ms@2.1.3\n    devDependencies:\n      '@types/node':\n        specifier: ^20\n        version: 20.1.0\n      lib:\n        specifier: link:../lib\n        version: link:../lib\n\npackages:\n\n  '@types/node@20.1.0':\n    resolution: {integrity: sha512-a}\n\n  debug@2.6.9:\n    resolution: {integrity: sha512-b}\n\n  express@4.16.0:\n    resolution: {integrity: sha512-c}\n    engines: {node: '>= 0.10.0'}\n\n  ms@2.0.0:\n    resolution: {integrity: sha512-d}\n\n  ms@2.1.3:\n    resolution: {integrity: sha512-e}\n\n  tar@https://codeload.example/tar/abc:\n    resolution: {tarball: https://codeload.example/tar/abc}\n    version: 6.0.0\n\n  nover@https://x.example/n.tgz:\n    resolution: {tarball: https://x.example/n.tgz}\n\nsnapshots:\n\n  '@types/node@20.1.0': {}\n\n  debug@2.6.9:\n    dependencies:\n      ms: 2.0.0\n\n  express@4.16.0(supports-color@5.5.0):\n    dependencies:\n      debug: 2.6.9\n\n  ms@2.0.0: {}\n\n  ms@2.1.3: {}\n";
        assert_eq!(
            list(&parse(text, "/p/pnpm-lock.yaml")),
            vec![
                s("@types/node", "20.1.0", Some(Dev)),
                s("debug", "2.6.9", Some(Transitive)),
                s("express", "4.16.0", Some(Direct)),
                s("ms", "2.0.0", Some(Transitive)),
                s("ms", "2.1.3", Some(Direct)),
                s("tar", "6.0.0", None),
            ]
        );
    }
}
