//! A project's own declarations: `pyproject.toml` and `setup.py`, outside any
//! site-packages or dependency folder.
//!
//! * `pyproject.toml`: the project itself, with scope `application` (no ecosystem, never
//!   matched against advisories), named by `[project]` (PEP 621) or else `[tool.poetry]`.
//!   A dynamic or missing version is no package and no warning, as for a root
//!   `package.json`. When it declares dependencies (`[project] dependencies`, or
//!   `[tool.poetry.dependencies]` beyond `python`) it also leaves a [`DECLARES`] record.
//! * `setup.py`: the string literals of `install_requires=[...]`, read as requirement
//!   lines are (pinned `==`/`===` give a package, anything else is skipped), and a
//!   [`SETUP_NAME`] record with the literal `name=`. These count only when nothing better
//!   exists for the project: [`drop_superseded_setup_py`] runs over the merged image and
//!   removes them when the directory also holds a requirements file, a lock, a
//!   `pyproject.toml` with dependencies, or when the project is installed (its METADATA).

use std::collections::{HashMap, HashSet};

use holdfast_model::names::pep503_normalize;
use holdfast_model::path::{file_name, parent};
use holdfast_model::{DependencyScope, Package, PackageType};
use serde::Deserialize;

use crate::analyzer::{AnalyzeError, FileFact};
use crate::catalog::lenient::{JKeys, JStr, JStrs};
use crate::catalog::{shorten, Catalog, Eco};
use crate::merge::MergedFs;

use super::{requirements, valid_name};

/// Record kind: this `pyproject.toml` declares dependencies.
pub(crate) const DECLARES: &str = "declares-dependencies";
/// Record kind: the literal `name=` of a `setup.py` (a JSON string).
pub(crate) const SETUP_NAME: &str = "setup-py-name";

/// Whether a path lies inside installed packages or vendored code, where a
/// `pyproject.toml` or `setup.py` is some dependency's, not the project's.
pub(super) fn in_dependency_folder(path: &str) -> bool {
    [
        "/site-packages/",
        "/dist-packages/",
        "/node_modules/",
        "/_vendor/",
    ]
    .iter()
    .any(|d| path.contains(d))
}

/// A `pyproject.toml`: the project's own package when it names one with a version.
pub(super) fn pyproject(text: &str, path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        project: Option<Project>,
        #[serde(default)]
        tool: Option<Tool>,
    }
    #[derive(Deserialize)]
    struct Project {
        #[serde(default)]
        name: JStr,
        #[serde(default)]
        version: JStr,
        #[serde(default)]
        dependencies: JStrs,
    }
    #[derive(Deserialize)]
    struct Tool {
        #[serde(default)]
        poetry: Option<Poetry>,
    }
    #[derive(Deserialize)]
    struct Poetry {
        #[serde(default)]
        name: JStr,
        #[serde(default)]
        version: JStr,
        #[serde(default)]
        dependencies: JKeys,
    }
    let doc: Doc = toml::from_str(text).map_err(|e| {
        AnalyzeError::Malformed(format!("not a valid pyproject.toml: {}", e.message()))
    })?;
    let poetry = doc.tool.and_then(|t| t.poetry);
    let (mut name, mut version, mut declares) = (None, None, false);
    if let Some(p) = doc.project {
        declares |= !p.dependencies.0.is_empty();
        name = p.name.0;
        version = p.version.0;
    }
    if let Some(p) = poetry {
        declares |= p.dependencies.0.iter().any(|d| d != "python");
        // Poetry 2 names the project in `[project]`; `[tool.poetry]` fills what it lacks.
        if name.is_none() {
            name = p.name.0;
        }
        if version.is_none() {
            version = p.version.0;
        }
    }
    let mut cat = Catalog::new(Eco::Python, path);
    if let (Some(name), Some(version)) = (name, version) {
        if valid_name(name.trim()) {
            cat.add(&name, &version, Some(DependencyScope::Application));
        } else {
            cat.invalid(format!("project name `{}`", shorten(&name, 80)));
        }
    }
    let mut facts = cat.into_facts();
    if declares {
        facts.push(FileFact::Record {
            kind: DECLARES.to_string(),
            data: serde_json::Value::Null,
        });
    }
    Ok(facts)
}

/// A `setup.py`: pinned requirements from the literal `install_requires` list, and the
/// literal project name as a [`SETUP_NAME`] record. Never an error or a warning: it is
/// Python source, and a list that is computed rather than written out is simply not read.
pub(super) fn setup_py(text: &str, path: &str) -> Vec<FileFact> {
    let mut cat = Catalog::new(Eco::Python, path);
    let list = keyword_value(text, "install_requires")
        .and_then(|v| v.strip_prefix('['))
        .and_then(literal_list);
    for item in list.unwrap_or_default() {
        requirements::requirement(&item, &mut cat);
    }
    let mut facts = cat.into_facts();
    let name = keyword_value(text, "name")
        .and_then(literal)
        .map(|(n, _)| n)
        .filter(|n| valid_name(n));
    if let Some(name) = name {
        facts.push(FileFact::Record {
            kind: SETUP_NAME.to_string(),
            data: serde_json::Value::String(name),
        });
    }
    facts
}

