//! Images in an OCI distribution registry (`registry:REF`), through `oci-client`.
//!
//! Opening reads the manifest (following an image index to the wanted platform, the same
//! choice `oci.rs` makes) and the config; no layer is read until the analysis asks.
//! Layers are downloaded in parallel (bounded, largest first) and streamed into the
//! visitor while they arrive; every blob is checked against its digest on the way
//! ([`blob`]). `catalog` lists a registry's repositories and tags for `scan registry`.

mod auth;
mod blob;
mod catalog;
mod connection;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use oci_client::manifest::{
    IMAGE_MANIFEST_LIST_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_INDEX_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE,
};
use oci_client::Reference;

pub use auth::{parse_pull_secret, resolve as resolve_credential, AuthOptions, Credential, Secret};
pub use catalog::{list_repositories, list_tags};
pub use connection::{
    looks_like_registry_reference, parse_reference, RegistryConnection, RegistryOptions,
    DEFAULT_PARALLEL_DOWNLOADS,
};

use crate::compression::{DecompressLimits, LayerReader};
use crate::docker_archive::describe_layers;
use crate::oci::{choose_platform, Descriptor, IndexOrManifest, MAX_INDEX_DEPTH};
use crate::{
    ImageConfig, ImageMetadata, LayerOpenError, LayerStream, LayerVisit, LayerVisitor, Platform,
    Source, SourceError, TargetKind,
};
use blob::{require_sha256, BlobReader};

/// Largest manifest, index or config accepted.
const MAX_METADATA_BYTES: u64 = 8 << 20;

const MANIFEST_TYPES: &[&str] = &[
    OCI_IMAGE_MEDIA_TYPE,
    IMAGE_MANIFEST_MEDIA_TYPE,
    OCI_IMAGE_INDEX_MEDIA_TYPE,
    IMAGE_MANIFEST_LIST_MEDIA_TYPE,
];

/// An image in a registry, its manifest and config read, its layers not yet.
pub struct RegistrySource {
    metadata: ImageMetadata,
    connection: Arc<RegistryConnection>,
    reference: Reference,
    limits: DecompressLimits,
}

impl RegistrySource {
    /// Opens `reference` on its own connection (for `registry:REF` targets).
    pub fn open(
        reference: &str,
        name: &str,
        platform: Option<&Platform>,
        options: &RegistryOptions,
        limits: DecompressLimits,
    ) -> Result<Self, SourceError> {
        let parsed = parse_reference(reference)?;
        let connection = RegistryConnection::new(parsed.resolve_registry(), options)?;
        Self::open_on(connection, &parsed, name, platform, limits)
    }

    /// Opens an image on an existing connection (a registry scan shares one).
    pub fn open_on(
        connection: Arc<RegistryConnection>,
        reference: &Reference,
        name: &str,
        platform: Option<&Platform>,
        limits: DecompressLimits,
    ) -> Result<Self, SourceError> {
        let mut warnings = Vec::new();
        let (manifest, manifest_digest) =
            resolve_manifest(&connection, reference, platform, &mut warnings)?;
        let pinned = reference.clone_with_digest(manifest_digest.clone());
        let config_desc = manifest.config.ok_or_else(|| {
            SourceError::bad(&manifest_digest, "image manifest", "it has no config")
        })?;
        let config_bytes = read_small_blob(&connection, &pinned, &config_desc)?;
        let config = ImageConfig::from_slice(&config_bytes).map_err(|e| {
            SourceError::bad(
                format!("{reference}: {}", config_desc.digest),
                "image config",
                e,
            )
        })?;
        let layer_descs = manifest.layers.unwrap_or_default();
        let digests: Vec<String> = layer_descs.iter().map(|d| d.digest.clone()).collect();
        let mut layers = describe_layers(&config, &digests, &mut warnings, |d| Some(d.to_string()));
        for (layer, d) in layers.iter_mut().zip(&layer_descs) {
            layer.size = d.size;
            layer.media_type = d.media_type.clone();
        }
        let repo_tags = reference
            .tag()
            .map(|t| {
                vec![format!(
                    "{}/{}:{t}",
                    reference.registry(),
                    reference.repository()
                )]
            })
            .unwrap_or_default();
        Ok(RegistrySource {
            metadata: ImageMetadata {
                name: name.to_string(),
                kind: TargetKind::Image,
                image_id: Some(config_desc.digest.clone()),
                repo_tags,
                repo_digests: vec![format!(
                    "{}/{}@{manifest_digest}",
                    reference.registry(),
                    reference.repository()
                )],
                config,
                layers,
                warnings,
                container: None,
            },
            connection,
            reference: pinned,
            limits,
        })
    }

