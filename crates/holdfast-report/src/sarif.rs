//! SARIF 2.1.0 (<https://docs.oasis-open.org/sarif/sarif/v2.1.0/>) as GitHub code scanning
//! reads it: one rule per finding id, with help text and `security-severity`; one result per
//! finding, located at the file in the image; suppressed findings carry a `suppressions`
//! entry so code scanning shows them as dismissed.

use std::collections::BTreeMap;

use holdfast_model::{Finding, FindingKind, ScanResult, Severity, TargetResult};
use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Suppression, Tool,
    ToolComponent,
};

use crate::locate::{fingerprint, per_location, score, suppressed_by, uri_path, PackageIndex};

/// What one rule collects from every finding with its id.
struct RuleFacts<'a> {
    first: &'a Finding,
    score: f64,
    severity: Severity,
}

fn level(s: Severity) -> ResultLevel {
    match s {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Unknown => ResultLevel::Note,
    }
}

/// A rule name in the PascalCase SARIF viewers show.
fn rule_name(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Vulnerability => "PackageVulnerability",
        FindingKind::Secret => "Secret",
        FindingKind::Misconfiguration => "Misconfiguration",
        FindingKind::Compliance => "Compliance",
        FindingKind::Malware => "Malware",
        FindingKind::Webshell => "Webshell",
        FindingKind::Backdoor => "Backdoor",
        FindingKind::WeakPassword => "WeakPassword",
        FindingKind::Escape => "ContainerEscape",
        FindingKind::History => "ImageHistory",
        FindingKind::Suid => "SuidFile",
    }
}

/// The rule's help: the plain text leaves the description to `fullDescription` (10,000
/// advisories make the log large enough as it is); the markdown, which GitHub shows, has it.
fn help(f: &Finding) -> (String, String) {
    let mut text = f.title.clone();
    let mut md = format!("**{}** ({})\n\n{}", f.id, f.kind.as_str(), f.title);
    if !f.description.is_empty() {
        md.push_str("\n\n");
        md.push_str(&f.description);
    }
    if let Some(r) = &f.remediation {
        text.push_str(&format!("\n\nRemediation: {r}"));
        md.push_str(&format!("\n\n**Remediation:** {r}"));
    }
    if !f.references.is_empty() {
        text.push_str("\n\nReferences:");
        md.push_str("\n\n**References:**\n");
        for r in &f.references {
            text.push_str(&format!("\n{r}"));
            md.push_str(&format!("\n- {r}"));
        }
    }
    (text, md)
}

fn rule(id: &str, facts: &RuleFacts<'_>) -> ReportingDescriptor {
    let f = facts.first;
    let (text, markdown) = help(f);
    let mut props = BTreeMap::new();
    props.insert(
        "security-severity".to_string(),
        json!(format!("{:.1}", facts.score)),
    );
    props.insert("precision".to_string(), json!("high"));
    let tags = vec![
        "security".to_string(),
        f.kind.as_str().to_string(),
        facts.severity.as_str().to_string(),
    ];
    let short = if f.title.is_empty() { id } else { &f.title };
    let full = if f.description.is_empty() {
        short
    } else {
        &f.description
    };
    let mut rule = ReportingDescriptor::builder()
        .id(id)
        .name(rule_name(f.kind))
        .short_description(MultiformatMessageString::builder().text(short).build())
        .full_description(MultiformatMessageString::builder().text(full).build())
        .help(
            MultiformatMessageString::builder()
                .text(text)
                .markdown(markdown)
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(tags)
                .additional_properties(props)
                .build(),
        )
        .build();
    rule.help_uri = f.references.first().cloned();
    rule
}

/// The URI of a target itself, for findings about no file: its name without the
/// transport prefix, as a relative reference.
fn target_uri(t: &TargetResult) -> String {
    let name = t.name.as_str();
    let bare = [
        "docker-archive:",
        "oci-archive:",
        "oci:",
        "docker:",
        "registry:",
    ]
    .iter()
    .find_map(|p| name.strip_prefix(p))
    .unwrap_or(name);
    uri_path(bare)
}

