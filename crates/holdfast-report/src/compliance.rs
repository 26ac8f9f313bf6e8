//! The compliance format: each target's check results grouped by benchmark section and by
//! regulation (PCI DSS, GDPR, HIPAA, NIST SP 800-190), with counts per status, for audit
//! reports that must say which regulation each failure touches.

use holdfast_model::{CheckResult, CheckStatus, ScanResult, TargetResult};
use serde::Serialize;
use std::collections::BTreeMap;

/// The regulations, in report order.
const REGULATIONS: [&str; 4] = ["pci-dss", "gdpr", "hipaa", "nist-800-190"];

/// The compliance document.
#[derive(Serialize)]
pub(crate) struct ComplianceReport<'a> {
    schema_version: u32,
    created_at: &'a str,
    tool: &'a holdfast_model::ToolInfo,
    targets: Vec<TargetCompliance<'a>>,
}

#[derive(Serialize)]
struct TargetCompliance<'a> {
    name: &'a str,
    kind: &'static str,
    summary: BTreeMap<&'static str, usize>,
    sections: Vec<Section<'a>>,
    regulations: Vec<Regulation<'a>>,
}

#[derive(Serialize)]
struct Section<'a> {
    benchmark: &'a str,
    section: &'a str,
    summary: BTreeMap<&'static str, usize>,
    checks: Vec<&'a CheckResult>,
}

#[derive(Serialize)]
struct Regulation<'a> {
    regulation: &'static str,
    summary: BTreeMap<&'static str, usize>,
    /// Failed checks first, then the others, each `{id, title, status}`.
    checks: Vec<CheckRef<'a>>,
}

#[derive(Serialize)]
struct CheckRef<'a> {
    id: &'a str,
    title: &'a str,
    status: CheckStatus,
}

/// Counts per status; statuses no check ended with are left out.
fn summary<'a>(checks: impl Iterator<Item = &'a CheckResult>) -> BTreeMap<&'static str, usize> {
    CheckStatus::counts(checks)
        .into_iter()
        .map(|(s, n)| (s.as_str(), n))
        .collect()
}

fn target(t: &TargetResult) -> TargetCompliance<'_> {
    let mut sections: Vec<Section<'_>> = Vec::new();
    for c in &t.checks {
        match sections
            .iter_mut()
            .find(|s| s.benchmark == c.benchmark && s.section == c.section)
        {
            Some(s) => s.checks.push(c),
            None => sections.push(Section {
                benchmark: &c.benchmark,
                section: &c.section,
                summary: BTreeMap::new(),
                checks: vec![c],
            }),
        }
    }
    for s in &mut sections {
        s.summary = summary(s.checks.iter().copied());
    }
    let regulations = REGULATIONS
        .iter()
        .filter_map(|&regulation| {
            let mut checks: Vec<&CheckResult> = t
                .checks
                .iter()
                .filter(|c| c.tags.iter().any(|x| x == regulation))
                .collect();
            if checks.is_empty() {
                return None;
            }
            checks.sort_by_key(|c| c.status != CheckStatus::Warn);
            Some(Regulation {
                regulation,
                summary: summary(checks.iter().copied()),
                checks: checks
                    .into_iter()
                    .map(|c| CheckRef {
                        id: &c.id,
                        title: &c.title,
                        status: c.status,
                    })
                    .collect(),
            })
        })
        .collect();
    TargetCompliance {
        name: &t.name,
        kind: t.kind.as_str(),
        summary: summary(t.checks.iter()),
        sections,
        regulations,
    }
}

/// The report of a result; targets without check results are left out.
pub(crate) fn report(result: &ScanResult) -> ComplianceReport<'_> {
    ComplianceReport {
        schema_version: 1,
        created_at: &result.created_at,
        tool: &result.tool,
        targets: result
            .targets
            .iter()
            .filter(|t| !t.checks.is_empty())
            .map(target)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: &str, section: &str, status: &str, tags: &[&str]) -> serde_json::Value {
        serde_json::json!({
            "id": id, "title": format!("title of {id}"), "benchmark": "CIS Docker Benchmark v1.6.0",
            "section": section, "level": 1, "scored": true, "severity": "MEDIUM",
            "status": status, "evidence": [], "tags": tags, "aliases": [],
        })
    }

    #[test]
    fn grouped_by_section_and_regulation_failures_first() {
        let result: ScanResult = serde_json::from_value(serde_json::json!({
            "schema_version": 1, "tool": {"name": "holdfast", "version": "0"},
            "created_at": "2026-01-01T00:00:00Z", "db": null,
            "summary": {"targets": 2, "packages": 0, "findings": 0, "by_severity": {}, "warnings": 0},
            "targets": [
                {"kind": "host", "name": "docker (h)", "os": null, "layers": [], "packages": [],
                 "findings": [], "checks": [
                    check("CIS-DOCKER-2.1", "2 Daemon", "NOTE", &["nist-800-190"]),
                    check("CIS-DOCKER-2.2", "2 Daemon", "PASS", &["pci-dss", "nist-800-190"]),
                    check("CIS-DOCKER-5.4", "5 Runtime", "WARN", &["pci-dss"]),
                ]},
                {"kind": "image", "name": "no checks", "os": null, "layers": [], "packages": [], "findings": []}
            ]
        }))
        .unwrap();
        let report = serde_json::to_value(report(&result)).unwrap();
        assert_eq!(
            report["targets"].as_array().unwrap().len(),
            1,
            "targets without checks are left out"
        );
        let t = &report["targets"][0];
        assert_eq!(
            t["summary"],
            serde_json::json!({"NOTE": 1, "PASS": 1, "WARN": 1})
        );
        assert_eq!(t["sections"][0]["section"], "2 Daemon");
        assert_eq!(t["sections"][0]["checks"].as_array().unwrap().len(), 2);
        let pci = &t["regulations"][0];
        assert_eq!(pci["regulation"], "pci-dss");
        assert_eq!(pci["checks"][0]["id"], "CIS-DOCKER-5.4", "failures first");
        assert_eq!(
            t["regulations"].as_array().unwrap().len(),
            2,
            "only regulations with checks"
        );
    }
}
