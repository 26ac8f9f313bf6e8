//! What is known about a target before any layer is read: the image config (Docker and
//! OCI share its shape), the layer list, and for a container how it runs. Sources fill
//! these in; the analyzers, checkers and report writers read them.
//!
//! The config is parsed leniently: unknown fields are ignored and missing ones default,
//! because configs in the wild omit much, and a config that names no user must still be
//! scanned. Written by hand rather than with `oci-spec` because Docker's extensions
//! (`Healthcheck`, `OnBuild`) matter to the checkers and `oci-spec` rejects some configs
//! that Docker itself accepts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{LayerInfo, TargetKind};

/// Everything known about a target before its layers are read.
#[derive(Debug, Clone)]
pub struct ImageMetadata {
    /// The target as the user named it.
    pub name: String,
    pub kind: TargetKind,
    /// Image id (config digest) or other stable identity, when known.
    pub image_id: Option<String>,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub config: ImageConfig,
    /// Layers, bottom first.
    pub layers: Vec<LayerInfo>,
    /// Problems met while reading the target's metadata that did not stop it.
    pub warnings: Vec<String>,
    /// For a container target: how it runs (privileges, mounts, namespaces, kernel,
    /// processes). `None` for images and directories.
    pub container: Option<ContainerRuntime>,
}

impl ImageMetadata {
    /// A target known only by its name and kind: no id, tags, config or layers yet.
    pub fn new(name: impl Into<String>, kind: TargetKind) -> Self {
        ImageMetadata {
            name: name.into(),
            kind,
            image_id: None,
            repo_tags: Vec::new(),
            repo_digests: Vec::new(),
            config: ImageConfig::default(),
            layers: Vec::new(),
            warnings: Vec::new(),
            container: None,
        }
    }
}

/// The parts of an image config that scanners use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default)]
    pub config: RuntimeConfig,
    #[serde(default)]
    pub rootfs: RootFs,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
}

/// `config` inside the image config: how a container from it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuntimeConfig {
    #[serde(default, deserialize_with = "null_as_default")]
    pub user: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub env: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub entrypoint: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub cmd: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub working_dir: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub exposed_ports: BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<serde_json::Value>,
}

/// `rootfs`: the diff_ids of the layers, bottom first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(default, rename = "type")]
    pub fs_type: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub diff_ids: Vec<String>,
}

/// One step of the image's history; `empty_layer` steps made no layer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default)]
    pub empty_layer: bool,
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl ImageConfig {
    /// Parses a config blob.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The `created_by` of each non-empty history step, aligned with the layers.
    ///
    /// History and layers are matched in order, skipping `empty_layer` steps, as the OCI
    /// image spec defines. When the counts disagree the extra layers get `None`.
    pub fn layer_commands(&self, layer_count: usize) -> Vec<Option<String>> {
        let mut out: Vec<Option<String>> = self
            .history
            .iter()
            .filter(|h| !h.empty_layer)
            .map(|h| h.created_by.clone())
            .take(layer_count)
            .collect();
        out.resize(layer_count, None);
        out
    }

    /// `os/arch[/variant]`, for display.
    pub fn platform_string(&self) -> Option<String> {
        if self.os.is_empty() && self.architecture.is_empty() {
            return None;
        }
        let mut s = format!("{}/{}", self.os, self.architecture);
        if let Some(v) = self.variant.as_deref().filter(|v| !v.is_empty()) {
            s.push('/');
            s.push_str(v);
        }
        Some(s)
    }
}

/// How a container runs: the facts the escape checks judge. Plain data, filled from the
/// Engine API's container `inspect`, daemon `info` and `top`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerRuntime {
    pub id: String,
    /// The container's name, without the leading `/`.
    pub name: String,
    /// The image as the container names it (`Config.Image`), and its id.
    pub image: String,
    pub image_id: String,
    /// `created`, `running`, `exited`, ...
    pub state: String,
    pub privileged: bool,
    /// Capabilities added and dropped, as given (`SYS_ADMIN`, `CAP_NET_ADMIN`, `ALL`).
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub mounts: Vec<ContainerMount>,
    /// Host devices mapped in (`--device`): the host path.
    pub devices: Vec<String>,
    /// Namespace modes: empty or `private` for the container's own, `host` for the host's,
    /// `container:ID` to share another container's.
    pub pid_mode: String,
    pub network_mode: String,
    pub ipc_mode: String,
    pub uts_mode: String,
    pub userns_mode: String,
    pub cgroupns_mode: String,
    /// `--security-opt` values as given (`seccomp=unconfined`, `no-new-privileges`, ...).
    pub security_opt: Vec<String>,
    /// The AppArmor profile the daemon recorded (`docker-default`, `unconfined`, or empty).
    pub apparmor_profile: String,
    /// The user the container runs as (`Config.User`; empty means the image's default, root).
    pub user: String,
    pub readonly_rootfs: bool,
    pub no_new_privileges: bool,
    /// The daemon's security options (`name=seccomp,profile=default`, `name=apparmor`,
    /// `name=userns`, `name=rootless`).
    pub daemon_security_options: Vec<String>,
    /// The host kernel as the daemon reports it (`6.1.0-18-amd64`).
    pub kernel_version: Option<String>,
    /// `1` or `2`, when the daemon says.
    pub cgroup_version: Option<String>,
    /// Processes from `top`; empty for a container that is not running.
    pub processes: Vec<ContainerProcess>,
}

/// One mount of a container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerMount {
    /// `bind`, `volume`, `tmpfs`, ...
    pub kind: String,
    /// The host path (binds) or the volume's directory on the host.
    pub source: String,
    pub destination: String,
    pub read_write: bool,
}

/// One process of a running container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerProcess {
    pub pid: String,
    pub user: String,
    /// The command line as `ps` shows it.
    pub command: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_and_missing_fields_default() {
        let c = ImageConfig::from_slice(
            br#"{"architecture":"amd64","os":"linux","config":{"Env":null,"Cmd":["sh"]},
                "rootfs":{"type":"layers","diff_ids":["sha256:aa"]},
                "history":[{"created_by":"ENV A=1","empty_layer":true},{"created_by":"ADD x /"}]}"#,
        )
        .unwrap();
        assert!(c.config.env.is_empty());
        assert_eq!(c.layer_commands(2), vec![Some("ADD x /".into()), None]);
    }
}
