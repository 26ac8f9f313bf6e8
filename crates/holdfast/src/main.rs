//! The `holdfast` command: flags in, a scan request to the library crates, a result out.

mod cache_cmd;
mod checks;
mod cli;
mod container_scan;
mod output;
mod registry_scan;
mod report;
mod scan;
mod vulns;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let filter = if cli.global.debug {
        // oci-client logs token responses at debug level: keep registry tokens out of logs.
        "debug,oci_client=info"
    } else if cli.global.quiet {
        "error"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HOLDFAST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter)),
        )
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    let code = match scan::run(cli) {
        Ok(code) => code,
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
