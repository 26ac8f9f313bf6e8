//! Python lock files: `poetry.lock`, `Pipfile.lock`, `uv.lock`, `pdm.lock`.
//!
//! The TOML ones are deserialized with the `toml` crate into structs holding only the
//! fields used; leaves go through the lenient wrappers so an odd value drops one field, not
//! the file.

use std::collections::{BTreeMap, HashMap};

use holdfast_model::DependencyScope;
use serde::Deserialize;

use crate::analyzer::{AnalyzeError, FileFact};
use crate::catalog::deps::Graph;
use crate::catalog::lenient::{JStr, JStrs};
use holdfast_model::names::pep503_normalize;

use crate::catalog::{Catalog, Eco};

/// A TOML lock file the `toml` crate cannot read (bad syntax, nesting past its bound, or
/// a structure of the wrong shape).
fn toml_error(e: toml::de::Error) -> AnalyzeError {
    AnalyzeError::Malformed(format!("not a valid TOML lock file: {}", e.message()))
}

/// Adds one locked package, or counts it as unreadable when it has no name or version.
fn add(cat: &mut Catalog<'_>, name: &JStr, version: &JStr, scope: Option<DependencyScope>) {
    match (name.as_deref(), version.as_deref()) {
        (Some(n), Some(v)) => cat.add(n, v, scope),
        (n, _) => cat.invalid(format!("`{}` without a version", n.unwrap_or("?"))),
    }
}

/// `poetry.lock`: `[[package]]` tables with `name` and `version`. Lock format 1.x marks
/// development packages with `category = "dev"`; poetry 2's `groups = [...]` lists the
/// dependency groups that need a package, `main` being the non-development one.
pub(super) fn poetry(text: &str, path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    #[derive(Deserialize)]
    struct Lock {
        #[serde(default)]
        package: Vec<Package>,
    }
    #[derive(Deserialize)]
    struct Package {
        #[serde(default)]
        name: JStr,
        #[serde(default)]
        version: JStr,
        #[serde(default)]
        category: JStr,
        #[serde(default)]
        groups: JStrs,
    }
    let lock: Lock = toml::from_str(text).map_err(toml_error)?;
    let mut cat = Catalog::new(Eco::Python, path);
    for p in &lock.package {
        let dev = p.category.as_deref() == Some("dev")
            || (!p.groups.0.is_empty() && !p.groups.0.iter().any(|g| g == "main"));
        add(
            &mut cat,
            &p.name,
            &p.version,
            dev.then_some(DependencyScope::Dev),
        );
    }
    Ok(cat.into_facts())
}

/// `Pipfile.lock` (JSON): `default` and `develop` map names to `{"version": "==1.0"}`;
/// entries without a version are VCS or path dependencies and are skipped.
pub(super) fn pipfile(bytes: &[u8], path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    #[derive(Deserialize)]
    struct Lock {
        #[serde(default)]
        default: Option<BTreeMap<String, Entry>>,
        #[serde(default)]
        develop: Option<BTreeMap<String, Entry>>,
    }
    #[derive(Deserialize)]
    struct Entry {
        #[serde(default)]
        version: JStr,
    }
    let lock: Lock = serde_json::from_slice(bytes)
        .map_err(|e| AnalyzeError::Malformed(format!("not a valid Pipfile.lock: {e}")))?;
    let mut cat = Catalog::new(Eco::Python, path);
    let sections = [
        (lock.default, None),
        (lock.develop, Some(DependencyScope::Dev)),
    ];
    for (section, scope) in sections {
        for (name, entry) in section.unwrap_or_default() {
            let Some(v) = entry.version.as_deref() else {
                continue;
            };
            match v.strip_prefix("==") {
                Some(v) => cat.add(&name, v.strip_prefix('=').unwrap_or(v), scope),
                None => cat.invalid(format!("`{name}` `{v}` is not a pinned version")),
            }
        }
    }
    Ok(cat.into_facts())
}

