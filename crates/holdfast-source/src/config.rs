//! The image configuration (Docker and OCI share its shape): platform, runtime config and
//! history. Parsed leniently: unknown fields are ignored and missing ones default, because
//! configs in the wild omit much, and a config that names no user must still be scanned.
//!
//! Written by hand rather than with `oci-spec` because Docker's extensions
//! (`Healthcheck`, `OnBuild`) matter to the checkers and `oci-spec` rejects some configs
//! that Docker itself accepts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
