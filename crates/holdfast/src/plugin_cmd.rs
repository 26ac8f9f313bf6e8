//! Plugins on the command line: the scan flags and the config file's `[plugins]` table to
//! the engine's `PluginSettings`, and `holdfast plugin list|info|install|uninstall`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use holdfast_model::FindingKind;
use holdfast_scan::{Discovered, PluginParam, PluginSettings, ResolvedParams};
use serde::Deserialize;

use crate::cli::{PluginArgs, PluginCommand, PluginSearchArgs};

/// The config file's `[plugins]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    plugins: PluginConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginConfig {
    /// Directories searched, after `--plugin-dir`.
    #[serde(default)]
    dirs: Vec<PathBuf>,
    /// The plugins to run (like `--plugins`).
    enabled: Option<Vec<String>>,
    /// Like `--plugin-timeout`.
    timeout: Option<String>,
    /// Parameters in the command line's form, before those given after `--`.
    #[serde(default)]
    params: Vec<String>,
}

fn read_config(path: Option<&Path>) -> Result<PluginConfig> {
    let Some(path) = path else {
        return Ok(PluginConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file `{}`", path.display()))?;
    let file: ConfigFile = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("in the config file `{}`", path.display()))?;
    Ok(file.plugins)
}

/// The manifest cache file, beside the layer cache.
fn manifest_cache(cache_dir: Option<&Path>) -> PathBuf {
    cache_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(holdfast_source::LayerCache::default_dir)
        .join("plugins")
        .join("manifests.json")
}

fn search(flag_dirs: &[PathBuf], config: &PluginConfig, cache_dir: Option<&Path>) -> Discovered {
    let mut dirs = flag_dirs.to_vec();
    dirs.extend(config.dirs.iter().cloned());
    let env = std::env::var("HOLDFAST_PLUGIN_PATH").ok();
    let roots = holdfast_scan::plugin_roots(&dirs, env.as_deref());
    holdfast_scan::discover(&roots, Some(&manifest_cache(cache_dir)))
}

/// The plugins a scan runs and their parameters, from the flags and the config file;
/// `scanners` are the ones the user chose, if any.
/// Broken candidates are named on stderr unless `quiet`; a plugin or parameter that is
/// named but unusable is an error.
pub fn settings(
    args: &PluginArgs,
    scanners: Option<&[FindingKind]>,
    sbom: bool,
    cache_dir: Option<&Path>,
    read_only: Vec<PathBuf>,
    quiet: bool,
) -> Result<PluginSettings> {
    let config = read_config(args.config.as_deref())?;
    if args.no_plugins || sbom {
        return Ok(PluginSettings::default());
    }
    let found = search(&args.plugin_dir, &config, cache_dir);
    if !quiet {
        for b in &found.broken {
            eprintln!(
                "note: not a usable plugin: {}: {}",
                b.path.display(),
                b.reason
            );
        }
    }
    let names = if !args.plugins.is_empty() {
        Some(args.plugins.clone())
    } else {
        config.enabled.clone()
    };
    let plugins = holdfast_scan::select_plugins(&found, names.as_deref(), scanners)
        .map_err(anyhow::Error::msg)?;
    let mut given = Vec::new();
    for p in config.params.iter().chain(&args.plugin_params) {
        given.push(p.parse::<PluginParam>()?);
    }
    let params = ResolvedParams::resolve(&given, &found)?;
    let timeout = match (args.plugin_timeout, &config.timeout) {
        (Some(t), _) => t,
        (None, Some(t)) => humantime::parse_duration(t).with_context(|| {
            format!("`{t}` (plugins.timeout in the config file) is not a duration like 30s or 5m")
        })?,
        (None, None) => Duration::from_secs(300),
    };
    Ok(PluginSettings {
        plugins,
        params,
        timeout,
        read_only,
        ..PluginSettings::default()
    })
}

/// `holdfast plugin ...`.
pub fn run(cmd: PluginCommand) -> Result<ExitCode> {
    match cmd {
        PluginCommand::List { search: s } => {
            let found = discovered(&s)?;
            if found.plugins.is_empty() && found.broken.is_empty() {
                println!("no plugins found");
            }
            for p in &found.plugins {
                let commands: Vec<&str> = p.manifest.commands.iter().map(|c| c.as_str()).collect();
                println!(
                    "{:<24} {:<10} {:<40} {}",
                    p.name(),
                    p.manifest.version,
                    commands.join(","),
                    p.path.display()
                );
            }
            for b in &found.broken {
                println!(
                    "{:<24} {:<10} {}: {}",
                    "(broken)",
                    "",
                    b.path.display(),
                    b.reason
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Info { name, search: s } => {
            let found = discovered(&s)?;
            let Some(p) = found.get(&name) else {
                if let Some(b) = found.broken.iter().find(|b| b.path.ends_with(&name)) {
                    bail!(
                        "plugin `{name}` is broken: {}: {}",
                        b.path.display(),
                        b.reason
                    );
                }
                bail!("no plugin named `{name}`; `holdfast plugin list` shows what was found");
            };
            let mut value = serde_json::to_value(&p.manifest)?;
            value["path"] = serde_json::Value::String(p.path.display().to_string());
            println!("{}", serde_json::to_string_pretty(&value)?);
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Install { path } => {
            let dir = plugin_dir()?;
            let p = holdfast_scan::install::install(&path, &dir)?;
            println!(
                "installed {} {} at {}",
                p.name(),
                p.manifest.version,
                p.path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Uninstall { name } => {
            let dir = plugin_dir()?;
            let removed = holdfast_scan::install::uninstall(&name, &dir)?;
            println!("removed {}", removed.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn discovered(s: &PluginSearchArgs) -> Result<Discovered> {
    let config = read_config(s.config.as_deref())?;
    Ok(search(&s.plugin_dir, &config, s.cache_dir.as_deref()))
}

fn plugin_dir() -> Result<PathBuf> {
    holdfast_scan::default_plugin_dir()
        .context("no user data directory (set HOME or XDG_DATA_HOME) to install plugins into")
}
