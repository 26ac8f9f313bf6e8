//! Hostile input for the binary and archive catalogers: zip bombs, deeply nested jars,
//! forged and truncated ELF files, a 1 GiB stream. Each must end in bounded time and
//! memory with packages, a warning or an error naming the problem, and never a panic.

use std::io::{Cursor, Read, Write};
use std::time::{Duration, Instant};

use holdfast_analyze::analyzer::{
    AnalyzeError, Analyzer, EntryKind, EntryMeta, FileContent, FileFact, FileInput,
};

fn analyzer(name: &str) -> Box<dyn Analyzer> {
    holdfast_analyze::registry::all()
        .into_iter()
        .find(|a| a.name() == name)
        .unwrap_or_else(|| panic!("no analyzer `{name}`"))
}

fn meta(size: u64, mode: u32) -> EntryMeta {
    EntryMeta {
        kind: EntryKind::File,
        size,
        mode,
        uid: 0,
        gid: 0,
        capabilities: None,
    }
}

fn run_bytes(a: &dyn Analyzer, path: &str, data: &[u8]) -> Result<Vec<FileFact>, AnalyzeError> {
    let m = meta(data.len() as u64, 0o755);
    let mut input = FileInput {
        path,
        meta: &m,
        content: FileContent::Bytes(data),
    };
    a.analyze(&mut input)
}

fn run_stream(
    a: &dyn Analyzer,
    path: &str,
    size: u64,
    r: &mut dyn Read,
) -> Result<Vec<FileFact>, AnalyzeError> {
    let m = meta(size, 0o755);
    let mut input = FileInput {
        path,
        meta: &m,
        content: FileContent::Stream(r),
    };
    a.analyze(&mut input)
}

fn packages(facts: &[FileFact]) -> Vec<holdfast_model::Package> {
    facts
        .iter()
        .flat_map(|f| match f {
            FileFact::Packages(p) => p.clone(),
            _ => Vec::new(),
        })
        .collect()
}

