//! `go.mod` (Go Modules Reference, "go.mod files"): `require` directives, single-line or in
//! blocks, with `// indirect` marking transitive requirements, and `replace` directives
//! (`replace OLD [VERSION] => NEW [VERSION]`; a version-specific replacement wins over a
//! wildcard one, and a replacement without a version is a local directory), and `exclude`
//! directives (`exclude PATH VERSION`: a requirement of exactly that version is not used
//! by the build, so it is not reported).
//!
//! Since Go 1.17 a module's go.mod lists every module that provides a package to the
//! build, so it is a complete list; older files list only direct requirements.

use holdfast_model::DependencyScope;

use super::{go_package, is_local_path, plausible_name, plausible_version};
use crate::analyzer::FileFact;

/// Whether a `go.mod` at this path belongs to a module being built.
///
/// Left out: the module cache (`$GOMODCACHE`, by default `$GOPATH/pkg/mod/`), which holds
/// the go.mod of every downloaded dependency version. Those list a dependency's own
/// requirements at versions minimal version selection may not have picked, so reporting
/// them would list versions the build never used (and every version ever downloaded).
/// And `vendor/` trees: a go.mod there belongs to a vendored dependency, whose selected
/// version the main module's go.mod already names.
pub(super) fn wanted_path(path: &str) -> bool {
    !path.contains("/pkg/mod/") && !path.contains("/vendor/")
}

/// One `require` line.
#[derive(Debug, PartialEq, Eq)]
struct Require {
    path: String,
    version: String,
    indirect: bool,
}

/// One `replace` line.
#[derive(Debug, PartialEq, Eq)]
struct Replace {
    old: String,
    old_version: Option<String>,
    new: String,
    new_version: Option<String>,
}

/// The requirements of one go.mod, replacements applied, as facts.
pub(super) fn analyze(text: &str, path: &str) -> Vec<FileFact> {
    let (requires, replaces, excludes, mut bad) = parse(text);
    let mut packages = Vec::new();
    for r in &requires {
        if excludes
            .iter()
            .any(|(p, v)| *p == r.path && *v == r.version)
        {
            continue;
        }
        // Go: a replacement naming the version wins over one for all versions.
        let rep = replaces
            .iter()
            .find(|p| p.old == r.path && p.old_version.as_deref() == Some(&r.version))
            .or_else(|| {
                replaces
                    .iter()
                    .find(|p| p.old == r.path && p.old_version.is_none())
            });
        let (name, version) = match rep {
            Some(Replace {
                new,
                new_version: Some(v),
                ..
            }) if !is_local_path(new) => (new.as_str(), v.as_str()),
            Some(_) => continue, // replaced by a local directory: not a published module
            None => (r.path.as_str(), r.version.as_str()),
        };
        if !plausible_name(name) || !plausible_version(version) {
            bad += 1;
            continue;
        }
        let scope = if r.indirect {
            DependencyScope::Transitive
        } else {
            DependencyScope::Direct
        };
        packages.push(go_package(name, version, Some(scope), path));
    }
    let mut facts = vec![FileFact::Packages(packages)];
    if bad > 0 {
        facts.push(FileFact::malformed(format!(
            "{bad} unreadable require, replace or exclude lines skipped"
        )));
    }
    facts
}

/// (path, version) of an `exclude` directive.
type Exclude = (String, String);

/// Splits go.mod into requirements, replacements and exclusions; counts lines it cannot
/// read.
fn parse(text: &str) -> (Vec<Require>, Vec<Replace>, Vec<Exclude>, usize) {
    let mut requires = Vec::new();
    let mut replaces = Vec::new();
    let mut excludes = Vec::new();
    let mut bad = 0;
    let mut block: Option<String> = None;
    for line in text.lines() {
        let (code, comment) = split_comment(line);
        let Some(tokens) = tokens(code) else {
            bad += 1;
            continue;
        };
        if tokens.is_empty() {
            continue;
        }
        let (verb, args) = match &block {
            Some(verb) => {
                if tokens == [")"] {
                    block = None;
                    continue;
                }
                (verb.clone(), tokens.as_slice())
            }
            None => {
                let verb = tokens[0].clone();
                match tokens.get(1).map(String::as_str) {
                    Some("(") => {
                        // `require (` opens a block; `require ()` is an empty one.
                        if tokens.get(2).map(String::as_str) != Some(")") {
                            block = Some(verb);
                        }
                        continue;
                    }
                    _ => (verb, &tokens[1..]),
                }
            }
        };
        match verb.as_str() {
            "require" => match args {
                [p, v] => requires.push(Require {
                    path: p.clone(),
                    version: v.clone(),
                    indirect: is_indirect(comment),
                }),
                _ => bad += 1,
            },
            "replace" => {
                let Some(arrow) = args.iter().position(|t| t == "=>") else {
                    bad += 1;
                    continue;
                };
                let (old, new) = (&args[..arrow], &args[arrow + 1..]);
                match (old, new) {
                    ([o, ov @ ..], [n, nv @ ..]) if ov.len() <= 1 && nv.len() <= 1 => replaces
                        .push(Replace {
                            old: o.clone(),
                            old_version: ov.first().cloned(),
                            new: n.clone(),
                            new_version: nv.first().cloned(),
                        }),
                    _ => bad += 1,
                }
            }
            "exclude" => match args {
                [p, v] => excludes.push((p.clone(), v.clone())),
                _ => bad += 1,
            },
            // module, go, toolchain, retract, godebug, tool, ignore: not packages.
            _ => {}
        }
    }
    (requires, replaces, excludes, bad)
}

