//! Rust: `Cargo.lock` files, and executables built with `cargo auditable`, which carry
//! their dependency list in an ELF section.
//!
//! Reading a section needs the section header table, which linkers put at the end of the
//! file, while the walker's stream only moves forward; and the `.dep-v0` section is an
//! allocated one, placed among the read-only data somewhere in the middle of the file,
//! so no bounded buffer kept before the table would be sure to hold it. This analyzer
//! therefore asks for executables as bytes, up to the walker's default size bound: the
//! walker then reads each such file once, for every analyzer (the Go analyzer streams
//! from the same bytes), and the ELF is parsed in memory with the `object` crate, whose
//! readers check every offset and size against the buffer. Larger executables are not
//! asked for: their audit data is not read (asking would turn every large binary into a
//! warning).

mod auditable;
mod cargo_lock;

use holdfast_model::path::file_name;
use holdfast_model::{DependencyScope, Package, PackageType, Purl};

use crate::analyzer::{
    AnalyzeError, Analyzer, AnalyzerGroup, EntryKind, EntryMeta, FileContent, FileFact, FileInput,
    Want,
};
use crate::catalog::package::{is_executable, lang_package, load, MAX_TEXT_BYTES};
use crate::walker::WalkLimits;

/// The OSV ecosystem of crates.io packages.
const ECOSYSTEM: &str = "crates.io";

/// Reads `Cargo.lock` files and cargo-auditable data in executables.
pub struct RustAnalyzer;

/// Whether a `Cargo.lock` at this path belongs to a project. Cargo's own download caches
/// (`$CARGO_HOME/registry/src`, `$CARGO_HOME/git/checkouts`) hold the sources, lock
/// files included, of every crate ever fetched: those are not what any binary was built
/// with.
fn wanted_lock(path: &str) -> bool {
    !path.contains("/.cargo/registry/") && !path.contains("/.cargo/git/")
}

impl Analyzer for RustAnalyzer {
    fn name(&self) -> &'static str {
        "rust"
    }
    fn version(&self) -> u32 {
        2
    }
    fn group(&self) -> AnalyzerGroup {
        AnalyzerGroup::Library
    }
    fn wants(&self, path: &str, meta: &EntryMeta) -> Want {
        if meta.kind != EntryKind::File {
            return Want::No;
        }
        if file_name(path) == "Cargo.lock" {
            return if wanted_lock(path) {
                Want::Bytes
            } else {
                Want::No
            };
        }
        if is_executable(meta)
            && meta.size >= 64
            && meta.size <= WalkLimits::default().max_file_bytes
        {
            return Want::Seekable;
        }
        Want::No
    }
    fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
        if let FileContent::File(file) = &mut input.content {
            let cache = object::read::ReadCache::new(&mut **file);
            return Ok(auditable::analyze(&cache, input.path));
        }
        let is_lock = file_name(input.path) == "Cargo.lock";
        let limit = if is_lock {
            MAX_TEXT_BYTES
        } else {
            WalkLimits::default().max_file_bytes
        };
        let Some(bytes) = load(&mut input.content, limit)? else {
            return Ok(vec![FileFact::bound(format!(
                "larger than {} MiB; skipped",
                limit >> 20
            ))]);
        };
        if is_lock {
            cargo_lock::analyze(&String::from_utf8_lossy(&bytes), input.path)
        } else {
            Ok(auditable::analyze(&bytes[..], input.path))
        }
    }
}

/// Where a crate came from, from a Cargo.lock `source` (or the audit data's `source`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CrateSource {
    /// crates.io, through the git or the sparse index.
    CratesIo,
    /// Another registry, by index URL.
    Registry(String),
    /// A git repository: `git+URL` with the commit.
    Git(String),
    /// A path or workspace member: not a published crate.
    Local,
    /// A source this reader does not know.
    Other(String),
}

