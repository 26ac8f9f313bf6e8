//! The summary of a whole-registry scan (`holdfast scan registry`), kept beside the
//! per-image targets of the result.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Severity;

/// What a registry scan covered and how it went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrySummary {
    /// The registry, `host[:port]`.
    pub registry: String,
    /// Repositories listed by the catalog (after `--repo`/`--exclude`).
    pub repositories: usize,
    /// Images selected for scanning (after the tag filters and `--max-images`).
    pub images_selected: usize,
    /// Images whose every layer was read.
    pub images_scanned: usize,
    /// Images that could not be scanned, or not wholly, with the reason.
    pub failed: Vec<FailedImage>,
    /// Findings per severity over all images.
    pub by_severity: BTreeMap<Severity, usize>,
    /// Images by their findings, the worst first (most critical, then high, ...).
    pub worst: Vec<ImageFindings>,
}

/// An image a registry scan could not (wholly) scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedImage {
    /// `host/repo:tag`.
    pub image: String,
    pub error: String,
}

/// One image's findings, counted per severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageFindings {
    pub image: String,
    pub findings: usize,
    pub by_severity: BTreeMap<Severity, usize>,
}
