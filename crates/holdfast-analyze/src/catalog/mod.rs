//! What the language catalogers share, whatever their ecosystem: the machinery, not the
//! formats.
//!
//! The catalogers themselves live one folder per ecosystem (`python/`, `node/`, `ruby/`,
//! `php/`, `go/`, `rust/`, `java/`, `dotnet/`), each holding every reader of that
//! ecosystem's files, text or binary, the way Syft and Trivy lay theirs out. This module is
//! named `catalog` because what is here is how a catalog of packages is built from one
//! file, independent of any ecosystem:
//!
//! * [`TextCataloger`], a trait whose blanket impl turns "which files, which parser" into
//!   an [`Analyzer`], and [`Catalog`], the bounded, validating, deduplicating package list
//!   of one file, with [`Eco`] fixing the package type, OSV ecosystem and purl form;
//! * [`package`]: a bare language package, plausibility checks on names and versions, and
//!   bounded reads, for catalogers that implement [`Analyzer`] by hand;
//! * readers of shared formats: [`lenient`] JSON/TOML leaves, [`yamlish`] (the block YAML
//!   of lockfiles), [`xmlish`] (the elements of Maven's XML), [`deps`] (scopes from a dependency graph), [`elf`] (program headers).
//!
//! `python`, `node`, `ruby` and `php` are [`TextCataloger`]s. The others implement
//! [`Analyzer`] themselves, because they read binaries and archives:
//!
//! | analyzer | files | how they are read |
//! | --- | --- | --- |
//! | `go` | ELF executables (build info), `go.mod` | executables as a forward-only stream, scanned in bounded chunks; `go.mod` as bytes |
//! | `rust` | `Cargo.lock`, ELF executables (cargo-auditable `.dep-v0`) | bytes, executables only up to the walker's default size bound |
//! | `java` | `.jar .war .ear .par .jpi .hpi` | bytes (zip needs random access), nested archives bounded in depth and size |
//! | `dotnet` | `*.deps.json`, `packages.lock.json` | bytes |
//!
//! The walker hands a file's live stream to the first analyzer that asked for
//! [`Want::Stream`] and warns for any other streaming analyzer of the same file, so only
//! `go` streams executables; `rust` asks for bytes (which the walker then reads once and
//! also serves to `go` as a reader over memory).
//!
//! Images are untrusted, so every parser here and in the ecosystem modules is bounded: at
//! most [`MAX_PACKAGES`] packages per file, JSON nesting within serde_json's default
//! recursion limit, no recursion over input structure without a depth bound, linear work
//! in the size of the file, and no `unwrap` on anything read from the input. Every file is
//! read on its own: nothing follows includes across files.

use std::collections::HashMap;

use holdfast_model::names::pep503_normalize;
use holdfast_model::{DependencyScope, Package, PackageType, Purl, WarningKind};

use crate::analyzer::{
    AnalyzeError, Analyzer, AnalyzerGroup, EntryMeta, FileContent, FileFact, FileInput, Want,
};

pub(crate) mod deps;
pub(crate) mod elf;
pub(crate) mod lenient;
pub(crate) mod package;
pub(crate) mod xmlish;
pub(crate) mod yamlish;

/// At most this many packages are kept from one file; past it the rest are counted and
/// reported as skipped.
pub(crate) const MAX_PACKAGES: usize = 1_000_000;

/// Longest package name or version accepted (npm's limit on names is 214 bytes; nothing
/// real comes near 256).
const MAX_FIELD: usize = 256;

/// At most this many licenses are kept per package.
const MAX_LICENSES: usize = 16;

/// A cataloger of text files recognized by their path alone, with one parser per kind of
/// file. Implementing it gives an [`Analyzer`] of the `Library` group that asks for the
/// file's bytes, strips a UTF-8 byte-order mark and hands them to `parse`.
pub(crate) trait TextCataloger: Send + Sync {
    /// The kinds of file this cataloger reads.
    type Kind: Copy;
    /// The analyzer's name.
    const NAME: &'static str;
    /// The analyzer's version (part of the layer-cache key).
    const VERSION: u32;
    /// The kind of file at `path`, if this cataloger reads it. Runs for every entry.
    fn kind(path: &str) -> Option<Self::Kind>;
    /// Parses one file; `bytes` has no byte-order mark.
    fn parse(kind: Self::Kind, bytes: &[u8], path: &str) -> Result<Vec<FileFact>, AnalyzeError>;
}

