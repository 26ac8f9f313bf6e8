//! `yarn.lock`, both generations.
//!
//! yarn v1 ("classic") writes its own syntax: a block per resolved package, headed by the
//! comma-separated specifiers that resolve to it (`"@babel/core@^7.0.0", "@babel/core@^7.1.0":`),
//! with indented `version "7.1.0"` and `resolved "..."` lines. yarn berry (2+) writes YAML
//! with a `__metadata` block first; each block has `version: 7.1.0` and
//! `resolution: "@babel/core@npm:7.1.0"`, whose protocol tells registry packages from the
//! project's own workspaces. Neither records development dependencies.
//!
//! berry's `workspace:` entries (`app@workspace:.`, the root, and `lib@workspace:packages/lib`)
//! are the project's own packages: scope `application`, with the version the lock gives
//! them (`0.0.0-use.local` unless the workspace's package.json names one). Other local
//! protocols (`link:`, `portal:`, `file:`, `exec:`) are skipped.

use holdfast_model::{DependencyScope, WarningKind};

use crate::analyzer::FileFact;
use crate::catalog::yamlish::{self, unquote, Event};
use crate::catalog::{shorten, Catalog, Eco};

use super::{npm_alias, split_name_at};

/// Protocols of the project's own code rather than of a published package.
const LOCAL_PROTOCOLS: [&str; 5] = ["workspace:", "link:", "portal:", "file:", "exec:"];

/// One block as it is read.
#[derive(Default)]
struct Block {
    header: String,
    version: Option<String>,
    resolution: Option<String>,
}

