//! The checkers that are not vulnerability matching: secrets, malware and webshells, weak
//! passwords, backdoors, container-escape risks, risky image history, setuid files.
//!
//! A checker has up to two parts:
//!
//! - **file-level analyzers** ([`Checker::analyzers`]) that run inside the single walk of
//!   each layer, like the package catalogers. They return [`FileFact::Finding`] for what
//!   one file proves on its own (a private key, a webshell) and [`FileFact::Record`] for
//!   what needs the whole image (shadow entries, a list of files dpkg owns). Their output
//!   is cached per layer with everything else, so a base layer is checked once.
//! - an **image-wide step** ([`Checker::check`]) that runs after the merge on
//!   [`ImageContext`]: the image config and history, the merged filesystem and the records.
//!
//! [`run`] collects both: file findings get their path, layer and `removed` flag from the
//! merge (a secret a later layer deleted is still in the image, so it is reported).
//! Adding a checker is one module and one line in [`checkers`].

pub mod backdoor;
mod escape;
mod finding_text;
mod history;
mod rules;
#[cfg(test)]
mod scan_test_support;
mod suid;
#[cfg(test)]
mod test_support;
pub mod weak_password;

use holdfast_analyze::analyzer::{AnalyzeError, FileFact};
use holdfast_analyze::merge::Placed;
use holdfast_analyze::{Analyzer, MergedFs};
use holdfast_model::{Finding, FindingKind, LayerInfo, Package, Warning};
use holdfast_source::ImageMetadata;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub mod malware;
pub mod secret;

/// Options the checkers take from the command line.
#[derive(Debug, Clone, Default)]
pub struct CheckConfig {
    pub weak_password: weak_password::Config,
    pub secret: secret::SecretConfig,
    pub malware: malware::MalwareConfig,
}

/// Everything an image-wide check may look at. Checks never touch the source.
pub struct ImageContext<'a> {
    pub metadata: &'a ImageMetadata,
    pub fs: &'a MergedFs,
    pub packages: &'a [Package],
    /// The image's layers, bottom first (same order as `MergedFs` layer indexes).
    pub layers: &'a [LayerInfo],
}

impl ImageContext<'_> {
    /// The diff_id of the layer at `index`, bottom first.
    pub fn layer_id(&self, index: usize) -> Option<String> {
        self.layers.get(index).and_then(|l| l.diff_id.clone())
    }

    /// The records of `kind` that `analyzer` left at visible paths, decoded, with their
    /// place. Records that do not decode as `T` are skipped.
    pub fn records<'s, T: DeserializeOwned>(
        &'s self,
        analyzer: &'s str,
        kind: &'s str,
    ) -> impl Iterator<Item = (&'s Placed, T)> + 's {
        let fs: &'s MergedFs = self.fs;
        fs.visible_all()
            .filter(move |p| p.result.analyzer == analyzer)
            .flat_map(move |p| records_in(p, kind).map(move |v| (p, v)))
    }

    /// `f` reported at the file of `placed`: its path, its layer, and `line`.
    pub fn at(&self, mut f: Finding, placed: &Placed, line: Option<u32>) -> Finding {
        f.path = Some(placed.result.path.clone());
        f.layer = self.layer_id(placed.layer);
        f.line = line;
        f
    }
}

/// A `FileFact::Record` of `kind` holding `value`, for a checker's image-wide step.
pub(crate) fn record<T: Serialize>(kind: &str, value: &T) -> Result<FileFact, AnalyzeError> {
    let data = serde_json::to_value(value)
        .map_err(|e| AnalyzeError::Malformed(format!("cannot record {kind}: {e}")))?;
    Ok(FileFact::Record {
        kind: kind.to_string(),
        data,
    })
}

/// The records of `kind` in one file result, decoded; records that do not decode as `T`
/// are skipped.
pub(crate) fn records_in<'a, T: DeserializeOwned>(
    placed: &'a Placed,
    kind: &'a str,
) -> impl Iterator<Item = T> + 'a {
    placed.result.facts.iter().filter_map(move |f| match f {
        FileFact::Record { kind: k, data } if k == kind => T::deserialize(data).ok(),
        _ => None,
    })
}

