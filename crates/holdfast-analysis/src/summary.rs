//! The compact, redacted description of a result that is sent to the model, split into
//! parts that fit a budget of characters.
//!
//! What a finding contributes: its kind, id (and a CVE alias), severity, title, package
//! name, installed and fixed versions, path and line, the layer (as `L<n>`, the layer's
//! position in the image), whether a later layer deleted the file, the remediation, and
//! the plugin that reported it. Per target: its name, kind, OS, platform, counts, and the
//! redacted commands of the layers that hold findings. Never a finding's `evidence`,
//! `fingerprint`, `description`, file contents or the image's Env. Every text passes
//! through the [`Scrubber`] as well.
//!
//! Splitting: a target whose findings fit is one block; a target that does not fit is
//! split by severity, and a severity that alone does not fit into runs of findings. Blocks
//! are packed in order (targets as the result lists them, most severe first within one)
//! into parts of at most the budget, so small targets share a part. Over the part limit,
//! the least severe findings are left out first.

use std::collections::HashMap;

use holdfast_model::{Finding, FindingKind, ScanResult, Severity, TargetKind, TargetResult};

use crate::redact::Scrubber;

/// Room kept in every part for its first lines (the whole result's counts, the part's
/// number).
const INTRO_ALLOWANCE: usize = 400;
/// Smallest budget accepted: a target's header and a few findings.
pub const MIN_BUDGET: usize = 2_000;
/// Longest title, remediation, path or command kept, in characters.
const MAX_TITLE: usize = 160;
const MAX_REMEDIATION: usize = 200;
const MAX_PATH: usize = 200;
const MAX_COMMAND: usize = 200;
const MAX_ID: usize = 80;

/// One request's worth of the description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The targets it describes (redacted names), in result order.
    pub targets: Vec<String>,
    /// The severities of the findings it describes, most severe first.
    pub severities: Vec<Severity>,
    /// Findings it describes.
    pub findings: usize,
    /// A heading for its answer.
    pub title: String,
    /// The text sent as the user message.
    pub text: String,
}

/// The description of a result, split into parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The parts, in the order they are asked.
    pub parts: Vec<Part>,
    /// Findings described, over every part.
    pub findings: usize,
    /// Findings left out to stay within the part limit (the least severe ones).
    pub left_out: usize,
    /// The least severe severity described, when findings were left out.
    pub lowest_described: Option<Severity>,
}

/// A run of findings of one target.
#[derive(Debug, Clone)]
struct Block {
    target: usize,
    severities: Vec<Severity>,
    lines: Vec<String>,
    len: usize,
    findings: usize,
    continued: bool,
}

impl Block {
    fn new(target: usize, continued: bool) -> Self {
        Block {
            target,
            severities: Vec::new(),
            lines: Vec::new(),
            len: 0,
            findings: 0,
            continued,
        }
    }

    fn push(&mut self, line: String) {
        self.len += line.len() + 1;
        self.lines.push(line);
    }
}

/// Cuts text to `max` characters, marking the cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

fn kind_name(k: TargetKind) -> &'static str {
    match k {
        TargetKind::Image => "image",
        TargetKind::Rootfs => "root filesystem",
        TargetKind::Container => "container",
        TargetKind::Config => "configuration file",
        TargetKind::Host => "host",
    }
}

