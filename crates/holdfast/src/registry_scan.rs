//! `holdfast scan registry HOST`: list the registry, pick images, scan them concurrently
//! on one shared connection, and sum the outcome up. Also the registry flags every image
//! command takes (credentials, plain HTTP, a private CA).

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use clap::Args;
use globset::{Glob, GlobSet, GlobSetBuilder};
use holdfast_model::{
    FailedImage, ImageFindings, RegistrySummary, ScanResult, ScanSummary, Severity, TargetResult,
};
use holdfast_report::Format;
use holdfast_source::registry::{
    list_repositories, list_tags, parse_pull_secret, parse_reference, AuthOptions,
    RegistryConnection, Secret,
};
use holdfast_source::{RegistryOptions, RegistrySource, SourceError};

use crate::cli::ScanOptions;
use crate::output;
use crate::scan::{exit_code, scan_result, ScanPlan};

/// How to reach registries; taken by every command that opens images.
#[derive(Args, Debug, Clone, Default)]
pub struct RegistryArgs {
    /// Registry user name; the password is read from stdin (--password-stdin).
    #[arg(long, requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the registry password from stdin (with --username).
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
    /// A bearer token for the registry.
    #[arg(
        long = "registry-token",
        env = "HOLDFAST_REGISTRY_TOKEN",
        hide_env_values = true
    )]
    pub registry_token: Option<String>,
    /// A Kubernetes image pull secret (the Secret as YAML/JSON, or its .dockerconfigjson).
    #[arg(long)]
    pub pull_secret: Option<PathBuf>,
    /// Talk plain HTTP to this registry host[:port] (repeatable).
    #[arg(long = "insecure-registry")]
    pub insecure_registry: Vec<String>,
    /// PEM file with the CA certificate(s) of a private registry.
    #[arg(long)]
    pub registry_ca: Option<PathBuf>,
}

/// Reads the registry flags (and the files and stdin they name) into source options.
pub fn registry_options(args: &RegistryArgs) -> Result<RegistryOptions> {
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

/// Which images of a registry to scan, and how many at once.
#[derive(Args, Debug, Clone)]
pub struct RegistryScanArgs {
    /// Scan only repositories matching this glob (repeatable), e.g. 'team/*'.
    #[arg(long)]
    pub repo: Vec<String>,
    /// Scan only tags matching this glob (repeatable), e.g. 'v1.*'.
    #[arg(long)]
    pub tag: Vec<String>,
    /// Skip repositories or `repo:tag`s matching this glob (repeatable).
    #[arg(long)]
    pub exclude: Vec<String>,
    /// Per repository, scan only the N tags whose images were created last.
    #[arg(long)]
    pub newest: Option<usize>,
    /// Scan at most N images in all.
    #[arg(long)]
    pub max_images: Option<usize>,
    /// Images scanned at once.
    #[arg(long, default_value_t = 4)]
    pub parallel: usize,
}

fn globs(patterns: &[String], flag: &str) -> Result<Option<GlobSet>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p).with_context(|| format!("{flag} `{p}` is not a glob"))?);
    }
    Ok(Some(b.build()?))
}

/// One image picked for scanning.
struct Pick {
    /// `host/repo:tag`.
    image: String,
}

