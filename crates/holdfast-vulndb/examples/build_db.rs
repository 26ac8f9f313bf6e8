//! Builds a vulnerability database from OSV sources and prints what it did and how long
//! it took: the benchmark for whole feeds.
//!
//! ```text
//! cargo run --release --example build_db -- OUT.db SOURCE...
//! # e.g. the measured figure in the crate's report:
//! cargo run --release --example build_db -- /tmp/osv.db ../shared/osv
//! ```
//!
//! A source is a directory (recursively: `*.json`, `*.zip`), a `.json` file or a `.zip`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let Some(out) = args.next() else {
        eprintln!("usage: build_db OUT.db SOURCE...");
        return ExitCode::from(2);
    };
    let sources: Vec<PathBuf> = args.collect();
    if sources.is_empty() {
        eprintln!("usage: build_db OUT.db SOURCE...");
        return ExitCode::from(2);
    }
    let t = Instant::now();
    let report = match holdfast_vulndb::build(&sources, &out) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("build failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let total = t.elapsed();
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    println!(
        "built {} in {:.2?}: {} advisories ({} withdrawn), {} affected rows, {} duplicates, \
         {} GIT ranges skipped, {} bad ranges, {} affected entries skipped, {} warnings",
        out.display(),
        total,
        report.advisories,
        report.withdrawn,
        report.affected_rows,
        report.duplicates,
        report.git_ranges_skipped,
        report.bad_ranges_skipped,
        report.affected_skipped,
        report.warning_count,
    );
    for (eco, n) in &report.ecosystems {
        println!("  {eco}: {n}");
    }
    for s in &report.sources {
        println!("  source {}: {} advisories", s.source, s.advisories);
    }
    if let Ok(size) = std::fs::metadata(&out).map(|m| m.len()) {
        println!("  size: {:.1} MiB", size as f64 / (1024.0 * 1024.0));
    }
    ExitCode::SUCCESS
}
