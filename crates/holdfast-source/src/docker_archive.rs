//! `docker save` archives (`docker-archive:PATH`) and the shared reader for any image
//! stored as members of a file or directory (also used by the OCI layout).
//!
//! A docker archive holds `manifest.json` (a list of `{Config, RepoTags, Layers}`), the
//! config JSON and one tar per layer (`ID/layer.tar` before Docker 25, `blobs/sha256/HEX`
//! since). Layers are uncompressed in practice, but gzip and zstd are accepted too.

use std::path::Path;

use rayon::prelude::*;
use serde::Deserialize;

use crate::archive_index::BlobStore;
use crate::compression::{DecompressLimits, LayerReader};
use crate::{
    ImageConfig, ImageMetadata, LayerInfo, LayerOpenError, LayerStream, LayerVisit, LayerVisitor,
    Source, SourceError, TargetKind,
};

/// An image whose config and layers are members of a [`BlobStore`].
pub struct StoredImage {
    pub(crate) metadata: ImageMetadata,
    pub(crate) store: BlobStore,
    /// Member name of each layer, bottom first.
    pub(crate) layer_members: Vec<String>,
    pub(crate) limits: DecompressLimits,
}

impl Source for StoredImage {
    fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }

    fn stream_layers(&self, indexes: &[usize], visit: &LayerVisitor<'_>) -> Vec<LayerOpenError> {
        // Largest first, one layer per task: the longest layer starts at once and the
        // small ones fill the other cores around it (longest-processing-time order).
        let mut order = indexes.to_vec();
        order.sort_by_key(|&i| {
            let member = self.layer_members.get(i);
            std::cmp::Reverse(member.and_then(|m| self.store.size(m)).unwrap_or(0))
        });
        order
            .par_iter()
            .with_max_len(1)
            .filter_map(|&i| {
                let member = self.layer_members.get(i)?;
                let opened = self.store.open(member).and_then(|(raw, _)| {
                    LayerReader::new(raw, self.limits).map_err(|e| SourceError::io(member, e))
                });
                match opened {
                    Ok(mut reader) => {
                        visit(LayerVisit {
                            index: Some(i),
                            stream: LayerStream::Tar(&mut reader),
                        });
                        None
                    }
                    Err(error) => Some(LayerOpenError {
                        index: Some(i),
                        error,
                    }),
                }
            })
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

/// Opens a `docker save` tarball.
pub fn open(path: &Path, name: &str, limits: DecompressLimits) -> Result<StoredImage, SourceError> {
    let store = BlobStore::index_tar(path)?;
    from_store(store, name, limits)
}

/// Reads a docker-archive's manifest from an already indexed store.
pub(crate) fn from_store(
    store: BlobStore,
    name: &str,
    limits: DecompressLimits,
) -> Result<StoredImage, SourceError> {
    let container = store.container_name();
    let raw = store.read_small("manifest.json")?;
    let manifest: Vec<ManifestEntry> = serde_json::from_slice(&raw).map_err(|e| {
        SourceError::bad(
            format!("{container}: manifest.json"),
            "docker-archive manifest",
            e,
        )
    })?;
    let mut warnings = Vec::new();
    let entry = match manifest.len() {
        0 => {
            return Err(SourceError::bad(
                format!("{container}: manifest.json"),
                "docker-archive manifest",
                "it lists no image",
            ))
        }
        1 => &manifest[0],
        n => {
            warnings.push(format!("the archive holds {n} images; scanning the first"));
            &manifest[0]
        }
    };
    let config_bytes = store.read_small(&entry.config)?;
    let config = ImageConfig::from_slice(&config_bytes).map_err(|e| {
        SourceError::bad(format!("{container}: {}", entry.config), "image config", e)
    })?;
    for member in &entry.layers {
        if !store.contains(member) {
            return Err(SourceError::MissingBlob {
                name: member.clone(),
                container,
            });
        }
    }
    let mut layers = describe_layers(&config, &entry.layers, &mut warnings, |member| {
        member
            .strip_prefix("blobs/sha256/")
            .map(|hex| format!("sha256:{hex}"))
    });
    for (layer, member) in layers.iter_mut().zip(&entry.layers) {
        layer.size = store.size(member);
    }
    let image_id = Some(format!("sha256:{}", sha256_hex(&config_bytes)));
    Ok(StoredImage {
        metadata: ImageMetadata {
            name: name.to_string(),
            kind: TargetKind::Image,
            image_id,
            repo_tags: entry.repo_tags.clone().unwrap_or_default(),
            repo_digests: Vec::new(),
            config,
            layers,
            warnings,
            container: None,
        },
        store,
        layer_members: entry.layers.clone(),
        limits,
    })
}

/// Pairs layer members with the config's diff_ids and history commands.
pub(crate) fn describe_layers(
    config: &ImageConfig,
    members: &[String],
    warnings: &mut Vec<String>,
    digest_of: impl Fn(&str) -> Option<String>,
) -> Vec<LayerInfo> {
    let diff_ids = &config.rootfs.diff_ids;
    if diff_ids.len() != members.len() {
        warnings.push(format!(
            "the config lists {} diff_ids for {} layers",
            diff_ids.len(),
            members.len()
        ));
    }
    let commands = config.layer_commands(members.len());
    members
        .iter()
        .enumerate()
        .map(|(i, m)| LayerInfo {
            diff_id: diff_ids.get(i).cloned(),
            digest: digest_of(m),
            size: None,
            media_type: None,
            created_by: commands.get(i).cloned().flatten(),
        })
        .collect()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
