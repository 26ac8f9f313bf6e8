//! Bounded, recursive reading of archives held in memory, for the content scanners
//! (secrets, malware) that look inside jars, wheels, zips and tarballs.
//!
//! [`visit_members`] detects the format by magic bytes (zip `PK\x03\x04`, gzip `\x1f\x8b`
//! with a tar inside, plain tar by `ustar` at offset 257), hands every regular member to a
//! callback under its nested path (`outer.jar!/inner/file`), and opens members that are
//! archives themselves, down to [`ArchiveLimits::max_depth`] levels. Nothing is written to
//! disk: member names are only labels, so `../` names cannot escape anywhere.
//!
//! Declared sizes are never trusted: every member is read through `take(limit + 1)`, and
//! the bytes actually produced are what the bounds count. A bound that stops the reading
//! of a member or archive becomes a note in the returned list; malformed or encrypted
//! members are skipped silently (they are not bounds, and most archives in images are
//! ordinary).

use std::cell::Cell;
use std::io::{self, Cursor, Read};
use std::rc::Rc;

/// Bounds on the reading of one archive, nested archives included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Archive levels opened: 1 is the archive itself; a member archive at a deeper level
    /// is still visited as bytes but not opened.
    pub max_depth: usize,
    /// Most bytes one member may inflate to.
    pub max_member_bytes: u64,
    /// Most bytes inflated (or copied out of a plain tar) for the whole archive, nested
    /// archives included.
    pub max_total_bytes: u64,
    /// Most entries read from one archive (each nested archive has its own count).
    pub max_entries: usize,
    /// Inflated-to-compressed ratio past which a member (or a gzip stream) is a bomb...
    pub max_ratio: u64,
    /// ...once it has inflated to more than this many bytes.
    pub ratio_floor: u64,
    /// Most notes returned; later ones are counted in a last note.
    pub max_notes: usize,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_depth: 3,
            max_member_bytes: 64 << 20,
            max_total_bytes: 256 << 20,
            max_entries: 100_000,
            max_ratio: 1000,
            ratio_floor: 1 << 20,
            max_notes: 20,
        }
    }
}

/// Most bytes of an archive an analyzer reads when it is handed a stream rather than
/// bytes: the walker's default bound on a file held in memory.
pub const MAX_ARCHIVE_BYTES: u64 = 64 << 20;

/// Runs `scan` on every member of the archive `bytes` at `path` (nested archives' too;
/// members `skip` accepts are not even inflated) and gathers its facts, for the content
/// scanners: at most `max_findings` findings (the
/// rest are counted in one bound warning that calls them `what`), then one bound warning
/// for each bound that stopped part of the reading.
#[allow(clippy::too_many_arguments)]
pub fn scan_members(
    path: &str,
    bytes: &[u8],
    limits: &ArchiveLimits,
    max_findings: usize,
    what: &str,
    skip: &dyn Fn(&str) -> bool,
    scan: &mut dyn FnMut(&str, &[u8]) -> Vec<crate::analyzer::FileFact>,
) -> Vec<crate::analyzer::FileFact> {
    use crate::analyzer::FileFact;
    let mut facts = Vec::new();
    let mut findings = 0usize;
    let mut dropped = 0usize;
    let notes = visit_members_except(path, bytes, limits, skip, &mut |member, data| {
        for fact in scan(member, data) {
            if matches!(fact, FileFact::Finding(_)) {
                if findings >= max_findings {
                    dropped += 1;
                    continue;
                }
                findings += 1;
            }
            facts.push(fact);
        }
    });
    if dropped > 0 {
        facts.push(FileFact::bound(format!(
            "more than {max_findings} {what} in this archive; {dropped} were not reported"
        )));
    }
    facts.extend(notes.into_iter().map(FileFact::bound));
    facts
}

/// An archive format [`visit_members`] opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    /// A zip file (jar, war, ear, whl, egg, zip).
    Zip,
    /// A plain tar.
    Tar,
    /// A gzip stream; a tar when it is opened (other gzip content is not an archive).
    Gzip,
}

