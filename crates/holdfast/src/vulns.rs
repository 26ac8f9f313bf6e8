//! Wiring the vulnerability database into the commands: where the DB lives, `db build`,
//! `db info`, and matching a target's packages.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use holdfast_model::{Finding, TargetResult, Warning};
use holdfast_source::LayerCache;
use holdfast_vulndb::{DbInfo, VulnDb};

/// A DB older than this gets a warning.
const STALE_AFTER_DAYS: i64 = 7;

/// The demo advisories (`fixtures/demo/advisories/`), used when no database was built.
const DEMO_ADVISORIES: &[(&str, &str)] = &[
    (
        "DEBIAN-CVE-2023-38545-curl.json",
        include_str!("../../../fixtures/demo/advisories/DEBIAN-CVE-2023-38545-curl.json"),
    ),
    (
        "DEBIAN-CVE-2023-46218-curl.json",
        include_str!("../../../fixtures/demo/advisories/DEBIAN-CVE-2023-46218-curl.json"),
    ),
    (
        "DEBIAN-CVE-2023-52425-expat.json",
        include_str!("../../../fixtures/demo/advisories/DEBIAN-CVE-2023-52425-expat.json"),
    ),
    (
        "DEBIAN-CVE-2023-5678-openssl.json",
        include_str!("../../../fixtures/demo/advisories/DEBIAN-CVE-2023-5678-openssl.json"),
    ),
    (
        "DEBIAN-CVE-2024-0727-openssl.json",
        include_str!("../../../fixtures/demo/advisories/DEBIAN-CVE-2024-0727-openssl.json"),
    ),
    (
        "GHSA-p6mc-m468-83gw.json",
        include_str!("../../../fixtures/demo/advisories/GHSA-p6mc-m468-83gw.json"),
    ),
    (
        "PYSEC-2018-28.json",
        include_str!("../../../fixtures/demo/advisories/PYSEC-2018-28.json"),
    ),
    (
        "PYSEC-2019-133.json",
        include_str!("../../../fixtures/demo/advisories/PYSEC-2019-133.json"),
    ),
    (
        "PYSEC-2020-96.json",
        include_str!("../../../fixtures/demo/advisories/PYSEC-2020-96.json"),
    ),
    (
        "PYSEC-2022-19.json",
        include_str!("../../../fixtures/demo/advisories/PYSEC-2022-19.json"),
    ),
];

/// Builds the demo database in a fresh temporary directory and returns its path (the
/// directory is removed when the guard drops).
fn demo_db() -> Result<(PathBuf, TempDirGuard)> {
    // One directory per call: `scan registry` builds it from several threads at once.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("holdfast-demo-db-{}-{call}", std::process::id()));
    let guard = TempDirGuard(dir.clone());
    let src = dir.join("osv");
    std::fs::create_dir_all(&src).with_context(|| format!("cannot create `{}`", src.display()))?;
    for (name, text) in DEMO_ADVISORIES {
        std::fs::write(src.join(name), text).with_context(|| format!("cannot write `{name}`"))?;
    }
    let db = dir.join("demo.db");
    holdfast_vulndb::build(&[src], &db).context("cannot build the demo database")?;
    Ok((db, guard))
}

/// Removes a temporary directory when dropped.
struct TempDirGuard(PathBuf);

impl Drop for TempDirGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The default database file, beside the layer cache.
pub fn default_db_path() -> PathBuf {
    LayerCache::default_dir().join("db").join("holdfast.db")
}

/// Where `db build` and `db update` write: `output`, else the default path; its directory
/// is created.
fn db_output(output: Option<&Path>) -> Result<PathBuf> {
    let out = output
        .map(Path::to_path_buf)
        .unwrap_or_else(default_db_path);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
    }
    Ok(out)
}

