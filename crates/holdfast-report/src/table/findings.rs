//! The findings part of the table: one table per finding kind, rows grouped by package,
//! a summary line of counts by severity, and the suppressed findings in one line each.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use comfy_table::{
    presets::UTF8_FULL_CONDENSED, Attribute, Cell, Color, ContentArrangement, Table,
};
use holdfast_model::{Finding, FindingKind, Severity, TargetResult};

use super::{cut, printable, TableOptions};
use crate::locate::location;

/// Longest title shown in a cell; the id says where to read the rest.
const TITLE_MAX: usize = 60;
/// Longest title in a table with package columns, where the title has about 27 columns:
/// two lines.
const PACKAGE_TITLE_MAX: usize = 48;

/// The heading of a kind's table.
fn heading(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Vulnerability => "Vulnerabilities",
        FindingKind::Secret => "Secrets",
        FindingKind::Misconfiguration => "Misconfigurations",
        FindingKind::Compliance => "Compliance",
        FindingKind::Malware => "Malware",
        FindingKind::Webshell => "Webshells",
        FindingKind::Backdoor => "Backdoors",
        FindingKind::WeakPassword => "Weak passwords",
        FindingKind::Escape => "Container escape risks",
        FindingKind::History => "Image history",
        FindingKind::Suid => "SUID/SGID files",
    }
}

fn color_of(s: Severity) -> (Color, bool) {
    match s {
        Severity::Critical => (Color::Red, true),
        Severity::High => (Color::Red, false),
        Severity::Medium => (Color::Yellow, false),
        Severity::Low => (Color::Blue, false),
        Severity::Unknown => (Color::Grey, false),
    }
}

fn ansi_of(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "\x1b[1;31m",
        Severity::High => "\x1b[31m",
        Severity::Medium => "\x1b[33m",
        Severity::Low => "\x1b[34m",
        Severity::Unknown => "\x1b[90m",
    }
}

fn severity_cell(s: Severity, color: bool) -> Cell {
    let cell = Cell::new(s.as_str());
    if !color {
        return cell;
    }
    let (c, bold) = color_of(s);
    let cell = cell.fg(c);
    if bold {
        cell.add_attribute(Attribute::Bold)
    } else {
        cell
    }
}

fn new_table(opts: &TableOptions) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    if opts.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    if let Some(w) = opts.width {
        table.set_content_arrangement(ContentArrangement::Dynamic);
        table.set_width(w);
    }
    table
}

/// Keeps ids and severities on one line and versions short, so the title gets the room
/// that is left at 100 columns.
fn constrain(table: &mut Table, with_package: bool) {
    use comfy_table::{ColumnConstraint::*, Width::Fixed};
    let limits: &[(usize, comfy_table::ColumnConstraint)] = if with_package {
        &[
            (0, UpperBoundary(Fixed(20))),
            (1, LowerBoundary(Fixed(16))),
            (2, Absolute(Fixed(10))),
            (3, LowerBoundary(Fixed(19))),
        ]
    } else {
        &[(0, LowerBoundary(Fixed(18))), (1, Absolute(Fixed(10)))]
    };
    for (i, c) in limits {
        if let Some(col) = table.column_mut(*i) {
            col.set_constraint(*c);
        }
    }
}

/// Keeps the end of a long path, which says the most.
fn cut_left(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max {
        return text.to_string();
    }
    let tail: String = text.chars().skip(n - max + 1).collect();
    format!("…{tail}")
}

