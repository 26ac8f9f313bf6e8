//! Unit-test scaffolding: real layer tars walked by the real walker, merged, then checked.

use std::io::Write;
use std::process::{Command, Stdio};

use holdfast_analyze::analyzer::{
    AnalyzeError, AnalyzerGroup, EntryKind, EntryMeta, FileFact, FileInput, Want,
};
use holdfast_analyze::walker::walk_tar;
use holdfast_analyze::{Analyzer, LayerAnalysis, LayerWarning, WalkLimits};
use holdfast_model::{Finding, FindingKind, LayerInfo};
use holdfast_model::{ImageMetadata, TargetKind};

use crate::{Checker, ImageContext};

/// A regular file with its mode, or a symlink (`mode` 0, content = target).
pub struct Entry<'a> {
    pub path: &'a str,
    pub content: Vec<u8>,
    pub mode: u32,
}

/// A 0644 file.
pub fn file<'a>(path: &'a str, content: &str) -> Entry<'a> {
    Entry {
        path,
        content: content.as_bytes().to_vec(),
        mode: 0o644,
    }
}

/// A file with a given mode.
pub fn file_mode<'a>(path: &'a str, content: &[u8], mode: u32) -> Entry<'a> {
    Entry {
        path,
        content: content.to_vec(),
        mode,
    }
}

/// A symlink.
pub fn symlink<'a>(path: &'a str, target: &str) -> Entry<'a> {
    Entry {
        path,
        content: target.as_bytes().to_vec(),
        mode: 0,
    }
}

fn tar_of(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(1_700_000_000);
        let name = e.path.trim_start_matches('/');
        if e.mode == 0 {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            h.set_mode(0o777);
            let target = String::from_utf8_lossy(&e.content).into_owned();
            b.append_link(&mut h, name, target).expect("tar symlink");
        } else {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(e.content.len() as u64);
            h.set_mode(e.mode);
            b.append_data(&mut h, name, &e.content[..])
                .expect("tar file");
        }
    }
    b.into_inner().expect("tar")
}

/// Runs one checker on an image made of these layers (bottom first) and returns its
/// findings, as `holdfast_checks::run` would.
pub fn check(checker: Box<dyn Checker>, layers: &[Vec<Entry<'_>>]) -> Vec<Finding> {
    check_all(checker, layers).findings
}

/// [`check`], with the checker's warnings.
pub fn check_all(checker: Box<dyn Checker>, layers: &[Vec<Entry<'_>>]) -> crate::Checked {
    check_walked(checker, layers).0
}

/// [`check_all`], with the warnings the layer walks left (the analyzers' skipped parts and
/// bounds, which the pipeline reports next to the checkers' own).
pub fn check_walked(
    checker: Box<dyn Checker>,
    layers: &[Vec<Entry<'_>>],
) -> (crate::Checked, Vec<LayerWarning>) {
    let analyzers = checker.analyzers();
    let refs: Vec<&dyn Analyzer> = analyzers.iter().map(|a| a.as_ref()).collect();
    let analyses: Vec<_> = layers
        .iter()
        .map(|l| walk_tar(&mut &tar_of(l)[..], &refs, WalkLimits::default()))
        .collect();
    let warnings = analyses.iter().flat_map(|a| a.warnings.clone()).collect();
    (run_walked(checker, analyses), warnings)
}

/// A zip of `files` (name, content), deflated.
pub fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        w.start_file(*name, opts).expect("zip entry");
        w.write_all(data).expect("zip write");
    }
    w.finish().expect("zip").into_inner()
}

/// A gzip-compressed tar of `files` (name, content).
pub fn tar_gz_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let entries: Vec<Entry<'_>> = files
        .iter()
        .map(|(name, data)| file_mode(name, data, 0o644))
        .collect();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&tar_of(&entries)).expect("gzip");
    e.finish().expect("gzip")
}

/// A zip bomb: one member, `name`, of `mib` MiB of zeros, deflated (about 1 KiB per MiB).
pub fn zeros_zip(name: &str, mib: usize) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file(name, opts).expect("zip entry");
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..mib {
        w.write_all(&chunk).expect("zip write");
    }
    w.finish().expect("zip").into_inner()
}

