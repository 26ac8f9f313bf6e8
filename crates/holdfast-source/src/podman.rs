//! Podman's images and containers (`podman:NAME`, `scan container --runtime podman`).
//!
//! When Podman's API service runs (`CONTAINER_HOST`, the rootful `/run/podman/podman.sock`,
//! or the rootless `$XDG_RUNTIME_DIR/podman/podman.sock`), it is Docker's Engine API and the
//! daemon and container sources read it. When none runs, images and containers are read
//! from the local `containers-storage` directly: `overlay-images/images.json` names an
//! image's top layer, `overlay-layers/layers.json` chains each layer to its parent, each
//! layer's files are the overlay directory `overlay/ID/diff` (whiteouts as 0:0 character
//! devices, opaque directories by xattr), and the image config is the image's "big data"
//! stored under `=` and the base64 of its key. A container's runtime spec is its
//! `userdata/config.json`.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use holdfast_model::RuntimeConfig;
use serde::Deserialize;

use crate::archive_index::MAX_METADATA_BYTES;
use crate::container::ContainerSource;
use crate::daemon::{DaemonSource, EngineSocket};
use crate::docker_archive::describe_layers;
use crate::runtime_spec::{host_processes, HostFacts, RuntimeSpec, MAX_PROCESSES};
use crate::{
    ContainerRef, ImageConfig, ImageMetadata, LayerInfo, LayerOpenError, LayerVisitor, Source,
    SourceError, TargetKind,
};

/// Layers followed from an image's top layer at most; deeper chains are refused.
const MAX_LAYERS: usize = 1024;

/// The processes of a running Podman container of this host.
pub(crate) fn running_processes(id: &str) -> Vec<holdfast_model::ContainerProcess> {
    host_processes(&container_pids(id))
}

/// The host PIDs in the container's cgroup (`libpod-ID` under cgroupfs, `libpod-ID.scope`
/// under systemd), found without the run root, where Podman keeps its state.
fn container_pids(id: &str) -> Vec<u32> {
    let Ok(proc) = std::fs::read_dir(crate::host::path("/proc")) else {
        return Vec::new();
    };
    let marker = format!("libpod-{id}");
    let mut pids: Vec<u32> = proc
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(crate::host::path(format!("/proc/{pid}/cgroup"))).is_ok_and(
                |c| {
                    c.lines()
                        .any(|l| l.ends_with(&marker) || l.contains(&format!("{marker}.scope")))
                },
            )
        })
        .take(MAX_PROCESSES)
        .collect();
    pids.sort_unstable();
    pids
}

/// Where Podman keeps things.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodmanOptions {
    /// The API socket (`CONTAINER_HOST=unix://PATH`); when `None` and no storage root is
    /// given, the rootful and rootless default sockets that exist are used.
    pub socket: Option<PathBuf>,
    /// The storage's root (graphroot); when `None`, `storage.conf`'s, else
    /// `/var/lib/containers/storage`.
    pub storage_root: Option<PathBuf>,
}

impl PodmanOptions {
    /// The API socket to use: the one given, else (unless a storage root was given) the
    /// first default one that exists.
    pub fn api_socket(&self) -> Option<PathBuf> {
        if let Some(s) = &self.socket {
            return Some(s.clone());
        }
        if self.storage_root.is_some() {
            return None;
        }
        let mut candidates = vec![crate::host::default_socket(Path::new(
            "/run/podman/podman.sock",
        ))];
        if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR") {
            candidates.push(Path::new(&dir).join("podman/podman.sock"));
        }
        candidates.into_iter().find(|p| socket_exists(p))
    }

    /// The storage root: the one given, `graphroot` of `storage.conf`
    /// (`CONTAINERS_STORAGE_CONF` or `/etc/containers/storage.conf`), or the default.
    pub fn storage_root(&self) -> PathBuf {
        if let Some(r) = &self.storage_root {
            return r.clone();
        }
        // Under a host root, the host's storage.conf and graphroot are the host's paths.
        let conf = std::env::var_os("CONTAINERS_STORAGE_CONF")
            .map(PathBuf::from)
            .unwrap_or_else(|| crate::host::path("/etc/containers/storage.conf"));
        let root = std::fs::read_to_string(conf)
            .ok()
            .and_then(|text| graphroot(&text))
            .unwrap_or_else(|| "/var/lib/containers/storage".into());
        crate::host::path(root)
    }
}

/// Whether a socket exists at the path; a default API socket is only used when it is there.
fn socket_exists(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_socket())
}

