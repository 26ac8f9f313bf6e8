//! Containers in a local Docker daemon (`scan container ID|NAME`), through the Engine API.
//!
//! `inspect` gives the runtime configuration (privileges, capabilities, mounts, namespaces,
//! security options) and the daemon's `info` its kernel and defaults; both go on
//! [`ImageMetadata::container`] as a [`ContainerRuntime`] for the escape checker. `top` lists
//! the processes of a running container (a created or stopped one has none). The
//! filesystem is the container's `export` stream, read once as one layer: it is the
//! flattened result of the image and the container's own changes, so it has no diff_id and
//! is never cached. The image's history, when the daemon still has the image, is kept so
//! the history checks apply as well.

use bollard::query_parameters::{ListContainersOptionsBuilder, TopOptionsBuilder};
use bollard::Docker;
use holdfast_model::{ContainerMount, ContainerProcess, ContainerRuntime, RuntimeConfig};

use crate::compression::{DecompressLimits, LayerReader};
use crate::daemon::{connect, history_entries, io_runtime, read_export, EngineSocket};
use crate::runtime_spec::{clip_command, MAX_PROCESSES};
use crate::{
    ImageConfig, ImageMetadata, LayerInfo, LayerOpenError, LayerStream, LayerVisit, LayerVisitor,
    Source, SourceError, TargetKind,
};

/// A container's filesystem and runtime facts.
pub struct ContainerSource {
    metadata: ImageMetadata,
    docker: Docker,
    runtime: tokio::runtime::Runtime,
    id: String,
    limits: DecompressLimits,
}

/// A container the daemon lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRef {
    pub id: String,
    pub name: String,
}

/// Every container of the engine, running or not, oldest first.
pub fn list_containers(socket: &EngineSocket) -> Result<Vec<ContainerRef>, SourceError> {
    let runtime = io_runtime()?;
    let docker = connect(&runtime, socket)?;
    let options = ListContainersOptionsBuilder::new().all(true).build();
    let mut list = runtime
        .block_on(docker.list_containers(Some(options)))
        .map_err(|e| socket.error(format!("cannot list containers: {e}")))?;
    list.sort_by_key(|c| c.created.unwrap_or_default());
    Ok(list
        .into_iter()
        .filter_map(|c| {
            let id = c.id?;
            let name = c
                .names
                .and_then(|n| n.into_iter().next())
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or_else(|| id.chars().take(12).collect());
            Some(ContainerRef { id, name })
        })
        .collect())
}