/// Runs `scan registry`.
pub fn run(
    host: &str,
    args: &RegistryScanArgs,
    opts: &ScanOptions,
    quiet: bool,
) -> Result<ExitCode> {
    let outputs = output::Outputs::from_scan_options(opts, Format::Table)?;
    let plan = ScanPlan::new(opts, false)?;
    let conn = RegistryConnection::new(host, &plan.open.registry)?;
    let repo_globs = globs(&args.repo, "--repo")?;
    let tag_globs = globs(&args.tag, "--tag")?;
    let exclude = globs(&args.exclude, "--exclude")?;
    let mut failed: Vec<FailedImage> = Vec::new();

    let repos: Vec<String> = list_repositories(&conn)?
        .into_iter()
        .filter(|r| repo_globs.as_ref().is_none_or(|g| g.is_match(r)))
        .filter(|r| !exclude.as_ref().is_some_and(|g| g.is_match(r)))
        .collect();
    let mut picks = Vec::new();
    for repo in &repos {
        let tags = match list_tags(&conn, repo) {
            Ok(t) => t,
            Err(e) => {
                failed.push(FailedImage {
                    image: format!("{host}/{repo}"),
                    error: e.to_string(),
                });
                continue;
            }
        };
        let mut tags: Vec<String> = tags
            .into_iter()
            .filter(|t| tag_globs.as_ref().is_none_or(|g| g.is_match(t)))
            .filter(|t| {
                !exclude
                    .as_ref()
                    .is_some_and(|g| g.is_match(format!("{repo}:{t}")))
            })
            .collect();
        if let Some(n) = args.newest {
            tags = newest_tags(&conn, &plan, host, repo, tags, n, &mut failed);
        }
        picks.extend(tags.into_iter().map(|t| Pick {
            image: format!("{host}/{repo}:{t}"),
        }));
    }
    if let Some(max) = args.max_images {
        picks.truncate(max);
    }
    if picks.is_empty() {
        bail!(
            "no image in `{host}` matches (repositories: {}, unreadable: {})",
            repos.len(),
            failed.len()
        );
    }

    let bar = progress_bar(picks.len(), quiet);
    let outcomes = scan_all(&conn, &plan, &picks, args.parallel, &bar);
    bar.finish_and_clear();

    let mut targets = Vec::new();
    let mut db = None;
    let mut scanned = 0;
    for (pick, outcome) in picks.iter().zip(outcomes) {
        match outcome {
            Ok((target, d)) => {
                match incomplete(&target) {
                    Some(reason) => failed.push(FailedImage {
                        image: pick.image.clone(),
                        error: reason,
                    }),
                    None => scanned += 1,
                }
                db = db.or(d);
                targets.push(target);
            }
            Err(e) => failed.push(FailedImage {
                image: pick.image.clone(),
                error: format!("{e:#}"),
            }),
        }
    }
    let summary = summarize(host, repos.len(), picks.len(), scanned, failed, &targets);
    let mut result = scan_result(targets, db);
    result.registry = Some(summary);
    outputs.write(&result)?;
    if outputs.table_on_stdout() {
        print_summary(&result);
    }
    if scanned == 0 {
        // Partial results are still written above; the failure reasons are in them.
        if !quiet {
            eprintln!(
                "error: none of the {} image(s) in `{host}` could be scanned whole",
                picks.len()
            );
        }
        return Ok(ExitCode::from(crate::cli::EXIT_ERROR));
    }
    Ok(exit_code(&result, opts.exit_code))
}

/// The progress bar for the whole registry; hidden unless stderr is a terminal.
fn progress_bar(len: usize, quiet: bool) -> indicatif::ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} images  {wide_msg}",
    ) {
        bar.set_style(style);
    }
    bar
}

type Outcome = Result<(TargetResult, Option<serde_json::Value>)>;

/// Scans the picks with `parallel` threads; outcomes come back in pick order.
fn scan_all(
    conn: &Arc<RegistryConnection>,
    plan: &ScanPlan,
    picks: &[Pick],
    parallel: usize,
    bar: &indicatif::ProgressBar,
) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..picks.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..parallel.clamp(1, picks.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(pick) = picks.get(i) else { break };
                bar.set_message(pick.image.clone());
                let outcome = scan_one(conn, plan, &pick.image);
                bar.inc(1);
                slots.lock().expect("no panics while holding the lock")[i] = Some(outcome);
            });
        }
    });
    slots
        .into_inner()
        .expect("lock not poisoned")
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(anyhow::anyhow!("not scanned"))))
        .collect()
}

fn scan_one(conn: &Arc<RegistryConnection>, plan: &ScanPlan, image: &str) -> Outcome {
    let source = open_image(conn, plan, image).with_context(|| format!("cannot open `{image}`"))?;
    plan.scan_source(&source, true)
}

