//! The single pass over a layer: every entry is shown to every analyzer's `wants`, and the
//! content is read at most once, only when someone asked for it.
//!
//! Tar streams are read strictly front to back (they may come from a decompressor or a
//! socket) and hashed on the way, so the caller can check the diff_id before trusting the
//! result to the cache. Directory targets are walked without following symlinks, and files
//! are opened with `O_NOFOLLOW` so a link swapped in during the walk is not followed either.

use std::collections::HashMap;
use std::io::{self, Read, Seek};
use std::path::Path;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use holdfast_model::path::{file_name, parent};
use holdfast_model::WarningKind;
use holdfast_source::path::{normalize_entry, MAX_PATH_BYTES};

use crate::analyzer::{
    Analyzer, EntryKind, EntryMeta, FileContent, FileFact, FileInput, Want, HEAD_BYTES,
};
use crate::hashing::HashingReader;
use crate::layer::{AnalyzerTiming, FileResult, LayerAnalysis, LayerWarning, WalkTimings};

/// Bounds that keep one layer's walk in bounded memory and time.
#[derive(Debug, Clone, Copy)]
pub struct WalkLimits {
    /// Files larger than this are not read into memory (streaming analyzers still see them).
    pub max_file_bytes: u64,
    /// Warnings kept per layer; past this they are counted, not stored.
    pub max_warnings: usize,
}

impl Default for WalkLimits {
    fn default() -> Self {
        WalkLimits {
            max_file_bytes: 64 << 20,
            max_warnings: 200,
        }
    }
}

/// Files over this size that only [`Want::Seekable`] analyzers need whole are copied to a
/// temporary file instead of memory, so the largest executables of an image do not set
/// the walk's memory.
const SPOOL_BYTES: u64 = 4 << 20;

/// The largest read buffer a walker keeps between files. A larger one (a compiler the
/// malware rules read whole) is freed once its file is served: kept, it would hold the
/// walk's memory at the layer's largest file until the layer ends, once per walker.
const KEPT_BUFFER_BYTES: usize = 4 << 20;

/// Bytes of files over [`KEPT_BUFFER_BYTES`] the process holds whole at once. Two walkers
/// each reading a compiler for the malware rules (`big` has five of 30 MiB or more) set
/// the peak at the sum of both; two mid-sized ones (an image's 15 and 19 MiB binaries)
/// still run side by side. A file larger than the budget alone waits until no other is
/// held. A walk's memory is then bounded by [`KEPT_BUFFER_BYTES`] per walker thread
/// (`--threads`) plus this budget, or one file of at most [`WalkLimits::max_file_bytes`].
const LARGE_FILES_BUDGET: u64 = 40 << 20;

/// The bytes of large files held whole now, against [`LARGE_FILES_BUDGET`].
static LARGE_FILES_HELD: (Mutex<u64>, Condvar) = (Mutex::new(0), Condvar::new());

/// A share of [`LARGE_FILES_BUDGET`], given back when dropped.
struct LargeFileShare(u64);

impl LargeFileShare {
    /// Waits until `bytes` fit in the budget, or nothing else is held.
    fn take(bytes: u64) -> Self {
        let (held, freed) = &LARGE_FILES_HELD;
        let mut held = held.lock().unwrap_or_else(|e| e.into_inner());
        while *held > 0 && *held + bytes > LARGE_FILES_BUDGET {
            held = freed.wait(held).unwrap_or_else(|e| e.into_inner());
        }
        *held += bytes;
        LargeFileShare(bytes)
    }
}

impl Drop for LargeFileShare {
    fn drop(&mut self) {
        let (held, freed) = &LARGE_FILES_HELD;
        *held.lock().unwrap_or_else(|e| e.into_inner()) -= self.0;
        freed.notify_all();
    }
}

/// Collects a layer's results and warnings.
struct Collector<'a> {
    analyzers: &'a [&'a dyn Analyzer],
    limits: WalkLimits,
    out: LayerAnalysis,
    dropped_warnings: usize,
    /// For hard links: which results each path produced in this layer.
    results_by_path: HashMap<String, Vec<usize>>,
    buf: Vec<u8>,
    /// One row per analyzer, in the order of `analyzers`; rows of analyzers given nothing
    /// are dropped at the end.
    timings: WalkTimings,
    started: Instant,
}