/// `[storage] graphroot` of a `storage.conf`.
fn graphroot(text: &str) -> Option<PathBuf> {
    let doc: toml::Table = text.parse().ok()?;
    let root = doc.get("storage")?.get("graphroot")?.as_str()?;
    (!root.is_empty()).then(|| root.into())
}

/// Opens a Podman image: through the API service when one runs, else from storage.
pub fn open_image(
    target: &str,
    name: &str,
    options: &PodmanOptions,
    limits: crate::DecompressLimits,
) -> Result<Box<dyn Source>, SourceError> {
    match options.api_socket() {
        Some(socket) => Ok(Box::new(DaemonSource::open(
            &EngineSocket::Podman(socket),
            target,
            name,
            limits,
        )?)),
        None => Ok(Box::new(StorageImage::open(
            &Storage::at(options.storage_root())?,
            target,
            name,
        )?)),
    }
}

/// Whether Podman (its service, else its storage) holds `target`.
pub fn has_image(target: &str, options: &PodmanOptions) -> bool {
    match options.api_socket() {
        Some(socket) => DaemonSource::has_image(&EngineSocket::Podman(socket), target),
        None => Storage::at(options.storage_root())
            .and_then(|s| s.image(target))
            .is_ok(),
    }
}

/// Opens a Podman container: through the API service when one runs, else from storage.
pub fn open_container(
    id: &str,
    options: &PodmanOptions,
    limits: crate::DecompressLimits,
) -> Result<Box<dyn Source>, SourceError> {
    match options.api_socket() {
        Some(socket) => Ok(Box::new(ContainerSource::open(
            &EngineSocket::Podman(socket),
            id,
            limits,
        )?)),
        None => Ok(Box::new(StorageContainer::open(
            &Storage::at(options.storage_root())?,
            id,
        )?)),
    }
}

/// Every Podman container, through the service or from storage.
pub fn list_containers(options: &PodmanOptions) -> Result<Vec<ContainerRef>, SourceError> {
    match options.api_socket() {
        Some(socket) => crate::container::list_containers(&EngineSocket::Podman(socket)),
        None => Ok(Storage::at(options.storage_root())?
            .containers()?
            .into_iter()
            .map(|c| ContainerRef {
                name: c.names.first().cloned().unwrap_or_else(|| c.id.clone()),
                id: c.id,
            })
            .collect()),
    }
}

#[derive(Debug, Deserialize)]
struct StoredImageRecord {
    id: String,
    #[serde(default)]
    names: Vec<String>,
    /// The top layer.
    #[serde(default)]
    layer: Option<String>,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    created: Option<String>,
}

#[derive(Debug, Deserialize)]
struct StoredLayerRecord {
    id: String,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default, rename = "diff-digest")]
    diff_digest: Option<String>,
    #[serde(default, rename = "compressed-diff-digest")]
    compressed_diff_digest: Option<String>,
    #[serde(default, rename = "diff-size")]
    diff_size: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct StoredContainerRecord {
    id: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    image: String,
    /// The container's own read-write layer, whose parent is the image's top layer.
    #[serde(default)]
    layer: String,
}

/// The graph driver a storage uses; each keeps its own metadata folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Driver {
    /// One directory of changes per layer.
    Overlay,
    /// One full copy of the filesystem per layer.
    Vfs,
}

impl Driver {
    fn name(self) -> &'static str {
        match self {
            Driver::Overlay => "overlay",
            Driver::Vfs => "vfs",
        }
    }
}

/// A `containers-storage` root.
struct Storage {
    root: PathBuf,
    driver: Driver,
}

/// Storage ids are 64 hex digits; anything else never becomes a path.
fn checked_id(id: &str) -> Result<&str, SourceError> {
    if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(id)
    } else {
        Err(SourceError::bad(
            id,
            "containers-storage id",
            "it is not 64 hex digits",
        ))
    }
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, SourceError> {
    let size = std::fs::metadata(path)
        .map_err(|e| SourceError::io(path, e))?
        .len();
    if size > MAX_METADATA_BYTES {
        return Err(SourceError::bad(
            path.display().to_string(),
            "containers-storage file",
            format!("{size} bytes is more than the {MAX_METADATA_BYTES}-byte limit"),
        ));
    }
    std::fs::read(path).map_err(|e| SourceError::io(path, e))
}

fn read_json<T: for<'de> Deserialize<'de>>(
    path: &Path,
    what: &'static str,
) -> Result<T, SourceError> {
    let bytes = read_bounded(path)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| SourceError::bad(path.display().to_string(), what, e))
}

