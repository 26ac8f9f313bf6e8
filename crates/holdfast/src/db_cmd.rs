//! `holdfast db build|update|info`: compiling, downloading and describing the
//! vulnerability database. Scans find and share it through `holdfast_scan::VulnDbHandle`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

/// Where `db build` and `db update` write: `output`, else the default path; its directory
/// is created.
fn db_output(output: Option<&Path>) -> Result<PathBuf> {
    let out = output
        .map(Path::to_path_buf)
        .unwrap_or_else(holdfast_scan::default_db_path);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
    }
    Ok(out)
}

/// `holdfast db build`: OSV sources, then the extra rating sources.
pub fn build(
    from: &[PathBuf],
    nvd: &[PathBuf],
    debian_tracker: Option<&Path>,
    output: Option<&Path>,
    quiet: bool,
) -> Result<ExitCode> {
    let out = db_output(output)?;
    let context = || format!("cannot build `{}`", out.display());
    let mut builder = holdfast_vulndb::Builder::create(&out).with_context(context)?;
    for source in from {
        builder.add_path(source).with_context(context)?;
    }
    for file in nvd {
        builder
            .add_nvd(file)
            .with_context(|| format!("cannot read the NVD file `{}`", file.display()))?;
    }
    if let Some(file) = debian_tracker {
        builder
            .add_debian_tracker(file)
            .with_context(|| format!("cannot read the Debian tracker file `{}`", file.display()))?;
    }
    let report = builder.finish().with_context(context)?;
    if !quiet {
        for w in &report.warnings {
            eprintln!("warning: {w}");
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
        let e = report.enriched;
        if e.from_alias + e.from_nvd + e.from_debian_tracker > 0 {
            eprintln!(
                "rated from other sources: {} package entries from an alias, {} from NVD, {} from the Debian tracker",
                e.from_alias, e.from_nvd, e.from_debian_tracker
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Rating sources `db update` fetches besides the OSV feed.
pub struct ExtraSources {
    /// NVD CVE API 2.0 JSON files.
    pub nvd_urls: Vec<String>,
    /// Debian's security tracker JSON export.
    pub debian_tracker_url: Option<String>,
}

/// A progress callback that prints one line each time a download passes another 16 MiB.
fn progress_lines(quiet: bool) -> impl Fn(&str, u64, Option<u64>) {
    let last = std::cell::Cell::new((String::new(), 0u64));
    move |label: &str, got: u64, total: Option<u64>| {
        let (prev_label, prev) = last.take();
        let step = got >> 24;
        if !quiet && (prev_label != label || step > prev) {
            match total {
                Some(t) => eprintln!("{label}: {} of {} MiB", got >> 20, t >> 20),
                None => eprintln!("{label}: {} MiB", got >> 20),
            }
        }
        last.set((label.to_string(), step));
    }
}

/// `holdfast db update`: the feed, then the mirrors, for each ecosystem's file.
pub fn update(
    feed_url: &str,
    mirrors: &[String],
    ecosystems: &[String],
    extra: ExtraSources,
    output: Option<&Path>,
    quiet: bool,
) -> Result<ExitCode> {
    use holdfast_vulndb::update::{update, FeedSource, UpdateOptions};
    let out = db_output(output)?;
    let mirrors = mirrors
        .iter()
        .filter(|m| !m.trim().is_empty())
        .map(|m| FeedSource::parse(m).context("bad --mirror"))
        .collect::<Result<Vec<_>>>()?;
    let progress = progress_lines(quiet);
    let mut opts = UpdateOptions {
        feed_url: feed_url.to_string(),
        mirrors,
        progress: Some(&progress),
        nvd_urls: extra.nvd_urls,
        debian_tracker_url: extra.debian_tracker_url,
        ..UpdateOptions::default()
    };
    if !ecosystems.is_empty() {
        opts.ecosystems = ecosystems.to_vec();
    }
    let report =
        update(&out, &opts).with_context(|| format!("`{}` was not changed", out.display()))?;
    if !quiet {
        for served in &report.served {
            let from = if served.from_mirror { "mirror " } else { "" };
            eprintln!("{}: from {from}{}", served.ecosystem, served.source);
            for failure in &served.failed {
                eprintln!("  skipped: {failure}");
            }
        }
        eprintln!(
            "updated {} with {} advisories from {} ecosystems in {:.1} s",
            out.display(),
            report.build.advisories,
            opts.ecosystems.len(),
            report.build.elapsed.as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `holdfast db update --server URL`: the server's database, unless the local one is it.
pub fn update_from_server(
    server: &str,
    token: Option<String>,
    output: Option<&Path>,
    quiet: bool,
) -> Result<ExitCode> {
    use holdfast_vulndb::update::server::{
        update_from_server, ServerError, ServerOptions, ServerUpdate,
    };
    let out = db_output(output)?;
    let shown = holdfast_vulndb::update::display_url(server);
    let progress = progress_lines(quiet);
    let token = token.filter(|t| !t.is_empty());
    let no_token = token.is_none();
    let opts = ServerOptions {
        progress: Some(&progress),
        ..ServerOptions::new(server, token)
    };
    let outcome = update_from_server(&out, &opts).map_err(|e| {
        let hint = if no_token && matches!(e, ServerError::Unauthorized { .. }) {
            "; pass --token or set HOLDFAST_TOKEN"
        } else {
            ""
        };
        anyhow::Error::new(e).context(format!("`{}` was not changed{hint}", out.display()))
    })?;
    if !quiet {
        match outcome {
            ServerUpdate::Current { sha256 } => eprintln!(
                "`{}` is current with {shown} (sha256 {sha256})",
                out.display()
            ),
            ServerUpdate::Installed {
                sha256,
                bytes,
                info,
            } => eprintln!(
                "updated {} from {shown}: {} advisories, built {}, {:.1} MiB (sha256 {sha256})",
                out.display(),
                info.advisories,
                info.built_at,
                bytes as f64 / f64::from(1 << 20)
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `holdfast db info`.
pub fn info(db: Option<&Path>) -> Result<ExitCode> {
    let path = db
        .map(Path::to_path_buf)
        .unwrap_or_else(holdfast_scan::default_db_path);
    let info = holdfast_vulndb::info(&path).with_context(|| {
        format!("cannot read the vulnerability database `{}`; build one with `holdfast db build --from OSV_DIR`", path.display())
    })?;
    println!("database: {}", path.display());
    let age = holdfast_scan::age_days(&info)
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
        println!("source: {} ({} advisories)", s.source, s.advisories);
    }
    Ok(ExitCode::SUCCESS)
}
