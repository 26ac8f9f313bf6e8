//! The analyzer contract: decide from a path and its metadata whether to look, then turn
//! the file's bytes into facts.
//!
//! `wants` runs for every entry of every layer, so it must be cheap: string comparisons on
//! the path, a look at the size or mode, never I/O. `analyze` sees only the files its
//! analyzer asked for. An analyzer's `version` goes into the layer-cache key: bump it
//! whenever its output for the same input changes.

use std::io::Read;

use holdfast_model::{Finding, FindingKind, OsRelease, Package, PackageType, WarningKind};
use serde::{Deserialize, Serialize};

/// What kind of entry a tar member or directory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    HardLink,
    Other,
}

/// What an analyzer may look at before asking for content.
#[derive(Debug, Clone)]
pub struct EntryMeta {
    pub kind: EntryKind,
    pub size: u64,
    /// Permission and type bits, as in `st_mode` (setuid is 0o4000).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// The raw `security.capability` extended attribute (a `vfs_cap_data` structure),
    /// from the tar entry's PAX header `SCHILY.xattr.security.capability` or the host
    /// file's xattr; [`crate::file_caps::FileCaps::parse`] decodes it.
    pub capabilities: Option<Vec<u8>>,
}

/// How an analyzer wants a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    No,
    /// The whole file in memory, up to the walker's size bound.
    Bytes,
    /// A reader over the content: for files that may be larger than the bound, or that
    /// are mostly skipped (binaries). When another analyzer asked for bytes, the reader
    /// reads those bytes; otherwise it reads the layer stream itself, once.
    Stream,
    /// Only the entry's metadata (mode, owner, capabilities): `analyze` is called with
    /// empty content and the file is never read. Also offered for directories, which
    /// the walker shows to analyzers for this want only.
    Meta,
    /// Random access to the content, for analyzers that read a few parts of large files
    /// (an executable's headers and one section): the bytes when the file was read whole
    /// for another analyzer or is small, otherwise [`FileContent::File`], a temporary copy
    /// on disk, so the walk holds no large file in memory for them. Bounded like `Bytes`.
    Seekable,
    /// Only the first [`HEAD_BYTES`] bytes (fewer when the file is shorter), as
    /// [`FileContent::Bytes`]: for analyzers that look at a file's start (is it binary?)
    /// without reading it, typically to decide whether a file over their own size bound
    /// deserves a warning. The content is a prefix whenever `meta.size` is larger. The
    /// walker reads the head before handing the live stream to a [`Want::Stream`]
    /// analyzer, so a head never takes the stream from one.
    Head,
}

/// How many leading bytes a [`Want::Head`] analyzer is given.
pub const HEAD_BYTES: usize = 8192;

/// The content handed to `analyze`.
pub enum FileContent<'a> {
    Bytes(&'a [u8]),
    Stream(&'a mut dyn Read),
    /// A temporary copy of a large file, at its start: only for [`Want::Seekable`].
    File(&'a mut std::fs::File),
}

impl<'a> FileContent<'a> {
    /// Runs `f` on a reader over the content, whichever form it came in.
    pub fn with_reader<T>(&mut self, f: impl FnOnce(&mut dyn Read) -> T) -> T {
        match self {
            FileContent::Bytes(b) => f(&mut std::io::Cursor::new(*b)),
            FileContent::Stream(r) => f(*r),
            FileContent::File(file) => f(*file),
        }
    }

    /// The content as bytes: borrowed when it came in memory, otherwise its first
    /// `limit` bytes read from the reader.
    pub fn bytes_up_to(&mut self, limit: u64) -> std::io::Result<std::borrow::Cow<'a, [u8]>> {
        if let FileContent::Bytes(b) = self {
            return Ok(std::borrow::Cow::Borrowed(*b));
        }
        let mut buf = Vec::new();
        self.with_reader(|r| r.take(limit).read_to_end(&mut buf))?;
        Ok(std::borrow::Cow::Owned(buf))
    }
}

/// One file, as an analyzer sees it.
pub struct FileInput<'a> {
    /// Absolute image path.
    pub path: &'a str,
    pub meta: &'a EntryMeta,
    pub content: FileContent<'a>,
}

/// Which family of analyzers one belongs to; `--pkg-types` and `--scanners` select by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnalyzerGroup {
    /// Operating-system identification; always runs.
    Os,
    /// OS package databases (dpkg, apk, rpm).
    OsPackages,
    /// Language package catalogers.
    Library,
    /// A checker's file-level part (`holdfast-checks`), selected by `--scanners`.
    Check(FindingKind),
}

