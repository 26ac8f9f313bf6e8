//! Reading OSV records from disk: directories of `*.json` files and `all.zip` archives.
//!
//! osv.dev publishes every ecosystem as `gs://osv-vulnerabilities/<ECOSYSTEM>/all.zip`,
//! one record per member (`<ID>.json`); mirrors and the `osv-schema` test data are
//! directories of the same files. A source given to the builder is one of:
//!
//! * a directory, walked recursively (symlinked directories are not followed), reading
//!   every `*.json` and `*.zip` file in name order;
//! * a `.json` file;
//! * a `.zip` archive, reading every `*.json` member.
//!
//! Nothing in a feed is trusted: each record is bounded ([`Limits::max_record_bytes`],
//! checked against the size the file or zip header declares *and* while reading, since
//! a zip header can lie), labels taken from member names are sanitized before they
//! reach a terminal, and a record that cannot be read becomes an [`IngestWarning`]
//! naming it while the rest of the feed is still read.

use std::fs;
use std::io::{self, Read, Seek};
use std::path::Path;

use crate::DbError;

/// Bounds on what one source may make the builder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest record, in bytes. The largest real OSV records (Linux kernel advisories
    /// with long version lists) stay well under 1 MiB.
    pub max_record_bytes: u64,
    /// Most warnings kept in a [`crate::BuildReport`]; all are counted.
    pub max_warnings_kept: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_record_bytes: 16 * 1024 * 1024,
            max_warnings_kept: 1000,
        }
    }
}

/// A record, file or archive that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestWarning {
    /// The file (for zip members: `archive.zip!member.json`).
    pub file: String,
    /// What was wrong.
    pub message: String,
}

impl std::fmt::Display for IngestWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// Receives what a source yields: records (label and bytes) and warnings.
pub(crate) trait Sink {
    /// One record's bytes, not yet parsed.
    fn record(&mut self, label: String, bytes: Vec<u8>) -> Result<(), DbError>;
    /// Something skipped.
    fn warn(&mut self, warning: IngestWarning);
}

/// Reads one source (directory, `.json` file or `.zip`), feeding `sink`.
///
/// Fails only when the source itself cannot be opened; everything below it that cannot
/// be read is a warning.
pub(crate) fn read_source(
    path: &Path,
    limits: &Limits,
    sink: &mut dyn Sink,
) -> Result<(), DbError> {
    let meta = fs::metadata(path).map_err(|e| DbError::io(path, e))?;
    if meta.is_dir() {
        walk_dir(path, limits, sink)
    } else if meta.is_file() && has_ext(path, "json") {
        read_json_file(path, meta.len(), limits, sink)
    } else if meta.is_file() && has_ext(path, "zip") {
        let file = fs::File::open(path).map_err(|e| DbError::io(path, e))?;
        read_zip(
            &path.display().to_string(),
            io::BufReader::new(file),
            limits,
            sink,
        )
    } else {
        Err(DbError::BadSource(path.to_path_buf()))
    }
}

fn has_ext(path: &Path, ext: &str) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// Walks a directory tree without recursion (deep trees cannot exhaust the stack),
/// in name order so that builds are reproducible.
fn walk_dir(root: &Path, limits: &Limits, sink: &mut dyn Sink) -> Result<(), DbError> {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if dir == root => return Err(DbError::io(&dir, e)),
            Err(e) => {
                sink.warn(warning(
                    &dir.display().to_string(),
                    format!("unreadable directory: {e}"),
                ));
                continue;
            }
        };
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    sink.warn(warning(
                        &dir.display().to_string(),
                        format!("unreadable directory entry: {e}"),
                    ));
                    continue;
                }
            };
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                dirs.push(path);
            } else if has_ext(&path, "json") || has_ext(&path, "zip") {
                // Symlinked files are followed; symlinked directories are not.
                files.push(path);
            }
        }
        files.sort();
        dirs.sort();
        // Popped last-first: push in reverse to visit in name order.
        stack.extend(dirs.into_iter().rev());
        for path in files {
            let label = path.display().to_string();
            let meta = match fs::metadata(&path) {
                Ok(m) if m.is_file() => m,
                Ok(_) => continue,
                Err(e) => {
                    sink.warn(warning(&label, format!("cannot stat: {e}")));
                    continue;
                }
            };
            if has_ext(&path, "zip") {
                match fs::File::open(&path) {
                    Ok(f) => read_zip(&label, io::BufReader::new(f), limits, sink)?,
                    Err(e) => sink.warn(warning(&label, format!("cannot open: {e}"))),
                }
            } else {
                read_json_file(&path, meta.len(), limits, sink)?;
            }
        }
    }
    Ok(())
}

