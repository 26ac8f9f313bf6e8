//! Runs a scan: opens the target, analyzes it, builds the result, writes the outputs.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use holdfast_analyze::{AnalyzeOptions, AnalyzerGroup, ImageFacts, WalkLimits};
use holdfast_model::{
    FindingKind, ScanResult, ScanSummary, TargetKind, TargetResult, ToolInfo, SCHEMA_VERSION,
};
use holdfast_report::Format;
use holdfast_source::{
    open_target, DecompressLimits, LayerCache, OpenOptions, SourceKind, TargetSpec,
};

use crate::cli::{Cli, Command, DbCommand, ScanCommand, ScanOptions};
use crate::{output, vulns};

/// Dispatches a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let quiet = cli.global.quiet;
    match cli.command {
        Command::Scan(ScanCommand::Image { target, opts }) => {
            let spec = TargetSpec::parse_image(&target)?;
            scan(&spec, &target, &opts, Format::Table, quiet)
        }
        Command::Scan(ScanCommand::Rootfs { dir, opts }) => {
            let name = dir.display().to_string();
            scan(&TargetSpec::Rootfs(dir), &name, &opts, Format::Table, quiet)
        }
        Command::Sbom { target, opts } => {
            let spec = TargetSpec::parse_image(&target)?;
            scan(&spec, &target, &opts, Format::CycloneDx, quiet)
        }
        Command::Db(DbCommand::Build { from, output }) => {
            vulns::build(&from, output.as_deref(), quiet)
        }
        Command::Db(DbCommand::Info { db }) => vulns::info(db.as_deref()),
        Command::Db(DbCommand::Update {
            feed_url,
            ecosystem,
            output,
        }) => vulns::update(&feed_url, &ecosystem, output.as_deref(), quiet),
    }
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

/// The scanners to run: the ones named, or every one holdfast has.
fn selected_scanners(named: &[FindingKind]) -> Vec<FindingKind> {
    if named.is_empty() {
        FindingKind::ALL
            .into_iter()
            .filter(|k| !matches!(k, FindingKind::Misconfiguration | FindingKind::Compliance))
            .collect()
    } else {
        named.to_vec()
    }
}

fn scan(
    spec: &TargetSpec,
    name: &str,
    opts: &ScanOptions,
    default: Format,
    quiet: bool,
) -> Result<ExitCode> {
    let formats = output::parse_formats(&opts.format, default)?;
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
    };
    // An SBOM is an inventory; findings are the scan commands' job.
    let sbom = default != Format::Table;
    let scanners = if sbom {
        vec![FindingKind::Vulnerability]
    } else {
        selected_scanners(&opts.scanners)
    };
    let vuln = scanners.contains(&FindingKind::Vulnerability);
    let check_config = holdfast_checks::CheckConfig::default();
    let checkers = holdfast_checks::checkers(&scanners, &check_config);
    let mut analyzers = if vuln {
        holdfast_analyze::registry::select(&groups(&opts.pkg_types)?)
    } else {
        holdfast_analyze::registry::select(&[])
    };
    analyzers.extend(holdfast_checks::analyzers(&checkers));
    let source = open_target(spec, name, &open).with_context(|| format!("cannot open `{name}`"))?;
    let cache = (!opts.no_cache).then(|| {
        LayerCache::new(
            opts.cache_dir
                .clone()
                .unwrap_or_else(LayerCache::default_dir),
        )
    });
    let analyze_opts = AnalyzeOptions {
        cache,
        limits: WalkLimits {
            max_file_bytes: opts.max_file_size,
            ..WalkLimits::default()
        },
    };
    let facts = holdfast_analyze::analyze(source.as_ref(), &analyzers, &analyze_opts);
    tracing::debug!(
        cached = facts.cached_layers,
        read = facts.read_layers,
        "layers"
    );
    let check_findings = holdfast_checks::run(
        &checkers,
        &scanners,
        &holdfast_checks::ImageContext {
            metadata: &facts.metadata,
            fs: &facts.fs,
            packages: &facts.packages,
            layers: &facts.layers,
        },
    );
    let mut target = target_result(facts);
    let db = if vuln && !sbom {
        vulns::scan_target(&mut target, opts.db.as_deref(), quiet)?
    } else {
        None
    };
    target.findings.extend(check_findings);
    if !quiet && !target.warnings.is_empty() {
        eprintln!(
            "warning: {} item(s) in `{name}` were skipped or unreadable; they are listed in the report",
            target.warnings.len()
        );
    }
    let (policy, ignore_path) = policy(opts)?;
    let (kept, suppressed) = policy.apply(std::mem::take(&mut target.findings));
    target.findings = kept;
    // VEX and ignore-rule decisions stay visible in the result; the severity and
    // fixed-only filters are views and just drop.
    let suppressed_count = suppressed.len();
    for (mut f, why) in suppressed {
        f.suppression = match why {
            holdfast_policy::Suppression::Vex { statement } => {
                let (source, st) = &policy.vex[statement];
                Some(holdfast_model::SuppressionInfo {
                    by: "vex".into(),
                    source: Some(source.clone()),
                    statement: Some(st.raw.clone()),
                })
            }
            holdfast_policy::Suppression::IgnoreRule { line } => {
                Some(holdfast_model::SuppressionInfo {
                    by: "ignore-file".into(),
                    source: ignore_path.clone(),
                    statement: Some(serde_json::json!({ "line": line })),
                })
            }
            _ => None,
        };
        if f.suppression.is_some() {
            target.suppressed.push(f);
        }
    }
    if !quiet && suppressed_count > 0 {
        eprintln!(
            "note: {} finding(s) suppressed by --severity, --ignore-unfixed or the ignore file",
            suppressed_count
        );
    }
    let failing = !target.findings.is_empty();
    let mut result = scan_result(vec![target]);
    result.db = db;
    output::write_all(&result, &formats, opts.output.as_deref())?;
    Ok(if failing && opts.exit_code != 0 {
        ExitCode::from(opts.exit_code)
    } else {
        ExitCode::SUCCESS
    })
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

fn target_result(facts: ImageFacts) -> TargetResult {
    let md = facts.metadata;
    TargetResult {
        kind: match md.kind {
            SourceKind::Image => TargetKind::Image,
            SourceKind::Rootfs => TargetKind::Rootfs,
            SourceKind::Container => TargetKind::Container,
        },
        name: md.name,
        image_id: md.image_id,
        platform: md.config.platform_string(),
        os: facts.os,
        layers: facts.layers,
        packages: facts.packages,
        findings: Vec::new(),
        suppressed: Vec::new(),
        warnings: facts.warnings,
    }
}

fn scan_result(targets: Vec<TargetResult>) -> ScanResult {
    let created_at = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    ScanResult {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo {
            name: "holdfast".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        created_at,
        db: None,
        summary: ScanSummary::of(&targets),
        targets,
    }
}
