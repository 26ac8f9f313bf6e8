//! Moving staged layers into the destination, bottom to top.
//!
//! The rules are those of `holdfast-analyze`'s merge (the OCI image spec's `layer.md`):
//! a layer's whiteouts and opaque directories apply first, to what the layers below left;
//! then its entries are placed, their parent directories resolved through the symlinks
//! already in the destination, inside the image root. An explicit directory entry
//! replaces a lower symlink at its path; an implicit parent goes through it.
//!
//! Placing is a `rename`: a staged subtree whose destination is free moves in whole;
//! one whose destination is an existing real directory is merged into it entry by entry.
//! Directory modes and owners are applied once at the very end, deepest first, so that
//! a read-only directory of a lower layer never stops an upper layer from writing below
//! it.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use holdfast_source::path::{parent, resolve, resolve_parent};

use crate::fsutil::{host_path, is_fatal, open_dir_nofollow};
use crate::stage::StagedLayer;
use crate::tree::{components, join, DirMeta, Node};
use crate::MaterializeError;

/// What is at a destination path (never following a symlink).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Existing {
    Absent,
    Dir,
    Link,
    /// A regular file and its size.
    File(u64),
    /// A device, fifo or socket (never made by us, but tolerated).
    Other,
}

/// A staged directory to merge into an existing destination directory.
type Work = (PathBuf, BTreeMap<String, Node>, String);

/// Builds the merged tree in the destination.
pub(crate) struct Flattener<'a> {
    dest: &'a Path,
    is_root: bool,
    /// Explicit directories in the destination and the mode/owner to give them at the
    /// end; forgotten when the directory is removed.
    dir_metas: BTreeMap<String, DirMeta>,
    /// Regular files (each hard-linked name counts) and their bytes in the destination.
    pub files: u64,
    pub bytes: u64,
    pub warnings: Vec<String>,
    /// The layer being flattened, for warnings.
    label: String,
}

impl<'a> Flattener<'a> {
    pub fn new(dest: &'a Path, is_root: bool) -> Self {
        Flattener {
            dest,
            is_root,
            dir_metas: BTreeMap::new(),
            files: 0,
            bytes: 0,
            warnings: Vec::new(),
            label: String::new(),
        }
    }

    fn host(&self, image_path: &str) -> PathBuf {
        host_path(self.dest, image_path)
    }

    fn warn(&mut self, message: String) {
        self.warnings.push(format!("{}: {message}", self.label));
    }

    /// A fatal error for a failing filesystem, a warning for anything else.
    fn fail_or_warn(
        &mut self,
        what: &str,
        path: &str,
        e: io::Error,
    ) -> Result<(), MaterializeError> {
        if is_fatal(&e) {
            return Err(MaterializeError::Io {
                op: "write the root filesystem at",
                path: self.host(path),
                source: e,
            });
        }
        self.warn(format!("`{path}`: cannot {what}: {e}; skipped"));
        Ok(())
    }

    fn existing(&self, image_path: &str) -> Existing {
        match fs::symlink_metadata(self.host(image_path)) {
            Ok(md) => {
                let ft = md.file_type();
                if ft.is_dir() {
                    Existing::Dir
                } else if ft.is_symlink() {
                    Existing::Link
                } else if ft.is_file() {
                    Existing::File(md.len())
                } else {
                    Existing::Other
                }
            }
            // Absent, or below something that is not a directory: nothing there either way.
            Err(_) => Existing::Absent,
        }
    }

    /// Resolves an image path through the destination's symlinks, inside the image
    /// root (`follow_last` false: the last component as written). `None` on a loop.
    fn resolve(&self, path: &str, follow_last: bool) -> Option<String> {
        // `resolve` asks about one path at a time and wants borrowed answers: ask, note
        // which paths were unknown, read those links, and ask again until none is.
        let mut known: HashMap<String, Option<String>> = HashMap::new();
        loop {
            let missing = std::cell::RefCell::new(Vec::new());
            let answer = {
                let link_of = |p: &str| match known.get(p) {
                    Some(t) => t.as_deref(),
                    None => {
                        missing.borrow_mut().push(p.to_string());
                        None
                    }
                };
                if follow_last {
                    resolve(path, link_of)
                } else {
                    resolve_parent(path, link_of)
                }
            };
            let missing = missing.into_inner();
            if missing.is_empty() {
                return answer;
            }
            for p in missing {
                let target = fs::read_link(self.host(&p))
                    .ok()
                    .map(|t| t.to_string_lossy().into_owned());
                known.insert(p, target);
            }
        }
    }

