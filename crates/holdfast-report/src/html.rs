//! The HTML report: one self-contained file (CSS and JS inline, nothing fetched), rendered
//! with minijinja from the templates in `templates/`, embedded at build time.
//!
//! Image content is hostile: package names, paths and titles go into the page only through
//! minijinja's HTML autoescaping (text and quoted attributes), the page's script reads them
//! back with `dataset`/`textContent` and never builds markup from them, and a
//! Content-Security-Policy forbids any fetch. Links are made only from `http(s)://`
//! references.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use holdfast_model::{Finding, FindingKind, RegistrySummary, ScanResult, Severity, TargetResult};
use minijinja::{Environment, Value};
use serde::Serialize;

use crate::locate::{
    human_size, is_web_link, location, severity_lower as sev_class, suppressed_by, PackageIndex,
};
use crate::table::short_layer;
use crate::template::describe;
use crate::ReportError;

const PAGE: &str = include_str!("../templates/report.html");
const CSS: &str = include_str!("../templates/report.css");
const JS: &str = include_str!("../templates/report.js");

#[derive(Serialize)]
struct Page {
    title: String,
    created_at: String,
    tool: String,
    db: Option<String>,
    cards: Vec<Card>,
    severity_chart: Chart,
    kind_chart: Chart,
    severities: Vec<&'static str>,
    kinds: Vec<&'static str>,
    finding_count: usize,
    /// The findings as JSON, most severe first, from which the page's script builds the
    /// table's rows (a page at a time) and their detail rows (when opened): 10,000 rows
    /// of markup made the page slow to open.
    findings_json: String,
    suppressed: Vec<FindingView>,
    targets: Vec<TargetView>,
    registry: Option<RegistryView>,
    cluster: Option<ClusterView>,
    /// The model's explanation, when one was asked for; its texts are plain text.
    analysis: Option<AnalysisView>,
}

