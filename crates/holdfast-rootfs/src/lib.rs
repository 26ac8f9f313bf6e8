//! Materialising an image's merged root filesystem into a private directory.
//!
//! Plugins are external executables: they get the image as a real directory tree, the
//! way the container would see it. [`materialize`] builds that tree from any
//! [`holdfast_source::Source`] (image archives, OCI layouts, the Docker daemon,
//! registries, plain directories).
//!
//! # Design: stage, then flatten
//!
//! 1. **Stage.** The source hands layers over in parallel and in any order. Each one is
//!    extracted as it arrives into a staging directory of its own, under a private
//!    (`0700`) temporary directory created *beside* the destination, so that it is on
//!    the same filesystem and moving things later is a `rename`. Whiteouts (`.wh.NAME`)
//!    and opaque markers (`.wh..wh..opq`) are recorded, never created, as is which
//!    directories the layer named and which were only created as parents. A layer the
//!    source could not place (index `None`) is hashed while it is extracted and placed
//!    by its diff_id.
//! 2. **Flatten.** Bottom to top, one layer at a time: its whiteouts and opaque
//!    directories are applied to the destination, then its staged entries are renamed
//!    into place. A staged directory whose destination is free moves in whole (the
//!    bottom layer, usually the largest, costs a handful of renames); one whose
//!    destination is a real directory is merged into it. Placement follows the rules
//!    of the analyzer's merge (`holdfast-analyze`'s `merge.rs`): an entry's parent is
//!    resolved through the symlinks already in the destination, inside the image root
//!    ([`holdfast_source::path::resolve_parent`]); an explicit directory entry replaces
//!    a lower symlink, an implicit parent goes through it. Directory modes and owners are
//!    applied last, deepest first.
//!
//! Why not extract every layer straight into the destination, in order? That serializes
//! all decompression and file writing behind the slowest layer. Staging lets every layer
//! be written as fast as the source delivers it, on every core; flattening is then mostly
//! metadata (renames), which is cheap.
//!
//! # Safety
//!
//! Images are hostile. Tar names are normalized (`..` that climbs out is refused, absolute
//! names are taken relative to the image root, NUL and over-long names are refused).
//! Nothing is created or written through a symlink: files are opened
//! `O_CREAT|O_EXCL|O_NOFOLLOW`, parents are checked to be real directories, and symlinks
//! met on the way are resolved as image paths inside the destination, never by the host.
//! Symlinks are created with their target text unchanged. Device nodes, fifos and sockets
//! are never created (they are counted in [`Materialized::skipped`]). Hard links are made
//! only to regular files of the same tree. Modes are kept, setuid bits included; owners
//! are applied when running as root. Entry and byte caps bound the work and the disk
//! used. A corrupt or truncated layer is a warning, and what was read of it is kept. The
//! staging directory is removed whatever happens.
//!
//! The destination itself is the caller's: make it private (`0700`) when the image may
//! hold setuid files and other users share the machine.

#![warn(missing_docs)]

mod flatten;
mod fsutil;
mod stage;
mod tree;

use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use holdfast_source::{LayerInfo, LayerStream, LayerVisit, Source};

use crate::flatten::Flattener;
use crate::stage::{Shared, StagedLayer, Stager};

/// Bounds on what one materialisation may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaterializeOptions {
    /// Most bytes of file content written while staging, all layers together
    /// (default 32 GiB).
    pub max_total_bytes: u64,
    /// Most layer entries processed, all layers together (default 5,000,000).
    pub max_entries: u64,
}

impl Default for MaterializeOptions {
    fn default() -> Self {
        MaterializeOptions {
            max_total_bytes: 32 << 30,
            max_entries: 5_000_000,
        }
    }
}

/// What [`materialize`] made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Materialized {
    /// Regular files in the merged tree (every hard-linked name counts).
    pub files: u64,
    /// Bytes of those files.
    pub bytes: u64,
    /// What was skipped or could not be read, each naming the layer or path.
    pub warnings: Vec<String>,
    /// Device nodes, fifos and sockets left out.
    pub skipped: u64,
}