    /// Applies one staged layer.
    pub fn apply(&mut self, layer: StagedLayer, label: String) -> Result<(), MaterializeError> {
        self.label = label;
        let StagedLayer {
            root,
            tree,
            whiteouts,
            opaque,
            dest_links,
            ..
        } = layer;
        for w in &whiteouts {
            match self.resolve(w, false) {
                Some(at) if at != "/" => {
                    self.remove(&at)?;
                }
                Some(_) => {}
                None => self.warn(format!("whiteout `{w}`: symlink loop; ignored")),
            }
        }
        for d in &opaque {
            match self.resolve(d, true) {
                Some(at) => self.clear_dir(&at)?,
                None => self.warn(format!("opaque directory `{d}`: symlink loop; ignored")),
            }
        }
        self.merge(root, tree.children)?;
        for (path, target) in &dest_links {
            self.dest_hardlink(path, target)?;
        }
        Ok(())
    }

    fn merge(
        &mut self,
        root: PathBuf,
        children: BTreeMap<String, Node>,
    ) -> Result<(), MaterializeError> {
        let mut work: Vec<Work> = vec![(root, children, "/".to_string())];
        while let Some((staged, children, at)) = work.pop() {
            // Implicit directories last: they are the only entries placed through
            // symlinks, and a sibling of this layer may be what they go through.
            let (implicit, first): (Vec<_>, Vec<_>) = children
                .into_iter()
                .partition(|(_, n)| matches!(n, Node::Dir(d) if d.explicit.is_none()));
            for (name, node) in first.into_iter().chain(implicit) {
                let src = staged.join(&name);
                let dp = join(&at, &name);
                self.place(src, node, dp, &mut work)?;
            }
        }
        Ok(())
    }

    /// Places one staged entry at `dp`, a path whose parent is a real directory.
    fn place(
        &mut self,
        src: PathBuf,
        node: Node,
        dp: String,
        work: &mut Vec<Work>,
    ) -> Result<(), MaterializeError> {
        let existing = self.existing(&dp);
        match node {
            Node::Dir(d) => match (d.explicit, existing) {
                (Some(meta), Existing::Dir) => {
                    self.dir_metas.insert(dp.clone(), meta);
                    work.push((src, d.children, dp));
                }
                (None, Existing::Dir) => work.push((src, d.children, dp)),
                (None, Existing::Link) => {
                    let Some(t) = self.resolve(&dp, true) else {
                        self.warn(format!(
                            "`{dp}`: symlink loop; this layer's content below it is skipped"
                        ));
                        return Ok(());
                    };
                    match self.existing(&t) {
                        Existing::Dir => work.push((src, d.children, t)),
                        Existing::Link => {
                            self.warn(format!("`{dp}`: cannot resolve its symlink; this layer's content below it is skipped"));
                        }
                        other => {
                            if (other == Existing::Absent || self.remove(&t)?)
                                && self.make_parents(&t)?
                            {
                                self.move_in(&src, &Node::Dir(d), &t)?;
                            }
                        }
                    }
                }
                (_, Existing::Absent) => {
                    self.move_in(&src, &Node::Dir(d), &dp)?;
                }
                // A symlink (for an explicit directory), a file or a device: replaced.
                _ => {
                    if self.remove(&dp)? {
                        self.move_in(&src, &Node::Dir(d), &dp)?;
                    }
                }
            },
            Node::File { .. } | Node::Symlink(_) => match existing {
                // `rename` cannot replace a directory.
                Existing::Dir => {
                    if self.remove(&dp)? {
                        self.move_in(&src, &node, &dp)?;
                    }
                }
                // `rename` replaces it; it no longer counts.
                Existing::File(size) => {
                    if self.move_in(&src, &node, &dp)? {
                        self.files = self.files.saturating_sub(1);
                        self.bytes = self.bytes.saturating_sub(size);
                    }
                }
                _ => {
                    self.move_in(&src, &node, &dp)?;
                }
            },
        }
        Ok(())
    }

