//! What one layer yields: facts by path, plus the filesystem changes the merge needs.

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
    pub warnings: Vec<(Option<String>, String)>,
    /// Entries seen and content bytes in the layer.
    pub entries: u64,
    pub bytes: u64,
}