fn read_json_file(
    path: &Path,
    len: u64,
    limits: &Limits,
    sink: &mut dyn Sink,
) -> Result<(), DbError> {
    let label = path.display().to_string();
    if len > limits.max_record_bytes {
        sink.warn(too_large(&label, len, limits));
        return Ok(());
    }
    let read = fs::File::open(path).and_then(|f| read_bounded(f, len, limits.max_record_bytes));
    match read {
        Ok(Some(bytes)) => sink.record(label, bytes),
        Ok(None) => {
            sink.warn(too_large(&label, limits.max_record_bytes + 1, limits));
            Ok(())
        }
        Err(e) => {
            sink.warn(warning(&label, format!("cannot read: {e}")));
            Ok(())
        }
    }
}

/// Reads every `*.json` member of a zip archive. `label` names the archive in warnings.
///
/// This is the plumbing for archives that are not files (a download held in memory):
/// see [`crate::Builder::add_zip_reader`].
pub(crate) fn read_zip<R: Read + Seek>(
    label: &str,
    reader: R,
    limits: &Limits,
    sink: &mut dyn Sink,
) -> Result<(), DbError> {
    let mut archive = match zip::ZipArchive::new(reader) {
        Ok(a) => a,
        Err(e) => {
            sink.warn(warning(label, format!("not a readable zip archive: {e}")));
            return Ok(());
        }
    };
    for i in 0..archive.len() {
        let mut member = match archive.by_index(i) {
            Ok(m) => m,
            Err(e) => {
                sink.warn(warning(
                    &format!("{label}!#{i}"),
                    format!("unreadable member: {e}"),
                ));
                continue;
            }
        };
        if !member.is_file() || !member.name().to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        let member_label = format!("{label}!{}", sanitize(member.name()));
        let declared = member.size();
        if declared > limits.max_record_bytes {
            sink.warn(too_large(&member_label, declared, limits));
            continue;
        }
        match read_bounded(&mut member, declared, limits.max_record_bytes) {
            Ok(Some(bytes)) => sink.record(member_label, bytes)?,
            Ok(None) => sink.warn(too_large(
                &member_label,
                limits.max_record_bytes + 1,
                limits,
            )),
            Err(e) => sink.warn(warning(&member_label, format!("cannot read member: {e}"))),
        }
    }
    Ok(())
}

/// Reads at most `max` bytes; `Ok(None)` if there is more.
fn read_bounded(r: impl Read, size_hint: u64, max: u64) -> io::Result<Option<Vec<u8>>> {
    // The hint comes from the file system or a zip header: use it only as a capacity.
    let mut buf = Vec::with_capacity(size_hint.min(max).min(1 << 20) as usize);
    r.take(max + 1).read_to_end(&mut buf)?;
    Ok((buf.len() as u64 <= max).then_some(buf))
}

fn too_large(label: &str, len: u64, limits: &Limits) -> IngestWarning {
    warning(
        label,
        format!(
            "skipped: {len} bytes is over the {}-byte limit for one advisory",
            limits.max_record_bytes
        ),
    )
}

pub(crate) fn warning(file: &str, message: String) -> IngestWarning {
    IngestWarning {
        file: file.to_string(),
        message,
    }
}

/// A member name fit for a terminal: control characters escaped, length bounded.
pub(crate) fn sanitize(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().take(256) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if s.chars().nth(256).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_reads() {
        assert_eq!(
            read_bounded(&b"abc"[..], 3, 3).unwrap(),
            Some(b"abc".to_vec())
        );
        assert_eq!(read_bounded(&b"abcd"[..], 1, 3).unwrap(), None);
        // A lying size hint changes nothing.
        assert_eq!(
            read_bounded(&b"ab"[..], u64::MAX, 3).unwrap(),
            Some(b"ab".to_vec())
        );
    }

    #[test]
    fn labels_are_sanitized() {
        assert_eq!(sanitize("a\x1b[31mb.json"), "a\\u{1b}[31mb.json");
        assert!(sanitize(&"x".repeat(1000)).chars().count() <= 257);
    }
}