/// Counts per severity, most severe first: `CRITICAL 1, HIGH 0, ...`.
fn severity_counts<'a>(findings: impl Iterator<Item = &'a Finding>) -> String {
    let mut counts: HashMap<Severity, usize> = HashMap::new();
    for f in findings {
        *counts.entry(f.severity).or_default() += 1;
    }
    Severity::ALL
        .iter()
        .rev()
        .map(|s| format!("{} {}", s.as_str(), counts.get(s).copied().unwrap_or(0)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The 1-based position of each layer in the target, by diff_id.
fn layer_numbers(t: &TargetResult) -> HashMap<&str, usize> {
    t.layers
        .iter()
        .enumerate()
        .filter_map(|(i, l)| Some((l.diff_id.as_deref()?, i + 1)))
        .collect()
}

/// One line per finding.
fn finding_line(f: &Finding, layers: &HashMap<&str, usize>, scrub: &Scrubber) -> String {
    let mut s = format!(
        "- [{}] {}",
        f.kind.as_str(),
        clip(&scrub.text(&f.id), MAX_ID)
    );
    if !f.id.starts_with("CVE-") {
        if let Some(cve) = f.aliases.iter().find(|a| a.starts_with("CVE-")) {
            s.push_str(&format!(" ({})", clip(&scrub.text(cve), MAX_ID)));
        }
    }
    if let Some(p) = &f.package {
        s.push_str(" | package ");
        s.push_str(&clip(&scrub.text(p), MAX_ID));
        if let Some(v) = &f.installed_version {
            s.push(' ');
            s.push_str(&clip(&scrub.text(v), MAX_ID));
        }
        match &f.fixed_version {
            Some(fixed) => {
                s.push_str(", fixed in ");
                s.push_str(&clip(&scrub.text(fixed), MAX_ID));
            }
            None if f.kind == FindingKind::Vulnerability => s.push_str(", no fix yet"),
            None => {}
        }
    }
    if !f.title.is_empty() {
        s.push_str(" | ");
        s.push_str(&clip(&scrub.text(&f.title), MAX_TITLE));
    }
    if let Some(path) = &f.path {
        s.push_str(" | at ");
        s.push_str(&clip(&scrub.text(path), MAX_PATH));
        if let Some(line) = f.line {
            s.push_str(&format!(":{line}"));
        }
        if f.locations.len() > 1 {
            s.push_str(&format!(" (+{} more places)", f.locations.len() - 1));
        }
    }
    if let Some(n) = f.layer.as_deref().and_then(|l| layers.get(l)) {
        s.push_str(&format!(" in L{n}"));
    }
    if f.removed {
        s.push_str(" (deleted by a later layer, still in the image)");
    }
    if let Some(r) = &f.remediation {
        s.push_str(" | fix: ");
        s.push_str(&clip(&scrub.text(r), MAX_REMEDIATION));
    }
    if let Some(src) = &f.source {
        s.push_str(" | reported by ");
        s.push_str(&clip(&scrub.text(src), MAX_ID));
    }
    s
}

/// What a target is, its counts, and the layers its findings are in.
/// For a cluster scan: how many pods run the target and how many the internet reaches,
/// with one of the chains, so the model can rank exposed images first.
fn exposure_line(result: &ScanResult, target: &str, scrub: &Scrubber) -> Option<String> {
    let cluster = result.cluster.as_ref()?;
    let running: Vec<&holdfast_model::ClusterPod> = cluster
        .pods
        .iter()
        .filter(|p| p.images.iter().any(|i| i.target.as_deref() == Some(target)))
        .collect();
    if running.is_empty() {
        return None;
    }
    let public: Vec<&&holdfast_model::ClusterPod> =
        running.iter().filter(|p| p.is_public).collect();
    let mut line = format!(
        "Run by {} pod(s) of cluster {}; {} reachable from the internet",
        running.len(),
        clip(&scrub.text(&cluster.context), MAX_ID),
        public.len()
    );
    if let Some(chain) = public.iter().find_map(|p| p.exposure.first()) {
        line.push_str(&format!(
            " (e.g. {})",
            clip(&scrub.text(chain), MAX_COMMAND)
        ));
    }
    line.push('\n');
    Some(line)
}

fn target_header(
    t: &TargetResult,
    scrub: &Scrubber,
    max: usize,
    exposure: Option<String>,
) -> String {
    let mut h = format!(
        "Target: {} ({}",
        clip(&scrub.text(&t.name), MAX_PATH),
        kind_name(t.kind)
    );
    match &t.os {
        Some(os) => h.push_str(&format!(
            "; OS {} {}",
            os.family.as_str(),
            clip(&scrub.text(&os.version), MAX_ID)
        )),
        None => h.push_str("; OS unknown"),
    }
    if let Some(p) = &t.platform {
        h.push_str(&format!("; platform {}", clip(&scrub.text(p), MAX_ID)));
    }
    h.push_str(")\n");
    h.push_str(&format!(
        "Findings in this target: {} ({} in all); {} packages",
        severity_counts(t.findings.iter()),
        t.findings.len(),
        t.packages.len()
    ));
    if !t.suppressed.is_empty() {
        h.push_str(&format!(
            "; {} more suppressed by VEX or ignore rules",
            t.suppressed.len()
        ));
    }
    if !t.warnings.is_empty() {
        h.push_str(&format!("; {} things could not be read", t.warnings.len()));
    }
    h.push('\n');
    if let Some(line) = exposure {
        h.push_str(&line);
    }
    let numbers = layer_numbers(t);
    let mut used: Vec<usize> = t
        .findings
        .iter()
        .filter_map(|f| numbers.get(f.layer.as_deref()?).copied())
        .collect();
    used.sort_unstable();
    used.dedup();
    if !used.is_empty() {
        let mut layers =
            String::from("Layers holding findings (L<n> is the n-th layer; commands redacted):\n");
        let mut shown = 0;
        for n in &used {
            let cmd = t.layers[n - 1]
                .created_by
                .as_deref()
                .unwrap_or("(no command recorded)");
            let line = format!("  L{n}: {}\n", clip(&scrub.command(cmd), MAX_COMMAND));
            if h.len() + layers.len() + line.len() + 40 > max {
                break;
            }
            layers.push_str(&line);
            shown += 1;
        }
        if shown < used.len() {
            layers.push_str(&format!(
                "  ({} more layers not listed)\n",
                used.len() - shown
            ));
        }
        h.push_str(&layers);
    }
    clip(&h, max)
}

/// The findings of a target that are described, most severe first, fixable first.
fn ordered(t: &TargetResult, lowest: Severity) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = t.findings.iter().filter(|f| f.severity >= lowest).collect();
    v.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| b.fixed_version.is_some().cmp(&a.fixed_version.is_some()))
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.id.cmp(&b.id))
    });
    v
}

