//! What several writers need to know about a finding: the package it is about, the file it
//! points at, a stable fingerprint, a numeric score.

use std::collections::HashMap;

use std::borrow::Cow;

use holdfast_model::{Finding, Package, Severity, SuppressionInfo, TargetResult};

use crate::ids::short_hash;

/// A target's packages by name, built once per target so that looking up the package of
/// each of 10,000 findings does not scan the package list each time.
pub struct PackageIndex<'a> {
    by_name: HashMap<&'a str, Vec<&'a Package>>,
}

impl<'a> PackageIndex<'a> {
    /// Indexes the target's packages.
    pub fn new(target: &'a TargetResult) -> Self {
        let mut by_name: HashMap<&str, Vec<&Package>> = HashMap::new();
        for p in &target.packages {
            by_name.entry(p.name.as_str()).or_default().push(p);
        }
        PackageIndex { by_name }
    }

    /// The package a finding is about: same name and installed version, else same name.
    pub fn package_of(&self, f: &Finding) -> Option<&'a Package> {
        let list = self.by_name.get(f.package.as_deref()?)?;
        list.iter()
            .find(|p| Some(p.version.as_str()) == f.installed_version.as_deref())
            .or_else(|| list.first())
            .copied()
    }

    /// Every package a finding is about: for a finding with `locations`, the package of
    /// the same name and version read from each location's file; else [`package_of`].
    /// Without duplicates, in location order.
    ///
    /// [`package_of`]: Self::package_of
    pub fn packages_of(&self, f: &Finding) -> Vec<&'a Package> {
        let Some(list) = f.package.as_deref().and_then(|n| self.by_name.get(n)) else {
            return Vec::new();
        };
        let mut out: Vec<&'a Package> = Vec::new();
        for loc in &f.locations {
            let at = list
                .iter()
                .filter(|p| p.path == loc.path)
                .find(|p| Some(p.version.as_str()) == f.installed_version.as_deref())
                .or_else(|| list.iter().find(|p| p.path == loc.path));
            if let Some(p) = at {
                if !out.iter().any(|o| std::ptr::eq(*o, *p)) {
                    out.push(p);
                }
            }
        }
        if out.is_empty() {
            out.extend(self.package_of(f));
        }
        out
    }

    /// The file a finding points at: its own path, else the file its package was read from.
    pub fn file_of(&self, f: &'a Finding) -> Option<&'a str> {
        f.path
            .as_deref()
            .or_else(|| self.package_of(f).map(|p| p.path.as_str()))
            .filter(|p| !p.is_empty())
    }

    /// The layer a finding is in: its own, else its package's.
    pub fn layer_of(&self, f: &'a Finding) -> Option<&'a str> {
        f.layer
            .as_deref()
            .or_else(|| self.package_of(f).and_then(|p| p.layer.as_deref()))
    }
}

/// The finding once per place it applies to: a finding with several `locations` as copies
/// that each point at one of them (its `path` and `layer`), for formats that place a
/// result at one file (SARIF); any other finding as it is.
pub fn per_location(f: &Finding) -> Vec<Cow<'_, Finding>> {
    if f.locations.len() <= 1 {
        return vec![Cow::Borrowed(f)];
    }
    f.locations
        .iter()
        .map(|loc| {
            let mut one = f.clone();
            one.path = Some(loc.path.clone());
            one.layer = loc.layer.clone();
            Cow::Owned(one)
        })
        .collect()
}

/// `path:line`, `path`, or empty.
pub fn location(f: &Finding) -> String {
    match (&f.path, f.line) {
        (Some(p), Some(l)) => format!("{p}:{l}"),
        (Some(p), None) => p.clone(),
        _ => String::new(),
    }
}

/// What suppressed a finding, and where it was said: `vex (FILE)`, or `vex` alone.
pub fn suppressed_by(s: &SuppressionInfo) -> String {
    match &s.source {
        Some(src) => format!("{} ({src})", s.by),
        None => s.by.clone(),
    }
}

/// Whether a reference is a web link, the only kind a report makes clickable.
pub fn is_web_link(reference: &str) -> bool {
    reference.starts_with("https://") || reference.starts_with("http://")
}

/// The finding's own fingerprint, else a hash of what makes it this finding: the target,
/// kind, id, package and version, and where it was seen.
pub fn fingerprint(target: &TargetResult, f: &Finding) -> String {
    if let Some(fp) = &f.fingerprint {
        return fp.clone();
    }
    let seed = format!(
        "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
        target.name,
        f.kind.as_str(),
        f.id,
        f.package.as_deref().unwrap_or(""),
        f.installed_version.as_deref().unwrap_or(""),
        f.path.as_deref().unwrap_or(""),
        f.line.map(|l| l.to_string()).unwrap_or_default()
    );
    format!("holdfast:{}", short_hash(&seed))
}

/// The CVSS score when the advisory gave one, else a score in the middle of the severity's
/// CVSS band (the bands GitHub code scanning uses to name severities).
pub fn score(f: &Finding) -> f64 {
    f.cvss
        .as_ref()
        .and_then(|c| c.score)
        .unwrap_or_else(|| severity_score(f.severity))
}

/// The severity in lower case, as CycloneDX ratings and the HTML classes name it.
pub fn severity_lower(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Unknown => "unknown",
    }
}

/// A representative CVSS score for a severity with no score of its own.
pub fn severity_score(s: Severity) -> f64 {
    match s {
        Severity::Critical => 9.5,
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 2.0,
        Severity::Unknown => 0.0,
    }
}

/// Human-readable byte size (`12.3 MiB`).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// A path in the image as a relative URI reference (SARIF `artifactLocation.uri`): no
/// leading slash, and every byte that is not unreserved or `/` percent-encoded (RFC 3986),
/// so a file named `<script>` or `a:b` stays one path.
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.trim_start_matches('/').as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_model::FindingKind;

    #[test]
    fn uri_path_encodes_what_a_uri_reference_cannot_hold() {
        assert_eq!(uri_path("/var/lib/dpkg/status"), "var/lib/dpkg/status");
        assert_eq!(uri_path("/a b/<x>:y"), "a%20b/%3Cx%3E%3Ay");
        assert_eq!(uri_path("/é"), "%C3%A9");
    }

    #[test]
    fn scores_come_from_cvss_else_from_the_severity_band() {
        let mut f = Finding::new(FindingKind::Secret, "X", Severity::High, "t");
        assert_eq!(score(&f), 8.0);
        f.cvss = Some(holdfast_model::Cvss {
            vector: None,
            score: Some(7.1),
        });
        assert_eq!(score(&f), 7.1);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(29_123_456), "27.8 MiB");
    }
}
