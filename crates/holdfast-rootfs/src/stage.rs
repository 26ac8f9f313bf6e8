//! Extracting one layer into its own staging directory.
//!
//! Every layer lands in a private directory of its own, so layers can be extracted in
//! parallel, in whatever order the source hands them over. Whiteouts and opaque markers
//! are recorded, never created; every path is normalized; nothing is ever created through
//! a symlink (files are opened `O_CREAT|O_EXCL|O_NOFOLLOW`, parents are directories this
//! stager made itself, and a symlink of the layer on the way to an entry is resolved in
//! the layer's own tree, inside its root).

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use holdfast_source::path::{file_name, normalize_entry, parent, resolve_parent, MAX_PATH_BYTES};
use sha2::{Digest, Sha256};

use crate::fsutil::{host_path, is_fatal};
use crate::tree::{join, DirMeta, DirNode, Node};
use crate::{MaterializeError, MaterializeOptions};

/// Warnings kept per layer; past this they are counted.
const MAX_LAYER_WARNINGS: usize = 100;
/// Copy buffer for file contents.
const COPY_BUFFER: usize = 256 << 10;
/// Read-ahead on the layer stream, so tar headers do not cost a read each.
const STREAM_BUFFER: usize = 256 << 10;
/// Top-level directories of a directory target whose content is not copied.
const PSEUDO_FS: [&str; 3] = ["/proc", "/sys", "/dev"];

/// State shared by the layers being extracted at the same time.
pub(crate) struct Shared<'a> {
    pub options: &'a MaterializeOptions,
    pub is_root: bool,
    pub entries: AtomicU64,
    pub bytes: AtomicU64,
    /// Set on the first fatal error; every stager stops at its next entry.
    pub stop: AtomicBool,
    pub fatal: Mutex<Option<MaterializeError>>,
}

impl<'a> Shared<'a> {
    pub fn new(options: &'a MaterializeOptions, is_root: bool) -> Self {
        Shared {
            options,
            is_root,
            entries: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            fatal: Mutex::new(None),
        }
    }

    /// Records the first fatal error and tells everyone to stop.
    pub fn fail(&self, e: MaterializeError) {
        let mut slot = self.fatal.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(e);
        }
        self.stop.store(true, Ordering::SeqCst);
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Counts one entry against `max_entries`.
    fn count_entry(&self) -> Result<(), EntryErr> {
        let n = self.entries.fetch_add(1, Ordering::Relaxed) + 1;
        if n > self.options.max_entries {
            self.fail(MaterializeError::TooManyEntries {
                limit: self.options.max_entries,
            });
            return Err(EntryErr::Fatal);
        }
        Ok(())
    }

    /// Counts file bytes against `max_total_bytes`.
    fn count_bytes(&self, n: u64) -> Result<(), EntryErr> {
        let total = self.bytes.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        if total > self.options.max_total_bytes {
            self.fail(MaterializeError::TooManyBytes {
                limit: self.options.max_total_bytes,
            });
            return Err(EntryErr::Fatal);
        }
        Ok(())
    }

    /// The owner to apply: only as root, and only when it is not root's own.
    fn owner(&self, uid: u64, gid: u64) -> Option<(u32, u32)> {
        if !self.is_root || (uid == 0 && gid == 0) {
            return None;
        }
        Some((u32::try_from(uid).ok()?, u32::try_from(gid).ok()?))
    }
}

/// What one layer left in staging, for the flatten step.
#[derive(Debug)]
pub(crate) struct StagedLayer {
    /// The staging directory holding the layer's tree.
    pub root: PathBuf,
    pub tree: DirNode,
    /// Paths deleted by `.wh.NAME`, as written.
    pub whiteouts: Vec<String>,
    /// Directories whose lower content `.wh..wh..opq` hides, as written.
    pub opaque: Vec<String>,
    /// Hard links whose target is not in this layer: (path, target), resolved in the
    /// destination when the layer is flattened.
    pub dest_links: Vec<(String, String)>,
    /// Warnings, without the layer's name (added once the layer is known).
    pub warnings: Vec<String>,
    /// Device nodes, fifos and sockets left out.
    pub skipped: u64,
    /// `sha256:HEX` of the tar stream, when hashing was asked for and the stream was
    /// read to its end.
    pub digest: Option<String>,
}

