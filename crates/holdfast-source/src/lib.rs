//! Opening scan targets as an image config plus an ordered list of layer streams.
//!
//! A [`Source`] knows how to find an image's config and layers and how to hand each
//! layer over as a decompressed tar stream (or, for a plain directory, as that
//! directory). It knows nothing about packages: the analyze crate walks what it is given.
//!
//! The source drives: [`Source::stream_layers`] calls a visitor once per layer, in
//! parallel where the storage allows it (files, OCI layouts) and in stream order where it
//! does not (the Docker daemon's export). That inversion is what lets a registry or a
//! running container fit behind the same trait.

mod archive_index;
mod cache;
mod compression;
mod config;
mod container;
mod daemon;
mod docker_archive;
mod error;
mod oci;
pub mod path;
mod platform;
pub mod registry;
mod rootfs;
mod target;

use std::io::Read;
use std::path::Path;

pub use cache::{CacheInfo, LayerCache, LayerClaim};
pub use compression::{Compression, DecompressLimits, LayerReader};
pub use config::{HistoryEntry, ImageConfig};
pub use container::{
    list_containers, ContainerMount, ContainerProcess, ContainerRef, ContainerRuntime,
    ContainerSource,
};
pub use error::SourceError;
pub use platform::Platform;
pub use registry::{RegistryOptions, RegistrySource};
pub use target::{open_target, OpenOptions, TargetSpec};

/// What kind of target a source reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A container image, in any of its storage forms.
    Image,
    /// A plain directory tree.
    Rootfs,
    /// A container's filesystem.
    Container,
}

/// One layer as the image describes it, before any byte of it is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerDescriptor {
    /// `sha256:...` of the uncompressed tar, from the image config.
    pub diff_id: Option<String>,
    /// Digest of the stored blob, when the storage names blobs by digest.
    pub digest: Option<String>,
    /// Stored (possibly compressed) size in bytes.
    pub size: Option<u64>,
    /// Media type from the manifest, when there is one.
    pub media_type: Option<String>,
    /// The history command that created the layer.
    pub created_by: Option<String>,
}

/// Everything known about a target before its layers are read.
#[derive(Debug, Clone)]
pub struct ImageMetadata {
    /// The target as the user named it.
    pub name: String,
    pub kind: SourceKind,
    /// Image id (config digest) or other stable identity, when known.
    pub image_id: Option<String>,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub config: ImageConfig,
    /// Layers, bottom first.
    pub layers: Vec<LayerDescriptor>,
    /// Problems met while reading the target's metadata that did not stop it.
    pub warnings: Vec<String>,
    /// For a container target: how it runs (privileges, mounts, namespaces, kernel,
    /// processes). `None` for images and directories.
    pub container: Option<ContainerRuntime>,
}

impl ImageMetadata {
    /// A target known only by its name and kind: no id, tags, config or layers yet.
    pub fn new(name: impl Into<String>, kind: SourceKind) -> Self {
        ImageMetadata {
            name: name.into(),
            kind,
            image_id: None,
            repo_tags: Vec::new(),
            repo_digests: Vec::new(),
            config: ImageConfig::default(),
            layers: Vec::new(),
            warnings: Vec::new(),
            container: None,
        }
    }
}

/// A layer's content as handed to the visitor.
pub enum LayerStream<'a> {
    /// A decompressed tar stream, read once from start to end.
    Tar(&'a mut dyn Read),
    /// A directory on the host, walked without following symlinks out of it.
    Directory(&'a Path),
}

/// One call of the visitor: which layer, and its content.
pub struct LayerVisit<'a> {
    /// The layer's position, bottom first; `None` when the storage streams layers in an
    /// order that only their content digest reveals (the visitor must hash to place it).
    pub index: Option<usize>,
    pub stream: LayerStream<'a>,
}

/// Called once per layer; may be called from several threads at once.
pub type LayerVisitor<'v> = dyn Fn(LayerVisit<'_>) + Sync + 'v;

/// A layer that could not be opened at all (its stream never reached the visitor).
#[derive(Debug)]
pub struct LayerOpenError {
    pub index: Option<usize>,
    pub error: SourceError,
}

/// A scan target whose layers can be streamed.
pub trait Source: Send + Sync {
    /// The config, layer list and identity, read when the source was opened.
    fn metadata(&self) -> &ImageMetadata;

    /// Streams the layers at the given indexes (bottom first) to `visit`.
    ///
    /// Layers that cannot be opened are returned as errors; the others are still visited.
    /// Read errors inside a stream (truncation, decompression limits) surface as
    /// `io::Error`s from the stream itself.
    fn stream_layers(&self, indexes: &[usize], visit: &LayerVisitor<'_>) -> Vec<LayerOpenError>;
}