/// The source after the first `KEY=` (or `"KEY":` in a dict literal) that is a whole
/// identifier, with leading whitespace removed.
fn keyword_value<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    let b = text.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut from = 0;
    while let Some(i) = text[from..].find(key).map(|i| i + from) {
        from = i + key.len();
        if i > 0 && ident(b[i - 1]) {
            continue;
        }
        let rest = &text[from..];
        let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest).trim_start();
        if let Some(v) = rest.strip_prefix(['=', ':']) {
            if !v.starts_with('=') {
                return Some(v.trim_start());
            }
        }
    }
    None
}

/// The items of a list of string literals, `src` starting after its `[`: `'a'`, `"b"`,
/// with commas, whitespace and `#` comments between, up to the closing `]`. `None` when
/// the list holds anything else (a name, a call, a concatenation) or never closes: such a
/// list is computed, and none of it is read.
fn literal_list(src: &str) -> Option<Vec<String>> {
    let mut items = Vec::new();
    let mut rest = src;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if let Some(comment) = rest.strip_prefix('#') {
            rest = comment.split_once('\n').map_or("", |(_, r)| r);
            continue;
        }
        if rest.starts_with(']') {
            return Some(items);
        }
        let (item, after) = literal(rest)?;
        items.push(item);
        rest = after;
    }
}

/// One string literal at the start of `src` (`'a'`, `"a"`, `r"a"`, `u'a'`), and the source
/// after it, when a separator (`,`, `]`, `)`, a comment or a line end) follows it: not
/// `'a' + x`, `'a'.format()` or `'a' 'b'`. Escapes and triple quotes are not read.
fn literal(src: &str) -> Option<(String, &str)> {
    let body = src
        .strip_prefix(['r', 'u', 'R', 'U'])
        .filter(|b| b.starts_with(['"', '\'']))
        .unwrap_or(src);
    let quote = body.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let body = &body[1..];
    let end = body.find([quote, '\n', '\\'])?;
    if !body[end..].starts_with(quote) || end == 0 {
        return None;
    }
    let rest = body[end + 1..].trim_start_matches([' ', '\t']);
    rest.starts_with([',', ']', ')', '#', '\n', '\r'])
        .then(|| (body[..end].to_string(), rest))
}

/// Removes the packages read from `setup.py` files whose project has something better:
/// a visible requirements file, lock file or `pyproject.toml` declaring dependencies in
/// the same directory, or installed metadata (`METADATA`, `PKG-INFO`) of the project's
/// name. Runs on the merged image.
pub(crate) fn drop_superseded_setup_py(packages: &mut Vec<Package>, fs: &MergedFs) {
    let mut setups: HashMap<&str, Option<String>> = HashMap::new();
    let mut better: HashSet<&str> = HashSet::new();
    for (path, by_analyzer) in &fs.stacks {
        let Some(top) = by_analyzer.get("python").and_then(|s| s.last()) else {
            continue;
        };
        let dir = parent(path);
        match file_name(path) {
            "setup.py" => {
                let name = top.result.facts.iter().find_map(|f| match f {
                    FileFact::Record { kind, data } if kind == SETUP_NAME => {
                        data.as_str().map(pep503_normalize)
                    }
                    _ => None,
                });
                setups.insert(dir, name);
            }
            "pyproject.toml" => {
                let declares = top
                    .result
                    .facts
                    .iter()
                    .any(|f| matches!(f, FileFact::Record { kind, .. } if kind == DECLARES));
                if declares {
                    better.insert(dir);
                }
            }
            "poetry.lock" | "Pipfile.lock" | "uv.lock" | "pdm.lock" => {
                better.insert(dir);
            }
            n if n.starts_with("requirements") && n.ends_with(".txt") => {
                better.insert(dir);
            }
            _ => {}
        }
    }
    if setups.is_empty() {
        return;
    }
    let installed: HashSet<String> = packages
        .iter()
        .filter(|p| p.package_type == PackageType::Python && installed_metadata(&p.path))
        .map(|p| pep503_normalize(&p.name))
        .collect();
    let superseded: HashSet<&str> = setups
        .iter()
        .filter(|(dir, name)| {
            better.contains(*dir) || name.as_ref().is_some_and(|n| installed.contains(n))
        })
        .map(|(dir, _)| *dir)
        .collect();
    packages.retain(|p| {
        !(p.package_type == PackageType::Python
            && file_name(&p.path) == "setup.py"
            && superseded.contains(parent(&p.path)))
    });
}