/// What an analyzer learned from one file. Stored in the layer cache, so the shape is
/// versioned by the analyzers' versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FileFact {
    /// Packages recorded in this file.
    Packages(Vec<Package>),
    /// The OS this file identifies; `source` says which kind of file it was.
    OsRelease { os: OsRelease, source: OsSource },
    /// Licenses found in a package's copyright file.
    PackageLicense {
        package: String,
        licenses: Vec<String>,
    },
    /// The files one OS package installed, from its package manager's file list (dpkg
    /// `info/NAME.list`, an apk `installed` entry's `F:`/`R:` lines, an rpm header's file
    /// names). The image-wide step marks the language packages read from these files with
    /// this package as their [`Package::owner`].
    OwnedFiles {
        /// The OS package's type (`deb`, `apk`, `rpm`).
        package_type: PackageType,
        /// The OS package's name.
        name: String,
        /// Absolute paths, one a line: one string per package keeps tens of thousands of
        /// paths compact.
        paths: String,
    },
    /// Part of the file was skipped; the walker turns this into a warning naming the file,
    /// of kind `kind`. Build it with [`FileFact::skipped`] or one of the shorthands
    /// ([`FileFact::bound`], [`FileFact::malformed`], [`FileFact::unreadable`]).
    Skipped {
        /// What sort of problem it is: a bound, a part that did not parse, a failed read.
        kind: WarningKind,
        /// What was skipped and why, for people.
        message: String,
    },
    /// A finding about this file, from a checker. The pipeline fills in `path`, `layer`
    /// and `removed` after the merge.
    Finding(Box<Finding>),
    /// Structured data a checker extracted from the file for its image-wide step (shadow
    /// entries, sshd settings, owned-file lists). Read back after the merge by the
    /// analyzer that wrote it; `kind` names the record type within that analyzer.
    Record {
        kind: String,
        data: serde_json::Value,
    },
}

impl FileFact {
    /// Part of the file was skipped, for the reason `kind` names.
    pub fn skipped(kind: WarningKind, message: impl Into<String>) -> Self {
        FileFact::Skipped {
            kind,
            message: message.into(),
        }
    }

    /// A size, count, depth or time bound stopped reading part of the file
    /// ([`WarningKind::BoundReached`]).
    pub fn bound(message: impl Into<String>) -> Self {
        FileFact::skipped(WarningKind::BoundReached, message)
    }

    /// Part of the file (an entry, a line, a section) did not parse
    /// ([`WarningKind::MalformedFile`]).
    pub fn malformed(message: impl Into<String>) -> Self {
        FileFact::skipped(WarningKind::MalformedFile, message)
    }

    /// Reading part of the file failed ([`WarningKind::UnreadableFile`]).
    pub fn unreadable(message: impl Into<String>) -> Self {
        FileFact::skipped(WarningKind::UnreadableFile, message)
    }
}

/// Which file an OS identification came from; earlier variants win.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum OsSource {
    OsRelease,
    DistroFile,
}

/// Why an analyzer could not read a file. The walker turns it into a warning of the
/// kind [`AnalyzeError::kind`] gives.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// The file was read but does not parse.
    #[error("{0}")]
    Malformed(String),
    /// A size, count or depth bound kept the analyzer from reading the file.
    #[error("{0}")]
    BoundReached(String),
    /// Reading the file failed (an I/O error, a stream that ended early).
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
}

impl AnalyzeError {
    /// The kind of warning this error becomes: the one place that decides it.
    pub fn kind(&self) -> WarningKind {
        match self {
            AnalyzeError::Malformed(_) => WarningKind::MalformedFile,
            AnalyzeError::BoundReached(_) => WarningKind::BoundReached,
            AnalyzeError::Io(_) => WarningKind::UnreadableFile,
        }
    }
}

/// An analyzer: one cataloger or file-level checker.
pub trait Analyzer: Send + Sync {
    /// A short stable name (`dpkg`, `os-release`).
    fn name(&self) -> &'static str;
    /// Bumped whenever the output for the same input changes.
    fn version(&self) -> u32;
    /// The family this analyzer belongs to.
    fn group(&self) -> AnalyzerGroup;
    /// Whether to read this entry. Must be cheap: no I/O.
    fn wants(&self, path: &str, meta: &EntryMeta) -> Want;
    /// Turns a wanted file into facts.
    fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError>;
}
