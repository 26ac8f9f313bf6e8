//! A plain directory as a target (`scan rootfs DIR`): one pseudo-layer, walked in place.

use std::path::{Path, PathBuf};

use crate::{
    ImageMetadata, LayerInfo, LayerOpenError, LayerStream, LayerVisit, LayerVisitor, Source,
    SourceError, TargetKind,
};

/// A host directory holding a root filesystem.
pub struct RootfsSource {
    metadata: ImageMetadata,
    root: PathBuf,
}

impl RootfsSource {
    /// Opens a directory; it must exist and be a directory.
    pub fn open(root: &Path, name: &str) -> Result<Self, SourceError> {
        let meta = std::fs::metadata(root).map_err(|e| SourceError::io(root, e))?;
        if !meta.is_dir() {
            return Err(SourceError::InvalidTarget(format!(
                "`{}` is not a directory",
                root.display()
            )));
        }
        Ok(RootfsSource {
            metadata: ImageMetadata {
                layers: vec![LayerInfo::default()],
                ..ImageMetadata::new(name, TargetKind::Rootfs)
            },
            root: root.to_path_buf(),
        })
    }
}

impl Source for RootfsSource {
    fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }

    fn root_dir(&self) -> Option<&Path> {
        Some(&self.root)
    }

    fn stream_layers(&self, indexes: &[usize], visit: &LayerVisitor<'_>) -> Vec<LayerOpenError> {
        if indexes.contains(&0) {
            visit(LayerVisit {
                index: Some(0),
                stream: LayerStream::Directory(&self.root),
            });
        }
        Vec::new()
    }
}

/// Hands host directories to the visitor as layers (`dirs[i]` is layer `i`), in parallel;
/// a directory that cannot be listed is an error made by `unreadable`.
pub(crate) fn stream_dirs(
    dirs: &[PathBuf],
    indexes: &[usize],
    visit: &LayerVisitor<'_>,
    unreadable: impl Fn(&Path, std::io::Error) -> SourceError + Sync,
) -> Vec<LayerOpenError> {
    use rayon::prelude::*;
    indexes
        .par_iter()
        .with_max_len(1)
        .filter_map(|&i| {
            let dir = dirs.get(i)?;
            if let Err(e) = std::fs::read_dir(dir) {
                return Some(LayerOpenError {
                    index: Some(i),
                    error: unreadable(dir, e),
                });
            }
            visit(LayerVisit {
                index: Some(i),
                stream: LayerStream::Directory(dir),
            });
            None
        })
        .collect()
}
