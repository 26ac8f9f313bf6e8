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
