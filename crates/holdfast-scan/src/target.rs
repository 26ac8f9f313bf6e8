//! Scanning one opened source: analysis, checkers, vulnerability matching, the policy.

use std::collections::{BTreeMap, HashMap};

use holdfast_analyze::{AnalyzeOptions, AnalyzerGroup, ImageFacts};
use holdfast_checks::Checker;
use holdfast_model::{
    DbDescription, Finding, FindingKind, Location, Package, TargetResult, Warning, WarningKind,
};
use holdfast_source::{ContainerEngine, EngineSocket, Source};
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
    /// The `misconfig` scanner's compiled checks, when it runs.
    image_checks: Option<holdfast_compliance::ImageChecks>,
    /// The OS package catalogers run only to learn which files OS packages own (language
    /// packages were asked for, OS packages were not): their packages are dropped.
    drop_os_packages: bool,
}

/// One scanned target, and the database description when it was matched.
pub(crate) type Scanned = (TargetResult, Option<DbDescription>);

impl<'r> Plan<'r> {
    pub fn new(request: &'r ScanRequest) -> Result<Self, ScanError> {
        // An SBOM is an inventory; findings are the scan commands' job.
        let scanners = crate::effective_scanners(request.sbom, &request.scanners);
        let vuln = scanners.contains(&FindingKind::Vulnerability);
        let checkers = holdfast_checks::checkers(&scanners, &request.checks);
        // Owners of language packages come from the OS package databases' file lists,
        // so those catalogers run whenever language packages are inventoried.
        let mut groups = request.package_types.clone();
        let drop_os_packages = vuln
            && groups.contains(&AnalyzerGroup::Library)
            && !groups.contains(&AnalyzerGroup::OsPackages);
        if drop_os_packages {
            groups.push(AnalyzerGroup::OsPackages);
        }
        let mut analyzers = if vuln {
            holdfast_analyze::registry::select(&groups)
        } else {
            holdfast_analyze::registry::select(&[])
        };
        analyzers.extend(holdfast_checks::analyzers(&checkers));
        let image_checks = if scanners.contains(&FindingKind::Misconfiguration) {
            let m = &request.misconfig;
            Some(
                holdfast_compliance::ImageChecks::new(&m.policies, &m.regulations)
                    .map_err(ScanError::Misconfig)?,
            )
        } else {
            None
        };
        Ok(Plan {
            request,
            scanners,
            checkers,
            analyzers,
            analyze: AnalyzeOptions {
                cache: request.cache.clone(),
                limits: request.walk,
            },
            drop_os_packages,
            image_checks,
        })
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
        self.scan_source_of(source, None, progress, fleet)
    }

    /// [`Plan::scan_source`] for a container of `engine`, which the `misconfig` scanner
    /// asks for the container's settings.
    pub fn scan_source_of(
        &self,
        source: &dyn Source,
        engine: Option<ContainerEngine>,
        progress: &dyn ProgressSink,
        fleet: bool,
    ) -> Result<Scanned, ScanError> {
        let cancel = &self.request.cancel;
        cancel.check()?;
        let mut facts = timed("layers analysed and merged", || {
            holdfast_analyze::analyze(source, &self.analyzers, &self.analyze)
        });
        if self.drop_os_packages {
            facts.packages.retain(|p| !p.package_type.is_os());
        }
        if self.request.skip_os_owned {
            facts.packages.retain(|p| p.owner.is_none());
        }
        tracing::debug!(
            cached = facts.cached_layers,
            read = facts.read_layers,
            "layers"
        );
        cancel.check()?;
        let checked = timed("image-wide checks", || {
            holdfast_checks::run(
                &self.checkers,
                &self.scanners,
                &holdfast_checks::ImageContext {
                    metadata: &facts.metadata,
                    fs: &facts.fs,
                    packages: &facts.packages,
                    layers: &facts.layers,
                },
            )
        });
        let misconfig = self
            .image_checks
            .as_ref()
            .map(|checks| self.judge_misconfig(checks, &facts.metadata, engine));
        let plugin_facts =
            (!self.request.sbom && !self.request.plugins.plugins.is_empty()).then(|| {
                let config = match facts.metadata.kind {
                    holdfast_model::TargetKind::Rootfs => serde_json::Value::Null,
                    _ => serde_json::to_value(&facts.metadata.config.config).unwrap_or_default(),
                };
                (config, facts.metadata.kind)
            });
        let mut target = target_result(facts);
        for layer in &mut target.layers {
            if let Some(cmd) = &layer.created_by {
                layer.created_by = Some(self.request.checks.secret.redact_text(cmd));
            }
        }
        cancel.check()?;
        let db = if self.matches_vulnerabilities() {
            Some(timed("vulnerability matching", || {
                self.match_vulnerabilities(&mut target, progress)
            })?)
        } else {
            None
        };
        target.findings.extend(checked.findings);
        target.warnings.extend(checked.warnings);
        if let Some((judged, warnings)) = misconfig {
            target.checks.extend(judged.checks);
            target.findings.extend(judged.findings);
            target.warnings.extend(warnings);
        }
        if let Some((config, kind)) = plugin_facts {
            cancel.check()?;
            let facts = crate::plugins::TargetFacts {
                kind,
                name: &target.name,
                image_id: target.image_id.as_deref(),
                config,
                packages: &target.packages,
            };
            let ran = crate::plugins::run_plugins(&self.request.plugins, source, &facts);
            target.findings.extend(ran.findings);
            target.warnings.extend(ran.warnings);
            target.plugins = ran.runs;
        }
        self.finish(&mut target, progress, fleet);
        Ok((target, db))
    }