/// A target's blocks: whole, by severity, or by runs of findings.
fn target_blocks(
    ti: usize,
    t: &TargetResult,
    header_len: usize,
    avail: usize,
    lowest: Severity,
    scrub: &Scrubber,
) -> Vec<Block> {
    let numbers = layer_numbers(t);
    let findings = ordered(t, lowest);
    let mut groups: Vec<(Severity, Vec<String>)> = Vec::new();
    for f in findings {
        let line = finding_line(f, &numbers, scrub);
        match groups.last_mut() {
            Some((s, lines)) if *s == f.severity => lines.push(line),
            _ => groups.push((f.severity, vec![line])),
        }
    }
    let heading = |s: Severity, n: usize, continued: bool| {
        format!(
            "{} findings ({n}{}):",
            s.as_str(),
            if continued { ", continued" } else { "" }
        )
    };
    if groups.is_empty() {
        let mut b = Block::new(ti, false);
        b.push("No findings at or above the severities described.".into());
        return vec![b];
    }
    let total: usize = groups
        .iter()
        .map(|(s, lines)| {
            heading(*s, lines.len(), false).len()
                + 1
                + lines.iter().map(|l| l.len() + 1).sum::<usize>()
        })
        .sum();
    let mut blocks = Vec::new();
    if header_len + total <= avail {
        let mut b = Block::new(ti, false);
        for (s, lines) in groups {
            b.severities.push(s);
            b.findings += lines.len();
            b.push(heading(s, lines.len(), false));
            for l in lines {
                b.push(l);
            }
        }
        blocks.push(b);
        return blocks;
    }
    for (s, lines) in groups {
        let n = lines.len();
        let mut b = Block::new(ti, false);
        b.severities.push(s);
        b.push(heading(s, n, false));
        for l in lines {
            // A single line longer than the room is cut to fit.
            let room = avail.saturating_sub(header_len + 80);
            let l = clip(&l, room.max(200));
            if b.findings > 0 && header_len + b.len + l.len() + 1 > avail {
                blocks.push(b);
                b = Block::new(ti, true);
                b.severities.push(s);
                b.push(heading(s, n, true));
            }
            b.findings += 1;
            b.push(l);
        }
        blocks.push(b);
    }
    blocks
}