/// Splits a line at a `//` comment outside quotes.
fn split_comment(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' && q == b'"' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => {
                if b == b'"' || b == b'`' {
                    quote = Some(b);
                } else if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
                    return (&line[..i], &line[i..]);
                }
            }
        }
        i += 1;
    }
    (line, "")
}

/// `modfile`'s rule: the comment, less `//` and spaces, is `indirect` or starts with
/// `indirect;`.
fn is_indirect(comment: &str) -> bool {
    let c = comment.trim_start_matches("//").trim();
    c == "indirect" || c.starts_with("indirect;")
}

/// The tokens of a line: words, `(`, `)`, `=>`, and quoted strings (unquoted). `None` for
/// an unterminated quote.
fn tokens(code: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' || c == ')' {
            out.push(c.to_string());
            chars.next();
        } else if c == '"' || c == '`' {
            chars.next();
            let mut s = String::new();
            let mut closed = false;
            while let Some(d) = chars.next() {
                if d == c {
                    closed = true;
                    break;
                }
                if d == '\\' && c == '"' {
                    s.push(chars.next()?);
                } else {
                    s.push(d);
                }
            }
            if !closed {
                return None;
            }
            out.push(s);
        } else {
            let mut s = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_whitespace() || d == '(' || d == ')' || d == '"' || d == '`' {
                    break;
                }
                s.push(d);
                chars.next();
            }
            out.push(s);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_model::WarningKind;

    const GOMOD: &str = r#"module example.com/app // the app

go 1.21

toolchain go1.21.5

require github.com/single/line v1.0.0

require (
	github.com/pkg/errors v0.9.1
	golang.org/x/net v0.17.0 // indirect
	golang.org/x/sys v0.13.0 // indirect; needed by net
	"github.com/quoted/path" v2.0.0+incompatible
	example.com/local v1.0.0
	example.com/pinned v1.1.0
	example.com/other v1.1.0 // not indirect
	example.com/excluded v1.2.0
)

replace golang.org/x/net => golang.org/x/net v0.19.0

replace (
	example.com/local => ../local
	example.com/pinned v1.1.0 => example.com/pinned-fork v1.1.1
	example.com/pinned => example.com/wrong v9.9.9
	example.com/other v1.0.0 => example.com/unused v0.0.1
)

exclude golang.org/x/sys v0.1.0
exclude (
	example.com/excluded v1.2.0
	example.com/excluded v1.3.0
)
retract v1.0.1
"#;

    #[test]
    fn requires_with_replacements() {
        let facts = analyze(GOMOD, "/src/go.mod");
        assert_eq!(facts.len(), 1, "{facts:?}");
        let FileFact::Packages(p) = &facts[0] else {
            panic!()
        };
        let got: Vec<_> = p
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.scope))
            .collect();
        use DependencyScope::*;
        assert_eq!(
            got,
            vec![
                ("github.com/single/line", "v1.0.0", Some(Direct)),
                ("github.com/pkg/errors", "v0.9.1", Some(Direct)),
                ("golang.org/x/net", "v0.19.0", Some(Transitive)),
                ("golang.org/x/sys", "v0.13.0", Some(Transitive)),
                (
                    "github.com/quoted/path",
                    "v2.0.0+incompatible",
                    Some(Direct)
                ),
                ("example.com/pinned-fork", "v1.1.1", Some(Direct)),
                ("example.com/other", "v1.1.0", Some(Direct)),
            ]
        );
        assert_eq!(p[2].purl, "pkg:golang/golang.org/x/net@v0.19.0");
        assert_eq!(p[0].ecosystem.as_deref(), Some("Go"));
    }

    #[test]
    fn bad_lines_are_counted() {
        let text = "require (\n\tonly-path\n\t\"unterminated v1\n\tok/mod v1.0.0\n)\nreplace a b\nreplace a => b v1 extra\nexclude ok/mod\n";
        let facts = analyze(text, "/go.mod");
        let FileFact::Packages(p) = &facts[0] else {
            panic!()
        };
        assert_eq!(p.len(), 1);
        assert!(
            matches!(&facts[1], FileFact::Skipped { kind: WarningKind::MalformedFile, message: m } if m.starts_with("5 "))
        );
    }

    #[test]
    fn comments_inside_quotes_and_empty_blocks() {
        assert_eq!(
            split_comment(r#""a//b" v1 // x"#),
            (r#""a//b" v1 "#, "// x")
        );
        let facts = analyze("require ()\nrequire x.org/y v1.0.0\n", "/go.mod");
        let FileFact::Packages(p) = &facts[0] else {
            panic!()
        };
        assert_eq!(p.len(), 1);
        assert!(is_indirect("//indirect"));
        assert!(!is_indirect("// indirectly"));
    }
}
