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
use crate::{checks, output, report, vulns};

/// Dispatches a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let quiet = cli.global.quiet;
    match cli.command {
        Command::Scan(ScanCommand::Image { target, opts }) => {
            let spec = TargetSpec::parse_image(&target)?;
            scan(&spec, &target, &opts, Format::Table, quiet)
        }
        Command::Scan(ScanCommand::Registry { host, select, opts }) => {
            crate::registry_scan::run(&host, &select, &opts, quiet)
        }
        Command::Cache(cmd) => crate::cache_cmd::run(cmd),
        Command::Scan(ScanCommand::Rootfs { dir, opts }) => {
            let name = dir.display().to_string();
            scan(&TargetSpec::Rootfs(dir), &name, &opts, Format::Table, quiet)
        }
        Command::Scan(ScanCommand::Container { target, all, opts }) => {
            crate::container_scan::run(target.as_deref(), all, &opts, quiet)
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
        Command::Report(cmd) => report::run(cmd),
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

/// Everything a scan needs that does not depend on the target: built once from the flags,
/// reused for every target of a multi-target scan.
pub struct ScanPlan {
    pub scanners: Vec<FindingKind>,
    /// True for `sbom`: an inventory only, no findings.
    pub sbom: bool,
    pub checkers: Vec<Box<dyn holdfast_checks::Checker>>,
    pub analyzers: Vec<Box<dyn holdfast_analyze::Analyzer>>,
    pub open: OpenOptions,
    pub analyze: AnalyzeOptions,
    pub policy: holdfast_policy::Policy,
    /// The ignore file's path, when one was read.
    pub ignore_path: Option<String>,
    pub db: Option<std::path::PathBuf>,
    /// Redacts secrets in image data the result echoes (history commands).
    pub secret: holdfast_checks::secret::SecretConfig,
}

impl ScanPlan {
    /// Reads the flags (and the files they name) into a plan.
    pub fn new(opts: &ScanOptions, sbom: bool) -> Result<Self> {
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
            registry: crate::registry_scan::registry_options(&opts.registry)?,
        };
        // An SBOM is an inventory; findings are the scan commands' job.
        let scanners = if sbom {
            vec![FindingKind::Vulnerability]
        } else {
            selected_scanners(&opts.scanners)
        };
        let vuln = scanners.contains(&FindingKind::Vulnerability);
        let check_config = checks::check_config(opts, &scanners)?;
        let checkers = holdfast_checks::checkers(&scanners, &check_config);
        let mut analyzers = if vuln {
            holdfast_analyze::registry::select(&groups(&opts.pkg_types)?)
        } else {
            holdfast_analyze::registry::select(&[])
        };
        analyzers.extend(holdfast_checks::analyzers(&checkers));
        let cache = (!opts.no_cache).then(|| layer_cache(opts.cache_dir.clone()));
        let analyze = AnalyzeOptions {
            cache,
            limits: WalkLimits {
                max_file_bytes: opts.max_file_size,
                ..WalkLimits::default()
            },
        };
        let (policy, ignore_path) = policy(opts)?;
        Ok(ScanPlan {
            scanners,
            sbom,
            checkers,
            analyzers,
            open,
            analyze,
            policy,
            ignore_path,
            db: opts.db.clone(),
            secret: check_config.secret,
        })
    }

    /// Opens a target and scans it.
    pub fn scan_target(
        &self,
        spec: &TargetSpec,
        name: &str,
        quiet: bool,
    ) -> Result<(TargetResult, Option<serde_json::Value>)> {
        let source =
            open_target(spec, name, &self.open).with_context(|| format!("cannot open `{name}`"))?;
        self.scan_source(source.as_ref(), quiet)
    }

    /// Scans an opened source: analysis, checkers, vulnerability matching, then the
    /// policy. Returns the target's result and the vulnerability DB's description.
    pub fn scan_source(
        &self,
        source: &dyn holdfast_source::Source,
        quiet: bool,
    ) -> Result<(TargetResult, Option<serde_json::Value>)> {
        let name = source.metadata().name.clone();
        let facts = holdfast_analyze::analyze(source, &self.analyzers, &self.analyze);
        tracing::debug!(
            cached = facts.cached_layers,
            read = facts.read_layers,
            "layers"
        );
        let checked = holdfast_checks::run(
            &self.checkers,
            &self.scanners,
            &holdfast_checks::ImageContext {
                metadata: &facts.metadata,
                fs: &facts.fs,
                packages: &facts.packages,
                layers: &facts.layers,
            },
        );
        let mut target = target_result(facts);
        for layer in &mut target.layers {
            if let Some(cmd) = &layer.created_by {
                layer.created_by = Some(self.secret.redact_text(cmd));
            }
        }
        let db = if self.scanners.contains(&FindingKind::Vulnerability) && !self.sbom {
            vulns::scan_target(&mut target, self.db.as_deref(), quiet)?
        } else {
            None
        };
        target.findings.extend(checked.findings);
        target.warnings.extend(checked.warnings);
        if !quiet && !target.warnings.is_empty() {
            eprintln!(
                "warning: {} item(s) in `{name}` were skipped or unreadable; they are listed in the report",
                target.warnings.len()
            );
        }
        let suppressed_count = self.apply_policy(&mut target);
        if !quiet && suppressed_count > 0 {
            eprintln!(
                "note: {} finding(s) suppressed by --severity, --ignore-unfixed or the ignore file",
                suppressed_count
            );
        }
        Ok((target, db))
    }

    /// Filters the target's findings. VEX and ignore-rule decisions stay visible in the
    /// result (`suppressed`); the severity and fixed-only filters are views and just drop.
    /// Returns how many findings were taken out.
    fn apply_policy(&self, target: &mut TargetResult) -> usize {
        let policy = &self.policy;
        let (kept, suppressed) = policy.apply(std::mem::take(&mut target.findings));
        target.findings = kept;
        let count = suppressed.len();
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
                        source: self.ignore_path.clone(),
                        statement: Some(serde_json::json!({ "line": line })),
                    })
                }
                _ => None,
            };
            if f.suppression.is_some() {
                target.suppressed.push(f);
            }
        }
        count
    }
}