/// File name endings of the archives the content scanners open (Android `.apk` is
/// deliberately not one of them).
pub const ARCHIVE_SUFFIXES: &[&str] = &[
    ".jar", ".war", ".ear", ".whl", ".egg", ".zip", ".tar", ".tar.gz", ".tgz",
];

/// Whether `path` names an archive by its ending ([`ARCHIVE_SUFFIXES`]), ignoring ASCII
/// case and without allocating: cheap enough for an analyzer's `wants`.
pub fn is_archive_name(path: &str) -> bool {
    let name = path.as_bytes();
    ARCHIVE_SUFFIXES.iter().any(|s| {
        name.len() >= s.len() && name[name.len() - s.len()..].eq_ignore_ascii_case(s.as_bytes())
    })
}

/// The format of `bytes` by its magic bytes, or `None`. A gzip stream is reported as
/// [`ArchiveFormat::Gzip`] whatever it holds; [`visit_members`] opens it only when the
/// inflated content is a tar.
pub fn detect(bytes: &[u8]) -> Option<ArchiveFormat> {
    if bytes.starts_with(b"PK\x03\x04") {
        Some(ArchiveFormat::Zip)
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        Some(ArchiveFormat::Gzip)
    } else if is_tar(bytes) {
        Some(ArchiveFormat::Tar)
    } else {
        None
    }
}

/// A POSIX or GNU tar header: `ustar` at offset 257.
fn is_tar(bytes: &[u8]) -> bool {
    bytes.len() >= 512 && &bytes[257..262] == b"ustar"
}

/// Visits every regular member of the archive `bytes` (named `name`, usually its image
/// path) and of the archives nested in it, within `limits`. `visit` gets each member's
/// nested path (`name!/dir/file`, `name!/lib/a.jar!/x/y`) and its bytes; a member that
/// is an archive is visited itself, then opened. Returns one note per bound that stopped
/// part of the reading, naming the member or archive; empty when everything was read
/// (and when `bytes` is not an archive at all).
pub fn visit_members(
    name: &str,
    bytes: &[u8],
    limits: &ArchiveLimits,
    visit: &mut dyn FnMut(&str, &[u8]),
) -> Vec<String> {
    visit_members_except(name, bytes, limits, &|_| false, visit)
}

/// [`visit_members`], skipping without inflating them the members whose name `skip`
/// accepts (a `.class` file a secret scanner would drop anyway), unless their name is an
/// archive's ([`is_archive_name`]), which is still opened.
pub fn visit_members_except(
    name: &str,
    bytes: &[u8],
    limits: &ArchiveLimits,
    skip: &dyn Fn(&str) -> bool,
    visit: &mut dyn FnMut(&str, &[u8]),
) -> Vec<String> {
    let mut walk = Walk {
        skip,
        limits,
        budget: Rc::new(Cell::new(limits.max_total_bytes)),
        exhausted: false,
        notes: Vec::new(),
        dropped_notes: 0,
        visit,
        chunk: Vec::new(),
    };
    walk.archive(name, bytes, 1);
    let mut notes = walk.notes;
    if walk.dropped_notes > 0 {
        notes.push(format!(
            "{} more bound notes about this archive were left out",
            walk.dropped_notes
        ));
    }
    notes
}

/// Why a member's reading stopped.
enum Stop {
    /// It inflated past the bound for one member.
    Member,
    /// It inflated past the size its entry declares.
    Lies(u64),
    /// It inflated past the ratio bound.
    Ratio,
    /// The whole archive's budget ran out.
    Budget,
    /// It does not inflate (bad data, an encrypted entry, an unsupported method).
    Malformed,
}

/// Why a gzip stream stopped early, set by [`BoundedStream`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum StreamStop {
    None,
    Budget,
    Ratio,
}

/// The state of one [`visit_members`] call.
struct Walk<'a, 'v> {
    /// Members not worth inflating, by name.
    skip: &'a dyn Fn(&str) -> bool,
    limits: &'a ArchiveLimits,
    /// Bytes left to inflate for the whole archive; shared with gzip readers.
    budget: Rc<Cell<u64>>,
    /// The budget ran out: nothing more is read.
    exhausted: bool,
    notes: Vec<String>,
    dropped_notes: usize,
    visit: &'v mut dyn FnMut(&str, &[u8]),
    /// The read buffer, reused from member to member.
    chunk: Vec<u8>,
}