    /// Renames a staged entry (a whole subtree for a directory) to `dp` and accounts for
    /// what it holds. Returns whether it moved.
    fn move_in(&mut self, src: &Path, node: &Node, dp: &str) -> Result<bool, MaterializeError> {
        let to = self.host(dp);
        if let Err(e) = fs::rename(src, &to) {
            if e.raw_os_error() == Some(libc::EXDEV) {
                // The destination is a mount point of its own: copy instead, replacing
                // a non-directory the way `rename` would.
                let copied = match fs::symlink_metadata(&to) {
                    Ok(md) if !md.is_dir() => fs::remove_file(&to),
                    _ => Ok(()),
                }
                .and_then(|()| copy_across(src, &to, self.is_root));
                if let Err(e) = copied {
                    self.fail_or_warn("copy into place", dp, e)?;
                    return Ok(false);
                }
            } else {
                self.fail_or_warn("move into place", dp, e)?;
                return Ok(false);
            }
        }
        let mut stack: Vec<(&Node, String)> = vec![(node, dp.to_string())];
        while let Some((n, path)) = stack.pop() {
            match n {
                Node::File { size } => {
                    self.files += 1;
                    self.bytes += size;
                }
                Node::Dir(d) => {
                    if let Some(meta) = d.explicit {
                        self.dir_metas.insert(path.clone(), meta);
                    }
                    for (name, child) in &d.children {
                        stack.push((child, join(&path, name)));
                    }
                }
                Node::Symlink(_) => {}
            }
        }
        Ok(true)
    }

    /// Removes whatever is at `image_path`, a whole tree for a directory, never
    /// following a symlink. Returns whether the path is now free.
    fn remove(&mut self, image_path: &str) -> Result<bool, MaterializeError> {
        let host = self.host(image_path);
        let md = match fs::symlink_metadata(&host) {
            Ok(md) => md,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
            Err(e) => {
                self.fail_or_warn("remove", image_path, e)?;
                return Ok(false);
            }
        };
        let removed = if md.is_dir() {
            let counted = count_host_tree(&host);
            fs::remove_dir_all(&host).map(|()| counted)
        } else {
            let counted = if md.is_file() { (1, md.len()) } else { (0, 0) };
            fs::remove_file(&host).map(|()| counted)
        };
        match removed {
            Ok((files, bytes)) => {
                self.files = self.files.saturating_sub(files);
                self.bytes = self.bytes.saturating_sub(bytes);
                self.forget_dirs(image_path);
                Ok(true)
            }
            Err(e) => {
                self.fail_or_warn("remove", image_path, e)?;
                Ok(false)
            }
        }
    }

    /// Forgets the recorded modes at and below a removed path.
    fn forget_dirs(&mut self, image_path: &str) {
        self.dir_metas.remove(image_path);
        let prefix = format!("{image_path}/");
        let below: Vec<String> = self
            .dir_metas
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in below {
            self.dir_metas.remove(&k);
        }
    }

    /// Empties a directory (an opaque marker), keeping the directory itself.
    fn clear_dir(&mut self, image_path: &str) -> Result<(), MaterializeError> {
        if self.existing(image_path) != Existing::Dir {
            return Ok(());
        }
        let entries = match fs::read_dir(self.host(image_path)) {
            Ok(e) => e,
            Err(e) => return self.fail_or_warn("list", image_path, e),
        };
        let names: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        for name in names {
            self.remove(&join(image_path, &name))?;
        }
        Ok(())
    }

