//! The `holdfast` command: flags in, a `ScanRequest` to the engine (`holdfast-scan`), the
//! result out to the chosen formats, and the policy's verdict as the exit code. Dispatch
//! lives here; every clap type in `cli.rs`; flags become a request in `request.rs`.

mod analyze_cmd;
mod authz_cmd;
mod cache_cmd;
mod cli;
mod compliance_cmd;
mod db_cmd;
mod output;
mod plugin_cmd;
mod progress;
mod report;
mod request;
mod server_cmd;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use holdfast_report::Format;
use holdfast_scan::{ClusterSelection, RegistrySelection, Target};
use holdfast_source::{ContainerEngine, TargetSpec};

use crate::cli::{CheckArgs, Cli, Command, DbCommand, ScanCommand, ScanOptions};

fn main() -> ExitCode {
    fixed_mmap_threshold();
    let cli = cli::Cli::parse();
    let server_log = match &cli.command {
        crate::cli::Command::Server(args) if args.command.is_none() => {
            Some(args.log_level.clone().unwrap_or_else(|| "info".into()))
        }
        _ => None,
    };
    let filter = if let Some(level) = server_log.as_deref() {
        level
    } else if cli.global.debug {
        // oci-client logs token responses at debug level: keep registry tokens out of logs.
        // YARA-X's code generator logs every compiled function: thousands of lines that
        // drown the scan's own and slow it down.
        "debug,oci_client=info,cranelift_codegen=info,wasmtime=info,wasmtime_cranelift=info,walrus=info"
    } else if cli.global.quiet {
        "error"
    } else {
        // Which engine a bare image name was found in is worth a line.
        "warn,holdfast::source=info"
    };
    let env_filter = tracing_subscriber::EnvFilter::try_from_env("HOLDFAST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    if server_log.is_some() {
        // A service's log: timestamps, and colour only on a terminal.
        use std::io::IsTerminal;
        tracing_subscriber::fmt()
            .with_env_filter(env_filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(env_filter)
            .with_writer(std::io::stderr)
            .without_time()
            .init();
    }
    if let Some(n) = cli.global.threads {
        // The layer walks run on rayon's global pool: its size is the number of files
        // held in memory at once.
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(n))
            .build_global()
        {
            tracing::warn!("--threads {n}: {e}");
        }
    }
    let code = match run(cli) {
        Ok(code) => code,
        // The reader went away (`holdfast ... | head`): what it wanted was written; end
        // quietly, as command-line tools do.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(cli::EXIT_ERROR)
        }
    };
    if std::env::var_os("HOLDFAST_PRINT_PEAK_RSS").is_some() {
        print_peak_rss();
    }
    code
}

/// Whether an error comes from writing to a closed pipe.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<holdfast_report::ReportError>()
                .is_some_and(|r| match r {
                    holdfast_report::ReportError::Io(io) => {
                        io.kind() == std::io::ErrorKind::BrokenPipe
                    }
                    holdfast_report::ReportError::Json(j) => {
                        j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe)
                    }
                    _ => false,
                })
    })
}