    /// Opens one layer's download and walks it.
    fn stream_one(&self, index: usize, visit: &LayerVisitor<'_>) -> Result<(), SourceError> {
        let layer = &self.metadata.layers[index];
        let Some(digest) = layer.digest.as_deref() else {
            return Err(SourceError::bad(
                self.reference.whole(),
                "image manifest",
                "a layer has no digest",
            ));
        };
        require_sha256(digest).map_err(|e| self.connection.message(e))?;
        tracing::debug!(target: "holdfast::fleet", digest, "blob download");
        let conn = &self.connection;
        let stream = conn
            .runtime
            .block_on(conn.client.pull_blob_stream(&self.reference, digest))
            .map_err(|e| conn.error(&format!("blob {digest}"), &e))?;
        let mut blob = BlobReader::spawn(&conn.runtime, stream, digest, layer.size);
        {
            let mut reader = LayerReader::new(&mut blob, self.limits)
                .map_err(|e| conn.message(format!("blob {digest}: {e}")))?;
            visit(LayerVisit {
                index: Some(index),
                stream: LayerStream::Tar(&mut reader),
            });
        }
        blob.finish().map_err(|e| conn.message(e))
    }
}

impl Source for RegistrySource {
    fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }

    fn stream_layers(&self, indexes: &[usize], visit: &LayerVisitor<'_>) -> Vec<LayerOpenError> {
        // Largest first, so the longest download starts at once and the small ones fill in.
        let mut order: Vec<usize> = indexes
            .iter()
            .copied()
            .filter(|&i| i < self.metadata.layers.len())
            .collect();
        order.sort_by_key(|&i| std::cmp::Reverse(self.metadata.layers[i].size.unwrap_or(0)));
        let next = AtomicUsize::new(0);
        let errors = std::sync::Mutex::new(Vec::new());
        let workers = self
            .connection
            .parallel_downloads
            .clamp(1, order.len().max(1));
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let at = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&index) = order.get(at) else { break };
                    if let Err(error) = self.stream_one(index, visit) {
                        errors
                            .lock()
                            .expect("no panics while holding the lock")
                            .push(LayerOpenError {
                                index: Some(index),
                                error,
                            });
                    }
                });
            }
        });
        errors.into_inner().expect("lock not poisoned")
    }
}

/// Follows an index down to the image manifest for the wanted (or host) platform.
fn resolve_manifest(
    conn: &RegistryConnection,
    reference: &Reference,
    platform: Option<&Platform>,
    warnings: &mut Vec<String>,
) -> Result<(IndexOrManifest, String), SourceError> {
    let mut current = reference.clone();
    for _ in 0..=MAX_INDEX_DEPTH {
        let (bytes, digest) = conn
            .runtime
            .block_on(
                conn.client
                    .pull_manifest_raw(&current, &conn.auth, MANIFEST_TYPES),
            )
            .map_err(|e| conn.error(&format!("manifest of `{}`", current.whole()), &e))?;
        if bytes.len() as u64 > MAX_METADATA_BYTES {
            return Err(SourceError::bad(
                current.whole(),
                "image manifest",
                format!("it is larger than {MAX_METADATA_BYTES} bytes"),
            ));
        }
        let doc: IndexOrManifest = serde_json::from_slice(&bytes)
            .map_err(|e| SourceError::bad(current.whole(), "image manifest", e))?;
        match doc.manifests {
            Some(ref children) if doc.layers.is_none() => {
                let child = choose_platform(children, platform, &current.whole(), warnings)?;
                current = reference.clone_with_digest(child.digest.clone());
            }
            _ => return Ok((doc, digest)),
        }
    }
    Err(SourceError::bad(
        reference.whole(),
        "image index",
        format!("indexes nest deeper than {MAX_INDEX_DEPTH}"),
    ))
}

/// Reads a config-sized blob whole, verified, bounded.
fn read_small_blob(
    conn: &RegistryConnection,
    reference: &Reference,
    desc: &Descriptor,
) -> Result<Vec<u8>, SourceError> {
    use std::io::Read;
    let digest = desc.digest.as_str();
    require_sha256(digest).map_err(|e| conn.message(e))?;
    let max = desc
        .size
        .unwrap_or(MAX_METADATA_BYTES)
        .min(MAX_METADATA_BYTES);
    let stream = conn
        .runtime
        .block_on(conn.client.pull_blob_stream(reference, digest))
        .map_err(|e| conn.error(&format!("blob {digest}"), &e))?;
    let mut blob = BlobReader::spawn(&conn.runtime, stream, digest, Some(max));
    let mut bytes = Vec::new();
    blob.read_to_end(&mut bytes)
        .map_err(|e| conn.message(e.to_string()))?;
    blob.finish().map_err(|e| conn.message(e))?;
    Ok(bytes)
}