/// Opens `host/repo:tag` on the shared connection, with the plan's platform and limits.
fn open_image(
    conn: &Arc<RegistryConnection>,
    plan: &ScanPlan,
    image: &str,
) -> Result<RegistrySource, SourceError> {
    let reference = parse_reference(image)?;
    RegistrySource::open_on(
        conn.clone(),
        &reference,
        image,
        plan.open.platform.as_ref(),
        plan.open.limits,
    )
}

/// Keeps the `n` tags whose images were created last (by the config's `created`).
fn newest_tags(
    conn: &Arc<RegistryConnection>,
    plan: &ScanPlan,
    host: &str,
    repo: &str,
    tags: Vec<String>,
    n: usize,
    failed: &mut Vec<FailedImage>,
) -> Vec<String> {
    let mut dated = Vec::new();
    for tag in tags {
        let image = format!("{host}/{repo}:{tag}");
        match open_image(conn, plan, &image) {
            Ok(src) => {
                use holdfast_source::Source;
                let created = src.metadata().config.created.as_deref().and_then(|c| {
                    time::OffsetDateTime::parse(c, &time::format_description::well_known::Rfc3339)
                        .ok()
                });
                dated.push((created, tag));
            }
            Err(e) => failed.push(FailedImage {
                image,
                error: e.to_string(),
            }),
        }
    }
    // Newest first; images without a date last.
    dated.sort_by_key(|d| std::cmp::Reverse(d.0));
    dated.into_iter().take(n).map(|(_, t)| t).collect()
}

/// Why a scanned image is not wholly scanned: a layer that could not be read.
fn incomplete(target: &TargetResult) -> Option<String> {
    target
        .warnings
        .iter()
        .find(|w| w.path.is_none() && w.message.starts_with("layer not scanned:"))
        .map(|w| w.message.clone())
}

fn summarize(
    host: &str,
    repositories: usize,
    selected: usize,
    scanned: usize,
    failed: Vec<FailedImage>,
    targets: &[TargetResult],
) -> RegistrySummary {
    let mut worst: Vec<ImageFindings> = targets
        .iter()
        .map(|t| ImageFindings {
            image: t.name.clone(),
            findings: t.findings.len(),
            by_severity: ScanSummary::of(std::slice::from_ref(t)).by_severity,
        })
        .collect();
    // Worst first: compare the counts from the most severe down, then the name.
    worst.sort_by(|a, b| {
        let key = |x: &ImageFindings| -> Vec<usize> {
            Severity::ALL
                .iter()
                .rev()
                .map(|s| x.by_severity.get(s).copied().unwrap_or(0))
                .collect()
        };
        key(b).cmp(&key(a)).then_with(|| a.image.cmp(&b.image))
    });
    RegistrySummary {
        registry: host.to_string(),
        repositories,
        images_selected: selected,
        images_scanned: scanned,
        failed,
        by_severity: ScanSummary::of(targets).by_severity,
        worst,
    }
}

/// A few lines after the table: what the registry scan covered.
fn print_summary(result: &ScanResult) {
    let Some(s) = &result.registry else { return };
    let counts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .map(|sev| format!("{sev:?}: {}", s.by_severity.get(sev).copied().unwrap_or(0)))
        .collect();
    println!();
    println!(
        "Registry {}: {}, {} selected, {} scanned, {} failed",
        s.registry,
        counted(s.repositories, "repository", "repositories"),
        counted(s.images_selected, "image", "images"),
        s.images_scanned,
        s.failed.len()
    );
    println!("Findings: {}", counts.join(", "));
    for w in s.worst.iter().filter(|w| w.findings > 0).take(5) {
        println!("  worst: {} ({} findings)", w.image, w.findings);
    }
    for f in &s.failed {
        println!("  failed: {}: {}", f.image, f.error);
    }
}

/// `n` with the noun that fits it: "1 repository", "2 repositories".
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
