//! `holdfast report convert`: re-renders a saved JSON result in other formats.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use holdfast_model::{ScanResult, SCHEMA_VERSION};
use holdfast_report::Format;

use crate::cli::ReportCommand;
use crate::output::Outputs;

/// Largest result file read: far above what 100,000 findings take.
const MAX_RESULT_BYTES: u64 = 1 << 30;

/// Runs a `report` subcommand.
pub fn run(cmd: ReportCommand) -> Result<ExitCode> {
    match cmd {
        ReportCommand::Convert {
            input,
            format,
            output,
            template,
            no_color,
            list_packages,
        } => {
            let outputs = Outputs::from_flags(
                &format,
                Format::Table,
                output.as_deref(),
                no_color,
                template.as_deref(),
            )?
            .list_packages(list_packages);
            let result = read_result(&input)?;
            outputs.write(&result)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Reads a result written by `-f json`, saying clearly when the file is something else.
pub fn read_result(path: &Path) -> Result<ScanResult> {
    let shown = path.display();
    let file = File::open(path).with_context(|| format!("cannot read `{shown}`"))?;
    let mut bytes = Vec::new();
    file.take(MAX_RESULT_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read `{shown}`"))?;
    if bytes.len() as u64 > MAX_RESULT_BYTES {
        bail!(
            "`{shown}` is larger than {} MiB; not a holdfast result",
            MAX_RESULT_BYTES >> 20
        );
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).with_context(|| {
        format!("`{shown}` is not JSON; `report convert` reads what `holdfast scan -f json` writes")
    })?;
    let tool = value.pointer("/tool/name").and_then(|v| v.as_str());
    let version = value.get("schema_version").and_then(|v| v.as_u64());
    let (Some("holdfast"), Some(version)) = (tool, version) else {
        bail!(
            "`{shown}` is not a holdfast JSON result (it has no `schema_version` and `tool.name: \"holdfast\"`); \
             `report convert` reads what `holdfast scan -f json` writes"
        );
    };
    if version > u64::from(SCHEMA_VERSION) {
        bail!(
            "`{shown}` has schema_version {version}, newer than this holdfast reads ({SCHEMA_VERSION}); upgrade holdfast"
        );
    }
    serde_json::from_value(value).with_context(|| {
        format!(
            "`{shown}` is a holdfast result of an unexpected shape (see docs/result.schema.json)"
        )
    })
}
