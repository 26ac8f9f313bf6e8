//! Every output format of a scan result. Writers take the result and a `Write`; they do no
//! other I/O, so the binary decides where output goes and tests render to memory.
//!
//! Every writer handles every finding kind: a vulnerability names a package, a secret a
//! path and line, an escape risk may name neither.

mod compliance;
mod cyclonedx;
mod html;
mod ids;
mod locate;
mod sarif;
mod spdx;
mod table;
mod template;

use std::io::Write;
use std::str::FromStr;

use holdfast_model::ScanResult;

pub use table::TableOptions;
pub use template::UserTemplate;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Table,
    Json,
    Html,
    Sarif,
    CycloneDx,
    Spdx,
    /// A user's minijinja template (`--template FILE`), with the JSON result as context.
    Template,
    /// Configuration and compliance check results grouped by section and by regulation.
    Compliance,
}

impl Format {
    /// The names accepted by `--format`.
    pub const NAMES: &'static [&'static str] = &[
        "table",
        "json",
        "html",
        "sarif",
        "cyclonedx",
        "spdx",
        "template",
        "compliance",
    ];

    /// The file extension used when writing this format into a directory.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Json => "json",
            Format::Html => "html",
            Format::Sarif => "sarif",
            Format::CycloneDx => "cdx.json",
            Format::Spdx => "spdx.json",
            Format::Template => "template.txt",
            Format::Compliance => "compliance.json",
        }
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "html" => Ok(Format::Html),
            "sarif" => Ok(Format::Sarif),
            "cyclonedx" | "cdx" => Ok(Format::CycloneDx),
            "spdx" | "spdx-json" => Ok(Format::Spdx),
            "template" => Ok(Format::Template),
            "compliance" => Ok(Format::Compliance),
            other => Err(format!(
                "unknown format `{other}`; expected one of: {}",
                Format::NAMES.join(", ")
            )),
        }
    }
}

/// Why rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write the report: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot encode the report: {0}")]
    Json(#[from] serde_json::Error),
    /// A template (ours or the user's) failed to parse or render; the message names the
    /// template and the line.
    #[error("{0}")]
    Template(String),
    #[error("the `template` format needs a template file (--template FILE)")]
    NoTemplate,
}

/// Choices that apply to some formats only.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    pub table: TableOptions,
    /// The user's template, for [`Format::Template`].
    pub template: Option<UserTemplate>,
}

/// Pretty JSON and a final newline, through a buffer of its own: serde_json's many small
/// writes would each be a call through `dyn Write`, and serializing the whole document
/// into memory first held it twice over (about 8 MiB for 3,000 vulnerabilities).
fn write_json(out: &mut dyn Write, value: &impl serde::Serialize) -> Result<(), ReportError> {
    let mut buffered = std::io::BufWriter::with_capacity(64 << 10, out);
    serde_json::to_writer_pretty(&mut buffered, value)?;
    buffered.write_all(b"\n")?;
    buffered.flush()?;
    Ok(())
}

/// Renders a result in one format.
pub fn render(
    result: &ScanResult,
    format: Format,
    out: &mut dyn Write,
    opts: &RenderOptions,
) -> Result<(), ReportError> {
    match format {
        Format::Json => {
            write_json(out, result)?;
        }
        Format::CycloneDx => {
            write_json(out, &cyclonedx::bom(result))?;
        }
        Format::Spdx => {
            write_json(out, &spdx::document(result))?;
        }
        Format::Sarif => {
            write_json(out, &sarif::log(result))?;
        }
        Format::Compliance => {
            write_json(out, &compliance::report(result))?;
        }
        Format::Html => html::write(result, out)?,
        Format::Table => table::write(result, out, &opts.table)?,
        Format::Template => match &opts.template {
            Some(t) => t.render(result, out)?,
            None => return Err(ReportError::NoTemplate),
        },
    }
    Ok(())
}