/// The analysis section: provenance, answers, warnings.
#[derive(Serialize)]
struct AnalysisView {
    model: String,
    endpoint: String,
    created_at: String,
    findings: usize,
    parts: usize,
    sections: Vec<AnalysisSectionView>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct AnalysisSectionView {
    title: String,
    overall: bool,
    text: String,
}

fn analysis_view(a: &holdfast_model::Analysis) -> AnalysisView {
    AnalysisView {
        model: a.model.clone(),
        endpoint: a.endpoint.clone(),
        created_at: a.created_at.clone(),
        findings: a.findings,
        parts: a.parts,
        sections: a
            .sections
            .iter()
            .map(|s| AnalysisSectionView {
                title: s.title.clone(),
                overall: s.kind == holdfast_model::AnalysisSectionKind::Overall,
                text: s.text.trim_end().to_string(),
            })
            .collect(),
        warnings: a
            .warnings
            .iter()
            .map(|w| format!("{}: {}", w.kind.as_str(), w.message))
            .collect(),
    }
}

/// What `scan registry` covered: its counts, the worst images, the failures.
#[derive(Serialize)]
struct RegistryView {
    registry: String,
    repositories: usize,
    images_selected: usize,
    images_scanned: usize,
    worst: Vec<ImageView>,
    failed: Vec<FailedView>,
}

/// What `scan cluster` read: the pods ranked by risk (public ones doubled), the errors.
#[derive(Serialize)]
struct ClusterView {
    context: String,
    pods: usize,
    public: usize,
    images: usize,
    /// The riskiest pods, at most [`MAX_CLUSTER_PODS`].
    ranked: Vec<PodView>,
    errors: Vec<String>,
}

/// One pod: where it runs, what owns it, what it runs, how exposed and how risky.
#[derive(Serialize)]
struct PodView {
    pod: String,
    owner: Option<String>,
    images: Vec<String>,
    public: bool,
    exposure: Vec<String>,
    by_severity: [i64; 4],
    risk: i64,
}

/// Pods listed in the cluster section; the JSON result has them all.
const MAX_CLUSTER_PODS: usize = 50;

fn cluster_view(c: &holdfast_model::ClusterSummary, targets: &[TargetResult]) -> ClusterView {
    let mut ranked: Vec<PodView> = c
        .pods
        .iter()
        .map(|p| PodView {
            pod: format!("{}/{}", p.namespace, p.name),
            owner: p.owner.as_ref().map(|o| format!("{}/{}", o.kind, o.name)),
            images: p.images.iter().map(|i| i.reference.clone()).collect(),
            public: p.is_public,
            exposure: p.exposure.clone(),
            by_severity: p.counts(targets).0,
            risk: p.risk(targets),
        })
        .collect();
    ranked.sort_by(|a, b| b.risk.cmp(&a.risk).then_with(|| a.pod.cmp(&b.pod)));
    ranked.truncate(MAX_CLUSTER_PODS);
    ClusterView {
        context: c.context.clone(),
        pods: c.pods.len(),
        public: c.pods.iter().filter(|p| p.is_public).count(),
        images: targets.len(),
        ranked,
        errors: c
            .errors
            .iter()
            .map(|e| {
                let place = [e.namespace.as_deref(), e.pod.as_deref(), e.image.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                format!("{place}: {}", e.message)
            })
            .collect(),
    }
}

/// One image of a registry scan with its findings per severity, most severe first.
#[derive(Serialize)]
struct ImageView {
    image: String,
    findings: usize,
    by_severity: Vec<usize>,
}

#[derive(Serialize)]
struct FailedView {
    image: String,
    error: String,
}

#[derive(Serialize)]
struct Card {
    label: &'static str,
    value: usize,
    class: &'static str,
}

#[derive(Serialize)]
struct Chart {
    height: usize,
    bars: Vec<Bar>,
}

#[derive(Serialize)]
struct Bar {
    label: &'static str,
    count: usize,
    /// Bar length in SVG units, out of [`BAR_MAX`].
    width: usize,
    y: usize,
    class: &'static str,
}

const BAR_MAX: usize = 260;
const BAR_STEP: usize = 24;

#[derive(Serialize)]
struct FindingView {
    target: String,
    kind: &'static str,
    id: String,
    severity: &'static str,
    sev_class: &'static str,
    rank: u8,
    title: String,
    description: String,
    package: String,
    installed: String,
    fixed: String,
    /// `fixed`, `unfixed`, or `n/a` for findings about no package.
    fix: &'static str,
    location: String,
    removed: bool,
    layer: String,
    layer_short: String,
    created_by: String,
    links: Vec<String>,
    other_references: Vec<String>,
    aliases: Vec<String>,
    remediation: String,
    evidence: String,
    suppression: String,
    /// Who reported it, when not a built-in scanner (`plugin/<name>`).
    source: String,
}

/// A finding's row and detail as the page's script reads them (with `textContent` only).
/// Empty fields are left out of the JSON.
#[derive(Serialize)]
struct FindingJson<'a> {
    target: &'a str,
    kind: &'a str,
    id: &'a str,
    severity: &'a str,
    sev_class: &'a str,
    rank: u8,
    fix: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    title: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    package: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    installed: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    fixed: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    location: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    removed: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    evidence: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    source: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    remediation: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    layer: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    layer_short: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    created_by: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    aliases: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    links: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    other_references: &'a [String],
}

impl<'a> From<&'a FindingView> for FindingJson<'a> {
    fn from(f: &'a FindingView) -> Self {
        FindingJson {
            target: &f.target,
            kind: f.kind,
            id: &f.id,
            severity: f.severity,
            sev_class: f.sev_class,
            rank: f.rank,
            fix: f.fix,
            title: &f.title,
            description: &f.description,
            package: &f.package,
            installed: &f.installed,
            fixed: &f.fixed,
            location: &f.location,
            removed: f.removed,
            evidence: &f.evidence,
            source: &f.source,
            remediation: &f.remediation,
            layer: &f.layer,
            layer_short: &f.layer_short,
            created_by: &f.created_by,
            aliases: &f.aliases,
            links: &f.links,
            other_references: &f.other_references,
        }
    }
}

