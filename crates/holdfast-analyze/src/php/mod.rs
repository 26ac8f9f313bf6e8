//! PHP packages from Composer: `composer.lock` (`packages`, and `packages-dev` for
//! development) and `vendor/composer/installed.json`, which Composer 1 writes as an array
//! of packages and Composer 2 as `{"packages": [...], "dev-package-names": [...]}`.
//! Versions are kept as written (`v5.4.0`). A root `composer.json` (outside `vendor/`)
//! that names its package and version is the application itself (scope `application`).
//! Extensions installed with `pecl` are read from PEAR's registry (`pecl.rs`).

use std::collections::HashSet;

use holdfast_model::path::file_name;
use holdfast_model::DependencyScope;
use serde::Deserialize;

use crate::analyzer::{AnalyzeError, FileFact};
use crate::catalog::lenient::{JLicenses, JStr, JStrs};
use crate::catalog::{Catalog, Eco, TextCataloger};

/// Reads Composer lockfiles and installed package lists.
pub struct PhpAnalyzer;

/// Where Composer records what it installed.
const INSTALLED: &str = "/vendor/composer/installed.json";

/// Which kind of Composer file a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Lock,
    Installed,
    /// A project's own `composer.json`.
    Application,
    /// A pecl registry entry.
    Pecl,
}

/// Classifies a path by its name alone (no allocation).
fn kind(path: &str) -> Option<Kind> {
    if file_name(path) == "composer.lock" {
        Some(Kind::Lock)
    } else if path.ends_with(INSTALLED) {
        Some(Kind::Installed)
    } else if file_name(path) == "composer.json" && !path.contains("/vendor/") {
        Some(Kind::Application)
    } else if pecl::wanted(path) {
        Some(Kind::Pecl)
    } else {
        None
    }
}

impl TextCataloger for PhpAnalyzer {
    type Kind = Kind;
    const NAME: &'static str = "php";
    const VERSION: u32 = 2;
    fn kind(path: &str) -> Option<Kind> {
        kind(path)
    }
    fn parse(kind: Kind, bytes: &[u8], path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
        match kind {
            Kind::Lock => parse_lock(bytes, path),
            Kind::Installed => parse_installed(bytes, path),
            Kind::Application => parse_application(bytes, path),
            Kind::Pecl => pecl::parse(bytes, path),
        }
    }
}

mod pecl;

/// A root `composer.json`: its own package when it names one with a version (most do
/// not write a version; then it is no package, and no warning either).
fn parse_application(bytes: &[u8], path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    let p: ComposerPackage = serde_json::from_slice(bytes).map_err(json_error)?;
    let mut cat = Catalog::new(Eco::Composer, path);
    if let (Some(name), Some(version)) = (p.name.0, p.version.0) {
        if name.contains('/') {
            cat.add_full(
                &name,
                &version,
                Some(DependencyScope::Application),
                p.license.0,
                None,
            );
        }
    }
    Ok(cat.into_facts())
}

/// One package entry of either file.
#[derive(Deserialize)]
struct ComposerPackage {
    #[serde(default)]
    name: JStr,
    #[serde(default)]
    version: JStr,
    #[serde(default)]
    license: JLicenses,
}

/// Adds one package; Composer names are always `vendor/name`.
fn add(cat: &mut Catalog<'_>, p: ComposerPackage, scope: Option<DependencyScope>) {
    match (p.name.0, p.version.0) {
        (Some(name), Some(version)) if name.contains('/') => {
            cat.add_full(&name, &version, scope, p.license.0, None);
        }
        (name, _) => cat.invalid(format!(
            "`{}` without a vendor/name or a version",
            name.unwrap_or_default()
        )),
    }
}

/// A Composer file serde_json cannot read.
fn json_error(e: serde_json::Error) -> AnalyzeError {
    AnalyzeError::Malformed(format!("not a valid Composer file: {e}"))
}

/// Parses a composer.lock.
pub(crate) fn parse_lock(bytes: &[u8], path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    #[derive(Deserialize)]
    struct Lock {
        #[serde(default)]
        packages: Option<Vec<ComposerPackage>>,
        #[serde(default, rename = "packages-dev")]
        packages_dev: Option<Vec<ComposerPackage>>,
    }
    let lock: Lock = serde_json::from_slice(bytes).map_err(json_error)?;
    let mut cat = Catalog::new(Eco::Composer, path);
    for p in lock.packages.unwrap_or_default() {
        add(&mut cat, p, None);
    }
    for p in lock.packages_dev.unwrap_or_default() {
        add(&mut cat, p, Some(DependencyScope::Dev));
    }
    Ok(cat.into_facts())
}

