//! Turning what the user typed into a [`Source`].
//!
//! Explicit prefixes (`docker-archive:`, `oci:`, `oci-archive:`, `docker:`, `registry:`)
//! say where to look. A bare argument is tried in the order the CLI contract gives: an
//! existing file (docker or OCI archive, told apart by their members), an existing
//! directory (an OCI layout), then an image in the Docker daemon, then a registry reference
//! whose first component is a host (`host[:port]/repo[:tag|@digest]`).

use std::path::{Path, PathBuf};

use crate::archive_index::BlobStore;
use crate::compression::DecompressLimits;
use crate::container::ContainerSource;
use crate::daemon::DaemonSource;
use crate::registry::looks_like_registry_reference;
use crate::rootfs::RootfsSource;
use crate::{docker_archive, oci, Platform, RegistryOptions, RegistrySource, Source, SourceError};

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
    Registry(String),
    Rootfs(PathBuf),
    /// A container in the Docker daemon, by id, id prefix or name.
    Container(String),
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
        TargetSpec::Daemon(image) => Box::new(DaemonSource::open(image, name, limits)?),
        TargetSpec::Registry(r) => Box::new(RegistrySource::open(
            r,
            name,
            platform,
            &options.registry,
            limits,
        )?),
        TargetSpec::Rootfs(dir) => Box::new(RootfsSource::open(dir, name)?),
        TargetSpec::Container(id) => Box::new(ContainerSource::open(id, limits)?),
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
            } else if DaemonSource::has_image(arg) {
                Box::new(DaemonSource::open(arg, name, limits)?)
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
                    "`{arg}` is not a file, a directory, an image in the Docker daemon, or a registry reference (host[:port]/repo[:tag])"
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