/// `holdfast db build`.
pub fn build(from: &[PathBuf], output: Option<&Path>, quiet: bool) -> Result<ExitCode> {
    let out = db_output(output)?;
    let report = holdfast_vulndb::build(from, &out)
        .with_context(|| format!("cannot build `{}`", out.display()))?;
    if !quiet {
        for w in &report.warnings {
            eprintln!("warning: {w:?}");
        }
        eprintln!(
            "built {} with {} advisories ({} withdrawn) in {:.1} s; {} GIT ranges skipped; {} warnings",
            out.display(),
            report.advisories,
            report.withdrawn,
            report.elapsed.as_secs_f64(),
            report.git_ranges_skipped,
            report.warning_count
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `holdfast db update`.
pub fn update(
    feed_url: &str,
    ecosystems: &[String],
    output: Option<&Path>,
    quiet: bool,
) -> Result<ExitCode> {
    use holdfast_vulndb::update::{update, UpdateOptions};
    let out = db_output(output)?;
    // One line each time a download passes another 16 MiB.
    let last = std::cell::Cell::new((String::new(), 0u64));
    let progress = |eco: &str, got: u64, total: Option<u64>| {
        let (prev_eco, prev) = last.take();
        let step = got >> 24;
        if !quiet && (prev_eco != eco || step > prev) {
            match total {
                Some(t) => eprintln!("{eco}: {} of {} MiB", got >> 20, t >> 20),
                None => eprintln!("{eco}: {} MiB", got >> 20),
            }
        }
        last.set((eco.to_string(), step));
    };
    let mut opts = UpdateOptions {
        feed_url: feed_url.to_string(),
        progress: Some(&progress),
        ..UpdateOptions::default()
    };
    if !ecosystems.is_empty() {
        opts.ecosystems = ecosystems.to_vec();
    }
    let report =
        update(&out, &opts).with_context(|| format!("`{}` was not changed", out.display()))?;
    if !quiet {
        eprintln!(
            "updated {} with {} advisories from {} ecosystems in {:.1} s",
            out.display(),
            report.advisories,
            opts.ecosystems.len(),
            report.elapsed.as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `holdfast db info`.
pub fn info(db: Option<&Path>) -> Result<ExitCode> {
    let path = db.map(Path::to_path_buf).unwrap_or_else(default_db_path);
    let info = holdfast_vulndb::info(&path).with_context(|| {
        format!("cannot read the vulnerability database `{}`; build one with `holdfast db build --from OSV_DIR`", path.display())
    })?;
    println!("database: {}", path.display());
    let age = age_days(&info)
        .map(|d| format!(" ({d} days old)"))
        .unwrap_or_default();
    println!("built:    {}{age} by {}", info.built_at, info.builder);
    println!(
        "advisories: {} ({} withdrawn)",
        info.advisories, info.withdrawn
    );
    for (eco, n) in &info.ecosystems {
        println!("  {eco}: {n}");
    }
    for s in &info.sources {
        println!("source: {s:?}");
    }
    Ok(ExitCode::SUCCESS)
}

fn age_days(info: &DbInfo) -> Option<i64> {
    let built = time::OffsetDateTime::parse(
        &info.built_at,
        &time::format_description::well_known::Rfc3339,
    )
    .ok()?;
    Some((time::OffsetDateTime::now_utc() - built).whole_days())
}

/// Matches a target's packages against the DB. Without a built DB it matches against the
/// bundled demo advisories and says so; an explicitly named DB that cannot be opened is an
/// error.
pub fn scan_target(
    target: &mut TargetResult,
    explicit: Option<&Path>,
    quiet: bool,
) -> Result<Option<serde_json::Value>> {
    let mut demo = None;
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = default_db_path();
            if p.is_file() {
                p
            } else {
                if !quiet {
                    eprintln!(
                        "note: no vulnerability database at {}; matching against the {} bundled demo advisories only. Build a real one with `holdfast db build --from OSV_DIR` or pass --db",
                        p.display(),
                        DEMO_ADVISORIES.len()
                    );
                }
                let (db, guard) = demo_db()?;
                demo = Some(guard);
                db
            }
        }
    };
    let db = VulnDb::open(&path).with_context(|| {
        format!(
            "cannot open the vulnerability database `{}`",
            path.display()
        )
    })?;
    if let Some(days) = age_days(db.info()).filter(|d| *d > STALE_AFTER_DAYS) {
        let msg = format!(
            "the vulnerability database is {days} days old; rebuild it for current advisories"
        );
        if !quiet {
            eprintln!("warning: {msg}");
        }
        target.warnings.push(Warning::general(None, msg));
    }
    let matches = db
        .match_packages(target.os.as_ref(), &target.packages)
        .with_context(|| format!("matching against `{}`", path.display()))?;
    let mut findings: Vec<Finding> = matches.into_iter().map(|m| m.finding).collect();
    findings.sort_by(|a, b| {
        (std::cmp::Reverse(a.severity), &a.package, &a.id).cmp(&(
            std::cmp::Reverse(b.severity),
            &b.package,
            &b.id,
        ))
    });
    target.findings.extend(findings);
    let info = db.info();
    let shown_path = if demo.is_some() {
        "(bundled demo advisories)".to_string()
    } else {
        path.display().to_string()
    };
    Ok(Some(serde_json::json!({
        "path": shown_path,
        "demo": demo.is_some(),
        "schema_version": info.schema_version,
        "built_at": info.built_at,
        "advisories": info.advisories,
    })))
}
