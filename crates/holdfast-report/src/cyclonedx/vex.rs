//! CycloneDX `vulnerabilities`: every finding, rated, pointing (`affects`) at the package
//! component it is about or at the image itself, with an `analysis` for the findings a VEX
//! statement or an ignore rule suppressed.
//!
//! Findings of the checkers (secrets, malware, escape risks, ...) are listed too: CycloneDX
//! defines a vulnerability as a weakness of a component, and the image is one; their
//! `holdfast:kind` property says which scanner spoke.

use holdfast_model::{Finding, ScanResult, SuppressionInfo, TargetResult};
use serde::Serialize;

use super::{prop, target_ref, Property};
use crate::ids::short_hash;
use crate::locate::{fingerprint, is_web_link, severity_lower, PackageIndex};

#[derive(Serialize)]
pub struct Vulnerability {
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Source>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<Reference>,
    ratings: Vec<Rating>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recommendation: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    advisories: Vec<Advisory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis: Option<Analysis>,
    affects: Vec<Affects>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Source {
    name: String,
}

#[derive(Serialize)]
struct Reference {
    id: String,
    source: Source,
}

#[derive(Serialize)]
struct Rating {
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    severity: &'static str,
    method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    vector: Option<String>,
}

#[derive(Serialize)]
struct Advisory {
    url: String,
}

#[derive(Serialize)]
struct Analysis {
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    response: Vec<&'static str>,
    detail: String,
}

#[derive(Serialize)]
struct Affects {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    versions: Vec<AffectedVersion>,
}

#[derive(Serialize)]
struct AffectedVersion {
    version: String,
    status: &'static str,
}

/// The database an id comes from, by its prefix.
fn source_of(id: &str) -> Option<&'static str> {
    let upper = id.to_ascii_uppercase();
    [
        ("CVE-", "NVD"),
        ("GHSA-", "GitHub Advisory Database"),
        ("PYSEC-", "PyPA Advisory Database"),
        ("RUSTSEC-", "RustSec"),
        ("GO-", "Go Vulnerability Database"),
        ("DSA-", "Debian Security Tracker"),
        ("DLA-", "Debian Security Tracker"),
        ("ALPINE-", "Alpine secdb"),
        ("OSV-", "OSV"),
    ]
    .iter()
    .find(|(p, _)| upper.starts_with(p))
    .map(|(_, n)| *n)
}

/// The rating method a CVSS vector names (`CVSS:3.1/...` is CVSSv31).
fn method_of(vector: &str) -> &'static str {
    if vector.starts_with("CVSS:4.0") {
        "CVSSv4"
    } else if vector.starts_with("CVSS:3.1") {
        "CVSSv31"
    } else if vector.starts_with("CVSS:3.0") {
        "CVSSv3"
    } else if vector.starts_with("AV:") {
        "CVSSv2"
    } else {
        "other"
    }
}

fn ratings(f: &Finding) -> Vec<Rating> {
    let cvss = f.cvss.as_ref();
    let vector = cvss.and_then(|c| c.vector.clone());
    vec![Rating {
        score: cvss.and_then(|c| c.score),
        severity: severity_lower(f.severity),
        method: vector.as_deref().map(method_of).unwrap_or("other"),
        vector,
    }]
}

/// OpenVEX justifications (<https://github.com/openvex/spec>) in CycloneDX's terms.
fn cdx_justification(openvex: &str) -> Option<&'static str> {
    match openvex {
        "component_not_present" | "vulnerable_code_not_present" => Some("code_not_present"),
        "vulnerable_code_not_in_execute_path" => Some("code_not_reachable"),
        "vulnerable_code_cannot_be_controlled_by_adversary"
        | "inline_mitigations_already_exist" => Some("protected_by_mitigating_control"),
        _ => None,
    }
}