impl<T: TextCataloger> Analyzer for T {
    fn name(&self) -> &'static str {
        T::NAME
    }
    fn version(&self) -> u32 {
        T::VERSION
    }
    fn group(&self) -> AnalyzerGroup {
        AnalyzerGroup::Library
    }
    fn wants(&self, path: &str, _meta: &EntryMeta) -> Want {
        if T::kind(path).is_some() {
            Want::Bytes
        } else {
            Want::No
        }
    }
    fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
        let FileContent::Bytes(bytes) = input.content else {
            return Ok(Vec::new());
        };
        match T::kind(input.path) {
            Some(kind) => T::parse(kind, strip_bom(bytes), input.path),
            None => Ok(Vec::new()),
        }
    }
}

/// The bytes without a leading UTF-8 byte order mark, which some editors write and JSON
/// and TOML parsers reject (npm strips it too).
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// The ecosystem a catalog belongs to: fixes the package type, the OSV ecosystem name and
/// the purl form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Eco {
    /// PyPI; purl `pkg:pypi/NAME@V` with the PEP 503 name.
    Python,
    /// npm; purl `pkg:npm/%40scope/name@V`, lower-cased (purl-spec npm type).
    Npm,
    /// RubyGems; purl `pkg:gem/NAME@V?platform=P`, case kept (purl-spec gem type).
    Gem,
    /// Packagist; purl `pkg:composer/VENDOR/NAME@V`, lower-cased (purl-spec composer type).
    Composer,
}

impl Eco {
    /// The package type of this ecosystem's packages.
    fn package_type(self) -> PackageType {
        match self {
            Eco::Python => PackageType::Python,
            Eco::Npm => PackageType::Npm,
            Eco::Gem => PackageType::Gem,
            Eco::Composer => PackageType::Composer,
        }
    }

    /// The OSV ecosystem name.
    fn ecosystem(self) -> &'static str {
        match self {
            Eco::Python => "PyPI",
            Eco::Npm => "npm",
            Eco::Gem => "RubyGems",
            Eco::Composer => "Packagist",
        }
    }

    /// The package URL of a package of this ecosystem.
    fn purl(self, name: &str, version: &str, platform: Option<&str>) -> String {
        match self {
            Eco::Python => Purl::new("pypi", &pep503_normalize(name))
                .version(version)
                .to_string(),
            Eco::Npm => {
                let lower = name.to_ascii_lowercase();
                match lower.strip_prefix('@').and_then(|s| s.split_once('/')) {
                    Some((scope, rest)) => Purl::new("npm", rest)
                        .namespace(format!("@{scope}"))
                        .version(version)
                        .to_string(),
                    None => Purl::new("npm", &lower).version(version).to_string(),
                }
            }
            Eco::Gem => Purl::new("gem", name)
                .version(version)
                .qualifier_opt("platform", platform)
                .to_string(),
            Eco::Composer => {
                let lower = name.to_ascii_lowercase();
                match lower.split_once('/') {
                    Some((vendor, rest)) => Purl::new("composer", rest)
                        .namespace(vendor)
                        .version(version)
                        .to_string(),
                    None => Purl::new("composer", &lower).version(version).to_string(),
                }
            }
        }
    }
}

/// How strongly a scope says "this ships": a package seen several times in one file keeps
/// the strongest (a copy that is not dev-only means the package is not dev-only).
fn scope_rank(s: Option<DependencyScope>) -> u8 {
    match s {
        Some(DependencyScope::Dev) => 0,
        None => 1,
        Some(DependencyScope::Transitive) => 2,
        Some(DependencyScope::Direct) => 3,
        Some(DependencyScope::Application) => 4,
    }
}

/// The packages of one file as they are collected: validated, deduplicated by purl,
/// bounded, with counts of what was skipped.
pub(crate) struct Catalog<'p> {
    eco: Eco,
    path: &'p str,
    packages: Vec<Package>,
    by_purl: HashMap<String, usize>,
    over_limit: usize,
    invalid: usize,
    first_invalid: Option<String>,
    notes: Vec<FileFact>,
}

