//! Plain data shared by every holdfast crate.
//!
//! Nothing here does I/O: these are the nouns that flow from the analyzers to the
//! scanners and on to the report writers. The JSON shape of [`ScanResult`] is a public
//! contract (`docs/json-result.md`); change it only together with `SCHEMA_VERSION`.

mod cluster;
mod finding;
mod image;
pub mod names;
mod os;
mod package;
pub mod path;
mod purl;
mod registry_summary;
mod result;

pub use cluster::{risk_score, ClusterError, ClusterPod, ClusterSummary, PodImage, PodOwner};
pub use finding::{Cvss, Finding, FindingKind, FindingStatus, Location, Severity, SuppressionInfo};
pub use image::{
    ContainerMount, ContainerProcess, ContainerRuntime, HistoryEntry, ImageConfig, ImageMetadata,
    RootFs, RuntimeConfig,
};
pub use os::{OsFamily, OsRelease};
pub use package::{
    DependencyScope, DigestAlgorithm, Evidence, Package, PackageDigest, PackageType,
};
pub use purl::Purl;
pub use registry_summary::{FailedImage, ImageFindings, RegistrySummary};
pub use result::{
    Analysis, AnalysisSection, AnalysisSectionKind, AnalysisWarning, AnalysisWarningKind,
    ChangedCheck, CheckChanges, CheckEvidence, CheckResult, CheckStatus, DbDescription, LayerInfo,
    PluginRun, ScanResult, ScanSummary, TargetKind, TargetResult, ToolInfo, Warning, WarningKind,
    SCHEMA_VERSION,
};

/// An error and its causes on one line, `: `-joined, as `{:#}` of an `anyhow::Error`
/// prints them: the form warnings and per-item errors in results take.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}
