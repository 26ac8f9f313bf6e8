//! The human-readable table: per target, its OS, its packages when asked for, its findings
//! by kind (vulnerabilities worst first, fixable first), and what was skipped.

mod findings;

use std::io::Write;

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use holdfast_model::ScanResult;

/// Table rendering choices.
#[derive(Debug, Clone)]
pub struct TableOptions {
    /// Terminal width to fit; `None` lets the table grow.
    pub width: Option<u16>,
    /// Color severities with ANSI codes (the binary decides: a TTY, no `NO_COLOR`, no
    /// `--no-color`).
    pub color: bool,
    /// List every package before the findings (`sbom -f table`, `--list-packages`); a
    /// scan's table shows the findings alone.
    pub packages: bool,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            width: Some(100),
            color: false,
            packages: false,
        }
    }
}

/// The heading a package is listed under: its database or lock file, except that packages
/// installed one metadata file each (Python dist-info, node_modules, gemspecs) are listed
/// together per type, as one table of "installed" packages.
fn group_label(p: &holdfast_model::Package) -> String {
    let path = p.path.as_str();
    let one_file_per_package = path.ends_with("/METADATA")
        || path.ends_with("/PKG-INFO")
        || path.ends_with(".egg-info")
        || path.ends_with(".gemspec")
        || (path.ends_with("/package.json") && path.contains("/node_modules/"));
    if one_file_per_package {
        format!("{} packages installed", p.package_type.as_str())
    } else {
        path.to_string()
    }
}

/// Text from the image made safe for a terminal: control characters (an escape sequence
/// in a package name could rewrite the screen) become U+FFFD.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