/// Parses a yarn.lock of either generation.
pub(super) fn parse(text: &str, path: &str) -> Vec<FileFact> {
    let mut cat = Catalog::new(Eco::Npm, path);
    let mut block: Option<Block> = None;
    let unreadable = yamlish::walk(text, |e| {
        let Event::Entry {
            ancestors,
            key,
            value,
        } = e
        else {
            return;
        };
        match (ancestors.len(), value) {
            (0, _) => {
                if let Some(b) = block.take() {
                    finish(b, &mut cat);
                }
                block = Some(Block {
                    header: key.to_string(),
                    ..Block::default()
                });
            }
            (1, Some(v)) => {
                if let Some(b) = block.as_mut() {
                    match key {
                        "version" => b.version = Some(v.to_string()),
                        "resolution" => b.resolution = Some(v.to_string()),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    });
    if let Some(b) = block.take() {
        finish(b, &mut cat);
    }
    if unreadable > 0 {
        cat.note(
            WarningKind::MalformedFile,
            format!("{unreadable} unreadable lines skipped"),
        );
    }
    cat.into_facts()
}

/// Turns a finished block into a package, when it is one.
fn finish(b: Block, cat: &mut Catalog<'_>) {
    if b.header == "__metadata" {
        return;
    }
    // berry: the resolution locator is `name@protocol:reference`.
    if let Some(res) = &b.resolution {
        let Some((name, reference)) = split_name_at(res) else {
            cat.invalid(format!("resolution `{}`", shorten(res, 80)));
            return;
        };
        let scope = if reference.starts_with("workspace:") {
            Some(DependencyScope::Application)
        } else if LOCAL_PROTOCOLS.iter().any(|p| reference.starts_with(p)) {
            return;
        } else {
            None
        };
        match &b.version {
            Some(v) => cat.add(name, v, scope),
            None => cat.invalid(format!("`{}` without a version", shorten(res, 80))),
        }
        return;
    }
    // v1: the first specifier names the package; `alias@npm:real@^1` installs `real`.
    let first = b.header.split(',').next().unwrap_or("").trim();
    let spec = unquote(first);
    let Some((name, range)) = split_name_at(&spec) else {
        cat.invalid(format!("block `{}`", shorten(&b.header, 80)));
        return;
    };
    if LOCAL_PROTOCOLS.iter().any(|p| range.starts_with(p)) {
        return;
    }
    let name = npm_alias(range).map_or(name, |(real, _)| real);
    match &b.version {
        Some(v) => cat.add(name, v, None),
        None => cat.invalid(format!("`{}` without a version", shorten(&spec, 80))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(facts: &[FileFact]) -> Vec<(String, String)> {
        let FileFact::Packages(p) = &facts[0] else {
            panic!("packages")
        };
        p.iter()
            .filter(|p| p.scope.is_none())
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect()
    }

    fn apps(facts: &[FileFact]) -> Vec<(String, String, Option<String>)> {
        let FileFact::Packages(p) = &facts[0] else {
            panic!("packages")
        };
        p.iter()
            .filter(|p| p.scope == Some(DependencyScope::Application))
            .map(|p| (p.name.clone(), p.version.clone(), p.ecosystem.clone()))
            .collect()
    }

    #[test]
    fn v1_blocks() {
        let text = "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n\n\n\"@babel/code-frame@^7.0.0\", \"@babel/code-frame@^7.10.4\":\n  version \"7.12.13\"\n  resolved \"https://registry.example.invalid/@babel/code-frame/-/code-frame-7.12.13.tgz#dcfc826beef65e75c50e21d3837d7d95798dd658\"\n  dependencies:\n    \"@babel/highlight\" \"^7.12.13\"\n\nlodash@^4.17.15, lodash@^4.17.4:\n  version \"4.17.15\"\n\nmy-ms@npm:ms@^2.0.0:\n  version \"2.1.3\"\n\nlocal@file:../local:\n  version \"0.0.1\"\n\nnoversion@^1:\n  resolved \"x\"\n";
        let facts = parse(text, "/app/yarn.lock");
        let got = list(&facts);
        assert_eq!(
            got,
            vec![
                ("@babel/code-frame".into(), "7.12.13".into()),
                ("lodash".into(), "4.17.15".into()),
                ("ms".into(), "2.1.3".into()),
            ]
        );
        assert!(
            matches!(&facts[1], FileFact::Skipped { kind: WarningKind::MalformedFile, message: m } if m.contains("noversion"))
        );
    }

    #[test]
    fn berry_blocks() {
        let text = "# This file is generated by running \"yarn install\" inside your project.\n\n__metadata:\n  version: 6\n  cacheKey: 8\n\n\"app@workspace:.\":\n  version: 0.0.0-use.local\n  resolution: \"app@workspace:.\"\n  languageName: unknown\n  linkType: soft\n\n\"@types/node@npm:^20.1.0\":\n  version: 20.1.0\n  resolution: \"@types/node@npm:20.1.0\"\n  checksum: 10c0/abc\n  languageName: node\n  linkType: hard\n\n\"resolve@patch:resolve@npm%3A^1.20.0#~builtin<compat/resolve>\":\n  version: 1.22.1\n  resolution: \"resolve@patch:resolve@npm%3A1.22.1#~builtin<compat/resolve>::version=1.22.1&hash=07638b\"\n\n\"resolve@npm:^1.20.0\":\n  version: 1.22.1\n  resolution: \"resolve@npm:1.22.1\"\n";
        let facts = parse(text, "/app/yarn.lock");
        assert_eq!(
            list(&facts),
            vec![
                ("@types/node".into(), "20.1.0".into()),
                ("resolve".into(), "1.22.1".into()),
            ]
        );
        assert_eq!(facts.len(), 1);
        assert_eq!(
            apps(&facts),
            vec![("app".into(), "0.0.0-use.local".into(), None)]
        );
    }

    #[test]
    fn berry_workspaces_are_applications() {
        let text = "__metadata:\n  version: 8\n\n\"@acme/lib@workspace:packages/lib\":\n  version: 2.1.0\n  resolution: \"@acme/lib@workspace:packages/lib\"\n  languageName: unknown\n  linkType: soft\n\n\"root@workspace:.\":\n  version: 0.0.0-use.local\n  resolution: \"root@workspace:.\"\n\n\"tool@link:./tool\":\n  version: 0.0.0-use.local\n  resolution: \"tool@link:./tool::locator=root%40workspace%3A.\"\n\n\"broken@workspace:x\":\n  resolution: \"broken@workspace:x\"\n\n\"ms@npm:^2.1.3\":\n  version: 2.1.3\n  resolution: \"ms@npm:2.1.3\"\n";
        let facts = parse(text, "/repo/yarn.lock");
        assert_eq!(
            apps(&facts),
            vec![
                ("@acme/lib".into(), "2.1.0".into(), None),
                ("root".into(), "0.0.0-use.local".into(), None),
            ]
        );
        assert_eq!(list(&facts), vec![("ms".into(), "2.1.3".into())]);
        // A workspace without a version is named in the warning; the rest is read.
        assert!(
            matches!(&facts[1], FileFact::Skipped { kind: WarningKind::MalformedFile, message: m } if m.contains("broken@workspace:x"))
        );
    }
}