/// `value` as JSON that can sit inside a `<script>` element: `<`, `>` and `&` only occur
/// inside JSON strings, where `\u` escapes mean the same, so no `</script>` or `<!--`
/// from the image can end the element.
fn script_json(value: &impl Serialize) -> String {
    let json = serde_json::to_string(value).unwrap_or_else(|_| "[]".into());
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

#[derive(Serialize)]
struct TargetView {
    name: String,
    os: String,
    platform: String,
    image_id: String,
    package_count: usize,
    finding_count: usize,
    layers: Vec<LayerView>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct LayerView {
    index: usize,
    diff_id: String,
    short: String,
    created_by: String,
    size: String,
    packages: Vec<String>,
    finding_count: usize,
}

fn finding_view<'a>(
    t: &TargetResult,
    idx: &PackageIndex<'a>,
    f: &'a Finding,
    created_by: &HashMap<&str, &str>,
) -> FindingView {
    let layer = idx.layer_of(f).unwrap_or("");
    let (links, other_references) = f.references.iter().cloned().partition(|r| is_web_link(r));
    // `path:line`, else the file the finding's package was read from.
    let mut loc = location(f);
    if loc.is_empty() {
        loc = idx.file_of(f).unwrap_or_default().to_string();
    }
    // A vulnerability found in several copies of its package names every place.
    if f.locations.len() > 1 {
        let places: Vec<&str> = f.locations.iter().map(|l| l.path.as_str()).collect();
        loc = places.join(", ");
    }
    FindingView {
        target: t.name.clone(),
        kind: f.kind.as_str(),
        id: f.id.clone(),
        severity: f.severity.as_str(),
        sev_class: sev_class(f.severity),
        rank: f.severity as u8,
        title: f.title.clone(),
        description: f.description.clone(),
        package: f.package.clone().unwrap_or_default(),
        installed: f.installed_version.clone().unwrap_or_default(),
        fixed: f.fixed_version.clone().unwrap_or_default(),
        fix: match (&f.package, &f.fixed_version) {
            (_, Some(_)) => "fixed",
            (Some(_), None) => "unfixed",
            (None, None) => "n/a",
        },
        location: loc,
        removed: f.removed,
        layer: layer.to_string(),
        layer_short: short_layer(layer).to_string(),
        created_by: created_by.get(layer).copied().unwrap_or("").to_string(),
        links,
        other_references,
        aliases: f.aliases.clone(),
        remediation: f.remediation.clone().unwrap_or_default(),
        evidence: f.evidence.clone().unwrap_or_default(),
        source: f.source.clone().unwrap_or_default(),
        suppression: f
            .suppression
            .as_ref()
            .map(suppressed_by)
            .unwrap_or_default(),
    }
}

fn target_view(t: &TargetResult) -> TargetView {
    let idx = PackageIndex::new(t);
    let mut packages_by_layer: HashMap<&str, Vec<String>> = HashMap::new();
    for p in &t.packages {
        if let Some(l) = &p.layer {
            packages_by_layer
                .entry(l.as_str())
                .or_default()
                .push(format!("{} {}", p.name, p.version));
        }
    }
    let mut findings_by_layer: HashMap<&str, usize> = HashMap::new();
    for f in &t.findings {
        if let Some(l) = idx.layer_of(f) {
            *findings_by_layer.entry(l).or_default() += 1;
        }
    }
    let layers = t
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let id = l.diff_id.as_deref().unwrap_or("");
            let mut packages = packages_by_layer.remove(id).unwrap_or_default();
            packages.sort();
            LayerView {
                index: i + 1,
                diff_id: id.to_string(),
                short: short_layer(id).to_string(),
                created_by: l.created_by.clone().unwrap_or_default(),
                size: l.size.map(human_size).unwrap_or_default(),
                packages,
                finding_count: findings_by_layer.get(id).copied().unwrap_or(0),
            }
        })
        .collect();
    TargetView {
        name: t.name.clone(),
        os: t
            .os
            .as_ref()
            .map(|o| {
                o.pretty_name
                    .clone()
                    .unwrap_or_else(|| format!("{} {}", o.family.as_str(), o.version))
            })
            .unwrap_or_else(|| "unknown OS".into()),
        platform: t.platform.clone().unwrap_or_default(),
        image_id: t.image_id.clone().unwrap_or_default(),
        package_count: t.packages.len(),
        finding_count: t.findings.len(),
        layers,
        warnings: t
            .warnings
            .iter()
            .map(|w| match &w.path {
                Some(p) => format!("{p}: {}", w.message),
                None => w.message.clone(),
            })
            .collect(),
    }
}

fn registry_view(s: &RegistrySummary) -> RegistryView {
    RegistryView {
        registry: s.registry.clone(),
        repositories: s.repositories,
        images_selected: s.images_selected,
        images_scanned: s.images_scanned,
        worst: s
            .worst
            .iter()
            .map(|w| ImageView {
                image: w.image.clone(),
                findings: w.findings,
                by_severity: Severity::ALL
                    .iter()
                    .rev()
                    .map(|sev| w.by_severity.get(sev).copied().unwrap_or(0))
                    .collect(),
            })
            .collect(),
        failed: s
            .failed
            .iter()
            .map(|f| FailedView {
                image: f.image.clone(),
                error: f.error.clone(),
            })
            .collect(),
    }
}