/// Cuts text to `max` characters, marking the cut; the id says where to read the rest.
pub(crate) fn cut(text: &str, max: usize) -> String {
    let first_line = printable(text.lines().next().unwrap_or(""));
    let first_line = first_line.as_str();
    if first_line.chars().count() <= max {
        first_line.to_string()
    } else {
        let mut s: String = first_line.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

pub(crate) fn short_layer(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

/// Writes the table.
pub fn write(result: &ScanResult, out: &mut dyn Write, opts: &TableOptions) -> std::io::Result<()> {
    if result.targets.is_empty() {
        writeln!(out, "No targets.")?;
    }
    for t in &result.targets {
        let os = match (&t.os, t.kind) {
            (Some(o), _) => format!("{} {}", o.family.as_str(), o.version),
            (None, holdfast_model::TargetKind::Config) => "configuration file".into(),
            (None, holdfast_model::TargetKind::Host) => "compliance".into(),
            (None, _) => "unknown OS".into(),
        };
        writeln!(out, "{} ({os})", t.name)?;
        writeln!(out, "{}", "=".repeat(t.name.chars().count() + os.len() + 3))?;
        // One table per file the packages were read from, like Trivy's per-target tables.
        let mut groups: Vec<(String, Vec<&holdfast_model::Package>)> = Vec::new();
        let listed = if opts.packages {
            t.packages.as_slice()
        } else {
            &[]
        };
        for p in listed {
            let label = group_label(p);
            match groups.iter_mut().find(|(l, _)| *l == label) {
                Some((_, list)) => list.push(p),
                None => groups.push((label, vec![p])),
            }
        }
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        for (label, packages) in groups {
            writeln!(out, "\n{} ({} packages)", printable(&label), packages.len())?;
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED);
            match opts.width {
                Some(w) => {
                    table.set_content_arrangement(ContentArrangement::Dynamic);
                    table.set_width(w);
                }
                None => {
                    table.set_content_arrangement(ContentArrangement::Disabled);
                }
            }
            table.set_header(vec!["Package", "Version", "Type", "Source", "Layer"]);
            let mut packages = packages;
            packages.sort_by(|a, b| {
                (&a.name, &a.version, &a.path).cmp(&(&b.name, &b.version, &b.path))
            });
            for p in packages {
                let source = match (&p.source_name, &p.source_version) {
                    (Some(n), Some(v)) if n != &p.name || v != &p.version => format!("{n} {v}"),
                    _ => String::new(),
                };
                table.add_row(vec![
                    printable(&p.name),
                    printable(&p.version),
                    p.package_type.as_str().to_string(),
                    source,
                    p.layer
                        .as_deref()
                        .map(short_layer)
                        .unwrap_or("")
                        .to_string(),
                ]);
            }
            writeln!(out, "{table}")?;
        }
        if t.kind == holdfast_model::TargetKind::Host {
            write_checks(&t.checks, out)?;
        }
        findings::write(t, out, opts)?;
        if !t.checks.is_empty() || t.kind == holdfast_model::TargetKind::Config {
            writeln!(
                out,
                "Total: {} checks ({}), {} findings",
                t.checks.len(),
                holdfast_model::CheckStatus::counts_text(&t.checks),
                t.findings.len()
            )?;
        } else {
            writeln!(
                out,
                "Total: {} packages, {} findings",
                t.packages.len(),
                t.findings.len()
            )?;
        }
        if !t.warnings.is_empty() {
            writeln!(out, "\nSkipped or unreadable ({}):", t.warnings.len())?;
            for w in &t.warnings {
                let mut line = String::from("  - ");
                if let Some(p) = &w.path {
                    line.push_str(p);
                    line.push_str(": ");
                }
                line.push_str(&w.message);
                if let Some(l) = &w.layer {
                    line.push_str(&format!(" (layer {})", short_layer(l)));
                }
                writeln!(out, "{line}")?;
            }
        }
        writeln!(out)?;
    }
    if result.targets.len() > 1 {
        findings::write_summary(
            "All targets",
            result.targets.iter().flat_map(|t| &t.findings),
            out,
            opts,
        )?;
    }
    if let Some(a) = &result.analysis {
        write_analysis(a, out, opts)?;
    }
    Ok(())
}

/// Every check of a benchmark run, by section, as benchmark scripts print them: the
/// status, the id and title, and for a failure up to three pieces of evidence.
fn write_checks(
    checks: &[holdfast_model::CheckResult],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    use holdfast_model::CheckStatus;
    const EVIDENCE_SHOWN: usize = 3;
    let mut heading: Option<(&str, &str)> = None;
    for c in checks {
        if heading != Some((&c.benchmark, &c.section)) {
            if heading.is_none_or(|(b, _)| b != c.benchmark) {
                writeln!(out, "\n{}", printable(&c.benchmark))?;
            }
            writeln!(out, "\n{}", printable(&c.section))?;
            heading = Some((&c.benchmark, &c.section));
        }
        writeln!(
            out,
            "[{:<5}] {} {}",
            c.status.as_str(),
            printable(&c.id),
            printable(&c.title)
        )?;
        if matches!(
            c.status,
            CheckStatus::Warn | CheckStatus::Info | CheckStatus::Error
        ) {
            for e in c.evidence.iter().take(EVIDENCE_SHOWN) {
                writeln!(out, "        {}", printable(&cut(&e.message, 160)))?;
            }
            if c.evidence.len() > EVIDENCE_SHOWN {
                writeln!(
                    out,
                    "        ... and {} more",
                    c.evidence.len() - EVIDENCE_SHOWN
                )?;
            }
        }
    }
    writeln!(out)
}

/// The model's text made safe for a terminal, lines kept: tabs become spaces, other
/// control characters U+FFFD (the answer is derived from image content).
fn printable_lines(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\t', "    ")
        .split('\n')
        .map(printable)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The analysis section, after everything else: its provenance, each answer under its
/// heading, then what went wrong asking.
fn write_analysis(
    a: &holdfast_model::Analysis,
    out: &mut dyn Write,
    opts: &TableOptions,
) -> std::io::Result<()> {
    let (bold, reset) = if opts.color {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("", "")
    };
    writeln!(out)?;
    writeln!(out, "{bold}Analysis{reset}")?;
    writeln!(out, "========")?;
    let via = if a.endpoint.is_empty() {
        String::new()
    } else {
        format!(" at {}", printable(&a.endpoint))
    };
    writeln!(
        out,
        "By {}{via}, {}, from a redacted summary of {} findings in {} {}. Advice from a language model: check it before acting on it.",
        printable(&a.model),
        printable(&a.created_at),
        a.findings,
        a.parts,
        if a.parts == 1 { "request" } else { "requests" }
    )?;
    for s in &a.sections {
        writeln!(out)?;
        writeln!(out, "{bold}## {}{reset}", printable(&s.title))?;
        writeln!(out, "{}", printable_lines(s.text.trim_end()))?;
    }
    if a.sections.is_empty() {
        writeln!(out, "\nNo answer.")?;
    }
    if !a.warnings.is_empty() {
        writeln!(out, "\nAnalysis warnings ({}):", a.warnings.len())?;
        for w in &a.warnings {
            writeln!(out, "  - [{}] {}", w.kind.as_str(), printable(&w.message))?;
        }
    }
    Ok(())
}
