//! cargo-auditable data: `cargo auditable build` links a `.dep-v0` section into the
//! executable holding zlib-compressed JSON (`auditable-serde`'s `VersionInfo`, schema
//! `cargo-auditable.schema.json`):
//!
//! ```json
//! {"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1],"root":true},
//!              {"name":"serde","version":"1.0.190","source":"crates.io"},
//!              {"name":"cc","version":"1.0.83","source":"crates.io","kind":"build"}]}
//! ```
//!
//! `source` is `crates.io`, `git`, `local`, `registry` or another string; `kind` is
//! `runtime` (the default, omitted) or `build`; `dependencies` are indexes into
//! `packages`; `root` marks the crate the binary was built from.
//!
//! Reported: every runtime package that is not local (build-time crates such as
//! proc-macros and build scripts' dependencies are not in the binary, as Trivy also
//! leaves them out), with `Direct` for the root's own dependencies and `Transitive` for
//! the rest. A root from crates.io (`cargo auditable install`) is reported without scope.

use std::io::Read;

use holdfast_model::DependencyScope;
use object::{Object, ObjectSection};
use serde::Deserialize;

use super::{crate_package, CrateSource};
use crate::analyzer::FileFact;
use crate::catalog::elf;
use crate::catalog::package::{plausible_name, plausible_version};

/// The section name.
const SECTION: &str = ".dep-v0";
/// The JSON is not inflated past this (cargo-auditable's own reader defaults to 8 MiB).
const MAX_JSON: u64 = 16 << 20;

/// `VersionInfo`.
#[derive(Debug, Deserialize)]
struct VersionInfo {
    packages: Vec<AuditPackage>,
}

/// One package of `VersionInfo`.
#[derive(Debug, Deserialize)]
struct AuditPackage {
    name: String,
    version: String,
    source: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    dependencies: Vec<usize>,
    #[serde(default)]
    root: bool,
}

/// Facts from an executable's `.dep-v0` section; nothing for files that are not ELF or
/// have no such section. `data` is the file's bytes, or a cache over a temporary copy of a
/// large file, which then reads only the headers, symbol tables and that section.
pub(super) fn analyze<'d, R: object::ReadRef<'d>>(data: R, path: &str) -> Vec<FileFact> {
    if !data.read_bytes_at(0, 4).is_ok_and(elf::is_elf) {
        return Vec::new();
    }
    let file = match object::File::parse(data) {
        Ok(f) => f,
        Err(e) => {
            return vec![FileFact::malformed(format!(
                "ELF headers unreadable ({e}); cargo-auditable data not looked for"
            ))]
        }
    };
    let Some(section) = file.section_by_name(SECTION) else {
        return Vec::new();
    };
    let compressed = match section.data() {
        Ok(d) => d,
        Err(e) => {
            return vec![FileFact::malformed(format!(
                "{SECTION} section lies outside the file ({e})"
            ))]
        }
    };
    let mut json = Vec::new();
    let inflated = flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_JSON + 1)
        .read_to_end(&mut json);
    if let Err(e) = inflated {
        return vec![FileFact::malformed(format!(
            "{SECTION} section is not zlib data: {e}"
        ))];
    }
    if json.len() as u64 > MAX_JSON {
        return vec![FileFact::bound(format!(
            "{SECTION} section inflates past {} MiB; skipped",
            MAX_JSON >> 20
        ))];
    }
    let info: VersionInfo = match serde_json::from_slice(&json) {
        Ok(i) => i,
        Err(e) => {
            return vec![FileFact::malformed(format!(
                "{SECTION} section is not cargo-auditable JSON: {e}"
            ))]
        }
    };
    packages(&info, path)
}

