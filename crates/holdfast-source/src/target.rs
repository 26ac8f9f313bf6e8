//! Turning what the user typed into a [`Source`].
//!
//! Explicit prefixes (`docker-archive:`, `oci:`, `oci-archive:`, `docker:`, `containerd:`,
//! `podman:`, `registry:`) say where to look. A bare argument is tried in the order the CLI
//! contract gives: an existing file (docker or OCI archive, told apart by their members), an
//! existing directory (an OCI layout), then an image in the Docker daemon, in containerd
//! and in Podman (the first whose socket exists and holds it, said in the log), then a
//! registry reference whose first component is a host (`host[:port]/repo[:tag|@digest]`).

use std::path::{Path, PathBuf};

use crate::archive_index::BlobStore;
use crate::compression::DecompressLimits;
use crate::container::ContainerSource;
use crate::containerd::{ContainerdContainer, ContainerdImage, ContainerdOptions};
use crate::daemon::{DaemonSource, EngineSocket};
use crate::podman::PodmanOptions;
use crate::registry::looks_like_registry_reference;
use crate::rootfs::RootfsSource;
use crate::{
    docker_archive, oci, ContainerRef, Platform, RegistryOptions, RegistrySource, Source,
    SourceError,
};

/// A target as parsed from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    DockerArchive(PathBuf),
    OciLayout {
        dir: PathBuf,
        tag: Option<String>,
    },
    OciArchive {
        file: PathBuf,
        tag: Option<String>,
    },
    Daemon(String),
    /// An image in containerd, `NAME[@NAMESPACE]`.
    Containerd(String),
    /// An image in Podman (its service, else its storage).
    Podman(String),
    Registry(String),
    Rootfs(PathBuf),
    /// A container, by id, id prefix or name, in the engine that runs it.
    Container {
        id: String,
        engine: ContainerEngine,
    },
    /// No prefix: resolved when opened.
    Bare(String),
}

impl TargetSpec {
    /// Parses an image target argument.
    pub fn parse_image(arg: &str) -> Result<Self, SourceError> {
        if arg.is_empty() {
            return Err(SourceError::InvalidTarget("the target is empty".into()));
        }
        if let Some(p) = arg.strip_prefix("docker-archive:") {
            return Ok(TargetSpec::DockerArchive(p.into()));
        }
        if let Some(rest) = arg.strip_prefix("oci:") {
            let (dir, tag) = split_tag(rest, |p| p.is_dir());
            return Ok(TargetSpec::OciLayout { dir, tag });
        }
        if let Some(rest) = arg.strip_prefix("oci-archive:") {
            let (file, tag) = split_tag(rest, |p| p.is_file());
            return Ok(TargetSpec::OciArchive { file, tag });
        }
        if let Some(n) = arg.strip_prefix("docker:") {
            return Ok(TargetSpec::Daemon(n.to_string()));
        }
        if let Some(n) = arg.strip_prefix("containerd:") {
            return Ok(TargetSpec::Containerd(n.to_string()));
        }
        if let Some(n) = arg.strip_prefix("podman:") {
            return Ok(TargetSpec::Podman(n.to_string()));
        }
        if let Some(r) = arg.strip_prefix("registry:") {
            return Ok(TargetSpec::Registry(r.to_string()));
        }
        Ok(TargetSpec::Bare(arg.to_string()))
    }
}

/// Splits `PATH:TAG` when `PATH` alone exists and `PATH:TAG` does not.
fn split_tag(rest: &str, exists: impl Fn(&Path) -> bool) -> (PathBuf, Option<String>) {
    if !exists(Path::new(rest)) {
        if let Some((p, t)) = rest.rsplit_once(':') {
            if exists(Path::new(p)) && !t.contains('/') {
                return (p.into(), Some(t.to_string()));
            }
        }
    }
    (rest.into(), None)
}

/// How to open a target.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// The platform to pick from a multi-platform index (default: the host's).
    pub platform: Option<Platform>,
    pub limits: DecompressLimits,
    /// How to reach registries (`registry:REF` and bare references).
    pub registry: RegistryOptions,
    /// Where containerd listens, and in which namespace to look.
    pub containerd: ContainerdOptions,
    /// Where Podman's service and storage are.
    pub podman: PodmanOptions,
}

/// The engine that runs a container (`scan container --runtime`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ContainerEngine {
    #[default]
    Docker,
    Containerd,
    Podman,
}

impl ContainerEngine {
    /// The engine's name as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            ContainerEngine::Docker => "docker",
            ContainerEngine::Containerd => "containerd",
            ContainerEngine::Podman => "podman",
        }
    }
}

