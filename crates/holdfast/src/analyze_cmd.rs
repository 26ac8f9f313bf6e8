//! `holdfast analyze` and `scan --analyze`: explaining results with an
//! OpenAI-compatible model.

use std::process::ExitCode;

use anyhow::Result;
use holdfast_model::ScanResult;

use crate::cli::{AnalyzeArgs, ScanOptions};

/// `holdfast analyze -r result.json`.
pub fn run(args: AnalyzeArgs) -> Result<ExitCode> {
    anyhow::bail!(
        "analysis is not built yet (result `{}`)",
        args.result.display()
    )
}

/// Adds the model's analysis to a scan's result when `--analyze` asked for it.
pub fn maybe_analyze(result: ScanResult, _opts: &ScanOptions, _quiet: bool) -> ScanResult {
    result
}
