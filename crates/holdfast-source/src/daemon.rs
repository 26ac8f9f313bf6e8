//! Images in a local Docker daemon (`docker:NAME`), through the Engine API with bollard.
//!
//! Metadata comes from `inspect` and `history` before any layer is read, so a fully cached
//! image never has to be exported. Layers come from one `export` stream (what `docker save`
//! writes) read once, in stream order: layer blobs named by their diff_id are placed
//! directly; older daemons name them by a v1 id, and the visitor places them by hashing.

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver};

use bollard::models::HistoryResponseItem;
use bollard::Docker;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::compression::{DecompressLimits, LayerReader};
use crate::path::normalize;
use crate::{
    ImageConfig, ImageMetadata, LayerInfo, LayerOpenError, LayerStream, LayerVisit, LayerVisitor,
    Source, SourceError, TargetKind,
};
use holdfast_model::{HistoryEntry, RootFs, RuntimeConfig};

/// An image held by a Docker daemon.
pub struct DaemonSource {
    metadata: ImageMetadata,
    docker: Docker,
    runtime: tokio::runtime::Runtime,
    image: String,
    limits: DecompressLimits,
}

fn daemon_err(e: impl std::fmt::Display) -> SourceError {
    SourceError::Daemon(e.to_string())
}

/// The runtime the Engine API calls run on. One worker thread drives the I/O, so an export
/// stream can be consumed from another thread (a current-thread runtime only runs inside
/// its own `block_on`).
pub(crate) fn io_runtime() -> Result<tokio::runtime::Runtime, SourceError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| SourceError::Daemon(format!("cannot start the I/O runtime: {e}")))
}

/// Which Docker Engine API to talk to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum EngineSocket {
    /// Docker's: `DOCKER_HOST`, or the default socket.
    #[default]
    Docker,
    /// A Docker-compatible API on this unix socket (Podman's service).
    Podman(std::path::PathBuf),
}

impl EngineSocket {
    /// An error of this engine, named as users know it.
    pub(crate) fn error(&self, message: String) -> SourceError {
        match self {
            EngineSocket::Docker => SourceError::Daemon(message),
            EngineSocket::Podman(_) => SourceError::Podman(message),
        }
    }
}

/// Connects to the engine and agrees on an API version.
pub(crate) fn connect(
    runtime: &tokio::runtime::Runtime,
    socket: &EngineSocket,
) -> Result<Docker, SourceError> {
    let docker = match socket {
        EngineSocket::Docker => {
            // Under a host root without DOCKER_HOST, the host's own socket when it is
            // not mounted at the usual place.
            let socket = crate::host::default_socket(std::path::Path::new("/var/run/docker.sock"));
            let connected = if std::env::var_os("DOCKER_HOST").is_none()
                && socket != std::path::Path::new("/var/run/docker.sock")
            {
                Docker::connect_with_unix(
                    &socket.to_string_lossy(),
                    120,
                    bollard::API_DEFAULT_VERSION,
                )
            } else {
                Docker::connect_with_local_defaults()
            };
            connected.map_err(|e| {
                SourceError::Daemon(format!(
                    "cannot connect (is dockerd running? DOCKER_HOST?): {e}"
                ))
            })?
        }
        EngineSocket::Podman(path) => {
            Docker::connect_with_unix(&path.to_string_lossy(), 120, bollard::API_DEFAULT_VERSION)
                .map_err(|e| {
                    SourceError::Podman(format!("cannot connect to `{}`: {e}", path.display()))
                })?
        }
    };
    runtime
        .block_on(docker.negotiate_version())
        .map_err(|e| match socket {
            EngineSocket::Docker => SourceError::Daemon(format!("cannot reach the daemon: {e}")),
            EngineSocket::Podman(path) => SourceError::Podman(format!(
                "cannot reach the service at `{}` (is `podman system service` running?): {e}",
                path.display()
            )),
        })
}

impl DaemonSource {
    /// Looks the image up in the engine behind `socket`.
    pub fn open(
        socket: &EngineSocket,
        image: &str,
        name: &str,
        limits: DecompressLimits,
    ) -> Result<Self, SourceError> {
        let runtime = io_runtime()?;
        let docker = connect(&runtime, socket)?;
        let inspect = runtime
            .block_on(docker.inspect_image(image))
            .map_err(|e| socket.error(format!("image `{image}`: {e}")))?;
        let history = runtime
            .block_on(docker.image_history(image))
            .unwrap_or_default();
        let diff_ids: Vec<String> = inspect
            .root_fs
            .as_ref()
            .and_then(|r| r.layers.clone())
            .unwrap_or_default();
        let history = history_entries(&history);
        let cfg = inspect.config.clone().unwrap_or_default();
        let config = ImageConfig {
            architecture: inspect.architecture.clone().unwrap_or_default(),
            os: inspect.os.clone().unwrap_or_default(),
            variant: inspect.variant.clone(),
            created: inspect.created.clone(),
            config: RuntimeConfig {
                user: cfg.user.unwrap_or_default(),
                env: cfg.env.unwrap_or_default(),
                entrypoint: cfg.entrypoint.unwrap_or_default(),
                cmd: cfg.cmd.unwrap_or_default(),
                working_dir: cfg.working_dir.unwrap_or_default(),
                labels: cfg.labels.unwrap_or_default().into_iter().collect(),
                exposed_ports: cfg
                    .exposed_ports
                    .unwrap_or_default()
                    .into_keys()
                    .map(|k| (k, serde_json::json!({})))
                    .collect(),
                healthcheck: cfg.healthcheck.and_then(|h| serde_json::to_value(h).ok()),
            },
            rootfs: RootFs {
                fs_type: "layers".into(),
                diff_ids: diff_ids.clone(),
            },
            history,
        };
        let commands = config.layer_commands(diff_ids.len());
        let layers = diff_ids
            .iter()
            .zip(commands)
            .map(|(d, c)| LayerInfo {
                diff_id: Some(d.clone()),
                digest: None,
                size: None,
                media_type: None,
                created_by: c,
            })
            .collect();
        Ok(DaemonSource {
            metadata: ImageMetadata {
                name: name.to_string(),
                kind: TargetKind::Image,
                image_id: inspect.id.clone(),
                repo_tags: inspect.repo_tags.clone().unwrap_or_default(),
                repo_digests: inspect.repo_digests.clone().unwrap_or_default(),
                config,
                layers,
                warnings: Vec::new(),
                container: None,
            },
            docker,
            runtime,
            image: image.to_string(),
            limits,
        })
    }