/// Packs blocks into parts of at most `avail` characters.
fn pack(blocks: Vec<Block>, header_lens: &[usize], avail: usize) -> Vec<Vec<Block>> {
    let mut parts: Vec<Vec<Block>> = Vec::new();
    let mut cur: Vec<Block> = Vec::new();
    let mut cur_len = 0;
    for b in blocks {
        let same_target = cur.last().is_some_and(|l: &Block| l.target == b.target);
        let add = b.len
            + if same_target {
                0
            } else {
                header_lens[b.target] + 1
            };
        if !cur.is_empty() && cur_len + add > avail {
            parts.push(std::mem::take(&mut cur));
            cur_len = 0;
            cur_len += b.len + header_lens[b.target] + 1;
        } else {
            cur_len += add;
        }
        cur.push(b);
    }
    if !cur.is_empty() {
        parts.push(cur);
    }
    parts
}

/// Names for a heading: the first two, then how many more.
fn names_for_title(names: &[String]) -> String {
    match names {
        [] => "the result".into(),
        [one] => clip(one, 80),
        [a, b] => format!("{}, {}", clip(a, 60), clip(b, 60)),
        [a, b, rest @ ..] => format!("{}, {} and {} more", clip(a, 60), clip(b, 60), rest.len()),
    }
}

