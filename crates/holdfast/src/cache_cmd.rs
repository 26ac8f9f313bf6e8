//! `holdfast cache info|clean`: what the layer cache holds, and emptying it.

use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Result;
use holdfast_source::CacheInfo;

use crate::cli::CacheCommand;
use crate::request::layer_cache;

fn rfc3339(t: Option<SystemTime>) -> String {
    t.and_then(|t| holdfast_scan::rfc3339(t.into()))
        .unwrap_or_else(|| "-".into())
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

/// Runs a cache command.
pub fn run(cmd: CacheCommand) -> Result<ExitCode> {
    match cmd {
        CacheCommand::Info { cache_dir } => {
            let cache = layer_cache(cache_dir);
            let CacheInfo {
                entries,
                bytes,
                oldest,
                newest,
            } = cache.info()?;
            println!("directory: {}", cache.dir().display());
            println!("entries:   {entries}");
            println!("size:      {} ({bytes} bytes)", mib(bytes));
            println!("oldest:    {}", rfc3339(oldest));
            println!("newest:    {}", rfc3339(newest));
        }
        CacheCommand::Clean {
            cache_dir,
            older_than,
        } => {
            let cache = layer_cache(cache_dir);
            let removed = cache.clean(older_than)?;
            println!(
                "removed {} entries ({}) from {}",
                removed.entries,
                mib(removed.bytes),
                cache.dir().display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