/// Whether a Python package was read from installed metadata.
fn installed_metadata(path: &str) -> bool {
    let name = file_name(path);
    name == "METADATA" || name == "PKG-INFO" || name.ends_with(".egg-info")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::list;

    #[test]
    fn pyproject_pep621_and_poetry() {
        let pep621 = "[build-system]\nrequires = [\"hatchling\"]\n\n[project]\nname = \"bench-app\"\nversion = \"1.0.0\"\ndependencies = [\"flask>=2\"]\n";
        let facts = pyproject(pep621, "/app/pyproject.toml").unwrap();
        assert_eq!(
            list(&facts),
            vec![(
                "bench-app".into(),
                "1.0.0".into(),
                Some(DependencyScope::Application)
            )]
        );
        let FileFact::Packages(p) = &facts[0] else {
            panic!()
        };
        assert_eq!(p[0].purl, "pkg:pypi/bench-app@1.0.0");
        assert_eq!(p[0].ecosystem, None);
        assert!(matches!(&facts[1], FileFact::Record { kind, .. } if kind == DECLARES));

        let poetry = "[tool.poetry]\nname = \"Mock_Proj\"\nversion = \"0.3.1\"\n\n[tool.poetry.dependencies]\npython = \"^3.10\"\n";
        let facts = pyproject(poetry, "/app/pyproject.toml").unwrap();
        assert_eq!(
            list(&facts),
            vec![(
                "Mock_Proj".into(),
                "0.3.1".into(),
                Some(DependencyScope::Application)
            )]
        );
        // Only `python` is no dependency.
        assert_eq!(facts.len(), 1);
    }

    #[test]
    fn pyproject_without_a_version_is_no_package() {
        for text in [
            "[project]\nname = \"x\"\ndynamic = [\"version\"]\n",
            "[tool.black]\nline-length = 100\n",
            "",
        ] {
            let facts = pyproject(text, "/app/pyproject.toml").unwrap();
            assert_eq!(list(&facts), vec![], "{text}");
            assert_eq!(facts.len(), 1, "{text}");
        }
        let facts = pyproject(
            "[project]\nname = \"bad name\"\nversion = \"1\"\n",
            "/p.toml",
        )
        .unwrap();
        assert!(matches!(&facts[1], FileFact::Skipped { .. }));
    }

    #[test]
    fn malformed_pyproject_is_an_error() {
        let e = pyproject("[project\nname = ", "/app/pyproject.toml").unwrap_err();
        assert!(e.to_string().contains("pyproject.toml"), "{e}");
        assert!(pyproject("project = 3\n", "/app/pyproject.toml").is_err());
    }

    #[test]
    fn setup_py_literal_install_requires() {
        let text = r#"from setuptools import setup
setup(
    name = "legacy-app",
    version=VERSION,
    install_requires=[
        "requests==2.19.1",  # pinned
        'six>=1.0',
        "PyYAML == 5.3 ; python_version >= '3'",
        r"idna===2.8",
        "dep @ https://x.test/dep.tar.gz",
    ],
    tests_require=["pytest==7.0"],
)
"#;
        let facts = setup_py(text, "/src/setup.py");
        assert_eq!(
            list(&facts),
            vec![
                ("requests".into(), "2.19.1".into(), None),
                ("PyYAML".into(), "5.3".into(), None),
                ("idna".into(), "2.8".into(), None),
            ]
        );
        assert!(matches!(&facts[1], FileFact::Record { kind, data }
            if kind == SETUP_NAME && data == "legacy-app"));
    }

    #[test]
    fn setup_py_without_literals_reads_nothing() {
        for text in [
            "setup(install_requires=REQS)",
            "setup(install_requires=[req('a==1')])",
            "setup(install_requires=['a==1' + x, 'b==2'])",
            "setup(install_requires=['unterminated==1",
            "setup(install_requires=['a==1', 'b==2'\n",
            "setup(install_requires=['a==1', REQ])",
            "install_requires == ['a==1']",
            "my_install_requires=['a==1']",
            "",
        ] {
            let facts = setup_py(text, "/src/setup.py");
            assert_eq!(list(&facts), vec![], "{text}");
            assert_eq!(facts.len(), 1, "{text}");
        }
        let facts = setup_py("kw = {'install_requires': ['a==1']}", "/setup.py");
        assert_eq!(list(&facts), vec![("a".into(), "1".into(), None)]);
    }

    #[test]
    fn dependency_folders() {
        assert!(in_dependency_folder(
            "/usr/lib/python3/dist-packages/x/pyproject.toml"
        ));
        assert!(in_dependency_folder(
            "/v/lib/python3.11/site-packages/pip/_vendor/x/setup.py"
        ));
        assert!(!in_dependency_folder("/app/pyproject.toml"));
    }
}