/// Opens one container of `engine`.
pub fn open_container(
    engine: ContainerEngine,
    id: &str,
    options: &OpenOptions,
) -> Result<Box<dyn Source>, SourceError> {
    Ok(match engine {
        ContainerEngine::Docker => Box::new(ContainerSource::open(
            &EngineSocket::Docker,
            id,
            options.limits,
        )?),
        ContainerEngine::Containerd => {
            Box::new(ContainerdContainer::open(id, &options.containerd)?)
        }
        ContainerEngine::Podman => {
            crate::podman::open_container(id, &options.podman, options.limits)?
        }
    })
}

/// Every container of `engine`, running or not.
pub fn list_containers(
    engine: ContainerEngine,
    options: &OpenOptions,
) -> Result<Vec<ContainerRef>, SourceError> {
    match engine {
        ContainerEngine::Docker => crate::container::list_containers(&EngineSocket::Docker),
        ContainerEngine::Containerd => crate::containerd::list_containers(&options.containerd),
        ContainerEngine::Podman => crate::podman::list_containers(&options.podman),
    }
}

/// Opens a target, the way `holdfast scan image|rootfs` and `holdfast sbom` need it.
pub fn open_target(
    spec: &TargetSpec,
    name: &str,
    options: &OpenOptions,
) -> Result<Box<dyn Source>, SourceError> {
    let platform = options.platform.as_ref();
    let limits = options.limits;
    Ok(match spec {
        TargetSpec::DockerArchive(p) => {
            Box::new(docker_archive::open(&require_file(p)?, name, limits)?)
        }
        TargetSpec::OciLayout { dir, tag } => Box::new(oci::open_layout(
            dir,
            tag.as_deref(),
            platform,
            name,
            limits,
        )?),
        TargetSpec::OciArchive { file, tag } => Box::new(oci::open_archive(
            &require_file(file)?,
            tag.as_deref(),
            platform,
            name,
            limits,
        )?),
        TargetSpec::Daemon(image) => Box::new(DaemonSource::open(
            &EngineSocket::Docker,
            image,
            name,
            limits,
        )?),
        TargetSpec::Containerd(image) => Box::new(ContainerdImage::open(
            image,
            name,
            platform,
            &options.containerd,
            limits,
        )?),
        TargetSpec::Podman(image) => {
            crate::podman::open_image(image, name, &options.podman, limits)?
        }
        TargetSpec::Registry(r) => Box::new(RegistrySource::open(
            r,
            name,
            platform,
            &options.registry,
            limits,
        )?),
        TargetSpec::Rootfs(dir) => Box::new(RootfsSource::open(dir, name)?),
        TargetSpec::Container { id, engine } => open_container(*engine, id, options)?,
        TargetSpec::Bare(arg) => {
            let path = Path::new(arg);
            if path.is_file() {
                let store = BlobStore::index_tar(path)?;
                Box::new(oci::open_indexed_archive(
                    store, None, platform, name, limits,
                )?)
            } else if path.is_dir() {
                if path.join("index.json").is_file() {
                    Box::new(oci::open_layout(path, None, platform, name, limits)?)
                } else {
                    return Err(SourceError::InvalidTarget(format!(
                        "`{arg}` is a directory but not an OCI image layout; to scan a root filesystem use `holdfast scan rootfs {arg}`"
                    )));
                }
            } else if DaemonSource::has_image(&EngineSocket::Docker, arg) {
                Box::new(DaemonSource::open(
                    &EngineSocket::Docker,
                    arg,
                    name,
                    limits,
                )?)
            } else if let Some(found) =
                ContainerdImage::open_if_present(arg, name, platform, &options.containerd, limits)
            {
                tracing::info!(target: "holdfast::source", "`{arg}`: found in containerd at {}", options.containerd.address.display());
                Box::new(found?)
            } else if crate::podman::has_image(arg, &options.podman) {
                tracing::info!(target: "holdfast::source", "`{arg}`: found in Podman");
                crate::podman::open_image(arg, name, &options.podman, limits)?
            } else if looks_like_registry_reference(arg) {
                Box::new(RegistrySource::open(
                    arg,
                    name,
                    platform,
                    &options.registry,
                    limits,
                )?)
            } else {
                return Err(SourceError::InvalidTarget(format!(
                    "`{arg}` is not a file, a directory, an image in Docker, containerd or Podman, or a registry reference (host[:port]/repo[:tag])"
                )));
            }
        }
    })
}

fn require_file(p: &Path) -> Result<PathBuf, SourceError> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_file() => Ok(p.to_path_buf()),
        Ok(_) => Err(SourceError::InvalidTarget(format!(
            "`{}` is not a file",
            p.display()
        ))),
        Err(e) => Err(SourceError::io(p, e)),
    }
}