/// Describes `result` in parts of at most `budget` characters, at most `max_parts` of
/// them (the least severe findings are left out first to stay within it).
pub fn summarize(
    result: &ScanResult,
    scrub: &Scrubber,
    budget: usize,
    max_parts: usize,
) -> Summary {
    let budget = budget.max(MIN_BUDGET);
    let max_parts = max_parts.max(1);
    let avail = budget - INTRO_ALLOWANCE;
    let names: Vec<String> = result
        .targets
        .iter()
        .map(|t| clip(&scrub.text(&t.name), MAX_PATH))
        .collect();
    let headers: Vec<String> = result
        .targets
        .iter()
        .map(|t| target_header(t, scrub, avail / 3, exposure_line(result, &t.name, scrub)))
        .collect();
    let header_lens: Vec<usize> = headers.iter().map(String::len).collect();
    let all_findings: usize = result.targets.iter().map(|t| t.findings.len()).sum();

    let mut lowest = Severity::Unknown;
    let parts = loop {
        let blocks: Vec<Block> = result
            .targets
            .iter()
            .enumerate()
            .flat_map(|(i, t)| target_blocks(i, t, header_lens[i], avail, lowest, scrub))
            .collect();
        let parts = pack(blocks, &header_lens, avail);
        if parts.len() <= max_parts || lowest == Severity::Critical {
            break parts;
        }
        lowest = Severity::ALL[lowest as usize + 1];
    };
    let mut parts = parts;
    parts.truncate(max_parts);

    let total_counts = severity_counts(result.targets.iter().flat_map(|t| &t.findings));
    let n = parts.len();
    let mut out = Vec::with_capacity(n);
    let mut described = 0;
    for (i, blocks) in parts.into_iter().enumerate() {
        let mut text = format!(
            "A holdfast container scan result: {} target(s), {} findings ({total_counts}).\n",
            result.targets.len(),
            all_findings,
        );
        if n > 1 {
            text.push_str(&format!(
                "It is described in {n} parts; this is part {} of {n}.\n",
                i + 1
            ));
        }
        let mut targets: Vec<String> = Vec::new();
        let mut severities: Vec<Severity> = Vec::new();
        let mut findings = 0;
        let mut continued = false;
        let mut last_target = None;
        for b in &blocks {
            if last_target != Some(b.target) {
                text.push('\n');
                text.push_str(&headers[b.target]);
                if !targets.contains(&names[b.target]) {
                    targets.push(names[b.target].clone());
                }
                last_target = Some(b.target);
            }
            for l in &b.lines {
                text.push_str(l);
                text.push('\n');
            }
            for s in &b.severities {
                if !severities.contains(s) {
                    severities.push(*s);
                }
            }
            findings += b.findings;
            continued |= b.continued;
        }
        severities.sort_by(|a, b| b.cmp(a));
        described += findings;
        let sev_text = if severities.is_empty() {
            "no findings".to_string()
        } else {
            severities
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let title = format!(
            "{}: {sev_text}{}",
            names_for_title(&targets),
            if continued { " (continued)" } else { "" }
        );
        out.push(Part {
            targets,
            severities,
            findings,
            title,
            text,
        });
    }
    let left_out = all_findings - described;
    Summary {
        parts: out,
        findings: described,
        left_out,
        lowest_described: (left_out > 0).then_some(lowest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_model::{LayerInfo, Location};

    fn target(name: &str, findings: Vec<Finding>) -> TargetResult {
        let mut t: TargetResult = serde_json::from_value(serde_json::json!({
            "kind": "image", "name": name,
            "os": {"family": "debian", "version": "12"},
            "layers": [], "packages": [], "findings": []
        }))
        .unwrap();
        t.layers = vec![
            LayerInfo {
                diff_id: Some("sha256:aa".into()),
                created_by: Some("ADD rootfs.tar /".into()),
                ..Default::default()
            },
            LayerInfo {
                diff_id: Some("sha256:bb".into()),
                created_by: Some(
                    "RUN echo //r/:_authToken=npm_***** > .npmrc && git clone https://ci:pw@git.example/x".into(),
                ),
                ..Default::default()
            },
        ];
        t.findings = findings;
        t
    }

    fn result(targets: Vec<TargetResult>) -> ScanResult {
        let mut r: ScanResult = serde_json::from_value(serde_json::json!({
            "schema_version": 1, "tool": {"name": "holdfast", "version": "0"},
            "created_at": "", "targets": [], "summary": {
                "targets": 0, "packages": 0, "findings": 0, "by_severity": {}, "warnings": 0}
        }))
        .unwrap();
        r.targets = targets;
        r
    }

    fn vuln(id: &str, sev: Severity, pkg: &str) -> Finding {
        let mut f = Finding::new(FindingKind::Vulnerability, id, sev, format!("{pkg}: flaw"));
        f.package = Some(pkg.into());
        f.installed_version = Some("1.0".into());
        f.fixed_version = Some("1.1".into());
        f.layer = Some("sha256:aa".into());
        f.path = Some("/var/lib/dpkg/status".into());
        f.description = "DESCRIPTION-NOT-SENT".into();
        f
    }

    const CLEAR_SECRET: &str = "ghp_q8Zr2LmX0vTb7WcN4yPeQ1sAq8Zr2LmX0vTb";

    fn secret() -> Finding {
        let mut f = Finding::new(
            FindingKind::Secret,
            "github-pat",
            Severity::Critical,
            "GitHub personal access token",
        );
        f.evidence = Some("ghp_*****".into());
        f.fingerprint = Some(format!("sha256:{}", "c0ffee".repeat(10) + "abcd"));
        f.path = Some("/app/settings.py".into());
        f.line = Some(3);
        f.layer = Some("sha256:bb".into());
        f.removed = true;
        f.remediation = Some("Revoke the token and rebuild the image without it.".into());
        f
    }

    #[test]
    fn a_cluster_scan_says_which_images_the_internet_reaches() {
        let mut r = result(vec![
            target(
                "reg/web@sha256:aa",
                vec![vuln("CVE-1", Severity::High, "zlib")],
            ),
            target("reg/batch:1", vec![vuln("CVE-2", Severity::High, "zlib")]),
        ]);
        r.cluster = Some(serde_json::from_value(serde_json::json!({
            "context": "prod",
            "pods": [
                {"namespace": "shop", "name": "web-1", "is_public": true,
                 "exposure": ["Ingress shop/web → Service shop/web → Pod shop/web-1"],
                 "images": [{"container": "web", "reference": "reg/web:1", "target": "reg/web@sha256:aa"}]},
                {"namespace": "shop", "name": "batch-1", "is_public": false, "exposure": [],
                 "images": [{"container": "b", "reference": "reg/batch:1", "target": "reg/batch:1"}]},
            ],
        })).unwrap());
        let s = summarize(&r, &Scrubber::for_result(&r), 24_000, 16);
        let text: String = s.parts.iter().map(|p| p.text.as_str()).collect();
        assert!(text.contains("Run by 1 pod(s) of cluster prod; 1 reachable from the internet (e.g. Ingress shop/web → Service shop/web → Pod shop/web-1)"), "{text}");
        assert!(
            text.contains("Run by 1 pod(s) of cluster prod; 0 reachable from the internet\n"),
            "{text}"
        );
    }

    #[test]
    fn a_small_result_is_one_part_with_what_matters() {
        let mut v = vuln("GHSA-xxxx-yyyy-zzzz", Severity::High, "openssl");
        v.aliases = vec!["CVE-2024-0001".into()];
        v.locations = vec![
            Location {
                path: "/a".into(),
                layer: None,
            },
            Location {
                path: "/b".into(),
                layer: None,
            },
        ];
        let r = result(vec![target("app.tar", vec![v, secret()])]);
        let s = summarize(&r, &Scrubber::for_result(&r), 24_000, 16);
        assert_eq!(s.parts.len(), 1);
        assert_eq!(s.findings, 2);
        assert_eq!(s.left_out, 0);
        let p = &s.parts[0];
        assert_eq!(p.targets, vec!["app.tar".to_string()]);
        assert_eq!(p.severities, vec![Severity::Critical, Severity::High]);
        assert_eq!(p.title, "app.tar: CRITICAL, HIGH");
        let t = &p.text;
        for want in [
            "Target: app.tar (image; OS debian 12)",
            "CRITICAL 1, HIGH 1, MEDIUM 0, LOW 0, UNKNOWN 0",
            "- [vulnerability] GHSA-xxxx-yyyy-zzzz (CVE-2024-0001) | package openssl 1.0, fixed in 1.1 | openssl: flaw | at /var/lib/dpkg/status (+1 more places) in L1",
            "- [secret] github-pat | GitHub personal access token | at /app/settings.py:3 in L2 (deleted by a later layer, still in the image) | fix: Revoke the token",
            "L2: RUN echo //r/:_authToken=[redacted] > .npmrc && git clone https://[redacted]@git.example/x",
        ] {
            assert!(t.contains(want), "missing `{want}` in:\n{t}");
        }
        // The secret comes first: most severe first.
        assert!(t.find("github-pat").unwrap() < t.find("GHSA-").unwrap());
    }

    #[test]
    fn nothing_secret_is_described() {
        let mut s = secret();
        // Even a title that (wrongly) held the evidence or the clear value is cleaned.
        s.title = format!("token {} or ghp_*****", "c0ffee".repeat(10) + "abcd");
        let mut env = Finding::new(
            FindingKind::History,
            "HF-HISTORY-SECRET-ENV",
            Severity::High,
            "Secret-looking build argument",
        );
        env.evidence = Some("API_TOKEN=<redacted>".into());
        env.title = format!("Build step sets API_TOKEN={CLEAR_SECRET}");
        let r = result(vec![target("app.tar", vec![s.clone(), env])]);
        let sum = summarize(&r, &Scrubber::for_result(&r), 24_000, 16);
        let text: String = sum.parts.iter().map(|p| p.text.as_str()).collect();
        assert!(!text.contains(CLEAR_SECRET), "{text}");
        assert!(!text.contains("ghp_"), "{text}");
        assert!(!text.contains(s.fingerprint.as_deref().unwrap()), "{text}");
        assert!(!text.contains(&"c0ffee".repeat(10)), "{text}");
        assert!(!text.contains("API_TOKEN=<redacted>"), "{text}");
        assert!(!text.contains("DESCRIPTION-NOT-SENT"), "{text}");
        assert!(!text.contains("pw@"), "{text}");
    }

    #[test]
    fn large_results_split_by_target_and_severity_within_the_budget() {
        let many = |sev: Severity, n: usize, prefix: &str| {
            (0..n)
                .map(|i| vuln(&format!("CVE-2024-{prefix}{i:04}"), sev, &format!("pkg{i}")))
                .collect::<Vec<_>>()
        };
        let mut a = many(Severity::Critical, 30, "1");
        a.extend(many(Severity::Low, 60, "2"));
        let small = many(Severity::Medium, 2, "3");
        let r = result(vec![
            target("big.tar", a),
            target("small1.tar", small.clone()),
            target("small2.tar", small),
        ]);
        let budget = 4_000;
        let s = summarize(&r, &Scrubber::for_result(&r), budget, 100);
        assert!(s.parts.len() > 2, "{}", s.parts.len());
        for p in &s.parts {
            assert!(p.text.len() <= budget, "{} > {budget}", p.text.len());
            assert!(p.text.contains(&format!("of {}.", s.parts.len())));
        }
        assert_eq!(s.findings, 94);
        assert_eq!(s.parts.iter().map(|p| p.findings).sum::<usize>(), 94);
        // No part mixes big.tar's CRITICAL and LOW findings: it was split by severity.
        for p in s
            .parts
            .iter()
            .filter(|p| p.targets.contains(&"big.tar".to_string()))
        {
            assert!(
                !(p.severities.contains(&Severity::Critical)
                    && p.severities.contains(&Severity::Low)),
                "{:?}",
                p.severities
            );
        }
        // The two small targets share the last part.
        let last = s.parts.last().unwrap();
        assert!(last.targets.contains(&"small1.tar".to_string()));
        assert!(last.targets.contains(&"small2.tar".to_string()));
        // Every finding is described exactly once.
        let all: String = s.parts.iter().map(|p| p.text.as_str()).collect();
        for i in 0..30 {
            assert_eq!(all.matches(&format!("CVE-2024-1{i:04} ")).count(), 1);
        }
    }

    #[test]
    fn over_the_part_limit_the_least_severe_are_left_out() {
        let mut fs: Vec<Finding> = (0..40)
            .map(|i| vuln(&format!("CVE-2024-9{i:04}"), Severity::Low, "lowpkg"))
            .collect();
        fs.push(vuln("CVE-2024-0001", Severity::Critical, "openssl"));
        let r = result(vec![target("app.tar", fs)]);
        let s = summarize(&r, &Scrubber::for_result(&r), MIN_BUDGET, 1);
        assert_eq!(s.parts.len(), 1);
        assert_eq!(s.findings, 1);
        assert_eq!(s.left_out, 40);
        assert_eq!(s.lowest_described, Some(Severity::Medium));
        assert!(s.parts[0].text.contains("CVE-2024-0001"));
    }

    #[test]
    fn a_target_without_findings_is_still_described() {
        let r = result(vec![target("clean.tar", vec![])]);
        let s = summarize(&r, &Scrubber::default(), 24_000, 16);
        assert_eq!(s.parts.len(), 1);
        assert_eq!(s.parts[0].title, "clean.tar: no findings");
        assert!(s.parts[0].text.contains("No findings"));
    }
}