impl<'a> Collector<'a> {
    fn new(analyzers: &'a [&'a dyn Analyzer], limits: WalkLimits) -> Self {
        Collector {
            analyzers,
            limits,
            out: LayerAnalysis::default(),
            dropped_warnings: 0,
            results_by_path: HashMap::new(),
            buf: Vec::new(),
            timings: WalkTimings {
                analyzers: analyzers
                    .iter()
                    .map(|a| AnalyzerTiming {
                        name: a.name(),
                        ..AnalyzerTiming::default()
                    })
                    .collect(),
                ..WalkTimings::default()
            },
            started: Instant::now(),
        }
    }

    /// Keeps a warning, up to the bound; past it, only counts it.
    fn warn(&mut self, kind: WarningKind, path: Option<&str>, message: String) {
        if self.out.warnings.len() < self.limits.max_warnings {
            self.out
                .warnings
                .push(LayerWarning::new(kind, path, message));
        } else {
            self.dropped_warnings += 1;
        }
    }

    /// The analyzers that want an entry, and how. A directory has no content to give:
    /// only metadata wants count for it.
    fn wanting(&self, path: &str, meta: &EntryMeta) -> Vec<(usize, Want)> {
        let mut wanting = Vec::new();
        for (i, a) in self.analyzers.iter().enumerate() {
            let w = a.wants(path, meta);
            if w == Want::Meta || (w != Want::No && meta.kind != EntryKind::Dir) {
                wanting.push((i, w));
            }
        }
        wanting
    }

    /// Runs the analyzers that want a regular file, reading it at most once. Directories
    /// come here too, for the analyzers that want only their metadata.
    fn file(&mut self, path: &str, meta: &EntryMeta, content: &mut dyn Read) {
        let wanting = self.wanting(path, meta);
        self.run(path, meta, wanting, content);
    }

    /// Runs `wanting` (from [`Collector::wanting`]) on the entry, read from a stream.
    fn run(
        &mut self,
        path: &str,
        meta: &EntryMeta,
        wanting: Vec<(usize, Want)>,
        content: &mut dyn Read,
    ) {
        if self.spools(meta, &wanting) {
            // A large file only seekable analyzers need whole goes to a temporary file,
            // not memory. With no temporary file to be had, it is read whole.
            match tempfile::tempfile() {
                Ok(mut file) => {
                    // 1 MiB at a time: `io::copy`'s own 8 KiB steps made a read and a write
                    // system call for every 8 KiB of a spooled executable.
                    let mut chunks = io::BufReader::with_capacity(1 << 20, content);
                    if let Err(e) = io::copy(&mut chunks, &mut file) {
                        self.warn(
                            WarningKind::UnreadableFile,
                            Some(path),
                            format!("cannot copy the file to a temporary file: {e}"),
                        );
                        return;
                    }
                    return self.serve(path, meta, wanting, &mut io::empty(), Some(&mut file));
                }
                Err(e) => tracing::debug!(path, "no temporary file ({e}); read into memory"),
            }
        }
        self.serve(path, meta, wanting, content, None);
    }

    /// Runs `wanting` on a file of a directory target: one seekable analyzers would have
    /// had copied is read in place.
    fn run_on_disk(
        &mut self,
        path: &str,
        meta: &EntryMeta,
        wanting: Vec<(usize, Want)>,
        file: &mut std::fs::File,
    ) {
        if self.spools(meta, &wanting) {
            self.serve(path, meta, wanting, &mut io::empty(), Some(file));
        } else {
            self.serve(path, meta, wanting, file, None);
        }
    }

    /// Whether the file goes to seekable analyzers as a file rather than bytes: it is
    /// over [`SPOOL_BYTES`] and within the bound, and no analyzer needs its bytes.
    fn spools(&self, meta: &EntryMeta, wanting: &[(usize, Want)]) -> bool {
        let wants = |want: Want| wanting.iter().any(|(_, w)| *w == want);
        meta.size > SPOOL_BYTES
            && meta.size <= self.limits.max_file_bytes
            && wants(Want::Seekable)
            && !wants(Want::Bytes)
    }

    /// Serves the analyzers from `content`, or from `spool`, a file holding the whole
    /// content (then `content` is unused).
    fn serve(
        &mut self,
        path: &str,
        meta: &EntryMeta,
        wanting: Vec<(usize, Want)>,
        content: &mut dyn Read,
        mut spool: Option<&mut std::fs::File>,
    ) {
        if wanting.is_empty() {
            return;
        }
        let reading = Instant::now();
        let fits = meta.size <= self.limits.max_file_bytes;
        let wants = |want: Want| wanting.iter().any(|(_, w)| *w == want);
        // Unless it was spooled, read the whole file when some analyzer needs bytes or
        // random access and the file is within the bound; streaming analyzers then read
        // from the same bytes. Otherwise the first streaming analyzer reads the live
        // stream, and nobody holds the file.
        let read_whole = fits && spool.is_none() && (wants(Want::Bytes) || wants(Want::Seekable));
        let mut streamed = false;
        let mut filled = 0;
        // Dropped after `buf` below, so the large file is freed before another walker's
        // is read.
        let _large = (read_whole && meta.size > KEPT_BUFFER_BYTES as u64)
            .then(|| LargeFileShare::take(meta.size));
        if read_whole {
            // Read into bytes that are already initialised: `read_to_end` through a
            // `dyn Read` zeroes the spare room of the buffer for every file, which was a
            // pass over every byte read. The buffer grows to the exact size when a larger
            // file comes (doubling would hold up to twice the largest file for the rest of
            // the walk), and only then is new room zeroed.
            let want = usize::try_from(meta.size).unwrap_or(usize::MAX);
            if want > KEPT_BUFFER_BYTES {
                // A large file gets new zeroed memory, freed once it is served (it is over
                // what a walker keeps). The kept buffer goes first, so the two are never
                // held together; the allocator maps pages the kernel has zeroed, with no
                // `memset` over them, where growing the old buffer zeroed the new room.
                self.buf = Vec::new();
                self.buf = vec![0; want];
            } else if self.buf.len() < want {
                self.buf.resize(want, 0);
            }
            loop {
                match content.read(&mut self.buf[filled..want]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.warn(
                            WarningKind::UnreadableFile,
                            Some(path),
                            format!("cannot read the file: {e}"),
                        );
                        if self.buf.len() > KEPT_BUFFER_BYTES {
                            self.buf = Vec::new();
                        }
                        return;
                    }
                }
            }
        }
        // Head analyzers get the first bytes: from the whole file when it was read,
        // otherwise read here, before any streaming analyzer moves the stream past them;
        // that analyzer then reads them again, followed by the rest of the stream.
        let mut head = Vec::new();
        if !read_whole && wants(Want::Head) {
            let head_of = |r: &mut dyn Read, head: &mut Vec<u8>| {
                Read::take(r, HEAD_BYTES as u64).read_to_end(head)
            };
            let read = match spool.as_mut() {
                Some(f) => f.rewind().and_then(|()| head_of(*f, &mut head)),
                None => head_of(&mut *content, &mut head),
            };
            if let Err(e) = read {
                self.warn(
                    WarningKind::UnreadableFile,
                    Some(path),
                    format!("cannot read the file: {e}"),
                );
                return;
            }
        }
        let mut stream = io::Cursor::new(&head[..]).chain(&mut *content);
        let buf = std::mem::take(&mut self.buf);
        let bytes = &buf[..filled];
        self.timings.read += reading.elapsed();
        for (index, want) in wanting {
            let analyzer = self.analyzers[index];
            let content = if want == Want::Meta {
                FileContent::Bytes(&[])
            } else if want == Want::Head {
                if read_whole {
                    FileContent::Bytes(&bytes[..filled.min(HEAD_BYTES)])
                } else {
                    FileContent::Bytes(&head)
                }
            } else if read_whole {
                FileContent::Bytes(bytes)
            } else if let Some(file) = spool.as_mut() {
                if let Err(e) = file.rewind() {
                    self.warn(
                        WarningKind::UnreadableFile,
                        Some(path),
                        format!("{}: temporary copy unreadable: {e}", analyzer.name()),
                    );
                    continue;
                }
                if want == Want::Stream {
                    FileContent::Stream(file)
                } else {
                    FileContent::File(file)
                }
            } else if want == Want::Stream && !streamed {
                streamed = true;
                FileContent::Stream(&mut stream)
            } else if want == Want::Stream {
                // Not a bound, not a fault of the file: a limit of the single pass.
                self.warn(
                    WarningKind::Other,
                    Some(path),
                    format!(
                        "{}: another analyzer consumed the stream; skipped",
                        analyzer.name()
                    ),
                );
                continue;
            } else {
                self.warn(
                    WarningKind::BoundReached,
                    Some(path),
                    format!(
                        "{}: file is {} bytes, over the {}-byte limit; skipped",
                        analyzer.name(),
                        meta.size,
                        self.limits.max_file_bytes
                    ),
                );
                continue;
            };
            let mut input = FileInput {
                path,
                meta,
                content,
            };
            let started = Instant::now();
            let outcome = analyzer.analyze(&mut input);
            let spent = &mut self.timings.analyzers[index];
            spent.time += started.elapsed();
            spent.files += 1;
            spent.bytes += meta.size;
            match outcome {
                Ok(mut facts) => {
                    facts.retain(|f| match f {
                        FileFact::Skipped { kind, message } => {
                            self.warn(*kind, Some(path), format!("{}: {message}", analyzer.name()));
                            false
                        }
                        _ => true,
                    });
                    if facts.is_empty() {
                        continue;
                    }
                    let idx = self.out.files.len();
                    self.out.files.push(FileResult {
                        path: path.to_string(),
                        analyzer: analyzer.name().to_string(),
                        facts,
                    });
                    self.results_by_path
                        .entry(path.to_string())
                        .or_default()
                        .push(idx);
                }
                Err(e) => self.warn(e.kind(), Some(path), format!("{}: {e}", analyzer.name())),
            }
        }
        if buf.len() <= KEPT_BUFFER_BYTES {
            self.buf = buf;
        }
    }

    /// A hard link shares its target's content: copy the target's results to its path.
    fn hard_link(&mut self, path: &str, target: &str) {
        match self.results_by_path.get(target).cloned() {
            Some(indexes) => {
                for i in indexes {
                    let mut copy = self.out.files[i].clone();
                    copy.path = path.to_string();
                    self.out.files.push(copy);
                }
            }
            None => {
                // Either nobody wanted the target, or it is missing from this layer
                // (a hostile or broken archive); only the latter deserves a warning
                // when the link itself was wanted.
                let meta = EntryMeta {
                    kind: EntryKind::File,
                    size: 0,
                    mode: 0o644,
                    uid: 0,
                    gid: 0,
                    capabilities: None,
                };
                if self
                    .analyzers
                    .iter()
                    .any(|a| a.wants(path, &meta) != Want::No)
                {
                    self.warn(
                        WarningKind::Other,
                        Some(path),
                        format!("hard link to `{target}`, which this layer does not hold as a read file; skipped"),
                    );
                }
            }
        }
    }

    /// Keeps only the non-link paths the merge can need: those at or above a path this
    /// layer reports something about. A directory that replaces a lower layer's symlink
    /// matters only if something below it is placed; recording every entry would make
    /// cached results as large as the layer's file list.
    fn prune_non_links(&mut self) {
        let mut needed: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let reported = self
            .out
            .files
            .iter()
            .map(|f| f.path.as_str())
            .chain(self.out.symlinks.iter().map(|(p, _)| p.as_str()))
            .chain(self.out.whiteouts.iter().map(String::as_str))
            .chain(self.out.opaque_dirs.iter().map(String::as_str));
        for path in reported {
            let mut p = path;
            while needed.insert(p) && p != "/" {
                p = parent(p);
            }
        }
        let keep: Vec<String> = self
            .out
            .non_links
            .iter()
            .filter(|p| needed.contains(p.as_str()))
            .cloned()
            .collect();
        self.out.non_links = keep;
    }

    fn finish(mut self) -> LayerAnalysis {
        self.prune_non_links();
        self.timings.walk = self.started.elapsed();
        self.timings.analyzers.retain(|t| t.files > 0);
        self.out.timings = std::mem::take(&mut self.timings);
        if self.dropped_warnings > 0 {
            let n = self.dropped_warnings;
            self.out.warnings.push(LayerWarning::new(
                WarningKind::BoundReached,
                None,
                format!("{n} more warnings in this layer were not kept"),
            ));
        }
        self.out
    }
}

