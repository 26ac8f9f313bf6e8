//! Every output format of a scan result. Writers take the result and a `Write`; they do no
//! other I/O, so the binary decides where output goes and tests render to memory.

mod cyclonedx;
mod ids;
mod spdx;
mod table;

use std::io::Write;
use std::str::FromStr;

use holdfast_model::ScanResult;

pub use table::TableOptions;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Table,
    Json,
    CycloneDx,
    Spdx,
}

impl Format {
    /// The names accepted by `--format`.
    pub const NAMES: &'static [&'static str] = &["table", "json", "cyclonedx", "spdx"];

    /// The file extension used when writing this format into a directory.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Json => "json",
            Format::CycloneDx => "cdx.json",
            Format::Spdx => "spdx.json",
        }
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "cyclonedx" | "cdx" => Ok(Format::CycloneDx),
            "spdx" | "spdx-json" => Ok(Format::Spdx),
            other => Err(format!(
                "unknown format `{other}`; expected one of: {}",
                Format::NAMES.join(", ")
            )),
        }
    }
}

/// Why rendering failed: only the writer can fail.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write the report: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot encode the report: {0}")]
    Json(#[from] serde_json::Error),
}

/// Renders a result in one format.
pub fn render(
    result: &ScanResult,
    format: Format,
    out: &mut dyn Write,
    table: &TableOptions,
) -> Result<(), ReportError> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, result)?;
            writeln!(out)?;
        }
        Format::CycloneDx => {
            serde_json::to_writer_pretty(&mut *out, &cyclonedx::bom(result))?;
            writeln!(out)?;
        }
        Format::Spdx => {
            serde_json::to_writer_pretty(&mut *out, &spdx::document(result))?;
            writeln!(out)?;
        }
        Format::Table => table::write(result, out, table)?,
    }
    Ok(())
}
