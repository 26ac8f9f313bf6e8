//! Where rendered reports go: stdout, one file, or one file per format in a directory
//! (with the table on stdout as well), and whether the table is colored.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use holdfast_model::{ScanResult, Severity};
use holdfast_report::{render, Format, RenderOptions, TableOptions, UserTemplate};

/// Largest template file read.
const MAX_TEMPLATE_BYTES: u64 = 4 << 20;

/// The formats, destination and rendering choices of one command, checked before any scan
/// runs (a template that does not parse fails here, not after the scan).
pub struct Outputs {
    formats: Vec<Format>,
    output: Option<PathBuf>,
    no_color: bool,
    list_packages: bool,
    template: Option<UserTemplate>,
}

/// Parses `--format` values; empty means the command's default, or `template` when
/// `--template` is given.
fn parse_formats(values: &[String], default: Format, has_template: bool) -> Result<Vec<Format>> {
    let mut out = Vec::new();
    for v in values.iter().filter(|v| !v.trim().is_empty()) {
        let f: Format = v.parse().map_err(anyhow::Error::msg)?;
        if !out.contains(&f) {
            out.push(f);
        }
    }
    if out.is_empty() {
        out.push(if has_template {
            Format::Template
        } else {
            default
        });
    }
    Ok(out)
}

fn load_template(path: &Path) -> Result<UserTemplate> {
    let file = File::open(path)
        .with_context(|| format!("cannot read the template `{}`", path.display()))?;
    let mut source = String::new();
    file.take(MAX_TEMPLATE_BYTES + 1)
        .read_to_string(&mut source)
        .with_context(|| format!("cannot read the template `{}`", path.display()))?;
    if source.len() as u64 > MAX_TEMPLATE_BYTES {
        bail!(
            "the template `{}` is larger than {} MiB",
            path.display(),
            MAX_TEMPLATE_BYTES >> 20
        );
    }
    Ok(UserTemplate::new(path.display().to_string(), source)?)
}

/// Whether the table on stdout gets colors: a terminal, no `--no-color`, and no
/// non-empty `NO_COLOR` (<https://no-color.org>).
fn stdout_color(no_color: bool) -> bool {
    let env_says_no = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && !env_says_no && std::io::stdout().is_terminal()
}

/// A file-system-safe stem for output files named after the target.
fn file_stem(result: &ScanResult) -> String {
    let name = result
        .targets
        .first()
        .map(|t| t.name.as_str())
        .unwrap_or("result");
    let base = name
        .rsplit(['/', ':'])
        .find(|s| !s.is_empty())
        .unwrap_or("result");
    base.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Whether `-o PATH` names a directory: it exists as one, or is written with a trailing
/// slash.
fn is_dir_output(path: &Path) -> bool {
    path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/')
}

impl Outputs {
    /// The outputs a scan command's flags ask for.
    pub fn from_scan_options(opts: &crate::cli::ScanOptions, default: Format) -> Result<Self> {
        let mut outputs = Self::from_flags(
            &opts.format,
            default,
            opts.output.as_deref(),
            opts.no_color,
            opts.template.as_deref(),
        )?;
        // An SBOM's table is its package list.
        outputs.list_packages = opts.list_packages || default != Format::Table;
        Ok(outputs)
    }

    /// Lists every package in the table before the findings.
    pub fn list_packages(mut self, yes: bool) -> Self {
        self.list_packages = yes;
        self
    }

    /// Checks the flags: known formats, a parsable template when `template` is asked for,
    /// and a directory for several formats.
    pub fn from_flags(
        format: &[String],
        default: Format,
        output: Option<&Path>,
        no_color: bool,
        template: Option<&Path>,
    ) -> Result<Self> {
        let formats = parse_formats(format, default, template.is_some())?;
        let template = match template {
            Some(p) => Some(load_template(p)?),
            None => None,
        };
        if formats.contains(&Format::Template) && template.is_none() {
            bail!("`-f template` needs `--template FILE`");
        }
        if formats.len() > 1 && output.is_none() {
            bail!("several formats need --output DIR (one file per format)");
        }
        Ok(Outputs {
            formats,
            output: output.map(Path::to_path_buf),
            no_color,
            list_packages: false,
            template,
        })
    }

    fn options(&self, color: bool) -> RenderOptions {
        RenderOptions {
            table: TableOptions {
                color,
                packages: self.list_packages,
                ..TableOptions::default()
            },
            template: self.template.clone(),
        }
    }

    fn to_stdout(&self, result: &ScanResult, format: Format) -> Result<()> {
        let opts = self.options(format == Format::Table && stdout_color(self.no_color));
        let stdout = std::io::stdout();
        let mut lock = BufWriter::new(stdout.lock());
        render(result, format, &mut lock, &opts)?;
        lock.flush()?;
        Ok(())
    }

    fn to_file(&self, result: &ScanResult, format: Format, path: &Path) -> Result<()> {
        let mut w = BufWriter::new(
            File::create(path).with_context(|| format!("cannot create `{}`", path.display()))?,
        );
        render(result, format, &mut w, &self.options(false))
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        w.flush()
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        Ok(())
    }

    /// Whether the table goes to stdout (alone, or beside files in a directory).
    pub fn table_on_stdout(&self) -> bool {
        self.formats.contains(&Format::Table)
            && match self.output.as_deref() {
                None => true,
                Some(path) => self.formats.len() > 1 || is_dir_output(path),
            }
    }

    /// Writes every format to its destination.
    pub fn write(&self, result: &ScanResult) -> Result<()> {
        match (self.output.as_deref(), self.formats.as_slice()) {
            (None, [one]) => self.to_stdout(result, *one),
            (None, _) => bail!("several formats need --output DIR (one file per format)"),
            (Some(path), [one]) if !is_dir_output(path) => self.to_file(result, *one, path),
            (Some(dir), many) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create `{}`", dir.display()))?;
                let stem = file_stem(result);
                for f in many {
                    if *f == Format::Table {
                        self.to_stdout(result, *f)?;
                    }
                    let path = dir.join(format!("{stem}.{}", f.extension()));
                    self.to_file(result, *f, &path)?;
                }
                Ok(())
            }
        }
    }
}