/// Why an entry was not staged.
enum EntryErr {
    /// This entry only; the message is a warning.
    Skip(String),
    /// The stream cannot be read further; the message is a warning.
    Broken(String),
    /// Recorded in [`Shared::fail`]; stop everything.
    Fatal,
}

/// How walking an entry's parents ended.
enum Walk {
    /// The parents are directories and the path is free (or a directory to keep).
    Ready,
    /// A parent is a symlink of this layer: resolve and walk again.
    Link,
}

/// File content to stage.
enum Content<'r> {
    /// A tar entry; `expected` is the size its header declares, checked when `exact`.
    Stream {
        reader: &'r mut dyn Read,
        expected: u64,
        exact: bool,
    },
    /// A host file already opened without following links.
    Host(File),
}

/// Hashes what passes through, when asked to.
struct HashingReader<R> {
    inner: R,
    hasher: Option<Sha256>,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// Extracts one layer.
pub(crate) struct Stager<'s> {
    shared: &'s Shared<'s>,
    layer: StagedLayer,
    /// Hard links of this layer, made after everything else: (path, target); `None`
    /// when a later entry took the path.
    hardlinks: Vec<Option<(String, String)>>,
    hardlink_at: HashMap<String, usize>,
    dropped_warnings: u64,
    chown_warned: bool,
    buf: Vec<u8>,
}

impl<'s> Stager<'s> {
    /// A stager writing below `root`, an existing private directory.
    pub fn new(shared: &'s Shared<'s>, root: PathBuf) -> Self {
        Stager {
            shared,
            layer: StagedLayer {
                root,
                tree: DirNode::default(),
                whiteouts: Vec::new(),
                opaque: Vec::new(),
                dest_links: Vec::new(),
                warnings: Vec::new(),
                skipped: 0,
                digest: None,
            },
            hardlinks: Vec::new(),
            hardlink_at: HashMap::new(),
            dropped_warnings: 0,
            chown_warned: false,
            buf: Vec::new(),
        }
    }

    /// What was staged, with the warnings summarized.
    pub fn finish(mut self) -> StagedLayer {
        if self.dropped_warnings > 0 {
            let n = self.dropped_warnings;
            self.layer
                .warnings
                .push(format!("{n} more warnings in this layer were not kept"));
        }
        self.layer
    }

    fn warn(&mut self, message: String) {
        if self.layer.warnings.len() < MAX_LAYER_WARNINGS {
            self.layer.warnings.push(message);
        } else {
            self.dropped_warnings += 1;
        }
    }

    fn host(&self, image_path: &str) -> PathBuf {
        host_path(&self.layer.root, image_path)
    }

    /// Turns an I/O error on one entry into a skip, or into a fatal error when the
    /// staging filesystem itself is failing.
    fn io_err(&self, what: &str, path: &str, e: io::Error) -> EntryErr {
        if is_fatal(&e) {
            self.shared.fail(MaterializeError::Io {
                op: "write the staging copy of",
                path: self.host(path),
                source: e,
            });
            EntryErr::Fatal
        } else {
            EntryErr::Skip(format!("`{path}`: cannot {what}: {e}; skipped"))
        }
    }

    // ---- tar layers -------------------------------------------------------------------

    /// Extracts a tar stream, hashing it when `hash` (for layers whose index only their
    /// digest can tell). A stream that breaks part way keeps what was read before.
    pub fn stage_tar(&mut self, stream: &mut dyn Read, hash: bool) {
        let mut hashing = HashingReader {
            inner: BufReader::with_capacity(STREAM_BUFFER, stream),
            hasher: hash.then(Sha256::new),
        };
        let mut complete = true;
        {
            let mut archive = tar::Archive::new(&mut hashing);
            let entries = match archive.entries() {
                Ok(e) => e,
                Err(e) => {
                    self.warn(format!("not a tar stream: {e}"));
                    return;
                }
            };
            for entry in entries {
                if self.shared.stopped() {
                    return;
                }
                let mut entry = match entry {
                    Ok(e) => e,
                    Err(e) => {
                        self.warn(format!(
                            "the layer stream is corrupt or truncated ({e}); the rest of the layer is missing"
                        ));
                        complete = false;
                        break;
                    }
                };
                match self.tar_entry(&mut entry) {
                    Ok(()) => {}
                    Err(EntryErr::Skip(m)) => self.warn(m),
                    Err(EntryErr::Broken(m)) => {
                        self.warn(m);
                        complete = false;
                        break;
                    }
                    Err(EntryErr::Fatal) => return,
                }
            }
        }
        if complete {
            // The end-of-archive blocks and padding: the digest covers the whole blob.
            if let Err(e) = io::copy(&mut hashing, &mut io::sink()) {
                self.warn(format!("the layer stream failed after its last entry: {e}"));
                complete = false;
            }
        }
        self.make_hardlinks();
        if complete {
            if let Some(h) = hashing.hasher.take() {
                self.layer.digest = Some(format!("sha256:{}", hex::encode(h.finalize())));
            }
        }
    }