fn message(t: &TargetResult, f: &Finding) -> String {
    let mut m = match (&f.package, &f.installed_version) {
        (Some(p), Some(v)) => format!("{}: {p} {v}", f.id),
        (Some(p), None) => format!("{}: {p}", f.id),
        _ => f.id.clone(),
    };
    if let Some(fixed) = &f.fixed_version {
        m.push_str(&format!(" (fixed in {fixed})"));
    }
    m.push_str(&format!(" [{}] {}", f.severity.as_str(), f.title));
    if let Some(e) = &f.evidence {
        m.push_str(&format!(" (evidence: {e})"));
    }
    if f.removed {
        m.push_str(" (the file was deleted by a later layer and is still in the image)");
    }
    m.push_str(&format!(" in {}", t.name));
    m
}

fn result_of(
    t: &TargetResult,
    idx: &PackageIndex<'_>,
    f: &Finding,
    rule_index: usize,
) -> SarifResult {
    let uri = idx
        .file_of(f)
        .map(uri_path)
        .unwrap_or_else(|| target_uri(t));
    let region = Region::builder()
        .start_line(i64::from(f.line.unwrap_or(1).max(1)))
        .build();
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(ArtifactLocation::builder().uri(uri).build())
                .region(region)
                .build(),
        )
        .build();
    let mut props = BTreeMap::new();
    props.insert("kind".to_string(), json!(f.kind.as_str()));
    props.insert("target".to_string(), json!(t.name));
    for (key, value) in [
        ("package", &f.package),
        ("installedVersion", &f.installed_version),
        ("fixedVersion", &f.fixed_version),
        ("layer", &f.layer),
    ] {
        if let Some(v) = value {
            props.insert(key.to_string(), json!(v));
        }
    }
    if f.removed {
        props.insert("removed".to_string(), json!(true));
    }
    if let Some(source) = &f.source {
        props.insert("source".to_string(), json!(source));
    }
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert("holdfast/v1".to_string(), fingerprint(t, f));
    let mut r = SarifResult::builder()
        .rule_id(f.id.clone())
        .rule_index(rule_index as i64)
        .level(level(f.severity))
        .message(Message::builder().text(message(t, f)).build())
        .locations(vec![location])
        .partial_fingerprints(fingerprints)
        .properties(PropertyBag::builder().additional_properties(props).build())
        .build();
    if let Some(s) = &f.suppression {
        r.suppressions = Some(vec![Suppression::builder()
            .kind(json!("external"))
            .status(json!("accepted"))
            .justification(format!("suppressed by {}", suppressed_by(s)))
            .build()]);
    }
    r
}

/// Builds the SARIF log: one run, every target's findings and suppressed findings.
pub fn log(result: &ScanResult) -> Sarif {
    let all = || {
        result
            .targets
            .iter()
            .flat_map(|t| t.findings.iter().chain(&t.suppressed).map(move |f| (t, f)))
    };
    let mut rules: BTreeMap<&str, RuleFacts<'_>> = BTreeMap::new();
    for (_, f) in all() {
        let s = score(f);
        let facts = rules.entry(f.id.as_str()).or_insert(RuleFacts {
            first: f,
            score: s,
            severity: f.severity,
        });
        if s > facts.score {
            facts.score = s;
        }
        if f.severity > facts.severity {
            facts.severity = f.severity;
        }
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let mut results = Vec::new();
    for t in &result.targets {
        let idx = PackageIndex::new(t);
        for f in t.findings.iter().chain(&t.suppressed) {
            let rule_index = index.get(f.id.as_str()).copied().unwrap_or(0);
            // One result per place, as code scanning expects: each is located at a file.
            for one in per_location(f) {
                results.push(result_of(t, &idx, &one, rule_index));
            }
        }
    }
    let driver = ToolComponent::builder()
        .name(result.tool.name.clone())
        .version(result.tool.version.clone())
        .semantic_version(result.tool.version.clone())
        .information_uri("https://example.invalid/holdfast")
        .rules(
            rules
                .iter()
                .map(|(id, facts)| rule(id, facts))
                .collect::<Vec<_>>(),
        )
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .build();
    Sarif::builder()
        .schema(serde_sarif::sarif::SCHEMA_URL)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}