impl CrateSource {
    /// Classifies a Cargo.lock `source` string (`registry+URL`, `sparse+URL`, `git+URL#REV`).
    pub(crate) fn from_lock(source: Option<&str>) -> Self {
        let Some(s) = source else {
            return CrateSource::Local;
        };
        const CRATES_IO: [&str; 2] = [
            "registry+https://github.com/rust-lang/crates.io-index",
            "sparse+https://index.crates.io/",
        ];
        if CRATES_IO.contains(&s) {
            CrateSource::CratesIo
        } else if let Some(u) = s
            .strip_prefix("registry+")
            .or_else(|| s.strip_prefix("sparse+"))
        {
            CrateSource::Registry(u.to_string())
        } else if s.starts_with("git+") {
            CrateSource::Git(s.to_string())
        } else if s.starts_with("path+") {
            CrateSource::Local
        } else {
            CrateSource::Other(s.to_string())
        }
    }
}

/// A crate package: `pkg:cargo/NAME@VERSION`, with `repository_url` for other registries
/// and `vcs_url` for git sources (purl-spec's common qualifiers). Only crates.io crates
/// get the `crates.io` ecosystem: advisories for a name there say nothing about a crate
/// of the same name elsewhere.
pub(crate) fn crate_package(
    name: &str,
    version: &str,
    source: &CrateSource,
    scope: Option<DependencyScope>,
    path: &str,
) -> Package {
    let mut purl = Purl::new("cargo", name).version(version);
    let mut ecosystem = None;
    match source {
        CrateSource::CratesIo => ecosystem = Some(ECOSYSTEM),
        CrateSource::Registry(u) => purl = purl.qualifier("repository_url", u.as_str()),
        CrateSource::Git(u) => {
            // `git+https://host/repo?branch=x#COMMIT` → `git+https://host/repo@COMMIT`.
            let (url, rev) = u.split_once('#').unwrap_or((u.as_str(), ""));
            let url = url.split('?').next().unwrap_or(url);
            let v = if rev.is_empty() {
                url.to_string()
            } else {
                format!("{url}@{rev}")
            };
            purl = purl.qualifier("vcs_url", v);
        }
        CrateSource::Local | CrateSource::Other(_) => {}
    }
    lang_package(
        PackageType::Cargo,
        name,
        version,
        purl.to_string(),
        ecosystem,
        scope,
        path,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_purls() {
        let io = CrateSource::from_lock(Some(
            "registry+https://github.com/rust-lang/crates.io-index",
        ));
        assert_eq!(io, CrateSource::CratesIo);
        assert_eq!(
            CrateSource::from_lock(Some("sparse+https://index.crates.io/")),
            CrateSource::CratesIo
        );
        let p = crate_package("serde", "1.0.190", &io, None, "/Cargo.lock");
        assert_eq!(p.purl, "pkg:cargo/serde@1.0.190");
        assert_eq!(p.ecosystem.as_deref(), Some("crates.io"));

        let git =
            CrateSource::from_lock(Some("git+https://github.com/acme/x?branch=main#0123abcd"));
        let p = crate_package("x", "0.1.0", &git, None, "/Cargo.lock");
        assert_eq!(
            p.purl,
            "pkg:cargo/x@0.1.0?vcs_url=git+https://github.com/acme/x%400123abcd"
        );
        assert_eq!(p.ecosystem, None);

        let reg = CrateSource::from_lock(Some("sparse+https://crates.acme.dev/index/"));
        let p = crate_package("y", "2.0.0", &reg, None, "/Cargo.lock");
        assert_eq!(
            p.purl,
            "pkg:cargo/y@2.0.0?repository_url=https://crates.acme.dev/index/"
        );
        assert_eq!(CrateSource::from_lock(None), CrateSource::Local);
    }

    #[test]
    fn wants() {
        let a = RustAnalyzer;
        let exe = EntryMeta {
            kind: EntryKind::File,
            size: 1 << 20,
            mode: 0o755,
            uid: 0,
            gid: 0,
            capabilities: None,
        };
        let huge = EntryMeta {
            size: 1 << 40,
            ..exe.clone()
        };
        let plain = EntryMeta {
            mode: 0o644,
            ..exe.clone()
        };
        assert_eq!(a.wants("/usr/bin/x", &exe), Want::Seekable);
        assert_eq!(a.wants("/usr/bin/x", &huge), Want::No);
        assert_eq!(a.wants("/usr/bin/x", &plain), Want::No);
        assert_eq!(a.wants("/src/Cargo.lock", &plain), Want::Bytes);
        assert_eq!(
            a.wants(
                "/root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/x-1.0.0/Cargo.lock",
                &plain
            ),
            Want::No
        );
    }
}
