//! What one layer yields: facts by path, plus the filesystem changes the merge needs.

use std::fmt::Write;
use std::time::Duration;

use holdfast_model::{Warning, WarningKind};
use serde::{Deserialize, Serialize};

use crate::analyzer::FileFact;

/// The facts one analyzer drew from one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileResult {
    pub path: String,
    pub analyzer: String,
    pub facts: Vec<FileFact>,
}

/// Everything the walker learned from one layer. Cached per diff_id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerAnalysis {
    /// sha256 of the uncompressed tar as read (`None` for directory targets).
    pub diff_id: Option<String>,
    pub files: Vec<FileResult>,
    /// Paths deleted by `.wh.NAME` entries.
    pub whiteouts: Vec<String>,
    /// Directories made opaque by `.wh..wh..opq` entries.
    pub opaque_dirs: Vec<String>,
    /// Symlinks: path → target as written.
    pub symlinks: Vec<(String, String)>,
    /// Paths that this layer makes a directory or regular file, which replace any
    /// symlink a lower layer had at the same path.
    pub non_links: Vec<String>,
    /// What was skipped or could not be read, with the path when there is one.
    pub warnings: Vec<LayerWarning>,
    /// Entries seen and content bytes in the layer.
    pub entries: u64,
    pub bytes: u64,
    /// Where the walk spent its time; measured, never cached.
    #[serde(skip)]
    pub timings: WalkTimings,
}

/// Where one walk spent its time, for `--debug`. Not part of the layer's content: it is
/// not cached, and any two compare equal.
#[derive(Debug, Clone, Default)]
pub struct WalkTimings {
    /// The whole walk, wall time.
    pub walk: Duration,
    /// Reading wanted files' content into memory before the analyzers ran.
    pub read: Duration,
    /// One row per analyzer that was given at least one entry.
    pub analyzers: Vec<AnalyzerTiming>,
}

/// One analyzer's share of a walk.
#[derive(Debug, Clone, Default)]
pub struct AnalyzerTiming {
    /// The analyzer's name.
    pub name: &'static str,
    /// Entries it was given, and their sizes.
    pub files: u64,
    pub bytes: u64,
    /// Time in its `analyze` (a streaming analyzer's includes reading the stream).
    pub time: Duration,
}

impl PartialEq for WalkTimings {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl WalkTimings {
    /// One line for a log: the walk, the reads, then each analyzer, slowest first.
    pub fn summary(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let mut rows: Vec<&AnalyzerTiming> = self.analyzers.iter().collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.time));
        let mut out = format!(
            "walk {:.1} ms, reading files {:.1} ms",
            ms(self.walk),
            ms(self.read)
        );
        for r in rows {
            let _ = write!(
                out,
                "; {} {:.1} ms ({} files, {} MiB)",
                r.name,
                ms(r.time),
                r.files,
                r.bytes >> 20
            );
        }
        out
    }

    /// Adds another walk's figures, analyzer by analyzer.
    pub fn add(&mut self, other: &WalkTimings) {
        self.walk += other.walk;
        self.read += other.read;
        for row in &other.analyzers {
            match self.analyzers.iter_mut().find(|r| r.name == row.name) {
                Some(r) => {
                    r.files += row.files;
                    r.bytes += row.bytes;
                    r.time += row.time;
                }
                None => self.analyzers.push(row.clone()),
            }
        }
    }
}

/// A warning from one layer's walk: a [`Warning`] before it is known which layer (by
/// diff_id) it belongs to, since a cached result is shared by every image with the layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerWarning {
    /// What sort of problem it is.
    pub kind: WarningKind,
    /// The image path, when the warning is about one entry.
    pub path: Option<String>,
    /// The text for people; the JSON result carries it unchanged.
    pub message: String,
}

impl LayerWarning {
    /// A warning of `kind`, about the entry at `path` when there is one.
    pub fn new(kind: WarningKind, path: Option<&str>, message: impl Into<String>) -> Self {
        LayerWarning {
            kind,
            path: path.map(str::to_string),
            message: message.into(),
        }
    }

    /// The result's warning, placed in the layer with this diff_id.
    pub fn to_warning(&self, layer: Option<&str>) -> Warning {
        match &self.path {
            Some(path) => Warning::file(self.kind, layer, path, self.message.clone()),
            None => Warning::general(self.kind, layer, self.message.clone()),
        }
    }
}