impl Walk<'_, '_> {
    fn note(&mut self, text: String) {
        if self.notes.len() < self.limits.max_notes {
            self.notes.push(text);
        } else {
            self.dropped_notes += 1;
        }
    }

    /// Notes, once, that the whole archive's budget ran out.
    fn out_of_budget(&mut self, label: &str) {
        if !self.exhausted {
            self.exhausted = true;
            self.note(format!(
                "{label}: stopped after inflating {} of the archive; the remaining members were not read",
                mib(self.limits.max_total_bytes)
            ));
        }
    }

    /// Opens the archive `bytes`, labelled `label`, at nesting level `depth` (1-based).
    fn archive(&mut self, label: &str, bytes: &[u8], depth: usize) {
        match detect(bytes) {
            Some(ArchiveFormat::Zip) => self.zip(label, bytes, depth),
            Some(ArchiveFormat::Tar) => self.tar(label, &mut Cursor::new(bytes), depth, true),
            Some(ArchiveFormat::Gzip) => self.tar_gz(label, bytes, depth),
            // The archive the caller named: a zip may start with other data (an executable
            // jar's launcher script), found from its end-of-directory record.
            None if depth == 1 => self.zip(label, bytes, depth),
            None => {}
        }
    }

    /// A member read in full: visit it, then open it when it is an archive.
    fn member(&mut self, parent: &str, name: &str, data: &[u8], depth: usize) {
        let label = format!("{parent}!/{}", clean(name));
        (self.visit)(&label, data);
        let Some(format) = detect(data) else {
            return;
        };
        // Android packages are zips too, but not archives the scanners open.
        if name.to_ascii_lowercase().ends_with(".apk") {
            return;
        }
        if format == ArchiveFormat::Gzip && !gzip_holds_tar(data) {
            return;
        }
        if depth >= self.limits.max_depth {
            self.note(format!(
                "{label}: an archive nested more than {} levels deep; not opened",
                self.limits.max_depth
            ));
            return;
        }
        self.archive(&label, data, depth + 1);
    }