/// Why a root filesystem could not be materialised.
#[derive(Debug, thiserror::Error)]
pub enum MaterializeError {
    /// The destination is not an existing, empty directory.
    #[error("destination `{path}`: {reason}")]
    Destination {
        /// The destination as given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The private staging directory beside the destination could not be made.
    #[error("cannot create the staging directory in `{dir}`: {source}")]
    Staging {
        /// The directory it was to be made in (the destination's parent).
        dir: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The layers hold more entries than [`MaterializeOptions::max_entries`].
    #[error("the image holds more than {limit} entries (max_entries); materialising stopped")]
    TooManyEntries {
        /// The cap.
        limit: u64,
    },
    /// The layers' files hold more than [`MaterializeOptions::max_total_bytes`].
    #[error(
        "the image's files hold more than {limit} bytes (max_total_bytes); materialising stopped"
    )]
    TooManyBytes {
        /// The cap.
        limit: u64,
    },
    /// The filesystem failed (full, read-only, I/O error) while writing.
    #[error("cannot {op} `{path}`: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The host path it was done to.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// Materialises the merged root filesystem of `source` into `dest`, an existing empty
/// directory.
///
/// Layers are staged in a private directory beside `dest` (in its parent, which must be
/// writable) and moved in bottom to top; see the crate documentation. Layers that cannot
/// be opened or read in full, and entries that cannot be made, are warnings; running out
/// of a cap or a failing filesystem is an error, and then `dest` holds a partial tree.
pub fn materialize(
    source: &dyn Source,
    dest: &Path,
    options: &MaterializeOptions,
) -> Result<Materialized, MaterializeError> {
    let dest = check_dest(dest)?;
    let dir = dest
        .parent()
        .ok_or_else(|| MaterializeError::Destination {
            path: dest.clone(),
            reason: "the filesystem root cannot be a destination".into(),
        })?
        .to_path_buf();
    let staging = tempfile::Builder::new()
        .prefix(".holdfast-staging-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(&dir)
        .map_err(|source| MaterializeError::Staging { dir, source })?;
    let result = run(source, &dest, staging.path(), options);
    let cleanup = staging.close();
    let mut done = result?;
    if let Err(e) = cleanup {
        done.warnings
            .push(format!("cannot remove the staging directory: {e}"));
    }
    Ok(done)
}

/// The destination, made absolute, once it is known to be an empty directory.
fn check_dest(dest: &Path) -> Result<PathBuf, MaterializeError> {
    let bad = |reason: String| MaterializeError::Destination {
        path: dest.to_path_buf(),
        reason,
    };
    let abs = dest
        .canonicalize()
        .map_err(|e| bad(format!("cannot open: {e}")))?;
    if !abs.is_dir() {
        return Err(bad("not a directory".into()));
    }
    let mut entries = std::fs::read_dir(&abs).map_err(|e| bad(format!("cannot list: {e}")))?;
    if entries.next().is_some() {
        return Err(bad("not empty".into()));
    }
    Ok(abs)
}

/// How warnings name a layer.
fn layer_label(index: usize, info: Option<&LayerInfo>) -> String {
    match info.and_then(|l| l.diff_id.as_deref()) {
        Some(d) => {
            let short = d.strip_prefix("sha256:").unwrap_or(d);
            format!("layer {index} ({})", &short[..short.len().min(12)])
        }
        None => format!("layer {index}"),
    }
}

fn run(
    source: &dyn Source,
    dest: &Path,
    staging: &Path,
    options: &MaterializeOptions,
) -> Result<Materialized, MaterializeError> {
    let is_root = fsutil::running_as_root();
    let layers = &source.metadata().layers;
    let n = layers.len();
    let shared = Shared::new(options, is_root);
    let staged: Mutex<Vec<Option<StagedLayer>>> = Mutex::new((0..n).map(|_| None).collect());
    let stray: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let visits = AtomicUsize::new(0);
    let started = Instant::now();

    let visit = |v: LayerVisit<'_>| {
        if shared.stopped() {
            return;
        }
        let root = staging.join(visits.fetch_add(1, Ordering::Relaxed).to_string());
        if let Err(source) = std::fs::DirBuilder::new().mode(0o700).create(&root) {
            shared.fail(MaterializeError::Io {
                op: "create the staging directory",
                path: root,
                source,
            });
            return;
        }
        let mut stager = Stager::new(&shared, root.clone());
        match v.stream {
            LayerStream::Tar(r) => stager.stage_tar(r, v.index.is_none()),
            LayerStream::Directory(p) if v.index.is_some() => stager.stage_dir(p),
            LayerStream::Directory(p) => {
                lock(&stray).push(format!(
                    "directory `{}` was handed over without its layer position; ignored",
                    p.display()
                ));
            }
        }
        let layer = stager.finish();
        if shared.stopped() {
            return;
        }
        let mut slots = lock(&staged);
        let index = match v.index {
            Some(i) if i < n && slots[i].is_none() => Some(i),
            Some(i) => {
                lock(&stray).push(format!(
                    "layer {i} was handed over twice or is not in the image; ignored"
                ));
                None
            }
            None => identify(&layer, layers, &slots, &mut lock(&stray)),
        };
        match index {
            Some(i) => slots[i] = Some(layer),
            None => {
                drop(slots);
                let _ = std::fs::remove_dir_all(&layer.root);
            }
        }
    };
    let indexes: Vec<usize> = (0..n).collect();
    let open_errors = source.stream_layers(&indexes, &visit);
    if let Some(e) = lock(&shared.fatal).take() {
        return Err(e);
    }
    tracing::debug!(layers = n, elapsed = ?started.elapsed(), "layers staged");

    let mut warnings = lock(&stray).clone();
    let mut opened_badly = vec![false; n];
    for e in &open_errors {
        match e.index {
            Some(i) if i < n => {
                opened_badly[i] = true;
                warnings.push(format!(
                    "{}: cannot be opened ({}); it is missing from the root filesystem",
                    layer_label(i, layers.get(i)),
                    e.error
                ));
            }
            _ => warnings.push(format!(
                "a layer cannot be opened ({}); it is missing from the root filesystem",
                e.error
            )),
        }
    }

    let started = Instant::now();
    let slots = std::mem::take(&mut *lock(&staged));
    let mut flattener = Flattener::new(dest, is_root);
    let mut skipped = 0;
    for (i, slot) in slots.into_iter().enumerate() {
        let label = layer_label(i, layers.get(i));
        let Some(mut layer) = slot else {
            if !opened_badly[i] {
                warnings.push(format!(
                    "{label}: the source did not hand it over; it is missing from the root filesystem"
                ));
            }
            continue;
        };
        skipped += layer.skipped;
        for w in layer.warnings.drain(..) {
            warnings.push(format!("{label}: {w}"));
        }
        flattener.apply(layer, label)?;
        warnings.append(&mut flattener.warnings);
    }
    flattener.finish();
    warnings.append(&mut flattener.warnings);
    tracing::debug!(elapsed = ?started.elapsed(), "layers flattened");
    Ok(Materialized {
        files: flattener.files,
        bytes: flattener.bytes,
        warnings,
        skipped,
    })
}

/// Places a layer that came without its index by its digest: the first layer with that
/// diff_id not yet filled (an image may hold the same layer twice).
fn identify(
    layer: &StagedLayer,
    layers: &[LayerInfo],
    slots: &[Option<StagedLayer>],
    stray: &mut Vec<String>,
) -> Option<usize> {
    let Some(digest) = &layer.digest else {
        stray.push(
            "a layer handed over without its position could not be read to its end, so its digest is unknown; ignored"
                .into(),
        );
        stray.extend(
            layer
                .warnings
                .iter()
                .map(|w| format!("unplaced layer: {w}")),
        );
        return None;
    };
    let found = layers.iter().enumerate().position(|(i, l)| {
        slots[i].is_none()
            && l.diff_id
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case(digest))
    });
    if found.is_none() {
        stray.push(format!(
            "a layer handed over without its position has digest {digest}, which is no diff_id of the image; ignored"
        ));
    }
    found
}

/// Locks a mutex, taking the data of a poisoned one (a panicking visitor already lost
/// its layer; the rest is still consistent).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Makes a materialised tree removable by its owner. The image's read-only directories
/// (mode 0555) keep their mode in the tree, so without root a caller could not delete
/// what they hold; this gives the owner write access to every directory first. Nothing
/// to do as root. Symlinks are not followed.
pub fn make_removable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: a getter without side effects.
    if unsafe { libc::geteuid() } == 0 {
        return;
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&d) else {
            continue;
        };
        if !meta.is_dir() {
            continue;
        }
        let mode = meta.permissions().mode();
        if mode & 0o700 != 0o700 {
            let _ = std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode | 0o700));
        }
        if let Ok(entries) = std::fs::read_dir(&d) {
            stack.extend(
                entries
                    .flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path()),
            );
        }
    }
}
