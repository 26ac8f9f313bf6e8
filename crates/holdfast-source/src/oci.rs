//! OCI image layouts (`oci:DIR[:TAG]`) and OCI archives (the same layout in one tar), per
//! the OCI image spec's `image-layout.md`: `index.json` names manifests by digest, blobs
//! live at `blobs/ALG/HEX`. An index entry may itself be an image index (multi-platform);
//! the host's platform is chosen unless the user asked for another.

use std::path::Path;

use serde::Deserialize;

use crate::archive_index::{blob_path, BlobStore};
use crate::compression::DecompressLimits;
use crate::docker_archive::{describe_layers, StoredImage};
use crate::{ImageConfig, ImageMetadata, Platform, SourceError, TargetKind};

const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Nested indexes followed at most this deep.
pub(crate) const MAX_INDEX_DEPTH: usize = 4;

#[derive(Deserialize, Default)]
pub(crate) struct Descriptor {
    #[serde(default, rename = "mediaType")]
    pub(crate) media_type: Option<String>,
    pub(crate) digest: String,
    #[serde(default)]
    pub(crate) size: Option<u64>,
    #[serde(default)]
    pub(crate) platform: Option<PlatformField>,
    #[serde(default)]
    pub(crate) annotations: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct PlatformField {
    #[serde(default)]
    pub(crate) os: String,
    #[serde(default)]
    pub(crate) architecture: String,
    #[serde(default)]
    pub(crate) variant: Option<String>,
}

/// An image index or an image manifest: which one it is shows in the fields present.
#[derive(Deserialize)]
pub(crate) struct IndexOrManifest {
    #[serde(default)]
    pub(crate) manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    pub(crate) config: Option<Descriptor>,
    #[serde(default)]
    pub(crate) layers: Option<Vec<Descriptor>>,
}

/// Opens an OCI layout directory.
pub fn open_layout(
    dir: &Path,
    tag: Option<&str>,
    platform: Option<&Platform>,
    name: &str,
    limits: DecompressLimits,
) -> Result<StoredImage, SourceError> {
    if !dir.join("index.json").is_file() {
        return Err(SourceError::InvalidTarget(format!(
            "`{}` is not an OCI image layout: it has no index.json",
            dir.display()
        )));
    }
    from_store(
        BlobStore::Dir {
            root: dir.to_path_buf(),
        },
        tag,
        platform,
        name,
        limits,
    )
}

/// Opens an OCI archive (a tar of an OCI layout).
pub fn open_archive(
    file: &Path,
    tag: Option<&str>,
    platform: Option<&Platform>,
    name: &str,
    limits: DecompressLimits,
) -> Result<StoredImage, SourceError> {
    from_store(BlobStore::index_tar(file)?, tag, platform, name, limits)
}

/// Reads `index.json` from a store and resolves it to one image.
pub(crate) fn from_store(
    store: BlobStore,
    tag: Option<&str>,
    platform: Option<&Platform>,
    name: &str,
    limits: DecompressLimits,
) -> Result<StoredImage, SourceError> {
    let container = store.container_name();
    let mut warnings = Vec::new();
    let index: IndexOrManifest = parse_json(&store, "index.json", "OCI index")?;
    let entries = index.manifests.unwrap_or_default();
    let chosen = match tag {
        Some(t) => entries
            .iter()
            .find(|d| {
                d.annotations.get(REF_NAME).map(String::as_str) == Some(t)
                    || d.annotations
                        .get("io.containerd.image.name")
                        .is_some_and(|n| n.ends_with(&format!(":{t}")))
            })
            .ok_or_else(|| {
                let tags: Vec<&str> = entries
                    .iter()
                    .filter_map(|d| d.annotations.get(REF_NAME).map(String::as_str))
                    .collect();
                SourceError::InvalidTarget(format!(
                    "no image tagged `{t}` in `{container}` (tags: {})",
                    if tags.is_empty() {
                        "none".to_string()
                    } else {
                        tags.join(", ")
                    }
                ))
            })?,
        None => choose_platform(&entries, platform, &container, &mut warnings)?,
    };
    let read = |digest: &str| store.read_small(&blob_path(digest)?);
    let (manifest, manifest_digest) =
        resolve_manifest(&read, chosen, platform, &container, 0, &mut warnings)?;
    let config_desc = manifest
        .config
        .ok_or_else(|| SourceError::bad(&manifest_digest, "image manifest", "it has no config"))?;
    let config_name = blob_path(&config_desc.digest)?;
    let config_bytes = store.read_small(&config_name)?;
    let config = ImageConfig::from_slice(&config_bytes)
        .map_err(|e| SourceError::bad(format!("{container}: {config_name}"), "image config", e))?;
    let layer_descs = manifest.layers.unwrap_or_default();
    let mut members = Vec::with_capacity(layer_descs.len());
    for d in &layer_descs {
        let member = blob_path(&d.digest)?;
        if !store.contains(&member) {
            return Err(SourceError::MissingBlob {
                name: member,
                container,
            });
        }
        members.push(member);
    }
    let mut layers = describe_layers(&config, &members, &mut warnings, |_| None);
    for (layer, d) in layers.iter_mut().zip(&layer_descs) {
        layer.digest = Some(d.digest.clone());
        layer.size = d.size;
        layer.media_type = d.media_type.clone();
    }
    Ok(StoredImage {
        metadata: ImageMetadata {
            name: name.to_string(),
            kind: TargetKind::Image,
            image_id: Some(config_desc.digest.clone()),
            repo_tags: chosen
                .annotations
                .get(REF_NAME)
                .map(|t| vec![t.clone()])
                .unwrap_or_default(),
            repo_digests: vec![manifest_digest],
            config,
            layers,
            warnings,
            container: None,
        },
        store,
        layer_members: members,
        limits,
    })
}

fn parse_json<T: for<'de> Deserialize<'de>>(
    store: &BlobStore,
    member: &str,
    what: &'static str,
) -> Result<T, SourceError> {
    let bytes = store.read_small(member)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| SourceError::bad(format!("{}: {member}", store.container_name()), what, e))
}