impl ContainerSource {
    /// Inspects a container (by id, id prefix or name) and the engine behind `socket`.
    pub fn open(
        socket: &EngineSocket,
        container: &str,
        limits: DecompressLimits,
    ) -> Result<Self, SourceError> {
        let runtime = io_runtime()?;
        let docker = connect(&runtime, socket)?;
        let inspect = runtime
            .block_on(docker.inspect_container(
                container,
                None::<bollard::query_parameters::InspectContainerOptions>,
            ))
            .map_err(|e| socket.error(format!("container `{container}`: {e}")))?;
        let mut warnings = Vec::new();
        let info = match runtime.block_on(docker.info()) {
            Ok(i) => Some(i),
            Err(e) => {
                warnings.push(format!("daemon info unavailable (kernel not checked): {e}"));
                None
            }
        };
        let id = inspect.id.clone().unwrap_or_else(|| container.to_string());
        let host = inspect.host_config.clone().unwrap_or_default();
        let cfg = inspect.config.clone().unwrap_or_default();
        let state = inspect
            .state
            .as_ref()
            .and_then(|s| s.status)
            .map(|s| s.to_string())
            .unwrap_or_default();
        let running = inspect
            .state
            .as_ref()
            .and_then(|s| s.running)
            .unwrap_or(false);
        let processes = if running && matches!(socket, EngineSocket::Podman(_)) {
            // Podman's `top` runs `ps` inside the container, which images rarely hold;
            // its socket is local, so the host's /proc answers instead.
            crate::podman::running_processes(&id)
        } else if running {
            match runtime.block_on(
                docker.top_processes(&id, Some(TopOptionsBuilder::new().ps_args("-ef").build())),
            ) {
                Ok(top) => processes_from_top(top.titles, top.processes),
                Err(e) => {
                    warnings.push(format!("container processes unavailable: {e}"));
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        let security_opt = host.security_opt.clone().unwrap_or_default();
        let image_id = inspect.image.clone().unwrap_or_default();
        let runtime_facts = ContainerRuntime {
            id: id.clone(),
            name: inspect
                .name
                .clone()
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string(),
            image: cfg.image.clone().unwrap_or_default(),
            image_id: image_id.clone(),
            state,
            privileged: host.privileged.unwrap_or(false),
            cap_add: host.cap_add.clone().unwrap_or_default(),
            cap_drop: host.cap_drop.clone().unwrap_or_default(),
            mounts: mounts(&inspect),
            devices: host
                .devices
                .clone()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|d| d.path_on_host)
                .collect(),
            pid_mode: host.pid_mode.clone().unwrap_or_default(),
            network_mode: host.network_mode.clone().unwrap_or_default(),
            ipc_mode: host.ipc_mode.clone().unwrap_or_default(),
            uts_mode: host.uts_mode.clone().unwrap_or_default(),
            userns_mode: host.userns_mode.clone().unwrap_or_default(),
            cgroupns_mode: host
                .cgroupns_mode
                .map(|m| m.to_string())
                .unwrap_or_default(),
            no_new_privileges: security_opt.iter().any(|o| is_no_new_privileges(o)),
            security_opt,
            apparmor_profile: inspect.app_armor_profile.clone().unwrap_or_default(),
            user: cfg.user.clone().unwrap_or_default(),
            readonly_rootfs: host.readonly_rootfs.unwrap_or(false),
            daemon_security_options: info
                .as_ref()
                .and_then(|i| i.security_options.clone())
                .unwrap_or_default(),
            kernel_version: info.as_ref().and_then(|i| i.kernel_version.clone()),
            cgroup_version: info
                .as_ref()
                .and_then(|i| i.cgroup_version)
                .map(|v| v.to_string())
                .filter(|v| !v.is_empty()),
            processes,
        };
        // The image's history, for the history checks; the image may be gone.
        let history = runtime
            .block_on(docker.image_history(&image_id))
            .map(|h| history_entries(&h))
            .unwrap_or_default();
        let config = ImageConfig {
            architecture: String::new(),
            os: String::new(),
            variant: None,
            created: inspect.created.as_ref().map(|c| c.to_string()),
            config: RuntimeConfig {
                user: cfg.user.unwrap_or_default(),
                env: cfg.env.unwrap_or_default(),
                entrypoint: cfg.entrypoint.unwrap_or_default(),
                cmd: cfg.cmd.unwrap_or_default(),
                working_dir: cfg.working_dir.unwrap_or_default(),
                labels: cfg.labels.unwrap_or_default().into_iter().collect(),
                exposed_ports: Default::default(),
                healthcheck: cfg.healthcheck.and_then(|h| serde_json::to_value(h).ok()),
            },
            rootfs: Default::default(),
            history,
        };
        let name = if runtime_facts.name.is_empty() {
            id.clone()
        } else {
            runtime_facts.name.clone()
        };
        Ok(ContainerSource {
            metadata: ImageMetadata {
                name,
                kind: TargetKind::Container,
                image_id: Some(image_id).filter(|i| !i.is_empty()),
                repo_tags: Vec::new(),
                repo_digests: Vec::new(),
                config,
                layers: vec![LayerInfo {
                    created_by: Some(format!("container {id} (exported filesystem)")),
                    ..LayerInfo::default()
                }],
                warnings,
                container: Some(runtime_facts),
            },
            docker,
            runtime,
            id,
            limits,
        })
    }
}

/// `no-new-privileges`, `no-new-privileges=true` or `no-new-privileges:true`.
fn is_no_new_privileges(opt: &str) -> bool {
    let opt = opt.trim();
    match opt.strip_prefix("no-new-privileges") {
        Some("") => true,
        Some(rest) => matches!(
            rest.trim_start_matches([':', '='])
                .to_ascii_lowercase()
                .as_str(),
            "true" | "1" | ""
        ),
        None => false,
    }
}

/// The mounts `inspect` lists; `HostConfig.Binds` when it lists none.
fn mounts(inspect: &bollard::models::ContainerInspectResponse) -> Vec<ContainerMount> {
    let listed: Vec<ContainerMount> = inspect
        .mounts
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|m| ContainerMount {
            kind: m.typ.map(|t| t.to_string()).unwrap_or_default(),
            source: m.source.unwrap_or_default(),
            destination: m.destination.unwrap_or_default(),
            read_write: m.rw.unwrap_or(true),
        })
        .collect();
    if !listed.is_empty() {
        return listed;
    }
    let binds = inspect
        .host_config
        .as_ref()
        .and_then(|h| h.binds.clone())
        .unwrap_or_default();
    binds.iter().filter_map(|b| parse_bind(b)).collect()
}

/// `SRC:DEST[:OPTIONS]`; a source that is not an absolute path names a volume.
fn parse_bind(bind: &str) -> Option<ContainerMount> {
    let mut parts = bind.splitn(3, ':');
    let source = parts.next()?.to_string();
    let destination = parts.next()?.to_string();
    let options = parts.next().unwrap_or_default();
    Some(ContainerMount {
        kind: if source.starts_with('/') {
            "bind".into()
        } else {
            "volume".into()
        },
        source,
        destination,
        read_write: !options.split(',').any(|o| o == "ro"),
    })
}

/// The PID, user and command columns of `top`, bounded.
pub(crate) fn processes_from_top(
    titles: Option<Vec<String>>,
    rows: Option<Vec<Vec<String>>>,
) -> Vec<ContainerProcess> {
    let titles = titles.unwrap_or_default();
    let col = |names: &[&str]| titles.iter().position(|t| names.contains(&t.as_str()));
    let (Some(cmd), pid, user) = (
        col(&["CMD", "COMMAND", "ARGS"]),
        col(&["PID"]),
        col(&["UID", "USER"]),
    ) else {
        return Vec::new();
    };
    rows.unwrap_or_default()
        .into_iter()
        .take(MAX_PROCESSES)
        .map(|row| {
            let get = |i: Option<usize>| i.and_then(|i| row.get(i)).cloned().unwrap_or_default();
            // `ps -ef` may split a command line over the trailing columns.
            let command = row.get(cmd..).map(|r| r.join(" ")).unwrap_or_default();
            ContainerProcess {
                pid: get(pid),
                user: get(user),
                command: clip_command(command),
            }
        })
        .collect()
}

impl Source for ContainerSource {
    fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }

    fn stream_layers(&self, indexes: &[usize], visit: &LayerVisitor<'_>) -> Vec<LayerOpenError> {
        if !indexes.contains(&0) {
            return Vec::new();
        }
        let export = || self.docker.export_container(&self.id);
        read_export(&self.runtime, export, |reader| {
            match LayerReader::new(reader, self.limits) {
                Ok(mut layer) => {
                    visit(LayerVisit {
                        index: Some(0),
                        stream: LayerStream::Tar(&mut layer),
                    });
                    Vec::new()
                }
                Err(e) => vec![LayerOpenError {
                    index: Some(0),
                    error: SourceError::Daemon(format!("container export: {e}")),
                }],
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_and_options() {
        let m = parse_bind("/:/host").unwrap();
        assert_eq!((m.kind.as_str(), m.read_write), ("bind", true));
        let m = parse_bind("/etc/localtime:/etc/localtime:ro").unwrap();
        assert!(!m.read_write);
        assert_eq!(parse_bind("data:/var/lib/x").unwrap().kind, "volume");
        assert!(parse_bind("nocolon").is_none());
    }

    #[test]
    fn no_new_privileges_forms() {
        assert!(is_no_new_privileges("no-new-privileges"));
        assert!(is_no_new_privileges("no-new-privileges:true"));
        assert!(is_no_new_privileges("no-new-privileges=true"));
        assert!(!is_no_new_privileges("no-new-privileges=false"));
        assert!(!is_no_new_privileges("seccomp=unconfined"));
    }

    #[test]
    fn top_columns() {
        let titles = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
            .map(String::from)
            .to_vec();
        let row = ["root", "42", "1", "0", "10:00", "?", "00:00:00", "sh -c x"]
            .map(String::from)
            .to_vec();
        let p = processes_from_top(Some(titles), Some(vec![row]));
        assert_eq!(p[0].pid, "42");
        assert_eq!(p[0].command, "sh -c x");
        assert!(processes_from_top(None, Some(vec![vec![]])).is_empty());
    }
}