    /// Makes the missing parents of `image_path` as plain directories. Returns false
    /// (with a warning) when one of them is something else.
    fn make_parents(&mut self, image_path: &str) -> Result<bool, MaterializeError> {
        let mut dir = String::new();
        for comp in components(parent(image_path)) {
            dir.push('/');
            dir.push_str(comp);
            match self.existing(&dir) {
                Existing::Dir => {}
                Existing::Absent => {
                    if let Err(e) = fs::DirBuilder::new().mode(0o755).create(self.host(&dir)) {
                        self.fail_or_warn("create directory", &dir, e)?;
                        return Ok(false);
                    }
                }
                _ => {
                    self.warn(format!(
                        "`{image_path}`: `{dir}` is not a directory; skipped"
                    ));
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// A hard link whose target a lower layer holds.
    fn dest_hardlink(&mut self, path: &str, target: &str) -> Result<(), MaterializeError> {
        let size = match self.resolve(target, false).map(|t| (self.existing(&t), t)) {
            Some((Existing::File(size), t)) => (size, t),
            _ => {
                self.warn(format!(
                    "hard link `{path}` to `{target}`, which is not a regular file of the image; skipped"
                ));
                return Ok(());
            }
        };
        let (size, target) = size;
        let Some(at) = self.resolve(path, false) else {
            self.warn(format!("hard link `{path}`: symlink loop; skipped"));
            return Ok(());
        };
        if at == target || !self.make_parents(&at)? || !self.remove(&at)? {
            return Ok(());
        }
        match fs::hard_link(self.host(&target), self.host(&at)) {
            Ok(()) => {
                self.files += 1;
                self.bytes += size;
                Ok(())
            }
            Err(e) => self.fail_or_warn("make hard link", &at, e),
        }
    }

    /// Gives every explicit directory its mode and owner, deepest first (so a read-only
    /// directory is made so only after everything below it).
    pub fn finish(&mut self) {
        let metas = std::mem::take(&mut self.dir_metas);
        for (path, meta) in metas.iter().rev() {
            let dir = match open_dir_nofollow(self.dest, path) {
                Ok(d) => d,
                Err(e) => {
                    self.warnings
                        .push(format!("`{path}`: cannot set the directory's mode: {e}"));
                    continue;
                }
            };
            if let Some((uid, gid)) = meta.owner {
                let _ = std::os::unix::fs::fchown(&dir, Some(uid), Some(gid));
            }
            if let Err(e) = dir.set_permissions(fs::Permissions::from_mode(meta.mode)) {
                self.warnings
                    .push(format!("`{path}`: cannot set the directory's mode: {e}"));
            }
        }
    }
}

/// Regular files and bytes below a host directory, not following symlinks.
fn count_host_tree(root: &Path) -> (u64, u64) {
    let mut files = 0;
    let mut bytes = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(md) = entry.metadata() else { continue };
            if md.is_dir() {
                stack.push(entry.path());
            } else if md.is_file() {
                files += 1;
                bytes += md.len();
            }
        }
    }
    (files, bytes)
}

/// Copies a staged entry to another filesystem (when the destination is a mount point
/// and `rename` cannot cross), keeping modes and, as root, owners. Never follows a
/// symlink; creates nothing that exists.
fn copy_across(src: &Path, dst: &Path, is_root: bool) -> io::Result<()> {
    let mut stack = vec![(src.to_path_buf(), dst.to_path_buf())];
    while let Some((s, d)) = stack.pop() {
        let md = fs::symlink_metadata(&s)?;
        let ft = md.file_type();
        if ft.is_dir() {
            fs::DirBuilder::new().mode(0o755).create(&d)?;
            for entry in fs::read_dir(&s)? {
                let entry = entry?;
                stack.push((entry.path(), d.join(entry.file_name())));
            }
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&s)?, &d)?;
            if is_root {
                let _ = std::os::unix::fs::lchown(&d, Some(md.uid()), Some(md.gid()));
            }
        } else if ft.is_file() {
            let mut from = fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&s)?;
            let mut to: File = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&d)?;
            io::copy(&mut from, &mut to)?;
            if is_root {
                let _ = std::os::unix::fs::fchown(&to, Some(md.uid()), Some(md.gid()));
            }
            to.set_permissions(fs::Permissions::from_mode(md.mode() & 0o7777))?;
        }
    }
    Ok(())
}