/// The analysis of a suppressed finding: what decided it, and why, in words.
fn analysis(s: &SuppressionInfo) -> Analysis {
    let source = s.source.as_deref().unwrap_or("an unnamed source");
    let field = |k: &str| {
        s.statement
            .as_ref()
            .and_then(|v| v.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    match s.by.as_str() {
        "vex" => {
            let status = field("status").unwrap_or_default();
            let justification = field("justification");
            let mut detail = format!("VEX statement in {source}: status {status}");
            if let Some(j) = &justification {
                detail.push_str(&format!(", justification {j}"));
            }
            if let Some(i) = field("impact_statement") {
                detail.push_str(&format!(": {i}"));
            }
            if status == "fixed" {
                Analysis {
                    state: "resolved",
                    justification: None,
                    response: vec!["update"],
                    detail,
                }
            } else {
                Analysis {
                    state: "not_affected",
                    justification: justification.as_deref().and_then(cdx_justification),
                    response: Vec::new(),
                    detail,
                }
            }
        }
        _ => {
            let line = s
                .statement
                .as_ref()
                .and_then(|v| v.get("line"))
                .and_then(|v| v.as_u64());
            let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
            Analysis {
                state: "not_affected",
                justification: None,
                response: vec!["will_not_fix"],
                detail: format!(
                    "ignored by a rule in {source}{at}: the image's owner accepted this finding"
                ),
            }
        }
    }
}

/// `index` counts the target's findings, so two findings with one fingerprint (the same
/// secret in two files) still get distinct `bom-ref`s.
fn vulnerability(
    t: &TargetResult,
    idx: &PackageIndex<'_>,
    f: &Finding,
    index: usize,
) -> Vulnerability {
    // Every copy of the package the finding covers.
    let mut affects: Vec<Affects> = idx
        .packages_of(f)
        .into_iter()
        .map(|p| Affects {
            reference: p.id.clone(),
            versions: vec![AffectedVersion {
                version: p.version.clone(),
                status: "affected",
            }],
        })
        .collect();
    if affects.is_empty() {
        affects.push(Affects {
            reference: target_ref(t),
            versions: Vec::new(),
        });
    }
    let mut properties = vec![prop("kind", f.kind.as_str())];
    for (name, value) in [
        ("path", f.path.clone()),
        ("line", f.line.map(|l| l.to_string())),
        ("layer:diff_id", f.layer.clone()),
        ("evidence", f.evidence.clone()),
        ("fixed_version", f.fixed_version.clone()),
        ("removed", f.removed.then(|| "true".to_string())),
    ] {
        if let Some(v) = value {
            properties.push(prop(name, v));
        }
    }
    let fp = fingerprint(t, f);
    properties.push(prop("fingerprint", fp.clone()));
    let recommendation = f
        .remediation
        .clone()
        .or_else(|| match (&f.package, &f.fixed_version) {
            (Some(p), Some(v)) => Some(format!("Upgrade {p} to {v} or later.")),
            _ => None,
        });
    Vulnerability {
        bom_ref: format!("finding:{}-{index}", short_hash(&t.name)),
        id: f.id.clone(),
        source: match &f.source {
            Some(plugin) => Some(Source {
                name: plugin.clone(),
            }),
            None => source_of(&f.id).map(|n| Source { name: n.into() }),
        },
        references: f
            .aliases
            .iter()
            .filter(|a| *a != &f.id)
            .map(|a| Reference {
                id: a.clone(),
                source: Source {
                    name: source_of(a).unwrap_or("alias").into(),
                },
            })
            .collect(),
        ratings: ratings(f),
        description: Some(f.title.clone()).filter(|s| !s.is_empty()),
        detail: Some(f.description.clone()).filter(|s| !s.is_empty()),
        recommendation,
        advisories: f
            .references
            .iter()
            .filter(|r| is_web_link(r))
            .map(|r| Advisory { url: r.clone() })
            .collect(),
        analysis: f.suppression.as_ref().map(analysis),
        affects,
        properties,
    }
}

/// Every finding and suppressed finding of every target.
pub fn vulnerabilities(result: &ScanResult) -> Vec<Vulnerability> {
    result
        .targets
        .iter()
        .flat_map(|t| {
            let idx = PackageIndex::new(t);
            t.findings
                .iter()
                .chain(&t.suppressed)
                .enumerate()
                .map(move |(i, f)| vulnerability(t, &idx, f, i))
                .collect::<Vec<_>>()
        })
        .collect()
}
