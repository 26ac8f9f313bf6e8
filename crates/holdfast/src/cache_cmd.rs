//! `holdfast cache info|clean`: what the layer cache holds, and emptying it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Result;
use clap::Subcommand;
use holdfast_source::CacheInfo;

use crate::scan::layer_cache;

#[derive(Subcommand, Debug)]
pub enum CacheCommand {
    /// Print the number of cached layer results, their size, the oldest and newest.
    Info {
        /// The cache directory [default: the user cache dir, holdfast/].
        #[arg(long, env = "HOLDFAST_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Remove cached layer results (all, or those older than --older-than).
    Clean {
        /// The cache directory [default: the user cache dir, holdfast/].
        #[arg(long, env = "HOLDFAST_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
        /// Only entries last written longer ago than this: 30d, 12h, 90m, 45s.
        #[arg(long, value_parser = parse_age)]
        older_than: Option<Duration>,
    },
}

/// Parses `N` followed by `d`, `h`, `m` or `s`. Hand-written: four units do not need a
/// dependency.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not an age like 30d, 12h, 90m or 45s"))?;
    let secs = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" | "" => 1,
        _ => return Err(format!("`{s}`: the unit must be d, h, m or s")),
    };
    n.checked_mul(secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{s}` is too long"))
}

fn rfc3339(t: Option<SystemTime>) -> String {
    t.and_then(|t| crate::scan::rfc3339(t.into()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(parse_age("30d").unwrap(), Duration::from_secs(30 * 86_400));
        assert_eq!(parse_age("90m").unwrap(), Duration::from_secs(5_400));
        assert!(parse_age("3w").is_err());
        assert!(parse_age("d").is_err());
    }
}
