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
mod container;
pub mod containerd;
mod daemon;
mod docker_archive;
pub mod docker_facts;
mod error;
pub mod host;
mod oci;
pub mod path;
mod platform;
pub mod podman;
pub mod registry;
mod rootfs;
pub mod runtime_spec;
mod target;

use std::io::Read;
use std::path::Path;

pub use cache::{
    CacheInfo, LayerCache, LayerClaim, RemoteLayerStore, RemoteStoreError, REMOTE_REST,
};
pub use compression::{Compression, DecompressLimits, LayerReader};
pub use container::{ContainerRef, ContainerSource};
pub use containerd::ContainerdOptions;
pub use daemon::EngineSocket;
pub use error::SourceError;
/// The target vocabulary lives in `holdfast-model`; re-exported for the sources' callers.
pub use holdfast_model::{
    ContainerMount, ContainerProcess, ContainerRuntime, HistoryEntry, ImageConfig, ImageMetadata,
    LayerInfo, RuntimeConfig, TargetKind,
};
pub use platform::Platform;
pub use podman::PodmanOptions;
pub use registry::{RegistryOptions, RegistrySource};
pub use target::{
    list_containers, open_container, open_target, ContainerEngine, OpenOptions, TargetSpec,
};

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

    /// The target's root filesystem when it already is a directory on the host (`scan
    /// rootfs`), so a consumer that needs one (plugins) uses it instead of a copy.
    fn root_dir(&self) -> Option<&Path> {
        None
    }
}