/// Walks a tar stream once. Returns the analysis even when the stream fails part way:
/// what was read before the failure is kept, and the failure is a warning.
pub fn walk_tar(
    stream: &mut dyn Read,
    analyzers: &[&dyn Analyzer],
    limits: WalkLimits,
) -> LayerAnalysis {
    let mut hashing = HashingReader::new(stream);
    let mut c = Collector::new(analyzers, limits);
    let mut failed = false;
    {
        let mut archive = tar::Archive::new(&mut hashing);
        match archive.entries_with_seek() {
            Ok(entries) => {
                for entry in entries {
                    let mut entry = match entry {
                        Ok(e) => e,
                        Err(e) => {
                            c.warn(
                                WarningKind::UnreadableFile,
                                None,
                                format!("layer stream stopped: {e}"),
                            );
                            failed = true;
                            break;
                        }
                    };
                    c.out.entries += 1;
                    tar_entry(&mut c, &mut entry);
                }
            }
            Err(e) => {
                c.warn(
                    WarningKind::MalformedFile,
                    None,
                    format!("not a tar stream: {e}"),
                );
                failed = true;
            }
        }
    }
    if !failed {
        // Read the end-of-archive blocks and padding so the hash covers the whole blob.
        if let Err(e) = io::copy(&mut hashing, &mut io::sink()) {
            c.warn(
                WarningKind::UnreadableFile,
                None,
                format!("layer stream stopped after the last entry: {e}"),
            );
            failed = true;
        }
    }
    let mut out = c.finish();
    out.bytes = hashing.bytes;
    // Also stops a hashing thread, failed walk or not.
    let digest = hashing.finish();
    if !failed {
        out.diff_id = Some(format!("sha256:{}", hex::encode(digest)));
    }
    out
}