impl<'p> Catalog<'p> {
    /// An empty catalog for one file.
    pub(crate) fn new(eco: Eco, path: &'p str) -> Self {
        Catalog {
            eco,
            path,
            packages: Vec::new(),
            by_purl: HashMap::new(),
            over_limit: 0,
            invalid: 0,
            first_invalid: None,
            notes: Vec::new(),
        }
    }

    /// Adds a package; see [`Catalog::add_full`].
    pub(crate) fn add(&mut self, name: &str, version: &str, scope: Option<DependencyScope>) {
        self.add_full(name, version, scope, Vec::new(), None);
    }

    /// Adds a package after checking its name and version; a second entry with the same
    /// purl merges into the first (keeping the strongest scope and the first licenses).
    pub(crate) fn add_full(
        &mut self,
        name: &str,
        version: &str,
        scope: Option<DependencyScope>,
        licenses: Vec<String>,
        platform: Option<&str>,
    ) {
        let name = name.trim();
        let version = version.trim();
        if !valid_field(name) || !valid_field(version) {
            self.invalid(format!(
                "`{}` `{}`",
                shorten(name, 64),
                shorten(version, 64)
            ));
            return;
        }
        let platform = platform.filter(|p| valid_field(p));
        let purl = self.eco.purl(name, version, platform);
        if let Some(&i) = self.by_purl.get(&purl) {
            let existing = &mut self.packages[i];
            if scope_rank(scope) > scope_rank(existing.scope) {
                existing.scope = scope;
            }
            if existing.licenses.is_empty() {
                existing.licenses = clean_licenses(licenses);
            }
            return;
        }
        if self.packages.len() >= MAX_PACKAGES {
            self.over_limit += 1;
            return;
        }
        self.by_purl.insert(purl.clone(), self.packages.len());
        self.packages.push(Package {
            id: String::new(),
            name: name.to_string(),
            version: version.to_string(),
            package_type: self.eco.package_type(),
            purl,
            source_name: None,
            source_version: None,
            arch: None,
            epoch: None,
            licenses: clean_licenses(licenses),
            vendor: None,
            // The project's own package is not the registry's package of that name: its
            // advisories are not this package's.
            ecosystem: (scope != Some(DependencyScope::Application))
                .then(|| self.eco.ecosystem().to_string()),
            scope,
            layer: None,
            path: self.path.to_string(),
            owner: None,
            digests: Vec::new(),
            evidence: None,
        });
    }

    /// Counts an entry that could not be read; the first one is named in the warning
    /// (cut to a readable length: names in hostile files can be megabytes long).
    pub(crate) fn invalid(&mut self, what: String) {
        self.invalid += 1;
        if self.first_invalid.is_none() {
            self.first_invalid = Some(shorten(&what, 200).to_string());
        }
    }

    /// Adds a free-form warning of the given kind (at most a few are kept).
    pub(crate) fn note(&mut self, kind: WarningKind, msg: String) {
        if self.notes.len() < 8 {
            self.notes.push(FileFact::skipped(kind, msg));
        }
    }

    /// The facts for the file: always a (possibly empty) package list, so that a file
    /// rewritten to list nothing hides what a lower layer's copy listed; then warnings.
    pub(crate) fn into_facts(self) -> Vec<FileFact> {
        let mut facts = vec![FileFact::Packages(self.packages)];
        if self.invalid > 0 {
            facts.push(FileFact::malformed(format!(
                "{} entries without a usable name or version skipped (first: {})",
                self.invalid,
                self.first_invalid.unwrap_or_default()
            )));
        }
        if self.over_limit > 0 {
            facts.push(FileFact::bound(format!(
                "more than {MAX_PACKAGES} packages; {} more skipped",
                self.over_limit
            )));
        }
        facts.extend(self.notes);
        facts
    }
}

