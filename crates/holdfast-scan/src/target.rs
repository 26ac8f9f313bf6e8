//! Scanning one opened source: analysis, checkers, vulnerability matching, the policy.

use std::collections::HashMap;

use holdfast_analyze::{AnalyzeOptions, ImageFacts};
use holdfast_checks::Checker;
use holdfast_model::{
    DbDescription, Finding, FindingKind, Location, TargetResult, Warning, WarningKind,
};
use holdfast_source::Source;
use holdfast_vulndb::MatchedAdvisory;

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
        let mut findings = one_per_problem(matches);
        sort_worst_first(&mut findings);
        target.findings.extend(findings);
        Ok(open.description().clone())
    }
}

/// One finding per problem: matches of the same advisory on the same package identity
/// (ecosystem, name, version) become one finding whose `locations` list every path and
/// layer where that package was found, in the order the packages were found (the first
/// is also the finding's `path` and `layer`). Nineteen Go binaries built with one
/// toolchain make one stdlib finding with nineteen locations, not nineteen findings.
pub(crate) fn one_per_problem(matches: Vec<MatchedAdvisory>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let mut index: HashMap<(String, String, Option<String>, Option<String>), usize> =
        HashMap::new();
    for m in matches {
        let f = m.finding;
        let location = f.path.clone().map(|path| Location {
            path,
            layer: f.layer.clone(),
        });
        let key = (
            f.id.clone(),
            m.ecosystem,
            f.package.clone(),
            f.installed_version.clone(),
        );
        match index.get(&key) {
            Some(&i) => {
                if let Some(loc) = location {
                    if !out[i].locations.contains(&loc) {
                        out[i].locations.push(loc);
                    }
                }
            }
            None => {
                index.insert(key, out.len());
                let mut f = f;
                f.locations.extend(location);
                out.push(f);
            }
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_model::Severity;

    fn matched(id: &str, eco: &str, pkg: &str, version: &str, path: &str) -> MatchedAdvisory {
        let mut f = Finding::new(FindingKind::Vulnerability, id, Severity::High, "t");
        f.package = Some(pkg.into());
        f.installed_version = Some(version.into());
        f.path = Some(path.into());
        f.layer = Some(format!("sha256:{}", path.len()));
        MatchedAdvisory {
            finding: f,
            cvss_vector: None,
            cvss_score: None,
            package_index: 0,
            ecosystem: eco.into(),
            advisories: vec![id.into()],
        }
    }

    #[test]
    fn one_finding_per_advisory_and_package_identity() {
        let grouped = one_per_problem(vec![
            matched("GO-1", "Go", "stdlib", "v1.19.8", "/usr/bin/a"),
            matched("GO-2", "Go", "stdlib", "v1.19.8", "/usr/bin/a"),
            matched("GO-1", "Go", "stdlib", "v1.19.8", "/usr/bin/bb"),
            matched("GO-1", "Go", "stdlib", "v1.20.4", "/opt/esbuild"),
            matched("GO-1", "Go", "stdlib", "v1.19.8", "/usr/bin/a"),
            matched("GO-1", "PyPI", "stdlib", "v1.19.8", "/x/METADATA"),
        ]);
        let rows: Vec<(&str, &str, Vec<&str>)> = grouped
            .iter()
            .map(|f| {
                (
                    f.id.as_str(),
                    f.installed_version.as_deref().unwrap(),
                    f.locations.iter().map(|l| l.path.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("GO-1", "v1.19.8", vec!["/usr/bin/a", "/usr/bin/bb"]),
                ("GO-2", "v1.19.8", vec!["/usr/bin/a"]),
                ("GO-1", "v1.20.4", vec!["/opt/esbuild"]),
                ("GO-1", "v1.19.8", vec!["/x/METADATA"]),
            ]
        );
        // The first location stays in path and layer.
        assert_eq!(grouped[0].path.as_deref(), Some("/usr/bin/a"));
        assert_eq!(grouped[0].locations[1].layer.as_deref(), Some("sha256:11"));
    }
}