    fn zip(&mut self, label: &str, bytes: &[u8], depth: usize) {
        let mut zip = match zip::ZipArchive::new(Cursor::new(bytes)) {
            Ok(z) => z,
            Err(e) => {
                tracing::debug!("{label}: not a readable zip: {e}");
                return;
            }
        };
        let count = zip.len();
        if count > self.limits.max_entries {
            self.note(format!(
                "{label}: {count} entries, over the bound of {}; the rest were not read",
                self.limits.max_entries
            ));
        }
        for i in 0..count.min(self.limits.max_entries) {
            if self.exhausted {
                return;
            }
            let (name, result) = {
                let entry = match zip.by_index(i) {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::debug!("{label}: entry {i}: {e}");
                        continue;
                    }
                };
                if !entry.is_file() || entry.is_symlink() {
                    continue;
                }
                let name = entry.name().to_string();
                if (self.skip)(&name) && !is_archive_name(&name) {
                    continue;
                }
                let declared = entry.size();
                if declared > self.limits.max_member_bytes {
                    self.note(format!(
                        "{label}!/{}: declares {declared} bytes, over the {} bound for one member; not read",
                        clean(&name),
                        mib(self.limits.max_member_bytes)
                    ));
                    continue;
                }
                let compressed = entry.compressed_size();
                let result = self.read_member(entry, Some(declared), Some(compressed), true);
                (name, result)
            };
            match result {
                Ok(data) => self.member(label, &name, &data, depth),
                Err(stop) => self.stopped(label, &name, stop),
            }
        }
    }

    /// Reports why member `name` of `label` was not read.
    fn stopped(&mut self, label: &str, name: &str, stop: Stop) {
        let what = format!("{label}!/{}", clean(name));
        match stop {
            Stop::Member => self.note(format!(
                "{what}: inflates past the {} bound for one member; not scanned",
                mib(self.limits.max_member_bytes)
            )),
            Stop::Lies(declared) => self.note(format!(
                "{what}: inflates past the {declared} bytes its entry declares; not scanned"
            )),
            Stop::Ratio => self.note(format!(
                "{what}: inflates more than {}:1 past {}; a decompression bomb, not scanned",
                self.limits.max_ratio,
                mib(self.limits.ratio_floor)
            )),
            Stop::Budget => self.out_of_budget(label),
            Stop::Malformed => tracing::debug!("{what}: does not inflate; skipped"),
        }
    }

    /// Reads one member, checking the bounds as the bytes come. `charge`: whether the
    /// bytes count against the archive's budget here (a gzip stream counts its own).
    fn read_member(
        &mut self,
        mut reader: impl Read,
        declared: Option<u64>,
        compressed: Option<u64>,
        charge: bool,
    ) -> Result<Vec<u8>, Stop> {
        let budget = self.budget.get();
        let member = self.limits.max_member_bytes;
        let allowed = if charge { member.min(budget) } else { member };
        let mut buf: Vec<u8> = Vec::new();
        let mut chunk = std::mem::take(&mut self.chunk);
        chunk.resize(64 << 10, 0);
        let outcome = loop {
            // Never more than one byte past the allowance is read.
            let room = (allowed + 1 - buf.len() as u64).min(chunk.len() as u64) as usize;
            let n = match reader.read(&mut chunk[..room]) {
                Ok(0) => break Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break Err(Stop::Malformed),
            };
            buf.extend_from_slice(&chunk[..n]);
            let len = buf.len() as u64;
            if let Some(d) = declared {
                if len > d {
                    break Err(Stop::Lies(d));
                }
            }
            if let Some(c) = compressed {
                if len > self.limits.ratio_floor && len > c.saturating_mul(self.limits.max_ratio) {
                    break Err(Stop::Ratio);
                }
            }
            if len > allowed {
                break Err(if allowed < member {
                    Stop::Budget
                } else {
                    Stop::Member
                });
            }
        };
        self.chunk = chunk;
        if charge {
            self.budget.set(budget.saturating_sub(buf.len() as u64));
        }
        outcome.map(|()| buf)
    }

    /// A tar read from `reader`; `charge`: whether member bytes count against the budget
    /// (not when `reader` is a gzip stream that counts its own).
    fn tar(&mut self, label: &str, reader: &mut dyn Read, depth: usize, charge: bool) {
        self.tar_with(label, reader, depth, charge, &Cell::new(StreamStop::None));
    }

    fn tar_gz(&mut self, label: &str, bytes: &[u8], depth: usize) {
        let stop = Rc::new(Cell::new(StreamStop::None));
        let mut stream = BoundedStream {
            inner: flate2::read::MultiGzDecoder::new(bytes),
            count: 0,
            compressed: bytes.len() as u64,
            budget: self.budget.clone(),
            limits: *self.limits,
            stop: stop.clone(),
        };
        // Only a tar is an archive; a gzip of anything else is left alone.
        let mut head = Vec::with_capacity(512);
        if (&mut stream).take(512).read_to_end(&mut head).is_err() || !is_tar(&head) {
            return;
        }
        let mut whole = Cursor::new(head).chain(stream);
        self.tar_with(label, &mut whole, depth, false, &stop);
    }

    fn tar_with(
        &mut self,
        label: &str,
        reader: &mut dyn Read,
        depth: usize,
        charge: bool,
        stream_stop: &Cell<StreamStop>,
    ) {
        let mut archive = tar::Archive::new(reader);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => {
                tracing::debug!("{label}: not a readable tar: {e}");
                return;
            }
        };
        let mut seen = 0usize;
        for entry in entries {
            if self.exhausted {
                return;
            }
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    self.stream_stopped(label, stream_stop.get());
                    tracing::debug!("{label}: tar stops: {e}");
                    return;
                }
            };
            seen += 1;
            if seen > self.limits.max_entries {
                self.note(format!(
                    "{label}: more than {} entries; the rest were not read",
                    self.limits.max_entries
                ));
                return;
            }
            let kind = entry.header().entry_type();
            if !(kind.is_file() || kind == tar::EntryType::Continuous) {
                continue;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            if (self.skip)(&name) && !is_archive_name(&name) {
                continue;
            }
            let declared = entry.size();
            if declared > self.limits.max_member_bytes {
                self.note(format!(
                    "{label}!/{}: {declared} bytes, over the {} bound for one member; not read",
                    clean(&name),
                    mib(self.limits.max_member_bytes)
                ));
                continue;
            }
            match self.read_member(entry, Some(declared), None, charge) {
                Ok(data) => self.member(label, &name, &data, depth),
                Err(Stop::Malformed) => {
                    self.stream_stopped(label, stream_stop.get());
                    return;
                }
                Err(stop) => self.stopped(label, &name, stop),
            }
        }
    }

    /// Notes the bound that stopped a gzip stream, if one did.
    fn stream_stopped(&mut self, label: &str, stop: StreamStop) {
        match stop {
            StreamStop::None => {}
            StreamStop::Budget => self.out_of_budget(label),
            StreamStop::Ratio => {
                self.exhausted = true;
                self.note(format!(
                    "{label}: the gzip stream inflates more than {}:1 past {}; a decompression bomb, the rest was not read",
                    self.limits.max_ratio,
                    mib(self.limits.ratio_floor)
                ));
            }
        }
    }
}

