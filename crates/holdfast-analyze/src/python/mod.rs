//! Python packages: installed distributions and requirement or lock files.
//!
//! Installed: `NAME-V.dist-info/METADATA` (wheels, PEP 376/427), `NAME.egg-info/PKG-INFO`
//! and `NAME.egg-info` as a file (setuptools/distutils), `NAME.egg/EGG-INFO/PKG-INFO`
//! (eggs), wherever they are: system `dist-packages`, `/usr/local`, virtual environments,
//! user site. Declared: `requirements*.txt` (pinned lines), `poetry.lock`, `Pipfile.lock`,
//! `uv.lock`, `pdm.lock`. The project's own: `pyproject.toml` (the application itself) and
//! `setup.py` (`install_requires`, kept only when nothing better exists; see `project.rs`).

use crate::analyzer::{AnalyzeError, FileFact};
use holdfast_model::path::{file_name, parent};

use crate::catalog::TextCataloger;

mod locks;
mod metadata;
mod project;
mod requirements;

pub(crate) use project::drop_superseded_setup_py;

/// Reads Python package metadata and lock files.
pub struct PythonAnalyzer;

/// Which kind of Python file a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Metadata,
    Requirements,
    Poetry,
    Pipfile,
    Uv,
    Pdm,
    /// A project's own `pyproject.toml`.
    Pyproject,
    /// A project's own `setup.py`.
    SetupPy,
}

/// Classifies a path by its name alone (no allocation): `wants` runs on every entry.
fn kind(path: &str) -> Option<Kind> {
    let name = file_name(path);
    match name {
        "METADATA" => parent(path)
            .ends_with(".dist-info")
            .then_some(Kind::Metadata),
        "PKG-INFO" => {
            let dir = parent(path);
            (dir.ends_with(".egg-info") || dir.ends_with(".egg/EGG-INFO")).then_some(Kind::Metadata)
        }
        "poetry.lock" => Some(Kind::Poetry),
        "Pipfile.lock" => Some(Kind::Pipfile),
        "uv.lock" => Some(Kind::Uv),
        "pdm.lock" => Some(Kind::Pdm),
        "pyproject.toml" if !project::in_dependency_folder(path) => Some(Kind::Pyproject),
        "setup.py" if !project::in_dependency_folder(path) => Some(Kind::SetupPy),
        // distutils writes `NAME-V-pyX.Y.egg-info` as a single file holding the metadata.
        _ if name.ends_with(".egg-info") => Some(Kind::Metadata),
        _ if name.starts_with("requirements") && name.ends_with(".txt") => Some(Kind::Requirements),
        _ => None,
    }
}

impl TextCataloger for PythonAnalyzer {
    type Kind = Kind;
    const NAME: &'static str = "python";
    const VERSION: u32 = 2;
    fn kind(path: &str) -> Option<Kind> {
        kind(path)
    }
    fn parse(kind: Kind, bytes: &[u8], path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
        let text = String::from_utf8_lossy(bytes);
        match kind {
            Kind::Metadata => metadata::parse(&text, path),
            Kind::Requirements => Ok(requirements::parse(&text, path)),
            Kind::Poetry => locks::poetry(&text, path),
            Kind::Pipfile => locks::pipfile(bytes, path),
            Kind::Uv => locks::uv(&text, path),
            Kind::Pdm => locks::pdm(&text, path),
            Kind::Pyproject => project::pyproject(&text, path),
            Kind::SetupPy => Ok(project::setup_py(&text, path)),
        }
    }
}

/// A distribution name as PEP 508 allows it: ASCII letters and digits, with `.`, `_`, `-`
/// inside, starting and ending with a letter or digit.
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_path() {
        let yes = [
            (
                "/usr/lib/python3/dist-packages/PyYAML-5.3.dist-info/METADATA",
                Kind::Metadata,
            ),
            (
                "/usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO",
                Kind::Metadata,
            ),
            (
                "/usr/lib/python3/dist-packages/python_apt-2.0.egg-info",
                Kind::Metadata,
            ),
            ("/opt/x/foo-1.0-py3.8.egg/EGG-INFO/PKG-INFO", Kind::Metadata),
            ("/app/requirements.txt", Kind::Requirements),
            ("/app/requirements-dev.txt", Kind::Requirements),
            ("/app/poetry.lock", Kind::Poetry),
            ("/app/Pipfile.lock", Kind::Pipfile),
            ("/app/uv.lock", Kind::Uv),
            ("/app/pdm.lock", Kind::Pdm),
            ("/app/pyproject.toml", Kind::Pyproject),
            ("/src/setup.py", Kind::SetupPy),
        ];
        for (p, k) in yes {
            assert_eq!(kind(p), Some(k), "{p}");
        }
        for p in [
            "/app/METADATA",
            "/app/x.dist-info/RECORD",
            "/app/PKG-INFO",
            "/app/requirements.in",
            "/app/dev-requirements.txt",
            "/app/Pipfile",
            "/app/egg-info/foo",
            "/usr/lib/python3/dist-packages/x/pyproject.toml",
            "/usr/local/lib/python3.11/site-packages/y/setup.py",
        ] {
            assert_eq!(kind(p), None, "{p}");
        }
    }

    #[test]
    fn pep508_names() {
        assert!(valid_name("Django"));
        assert!(valid_name("zope.interface"));
        assert!(valid_name("a"));
        assert!(!valid_name("-a"));
        assert!(!valid_name("a b"));
        assert!(!valid_name("a_"));
        assert!(!valid_name(""));
    }
}