/// `uv.lock`: `[[package]]` tables with `name`, `version`, `source` and their
/// `dependencies`. The project itself (and any workspace member) has an `editable` or
/// `virtual` source: it is not reported, but its `dependencies`,
/// `optional-dependencies` and `dev-dependencies` say which packages are direct and which
/// only serve development.
pub(super) fn uv(text: &str, path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    #[derive(Deserialize)]
    struct Lock {
        #[serde(default)]
        package: Vec<Package>,
    }
    #[derive(Deserialize)]
    struct Package {
        #[serde(default)]
        name: JStr,
        #[serde(default)]
        version: JStr,
        #[serde(default)]
        source: Source,
        #[serde(default)]
        dependencies: Vec<Dep>,
        #[serde(default, rename = "optional-dependencies")]
        optional_dependencies: BTreeMap<String, Vec<Dep>>,
        #[serde(default, rename = "dev-dependencies")]
        dev_dependencies: BTreeMap<String, Vec<Dep>>,
    }
    #[derive(Deserialize, Default)]
    struct Source {
        #[serde(default)]
        editable: JStr,
        #[serde(default, rename = "virtual")]
        virtual_: JStr,
    }
    #[derive(Deserialize)]
    struct Dep {
        #[serde(default)]
        name: JStr,
        #[serde(default)]
        version: JStr,
    }
    let lock: Lock = toml::from_str(text).map_err(toml_error)?;
    let pkgs = &lock.package;
    let is_project = |p: &Package| p.source.editable.0.is_some() || p.source.virtual_.0.is_some();

    // Name (normalized) → the packages of that name; uv adds `version` to a dependency
    // only when several versions of one name are locked.
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, p) in pkgs.iter().enumerate() {
        if let Some(n) = p.name.as_deref() {
            by_name.entry(pep503_normalize(n)).or_default().push(i);
        }
    }
    let targets = |d: &Dep| -> Vec<usize> {
        let Some(n) = d.name.as_deref() else {
            return Vec::new();
        };
        let all = by_name
            .get(&pep503_normalize(n))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        match d.version.as_deref() {
            Some(v) => all
                .iter()
                .copied()
                .filter(|&i| pkgs[i].version.as_deref() == Some(v))
                .collect(),
            None => all.to_vec(),
        }
    };
    let mut graph = Graph::new(pkgs.len());
    for (i, p) in pkgs.iter().enumerate() {
        let project = is_project(p);
        let prod = p
            .dependencies
            .iter()
            .chain(p.optional_dependencies.values().flatten());
        for d in prod {
            for t in targets(d) {
                graph.edge(i, t);
                if project {
                    graph.root(t, false);
                }
            }
        }
        if project {
            for d in p.dev_dependencies.values().flatten() {
                for t in targets(d) {
                    graph.edge(i, t);
                    graph.root(t, true);
                }
            }
        }
    }
    let scopes = graph.scopes();
    let mut cat = Catalog::new(Eco::Python, path);
    for (p, scope) in pkgs.iter().zip(scopes) {
        if is_project(p) {
            continue;
        }
        add(&mut cat, &p.name, &p.version, scope);
    }
    Ok(cat.into_facts())
}

/// `pdm.lock`: `[[package]]` tables with `name`, `version` and (lock format 4) `groups`,
/// where `default` is the non-development group.
pub(super) fn pdm(text: &str, path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    #[derive(Deserialize)]
    struct Lock {
        #[serde(default)]
        package: Vec<Package>,
    }
    #[derive(Deserialize)]
    struct Package {
        #[serde(default)]
        name: JStr,
        #[serde(default)]
        version: JStr,
        #[serde(default)]
        groups: JStrs,
    }
    let lock: Lock = toml::from_str(text).map_err(toml_error)?;
    let mut cat = Catalog::new(Eco::Python, path);
    for p in &lock.package {
        let dev = !p.groups.0.is_empty() && !p.groups.0.iter().any(|g| g == "default");
        add(
            &mut cat,
            &p.name,
            &p.version,
            dev.then_some(DependencyScope::Dev),
        );
    }
    Ok(cat.into_facts())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::{list, s};
    use holdfast_model::WarningKind;
    use DependencyScope::*;

    #[test]
    fn poetry_categories_and_groups() {
        let text = "[[package]]\nname = \"django\"\nversion = \"3.2\"\ncategory = \"main\"\n\n[[package]]\nname = \"pytest\"\nversion = \"6.2.4\"\ncategory = \"dev\"\n\n[[package]]\nname = \"black\"\nversion = \"22.1.0\"\ngroups = [\"lint\"]\n\n[[package]]\nname = \"pytz\"\nversion = \"2021.1\"\ngroups = [\"main\", \"dev\"]\n\n[[package]]\nname = \"odd\"\nversion = 3\n\n[metadata]\nlock-version = \"2.1\"\n";
        let facts = poetry(text, "/p/poetry.lock").unwrap();
        assert_eq!(
            list(&facts),
            vec![
                s("django", "3.2", None),
                s("pytest", "6.2.4", Some(Dev)),
                s("black", "22.1.0", Some(Dev)),
                s("pytz", "2021.1", None),
            ]
        );
        assert!(matches!(
            &facts[1],
            FileFact::Skipped {
                kind: WarningKind::MalformedFile,
                ..
            }
        ));
        assert!(poetry("[[package]\nname=", "/p").is_err());
    }

    #[test]
    fn uv_scopes_from_the_project() {
        let text = r#"version = 1
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "django" }]