impl Storage {
    fn at(root: PathBuf) -> Result<Self, SourceError> {
        let driver = if root.join("overlay-images/images.json").is_file() {
            Driver::Overlay
        } else if root.join("vfs-images/images.json").is_file() {
            Driver::Vfs
        } else {
            return Err(SourceError::Podman(format!(
                "no Podman service socket, and no image storage at `{}` (CONTAINER_HOST names a service; --podman-root a storage)",
                root.display()
            )));
        };
        Ok(Storage { root, driver })
    }

    fn meta(&self, folder: &str) -> PathBuf {
        self.root.join(format!("{}-{folder}", self.driver.name()))
    }

    fn images(&self) -> Result<Vec<StoredImageRecord>, SourceError> {
        read_json(
            &self.meta("images").join("images.json"),
            "Podman image list",
        )
    }

    fn layers(&self) -> Result<Vec<StoredLayerRecord>, SourceError> {
        read_json(
            &self.meta("layers").join("layers.json"),
            "Podman layer list",
        )
    }

    fn containers(&self) -> Result<Vec<StoredContainerRecord>, SourceError> {
        let path = self.meta("containers").join("containers.json");
        if !path.exists() {
            return Ok(Vec::new());
        }
        read_json(&path, "Podman container list")
    }

    /// The image a user means: a name as stored, the name Podman would store it under
    /// (`localhost/` or `docker.io/library/`, `:latest`), or an id or unique id prefix.
    fn image(&self, target: &str) -> Result<StoredImageRecord, SourceError> {
        let wanted = target.strip_prefix("sha256:").unwrap_or(target);
        let candidates = stored_names(target);
        let mut by_prefix = Vec::new();
        for image in self.images()? {
            if image.names.iter().any(|n| candidates.contains(n)) || image.id == wanted {
                return Ok(image);
            }
            if wanted.len() >= 4 && image.id.starts_with(wanted) {
                by_prefix.push(image);
            }
        }
        match by_prefix.len() {
            1 => Ok(by_prefix.remove(0)),
            0 => Err(SourceError::InvalidTarget(format!(
                "no image `{target}` in Podman's storage at `{}`",
                self.root.display()
            ))),
            n => Err(SourceError::InvalidTarget(format!(
                "`{target}` is the start of {n} image ids; give more of it"
            ))),
        }
    }

    /// The layers from the bottom to `top`.
    fn chain(&self, top: &str) -> Result<Vec<StoredLayerRecord>, SourceError> {
        let mut all: std::collections::HashMap<String, StoredLayerRecord> = self
            .layers()?
            .into_iter()
            .map(|l| (l.id.clone(), l))
            .collect();
        let mut chain = Vec::new();
        let mut next = Some(top.to_string());
        while let Some(id) = next {
            if chain.len() >= MAX_LAYERS {
                return Err(SourceError::bad(
                    top,
                    "Podman layer chain",
                    format!("it is longer than {MAX_LAYERS} layers or loops"),
                ));
            }
            let layer = all.remove(&id).ok_or_else(|| {
                SourceError::bad(
                    top,
                    "Podman layer chain",
                    format!("layer {id} is not listed"),
                )
            })?;
            next = layer.parent.clone().filter(|p| !p.is_empty());
            chain.push(layer);
        }
        chain.reverse();
        Ok(chain)
    }

    /// The directory holding a layer's files: its changes (overlay) or the whole tree up
    /// to it (vfs).
    fn layer_dir(&self, id: &str) -> Result<PathBuf, SourceError> {
        let id = checked_id(id)?;
        Ok(match self.driver {
            Driver::Overlay => self.root.join("overlay").join(id).join("diff"),
            Driver::Vfs => self.root.join("vfs/dir").join(id),
        })
    }

    /// An image's big-data item (`sha256:CONFIG`, `manifest`), stored under its key when
    /// the key is plain and under `=` and its base64 otherwise.
    fn big_data(&self, image_id: &str, key: &str) -> Result<Vec<u8>, SourceError> {
        let dir = self.meta("images").join(checked_id(image_id)?);
        let plain = key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.');
        let file = if plain {
            key.to_string()
        } else {
            format!("={}", base64::engine::general_purpose::STANDARD.encode(key))
        };
        read_bounded(&dir.join(file))
    }

