//! Scanning one opened source: analysis, checkers, vulnerability matching, the policy.

use holdfast_analyze::{AnalyzeOptions, ImageFacts};
use holdfast_checks::Checker;
use holdfast_model::{DbDescription, Finding, FindingKind, TargetResult, Warning, WarningKind};
use holdfast_source::Source;

use crate::db::STALE_AFTER_DAYS;
use crate::progress::{ProgressSink, ScanEvent};
use crate::{ScanError, ScanRequest};

/// What a request needs for every target, built once per request.
pub(crate) struct Plan<'r> {
    pub request: &'r ScanRequest,
    pub scanners: Vec<FindingKind>,
    checkers: Vec<Box<dyn Checker>>,
    analyzers: Vec<Box<dyn holdfast_analyze::Analyzer>>,
    analyze: AnalyzeOptions,
}

/// One scanned target, and the database description when it was matched.
pub(crate) type Scanned = (TargetResult, Option<DbDescription>);

impl<'r> Plan<'r> {
    pub fn new(request: &'r ScanRequest) -> Self {
        // An SBOM is an inventory; findings are the scan commands' job.
        let scanners = if request.sbom {
            vec![FindingKind::Vulnerability]
        } else if request.scanners.is_empty() {
            crate::default_scanners()
        } else {
            request.scanners.clone()
        };
        let vuln = scanners.contains(&FindingKind::Vulnerability);
        let checkers = holdfast_checks::checkers(&scanners, &request.checks);
        let mut analyzers = if vuln {
            holdfast_analyze::registry::select(&request.package_types)
        } else {
            holdfast_analyze::registry::select(&[])
        };
        analyzers.extend(holdfast_checks::analyzers(&checkers));
        Plan {
            request,
            scanners,
            checkers,
            analyzers,
            analyze: AnalyzeOptions {
                cache: request.cache.clone(),
                limits: request.walk,
            },
        }
    }

    fn matches_vulnerabilities(&self) -> bool {
        self.scanners.contains(&FindingKind::Vulnerability) && !self.request.sbom
    }

    /// Scans an opened source: analysis, checkers, vulnerability matching, then the
    /// policy. `fleet` marks an image of a registry scan in the events.
    pub fn scan_source(
        &self,
        source: &dyn Source,
        progress: &dyn ProgressSink,
        fleet: bool,
    ) -> Result<Scanned, ScanError> {
        let cancel = &self.request.cancel;
        cancel.check()?;
        let facts = holdfast_analyze::analyze(source, &self.analyzers, &self.analyze);
        tracing::debug!(
            cached = facts.cached_layers,
            read = facts.read_layers,
            "layers"
        );
        cancel.check()?;
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
                layer.created_by = Some(self.request.checks.secret.redact_text(cmd));
            }
        }
        cancel.check()?;
        let db = if self.matches_vulnerabilities() {
            Some(self.match_vulnerabilities(&mut target, progress)?)
        } else {
            None
        };
        target.findings.extend(checked.findings);
        target.warnings.extend(checked.warnings);
        let filtered = self
            .request
            .policy
            .filter_target(&mut target, self.request.ignore_source.as_deref());
        progress.event(&ScanEvent::TargetFinished {
            result: &target,
            filtered,
            fleet,
        });
        Ok((target, db))
    }

    /// Matches the target's packages against the shared database; findings worst first.
    fn match_vulnerabilities(
        &self,
        target: &mut TargetResult,
        progress: &dyn ProgressSink,
    ) -> Result<DbDescription, ScanError> {
        let open = self.request.db.get(progress)?;
        if let Some(days) = open.age_days().filter(|d| *d > STALE_AFTER_DAYS) {
            progress.event(&ScanEvent::StaleDatabase { days });
            target.warnings.push(Warning::general(
                WarningKind::Database,
                None,
                format!(
                    "the vulnerability database is {days} days old; rebuild it for current advisories"
                ),
            ));
        }
        let matches = open
            .db()
            .match_packages(target.os.as_ref(), &target.packages)
            .map_err(|source| ScanError::Match {
                path: open.path().to_path_buf(),
                source,
            })?;
        let mut findings: Vec<Finding> = matches.into_iter().map(|m| m.finding).collect();
        sort_worst_first(&mut findings);
        target.findings.extend(findings);
        Ok(open.description().clone())
    }
}

/// Vulnerability findings in the order results show them: most severe first, then by
/// package and id.
pub(crate) fn sort_worst_first(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (std::cmp::Reverse(a.severity), &a.package, &a.id).cmp(&(
            std::cmp::Reverse(b.severity),
            &b.package,
            &b.id,
        ))
    });
}

fn target_result(facts: ImageFacts) -> TargetResult {
    let md = facts.metadata;
    TargetResult {
        kind: md.kind,
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
