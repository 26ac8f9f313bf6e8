//! Images and containers held by containerd (`containerd:NAME[@namespace]`), through its
//! gRPC API on the local socket.
//!
//! An image's manifest, config and layer blobs are read from the content store by digest
//! (`Content/Read`), streamed to the walker as they arrive: no export and no temporary copy.
//! When containerd runs on this host and its content plugin's exported `root` is readable
//! (root on the node), layer blobs are read from their files there instead: the API streams
//! a few hundred MB/s at best, the file is as fast as an archive on disk.
//! A container's filesystem is its snapshot, as the snapshotter mounts it: the overlay's
//! lower directories (the image's layers, which keep their diff_ids and so their cache
//! entries) and its upper directory, or the one directory of a native snapshot. Its OCI
//! runtime spec gives the isolation facts (see [`crate::runtime_spec`]).

mod api;

use std::path::PathBuf;

use futures_util::TryFutureExt;
use holdfast_model::{ContainerRuntime, RuntimeConfig};
use rayon::prelude::*;

use crate::archive_index::MAX_METADATA_BYTES;
use crate::compression::{DecompressLimits, LayerReader};
use crate::daemon::{io_runtime, read_export};
use crate::docker_archive::describe_layers;
use crate::oci::{resolve_manifest, Descriptor};
use crate::runtime_spec::{host_processes, HostFacts, RuntimeSpec};
use crate::{
    ContainerRef, ImageConfig, ImageMetadata, LayerInfo, LayerOpenError, LayerStream, LayerVisit,
    LayerVisitor, Platform, Source, SourceError, TargetKind,
};
use api::{is_not_found, Client};

/// The socket containerd listens on unless told otherwise.
pub const DEFAULT_ADDRESS: &str = "/run/containerd/containerd.sock";
/// Namespaces searched, in order, when none is given: `ctr`'s, Kubernetes' (CRI) and
/// Docker's.
pub const SEARCHED_NAMESPACES: [&str; 3] = ["default", "k8s.io", "moby"];
/// Where containerd is and which namespace to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerdOptions {
    /// The socket (`--containerd-address`, `CONTAINERD_ADDRESS`).
    pub address: PathBuf,
    /// The namespace (`--containerd-namespace`, `CONTAINERD_NAMESPACE`); when `None`,
    /// [`SEARCHED_NAMESPACES`] are tried in order.
    pub namespace: Option<String>,
}

impl Default for ContainerdOptions {
    fn default() -> Self {
        ContainerdOptions {
            address: DEFAULT_ADDRESS.into(),
            namespace: None,
        }
    }
}