fn chart(counts: Vec<(&'static str, usize, &'static str)>) -> Chart {
    let max = counts.iter().map(|c| c.1).max().unwrap_or(0).max(1);
    let bars: Vec<Bar> = counts
        .into_iter()
        .enumerate()
        .map(|(i, (label, count, class))| Bar {
            label,
            count,
            width: if count == 0 {
                0
            } else {
                (count * BAR_MAX / max).max(2)
            },
            y: i * BAR_STEP,
            class,
        })
        .collect();
    Chart {
        height: bars.len() * BAR_STEP,
        bars,
    }
}

fn page(result: &ScanResult) -> Page {
    let mut findings = Vec::new();
    let mut suppressed = Vec::new();
    let mut by_severity: BTreeMap<Severity, usize> = BTreeMap::new();
    let mut by_kind: BTreeMap<FindingKind, usize> = BTreeMap::new();
    for t in &result.targets {
        let created_by: HashMap<&str, &str> = t
            .layers
            .iter()
            .filter_map(|l| Some((l.diff_id.as_deref()?, l.created_by.as_deref()?)))
            .collect();
        let idx = PackageIndex::new(t);
        for f in &t.findings {
            *by_severity.entry(f.severity).or_default() += 1;
            *by_kind.entry(f.kind).or_default() += 1;
            findings.push(finding_view(t, &idx, f, &created_by));
        }
        for f in &t.suppressed {
            suppressed.push(finding_view(t, &idx, f, &created_by));
        }
    }
    // Most severe first, then as the result lists them.
    findings.sort_by_key(|f| std::cmp::Reverse(f.rank));
    let severity_chart = chart(
        Severity::ALL
            .iter()
            .rev()
            .map(|s| {
                (
                    s.as_str(),
                    by_severity.get(s).copied().unwrap_or(0),
                    sev_class(*s),
                )
            })
            .collect(),
    );
    let kind_chart = chart(
        by_kind
            .iter()
            .map(|(k, n)| (k.as_str(), *n, "kind"))
            .collect(),
    );
    let mut cards = vec![
        Card {
            label: "targets",
            value: result.targets.len(),
            class: "neutral",
        },
        Card {
            label: "packages",
            value: result.targets.iter().map(|t| t.packages.len()).sum(),
            class: "neutral",
        },
        Card {
            label: "findings",
            value: findings.len(),
            class: "neutral",
        },
    ];
    for s in Severity::ALL.iter().rev() {
        cards.push(Card {
            label: s.as_str(),
            value: by_severity.get(s).copied().unwrap_or(0),
            class: sev_class(*s),
        });
    }
    cards.push(Card {
        label: "suppressed",
        value: suppressed.len(),
        class: "neutral",
    });
    let names: Vec<&str> = result.targets.iter().map(|t| t.name.as_str()).collect();
    Page {
        title: format!("holdfast report: {}", names.join(", ")),
        created_at: result.created_at.clone(),
        tool: format!("{} {}", result.tool.name, result.tool.version),
        db: result
            .db
            .as_ref()
            .map(|d| serde_json::to_string(d).unwrap_or_default()),
        cards,
        severity_chart,
        kind_chart,
        severities: Severity::ALL.iter().rev().map(|s| s.as_str()).collect(),
        kinds: by_kind.keys().map(|k| k.as_str()).collect(),
        finding_count: findings.len(),
        findings_json: script_json(&findings.iter().map(FindingJson::from).collect::<Vec<_>>()),
        suppressed,
        targets: result.targets.iter().map(target_view).collect(),
        registry: result.registry.as_ref().map(registry_view),
        cluster: result
            .cluster
            .as_ref()
            .map(|c| cluster_view(c, &result.targets)),
        analysis: result.analysis.as_ref().map(analysis_view),
    }
}

/// The environment holding the report's own templates.
fn environment() -> Result<Environment<'static>, ReportError> {
    let mut env = Environment::new();
    for (name, source) in [
        ("report.html", PAGE),
        ("report.css", CSS),
        ("report.js", JS),
    ] {
        env.add_template(name, source)
            .map_err(|e| ReportError::Template(describe(&e, name)))?;
    }
    Ok(env)
}

/// Writes the HTML report.
pub fn write(result: &ScanResult, out: &mut dyn Write) -> Result<(), ReportError> {
    let env = environment()?;
    let tmpl = env
        .get_template("report.html")
        .map_err(|e| ReportError::Template(describe(&e, "report.html")))?;
    let text = tmpl
        .render(Value::from_serialize(page(result)))
        .map_err(|e| ReportError::Template(describe(&e, "report.html")))?;
    out.write_all(text.as_bytes())?;
    Ok(())
}
