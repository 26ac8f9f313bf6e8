//! Unit-test scaffolding: real layer tars walked by the real walker, merged, then checked.

use holdfast_analyze::walker::walk_tar;
use holdfast_analyze::{Analyzer, WalkLimits};
use holdfast_model::{Finding, LayerInfo};
use holdfast_source::{ImageConfig, ImageMetadata, SourceKind};

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
    let analyzers = checker.analyzers();
    let refs: Vec<&dyn Analyzer> = analyzers.iter().map(|a| a.as_ref()).collect();
    let analyses: Vec<_> = layers
        .iter()
        .map(|l| walk_tar(&mut &tar_of(l)[..], &refs, WalkLimits::default()))
        .collect();
    let infos: Vec<LayerInfo> = analyses
        .iter()
        .map(|a| LayerInfo {
            diff_id: a.diff_id.clone(),
            digest: None,
            created_by: None,
            size: None,
        })
        .collect();
    let fs = holdfast_analyze::merge::merge(&analyses);
    let metadata = ImageMetadata {
        name: "test".into(),
        kind: SourceKind::Image,
        image_id: None,
        repo_tags: vec![],
        repo_digests: vec![],
        config: ImageConfig::default(),
        layers: vec![],
        warnings: vec![],
        container: None,
    };
    let ctx = ImageContext {
        metadata: &metadata,
        fs: &fs,
        packages: &[],
        layers: &infos,
    };
    let kinds = checker.kinds().to_vec();
    crate::run(&[checker], &kinds, &ctx)
}

/// Hashes `password` with `openssl passwd -<flag>` (e.g. `6`, `5`, `1`), or `None` when
/// openssl is not installed (the test then skips, unless `HOLDFAST_FULL_TESTS=1`).
pub fn openssl_passwd(flag: &str, password: &str) -> Option<String> {
    use std::io::Write;
    let child = std::process::Command::new("openssl")
        .args(["passwd", &format!("-{flag}"), "-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        assert!(
            std::env::var("HOLDFAST_FULL_TESTS").map_or(true, |v| v != "1"),
            "HOLDFAST_FULL_TESTS=1 but openssl is not installed"
        );
        eprintln!("skipped: openssl is not installed");
        return None;
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("openssl");
    let hash = String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_string();
    assert!(
        out.status.success() && hash.starts_with('$'),
        "openssl passwd -{flag}: {hash}"
    );
    Some(hash)
}

/// Whether `mkpasswd` can run; when it cannot, the test is skipped, unless
/// `HOLDFAST_FULL_TESTS=1` requires it (then the test fails).
pub fn have_mkpasswd() -> bool {
    let found = std::process::Command::new("mkpasswd")
        .arg("--method=help")
        .output()
        .is_ok();
    if !found {
        assert!(
            std::env::var("HOLDFAST_FULL_TESTS").map_or(true, |v| v != "1"),
            "HOLDFAST_FULL_TESTS=1 but mkpasswd (Debian package whois) is not installed"
        );
        eprintln!("skipped: mkpasswd (Debian package whois) is not installed");
    }
    found
}

/// Hashes `password` with the system's `mkpasswd` (Debian package `whois`) using `method`.
pub fn mkpasswd(method: &str, password: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("mkpasswd")
        .arg(format!("--method={method}"))
        .arg("--stdin")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("mkpasswd (Debian package whois) must be installed: scripts/setup-test-deps.sh");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("mkpasswd");
    let hash = String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_string();
    assert!(
        out.status.success() && !hash.contains('\n') && !hash.is_empty(),
        "mkpasswd {method} failed: {hash}"
    );
    hash
}