impl ContainerdOptions {
    /// The namespaces to look in: the one asked for (by the target, then the options), or
    /// the usual ones.
    fn namespaces(&self, from_target: Option<&str>) -> Vec<String> {
        match from_target.or(self.namespace.as_deref()) {
            Some(ns) => vec![ns.to_string()],
            None => SEARCHED_NAMESPACES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// Splits `NAME@NAMESPACE`; an `@` followed by a digest (`@sha256:...`) is part of the name.
pub fn split_namespace(target: &str) -> (&str, Option<&str>) {
    match target.rsplit_once('@') {
        Some((name, ns))
            if !name.is_empty()
                && !ns.is_empty()
                && !ns.contains([':', '/'])
                && ns
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) =>
        {
            (name, Some(ns))
        }
        _ => (target, None),
    }
}

/// The names containerd may store a reference under: as typed, then fully qualified the
/// way Docker normalises it (`debian:12` is `docker.io/library/debian:12`).
fn candidate_names(reference: &str) -> Vec<String> {
    let mut out = vec![reference.to_string()];
    if let Ok(parsed) = crate::registry::parse_reference(reference) {
        let full = parsed.whole();
        if full != reference {
            out.push(full);
        }
    }
    out
}

fn connect(
    runtime: &tokio::runtime::Runtime,
    options: &ContainerdOptions,
) -> Result<Client, SourceError> {
    // A missing socket is the common case on hosts without containerd: say so plainly.
    if !options.address.exists() {
        return Err(SourceError::Containerd(format!(
            "no socket at `{}` (is containerd running? --containerd-address or CONTAINERD_ADDRESS names another)",
            options.address.display()
        )));
    }
    runtime.block_on(Client::connect(&options.address, ""))
}

fn status_err(what: impl std::fmt::Display, e: tonic::Status) -> SourceError {
    SourceError::Containerd(format!("{what}: {}", e.message()))
}

/// An image's config, manifest digest and layers, read from the content store.
struct ResolvedImage {
    config: ImageConfig,
    config_digest: String,
    manifest_digest: String,
    layers: Vec<LayerInfo>,
    warnings: Vec<String>,
}

fn resolve_image(
    runtime: &tokio::runtime::Runtime,
    client: &Client,
    image: &api::Image,
    platform: Option<&Platform>,
) -> Result<ResolvedImage, SourceError> {
    let target = image.target.clone().ok_or_else(|| {
        SourceError::bad(
            &image.name,
            "containerd image",
            "it has no target descriptor",
        )
    })?;
    let container = format!("containerd image {}", image.name);
    let read = |digest: &str| {
        runtime
            .block_on(client.read_small(digest, MAX_METADATA_BYTES))
            .map_err(|e| status_err(format!("{container}: content {digest}"), e))
    };
    let root = Descriptor {
        media_type: Some(target.media_type.clone()),
        digest: target.digest.clone(),
        size: u64::try_from(target.size).ok(),
        ..Descriptor::default()
    };
    let mut warnings = Vec::new();
    let (manifest, manifest_digest) =
        resolve_manifest(&read, &root, platform, &container, 0, &mut warnings)?;
    let config_desc = manifest
        .config
        .ok_or_else(|| SourceError::bad(&manifest_digest, "image manifest", "it has no config"))?;
    let config_bytes = read(&config_desc.digest)?;
    let config = ImageConfig::from_slice(&config_bytes).map_err(|e| {
        SourceError::bad(
            format!("{container}: {}", config_desc.digest),
            "image config",
            e,
        )
    })?;
    let descs = manifest.layers.unwrap_or_default();
    let digests: Vec<String> = descs.iter().map(|d| d.digest.clone()).collect();
    let mut layers = describe_layers(&config, &digests, &mut warnings, |d| Some(d.to_string()));
    for (layer, d) in layers.iter_mut().zip(&descs) {
        layer.size = d.size;
        layer.media_type = d.media_type.clone();
    }
    Ok(ResolvedImage {
        config,
        config_digest: config_desc.digest,
        manifest_digest,
        layers,
        warnings,
    })
}

/// Finds `reference` in the first namespace that has it.
fn find_image(
    runtime: &tokio::runtime::Runtime,
    client: &Client,
    reference: &str,
    namespaces: &[String],
) -> Result<Option<(Client, api::Image)>, SourceError> {
    for ns in namespaces {
        let client = client.in_namespace(ns);
        for name in candidate_names(reference) {
            match runtime.block_on(client.image(&name)) {
                Ok(image) => return Ok(Some((client, image))),
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(status_err(format!("image `{name}` in `{ns}`"), e)),
            }
        }
    }
    Ok(None)
}

/// An image in containerd's content store.
pub struct ContainerdImage {
    metadata: ImageMetadata,
    client: Client,
    /// The content store's blob directory, when this process can read it.
    blobs: Option<PathBuf>,
    runtime: tokio::runtime::Runtime,
    limits: DecompressLimits,
}

impl ContainerdImage {
    /// Looks `target` (`NAME` or `NAME@NAMESPACE`) up and reads its manifest and config.
    pub fn open(
        target: &str,
        name: &str,
        platform: Option<&Platform>,
        options: &ContainerdOptions,
        limits: DecompressLimits,
    ) -> Result<Self, SourceError> {
        let (reference, ns) = split_namespace(target);
        match Self::lookup(target, options)? {
            Some((runtime, client, image)) => {
                Self::read(runtime, client, image, name, platform, limits)
            }
            None => Err(SourceError::InvalidTarget(format!(
                "no image `{reference}` in containerd at `{}` (namespaces: {})",
                options.address.display(),
                options.namespaces(ns).join(", ")
            ))),
        }
    }

    /// Opens `target` when containerd is reachable at `options.address` and holds it; used
    /// to resolve bare names, so a containerd that is absent or lacks it is `None`.
    pub fn open_if_present(
        target: &str,
        name: &str,
        platform: Option<&Platform>,
        options: &ContainerdOptions,
        limits: DecompressLimits,
    ) -> Option<Result<Self, SourceError>> {
        let (runtime, client, image) = Self::lookup(target, options).ok()??;
        Some(Self::read(runtime, client, image, name, platform, limits))
    }

    /// Connects and finds the image in the namespaces the target or options name.
    fn lookup(
        target: &str,
        options: &ContainerdOptions,
    ) -> Result<Option<(tokio::runtime::Runtime, Client, api::Image)>, SourceError> {
        let (reference, ns) = split_namespace(target);
        let runtime = io_runtime()?;
        let client = connect(&runtime, options)?;
        let found = find_image(&runtime, &client, reference, &options.namespaces(ns))?;
        Ok(found.map(|(client, image)| (runtime, client, image)))
    }

    /// Reads a found image's manifest and config.
    fn read(
        runtime: tokio::runtime::Runtime,
        client: Client,
        image: api::Image,
        name: &str,
        platform: Option<&Platform>,
        limits: DecompressLimits,
    ) -> Result<Self, SourceError> {
        let resolved = resolve_image(&runtime, &client, &image, platform)?;
        // HOLDFAST_CONTAINERD_CONTENT=api reads every blob through the API.
        let files_allowed = std::env::var("HOLDFAST_CONTAINERD_CONTENT").as_deref() != Ok("api");
        let blobs = files_allowed
            .then(|| runtime.block_on(client.content_root()))
            .and_then(Result::ok)
            .flatten()
            .map(|root| crate::host::path(root).join("blobs"))
            .filter(|dir| std::fs::read_dir(dir).is_ok());
        Ok(ContainerdImage {
            blobs,
            metadata: ImageMetadata {
                name: name.to_string(),
                kind: TargetKind::Image,
                image_id: Some(resolved.config_digest),
                repo_tags: vec![image.name.clone()],
                repo_digests: vec![resolved.manifest_digest],
                config: resolved.config,
                layers: resolved.layers,
                warnings: resolved.warnings,
                container: None,
            },
            client,
            runtime,
            limits,
        })
    }

    fn stream_layer(&self, index: usize, visit: &LayerVisitor<'_>) -> Result<(), SourceError> {
        let digest = self.metadata.layers[index]
            .digest
            .clone()
            .ok_or_else(|| SourceError::Containerd(format!("layer {index} has no digest")))?;
        if let Some(file) = self.blob_file(&digest) {
            let opened = std::fs::File::open(&file).map_err(|e| SourceError::io(&file, e))?;
            let mut layer = LayerReader::new(
                std::io::BufReader::with_capacity(1 << 20, opened),
                self.limits,
            )
            .map_err(|e| SourceError::io(&file, e))?;
            visit(LayerVisit {
                index: Some(index),
                stream: LayerStream::Tar(&mut layer),
            });
            return Ok(());
        }
        let client = self.client.clone();
        let blob = digest.clone();
        let open = move || Box::pin(async move { client.read(&blob).await }.try_flatten_stream());
        read_export(&self.runtime, open, |reader| {
            let mut layer = LayerReader::new(reader, self.limits).map_err(|e| {
                if e.to_string().contains("not found") {
                    SourceError::Containerd(format!(
                        "layer {digest} is not in the content store (containerd drops layer blobs after unpacking when `discard_unpacked_layers` is set)"
                    ))
                } else {
                    SourceError::Containerd(format!("layer {digest}: {e}"))
                }
            })?;
            visit(LayerVisit {
                index: Some(index),
                stream: LayerStream::Tar(&mut layer),
            });
            Ok(())
        })
    }
}

impl ContainerdImage {
    /// The file holding the blob `digest` in the content store, when it is readable here.
    fn blob_file(&self, digest: &str) -> Option<PathBuf> {
        let (algorithm, hex) = digest.split_once(':')?;
        let valid =
            algorithm == "sha256" && hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        let file = self.blobs.as_ref()?.join(algorithm).join(hex);
        (valid && std::fs::symlink_metadata(&file).is_ok_and(|m| m.is_file())).then_some(file)
    }
}

impl Source for ContainerdImage {
    fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }

    fn stream_layers(&self, indexes: &[usize], visit: &LayerVisitor<'_>) -> Vec<LayerOpenError> {
        // Largest first, as for archives: each layer is its own stream on the connection.
        let mut order = indexes.to_vec();
        order.sort_by_key(|&i| {
            std::cmp::Reverse(
                self.metadata
                    .layers
                    .get(i)
                    .and_then(|l| l.size)
                    .unwrap_or(0),
            )
        });
        order
            .par_iter()
            .with_max_len(1)
            .filter(|&&i| i < self.metadata.layers.len())
            .filter_map(|&i| {
                self.stream_layer(i, visit)
                    .err()
                    .map(|error| LayerOpenError {
                        index: Some(i),
                        error,
                    })
            })
            .collect()
    }
}

/// The directories of a snapshot, bottom first, from the snapshotter's mounts: an
/// overlay's lower directories (listed top first) and its upper directory, or one bind
/// mounted directory.
pub fn snapshot_dirs(mounts: &[api::Mount]) -> Result<Vec<PathBuf>, String> {
    let [mount] = mounts else {
        return Err(format!(
            "the snapshot has {} mounts; one was expected",
            mounts.len()
        ));
    };
    let option = |key: &str| {
        mount
            .options
            .iter()
            .find_map(|o| o.strip_prefix(key)?.strip_prefix('='))
    };
    match mount.kind.as_str() {
        "overlay" => {
            let mut dirs: Vec<PathBuf> = option("lowerdir")
                .unwrap_or_default()
                .split(':')
                .filter(|d| !d.is_empty())
                .rev()
                .map(crate::host::path)
                .collect();
            dirs.extend(option("upperdir").map(crate::host::path));
            if dirs.is_empty() {
                return Err("the overlay mount names no directory".into());
            }
            Ok(dirs)
        }
        "bind" | "none" if !mount.source.is_empty() => Ok(vec![crate::host::path(&mount.source)]),
        other => Err(format!("snapshot mounts of type `{other}` are not read")),
    }
}

/// A containerd container: its snapshot's directories and its runtime facts.
pub struct ContainerdContainer {
    metadata: ImageMetadata,
    dirs: Vec<PathBuf>,
}

fn find_container(
    runtime: &tokio::runtime::Runtime,
    client: &Client,
    id: &str,
    namespaces: &[String],
) -> Result<(Client, api::Container), SourceError> {
    let mut prefixed = Vec::new();
    for ns in namespaces {
        let client = client.in_namespace(ns);
        match runtime.block_on(client.container(id)) {
            Ok(c) => return Ok((client, c)),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(status_err(format!("container `{id}` in `{ns}`"), e)),
        }
        let all = runtime
            .block_on(client.containers())
            .map_err(|e| status_err(format!("containers in `{ns}`"), e))?;
        prefixed.extend(
            all.into_iter()
                .filter(|c| c.id.starts_with(id))
                .map(|c| (client.clone(), c)),
        );
    }
    match prefixed.len() {
        1 => Ok(prefixed.remove(0)),
        0 => Err(SourceError::InvalidTarget(format!(
            "no container `{id}` in containerd (namespaces: {})",
            namespaces.join(", ")
        ))),
        n => Err(SourceError::InvalidTarget(format!(
            "`{id}` is the start of {n} containers' ids; give more of it"
        ))),
    }
}

impl ContainerdContainer {
    /// Reads a container (`ID` or `ID@NAMESPACE`, an id prefix works when unique).
    pub fn open(target: &str, options: &ContainerdOptions) -> Result<Self, SourceError> {
        let (id, ns) = split_namespace(target);
        let runtime = io_runtime()?;
        let client = connect(&runtime, options)?;
        let (client, container) = find_container(&runtime, &client, id, &options.namespaces(ns))?;
        let id = container.id.clone();
        let mut warnings = Vec::new();
        let spec = match &container.spec {
            Some(any) => RuntimeSpec::from_slice(&any.value).unwrap_or_else(|e| {
                warnings.push(format!("the container's runtime spec does not parse: {e}"));
                RuntimeSpec::default()
            }),
            None => {
                warnings.push("the container has no runtime spec".into());
                RuntimeSpec::default()
            }
        };
        let task = runtime
            .block_on(client.task(&id))
            .map_err(|e| status_err(format!("task of `{id}`"), e))?;
        let state = task
            .as_ref()
            .map(|t| t.status_name())
            .unwrap_or("created")
            .to_string();
        let processes = match &task {
            Some(t) if t.status == 2 || t.status == 4 => match runtime.block_on(client.pids(&id)) {
                Ok(pids) => host_processes(&pids),
                Err(e) => {
                    warnings.push(format!("container processes unavailable: {}", e.message()));
                    Vec::new()
                }
            },
            _ => Vec::new(),
        };
        // The image may have been removed since the container was made.
        let image = match runtime.block_on(client.image(&container.image)) {
            Ok(image) => match resolve_image(&runtime, &client, &image, None) {
                Ok(resolved) => Some(resolved),
                Err(e) => {
                    warnings.push(format!("image `{}` unreadable: {e}", container.image));
                    None
                }
            },
            Err(e) => {
                warnings.push(format!(
                    "image `{}` unavailable (history not checked): {}",
                    container.image,
                    e.message()
                ));
                None
            }
        };
        let mounts = runtime
            .block_on(client.mounts(&container.snapshotter, &container.snapshot_key))
            .map_err(|e| status_err(format!("snapshot of `{id}`"), e))?;
        let dirs = snapshot_dirs(&mounts)
            .map_err(|e| SourceError::Containerd(format!("container `{id}`: {e}")))?;
        let layers = snapshot_layers(&dirs, image.as_ref());
        let image_id = image
            .as_ref()
            .map(|i| i.config_digest.clone())
            .unwrap_or_default();
        let facts = ContainerRuntime {
            id: id.clone(),
            name: container
                .labels
                .get("io.kubernetes.container.name")
                .cloned()
                .unwrap_or_else(|| id.clone()),
            image: container.image.clone(),
            image_id: image_id.clone(),
            state,
            processes,
            ..spec.runtime(&HostFacts::read())
        };
        let process = spec.process.as_ref();
        let image_config = image.as_ref().map(|i| &i.config);
        let config = ImageConfig {
            architecture: image_config
                .map(|c| c.architecture.clone())
                .unwrap_or_default(),
            os: image_config.map(|c| c.os.clone()).unwrap_or_default(),
            variant: None,
            created: None,
            config: RuntimeConfig {
                user: facts.user.clone(),
                env: process.map(|p| p.env.clone()).unwrap_or_default(),
                cmd: process.map(|p| p.args.clone()).unwrap_or_default(),
                working_dir: process.map(|p| p.cwd.clone()).unwrap_or_default(),
                labels: container.labels.clone().into_iter().collect(),
                ..image_config.map(|c| c.config.clone()).unwrap_or_default()
            },
            rootfs: Default::default(),
            history: image_config.map(|c| c.history.clone()).unwrap_or_default(),
        };
        Ok(ContainerdContainer {
            metadata: ImageMetadata {
                name: facts.name.clone(),
                kind: TargetKind::Container,
                image_id: Some(image_id).filter(|i| !i.is_empty()),
                repo_tags: vec![container.image.clone()],
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

/// One layer per snapshot directory. When the lower directories match the image's layers
/// one for one, they carry the image's diff_ids, so an image scanned before is not walked
/// again; the upper directory (the container's own changes) never has one.
fn snapshot_layers(dirs: &[PathBuf], image: Option<&ResolvedImage>) -> Vec<LayerInfo> {
    let image_layers = image.map(|i| i.layers.as_slice()).unwrap_or_default();
    let lowers_match = dirs.len() == image_layers.len() + 1;
    dirs.iter()
        .enumerate()
        .map(
            |(i, dir)| match image_layers.get(i).filter(|_| lowers_match) {
                Some(layer) => LayerInfo {
                    diff_id: layer.diff_id.clone(),
                    created_by: layer.created_by.clone(),
                    ..LayerInfo::default()
                },
                None => LayerInfo {
                    created_by: Some(format!("snapshot {}", dir.display())),
                    ..LayerInfo::default()
                },
            },
        )
        .collect()
}

impl Source for ContainerdContainer {
    fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }

    fn stream_layers(&self, indexes: &[usize], visit: &LayerVisitor<'_>) -> Vec<LayerOpenError> {
        crate::rootfs::stream_dirs(&self.dirs, indexes, visit, |dir, e| {
            SourceError::Containerd(format!(
                "snapshot directory `{}` is not readable here ({e}); scan containerd's containers on their host, as root",
                dir.display()
            ))
        })
    }
}

/// Every container of the namespaces asked for (or the usual ones), as `ID@NAMESPACE`.
pub fn list_containers(options: &ContainerdOptions) -> Result<Vec<ContainerRef>, SourceError> {
    let runtime = io_runtime()?;
    let client = connect(&runtime, options)?;
    let mut out = Vec::new();
    for ns in options.namespaces(None) {
        let list = runtime
            .block_on(client.in_namespace(&ns).containers())
            .map_err(|e| status_err(format!("containers in `{ns}`"), e))?;
        out.extend(list.into_iter().map(|c| {
            ContainerRef {
                id: format!("{}@{ns}", c.id),
                name: c
                    .labels
                    .get("io.kubernetes.container.name")
                    .cloned()
                    .unwrap_or(c.id),
            }
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_split_from_names() {
        assert_eq!(
            split_namespace("debian:12@k8s.io"),
            ("debian:12", Some("k8s.io"))
        );
        assert_eq!(split_namespace("debian:12"), ("debian:12", None));
        assert_eq!(
            split_namespace("debian@sha256:abcd"),
            ("debian@sha256:abcd", None)
        );
        assert_eq!(
            split_namespace("debian@sha256:abcd@moby"),
            ("debian@sha256:abcd", Some("moby"))
        );
        assert_eq!(split_namespace("@moby"), ("@moby", None));
    }

    #[test]
    fn names_are_qualified_like_docker() {
        assert_eq!(
            candidate_names("debian:12"),
            ["debian:12", "docker.io/library/debian:12"]
        );
        assert_eq!(
            candidate_names("team/app"),
            ["team/app", "docker.io/team/app:latest"]
        );
        assert_eq!(
            candidate_names("registry.local:5000/app"),
            ["registry.local:5000/app", "registry.local:5000/app:latest"]
        );
        assert_eq!(
            candidate_names("docker.io/library/debian:12"),
            ["docker.io/library/debian:12"]
        );
    }

    fn mount(kind: &str, source: &str, options: &[&str]) -> api::Mount {
        api::Mount {
            kind: kind.into(),
            source: source.into(),
            target: String::new(),
            options: options.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn snapshot_directories_bottom_first() {
        let overlay = mount(
            "overlay",
            "overlay",
            &[
                "index=off",
                "workdir=/s/3/work",
                "upperdir=/s/3/fs",
                "lowerdir=/s/2/fs:/s/1/fs",
            ],
        );
        assert_eq!(
            snapshot_dirs(&[overlay]).unwrap(),
            ["/s/1/fs", "/s/2/fs", "/s/3/fs"].map(PathBuf::from)
        );
        let native = mount("bind", "/n/7", &["rbind", "rw"]);
        assert_eq!(snapshot_dirs(&[native]).unwrap(), [PathBuf::from("/n/7")]);
        assert!(snapshot_dirs(&[]).is_err());
        assert!(snapshot_dirs(&[mount("zfs", "pool/x", &[])]).is_err());
    }
}