fn tar_entry<R: Read>(c: &mut Collector<'_>, entry: &mut tar::Entry<'_, R>) {
    let raw = entry.path_bytes();
    let Some(name) = normalize_entry(&raw) else {
        if raw.len() > MAX_PATH_BYTES {
            c.warn(
                WarningKind::BoundReached,
                None,
                format!(
                    "entry name of {} bytes is longer than {MAX_PATH_BYTES}; skipped",
                    raw.len()
                ),
            );
        }
        return;
    };
    if name.climbed {
        c.warn(
            WarningKind::MalformedFile,
            Some(&name.path),
            format!(
                "entry `{}` climbs out of the layer root with `..`; skipped",
                String::from_utf8_lossy(&raw)
            ),
        );
        return;
    }
    let path = name.path;
    if let Some(hidden) = file_name(&path).strip_prefix(".wh.") {
        let dir = parent(&path);
        if hidden == ".wh..opq" {
            c.out.opaque_dirs.push(dir.to_string());
        } else if !hidden.is_empty() {
            let target = if dir == "/" {
                format!("/{hidden}")
            } else {
                format!("{dir}/{hidden}")
            };
            c.out.whiteouts.push(target);
        }
        return;
    }
    let capabilities = file_capabilities(entry);
    let header = entry.header();
    let kind = match header.entry_type() {
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
            EntryKind::File
        }
        tar::EntryType::Directory => EntryKind::Dir,
        tar::EntryType::Symlink => EntryKind::Symlink,
        tar::EntryType::Link => EntryKind::HardLink,
        _ => EntryKind::Other,
    };
    let meta = EntryMeta {
        kind,
        size: entry.size(),
        mode: header.mode().unwrap_or(0),
        uid: header.uid().unwrap_or(0),
        gid: header.gid().unwrap_or(0),
        capabilities,
    };
    match kind {
        EntryKind::File => {
            c.out.non_links.push(path.clone());
            c.file(&path, &meta, entry);
        }
        EntryKind::Dir => {
            c.out.non_links.push(path.clone());
            c.file(&path, &meta, &mut io::empty());
        }
        EntryKind::Symlink => {
            let target = entry
                .link_name_bytes()
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                .unwrap_or_default();
            c.out.symlinks.push((path, target));
        }
        EntryKind::HardLink => {
            let target = entry.link_name_bytes().and_then(|t| normalize_entry(&t));
            match target {
                Some(t) if !t.climbed => {
                    c.out.non_links.push(path.clone());
                    c.hard_link(&path, &t.path);
                }
                _ => c.warn(
                    WarningKind::MalformedFile,
                    Some(&path),
                    "hard link with an empty or climbing target; skipped".into(),
                ),
            }
        }
        EntryKind::Other => {}
    }
}

/// The PAX name of the file-capability xattr, as GNU tar and the container tools write it.
const CAPABILITY_PAX_KEY: &str = "SCHILY.xattr.security.capability";
/// Longer than any `vfs_cap_data` revision (24 bytes); a bigger value is not kept.
const MAX_CAPABILITY_BYTES: usize = 64;

/// The raw `security.capability` xattr of a tar entry, from its PAX header. Cheap: the
/// PAX records were read with the header; most entries have none.
fn file_capabilities<R: Read>(entry: &mut tar::Entry<'_, R>) -> Option<Vec<u8>> {
    let extensions = entry.pax_extensions().ok().flatten()?;
    for ext in extensions.flatten() {
        if ext.key_bytes() == CAPABILITY_PAX_KEY.as_bytes() {
            let value = ext.value_bytes();
            return (value.len() <= MAX_CAPABILITY_BYTES).then(|| value.to_vec());
        }
    }
    None
}

/// The `security.capability` xattr of a host file, without following a symlink.
fn host_capabilities(path: &Path) -> Option<Vec<u8>> {
    let mut buf = [0u8; MAX_CAPABILITY_BYTES];
    let n = host_xattr(path, c"security.capability", &mut buf)?;
    Some(buf[..n].to_vec())
}

