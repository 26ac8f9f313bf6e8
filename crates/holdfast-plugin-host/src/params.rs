//! Plugin parameters as veinmind-runner users write them: `NAME:COMMAND.PARAM=VALUE`
//! (`my-plugin:scan/image.serviceName=ssh`), or `NAME:PARAM=VALUE` for every command.

use std::collections::BTreeMap;

use holdfast_plugin::Command;

use crate::Discovered;

/// One parameter as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginParam {
    pub plugin: String,
    /// The command it applies to; `None` for all of them.
    pub command: Option<Command>,
    pub name: String,
    pub value: String,
}

/// A parameter that could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParamError {
    #[error("plugin parameter `{0}` is not NAME:COMMAND.PARAM=VALUE (like my-plugin:scan/image.serviceName=ssh)")]
    Syntax(String),
    #[error("plugin parameter `{given}`: {why}")]
    Invalid { given: String, why: String },
}

impl std::str::FromStr for PluginParam {
    type Err = ParamError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParamError::Syntax(s.to_string());
        let (plugin, rest) = s.split_once(':').ok_or_else(bad)?;
        let (key, value) = rest.split_once('=').ok_or_else(bad)?;
        // The command, when given, is everything before the last dot of the key
        // (`scan/image.serviceName`); a key with no slash is a bare parameter name.
        let (command, name) = match key.rsplit_once('.') {
            Some((cmd, name)) if cmd.contains('/') => {
                let command = cmd.parse::<Command>().map_err(|why| ParamError::Invalid {
                    given: s.to_string(),
                    why,
                })?;
                (Some(command), name)
            }
            _ => (None, key),
        };
        if plugin.is_empty() || name.is_empty() {
            return Err(bad());
        }
        Ok(PluginParam {
            plugin: plugin.to_string(),
            command,
            name: name.to_string(),
            value: value.to_string(),
        })
    }
}

/// Every parameter of every plugin, checked against the manifests and typed.
#[derive(Debug, Clone, Default)]
pub struct ResolvedParams {
    /// (plugin, command) → name → value; command `None` applies to all commands.
    given: BTreeMap<(String, Option<Command>), BTreeMap<String, serde_json::Value>>,
}

impl ResolvedParams {
    /// Checks the given parameters against the discovered plugins: the plugin must exist
    /// and answer the command, the parameter must be declared, the value must parse as
    /// its type.
    pub fn resolve(params: &[PluginParam], plugins: &Discovered) -> Result<Self, ParamError> {
        let mut out = ResolvedParams::default();
        for p in params {
            let given = format!(
                "{}:{}{}={}",
                p.plugin,
                p.command.map(|c| format!("{c}.")).unwrap_or_default(),
                p.name,
                p.value
            );
            let invalid = |why: String| ParamError::Invalid {
                given: given.clone(),
                why,
            };
            let plugin = plugins.get(&p.plugin).ok_or_else(|| {
                let known: Vec<&str> = plugins.plugins.iter().map(|p| p.name()).collect();
                invalid(format!(
                    "no plugin named `{}` (found: {})",
                    p.plugin,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ))
            })?;
            if let Some(c) = p.command {
                if !plugin.manifest.commands.contains(&c) {
                    return Err(invalid(format!("`{}` does not answer {c}", p.plugin)));
                }
            }
            let spec = plugin.manifest.param(&p.name).ok_or_else(|| {
                let declared: Vec<&str> = plugin
                    .manifest
                    .params
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect();
                invalid(format!(
                    "`{}` declares no parameter `{}` (it declares: {})",
                    p.plugin,
                    p.name,
                    if declared.is_empty() {
                        "none".to_string()
                    } else {
                        declared.join(", ")
                    }
                ))
            })?;
            let value = spec.kind.parse(&p.value).map_err(invalid)?;
            out.given
                .entry((p.plugin.clone(), p.command))
                .or_default()
                .insert(p.name.clone(), value);
        }
        Ok(out)
    }

    /// The parameters a plugin gets for a command: every declared parameter with its
    /// default, overridden by values given for all commands, then for this command.
    pub fn for_run(
        &self,
        manifest: &holdfast_plugin::Manifest,
        command: Command,
    ) -> BTreeMap<String, serde_json::Value> {
        let mut out: BTreeMap<String, serde_json::Value> = manifest
            .params
            .iter()
            .filter_map(|p| Some((p.name.clone(), p.default.clone()?)))
            .collect();
        for key in [
            (manifest.name.clone(), None),
            (manifest.name.clone(), Some(command)),
        ] {
            if let Some(given) = self.given.get(&key) {
                out.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Plugin;
    use holdfast_plugin::{Manifest, ParamSpec, ParamType};
    use serde_json::json;

    fn plugins() -> Discovered {
        let mut m = Manifest::new("my-plugin", "1", &[Command::ScanImage, Command::ScanRootfs]);
        m.params = vec![
            ParamSpec {
                name: "serviceName".into(),
                kind: ParamType::String,
                default: Some(json!("http")),
                help: String::new(),
            },
            ParamSpec {
                name: "port".into(),
                kind: ParamType::Integer,
                default: None,
                help: String::new(),
            },
        ];
        Discovered {
            plugins: vec![Plugin {
                path: "/p".into(),
                manifest: m,
            }],
            broken: vec![],
        }
    }

    #[test]
    fn parses_the_veinmind_runner_form() {
        let p: PluginParam = "my-plugin:scan/image.serviceName=ssh".parse().unwrap();
        assert_eq!(p.command, Some(Command::ScanImage));
        assert_eq!((p.name.as_str(), p.value.as_str()), ("serviceName", "ssh"));
        let p: PluginParam = "my-plugin:port=2222".parse().unwrap();
        assert_eq!(p.command, None);
        let p: PluginParam = "x:scan/image.url=http://a.b/c=d".parse().unwrap();
        assert_eq!(p.value, "http://a.b/c=d");
        assert!(matches!(
            "nocolon".parse::<PluginParam>(),
            Err(ParamError::Syntax(_))
        ));
        assert!(matches!(
            "a:scan/disk.x=1".parse::<PluginParam>(),
            Err(ParamError::Invalid { .. })
        ));
    }

    #[test]
    fn resolves_defaults_then_all_commands_then_the_command() {
        let found = plugins();
        let given: Vec<PluginParam> = ["my-plugin:port=22", "my-plugin:scan/image.serviceName=ssh"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let r = ResolvedParams::resolve(&given, &found).unwrap();
        let m = &found.plugins[0].manifest;
        assert_eq!(
            json!(r.for_run(m, Command::ScanImage)),
            json!({"port": 22, "serviceName": "ssh"})
        );
        assert_eq!(
            json!(r.for_run(m, Command::ScanRootfs)),
            json!({"port": 22, "serviceName": "http"})
        );
    }

    #[test]
    fn names_what_is_wrong() {
        let found = plugins();
        let err = |s: &str| {
            ResolvedParams::resolve(&[s.parse().unwrap()], &found)
                .unwrap_err()
                .to_string()
        };
        assert!(err("other:port=1").contains("no plugin named `other` (found: my-plugin)"));
        assert!(err("my-plugin:colour=red")
            .contains("declares no parameter `colour` (it declares: serviceName, port)"));
        assert!(err("my-plugin:port=ssh").contains("`ssh` is not an integer"));
        assert!(err("my-plugin:scan/container.port=1").contains("does not answer scan/container"));
    }
}
