//! `holdfast authz -c config.toml`: the Docker Engine authorization plugin.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

/// Runs the authorization plugin until it is stopped.
pub fn run(config: &Path) -> Result<ExitCode> {
    anyhow::bail!(
        "the authorization plugin is not built yet (config `{}`)",
        config.display()
    )
}