/// Reads one extended attribute of `path` itself (never a symlink's target) into `buf`;
/// its length, or `None` when it is absent or empty.
fn host_xattr(path: &Path, name: &std::ffi::CStr, buf: &mut [u8]) -> Option<usize> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: both strings are NUL-terminated and `buf` is valid for `buf.len()` bytes.
    let n = unsafe {
        libc::lgetxattr(
            c_path.as_ptr(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    (n > 0).then_some(n as usize)
}

/// Whether an overlay filesystem's upper or lower directory marks `dir` opaque: it hides
/// everything below it. The kernel's attribute is `trusted.overlay.opaque`; rootless
/// storage (fuse-overlayfs, user namespaces) writes `user.overlay.opaque`.
fn overlay_opaque(dir: &Path) -> bool {
    let mut buf = [0u8; 4];
    [c"trusted.overlay.opaque", c"user.overlay.opaque"]
        .iter()
        .any(|name| host_xattr(dir, name, &mut buf).is_some_and(|n| buf[..n] == *b"y"))
}

/// Top-level directories of a root filesystem that are never walked.
const PSEUDO_FS: [&str; 3] = ["/proc", "/sys", "/dev"];

/// Walks a host directory as one layer, never leaving it.
pub fn walk_dir(root: &Path, analyzers: &[&dyn Analyzer], limits: WalkLimits) -> LayerAnalysis {
    use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};

    let mut c = Collector::new(analyzers, limits);
    // An explicit stack, not recursion: trees may be arbitrarily deep.
    let mut stack: Vec<(std::path::PathBuf, String)> = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, image_dir)) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                c.warn(
                    WarningKind::UnreadableFile,
                    Some(if image_dir.is_empty() {
                        "/"
                    } else {
                        &image_dir
                    }),
                    format!("cannot list: {e}"),
                );
                continue;
            }
        };
        let mut names: Vec<_> = entries.filter_map(Result::ok).collect();
        names.sort_by_key(|e| e.file_name());
        for entry in names {
            let name = entry.file_name();
            let image_path = format!("{image_dir}/{}", name.to_string_lossy());
            if image_path.len() > MAX_PATH_BYTES {
                c.warn(
                    WarningKind::BoundReached,
                    Some(&image_dir),
                    format!("entries deeper than {MAX_PATH_BYTES} path bytes; skipped"),
                );
                continue;
            }
            let host_path = entry.path();
            let Ok(md) = std::fs::symlink_metadata(&host_path) else {
                continue;
            };
            c.out.entries += 1;
            let ft = md.file_type();
            // An overlay directory (a containerd snapshot, Podman's storage) marks a file
            // deleted from the layers below with a 0:0 character device, which no real
            // device node is.
            if ft.is_char_device() && md.rdev() == 0 {
                c.out.whiteouts.push(image_path);
                continue;
            }
            if ft.is_dir() && overlay_opaque(&host_path) {
                c.out.opaque_dirs.push(image_path.clone());
            }
            let meta = EntryMeta {
                kind: if ft.is_file() {
                    EntryKind::File
                } else if ft.is_dir() {
                    EntryKind::Dir
                } else if ft.is_symlink() {
                    EntryKind::Symlink
                } else {
                    EntryKind::Other
                },
                size: md.len(),
                mode: md.mode(),
                uid: md.uid() as u64,
                gid: md.gid() as u64,
                capabilities: if ft.is_file() {
                    host_capabilities(&host_path)
                } else {
                    None
                },
            };
            match meta.kind {
                // Kernel pseudo-filesystems hold no packages and can be endless; a root
                // filesystem scanned in place (the host's `/`, a chroot) has them mounted.
                EntryKind::Dir if PSEUDO_FS.contains(&image_path.as_str()) => {}
                EntryKind::Dir => {
                    c.file(&image_path, &meta, &mut io::empty());
                    stack.push((host_path, image_path));
                }
                EntryKind::Symlink => {
                    let target = std::fs::read_link(&host_path)
                        .map(|t| t.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    c.out.symlinks.push((image_path, target));
                }
                EntryKind::File => {
                    let wanting = c.wanting(&image_path, &meta);
                    if wanting.is_empty() {
                        continue;
                    }
                    if wanting.iter().all(|(_, w)| *w == Want::Meta) {
                        // Metadata only: the file is never opened.
                        c.run(&image_path, &meta, wanting, &mut io::empty());
                        continue;
                    }
                    let opened = std::fs::OpenOptions::new()
                        .read(true)
                        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
                        .open(&host_path);
                    match opened {
                        Ok(mut f) => {
                            c.out.bytes += meta.size;
                            c.run_on_disk(&image_path, &meta, wanting, &mut f);
                        }
                        Err(e) => c.warn(
                            WarningKind::UnreadableFile,
                            Some(&image_path),
                            format!("cannot open: {e}"),
                        ),
                    }
                }
                EntryKind::HardLink | EntryKind::Other => {}
            }
        }
    }
    c.finish()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::analyzer::{AnalyzeError, AnalyzerGroup};
    use sha2::{Digest, Sha256};

    use crate::hashing::CHUNK_BYTES;
    use crate::test_io::Trickle;

    /// What the probe was shown: path, kind, content length, capabilities.
    type Seen = (String, EntryKind, usize, Option<Vec<u8>>);

    /// Records what it was shown.
    struct MetaProbe(Mutex<Vec<Seen>>);

    impl Analyzer for MetaProbe {
        fn name(&self) -> &'static str {
            "probe"
        }
        fn version(&self) -> u32 {
            1
        }
        fn group(&self) -> AnalyzerGroup {
            AnalyzerGroup::Library
        }
        fn wants(&self, _path: &str, meta: &EntryMeta) -> Want {
            if meta.mode & 0o4000 != 0 || meta.kind == EntryKind::Dir {
                Want::Meta
            } else {
                Want::No
            }
        }
        fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
            let len = match &input.content {
                FileContent::Bytes(b) => b.len(),
                FileContent::Stream(_) | FileContent::File(_) => usize::MAX,
            };
            self.0.lock().unwrap().push((
                input.path.to_string(),
                input.meta.kind,
                len,
                input.meta.capabilities.clone(),
            ));
            Ok(vec![FileFact::skipped(WarningKind::Other, "seen")])
        }
    }

    #[test]
    fn meta_wants_read_nothing_and_see_dirs_and_pax_capabilities() {
        let mut b = tar::Builder::new(Vec::new());
        let mut dir = tar::Header::new_gnu();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_mode(0o777);
        dir.set_size(0);
        b.append_data(&mut dir, "var/x", io::empty()).unwrap();
        let caps = [
            2u8, 0, 0, 2, 0, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        b.append_pax_extensions([("SCHILY.xattr.security.capability", &caps[..])])
            .unwrap();
        let body = vec![7u8; 4096];
        let mut file = tar::Header::new_gnu();
        file.set_mode(0o4755);
        file.set_size(body.len() as u64);
        b.append_data(&mut file, "usr/bin/tool", &body[..]).unwrap();
        let tar = b.into_inner().unwrap();

        let probe = MetaProbe(Mutex::new(Vec::new()));
        let refs: [&dyn Analyzer; 1] = [&probe];
        let out = walk_tar(&mut &tar[..], &refs, WalkLimits::default());
        assert!(out.diff_id.is_some(), "the stream was read to the end");
        // The timings count what the probe was given: the directory and the file.
        let timed = &out.timings.analyzers;
        assert_eq!(timed.len(), 1);
        assert_eq!(
            (timed[0].name, timed[0].files, timed[0].bytes),
            ("probe", 2, 4096)
        );
        assert!(out.timings.summary().contains("probe"));
        let seen = probe.0.into_inner().unwrap();
        assert_eq!(
            seen,
            vec![
                ("/var/x".into(), EntryKind::Dir, 0, None),
                (
                    "/usr/bin/tool".into(),
                    EntryKind::File,
                    0,
                    Some(caps.to_vec())
                ),
            ]
        );
    }

    /// Fails as asked by the file's name, under `/f/`.
    struct Failing;

    impl Analyzer for Failing {
        fn name(&self) -> &'static str {
            "failing"
        }
        fn version(&self) -> u32 {
            1
        }
        fn group(&self) -> AnalyzerGroup {
            AnalyzerGroup::Library
        }
        fn wants(&self, path: &str, _meta: &EntryMeta) -> Want {
            if path.starts_with("/f/") {
                Want::Bytes
            } else {
                Want::No
            }
        }
        fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
            match input.path {
                "/f/malformed" => Err(AnalyzeError::Malformed("no header".into())),
                "/f/unreadable" => Err(AnalyzeError::Io(io::Error::other("gone"))),
                "/f/bounded" => Err(AnalyzeError::BoundReached("too many".into())),
                "/f/part-bounded" => Ok(vec![FileFact::bound("partly, up to a bound")]),
                "/f/part-malformed" => Ok(vec![FileFact::malformed("partly, broken")]),
                "/f/part-unreadable" => Ok(vec![FileFact::unreadable("partly, cut")]),
                _ => Ok(vec![FileFact::skipped(WarningKind::Other, "partly")]),
            }
        }
    }

    /// A tar of regular files, then one raw entry whose name is written as given.
    fn tar_with(files: &[(&str, usize)], raw_name: Option<&[u8]>) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, size) in files {
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            h.set_size(*size as u64);
            b.append_data(&mut h, name, &vec![b'x'; *size][..]).unwrap();
        }
        if let Some(raw) = raw_name {
            let mut h = tar::Header::new_gnu();
            h.as_gnu_mut().unwrap().name[..raw.len()].copy_from_slice(raw);
            h.set_mode(0o644);
            h.set_size(0);
            h.set_cksum();
            b.append(&h, io::empty()).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn kinds(out: &LayerAnalysis) -> Vec<(WarningKind, Option<&str>, &str)> {
        out.warnings
            .iter()
            .map(|w| (w.kind, w.path.as_deref(), w.message.as_str()))
            .collect()
    }

    #[test]
    fn walk_warnings_carry_their_kind() {
        let tar = tar_with(
            &[
                ("f/malformed", 1),
                ("f/unreadable", 1),
                ("f/bounded", 1),
                ("f/part-bounded", 1),
                ("f/part-malformed", 1),
                ("f/part-unreadable", 1),
                ("f/skipped", 1),
                ("f/big", 100),
            ],
            Some(b"../f/x"),
        );
        let refs: [&dyn Analyzer; 1] = [&Failing];
        let limits = WalkLimits {
            max_file_bytes: 10,
            max_warnings: 200,
        };
        let out = walk_tar(&mut &tar[..], &refs, limits);
        assert!(out.diff_id.is_some());
        use WarningKind::*;
        assert_eq!(
            kinds(&out),
            [
                (MalformedFile, Some("/f/malformed"), "failing: no header"),
                (
                    UnreadableFile,
                    Some("/f/unreadable"),
                    "failing: read failed: gone"
                ),
                (BoundReached, Some("/f/bounded"), "failing: too many"),
                (
                    BoundReached,
                    Some("/f/part-bounded"),
                    "failing: partly, up to a bound"
                ),
                (
                    MalformedFile,
                    Some("/f/part-malformed"),
                    "failing: partly, broken"
                ),
                (
                    UnreadableFile,
                    Some("/f/part-unreadable"),
                    "failing: partly, cut"
                ),
                (Other, Some("/f/skipped"), "failing: partly"),
                (
                    BoundReached,
                    Some("/f/big"),
                    "failing: file is 100 bytes, over the 10-byte limit; skipped"
                ),
                (
                    MalformedFile,
                    Some("/f/x"),
                    "entry `../f/x` climbs out of the layer root with `..`; skipped"
                ),
            ]
        );
    }

    /// Asks for every file as `want` and records what it got: path, content length and
    /// the content's first bytes (read whole, for a stream).
    struct Recorder {
        want: Want,
        seen: Mutex<Vec<(String, usize, Vec<u8>)>>,
        /// Per file: the path, the form of content (`bytes`, `stream`, `file`) and its length.
        forms: Mutex<Vec<(String, &'static str, usize)>>,
    }

    impl Recorder {
        fn new(want: Want) -> Self {
            Recorder {
                want,
                seen: Mutex::new(Vec::new()),
                forms: Mutex::new(Vec::new()),
            }
        }
        fn seen(&self) -> Vec<(String, usize, Vec<u8>)> {
            std::mem::take(&mut self.seen.lock().unwrap())
        }
        fn forms(&self) -> Vec<(String, &'static str, usize)> {
            std::mem::take(&mut self.forms.lock().unwrap())
        }
        /// [`Recorder::forms`] in path order, for walks that run files in any order.
        fn sorted_forms(&self) -> Vec<(String, &'static str, usize)> {
            let mut forms = self.forms();
            forms.sort();
            forms
        }
    }

    impl Analyzer for Recorder {
        fn name(&self) -> &'static str {
            "recorder"
        }
        fn version(&self) -> u32 {
            1
        }
        fn group(&self) -> AnalyzerGroup {
            AnalyzerGroup::Library
        }
        fn wants(&self, _path: &str, _meta: &EntryMeta) -> Want {
            self.want
        }
        fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
            let form = match input.content {
                FileContent::Bytes(_) => "bytes",
                FileContent::Stream(_) => "stream",
                FileContent::File(_) => "file",
            };
            let mut all = Vec::new();
            input.content.with_reader(|r| r.read_to_end(&mut all))?;
            self.forms
                .lock()
                .unwrap()
                .push((input.path.to_string(), form, all.len()));
            self.seen.lock().unwrap().push((
                input.path.to_string(),
                all.len(),
                all[..all.len().min(4)].to_vec(),
            ));
            Ok(Vec::new())
        }
    }

    /// A tar of files whose bytes count up (`i % 251`), so a prefix is recognizable.
    fn counting_tar(files: &[(&str, usize)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, size) in files {
            let body: Vec<u8> = (0..*size).map(|i| (i % 251) as u8).collect();
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            h.set_size(*size as u64);
            b.append_data(&mut h, name, &body[..]).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn head_wants_get_the_first_bytes_and_leave_the_stream_whole() {
        let big = 3 * HEAD_BYTES + 5;
        let tar = counting_tar(&[("small", 10), ("big", big)]);
        let limits = WalkLimits {
            max_file_bytes: 2 * HEAD_BYTES as u64,
            max_warnings: 200,
        };
        // The head analyzer comes both before and after the streaming one.
        let (head1, stream, head2) = (
            Recorder::new(Want::Head),
            Recorder::new(Want::Stream),
            Recorder::new(Want::Head),
        );
        let refs: [&dyn Analyzer; 3] = [&head1, &stream, &head2];
        let out = walk_tar(&mut &tar[..], &refs, limits);
        assert!(out.diff_id.is_some(), "the stream was read to the end");
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let start = vec![0u8, 1, 2, 3];
        for h in [&head1, &head2] {
            assert_eq!(
                h.seen(),
                [
                    ("/small".into(), 10, start.clone()),
                    ("/big".into(), HEAD_BYTES, start.clone()),
                ]
            );
        }
        // The streaming analyzer still reads the file from its first byte to its last.
        assert_eq!(
            stream.seen(),
            [
                ("/small".into(), 10, start.clone()),
                ("/big".into(), big, start.clone()),
            ]
        );

        // When the file is read whole for a bytes analyzer, the head is its prefix.
        let (head, bytes) = (Recorder::new(Want::Head), Recorder::new(Want::Bytes));
        let refs: [&dyn Analyzer; 2] = [&head, &bytes];
        let tar = counting_tar(&[("mid", HEAD_BYTES + 7)]);
        let out = walk_tar(&mut &tar[..], &refs, WalkLimits::default());
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(head.seen(), [("/mid".into(), HEAD_BYTES, start.clone())]);
        assert_eq!(bytes.seen(), [("/mid".into(), HEAD_BYTES + 7, start)]);
    }

    /// Counts how many files over [`KEPT_BUFFER_BYTES`] it is given at once.
    #[derive(Default)]
    struct LargeInFlight {
        now: std::sync::atomic::AtomicUsize,
        most: std::sync::atomic::AtomicUsize,
        large_files: std::sync::atomic::AtomicUsize,
    }

    impl Analyzer for LargeInFlight {
        fn name(&self) -> &'static str {
            "large-in-flight"
        }
        fn version(&self) -> u32 {
            1
        }
        fn group(&self) -> AnalyzerGroup {
            AnalyzerGroup::Library
        }
        fn wants(&self, _path: &str, _meta: &EntryMeta) -> Want {
            Want::Bytes
        }
        fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
            use std::sync::atomic::Ordering::SeqCst;
            if let FileContent::Bytes(b) = input.content {
                if b.len() > KEPT_BUFFER_BYTES {
                    let now = self.now.fetch_add(1, SeqCst) + 1;
                    self.most.fetch_max(now, SeqCst);
                    self.large_files.fetch_add(1, SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(30));
                    self.now.fetch_sub(1, SeqCst);
                }
            }
            Ok(Vec::new())
        }
    }

    /// Walkers hold large files whole side by side only within the budget: three walkers
    /// of files just over half the budget hold one at a time, and of files three eighths
    /// of it, two at most.
    #[test]
    fn large_files_held_whole_stay_within_the_budget_across_walkers() {
        for (size, most) in [
            (LARGE_FILES_BUDGET / 2 + 1, 1),
            (LARGE_FILES_BUDGET * 3 / 8, 2),
        ] {
            let size = size as usize;
            let tar = counting_tar(&[("a", size), ("small", 10), ("b", size)]);
            let counter = LargeInFlight::default();
            let refs: [&dyn Analyzer; 1] = [&counter];
            std::thread::scope(|s| {
                for _ in 0..3 {
                    s.spawn(|| walk_tar(&mut &tar[..], &refs, WalkLimits::default()));
                }
            });
            use std::sync::atomic::Ordering::SeqCst;
            assert_eq!(counter.large_files.load(SeqCst), 6);
            assert!(
                counter.most.load(SeqCst) <= most,
                "{size}: {:?}",
                counter.most
            );
        }
    }

    #[test]
    fn diff_id_covers_every_byte_and_each_file_gets_its_own() {
        // Read in odd-sized pieces; the reused file buffer must hand each file exactly its
        // own bytes after a larger one, and after one too large to keep (freed, then made
        // anew).
        let big = 3 << 20;
        let huge = KEPT_BUFFER_BYTES + 5;
        let tar = counting_tar(&[
            ("big", big),
            ("huge", huge),
            ("small", 10),
            ("mid", big / 3),
        ]);
        let bytes = Recorder::new(Want::Bytes);
        let refs: [&dyn Analyzer; 1] = [&bytes];
        for chunk in [1 << 20, 7919, 512] {
            let mut stream = Trickle { data: &tar, chunk };
            let out = walk_tar(&mut stream, &refs, WalkLimits::default());
            let want = format!("sha256:{}", hex::encode(Sha256::digest(&tar)));
            assert_eq!(out.diff_id.as_deref(), Some(want.as_str()), "chunk {chunk}");
            assert_eq!(out.bytes, tar.len() as u64);
            let start = vec![0u8, 1, 2, 3];
            assert_eq!(
                bytes.seen(),
                [
                    ("/big".into(), big, start.clone()),
                    ("/huge".into(), huge, start.clone()),
                    ("/small".into(), 10, start.clone()),
                    ("/mid".into(), big / 3, start),
                ]
            );
        }
    }

    #[test]
    fn skipped_data_is_hashed_and_the_next_header_found() {
        let sizes = [CHUNK_BYTES * 2 + 3, 10, CHUNK_BYTES - 1, 0, 513];
        let names = ["a", "b", "c", "d", "e"];
        let files: Vec<(&str, usize)> = names.into_iter().zip(sizes).collect();
        let tar = counting_tar(&files);
        let head = Recorder::new(Want::Head);
        let refs: [&dyn Analyzer; 1] = [&head];
        for chunk in [1 << 20, 7919, 512, 1] {
            let mut stream = Trickle { data: &tar, chunk };
            let out = walk_tar(&mut stream, &refs, WalkLimits::default());
            let want = format!("sha256:{}", hex::encode(Sha256::digest(&tar)));
            assert_eq!(out.diff_id.as_deref(), Some(want.as_str()), "chunk {chunk}");
            assert_eq!(out.entries, 5);
            let seen: Vec<(String, usize)> =
                head.seen().into_iter().map(|(p, n, _)| (p, n)).collect();
            let wanted: Vec<(String, usize)> = files
                .iter()
                .map(|(p, n)| (format!("/{p}"), (*n).min(HEAD_BYTES)))
                .collect();
            assert_eq!(seen, wanted, "chunk {chunk}");
        }
    }

    #[test]
    fn large_files_only_seekable_analyzers_read_go_to_a_temporary_file() {
        let large = SPOOL_BYTES as usize + 3;
        let tar = counting_tar(&[("small", 100), ("large", large)]);
        let seen = |analyzers: &[&Recorder]| {
            let refs: Vec<&dyn Analyzer> = analyzers.iter().map(|a| *a as &dyn Analyzer).collect();
            let out = walk_tar(&mut &tar[..], &refs, WalkLimits::default());
            assert!(out.warnings.is_empty(), "{:?}", out.warnings);
            assert!(out.diff_id.is_some());
            analyzers.iter().map(|a| a.forms()).collect::<Vec<_>>()
        };
        let (seek, stream, head) = (
            Recorder::new(Want::Seekable),
            Recorder::new(Want::Stream),
            Recorder::new(Want::Head),
        );
        // Seekable alone, or with stream and head analyzers: the large file is a temporary
        // file for the seekable one, and the stream and head read the same copy; the small
        // one is read into memory.
        assert_eq!(
            seen(&[&head, &seek, &stream]),
            [
                vec![
                    ("/small".to_string(), "bytes", 100),
                    ("/large".to_string(), "bytes", HEAD_BYTES)
                ],
                vec![
                    ("/small".to_string(), "bytes", 100),
                    ("/large".to_string(), "file", large)
                ],
                vec![
                    ("/small".to_string(), "bytes", 100),
                    ("/large".to_string(), "stream", large)
                ],
            ]
        );
        // A directory target's file is handed over in place, not copied.
        let dir = tempfile::tempdir().unwrap();
        let body: Vec<u8> = (0..large).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.path().join("large"), &body).unwrap();
        std::fs::write(dir.path().join("small"), &body[..100]).unwrap();
        let refs: [&dyn Analyzer; 2] = [&seek, &stream];
        let out = walk_dir(dir.path(), &refs, WalkLimits::default());
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(
            seek.sorted_forms(),
            [
                ("/large".to_string(), "file", large),
                ("/small".to_string(), "bytes", 100)
            ]
        );
        assert_eq!(
            stream.sorted_forms(),
            [
                ("/large".to_string(), "stream", large),
                ("/small".to_string(), "bytes", 100)
            ]
        );

        // Once an analyzer needs the bytes, everyone reads them from memory.
        let bytes = Recorder::new(Want::Bytes);
        assert_eq!(
            seen(&[&seek, &bytes]),
            [
                vec![
                    ("/small".to_string(), "bytes", 100),
                    ("/large".to_string(), "bytes", large)
                ],
                vec![
                    ("/small".to_string(), "bytes", 100),
                    ("/large".to_string(), "bytes", large)
                ],
            ]
        );
    }

    #[test]
    fn dropped_and_stream_warnings_carry_their_kind() {
        let refs: [&dyn Analyzer; 1] = [&Failing];
        let tar = tar_with(&[("f/malformed", 1), ("f/a", 1), ("f/b", 1)], None);
        let limits = WalkLimits {
            max_file_bytes: 10,
            max_warnings: 1,
        };
        let out = walk_tar(&mut &tar[..], &refs, limits);
        assert_eq!(
            kinds(&out),
            [
                (
                    WarningKind::MalformedFile,
                    Some("/f/malformed"),
                    "failing: no header"
                ),
                (
                    WarningKind::BoundReached,
                    None,
                    "2 more warnings in this layer were not kept"
                ),
            ]
        );

        // A stream cut inside the second entry's header.
        let cut = &tar[..512 + 512 + 100];
        let out = walk_tar(&mut &cut[..], &refs, WalkLimits::default());
        assert!(out.diff_id.is_none());
        let stopped: Vec<_> = out
            .warnings
            .iter()
            .filter(|w| w.message.starts_with("layer stream stopped"))
            .collect();
        assert_eq!(stopped.len(), 1, "{:?}", out.warnings);
        assert_eq!(stopped[0].kind, WarningKind::UnreadableFile);
    }

    /// An overlay directory as containerd's and Podman's snapshotters leave it: a 0:0
    /// character device deletes a file, `trusted.overlay.opaque=y` hides a directory's
    /// lower contents. Needs root (mknod, trusted xattrs); skipped without it.
    #[test]
    fn overlay_whiteouts_in_a_directory() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let c_gone = std::ffi::CString::new(gone.as_os_str().as_bytes()).unwrap();
        // SAFETY: a NUL-terminated path; mode and device are plain integers.
        if unsafe { libc::mknod(c_gone.as_ptr(), libc::S_IFCHR, 0) } != 0 {
            eprintln!("skipped: mknod needs root");
            return;
        }
        let opaque = dir.path().join("app");
        std::fs::create_dir(&opaque).unwrap();
        std::fs::write(opaque.join("kept"), "x").unwrap();
        let c_opaque = std::ffi::CString::new(opaque.as_os_str().as_bytes()).unwrap();
        // SAFETY: NUL-terminated strings; the value is one valid byte.
        let set = unsafe {
            libc::setxattr(
                c_opaque.as_ptr(),
                c"trusted.overlay.opaque".as_ptr(),
                b"y".as_ptr().cast(),
                1,
                0,
            )
        };
        let out = walk_dir(dir.path(), &[], WalkLimits::default());
        assert_eq!(out.whiteouts, ["/gone"]);
        if set == 0 {
            assert_eq!(out.opaque_dirs, ["/app"]);
        }
        let plain = tempfile::tempdir().unwrap();
        std::fs::create_dir(plain.path().join("app")).unwrap();
        let out = walk_dir(plain.path(), &[], WalkLimits::default());
        assert!(out.whiteouts.is_empty() && out.opaque_dirs.is_empty());
    }
}