/// Writes the findings of one target, grouped by kind then package.
pub fn write(t: &TargetResult, out: &mut dyn Write, opts: &TableOptions) -> std::io::Result<()> {
    for kind in FindingKind::ALL {
        let mut list: Vec<&Finding> = t.findings.iter().filter(|f| f.kind == kind).collect();
        if list.is_empty() {
            continue;
        }
        if kind == FindingKind::Vulnerability {
            // What to fix first: the most severe, and among those the ones with a fix.
            list.sort_by(|a, b| {
                (
                    std::cmp::Reverse(a.severity),
                    a.fixed_version.is_none(),
                    &a.package,
                    &a.id,
                    &a.path,
                )
                    .cmp(&(
                        std::cmp::Reverse(b.severity),
                        b.fixed_version.is_none(),
                        &b.package,
                        &b.id,
                        &b.path,
                    ))
            });
        } else {
            list.sort_by(|a, b| {
                (
                    &a.package,
                    &a.path,
                    std::cmp::Reverse(a.severity),
                    &a.id,
                    a.line,
                )
                    .cmp(&(
                        &b.package,
                        &b.path,
                        std::cmp::Reverse(b.severity),
                        &b.id,
                        b.line,
                    ))
            });
        }
        writeln!(out, "\n{} ({})", heading(kind), list.len())?;
        let with_package = list.iter().any(|f| f.package.is_some());
        // Findings about packages name their package file only when one name is found in
        // several files (a lock file and the installed copy, say); other kinds always say
        // where they are.
        let with_location = !with_package && list.iter().any(|f| f.path.is_some());
        let mut paths_of: HashMap<&str, HashSet<&str>> = HashMap::new();
        for f in &list {
            if let Some(p) = &f.package {
                paths_of
                    .entry(p.as_str())
                    .or_default()
                    .insert(f.path.as_deref().unwrap_or(""));
            }
        }
        let mut header = Vec::new();
        if with_package {
            header.extend(["Package", "Id", "Severity", "Installed → Fixed"]);
        } else {
            header.extend(["Id", "Severity"]);
        }
        if with_location {
            header.push("Location");
        }
        header.push("Title");
        let mut table = new_table(opts);
        table.set_header(header);
        let mut previous_group: Option<(&str, &str)> = None;
        for f in list {
            let mut row = Vec::new();
            if with_package {
                // The package is named once, on the first row of its group.
                let name = f.package.as_deref().unwrap_or("");
                let path = f.path.as_deref().unwrap_or("");
                let group = Some((name, path));
                let shown = if group == previous_group {
                    String::new()
                } else if paths_of.get(name).is_some_and(|s| s.len() > 1)
                    && !path.is_empty()
                    && f.locations.len() <= 1
                {
                    format!("{}\n{}", printable(name), printable(&cut_left(path, 18)))
                } else {
                    printable(name)
                };
                previous_group = group;
                row.push(Cell::new(shown));
                // How many copies of the package the finding covers, under its id.
                let id = match f.locations.len() {
                    0 | 1 => printable(&f.id),
                    n => format!("{}\nin {n} places", printable(&f.id)),
                };
                row.push(Cell::new(id));
                row.push(severity_cell(f.severity, opts.color));
                // Installed over fixed in one column, so the title keeps some room at 100
                // columns.
                let installed = printable(f.installed_version.as_deref().unwrap_or(""));
                let fixed = match &f.fixed_version {
                    Some(v) => format!("→ {}", printable(v)),
                    None => "no fix yet".to_string(),
                };
                row.push(Cell::new(format!("{installed}\n{fixed}")));
            } else {
                row.push(Cell::new(printable(&f.id)));
                row.push(severity_cell(f.severity, opts.color));
            }
            if with_location {
                let mut loc = location(f);
                if f.removed {
                    loc.push_str(" (removed)");
                }
                row.push(Cell::new(printable(&loc)));
            }
            // Package tables leave the title less room: cut it to about two lines.
            let max = if with_package {
                PACKAGE_TITLE_MAX
            } else {
                TITLE_MAX
            };
            // A configuration check's title says what it checks; the evidence says where.
            let title = match (&f.evidence, f.kind) {
                (Some(e), FindingKind::Misconfiguration | FindingKind::Compliance) => {
                    format!("{}\n{}", cut(&f.title, max), printable(&cut(e, max * 2)))
                }
                _ => cut(&f.title, max),
            };
            row.push(Cell::new(title));
            table.add_row(row);
        }
        constrain(&mut table, with_package);
        writeln!(out, "{table}")?;
    }
    if !t.findings.is_empty() {
        write_summary("Findings", t.findings.iter(), out, opts)?;
    }
    if !t.suppressed.is_empty() {
        writeln!(out, "\nSuppressed ({}, not counted):", t.suppressed.len())?;
        for f in &t.suppressed {
            let by = f.suppression.as_ref().map(|s| s.by.as_str()).unwrap_or("?");
            let what = f
                .package
                .as_deref()
                .map(|p| format!(" in {p}"))
                .unwrap_or_default();
            let line = format!("  - {} {}{what} (by {by})", f.id, f.severity.as_str());
            writeln!(out, "{}", printable(&line))?;
        }
    }
    Ok(())
}

/// One line: the total and the count of each severity, most severe first, and how many
/// vulnerabilities have a fix.
pub fn write_summary<'a>(
    label: &str,
    findings: impl Iterator<Item = &'a Finding>,
    out: &mut dyn Write,
    opts: &TableOptions,
) -> std::io::Result<()> {
    let mut counts = [0usize; 5];
    let mut total = 0;
    let mut vulnerabilities = 0;
    let mut fixable = 0;
    let mut unrated = 0;
    for f in findings {
        counts[f.severity as usize] += 1;
        total += 1;
        if f.kind == FindingKind::Vulnerability {
            vulnerabilities += 1;
            fixable += usize::from(f.fixed_version.is_some());
            unrated += usize::from(f.severity == Severity::Unknown);
        }
    }
    let parts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .map(|s| {
            let n = counts[*s as usize];
            if opts.color && n > 0 {
                format!("{}{}: {n}\x1b[0m", ansi_of(*s), s.as_str())
            } else {
                format!("{}: {n}", s.as_str())
            }
        })
        .collect();
    if vulnerabilities > 0 {
        let unrated = if unrated > 0 {
            format!(", {unrated} rated by no source")
        } else {
            String::new()
        };
        writeln!(
            out,
            "{label}: {total} ({}); {fixable} of {vulnerabilities} vulnerabilities fixable{unrated}",
            parts.join(", ")
        )
    } else {
        writeln!(out, "{label}: {total} ({})", parts.join(", "))
    }
}