/// A name or version worth keeping: non-empty, bounded, no whitespace or control
/// characters.
pub(crate) fn valid_field(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_FIELD && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Trimmed, deduplicated, bounded licenses.
fn clean_licenses(licenses: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in licenses {
        let l = l.trim();
        if l.is_empty() || l.len() > MAX_FIELD || l.contains(char::is_control) {
            continue;
        }
        if !out.iter().any(|o| o == l) {
            out.push(l.to_string());
        }
        if out.len() >= MAX_LICENSES {
            break;
        }
    }
    out
}

/// At most `max` bytes of `s`, cut at a character boundary, for warnings.
pub(crate) fn shorten(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_per_type() {
        assert_eq!(
            Eco::Python.purl("Django", "3.2.0", None),
            "pkg:pypi/django@3.2.0"
        );
        assert_eq!(
            Eco::Npm.purl("@Babel/Core", "7.0.0", None),
            "pkg:npm/%40babel/core@7.0.0"
        );
        assert_eq!(
            Eco::Npm.purl("JSONStream", "1.3.5", None),
            "pkg:npm/jsonstream@1.3.5"
        );
        assert_eq!(
            Eco::Gem.purl("nokogiri", "1.15.4", Some("x86_64-linux")),
            "pkg:gem/nokogiri@1.15.4?platform=x86_64-linux"
        );
        assert_eq!(
            Eco::Composer.purl("Symfony/Console", "v5.4.0", None),
            "pkg:composer/symfony/console@v5.4.0"
        );
    }

    #[test]
    fn catalog_dedups_and_merges_scope() {
        let mut c = Catalog::new(Eco::Npm, "/app/package-lock.json");
        c.add("a", "1.0.0", Some(DependencyScope::Dev));
        c.add("a", "1.0.0", Some(DependencyScope::Transitive));
        c.add("a", "1.0.0", None);
        c.add("b", "", None);
        c.add("c d", "1", None);
        let facts = c.into_facts();
        let FileFact::Packages(p) = &facts[0] else {
            panic!("packages first")
        };
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].scope, Some(DependencyScope::Transitive));
        assert!(
            matches!(&facts[1], FileFact::Skipped { kind: WarningKind::MalformedFile, message: m } if m.starts_with("2 entries"))
        );
    }

    #[test]
    fn skipped_items_carry_their_kind() {
        let mut c = Catalog::new(Eco::Python, "/app/requirements.txt");
        c.add("ok", "1.0", None);
        c.add("bad name", "1.0", None);
        // Standing in for a file with more than MAX_PACKAGES entries.
        c.over_limit = 3;
        c.note(
            WarningKind::MalformedFile,
            "2 unreadable lines skipped".into(),
        );
        let kinds: Vec<(WarningKind, String)> = c
            .into_facts()
            .into_iter()
            .filter_map(|f| match f {
                FileFact::Skipped { kind, message } => Some((kind, message)),
                _ => None,
            })
            .collect();
        assert_eq!(
            kinds,
            [
                (
                    WarningKind::MalformedFile,
                    "1 entries without a usable name or version skipped (first: `bad name` `1.0`)"
                        .to_string()
                ),
                (
                    WarningKind::BoundReached,
                    format!("more than {MAX_PACKAGES} packages; 3 more skipped")
                ),
                (
                    WarningKind::MalformedFile,
                    "2 unreadable lines skipped".to_string()
                ),
            ]
        );
    }

    #[test]
    fn shorten_respects_char_boundaries() {
        assert_eq!(shorten("héllo", 2), "h");
        assert_eq!(shorten("abc", 10), "abc");
    }
}

/// Helpers shared by the catalogers' unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    use holdfast_model::DependencyScope;

    use crate::analyzer::FileFact;

    /// (name, version, scope) of the packages in the first fact.
    pub(crate) fn list(facts: &[FileFact]) -> Vec<(String, String, Option<DependencyScope>)> {
        let FileFact::Packages(p) = &facts[0] else {
            panic!("packages")
        };
        p.iter()
            .map(|p| (p.name.clone(), p.version.clone(), p.scope))
            .collect()
    }

    /// One expected (name, version, scope) row.
    pub(crate) fn s(
        n: &str,
        v: &str,
        sc: Option<DependencyScope>,
    ) -> (String, String, Option<DependencyScope>) {
        (n.to_string(), v.to_string(), sc)
    }
}