/// Merges walked layers (bottom first) and runs `checker` as `holdfast_checks::run` would.
fn run_walked(checker: Box<dyn Checker>, analyses: Vec<LayerAnalysis>) -> crate::Checked {
    let infos: Vec<LayerInfo> = analyses
        .iter()
        .map(|a| LayerInfo {
            diff_id: a.diff_id.clone(),
            digest: None,
            created_by: None,
            size: None,
            media_type: None,
        })
        .collect();
    let fs = holdfast_analyze::merge::merge(&analyses);
    let metadata = ImageMetadata::new("test", TargetKind::Image);
    let ctx = ImageContext {
        metadata: &metadata,
        fs: &fs,
        packages: &[],
        layers: &infos,
    };
    let kinds = checker.kinds().to_vec();
    crate::run(&[checker], &kinds, &ctx)
}

/// Stands in for a checker's own analyzer (under its name) and gives each listed path the
/// facts listed for it, as a layer cache written by another build could: records that
/// do not decode, say.
pub struct Planted {
    /// The name of the analyzer it stands in for.
    pub name: &'static str,
    /// Paths and the facts each gets.
    pub facts: Vec<(&'static str, Vec<FileFact>)>,
}

impl Analyzer for Planted {
    fn name(&self) -> &'static str {
        self.name
    }

    fn version(&self) -> u32 {
        1
    }

    fn group(&self) -> AnalyzerGroup {
        AnalyzerGroup::Check(FindingKind::Backdoor)
    }

    fn wants(&self, path: &str, meta: &EntryMeta) -> Want {
        if meta.kind == EntryKind::File && self.facts.iter().any(|(p, _)| *p == path) {
            Want::Meta
        } else {
            Want::No
        }
    }

    fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
        Ok(self
            .facts
            .iter()
            .filter(|(p, _)| *p == input.path)
            .flat_map(|(_, f)| f.clone())
            .collect())
    }
}

/// Runs one checker, with `planted` in place of its analyzers, on one layer holding an
/// empty file at each path `planted` lists; returns the findings and warnings.
pub fn check_planted(checker: Box<dyn Checker>, planted: Planted) -> crate::Checked {
    let entries: Vec<Entry<'_>> = planted.facts.iter().map(|(p, _)| file(p, "")).collect();
    let analyses = vec![walk_tar(
        &mut &tar_of(&entries)[..],
        &[&planted as &dyn Analyzer],
        WalkLimits::default(),
    )];
    run_walked(checker, analyses)
}

/// Whether the tool `program` runs; when it does not, the test is skipped (`false`),
/// unless `HOLDFAST_FULL_TESTS=1` requires it: then the test fails.
fn tool_available(program: &str, args: &[&str], what: &str) -> bool {
    let found = Command::new(program).args(args).output().is_ok();
    if !found {
        assert!(
            std::env::var("HOLDFAST_FULL_TESTS").map_or(true, |v| v != "1"),
            "HOLDFAST_FULL_TESTS=1 but {what} is not installed"
        );
        eprintln!("skipped: {what} is not installed");
    }
    found
}

/// Runs `cmd` with `password` and a newline on its stdin; returns whether it succeeded and
/// its output, trimmed.
fn hash_with(cmd: &mut Command, password: &str) -> (bool, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    let hash = String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_string();
    (out.status.success(), hash)
}

/// Hashes `password` with `openssl passwd -<flag>` (e.g. `6`, `5`, `1`), or `None` when
/// openssl is not installed (the test then skips, unless `HOLDFAST_FULL_TESTS=1`).
pub fn openssl_passwd(flag: &str, password: &str) -> Option<String> {
    if !tool_available("openssl", &["version"], "openssl") {
        return None;
    }
    let (ok, hash) = hash_with(
        Command::new("openssl").args(["passwd", &format!("-{flag}"), "-stdin"]),
        password,
    );
    assert!(
        ok && hash.starts_with('$'),
        "openssl passwd -{flag}: {hash}"
    );
    Some(hash)
}

/// Whether `mkpasswd` can run; when it cannot, the test is skipped, unless
/// `HOLDFAST_FULL_TESTS=1` requires it (then the test fails).
pub fn have_mkpasswd() -> bool {
    tool_available(
        "mkpasswd",
        &["--method=help"],
        "mkpasswd (Debian package whois)",
    )
}

/// Hashes `password` with the system's `mkpasswd` (Debian package `whois`) using `method`.
pub fn mkpasswd(method: &str, password: &str) -> String {
    let (ok, hash) = hash_with(
        Command::new("mkpasswd")
            .arg(format!("--method={method}"))
            .arg("--stdin"),
        password,
    );
    assert!(
        ok && !hash.contains('\n') && !hash.is_empty(),
        "mkpasswd {method} failed: {hash}"
    );
    hash
}