[package.optional-dependencies]
yaml = [{ name = "pyyaml" }]

[package.dev-dependencies]
dev = [{ name = "pytest" }]

[[package]]
name = "asgiref"
version = "3.4.1"
source = { registry = "https://pypi.example.invalid/simple" }

[[package]]
name = "django"
version = "3.2"
source = { registry = "https://pypi.example.invalid/simple" }
dependencies = [{ name = "asgiref" }, { name = "pytz" }]

[[package]]
name = "iniconfig"
version = "1.1.1"
source = { registry = "https://pypi.example.invalid/simple" }

[[package]]
name = "pytest"
version = "6.2.4"
source = { registry = "https://pypi.example.invalid/simple" }
dependencies = [{ name = "iniconfig" }, { name = "pytz" }]

[[package]]
name = "pytz"
version = "2021.1"
source = { registry = "https://pypi.example.invalid/simple" }

[[package]]
name = "pyyaml"
version = "5.3"
source = { registry = "https://pypi.example.invalid/simple" }
"#;
        let facts = uv(text, "/p/uv.lock").unwrap();
        assert_eq!(
            list(&facts),
            vec![
                s("asgiref", "3.4.1", Some(Transitive)),
                s("django", "3.2", Some(Direct)),
                s("iniconfig", "1.1.1", Some(Dev)),
                s("pytest", "6.2.4", Some(Dev)),
                s("pytz", "2021.1", Some(Transitive)),
                s("pyyaml", "5.3", Some(Direct)),
            ]
        );
    }

    #[test]
    fn pdm_groups() {
        let text = "[metadata]\ngroups = [\"default\", \"test\"]\n\n[[package]]\nname = \"django\"\nversion = \"3.2\"\ngroups = [\"default\"]\n\n[[package]]\nname = \"pytest\"\nversion = \"6.2.4\"\ngroups = [\"test\"]\n";
        let facts = pdm(text, "/p/pdm.lock").unwrap();
        assert_eq!(
            list(&facts),
            vec![s("django", "3.2", None), s("pytest", "6.2.4", Some(Dev))]
        );
    }

    #[test]
    fn pipfile_sections() {
        let text = br#"{"_meta": {"hash": {"sha256": "x"}}, "default": {"django": {"version": "==3.2"}, "local": {"path": "."}, "odd": {"version": ">=1"}}, "develop": {"pytest": {"version": "==6.2.4"}}}"#;
        let facts = pipfile(text, "/p/Pipfile.lock").unwrap();
        assert_eq!(
            list(&facts),
            vec![s("django", "3.2", None), s("pytest", "6.2.4", Some(Dev))]
        );
        assert!(pipfile(b"[1,2", "/p").is_err());
    }

    #[test]
    fn deep_toml_is_refused() {
        let deep = format!("a = {}{}\n", "[".repeat(50_000), "]".repeat(50_000));
        assert!(poetry(&deep, "/p").is_err());
        let deep = format!("a = {}1{}\n", "{b = ".repeat(50_000), "}".repeat(50_000));
        assert!(uv(&deep, "/p").is_err());
    }
}