/// Reads a blob by digest, whole; a manifest, an index or a config.
pub(crate) type ReadBlob<'a> = dyn Fn(&str) -> Result<Vec<u8>, SourceError> + 'a;

/// Follows index entries down to an image manifest, reading each document with `read`.
pub(crate) fn resolve_manifest(
    read: &ReadBlob<'_>,
    desc: &Descriptor,
    platform: Option<&Platform>,
    container: &str,
    depth: usize,
    warnings: &mut Vec<String>,
) -> Result<(IndexOrManifest, String), SourceError> {
    if depth > MAX_INDEX_DEPTH {
        return Err(SourceError::bad(
            &desc.digest,
            "image index",
            format!("indexes nest deeper than {MAX_INDEX_DEPTH}"),
        ));
    }
    let bytes = read(&desc.digest)?;
    let doc: IndexOrManifest = serde_json::from_slice(&bytes).map_err(|e| {
        SourceError::bad(format!("{container}: {}", desc.digest), "image manifest", e)
    })?;
    match doc.manifests {
        Some(ref children) if doc.layers.is_none() => {
            let child = choose_platform(children, platform, container, warnings)?;
            resolve_manifest(read, child, platform, container, depth + 1, warnings)
        }
        _ => Ok((doc, desc.digest.clone())),
    }
}

/// Picks the entry for the wanted (or host) platform out of an index.
pub(crate) fn choose_platform<'a>(
    entries: &'a [Descriptor],
    wanted: Option<&Platform>,
    container: &str,
    warnings: &mut Vec<String>,
) -> Result<&'a Descriptor, SourceError> {
    if entries.is_empty() {
        return Err(SourceError::bad(
            container,
            "OCI index",
            "it lists no manifest",
        ));
    }
    let with_platform: Vec<&Descriptor> = entries
        .iter()
        .filter(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p| !p.architecture.is_empty())
        })
        // Attestation manifests carry platform unknown/unknown.
        .filter(|d| d.platform.as_ref().is_some_and(|p| p.os != "unknown"))
        .collect();
    if with_platform.is_empty() {
        if entries.len() > 1 {
            warnings.push(format!(
                "the index lists {} images without platforms; scanning the first",
                entries.len()
            ));
        }
        return Ok(&entries[0]);
    }
    let host = Platform::host();
    let want = wanted.unwrap_or(&host);
    with_platform
        .iter()
        .copied()
        .find(|d| {
            let p = d.platform.as_ref().expect("filtered above");
            want.matches(&p.os, &p.architecture, p.variant.as_deref())
        })
        .ok_or_else(|| SourceError::NoMatchingPlatform {
            target: container.to_string(),
            wanted: want.to_string(),
            available: with_platform
                .iter()
                .filter_map(|d| d.platform.as_ref())
                .map(|p| {
                    let mut s = format!("{}/{}", p.os, p.architecture);
                    if let Some(v) = &p.variant {
                        s.push('/');
                        s.push_str(v);
                    }
                    s
                })
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Whether a file looks like an OCI archive (a tar holding `oci-layout` or `index.json`
/// but no `manifest.json`) rather than a docker archive.
pub(crate) fn store_is_oci(store: &BlobStore) -> bool {
    !store.contains("manifest.json") && store.contains("index.json")
}

/// Opens an already indexed archive as whichever kind it is.
pub(crate) fn open_indexed_archive(
    store: BlobStore,
    tag: Option<&str>,
    platform: Option<&Platform>,
    name: &str,
    limits: DecompressLimits,
) -> Result<StoredImage, SourceError> {
    if store_is_oci(&store) {
        from_store(store, tag, platform, name, limits)
    } else {
        crate::docker_archive::from_store(store, name, limits)
    }
}