    /// The directories and layer descriptions of `top` and everything under it.
    fn layer_dirs(
        &self,
        top: &str,
        config: &ImageConfig,
        warnings: &mut Vec<String>,
    ) -> Result<(Vec<PathBuf>, Vec<LayerInfo>), SourceError> {
        let chain = self.chain(top)?;
        if self.driver == Driver::Vfs {
            // Each vfs layer is the whole tree: the top one is the image.
            return Ok((
                vec![self.layer_dir(top)?],
                vec![LayerInfo {
                    created_by: Some(format!("vfs layer {top} (all {} layers)", chain.len())),
                    ..LayerInfo::default()
                }],
            ));
        }
        let ids: Vec<String> = chain.iter().map(|l| l.id.clone()).collect();
        let mut layers = describe_layers(config, &ids, warnings, |_| None);
        for (layer, record) in layers.iter_mut().zip(&chain) {
            // The storage computed the diff digest when it unpacked the layer.
            if record.diff_digest.is_some() {
                layer.diff_id = record.diff_digest.clone();
            }
            layer.digest = record.compressed_diff_digest.clone();
            layer.size = record.diff_size;
        }
        let dirs = ids
            .iter()
            .map(|id| self.layer_dir(id))
            .collect::<Result<_, _>>()?;
        Ok((dirs, layers))
    }
}

/// The names Podman stores a reference under.
fn stored_names(reference: &str) -> Vec<String> {
    let last = reference.rsplit('/').next().unwrap_or_default();
    let tagged = if last.contains([':', '@']) {
        reference.to_string()
    } else {
        format!("{reference}:latest")
    };
    let mut out = vec![reference.to_string(), tagged.clone()];
    let first = reference.split('/').next().unwrap_or_default();
    let has_host = reference.contains('/') && (first.contains(['.', ':']) || first == "localhost");
    if !has_host {
        out.push(format!("localhost/{tagged}"));
        if reference.contains('/') {
            out.push(format!("docker.io/{tagged}"));
        } else {
            out.push(format!("docker.io/library/{tagged}"));
        }
    }
    out
}

/// Hands out a list of host directories as layers.
fn stream_dirs(
    dirs: &[PathBuf],
    indexes: &[usize],
    visit: &LayerVisitor<'_>,
) -> Vec<LayerOpenError> {
    crate::rootfs::stream_dirs(dirs, indexes, visit, |dir, e| {
        SourceError::Podman(format!(
            "layer directory `{}` is not readable ({e}); Podman's storage is read as the user who owns it",
            dir.display()
        ))
    })
}

/// An image read from Podman's storage.
pub struct StorageImage {
    metadata: ImageMetadata,
    dirs: Vec<PathBuf>,
}

impl StorageImage {
    fn open(storage: &Storage, target: &str, name: &str) -> Result<Self, SourceError> {
        let image = storage.image(target)?;
        let (config, dirs, layers, warnings) = image_parts(storage, &image)?;
        Ok(StorageImage {
            metadata: ImageMetadata {
                name: name.to_string(),
                kind: TargetKind::Image,
                image_id: Some(format!("sha256:{}", image.id)),
                repo_tags: image.names.clone(),
                repo_digests: image.digest.clone().into_iter().collect(),
                config,
                layers,
                warnings,
                container: None,
            },
            dirs,
        })
    }
}

type ImageParts = (ImageConfig, Vec<PathBuf>, Vec<LayerInfo>, Vec<String>);

fn image_parts(storage: &Storage, image: &StoredImageRecord) -> Result<ImageParts, SourceError> {
    let bytes = storage.big_data(&image.id, &format!("sha256:{}", image.id))?;
    let mut config = ImageConfig::from_slice(&bytes)
        .map_err(|e| SourceError::bad(format!("Podman image {}", image.id), "image config", e))?;
    if config.created.is_none() {
        config.created = image.created.clone();
    }
    let top = image
        .layer
        .as_deref()
        .ok_or_else(|| SourceError::bad(&image.id, "Podman image", "it names no top layer"))?;
    let mut warnings = Vec::new();
    let (dirs, layers) = storage.layer_dirs(top, &config, &mut warnings)?;
    Ok((config, dirs, layers, warnings))
}

impl Source for StorageImage {
    fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }

    fn stream_layers(&self, indexes: &[usize], visit: &LayerVisitor<'_>) -> Vec<LayerOpenError> {
        stream_dirs(&self.dirs, indexes, visit)
    }
}

/// A container read from Podman's storage: its image's layers, its own layer and its
/// runtime spec.
pub struct StorageContainer {
    metadata: ImageMetadata,
    dirs: Vec<PathBuf>,
}