    fn tar_entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), EntryErr> {
        self.shared.count_entry()?;
        let raw = entry.path_bytes().into_owned();
        let Some(name) = normalize_entry(&raw) else {
            if raw.len() > MAX_PATH_BYTES {
                return Err(EntryErr::Skip(format!(
                    "entry name of {} bytes is longer than {MAX_PATH_BYTES}; skipped",
                    raw.len()
                )));
            }
            // The root itself (`./`) or an empty name: nothing to make.
            return Ok(());
        };
        if name.climbed {
            return Err(EntryErr::Skip(format!(
                "entry `{}` climbs out of the layer root with `..`; skipped",
                String::from_utf8_lossy(&raw)
            )));
        }
        let path = name.path;
        if let Some(hidden) = file_name(&path).strip_prefix(".wh.") {
            let dir = parent(&path);
            if hidden == ".wh..opq" {
                self.layer.opaque.push(dir.to_string());
            } else if !hidden.is_empty() && !hidden.starts_with(".wh.") {
                self.layer.whiteouts.push(join(dir, hidden));
            }
            return Ok(());
        }
        let header = entry.header();
        let kind = header.entry_type();
        let mode = header.mode().ok().map(|m| m & 0o7777);
        let owner = self
            .shared
            .owner(header.uid().unwrap_or(0), header.gid().unwrap_or(0));
        use tar::EntryType as T;
        if !matches!(kind, T::Link) {
            self.cancel_hardlink(&path);
        }
        match kind {
            T::Regular | T::Continuous | T::GNUSparse => {
                let size = entry.size();
                self.shared.count_bytes(size)?;
                let exact = !matches!(kind, T::GNUSparse);
                self.put_file(
                    &path,
                    mode.unwrap_or(0o644),
                    owner,
                    Content::Stream {
                        reader: entry,
                        expected: size,
                        exact,
                    },
                )
            }
            T::Directory => self.put_dir(
                &path,
                DirMeta {
                    mode: mode.unwrap_or(0o755),
                    owner,
                },
            ),
            T::Symlink => match entry.link_name_bytes() {
                Some(t) if !t.is_empty() => {
                    let target = t.into_owned();
                    self.put_symlink(&path, &target, owner)
                }
                _ => Err(EntryErr::Skip(format!(
                    "symlink `{path}` has no target; skipped"
                ))),
            },
            T::Link => {
                let target = entry.link_name_bytes().and_then(|t| normalize_entry(&t));
                match target {
                    Some(t) if !t.climbed => {
                        self.defer_hardlink(path, t.path);
                        Ok(())
                    }
                    _ => Err(EntryErr::Skip(format!(
                        "hard link `{path}` has an empty or climbing target; skipped"
                    ))),
                }
            }
            T::Char | T::Block | T::Fifo => {
                self.layer.skipped += 1;
                Ok(())
            }
            T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink => Ok(()),
            other => Err(EntryErr::Skip(format!(
                "`{path}` has the unsupported tar entry type {:?}; skipped",
                other.as_byte() as char
            ))),
        }
    }

    fn defer_hardlink(&mut self, path: String, target: String) {
        self.cancel_hardlink(&path);
        self.hardlink_at.insert(path.clone(), self.hardlinks.len());
        self.hardlinks.push(Some((path, target)));
    }

    /// A later entry at the same path wins over a deferred hard link.
    fn cancel_hardlink(&mut self, path: &str) {
        if self.hardlink_at.is_empty() {
            return;
        }
        if let Some(i) = self.hardlink_at.remove(path) {
            self.hardlinks[i] = None;
        }
    }

    /// Makes the layer's hard links: to the staged file when the target is a regular
    /// file of this layer; left for the destination when the layer does not have it.
    fn make_hardlinks(&mut self) {
        let links = std::mem::take(&mut self.hardlinks);
        self.hardlink_at.clear();
        for (path, target) in links.into_iter().flatten() {
            if self.shared.stopped() {
                return;
            }
            match self.hardlink(&path, &target) {
                Ok(()) => {}
                Err(EntryErr::Skip(m) | EntryErr::Broken(m)) => self.warn(m),
                Err(EntryErr::Fatal) => return,
            }
        }
    }

    fn hardlink(&mut self, path: &str, target: &str) -> Result<(), EntryErr> {
        let tree = &self.layer.tree;
        let resolved = if tree.parent_has_link(target) {
            resolve_parent(target, |p| tree.link_of(p))
        } else {
            Some(target.to_string())
        };
        let Some(resolved) = resolved else {
            return Err(EntryErr::Skip(format!(
                "hard link `{path}`: too many symlinks resolving `{target}`; skipped"
            )));
        };
        let size = match tree.lookup(&resolved) {
            Some(Node::File { size }) => *size,
            None => {
                self.layer
                    .dest_links
                    .push((path.to_string(), target.to_string()));
                return Ok(());
            }
            Some(_) => {
                return Err(EntryErr::Skip(format!(
                    "hard link `{path}` to `{target}`, which is not a regular file; skipped"
                )))
            }
        };
        // A link to itself changes nothing (and must not clear its own target).
        let at = if tree.parent_has_link(path) {
            resolve_parent(path, |p| tree.link_of(p))
        } else {
            Some(path.to_string())
        };
        if at.as_deref() == Some(resolved.as_str()) {
            return Ok(());
        }
        let at = self.prepare(path, false)?;
        fs::hard_link(self.host(&resolved), self.host(&at))
            .map_err(|e| self.io_err("make hard link", &at, e))?;
        self.insert(&at, Node::File { size });
        Ok(())
    }

    // ---- directory targets ------------------------------------------------------------

    /// Copies a host directory, never following a symlink; `/proc`, `/sys` and `/dev`
    /// are made but not filled.
    pub fn stage_dir(&mut self, src: &Path) {
        let mut stack: Vec<(PathBuf, String)> = vec![(src.to_path_buf(), String::new())];
        while let Some((dir, image_dir)) = stack.pop() {
            let shown = if image_dir.is_empty() {
                "/"
            } else {
                &image_dir
            };
            let entries = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) => {
                    self.warn(format!("`{shown}`: cannot list: {e}"));
                    continue;
                }
            };
            for entry in entries {
                if self.shared.stopped() {
                    return;
                }
                let entry = match entry {
                    Ok(e) => e,
                    Err(e) => {
                        let msg = format!("`{shown}`: cannot list: {e}");
                        self.warn(msg);
                        break;
                    }
                };
                let image_path = format!("{image_dir}/{}", entry.file_name().to_string_lossy());
                match self.dir_entry(&entry, &image_path) {
                    Ok(Some(descend)) => stack.push((descend, image_path)),
                    Ok(None) => {}
                    Err(EntryErr::Skip(m) | EntryErr::Broken(m)) => self.warn(m),
                    Err(EntryErr::Fatal) => return,
                }
            }
        }
    }

    /// Stages one entry of a directory target; returns the host directory to descend
    /// into, for directories.
    fn dir_entry(
        &mut self,
        entry: &fs::DirEntry,
        image_path: &str,
    ) -> Result<Option<PathBuf>, EntryErr> {
        self.shared.count_entry()?;
        if image_path.len() > MAX_PATH_BYTES {
            return Err(EntryErr::Skip(format!(
                "`{}`: entries deeper than {MAX_PATH_BYTES} path bytes; skipped",
                parent(image_path)
            )));
        }
        let host = entry.path();
        // `DirEntry::metadata` does not follow a symlink.
        let md = entry
            .metadata()
            .map_err(|e| EntryErr::Skip(format!("`{image_path}`: cannot stat: {e}; skipped")))?;
        let ft = md.file_type();
        let owner = self.shared.owner(md.uid().into(), md.gid().into());
        let mode = md.mode() & 0o7777;
        if ft.is_dir() {
            self.put_dir(image_path, DirMeta { mode, owner })?;
            return Ok((!PSEUDO_FS.contains(&image_path)).then_some(host));
        }
        if ft.is_symlink() {
            let target = fs::read_link(&host).map_err(|e| {
                EntryErr::Skip(format!("`{image_path}`: cannot read link: {e}; skipped"))
            })?;
            self.put_symlink(image_path, target.as_os_str().as_bytes(), owner)?;
            return Ok(None);
        }
        if !ft.is_file() {
            self.layer.skipped += 1;
            return Ok(None);
        }
        self.shared.count_bytes(md.len())?;
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(&host)
            .map_err(|e| EntryErr::Skip(format!("`{image_path}`: cannot open: {e}; skipped")))?;
        // Swapped for something else between the listing and the open?
        match file.metadata() {
            Ok(m) if m.is_file() => {}
            _ => {
                return Err(EntryErr::Skip(format!(
                    "`{image_path}` changed while it was copied; skipped"
                )))
            }
        }
        self.put_file(image_path, mode, owner, Content::Host(file))?;
        Ok(None)
    }

    // ---- making entries ---------------------------------------------------------------

    /// Resolves the parent of `path` through this layer's symlinks (inside the layer
    /// root), creates missing parents as implicit directories, and clears whatever is at
    /// the path (a directory is kept when `keep_dir`). Returns the path to create.
    fn prepare(&mut self, path: &str, keep_dir: bool) -> Result<String, EntryErr> {
        match self.make_parents(path, keep_dir)? {
            Walk::Ready => return Ok(path.to_string()),
            Walk::Link => {}
        }
        let tree = &self.layer.tree;
        let resolved = resolve_parent(path, |p| tree.link_of(p)).ok_or_else(|| {
            EntryErr::Skip(format!(
                "`{path}`: too many symlinks on the way to it; skipped"
            ))
        })?;
        // Resolved through every link of the layer, so no parent is one any more.
        match self.make_parents(&resolved, keep_dir)? {
            Walk::Ready => Ok(resolved),
            Walk::Link => Err(EntryErr::Skip(format!(
                "`{path}`: cannot resolve its parent directory; skipped"
            ))),
        }
    }

    /// Walks the parents of `path`, creating the missing ones, and clears what is at
    /// the path; stops (having changed nothing) at a parent that is a symlink.
    fn make_parents(&mut self, path: &str, keep_dir: bool) -> Result<Walk, EntryErr> {
        let shared = self.shared;
        let StagedLayer { root, tree, .. } = &mut self.layer;
        let root: &Path = root;
        let mut dir = tree;
        let parent_len = parent(path).len();
        // Each parent component with the image path up to it (`path` is normalized).
        let mut start = 1;
        while start < parent_len {
            let end = path[start..parent_len]
                .find('/')
                .map_or(parent_len, |i| start + i);
            let comp = &path[start..end];
            let image_dir = &path[..end];
            start = end + 1;
            match dir.children.get(comp) {
                Some(Node::Dir(_)) => {}
                // Before anything was created: a link is a prefix of what exists.
                Some(Node::Symlink(_)) => return Ok(Walk::Link),
                Some(Node::File { .. }) => {
                    return Err(EntryErr::Skip(format!(
                        "`{path}`: `{image_dir}` is not a directory in this layer; skipped"
                    )))
                }
                None => {
                    if let Err(e) = fs::DirBuilder::new()
                        .mode(0o755)
                        .create(host_path(root, image_dir))
                    {
                        return Err(stage_io_err(shared, root, "create directory", image_dir, e));
                    }
                    dir.children
                        .insert(comp.to_string(), Node::Dir(DirNode::default()));
                }
            }
            dir = match dir.children.get_mut(comp) {
                Some(Node::Dir(d)) => d,
                _ => unreachable!("just checked or inserted a directory"),
            };
        }
        let name = file_name(path);
        let removed = match dir.children.get(name) {
            None => return Ok(Walk::Ready),
            Some(Node::Dir(_)) if keep_dir => return Ok(Walk::Ready),
            Some(Node::Dir(_)) => fs::remove_dir_all(host_path(root, path)),
            Some(_) => fs::remove_file(host_path(root, path)),
        };
        if let Err(e) = removed {
            return Err(stage_io_err(shared, root, "replace", path, e));
        }
        dir.children.remove(name);
        Ok(Walk::Ready)
    }

    /// Records a node at `path`, whose parent directory exists in the tree.
    fn insert(&mut self, path: &str, node: Node) {
        if let Some(dir) = self.layer.tree.dir_mut(parent(path)) {
            dir.children.insert(file_name(path).to_string(), node);
        }
    }

    fn put_file(
        &mut self,
        path: &str,
        mode: u32,
        owner: Option<(u32, u32)>,
        content: Content<'_>,
    ) -> Result<(), EntryErr> {
        let path = self.prepare(path, false)?;
        let host = self.host(&path);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&host)
            .map_err(|e| self.io_err("create", &path, e))?;
        let copied = match content {
            Content::Stream {
                reader,
                expected,
                exact,
            } => self.copy_stream(reader, &mut file, &path, expected, exact),
            Content::Host(mut src) => {
                io::copy(&mut src, &mut file).map_err(|e| self.io_err("copy", &path, e))
            }
        };
        let size = match copied {
            Ok(n) => n,
            Err(e) => {
                drop(file);
                let _ = fs::remove_file(&host);
                return Err(e);
            }
        };
        if let Some((uid, gid)) = owner {
            // Before the mode: changing the owner clears setuid and setgid.
            if let Err(e) = std::os::unix::fs::fchown(&file, Some(uid), Some(gid)) {
                self.chown_failed(&path, e);
            }
        }
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| self.io_err("set the mode of", &path, e))?;
        self.insert(&path, Node::File { size });
        Ok(())
    }

    /// Copies a tar entry's content, telling a broken stream from a failing write.
    fn copy_stream(
        &mut self,
        reader: &mut dyn Read,
        file: &mut File,
        path: &str,
        expected: u64,
        exact: bool,
    ) -> Result<u64, EntryErr> {
        if self.buf.is_empty() {
            self.buf = vec![0; COPY_BUFFER];
        }
        let mut total = 0u64;
        loop {
            let n = match reader.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(EntryErr::Broken(format!(
                        "the layer stream is corrupt or truncated inside `{path}` ({e}); the rest of the layer is missing"
                    )))
                }
            };
            if let Err(e) = file.write_all(&self.buf[..n]) {
                return Err(self.io_err("write", path, e));
            }
            total += n as u64;
        }
        if exact && total != expected {
            return Err(EntryErr::Broken(format!(
                "the layer stream is truncated inside `{path}` ({total} of {expected} bytes); the rest of the layer is missing"
            )));
        }
        Ok(total)
    }

    fn put_dir(&mut self, path: &str, meta: DirMeta) -> Result<(), EntryErr> {
        let path = self.prepare(path, true)?;
        if let Some(Node::Dir(d)) = self
            .layer
            .tree
            .dir_mut(parent(&path))
            .and_then(|d| d.children.get_mut(file_name(&path)))
        {
            d.explicit = Some(meta);
            return Ok(());
        }
        // Owner-writable while staged; the recorded mode is applied at the very end.
        fs::DirBuilder::new()
            .mode(0o755)
            .create(self.host(&path))
            .map_err(|e| self.io_err("create directory", &path, e))?;
        self.insert(
            &path,
            Node::Dir(DirNode {
                explicit: Some(meta),
                ..DirNode::default()
            }),
        );
        Ok(())
    }

    fn put_symlink(
        &mut self,
        path: &str,
        target: &[u8],
        owner: Option<(u32, u32)>,
    ) -> Result<(), EntryErr> {
        let path = self.prepare(path, false)?;
        let host = self.host(&path);
        std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), &host)
            .map_err(|e| self.io_err("create symlink", &path, e))?;
        if let Some((uid, gid)) = owner {
            if let Err(e) = std::os::unix::fs::lchown(&host, Some(uid), Some(gid)) {
                self.chown_failed(&path, e);
            }
        }
        let lossy = String::from_utf8_lossy(target).into_owned();
        self.insert(&path, Node::Symlink(lossy));
        Ok(())
    }

    /// Owners are best effort (a user namespace may not map them): said once per layer.
    fn chown_failed(&mut self, path: &str, e: io::Error) {
        if !self.chown_warned {
            self.chown_warned = true;
            self.warn(format!(
                "`{path}`: cannot set the owner ({e}); owners in this layer may be wrong"
            ));
        }
    }
}

/// [`Stager::io_err`] without borrowing the stager.
fn stage_io_err(
    shared: &Shared<'_>,
    root: &Path,
    what: &str,
    path: &str,
    e: io::Error,
) -> EntryErr {
    if is_fatal(&e) {
        shared.fail(MaterializeError::Io {
            op: "write the staging copy of",
            path: host_path(root, path),
            source: e,
        });
        EntryErr::Fatal
    } else {
        EntryErr::Skip(format!("`{path}`: cannot {what}: {e}; skipped"))
    }
}
