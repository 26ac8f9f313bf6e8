//! Node packages: installed `node_modules/**/package.json` files, the lockfiles of npm
//! (`package-lock.json`, `npm-shrinkwrap.json`), yarn (`yarn.lock`, v1 and berry), pnpm
//! (`pnpm-lock.yaml`, lockfile versions 5, 6 and 9, every YAML document of the file), Bun
//! (`bun.lock`, the text format) and Deno (`deno.lock`, versions 3 and 4), and the
//! project's own `package.json` outside any `node_modules`, reported with scope
//! `application` when it has a name and a version (as Syft does; a root without a
//! version is normal and says nothing).
//!
//! An installed package and a lockfile entry for it are reported separately, each with its
//! own path. Lockfiles inside `node_modules` (shipped inside a published package) are not
//! read: they describe that package's development, not what is installed.

use crate::analyzer::{AnalyzeError, FileFact};
use holdfast_model::path::{file_name, parent};

use crate::catalog::TextCataloger;

mod bun;
mod deno;
mod package_json;
mod package_lock;
mod pnpm;
mod yarn;

/// Reads installed Node packages and Node lockfiles.
pub struct NodeAnalyzer;

/// Which kind of Node file a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Installed,
    /// A project's own `package.json`, outside any `node_modules`.
    Application,
    PackageLock,
    Yarn,
    Pnpm,
    Bun,
    Deno,
}

/// Whether `dir` is a `node_modules` directory (`/x/node_modules` or a relative
/// `node_modules`).
fn is_node_modules(dir: &str) -> bool {
    dir.ends_with("/node_modules") || dir == "node_modules"
}

/// Whether a path lies inside a `node_modules` directory.
fn in_node_modules(path: &str) -> bool {
    path.contains("/node_modules/") || path.starts_with("node_modules/")
}

/// Classifies a path by its components alone (no allocation): `wants` runs on every entry.
fn kind(path: &str) -> Option<Kind> {
    let name = file_name(path);
    match name {
        "package.json" if !in_node_modules(path) => Some(Kind::Application),
        "package.json" => {
            // An installed package is `node_modules/NAME/package.json` or
            // `node_modules/@SCOPE/NAME/package.json`; package.json files deeper inside a
            // package (`lib/package.json` setting `"type"`) are not packages.
            let dir = parent(path);
            let pkg = file_name(dir);
            if pkg.is_empty() || pkg.starts_with('.') {
                return None;
            }
            let up = parent(dir);
            if is_node_modules(up) {
                return (!pkg.starts_with('@')).then_some(Kind::Installed);
            }
            let scope = file_name(up);
            (scope.len() > 1 && scope.starts_with('@') && is_node_modules(parent(up)))
                .then_some(Kind::Installed)
        }
        "package-lock.json"
        | "npm-shrinkwrap.json"
        | "yarn.lock"
        | "pnpm-lock.yaml"
        | "bun.lock"
        | "deno.lock"
            if in_node_modules(path) =>
        {
            None
        }
        "package-lock.json" | "npm-shrinkwrap.json" => Some(Kind::PackageLock),
        "yarn.lock" => Some(Kind::Yarn),
        "pnpm-lock.yaml" => Some(Kind::Pnpm),
        "bun.lock" => Some(Kind::Bun),
        "deno.lock" => Some(Kind::Deno),
        _ => None,
    }
}

impl TextCataloger for NodeAnalyzer {
    type Kind = Kind;
    const NAME: &'static str = "node";
    const VERSION: u32 = 3;
    fn kind(path: &str) -> Option<Kind> {
        kind(path)
    }
    fn parse(kind: Kind, bytes: &[u8], path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
        match kind {
            Kind::Installed => package_json::parse(bytes, path),
            Kind::Application => package_json::parse_application(bytes, path),
            Kind::Bun => bun::parse(&String::from_utf8_lossy(bytes), path),
            Kind::Deno => deno::parse(bytes, path),
            Kind::PackageLock => package_lock::parse(bytes, path),
            Kind::Yarn => Ok(yarn::parse(&String::from_utf8_lossy(bytes), path)),
            Kind::Pnpm => Ok(pnpm::parse(&String::from_utf8_lossy(bytes), path)),
        }
    }
}

/// The name and version of an npm alias (`npm:real-name@1.2.3`), as lockfiles record a
/// dependency installed under another name.
fn npm_alias(spec: &str) -> Option<(&str, &str)> {
    let rest = spec.strip_prefix("npm:")?;
    split_name_at(rest)
}

/// Splits `name@rest` at the `@` that ends the name; a scoped name's leading `@` is part
/// of it (`@babel/core@7.0.0` → `@babel/core`, `7.0.0`).
fn split_name_at(s: &str) -> Option<(&str, &str)> {
    let at = s.get(1..)?.find('@')? + 1;
    Some((&s[..at], &s[at + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_path() {
        let yes = [
            ("/app/node_modules/lodash/package.json", Kind::Installed),
            (
                "/app/node_modules/@babel/core/package.json",
                Kind::Installed,
            ),
            (
                "/app/node_modules/express/node_modules/debug/package.json",
                Kind::Installed,
            ),
            (
                "/app/node_modules/.pnpm/lodash@4.17.15/node_modules/lodash/package.json",
                Kind::Installed,
            ),
            ("/usr/lib/node_modules/npm/package.json", Kind::Installed),
            ("/app/package-lock.json", Kind::PackageLock),
            ("/app/npm-shrinkwrap.json", Kind::PackageLock),
            ("/app/yarn.lock", Kind::Yarn),
            ("/app/pnpm-lock.yaml", Kind::Pnpm),
            ("/app/bun.lock", Kind::Bun),
            ("/app/deno.lock", Kind::Deno),
            ("/app/package.json", Kind::Application),
            (
                "/usr/lib/python3/site-packages/jupyterlab/staging/package.json",
                Kind::Application,
            ),
        ];
        for (p, k) in yes {
            assert_eq!(kind(p), Some(k), "{p}");
        }
        for p in [
            "/app/node_modules/package.json",
            "/app/node_modules/x/bun.lock",
            "/app/node_modules/@babel/package.json",
            "/app/node_modules/lodash/lib/package.json",
            "/app/node_modules/@babel/core/lib/package.json",
            "/app/node_modules/.bin/package.json",
            "/app/node_modules/.package-lock.json",
            "/app/node_modules/foo/yarn.lock",
            "/app/node_modules/foo/package-lock.json",
            "/app/packages/node_modules.json",
        ] {
            assert_eq!(kind(p), None, "{p}");
        }
    }

    #[test]
    fn names_and_aliases() {
        assert_eq!(
            split_name_at("@babel/core@^7.0.0"),
            Some(("@babel/core", "^7.0.0"))
        );
        assert_eq!(
            split_name_at("lodash@npm:4.17.15"),
            Some(("lodash", "npm:4.17.15"))
        );
        assert_eq!(split_name_at("lodash"), None);
        assert_eq!(split_name_at(""), None);
        assert_eq!(
            npm_alias("npm:@scope/real@1.0.0"),
            Some(("@scope/real", "1.0.0"))
        );
        assert_eq!(npm_alias("1.0.0"), None);
    }
}
