//! Flags to a scan request: what the scan commands' flags ask for, with the files they
//! name read and checked (dictionaries, rule files, the ignore file, VEX documents,
//! registry credentials) before anything is scanned.

use std::io::Read;

use anyhow::{bail, Context, Result};
use holdfast_scan::{
    AnalyzerGroup, CancelToken, CheckSettings, DbLocation, ScanRequest, Target, VulnDbHandle,
    WalkLimits,
};
use holdfast_source::registry::{parse_pull_secret, AuthOptions, Secret};
use holdfast_source::{
    ContainerdOptions, DecompressLimits, LayerCache, OpenOptions, PodmanOptions, RegistryOptions,
};

use crate::cli::{RegistryArgs, ScanOptions};

/// `CONTAINER_HOST`'s value: `unix://PATH` or a plain path; Podman's remote (ssh) hosts
/// are not reached.
fn podman_socket(value: &str) -> Result<std::path::PathBuf> {
    if let Some(path) = value.strip_prefix("unix://") {
        return Ok(path.into());
    }
    if value.contains("://") {
        bail!("--podman-socket/CONTAINER_HOST `{value}`: only unix:// sockets are read");
    }
    Ok(value.into())
}

/// Builds the request for `targets` from the scan flags. `sbom` asks for an inventory
/// only.
pub fn scan_request(
    targets: Vec<Target>,
    opts: &ScanOptions,
    sbom: bool,
    quiet: bool,
) -> Result<ScanRequest> {
    let platform = opts
        .platform
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(anyhow::Error::msg)
        .context("--platform")?;
    let open = OpenOptions {
        platform,
        limits: DecompressLimits {
            max_bytes: opts.max_layer_size,
            ..DecompressLimits::default()
        },
        registry: registry_options(&opts.registry)?,
        containerd: ContainerdOptions {
            address: holdfast_source::host::default_socket(&opts.engines.containerd_address),
            namespace: opts.engines.containerd_namespace.clone(),
        },
        podman: PodmanOptions {
            socket: opts
                .engines
                .podman_socket
                .as_deref()
                .map(podman_socket)
                .transpose()?,
            storage_root: opts.engines.podman_root.clone(),
        },
    };
    let scanners = holdfast_scan::effective_scanners(sbom, &opts.scanners);
    let settings = CheckSettings {
        dictionary: opts.dict.clone(),
        weak_password_timeout: opts.weak_password_timeout,
        secret_rule_files: opts.secret_config.clone(),
        secret_max_file_size: opts.secret_max_file_size,
        yara_rule_dirs: opts.yara_rules.clone(),
        clamd: opts.clamd.clone(),
        max_file_size: opts.max_file_size,
    };
    let checks = holdfast_scan::check_config(&settings, &scanners)?;
    let package_types = groups(&opts.pkg_types)?;
    let (policy, ignore_source) = policy(opts)?;
    // Plugins may read the target, never write the cache or the database.
    let db_path = opts
        .db
        .clone()
        .unwrap_or_else(holdfast_scan::default_db_path);
    let cache_dir = opts
        .cache_dir
        .clone()
        .unwrap_or_else(LayerCache::default_dir);
    let plugins = crate::plugin_cmd::settings(
        &opts.plugin,
        (!opts.scanners.is_empty()).then_some(&opts.scanners[..]),
        sbom,
        opts.cache_dir.as_deref(),
        vec![cache_dir, db_path],
        quiet,
    )?;
    // The same cache every front end builds from a directory and a URL; a URL that does
    // not parse is a flag error, while the store's failures later are only warnings.
    let cache = if opts.no_cache {
        None
    } else {
        Some(
            holdfast_remote_cache::layer_cache(
                opts.cache_dir.clone(),
                opts.cache_url.as_deref().filter(|_| !opts.offline),
            )
            .context("--cache-url")?,
        )
    };
    Ok(ScanRequest {
        targets,
        scanners,
        sbom,
        package_types,
        skip_os_owned: opts.skip_os_owned,
        checks,
        policy,
        ignore_source,
        open,
        walk: WalkLimits {
            max_file_bytes: opts.max_file_size,
            ..WalkLimits::default()
        },
        cache,
        db: VulnDbHandle::new(DbLocation::from_option(opts.db.as_deref())),
        cancel: CancelToken::new(),
        plugins,
        misconfig: Default::default(),
    })
}

/// The layer cache in `dir`, or in the default directory.
pub fn layer_cache(dir: Option<std::path::PathBuf>) -> LayerCache {
    LayerCache::new(dir.unwrap_or_else(LayerCache::default_dir))
}

fn groups(pkg_types: &[String]) -> Result<Vec<AnalyzerGroup>> {
    let mut out = Vec::new();
    for t in pkg_types {
        match t.trim() {
            "os" => out.push(AnalyzerGroup::OsPackages),
            "library" => out.push(AnalyzerGroup::Library),
            "" => {}
            other => bail!("unknown package type `{other}` in --pkg-types; expected os, library"),
        }
    }
    Ok(out)
}

/// The filters from the flags, the ignore file and the VEX documents; with the ignore
/// file's path, when one was read.
fn policy(opts: &ScanOptions) -> Result<(holdfast_policy::Policy, Option<String>)> {
    let path = match &opts.ignorefile {
        Some(p) => Some(p.clone()),
        None => Some(std::path::PathBuf::from(".holdfastignore")).filter(|p| p.is_file()),
    };
    let ignore_path = path.as_ref().map(|p| p.display().to_string());
    let mut vex = Vec::new();
    for doc in &opts.vex {
        let text = std::fs::read_to_string(doc)
            .with_context(|| format!("cannot read the VEX document `{}`", doc.display()))?;
        let statements = holdfast_policy::vex::parse(&text)
            .with_context(|| format!("in the VEX document `{}`", doc.display()))?;
        vex.extend(
            statements
                .into_iter()
                .map(|st| (doc.display().to_string(), st)),
        );
    }
    let ignore = match path {
        Some(p) => {
            let text = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read the ignore file `{}`", p.display()))?;
            holdfast_policy::IgnoreFile::parse(&text)
                .with_context(|| format!("in the ignore file `{}`", p.display()))?
        }
        None => holdfast_policy::IgnoreFile::default(),
    };
    Ok((
        holdfast_policy::Policy {
            severities: opts.severity.clone(),
            ignore_unfixed: opts.ignore_unfixed,
            ignore,
            today: Some(time::OffsetDateTime::now_utc().date()),
            vex,
        },
        ignore_path,
    ))
}

/// Reads the registry flags (and the files and stdin they name) into source options.
fn registry_options(args: &RegistryArgs) -> Result<RegistryOptions> {
    let password = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .take(64 << 10)
            .read_to_string(&mut text)
            .context("cannot read the password from stdin")?;
        Some(Secret::new(text.trim_end_matches(['\r', '\n'])))
    } else {
        None
    };
    let pull_secret = match &args.pull_secret {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the pull secret `{}`", p.display()))?;
            Some(parse_pull_secret(&text)?)
        }
        None => None,
    };
    let ca_pem = match &args.registry_ca {
        Some(p) => Some(
            std::fs::read(p)
                .with_context(|| format!("cannot read the registry CA `{}`", p.display()))?,
        ),
        None => None,
    };
    Ok(RegistryOptions {
        auth: AuthOptions {
            username: args.username.clone(),
            password,
            token: args.registry_token.clone().map(Secret::new),
            pull_secret,
            ignore_docker_config: false,
        },
        insecure_hosts: args.insecure_registry.clone(),
        ca_pem,
        parallel_downloads: 0,
    })
}