impl StorageContainer {
    fn open(storage: &Storage, target: &str) -> Result<Self, SourceError> {
        let containers = storage.containers()?;
        let matches: Vec<&StoredContainerRecord> = containers
            .iter()
            .filter(|c| c.id == target || c.names.iter().any(|n| n == target))
            .collect();
        let matches = if matches.is_empty() && target.len() >= 4 {
            containers
                .iter()
                .filter(|c| c.id.starts_with(target))
                .collect()
        } else {
            matches
        };
        let container = match matches.as_slice() {
            [one] => *one,
            [] => {
                return Err(SourceError::InvalidTarget(format!(
                    "no container `{target}` in Podman's storage at `{}`",
                    storage.root.display()
                )))
            }
            many => {
                return Err(SourceError::InvalidTarget(format!(
                    "`{target}` matches {} containers; give more of the id",
                    many.len()
                )))
            }
        };
        let mut warnings = Vec::new();
        let spec_path = storage
            .meta("containers")
            .join(checked_id(&container.id)?)
            .join("userdata/config.json");
        let spec = match read_bounded(&spec_path) {
            Ok(bytes) => RuntimeSpec::from_slice(&bytes).unwrap_or_else(|e| {
                warnings.push(format!("the container's runtime spec does not parse: {e}"));
                RuntimeSpec::default()
            }),
            Err(_) => {
                warnings.push(
                    "the container has no runtime spec yet (never started); runtime settings not checked"
                        .into(),
                );
                RuntimeSpec::default()
            }
        };
        let image = storage
            .images()?
            .into_iter()
            .find(|i| i.id == container.image);
        let (config, mut dirs, mut layers) = match &image {
            Some(image) => {
                let (config, dirs, layers, w) = image_parts(storage, image)?;
                warnings.extend(w);
                (config, dirs, layers)
            }
            None => {
                warnings.push(format!("image {} is gone", container.image));
                (ImageConfig::default(), Vec::new(), Vec::new())
            }
        };
        if storage.driver == Driver::Vfs {
            // The container's vfs layer is its whole tree.
            dirs.clear();
            layers.clear();
        }
        dirs.push(storage.layer_dir(&container.layer)?);
        layers.push(LayerInfo {
            created_by: Some(format!("container {} (its own layer)", container.id)),
            ..LayerInfo::default()
        });
        let name = container
            .names
            .first()
            .cloned()
            .unwrap_or_else(|| container.id.clone());
        let processes = running_processes(&container.id);
        let facts = holdfast_model::ContainerRuntime {
            id: container.id.clone(),
            name: name.clone(),
            state: if processes.is_empty() {
                "stopped"
            } else {
                "running"
            }
            .into(),
            processes,
            image: image
                .as_ref()
                .and_then(|i| i.names.first().cloned())
                .unwrap_or_else(|| container.image.clone()),
            image_id: format!("sha256:{}", container.image),
            ..spec.runtime(&HostFacts::read())
        };
        let process = spec.process.as_ref();
        let config = ImageConfig {
            config: RuntimeConfig {
                user: facts.user.clone(),
                env: process.map(|p| p.env.clone()).unwrap_or_default(),
                cmd: process.map(|p| p.args.clone()).unwrap_or_default(),
                working_dir: process.map(|p| p.cwd.clone()).unwrap_or_default(),
                ..config.config.clone()
            },
            rootfs: Default::default(),
            ..config
        };
        Ok(StorageContainer {
            metadata: ImageMetadata {
                name,
                kind: TargetKind::Container,
                image_id: Some(facts.image_id.clone()),
                repo_tags: Vec::new(),
                repo_digests: Vec::new(),
                config,
                layers,
                warnings,
                container: Some(facts),
            },
            dirs,
        })
    }
}

impl Source for StorageContainer {
    fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }

    fn stream_layers(&self, indexes: &[usize], visit: &LayerVisitor<'_>) -> Vec<LayerOpenError> {
        stream_dirs(&self.dirs, indexes, visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_podman_stores() {
        let n = stored_names("probe:2");
        assert!(n.contains(&"localhost/probe:2".to_string()));
        assert!(n.contains(&"docker.io/library/probe:2".to_string()));
        let n = stored_names("team/app");
        assert!(n.contains(&"docker.io/team/app:latest".to_string()));
        let n = stored_names("quay.io/team/app:1");
        assert_eq!(n, ["quay.io/team/app:1", "quay.io/team/app:1"]);
    }

    #[test]
    fn ids_never_climb() {
        assert!(checked_id("../../etc").is_err());
        assert!(checked_id(&"a".repeat(64)).is_ok());
        assert!(checked_id(&"g".repeat(64)).is_err());
    }

    #[test]
    fn graphroot_from_storage_conf() {
        let conf = "[storage]\ndriver = \"overlay\"\ngraphroot = \"/srv/containers\"\n";
        assert_eq!(graphroot(conf), Some(PathBuf::from("/srv/containers")));
        assert_eq!(graphroot("[storage]\ndriver = \"vfs\"\n"), None);
        assert_eq!(graphroot("not toml ["), None);
    }
}