fn warnings(facts: &[FileFact]) -> Vec<String> {
    facts
        .iter()
        .filter_map(|f| match f {
            FileFact::Skipped { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

fn zip_of(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data, stored) in entries {
        let method = if *stored {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        w.start_file(
            *name,
            zip::write::SimpleFileOptions::default()
                .compression_method(method)
                .large_file(data.len() > u32::MAX as usize),
        )
        .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn pom(g: &str, a: &str, v: &str) -> Vec<u8> {
    format!("groupId={g}\nartifactId={a}\nversion={v}\n").into_bytes()
}

/// Rewrites the uncompressed size of every entry, in the local headers and the central
/// directory, to `size`: an archive whose entries lie about how much they inflate to.
fn forge_uncompressed_sizes(zip: &mut [u8], size: u32) {
    let mut i = 0;
    while i + 4 <= zip.len() {
        match &zip[i..i + 4] {
            b"PK\x03\x04" if i + 26 <= zip.len() => {
                zip[i + 22..i + 26].copy_from_slice(&size.to_le_bytes());
                i += 30;
            }
            b"PK\x01\x02" if i + 28 <= zip.len() => {
                zip[i + 24..i + 28].copy_from_slice(&size.to_le_bytes());
                i += 46;
            }
            _ => i += 1,
        }
    }
}

/// A reader of `len` bytes: `head`, then zeros. Never holds more than `head`.
struct Synthetic {
    head: Vec<u8>,
    pos: u64,
    len: u64,
}

impl Read for Synthetic {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.len {
            return Ok(0);
        }
        let n = (buf.len() as u64).min(self.len - self.pos) as usize;
        let out = &mut buf[..n];
        out.fill(0);
        if let Some(head) = usize::try_from(self.pos)
            .ok()
            .and_then(|p| self.head.get(p..))
        {
            let k = head.len().min(n);
            out[..k].copy_from_slice(&head[..k]);
        }
        self.pos += n as u64;
        Ok(n)
    }
}

fn elf_header() -> Vec<u8> {
    let mut b = vec![0u8; 64];
    b[..4].copy_from_slice(b"\x7fELF");
    b[4] = 2;
    b[5] = 1;
    b[6] = 1;
    b
}

/// A small deterministic pseudo-random generator (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

// ---------------------------------------------------------------------------------------
// Zip bombs and nesting

#[test]
fn zip_bomb_with_honest_sizes_is_refused_by_declared_size() {
    // A pom.properties and a nested jar that declare (truthfully) far more than the
    // bounds: refused before inflating anything.
    let zeros = vec![0u8; 40 << 20];
    let jar = zip_of(&[
        (
            "META-INF/maven/g/a/pom.properties",
            &zeros[..1 << 20],
            false,
        ),
        ("lib/bomb.jar", &zeros, false),
    ]);
    assert!(jar.len() < 200_000, "compressed to {} bytes", jar.len());
    let start = Instant::now();
    let facts = run_bytes(analyzer("java").as_ref(), "/app/x.jar", &jar).unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
    let w = warnings(&facts);
    eprintln!("{w:#?}");
    assert!(
        w.iter()
            .any(|m| m.contains("pom.properties") && m.contains("over the")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|m| m.contains("bomb.jar") && m.contains("over the")),
        "{w:?}"
    );
}

#[test]
fn zip_bomb_with_forged_sizes_is_stopped_while_inflating() {
    // Entries that claim to inflate to 100 bytes but hold 40 MiB of zeros.
    let zeros = vec![0u8; 40 << 20];
    let mut jar = zip_of(&[
        (
            "META-INF/maven/g/a/pom.properties",
            &zeros[..8 << 20],
            false,
        ),
        ("lib/bomb.jar", &zeros, false),
    ]);
    forge_uncompressed_sizes(&mut jar, 100);
    let start = Instant::now();
    let result = run_bytes(analyzer("java").as_ref(), "/app/forged.jar", &jar);
    assert!(start.elapsed() < Duration::from_secs(10));
    // Either the zip reader refuses the forged entries or the inflated bytes are
    // counted: both end in a warning naming the entry, never in 40 MiB per entry.
    let facts = result.unwrap();
    assert!(packages(&facts).is_empty());
    let w = warnings(&facts);
    eprintln!("{w:#?}");
    assert!(w.iter().any(|m| m.contains("bomb.jar")), "{w:?}");
    assert!(w.iter().any(|m| m.contains("pom.properties")), "{w:?}");
}

#[test]
fn total_inflated_bytes_are_bounded_per_file() {
    // Twelve nested jars, each holding a 30 MiB (compressed to ~30 KiB) inner "jar":
    // every one is under the per-archive bound, together they are over the per-file one.
    let inner = zip_of(&[("deeper.jar", &vec![0u8; 30 << 20], false)]);
    let names: Vec<String> = (0..12).map(|i| format!("lib/part{i}-1.0.jar")).collect();
    let entries: Vec<(&str, &[u8], bool)> = names
        .iter()
        .map(|n| (n.as_str(), inner.as_slice(), true))
        .collect();
    let outer = zip_of(&entries);
    let start = Instant::now();
    let facts = run_bytes(analyzer("java").as_ref(), "/app/many.war", &outer).unwrap();
    assert!(start.elapsed() < Duration::from_secs(30));
    let w = warnings(&facts);
    eprintln!("{w:#?}");
    assert_eq!(
        w.iter()
            .filter(|m| m.starts_with("stopped after inflating 256 MiB"))
            .count(),
        1,
        "{w:?}"
    );
    // Eight inner "jars" of 30 MiB fit in the budget (and are not zips); then it stops.
    assert_eq!(w.len(), 9, "{w:?}");
}

#[test]
fn jars_nested_sixty_deep() {
    let mut jar = zip_of(&[(
        "META-INF/maven/g/level60/pom.properties",
        &pom("g", "level60", "1.0"),
        false,
    )]);
    for level in (0..60).rev() {
        let p = pom("g", &format!("level{level}"), "1.0");
        jar = zip_of(&[
            (
                &format!("META-INF/maven/g/level{level}/pom.properties"),
                &p,
                false,
            ),
            (&format!("lib/level{}-1.0.jar", level + 1), &jar, true),
        ]);
    }
    let start = Instant::now();
    let facts = run_bytes(analyzer("java").as_ref(), "/app/level0-1.0.jar", &jar).unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
    let names: Vec<String> = packages(&facts).into_iter().map(|p| p.name).collect();
    // The file itself and four levels below it.
    assert_eq!(
        names,
        ["g:level0", "g:level1", "g:level2", "g:level3", "g:level4"]
    );
    let w = warnings(&facts);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("nested more than 4 levels"), "{w:?}");
}

#[test]
fn corrupt_archives() {
    let java = analyzer("java");
    // Not a zip at all: an error naming the problem.
    let err = run_bytes(
        java.as_ref(),
        "/a.jar",
        b"this is not a zip file at all....",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("zip"), "{err}");
    // Truncated zips and random bytes after a zip signature.
    let good = zip_of(&[
        (
            "META-INF/maven/g/a/pom.properties",
            &pom("g", "a", "1"),
            false,
        ),
        ("lib/b-1.0.jar", &zip_of(&[("x", b"y", false)]), false),
    ]);
    for cut in (0..good.len()).step_by(7) {
        let _ = run_bytes(java.as_ref(), "/a.jar", &good[..cut]);
    }
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..300 {
        let mut bad = good.clone();
        for _ in 0..8 {
            let i = (rng.next() % bad.len() as u64) as usize;
            bad[i] = rng.next() as u8;
        }
        let _ = run_bytes(java.as_ref(), "/a.jar", &bad);
    }
}

#[test]
fn oversized_archive_stream_is_refused() {
    // A 1 GiB "jar" handed over as a stream (the walker never does this for an analyzer
    // that asked for bytes, but the analyzer must not trust that): read up to its bound.
    let mut r = Synthetic {
        head: b"PK\x03\x04".to_vec(),
        pos: 0,
        len: 1 << 30,
    };
    let facts = run_stream(analyzer("java").as_ref(), "/big.jar", 1 << 30, &mut r).unwrap();
    assert!(warnings(&facts)[0].contains("larger than"), "{facts:?}");
    assert!(r.pos <= (64 << 20) + 1);
}

// ---------------------------------------------------------------------------------------
// ELF

#[test]
fn one_gib_stream_is_scanned_within_the_bound() {
    let start = Instant::now();
    let mut r = Synthetic {
        head: elf_header(),
        pos: 0,
        len: 1 << 30,
    };
    let facts = run_stream(analyzer("go").as_ref(), "/usr/bin/huge", 1 << 30, &mut r).unwrap();
    let w = warnings(&facts);
    assert!(w.len() == 1 && w[0].contains("first 512 MiB"), "{w:?}");
    assert_eq!(r.pos, 512 << 20, "read past the scan bound");
    eprintln!("512 MiB scanned in {:?}", start.elapsed());
    assert!(start.elapsed() < Duration::from_secs(120));
}

#[test]
fn forged_elf_headers() {
    let go = analyzer("go");
    let rust = analyzer("rust");
    let mut rng = Rng(0xfeed_beef_cafe_f00d);
    for round in 0..500 {
        let mut b = elf_header();
        b[4] = [1u8, 2][round % 2];
        b[5] = [1u8, 2][(round / 2) % 2];
        b.resize(4096, 0);
        // Random header fields (offsets, counts, sizes), random tables.
        for byte in b.iter_mut().skip(16).take(48) {
            *byte = rng.next() as u8;
        }
        for _ in 0..200 {
            let i = 64 + (rng.next() % (b.len() as u64 - 64)) as usize;
            b[i] = rng.next() as u8;
        }
        if round % 3 == 0 {
            // A build info magic with random fields after it.
            b[1024..1038].copy_from_slice(b"\xff Go buildinf:");
        }
        let _ = run_bytes(go.as_ref(), "/bin/x", &b);
        let mut r: &[u8] = &b;
        let _ = run_stream(go.as_ref(), "/bin/x", b.len() as u64, &mut r);
        let _ = run_bytes(rust.as_ref(), "/bin/x", &b);
    }
}

#[test]
fn forged_go_build_info_lengths() {
    // A real-looking blob whose module info length says 2^60 bytes.
    let mut b = elf_header();
    b.resize(256, 0);
    b.extend_from_slice(b"\xff Go buildinf:\x08\x02");
    b.resize(b.len() + 16, 0);
    b.push(8);
    b.extend_from_slice(b"go1.22.0");
    b.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]);
    b.resize(b.len() + 1000, 0);
    let facts = run_bytes(analyzer("go").as_ref(), "/bin/x", &b).unwrap();
    assert!(warnings(&facts)[0].contains("module info"), "{facts:?}");
}

#[test]
fn truncated_binaries() {
    // Any real ELF on this machine (or the test binary itself), cut at many points.
    let exe = std::env::current_exe().unwrap();
    let data = std::fs::read(&exe).unwrap();
    let data = &data[..data.len().min(8 << 20)];
    let go = analyzer("go");
    let rust = analyzer("rust");
    let mut cuts: Vec<usize> = vec![0, 1, 3, 4, 16, 52, 63, 64, 65, 100, 4096];
    cuts.extend((1..20).map(|i| data.len() * i / 20));
    for cut in cuts {
        let part = &data[..cut.min(data.len())];
        let _ = run_bytes(go.as_ref(), "/bin/x", part);
        let mut r: &[u8] = part;
        let _ = run_stream(go.as_ref(), "/bin/x", part.len() as u64, &mut r);
        let _ = run_bytes(rust.as_ref(), "/bin/x", part);
    }
}

#[test]
fn stream_errors_are_io_errors() {
    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("layer stream broke"));
            }
            let n = buf.len().min(self.0).min(64);
            buf[..n].fill(0);
            if n >= 4 && self.0 >= 64 {
                buf[..4].copy_from_slice(b"\x7fELF");
            }
            self.0 -= n;
            Ok(n)
        }
    }
    let err = run_stream(analyzer("go").as_ref(), "/bin/x", 1 << 20, &mut Failing(64)).unwrap_err();
    assert!(matches!(err, AnalyzeError::Io(_)), "{err}");
}