/// Whether the gzip stream `data` inflates to a tar (its first 512 bytes).
fn gzip_holds_tar(data: &[u8]) -> bool {
    let mut head = Vec::with_capacity(512);
    flate2::read::MultiGzDecoder::new(data)
        .take(512)
        .read_to_end(&mut head)
        .is_ok()
        && is_tar(&head)
}

/// A gzip stream that counts what it inflates against the archive's budget and the ratio
/// bound, and fails once either is passed (saying which in `stop`).
struct BoundedStream<R> {
    inner: R,
    count: u64,
    compressed: u64,
    budget: Rc<Cell<u64>>,
    limits: ArchiveLimits,
    stop: Rc<Cell<StreamStop>>,
}

impl<R: Read> Read for BoundedStream<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.stop.get() != StreamStop::None {
            return Err(io::Error::other("archive bound reached"));
        }
        let left = self.budget.get();
        // One byte past the budget tells "exactly used up" from "more to come".
        let room = buf
            .len()
            .min(usize::try_from(left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..room])?;
        self.count += n as u64;
        if n as u64 > left {
            self.budget.set(0);
            self.stop.set(StreamStop::Budget);
            return Err(io::Error::other("archive budget reached"));
        }
        self.budget.set(left - n as u64);
        if self.count > self.limits.ratio_floor
            && self.count > self.compressed.saturating_mul(self.limits.max_ratio)
        {
            self.stop.set(StreamStop::Ratio);
            return Err(io::Error::other("decompression ratio bound reached"));
        }
        Ok(n)
    }
}