/// Dispatches a parsed command line.
fn run(cli: Cli) -> Result<ExitCode> {
    let quiet = cli.global.quiet;
    if let Some(root) = &cli.global.host_root {
        holdfast_source::host::set_root(root).map_err(anyhow::Error::msg)?;
    }
    match cli.command {
        Command::Scan(ScanCommand::Image {
            target,
            checks,
            opts,
        }) => {
            let spec = TargetSpec::parse_image(&target)?;
            let targets = vec![Target::Spec { spec, name: target }];
            scan(targets, &opts, &checks, Format::Table, quiet)
        }
        Command::Scan(ScanCommand::Config {
            paths,
            clone_timeout,
            clone_max_size,
            checks,
            opts,
        }) => {
            let options = holdfast_scan::ConfigScanOptions {
                paths,
                policies: checks.policy,
                regulations: checks.compliance,
                clone_limits: holdfast_scan::CloneLimits {
                    timeout: clone_timeout,
                    max_bytes: clone_max_size,
                },
            };
            // The config target runs the checks itself.
            let none = CheckArgs::default();
            scan(
                vec![Target::Config(options)],
                &opts,
                &none,
                Format::Table,
                quiet,
            )
        }
        Command::Compliance(cmd) => compliance_cmd::run(cmd, quiet),
        Command::Scan(ScanCommand::Rootfs { dir, opts }) => {
            let name = dir.display().to_string();
            // `/` under a host root is the host's root.
            let dir = if dir == std::path::Path::new("/") {
                holdfast_source::host::root().to_path_buf()
            } else {
                dir
            };
            let targets = vec![Target::Spec {
                spec: TargetSpec::Rootfs(dir),
                name,
            }];
            scan(targets, &opts, &CheckArgs::default(), Format::Table, quiet)
        }
        Command::Scan(ScanCommand::Container {
            target,
            all,
            runtime,
            checks,
            opts,
        }) => {
            let engine = match runtime {
                cli::Runtime::Docker => ContainerEngine::Docker,
                cli::Runtime::Containerd => ContainerEngine::Containerd,
                cli::Runtime::Podman => ContainerEngine::Podman,
            };
            let target = match (all, target) {
                (true, _) => Target::AllContainers { engine },
                (false, Some(id)) => Target::Container { id, engine },
                (false, None) => anyhow::bail!("name a container or pass --all"),
            };
            scan(vec![target], &opts, &checks, Format::Table, quiet)
        }
        Command::Scan(ScanCommand::Registry {
            host,
            select,
            checks,
            opts,
        }) => {
            let selection = RegistrySelection {
                host,
                repos: select.repo,
                tags: select.tag,
                exclude: select.exclude,
                newest: select.newest,
                max_images: select.max_images,
                parallel: select.parallel,
            };
            scan(
                vec![Target::Registry(selection)],
                &opts,
                &checks,
                Format::Table,
                quiet,
            )
        }
        Command::Scan(ScanCommand::Cluster {
            select,
            checks,
            opts,
        }) => {
            let mut skip_registries = select.skip_registry;
            if select.disable_quayio_scan {
                skip_registries.push("quay.io".into());
            }
            let selection = ClusterSelection {
                options: select.pods.options(skip_registries),
                parallel: select.parallel,
                ..ClusterSelection::default()
            };
            scan(
                vec![Target::Cluster(selection)],
                &opts,
                &checks,
                Format::Table,
                quiet,
            )
        }
        Command::Sbom { target, opts } => {
            let spec = TargetSpec::parse_image(&target)?;
            let targets = vec![Target::Spec { spec, name: target }];
            scan(
                targets,
                &opts,
                &CheckArgs::default(),
                Format::CycloneDx,
                quiet,
            )
        }
        Command::Cache(cmd) => cache_cmd::run(cmd),
        Command::Db(DbCommand::Build {
            from,
            output,
            nvd,
            debian_tracker,
        }) => db_cmd::build(
            &from,
            &nvd,
            debian_tracker.as_deref(),
            output.as_deref(),
            quiet,
        ),
        Command::Db(DbCommand::Info { db }) => db_cmd::info(db.as_deref()),
        Command::Db(DbCommand::Update {
            server: Some(server),
            token,
            output,
            ..
        }) => db_cmd::update_from_server(&server, token, output.as_deref(), quiet),
        Command::Db(DbCommand::Update {
            feed_url,
            mirrors,
            ecosystem,
            output,
            nvd_urls,
            debian_tracker_url,
            server: None,
            token: _,
        }) => db_cmd::update(
            &feed_url,
            &mirrors,
            &ecosystem,
            db_cmd::ExtraSources {
                nvd_urls,
                debian_tracker_url,
            },
            output.as_deref(),
            quiet,
        ),
        Command::Report(cmd) => report::run(cmd),
        Command::Plugin(cmd) => plugin_cmd::run(cmd),
        Command::Authz { config } => authz_cmd::run(&config),
        Command::Admission {
            listen,
            tls_cert,
            tls_key,
            policy,
            kubeconfig,
            context,
            no_pull_secrets,
        } => authz_cmd::admission(
            &policy,
            &holdfast_authz::admission::AdmissionOptions {
                listen,
                cert: tls_cert,
                key: tls_key,
                cluster: (!no_pull_secrets).then(|| holdfast_authz::admission::ClusterOptions {
                    kubeconfig,
                    context,
                    ..Default::default()
                }),
            },
        ),
        Command::Analyze(args) => analyze_cmd::run(args),
        Command::Server(args) => server_cmd::run(args),
    }
}

/// Runs one scan command: the request from the flags, the engine, the outputs, and the
/// policy's verdict as the exit code. A `default` format other than the table means an
/// SBOM: an inventory only.
fn scan(
    targets: Vec<Target>,
    opts: &ScanOptions,
    checks: &CheckArgs,
    default: Format,
    quiet: bool,
) -> Result<ExitCode> {
    scan_and_judge(targets, opts, checks, default, quiet).map(|(_, code)| code)
}

/// [`scan`], also giving the result back (for `compliance --every`, which compares runs).
fn scan_and_judge(
    targets: Vec<Target>,
    opts: &ScanOptions,
    checks: &CheckArgs,
    default: Format,
    quiet: bool,
) -> Result<(holdfast_model::ScanResult, ExitCode)> {
    let outputs = output::Outputs::from_scan_options(opts, default)?;
    let mut request = request::scan_request(targets, opts, default != Format::Table, quiet)?;
    request.misconfig = holdfast_scan::MisconfigSettings {
        policies: checks.policy.clone(),
        regulations: checks.compliance.clone(),
    };
    let progress = progress::CliProgress::new(quiet);
    let result = holdfast_scan::scan(&request, &progress);
    progress.finish();
    let result = analyze_cmd::maybe_analyze(result?, opts, quiet);
    outputs.write(&result)?;
    if result.cluster.is_some() && outputs.table_on_stdout() {
        output::print_cluster_summary(&result)?;
    }
    if let Some(registry) = &result.registry {
        if outputs.table_on_stdout() {
            output::print_registry_summary(&result)?;
        }
        if registry.images_scanned == 0 {
            // Partial results are written above; the failure reasons are in them.
            if !quiet {
                eprintln!(
                    "error: none of the {} image(s) in `{}` could be scanned whole",
                    registry.images_selected, registry.registry
                );
            }
            return Ok((result, ExitCode::from(cli::EXIT_ERROR)));
        }
    }
    let verdict = holdfast_policy::verdict(&request.policy, &result);
    let code = ExitCode::from(verdict.exit_code(opts.exit_code));
    Ok((result, code))
}

/// Prints this process's peak resident set (`VmHWM`), for memory tests and benchmarks.
/// Measured from inside because a parent's `wait4` also counts the memory the child
/// shared with it before `exec`.
fn print_peak_rss() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(kib) = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    {
        eprintln!("holdfast: peak RSS {kib} KiB");
    }
}

/// Gives every allocation of 256 KiB or more a mapping of its own, returned to the system
/// when freed. glibc's default raises that threshold to the largest block freed so far (up
/// to 32 MiB), after which a walker's freed file buffers and the merge's large tables stay
/// in the heap: the peak RSS of a vulnerability scan of a 1.6 GiB image was 1.5 times that
/// of a 370 MiB one, with the same heap peak.
fn fixed_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before any thread
    // starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 10);
    }
}