    /// The `misconfig` scanner on one target: the image's config and history, and for a
    /// container of the Engine API (Docker, Podman's service) its settings as the Engine
    /// API gives them. The container's facts are read now, so they are the current ones.
    fn judge_misconfig(
        &self,
        checks: &holdfast_compliance::ImageChecks,
        metadata: &holdfast_model::ImageMetadata,
        engine: Option<ContainerEngine>,
    ) -> (holdfast_compliance::ImageJudgement, Vec<Warning>) {
        let warn =
            |kind, message: String| Warning::general(kind, None, format!("misconfig: {message}"));
        let mut warnings = Vec::new();
        let container = match (engine, &metadata.container) {
            (Some(engine), Some(runtime)) => match self.container_document(engine, &runtime.id) {
                Ok((doc, errors)) => {
                    warnings.extend(errors.into_iter().map(|e| warn(WarningKind::Other, e)));
                    doc
                }
                Err((kind, message)) => {
                    warnings.push(warn(kind, message));
                    None
                }
            },
            _ => None,
        };
        let judged = checks.judge(metadata, container.as_ref());
        warnings.extend(
            judged
                .warnings
                .iter()
                .map(|w| warn(WarningKind::Other, w.clone())),
        );
        (judged, warnings)
    }

    /// The `docker-container` document of container `id` from its engine's Engine API, and
    /// what the API could not answer; the warning's kind and text when there is none.
    fn container_document(
        &self,
        engine: ContainerEngine,
        id: &str,
    ) -> Result<(Option<serde_json::Value>, Vec<String>), (WarningKind, String)> {
        let socket = match engine {
            ContainerEngine::Docker => Some(EngineSocket::Docker),
            ContainerEngine::Podman => self
                .request
                .open
                .podman
                .api_socket()
                .map(EngineSocket::Podman),
            ContainerEngine::Containerd => None,
        };
        let Some(socket) = socket else {
            let which = match engine {
                ContainerEngine::Podman => "Podman without its service",
                other => other.name(),
            };
            return Err((
                WarningKind::NotApplicable,
                format!("the container checks read the Engine API's inspect, which {which} has not: only the container's image is judged"),
            ));
        };
        let facts = holdfast_source::docker_facts::read_container(&socket, id).map_err(|e| {
            (
                WarningKind::Other,
                format!(
                    "the container's settings could not be read, so only its image is judged: {e}"
                ),
            )
        })?;
        let errors = facts.errors.clone();
        let dockerd = engine == ContainerEngine::Docker;
        let doc = holdfast_compliance::docker_host::container_documents(facts, dockerd).pop();
        Ok((doc, errors))
    }

    /// The last step of every target, scanned here or built by the compliance engine: the
    /// request's policy filters its findings, and it is announced as finished.
    pub(crate) fn finish(
        &self,
        target: &mut TargetResult,
        progress: &dyn ProgressSink,
        fleet: bool,
    ) {
        let filtered = self
            .request
            .policy
            .filter_target(target, self.request.ignore_source.as_deref());
        progress.event(&ScanEvent::TargetFinished {
            result: target,
            filtered,
            fleet,
        });
    }

    /// Matches the target's packages against the shared database; findings worst first.
    fn match_vulnerabilities(
        &self,
        target: &mut TargetResult,
        progress: &dyn ProgressSink,
    ) -> Result<DbDescription, ScanError> {
        let open = self.request.db.get(progress)?;
        match_target(&open, target, progress)
    }
}