/// A member name as a label: leading `./` and `/` dropped, control characters shown as
/// `?`. It is never used as a file-system path.
fn clean(name: &str) -> String {
    let mut s = name;
    loop {
        if let Some(rest) = s.strip_prefix("./") {
            s = rest;
        } else if let Some(rest) = s.strip_prefix('/') {
            s = rest;
        } else {
            break;
        }
    }
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// `bytes` in MiB, for notes.
fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes >> 20)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::time::{Duration, Instant};

    use super::*;

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in files {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// A tar; names are written into the header as given (`..` included).
    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            let raw = &mut h.as_gnu_mut().unwrap().name;
            raw[..name.len()].copy_from_slice(name.as_bytes());
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn visit(
        name: &str,
        bytes: &[u8],
        limits: &ArchiveLimits,
    ) -> (Vec<(String, Vec<u8>)>, Vec<String>) {
        let mut seen = Vec::new();
        let notes = visit_members(name, bytes, limits, &mut |p, b| {
            seen.push((p.to_string(), b.to_vec()))
        });
        (seen, notes)
    }

    /// A zip with one deflated member of `size` zeros, compressed in 1 MiB writes.
    fn zeros_zip(name: &str, size: usize) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(size > u32::MAX as usize);
        w.start_file(name, opts).unwrap();
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..size >> 20 {
            w.write_all(&chunk).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// Rewrites the uncompressed size both headers declare for the only entry of `zip`.
    fn lie_about_size(zip: &mut [u8], size: u32) {
        let find = |zip: &[u8], sig: &[u8]| zip.windows(4).position(|w| w == sig).unwrap();
        let local = find(zip, b"PK\x03\x04");
        let central = find(zip, b"PK\x01\x02");
        zip[local + 22..local + 26].copy_from_slice(&size.to_le_bytes());
        zip[central + 24..central + 28].copy_from_slice(&size.to_le_bytes());
    }

    #[test]
    fn formats_are_told_by_magic_and_names_by_suffix() {
        assert_eq!(detect(&zip_of(&[("a", b"x")])), Some(ArchiveFormat::Zip));
        assert_eq!(detect(&tar_of(&[("a", b"x")])), Some(ArchiveFormat::Tar));
        assert_eq!(detect(&gzip(b"x")), Some(ArchiveFormat::Gzip));
        assert_eq!(detect(b"plain text"), None);
        for n in [
            "/a/b.JAR", "x.war", "x.whl", "x.egg", "x.tar.gz", "x.TGZ", "x.tar", "x.zip",
        ] {
            assert!(is_archive_name(n), "{n}");
        }
        for n in ["/a/b.apk", "x.gz", "x.jar.txt", "jar"] {
            assert!(!is_archive_name(n), "{n}");
        }
    }

    #[test]
    fn a_zip_inside_a_tar_gz_is_visited_at_its_nested_path() {
        let jar = zip_of(&[
            ("config/app.properties", b"key=value\n"),
            ("META-INF/", b""),
        ]);
        let tgz = gzip(&tar_of(&[
            ("./vendor/app.jar", &jar),
            ("./README", b"hello\n"),
        ]));
        let (seen, notes) = visit("/app/lib.tar.gz", &tgz, &ArchiveLimits::default());
        assert!(notes.is_empty(), "{notes:?}");
        let paths: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/app/lib.tar.gz!/vendor/app.jar",
                "/app/lib.tar.gz!/vendor/app.jar!/config/app.properties",
                "/app/lib.tar.gz!/README",
            ]
        );
        assert_eq!(seen[1].1, b"key=value\n");
        assert_eq!(seen[0].1, jar);
    }

    #[test]
    fn a_zip_after_a_launcher_script_is_opened() {
        let mut jar = b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n".to_vec();
        jar.extend(zip_of(&[("BOOT-INF/classes/application.yml", b"a: b\n")]));
        let (seen, notes) = visit("/app.jar", &jar, &ArchiveLimits::default());
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].0, "/app.jar!/BOOT-INF/classes/application.yml");
        assert_eq!(seen[0].1, b"a: b\n");
    }

    #[test]
    fn ordinary_archives_give_no_notes_and_non_archives_nothing() {
        let (seen, notes) = visit("/x.zip", b"not an archive", &ArchiveLimits::default());
        assert!(seen.is_empty() && notes.is_empty());
        // A gzip of something other than a tar is a member, not an archive.
        let z = zip_of(&[("a.txt.gz", &gzip(b"text"))]);
        let (seen, notes) = visit("/x.zip", &z, &ArchiveLimits::default());
        assert_eq!(seen.len(), 1);
        assert!(notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn archives_nested_past_the_depth_bound_are_visited_but_not_opened() {
        let mut inner = zip_of(&[("deep.txt", b"deep")]);
        for i in 0..3 {
            inner = zip_of(&[(&format!("l{i}.zip"), &inner)]);
        }
        // outer(1) > l2(2) > l1(3) > l0 (would be 4) > deep.txt
        let (seen, notes) = visit("/o.zip", &inner, &ArchiveLimits::default());
        let paths: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/o.zip!/l2.zip",
                "/o.zip!/l2.zip!/l1.zip",
                "/o.zip!/l2.zip!/l1.zip!/l0.zip",
            ]
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("/o.zip!/l2.zip!/l1.zip!/l0.zip: "),
            "{notes:?}"
        );
    }

    #[test]
    fn a_zip_bomb_is_stopped_in_bounded_time() {
        let start = Instant::now();
        // 300 MiB of zeros, declared honestly: refused by its declared size.
        let bomb = zeros_zip("bomb.bin", 300 << 20);
        assert!(bomb.len() < 1 << 20, "{}", bomb.len());
        let built = start.elapsed();
        let start = Instant::now();
        let (seen, notes) = visit("/x.whl", &bomb, &ArchiveLimits::default());
        assert!(seen.is_empty());
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("/x.whl!/bomb.bin: declares"),
            "{notes:?}"
        );

        // The same bomb declaring 1000 bytes: stopped as soon as it inflates past them.
        let mut liar = bomb.clone();
        lie_about_size(&mut liar, 1000);
        let (seen, notes) = visit("/x.whl", &liar, &ArchiveLimits::default());
        assert!(seen.is_empty());
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains("1000 bytes its entry declares"),
            "{notes:?}"
        );

        // Declaring its real size under a larger member bound: stopped by the ratio.
        let limits = ArchiveLimits {
            max_member_bytes: 1 << 30,
            max_total_bytes: 1 << 30,
            ..ArchiveLimits::default()
        };
        let (seen, notes) = visit("/x.whl", &bomb, &limits);
        assert!(seen.is_empty());
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("decompression bomb"), "{notes:?}");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "reading took {:?} (building {built:?})",
            start.elapsed()
        );
    }

    #[test]
    fn the_member_bound_stops_a_member_that_lies_past_it() {
        // 2 MiB of text-like data declared as 100 bytes, under a 1 MiB member bound.
        let data: Vec<u8> = (0..2u32 << 20).map(|i| (i % 251) as u8).collect();
        let mut z = zip_of(&[("big.bin", &data)]);
        lie_about_size(&mut z, 100);
        let limits = ArchiveLimits {
            max_member_bytes: 1 << 20,
            ..ArchiveLimits::default()
        };
        let (seen, notes) = visit("/a.zip", &z, &limits);
        assert!(seen.is_empty());
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("100 bytes its entry declares"),
            "{notes:?}"
        );
        // Honest, but over the member bound.
        let z = zip_of(&[("big.bin", &data)]);
        let (_, notes) = visit("/a.zip", &z, &limits);
        assert!(notes[0].contains("over the 1 MiB bound"), "{notes:?}");
    }

    #[test]
    fn the_archive_budget_and_the_entry_count_are_bounded() {
        let member = vec![b'a'; 600 << 10];
        let files: Vec<(String, &[u8])> = (0..5).map(|i| (format!("m{i}"), &member[..])).collect();
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        let limits = ArchiveLimits {
            max_total_bytes: 2 << 20,
            ..ArchiveLimits::default()
        };
        for archive in [zip_of(&refs), tar_of(&refs), gzip(&tar_of(&refs))] {
            let (seen, notes) = visit("/a", &archive, &limits);
            assert_eq!(seen.len(), 3, "{notes:?}");
            assert_eq!(notes.len(), 1, "{notes:?}");
            assert!(
                notes[0].contains("stopped after inflating 2 MiB"),
                "{notes:?}"
            );
        }
        let limits = ArchiveLimits {
            max_entries: 2,
            ..ArchiveLimits::default()
        };
        for archive in [zip_of(&refs), tar_of(&refs)] {
            let (seen, notes) = visit("/a", &archive, &limits);
            assert_eq!(seen.len(), 2, "{notes:?}");
            assert_eq!(notes.len(), 1, "{notes:?}");
        }
    }

    #[test]
    fn tar_names_with_dot_dot_are_only_labels() {
        let t = tar_of(&[("../../etc/evil", b"x"), ("/abs/path", b"y")]);
        let (seen, notes) = visit("/a.tar", &t, &ArchiveLimits::default());
        assert!(notes.is_empty(), "{notes:?}");
        let paths: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["/a.tar!/../../etc/evil", "/a.tar!/abs/path"]);
        // Nothing was written: the visitor has no file-system access at all.
        assert!(!std::path::Path::new("../../etc/evil").exists());
    }
}