fn scan(
    spec: &TargetSpec,
    name: &str,
    opts: &ScanOptions,
    default: Format,
    quiet: bool,
) -> Result<ExitCode> {
    let outputs = output::Outputs::from_scan_options(opts, default)?;
    let plan = ScanPlan::new(opts, default != Format::Table)?;
    let (target, db) = plan.scan_target(spec, name, quiet)?;
    let result = scan_result(vec![target], db);
    outputs.write(&result)?;
    Ok(exit_code(&result, opts.exit_code))
}

/// The layer cache in `dir`, or in the default directory.
pub fn layer_cache(dir: Option<std::path::PathBuf>) -> LayerCache {
    LayerCache::new(dir.unwrap_or_else(LayerCache::default_dir))
}

/// The process exit code: `--exit-code` when findings remain after the filters, else
/// success.
pub fn exit_code(result: &ScanResult, code: u8) -> ExitCode {
    if result.summary.findings > 0 && code != 0 {
        ExitCode::from(code)
    } else {
        ExitCode::SUCCESS
    }
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

/// RFC 3339 to the second.
pub fn rfc3339(t: time::OffsetDateTime) -> Option<String> {
    t.replace_nanosecond(0)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// The result of a scan command: its targets, and the description of the vulnerability
/// DB when one was used.
pub fn scan_result(targets: Vec<TargetResult>, db: Option<serde_json::Value>) -> ScanResult {
    let created_at = rfc3339(time::OffsetDateTime::now_utc()).unwrap_or_default();
    ScanResult {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo {
            name: "holdfast".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        created_at,
        db,
        summary: ScanSummary::of(&targets),
        targets,
        registry: None,
    }
}