/// Matches a target's packages against an open database and adds the findings, worst
/// first; warns when the database is stale. The scan and [`crate::rematch`] share it.
pub(crate) fn match_target(
    open: &crate::OpenDb,
    target: &mut TargetResult,
    progress: &dyn ProgressSink,
) -> Result<DbDescription, ScanError> {
    {
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
        name_os_owners(&mut findings, &target.packages);
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

/// Gives each vulnerability finding about a language package that OS packages own (its
/// [`Package::owner`]) a remediation naming them: the fix comes through an upgrade of the
/// OS package, not through the language's package manager. Locations no OS package owns
/// are named too, with the usual upgrade. Findings without an owned location are left
/// alone.
pub(crate) fn name_os_owners(findings: &mut [Finding], packages: &[Package]) {
    let owner_of: HashMap<&str, &str> = packages
        .iter()
        .filter_map(|p| Some((p.path.as_str(), p.owner.as_deref()?)))
        .collect();
    if owner_of.is_empty() {
        return;
    }
    for f in findings
        .iter_mut()
        .filter(|f| f.kind == FindingKind::Vulnerability)
    {
        let paths: Vec<&str> = if f.locations.is_empty() {
            f.path.as_deref().into_iter().collect()
        } else {
            f.locations.iter().map(|l| l.path.as_str()).collect()
        };
        let mut owned: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut unowned: Vec<&str> = Vec::new();
        for path in paths {
            match owner_of.get(path) {
                Some(owner) => owned.entry(owner).or_default().push(path),
                None => unowned.push(path),
            }
        }
        if owned.is_empty() {
            continue;
        }
        let package = f.package.as_deref().unwrap_or("the package");
        f.remediation = Some(owned_remediation(
            package,
            f.fixed_version.as_deref(),
            &owned,
            &unowned,
        ));
    }
}

/// The remediation text of [`name_os_owners`].
fn owned_remediation(
    package: &str,
    fixed: Option<&str>,
    owned: &BTreeMap<&str, Vec<&str>>,
    unowned: &[&str],
) -> String {
    let mut text = if owned.len() == 1 {
        let (owner, paths) = owned.iter().next().expect("one owner");
        format!(
            "Fixed through the OS package {owner}: upgrade it ({package} in {} comes from it).",
            list(paths)
        )
    } else {
        let each: Vec<String> = owned
            .iter()
            .map(|(owner, paths)| format!("{owner} ({})", list(paths)))
            .collect();
        format!(
            "Fixed through the OS packages that ship {package}: upgrade {}.",
            each.join(", ")
        )
    };
    if !unowned.is_empty() {
        let upgrade = match fixed {
            Some(v) => format!("upgrade {package} to {v} or later"),
            None => format!("upgrade {package} when a fix is released"),
        };
        text.push_str(&format!(
            " In {}, which no OS package owns, {upgrade}.",
            list(unowned)
        ));
    }
    text
}

/// Up to three paths, then how many more.
fn list(paths: &[&str]) -> String {
    const SHOWN: usize = 3;
    let mut out = paths
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > SHOWN {
        out.push_str(&format!(" and {} more", paths.len() - SHOWN));
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
        created: md.config.created.clone().filter(|c| !c.is_empty()),
        os: facts.os,
        layers: facts.layers,
        packages: facts.packages,
        findings: Vec::new(),
        suppressed: Vec::new(),
        warnings: facts.warnings,
        plugins: Vec::new(),
        checks: Vec::new(),
    }
}

/// Runs `f`, and logs at debug level how long `what` took.
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let started = std::time::Instant::now();
    let out = f();
    tracing::debug!("{what} in {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
    out
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

    fn package(path: &str, owner: Option<&str>) -> Package {
        Package {
            id: String::new(),
            name: "stdlib".into(),
            version: "v1.19.8".into(),
            package_type: holdfast_model::PackageType::Golang,
            purl: String::new(),
            source_name: None,
            source_version: None,
            arch: None,
            epoch: None,
            licenses: Vec::new(),
            vendor: None,
            ecosystem: Some("Go".into()),
            scope: None,
            layer: None,
            path: path.into(),
            owner: owner.map(str::to_string),
            digests: Vec::new(),
            evidence: None,
        }
    }

    #[test]
    fn owned_findings_name_the_os_package() {
        let mut findings = one_per_problem(vec![
            matched("GO-1", "Go", "stdlib", "v1.19.8", "/usr/bin/registry"),
            matched("GO-2", "Go", "stdlib", "v1.19.8", "/usr/bin/registry"),
            matched("GO-2", "Go", "stdlib", "v1.19.8", "/usr/bin/skopeo"),
            matched("GO-2", "Go", "stdlib", "v1.19.8", "/opt/app"),
            matched("GO-3", "Go", "stdlib", "v1.19.8", "/opt/app"),
        ]);
        findings[1].fixed_version = Some("1.20.1".into());
        let packages = [
            package("/usr/bin/registry", Some("deb/docker-registry")),
            package("/usr/bin/skopeo", Some("deb/skopeo")),
            package("/opt/app", None),
        ];
        name_os_owners(&mut findings, &packages);
        let texts: Vec<Option<&str>> = findings.iter().map(|f| f.remediation.as_deref()).collect();
        assert_eq!(
            texts,
            [
                Some("Fixed through the OS package deb/docker-registry: upgrade it (stdlib in /usr/bin/registry comes from it)."),
                Some("Fixed through the OS packages that ship stdlib: upgrade deb/docker-registry (/usr/bin/registry), deb/skopeo (/usr/bin/skopeo). In /opt/app, which no OS package owns, upgrade stdlib to 1.20.1 or later."),
                None,
            ]
        );
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