#[test]
fn hostile_text_files() {
    // Deep nesting, huge numbers, binary junk: errors or warnings, never panics.
    let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let dotnet = analyzer("dotnet");
    let rust = analyzer("rust");
    let go = analyzer("go");
    assert!(run_bytes(dotnet.as_ref(), "/a.deps.json", deep.as_bytes()).is_err());
    assert!(run_bytes(dotnet.as_ref(), "/packages.lock.json", deep.as_bytes()).is_err());
    let toml_deep = format!("a = {deep}");
    let _ = run_bytes(rust.as_ref(), "/Cargo.lock", toml_deep.as_bytes());
    let mut rng = Rng(42);
    let junk: Vec<u8> = (0..100_000).map(|_| rng.next() as u8).collect();
    let _ = run_bytes(dotnet.as_ref(), "/a.deps.json", &junk);
    let _ = run_bytes(rust.as_ref(), "/Cargo.lock", &junk);
    let facts = run_bytes(go.as_ref(), "/go.mod", &junk).unwrap();
    assert!(packages(&facts).is_empty());
    let long_line = format!("require x.org/y {}\n", "v".repeat(1 << 20));
    let facts = run_bytes(go.as_ref(), "/go.mod", long_line.as_bytes()).unwrap();
    assert!(packages(&facts).is_empty());
    assert_eq!(warnings(&facts).len(), 1);
}