/// One checker: its file-level analyzers and its image-wide step.
pub trait Checker: Send + Sync {
    /// The finding kinds this checker produces; it runs when any of them is selected.
    fn kinds(&self) -> &'static [FindingKind];
    /// Analyzers to run in the layer walk. Their group is `AnalyzerGroup::Check(kind)`.
    fn analyzers(&self) -> Vec<Box<dyn Analyzer>> {
        Vec::new()
    }
    /// Findings that need the whole image, and warnings for what the step could not
    /// finish. File findings from the analyzers are collected by [`run`] and need not be
    /// repeated here.
    fn check(&self, _ctx: &ImageContext<'_>) -> Checked {
        Checked::default()
    }
}

/// What an image-wide step found, and what it skipped or could not finish. A warning is
/// not a finding: it does not count toward `--exit-code`.
#[derive(Debug, Default)]
pub struct Checked {
    /// The findings.
    pub findings: Vec<Finding>,
    /// What was skipped or left unfinished, with where.
    pub warnings: Vec<Warning>,
}

impl From<Vec<Finding>> for Checked {
    fn from(findings: Vec<Finding>) -> Self {
        Checked {
            findings,
            warnings: Vec::new(),
        }
    }
}

/// The checkers for the selected kinds, configured.
pub fn checkers(selected: &[FindingKind], config: &CheckConfig) -> Vec<Box<dyn Checker>> {
    let all: Vec<Box<dyn Checker>> = vec![
        Box::new(escape::EscapeChecker),
        Box::new(history::HistoryChecker),
        Box::new(suid::SuidChecker),
        Box::new(weak_password::WeakPasswordChecker::new(
            config.weak_password.clone(),
        )),
        Box::new(backdoor::BackdoorChecker::new()),
        Box::new(secret::SecretChecker::new(config.secret.clone())),
        Box::new(malware::MalwareChecker::new(config.malware.clone())),
    ];
    all.into_iter()
        .filter(|c| c.kinds().iter().any(|k| selected.contains(k)))
        .collect()
}

/// The analyzers of the given checkers, for the layer walk.
pub fn analyzers(checkers: &[Box<dyn Checker>]) -> Vec<Box<dyn Analyzer>> {
    checkers.iter().flat_map(|c| c.analyzers()).collect()
}

/// Runs the image-wide steps and collects the file findings; returns the findings of the
/// selected kinds, sorted, and the steps' warnings.
pub fn run(
    checkers: &[Box<dyn Checker>],
    selected: &[FindingKind],
    ctx: &ImageContext<'_>,
) -> Checked {
    let mut out = Checked::from(file_findings(ctx));
    for c in checkers {
        let step = c.check(ctx);
        out.findings.extend(step.findings);
        out.warnings.extend(step.warnings);
    }
    out.findings.retain(|f| selected.contains(&f.kind));
    sort_findings(&mut out.findings);
    out.warnings.sort();
    out
}

/// The `FileFact::Finding`s of every file result, visible or hidden by a later layer,
/// with their path, layer and `removed` flag filled in.
pub fn file_findings(ctx: &ImageContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |placed: &Placed, removed: bool| {
        for fact in &placed.result.facts {
            if let FileFact::Finding(f) = fact {
                let mut f = (**f).clone();
                if f.path.is_none() {
                    f.path = Some(placed.result.path.clone());
                }
                if f.layer.is_none() {
                    f.layer = ctx.layer_id(placed.layer);
                }
                f.removed = removed;
                out.push(f);
            }
        }
    };
    for by_analyzer in ctx.fs.stacks.values() {
        for stack in by_analyzer.values() {
            let top = stack.len().saturating_sub(1);
            for (i, placed) in stack.iter().enumerate() {
                push(placed, i != top);
            }
        }
    }
    for placed in &ctx.fs.removed {
        push(placed, true);
    }
    out
}

/// Deterministic order: kind, severity (worst first), id, path, line, layer.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (
            a.kind,
            std::cmp::Reverse(a.severity),
            &a.id,
            &a.path,
            a.line,
            &a.layer,
        )
            .cmp(&(
                b.kind,
                std::cmp::Reverse(b.severity),
                &b.id,
                &b.path,
                b.line,
                &b.layer,
            ))
    });
}