/// A few lines after the table: what the registry scan covered.
pub fn print_registry_summary(result: &ScanResult) -> std::io::Result<()> {
    let Some(s) = &result.registry else {
        return Ok(());
    };
    let mut out = std::io::stdout().lock();
    let counts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .map(|sev| format!("{sev:?}: {}", s.by_severity.get(sev).copied().unwrap_or(0)))
        .collect();
    writeln!(out)?;
    writeln!(
        out,
        "Registry {}: {}, {} selected, {} scanned, {} failed",
        s.registry,
        counted(s.repositories, "repository", "repositories"),
        counted(s.images_selected, "image", "images"),
        s.images_scanned,
        s.failed.len()
    )?;
    writeln!(out, "Findings: {}", counts.join(", "))?;
    for w in s.worst.iter().filter(|w| w.findings > 0).take(5) {
        writeln!(out, "  worst: {} ({} findings)", w.image, w.findings)?;
    }
    for f in &s.failed {
        writeln!(out, "  failed: {}: {}", f.image, f.error)?;
    }
    Ok(())
}

/// A few lines after the table: the cluster's pods, the public ones with their images'
/// findings first, and what could not be read.
pub fn print_cluster_summary(result: &ScanResult) -> std::io::Result<()> {
    let Some(c) = &result.cluster else {
        return Ok(());
    };
    let findings: std::collections::HashMap<&str, usize> = result
        .targets
        .iter()
        .map(|t| (t.name.as_str(), t.findings.len()))
        .collect();
    let pod_findings = |p: &holdfast_model::ClusterPod| -> usize {
        let mut names: Vec<&str> = p
            .images
            .iter()
            .filter_map(|i| i.target.as_deref())
            .collect();
        names.sort_unstable();
        names.dedup();
        names.iter().filter_map(|t| findings.get(t)).sum()
    };
    let public: Vec<&holdfast_model::ClusterPod> = c.pods.iter().filter(|p| p.is_public).collect();
    let mut out = std::io::stdout().lock();
    writeln!(out)?;
    writeln!(
        out,
        "Cluster {}: {}, {} public, {} scanned, {} errors",
        c.context,
        counted(c.pods.len(), "pod", "pods"),
        public.len(),
        counted(result.targets.len(), "image", "images"),
        c.errors.len()
    )?;
    // Public pods by the risk every report ranks with.
    let mut ranked = public.clone();
    ranked.sort_by_key(|p| std::cmp::Reverse(p.risk(&result.targets)));
    for p in ranked.iter().take(10) {
        writeln!(
            out,
            "  public: {}/{} ({} findings) via {}",
            p.namespace,
            p.name,
            pod_findings(p),
            p.exposure.first().map(String::as_str).unwrap_or("-")
        )?;
    }
    for e in c.errors.iter().take(20) {
        let place = [e.namespace.as_deref(), e.pod.as_deref(), e.image.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        writeln!(out, "  error: {place}: {}", e.message)?;
    }
    if c.errors.len() > 20 {
        writeln!(
            out,
            "  (+{} more errors in the JSON result)",
            c.errors.len() - 20
        )?;
    }
    Ok(())
}

/// `n` with the noun that fits it: "1 repository", "2 repositories".
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