/// Parses a vendor/composer/installed.json of either Composer generation.
pub(crate) fn parse_installed(bytes: &[u8], path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    #[derive(Deserialize)]
    struct V2 {
        #[serde(default)]
        packages: Vec<ComposerPackage>,
        #[serde(default, rename = "dev-package-names")]
        dev_package_names: JStrs,
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let (packages, dev_names) = if first == Some(&b'[') {
        let v1: Vec<ComposerPackage> = serde_json::from_slice(bytes).map_err(json_error)?;
        (v1, Vec::new())
    } else {
        let v2: V2 = serde_json::from_slice(bytes).map_err(json_error)?;
        (v2.packages, v2.dev_package_names.0)
    };
    let dev: HashSet<String> = dev_names.into_iter().collect();
    let mut cat = Catalog::new(Eco::Composer, path);
    for p in packages {
        let scope = p
            .name
            .as_deref()
            .is_some_and(|n| dev.contains(n))
            .then_some(DependencyScope::Dev);
        add(&mut cat, p, scope);
    }
    Ok(cat.into_facts())
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_model::WarningKind;

    fn list(facts: &[FileFact]) -> Vec<(String, String, String, Option<DependencyScope>)> {
        let FileFact::Packages(p) = &facts[0] else {
            panic!("packages")
        };
        p.iter()
            .map(|p| (p.name.clone(), p.version.clone(), p.purl.clone(), p.scope))
            .collect()
    }

    #[test]
    fn application_composer_json() {
        assert_eq!(kind("/srv/app/composer.json"), Some(Kind::Application));
        assert_eq!(kind("/srv/app/vendor/monolog/monolog/composer.json"), None);
        assert_eq!(
            kind("/usr/local/lib/php/.registry/.channel.pecl.php.net/redis.reg"),
            Some(Kind::Pecl)
        );
        let facts = parse_application(
            br#"{"name": "acme/shop", "version": "2.1.0", "license": "MIT", "require": {"php": ">=8.1"}}"#,
            "/srv/app/composer.json",
        )
        .unwrap();
        let FileFact::Packages(p) = &facts[0] else {
            panic!()
        };
        assert_eq!(p[0].purl, "pkg:composer/acme/shop@2.1.0");
        assert_eq!(p[0].scope, Some(DependencyScope::Application));
        let facts = parse_application(br#"{"name": "acme/shop"}"#, "/c.json").unwrap();
        assert!(matches!(&facts[..], [FileFact::Packages(p)] if p.is_empty()));
        assert!(parse_application(b"{", "/c.json").is_err());
    }

    #[test]
    fn kinds_by_path() {
        assert_eq!(kind("/app/composer.lock"), Some(Kind::Lock));
        assert_eq!(
            kind("/app/vendor/composer/installed.json"),
            Some(Kind::Installed)
        );
        assert_eq!(kind("/app/composer.json"), Some(Kind::Application));
        assert_eq!(kind("/app/vendor/installed.json"), None);
    }

    #[test]
    fn lock_and_installed_forms() {
        let lock = br#"{"content-hash": "x", "packages": [
            {"name": "Monolog/Monolog", "version": "2.3.5", "license": ["MIT"]},
            {"name": "noslash", "version": "1.0"}],
          "packages-dev": [{"name": "phpunit/phpunit", "version": "9.5.10"}]}"#;
        let facts = parse_lock(lock, "/app/composer.lock").unwrap();
        assert_eq!(
            list(&facts),
            vec![
                (
                    "Monolog/Monolog".into(),
                    "2.3.5".into(),
                    "pkg:composer/monolog/monolog@2.3.5".into(),
                    None
                ),
                (
                    "phpunit/phpunit".into(),
                    "9.5.10".into(),
                    "pkg:composer/phpunit/phpunit@9.5.10".into(),
                    Some(DependencyScope::Dev)
                ),
            ]
        );
        assert!(matches!(
            &facts[1],
            FileFact::Skipped {
                kind: WarningKind::MalformedFile,
                ..
            }
        ));

        let v1 = br#" [{"name": "symfony/console", "version": "v5.4.0"}]"#;
        let facts = parse_installed(v1, "/app/vendor/composer/installed.json").unwrap();
        assert_eq!(list(&facts)[0].1, "v5.4.0");
        let v2 = br#"{"packages": [{"name": "symfony/console", "version": "v5.4.0"},
            {"name": "phpunit/phpunit", "version": "9.5.10"}], "dev": true,
            "dev-package-names": ["phpunit/phpunit"]}"#;
        let facts = parse_installed(v2, "/app/vendor/composer/installed.json").unwrap();
        let scopes: Vec<_> = list(&facts).into_iter().map(|p| p.3).collect();
        assert_eq!(scopes, vec![None, Some(DependencyScope::Dev)]);
        assert!(parse_installed(b"{\"packages\": 5}", "/p").is_err());
        assert!(parse_lock(b"\x00\x01", "/p").is_err());
    }
}
