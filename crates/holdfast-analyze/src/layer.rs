//! What one layer yields: facts by path, plus the filesystem changes the merge needs.

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
