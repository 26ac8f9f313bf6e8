//! `holdfast authz -c config.toml`: the Docker Engine authorization plugin, and `holdfast
//! admission`, the Kubernetes webhook judging pods with the same policies. The config is
//! read and checked here; `holdfast-authz` does the rest (and logs the config's
//! warnings to stderr and the plugin log).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

/// Runs the authorization plugin until SIGTERM or SIGINT.
pub fn run(config: &Path) -> Result<ExitCode> {
    let loaded = holdfast_authz::load(config)?;
    holdfast_authz::run(loaded)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs the admission webhook with the same policy file until SIGTERM or SIGINT.
pub fn admission(
    policy: &Path,
    options: &holdfast_authz::admission::AdmissionOptions,
) -> Result<ExitCode> {
    let loaded = holdfast_authz::load(policy)?;
    holdfast_authz::admission::run(loaded, options)?;
    Ok(ExitCode::SUCCESS)
}