    /// Whether the engine is reachable and holds `image`; used to resolve bare names.
    pub fn has_image(socket: &EngineSocket, image: &str) -> bool {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return false;
        };
        let Ok(docker) = connect(&runtime, socket) else {
            return false;
        };
        runtime.block_on(docker.inspect_image(image)).is_ok()
    }
}

/// The daemon's history (newest first) as config history entries (oldest first).
pub(crate) fn history_entries(items: &[HistoryResponseItem]) -> Vec<HistoryEntry> {
    items
        .iter()
        .rev()
        .map(|h| HistoryEntry {
            created: None,
            created_by: Some(h.created_by.clone()).filter(|s| !s.is_empty()),
            comment: Some(h.comment.clone()).filter(|s| !s.is_empty()),
            empty_layer: h.size == 0 && h.created_by.contains("#(nop)"),
        })
        .collect()
}

/// Runs `read` over an export stream as a blocking reader. The stream is opened and
/// pumped on `runtime` from a scoped thread, through a small bounded channel; once `read`
/// returns (and drops the reader), the pump stops at its next chunk.
pub(crate) fn read_export<S, E, T>(
    runtime: &tokio::runtime::Runtime,
    open: impl FnOnce() -> S + Send,
    read: impl FnOnce(ChannelReader) -> T,
) -> T
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (tx, rx) = sync_channel::<io::Result<Bytes>>(16);
    let handle = runtime.handle();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            handle.block_on(async move {
                let mut stream = open();
                while let Some(item) = stream.next().await {
                    let msg = item.map_err(io::Error::other);
                    let failed = msg.is_err();
                    if tx.send(msg).is_err() || failed {
                        break;
                    }
                }
            });
        });
        read(ChannelReader {
            rx,
            current: Bytes::new(),
        })
    })
}

/// A blocking reader over chunks sent from an async export stream.
pub(crate) struct ChannelReader {
    rx: Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => self.current = chunk,
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// `/HEX.tar` for a 64-digit hex name: how Podman's export names a layer.
fn top_level_tar(name: &str) -> Option<&str> {
    let hex = name.strip_prefix('/')?.strip_suffix(".tar")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

impl Source for DaemonSource {
    fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }

    fn stream_layers(&self, indexes: &[usize], visit: &LayerVisitor<'_>) -> Vec<LayerOpenError> {
        if indexes.is_empty() {
            return Vec::new();
        }
        let export = || self.docker.export_image(&self.image);
        read_export(&self.runtime, export, |reader| {
            self.walk_export(reader, indexes, visit)
                .err()
                .map(|error| LayerOpenError { index: None, error })
                .into_iter()
                .collect()
        })
    }
}

impl DaemonSource {
    fn walk_export(
        &self,
        reader: ChannelReader,
        indexes: &[usize],
        visit: &LayerVisitor<'_>,
    ) -> Result<(), SourceError> {
        let diff_ids = &self.metadata.config.rootfs.diff_ids;
        let mut archive = tar::Archive::new(reader);
        let entries = archive.entries().map_err(daemon_err)?;
        for entry in entries {
            let entry = entry.map_err(|e| daemon_err(format!("export stream: {e}")))?;
            if entry.header().entry_type() != tar::EntryType::Regular {
                continue;
            }
            let Some(name) = normalize(&entry.path_bytes()) else {
                continue;
            };
            let index = if name.ends_with("/layer.tar") {
                None
            } else if let Some(hex) = top_level_tar(&name) {
                // Podman names each layer by its diff_id at the top of the archive.
                match diff_ids
                    .iter()
                    .position(|d| d.strip_prefix("sha256:") == Some(hex))
                {
                    Some(i) => Some(i),
                    None => continue,
                }
            } else if let Some(hex) = name.strip_prefix("/blobs/sha256/") {
                match diff_ids
                    .iter()
                    .position(|d| d.strip_prefix("sha256:") == Some(hex))
                {
                    Some(i) => Some(i),
                    // Compressed blobs (containerd store) or configs: only layers are tars;
                    // a config or manifest is small JSON and is skipped.
                    None if entry.size() < 1 << 20 => continue,
                    None => None,
                }
            } else {
                continue;
            };
            if let Some(i) = index {
                if !indexes.contains(&i) {
                    continue;
                }
            }
            let mut layer = LayerReader::new(entry, self.limits).map_err(daemon_err)?;
            visit(LayerVisit {
                index,
                stream: LayerStream::Tar(&mut layer),
            });
            // Whatever the visitor left unread is skipped by the tar reader.
        }
        Ok(())
    }
}