/// Packages from decoded audit data.
fn packages(info: &VersionInfo, path: &str) -> Vec<FileFact> {
    let n = info.packages.len();
    let mut direct = vec![false; n];
    for p in info.packages.iter().filter(|p| p.root) {
        for &d in &p.dependencies {
            if let Some(slot) = direct.get_mut(d) {
                *slot = true;
            }
        }
    }
    let mut out = Vec::new();
    let mut bad = 0usize;
    for (i, p) in info.packages.iter().enumerate() {
        if p.kind.as_deref() == Some("build") {
            continue;
        }
        let source = match p.source.as_str() {
            "crates.io" => CrateSource::CratesIo,
            "local" => continue,
            "git" => CrateSource::Git(String::new()),
            "registry" => CrateSource::Registry(String::new()),
            other => CrateSource::Other(other.to_string()),
        };
        if !plausible_name(&p.name) || !plausible_version(&p.version) {
            bad += 1;
            continue;
        }
        let scope = if p.root {
            None
        } else if direct[i] {
            Some(DependencyScope::Direct)
        } else {
            Some(DependencyScope::Transitive)
        };
        out.push(crate_package(&p.name, &p.version, &source, scope, path));
    }
    let mut facts = vec![FileFact::Packages(out)];
    if bad > 0 {
        facts.push(FileFact::malformed(format!(
            "{bad} cargo-auditable packages without a valid name or version skipped"
        )));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_model::WarningKind;
    use std::io::Write;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// A relocatable ELF with the given section, written by `object`.
    fn elf_with(section: &[u8]) -> Vec<u8> {
        use object::write::Object as W;
        let mut o = W::new(
            object::BinaryFormat::Elf,
            object::Architecture::X86_64,
            object::Endianness::Little,
        );
        let id = o.add_section(
            Vec::new(),
            SECTION.as_bytes().to_vec(),
            object::SectionKind::ReadOnlyData,
        );
        o.append_section_data(id, section, 1);
        o.write().unwrap()
    }

    const JSON: &str = r#"{"packages":[
        {"name":"app","version":"0.1.0","source":"local","dependencies":[1,3],"root":true},
        {"name":"serde","version":"1.0.190","source":"crates.io","dependencies":[2]},
        {"name":"serde_derive","version":"1.0.190","source":"crates.io","kind":"build"},
        {"name":"itoa","version":"1.0.9","source":"crates.io"},
        {"name":"ryu","version":"1.0.15","source":"git","dependencies":[99]}
    ]}"#;

    #[test]
    fn reads_dep_v0() {
        let bytes = elf_with(&zlib(JSON.as_bytes()));
        let facts = analyze(&bytes[..], "/usr/bin/app");
        assert_eq!(facts.len(), 1, "{facts:?}");
        let FileFact::Packages(p) = &facts[0] else {
            panic!()
        };
        let got: Vec<_> = p
            .iter()
            .map(|p| (p.name.as_str(), p.scope, p.purl.as_str()))
            .collect();
        use DependencyScope::*;
        assert_eq!(
            got,
            vec![
                ("serde", Some(Direct), "pkg:cargo/serde@1.0.190"),
                ("itoa", Some(Direct), "pkg:cargo/itoa@1.0.9"),
                ("ryu", Some(Transitive), "pkg:cargo/ryu@1.0.15"),
            ]
        );
    }

    #[test]
    fn a_temporary_copy_reads_as_the_bytes_do() {
        let mut bytes = elf_with(&zlib(JSON.as_bytes()));
        // Padding after the section, as a large executable has.
        bytes.extend(std::iter::repeat_n(0u8, 1 << 20));
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&bytes).unwrap();
        let cache = object::read::ReadCache::new(&mut file);
        assert_eq!(
            analyze(&cache, "/usr/bin/app"),
            analyze(&bytes[..], "/usr/bin/app")
        );
        assert!(
            matches!(&analyze(&cache, "/usr/bin/app")[..], [FileFact::Packages(p)] if p.len() == 3)
        );
        // Not an ELF file, and a file shorter than the magic: nothing.
        let mut text = tempfile::tempfile().unwrap();
        text.write_all(b"#!").unwrap();
        assert!(analyze(&object::read::ReadCache::new(&mut text), "/x").is_empty());
    }

    #[test]
    fn hostile_sections() {
        assert!(analyze(&b"not elf"[..], "/x").is_empty());
        // No section.
        let plain = {
            use object::write::Object as W;
            W::new(
                object::BinaryFormat::Elf,
                object::Architecture::X86_64,
                object::Endianness::Little,
            )
            .write()
            .unwrap()
        };
        assert!(analyze(&plain[..], "/x").is_empty());
        // Not zlib, not JSON, a zlib bomb.
        let skipped = |bytes: &[u8], what: &str, want: WarningKind| {
            let f = analyze(bytes, "/x");
            assert!(
                matches!(f.as_slice(), [FileFact::Skipped { kind, message }]
                    if message.contains(what) && *kind == want),
                "{what}: {f:?}"
            );
        };
        skipped(
            &elf_with(b"garbage"),
            "not zlib",
            WarningKind::MalformedFile,
        );
        skipped(
            &elf_with(&zlib(b"{\"packages\": 5}")),
            "not cargo-auditable",
            WarningKind::MalformedFile,
        );
        let bomb = zlib(&vec![b' '; (MAX_JSON + 10) as usize]);
        skipped(&elf_with(&bomb), "inflates past", WarningKind::BoundReached);
        // Truncated ELF: cut inside the section header table.
        let good = elf_with(&zlib(JSON.as_bytes()));
        for cut in [5, 40, 64, good.len() - 10] {
            let f = analyze(&good[..cut], "/x");
            assert!(
                f.iter().all(|f| matches!(f, FileFact::Skipped { .. })),
                "{cut}: {f:?}"
            );
        }
    }

    #[test]
    fn forged_section_offsets() {
        let mut bytes = elf_with(&zlib(JSON.as_bytes()));
        // e_shoff (ELF64 offset 40) and the section headers' sh_offset/sh_size fields.
        let shoff = u64::from_le_bytes(bytes[40..48].try_into().unwrap()) as usize;
        let shnum = u16::from_le_bytes(bytes[60..62].try_into().unwrap()) as usize;
        for i in 0..shnum {
            let sh = shoff + i * 64;
            bytes[sh + 24..sh + 32].copy_from_slice(&(u64::MAX - 3).to_le_bytes());
            bytes[sh + 32..sh + 40].copy_from_slice(&(1u64 << 62).to_le_bytes());
        }
        let f = analyze(&bytes[..], "/x");
        assert!(
            f.iter().all(|f| matches!(f, FileFact::Skipped { .. })),
            "{f:?}"
        );
        // e_shoff past the end.
        let mut bytes = elf_with(&zlib(JSON.as_bytes()));
        bytes[40..48].copy_from_slice(&(u64::MAX - 100).to_le_bytes());
        let f = analyze(&bytes[..], "/x");
        assert!(
            f.iter().all(|f| matches!(f, FileFact::Skipped { .. })),
            "{f:?}"
        );
    }
}
