//! `holdfast analyze` and `scan --analyze`: explaining results with an
//! OpenAI-compatible model (`holdfast-analysis`).
//!
//! The flags name the endpoint, the model, the token file and the prompt; the token
//! otherwise comes from `HOLDFAST_AI_TOKEN`. Three environment variables tune the work:
//! `HOLDFAST_AI_CHUNK_CHARS` (characters of description per request),
//! `HOLDFAST_AI_TIMEOUT` (per request, e.g. `90s`) and `HOLDFAST_AI_MAX_PARTS`.
//!
//! With `scan --analyze`, nothing about the model can fail the scan: a missing or unusable
//! setting is an error message on stderr and a `config` warning in `analysis`, and the
//! outputs and exit code are what they would be without `--analyze`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Result};
use holdfast_analysis::{Config, Event, Token};
use holdfast_model::ScanResult;
use holdfast_report::Format;

use crate::cli::{AiArgs, AnalyzeArgs, ScanOptions};
use crate::output::Outputs;

/// `holdfast analyze -r result.json`: the saved result with the model's analysis (any
/// earlier one replaced), in the formats that show it. Exits 2 when the model answered
/// nothing (the outputs, with the reasons in `analysis.warnings`, are written first).
pub fn run(args: AnalyzeArgs) -> Result<ExitCode> {
    let outputs = Outputs::from_flags(
        &args.format,
        Format::Table,
        args.output.as_deref(),
        false,
        None,
    )?;
    for f in &args.format {
        let format: Format = f.parse().map_err(anyhow::Error::msg)?;
        if !matches!(format, Format::Table | Format::Json | Format::Html) {
            bail!("`holdfast analyze` writes table, json or html, the formats that show the analysis; convert the JSON it writes with `holdfast report convert` for others");
        }
    }
    let config = config(&args.ai).map_err(anyhow::Error::msg)?;
    let mut result = crate::report::read_result(&args.result)?;
    let analysis = holdfast_analysis::analyze(&result, &config, &mut notes(false));
    let answered = !analysis.sections.is_empty();
    result.analysis = Some(analysis);
    outputs.write(&result)?;
    if !answered {
        eprintln!("error: the model gave no answer (see the warnings above)");
        return Ok(ExitCode::from(crate::cli::EXIT_ERROR));
    }
    Ok(ExitCode::SUCCESS)
}

/// Adds the model's analysis to a scan's result when `--analyze` asked for it. Never
/// fails and never changes the findings, so the verdict and exit code stay the scan's.
pub fn maybe_analyze(mut result: ScanResult, opts: &ScanOptions, quiet: bool) -> ScanResult {
    if !opts.analyze {
        return result;
    }
    let analysis = match config(&opts.ai) {
        Ok(config) => holdfast_analysis::analyze(&result, &config, &mut notes(quiet)),
        Err(message) => {
            // Asked for and not done: said even under --quiet.
            eprintln!("error: --analyze: {message}; the result is written without an analysis");
            holdfast_analysis::not_configured(
                opts.ai.ai_model.as_deref().unwrap_or(""),
                opts.ai.ai_endpoint.as_deref().unwrap_or(""),
                message,
            )
        }
    };
    result.analysis = Some(analysis);
    result
}

/// Progress notes and warnings on stderr; none under `--quiet` (errors only: the
/// warnings are in the outputs too).
fn notes(quiet: bool) -> impl FnMut(Event<'_>) {
    move |e| {
        if quiet {
            return;
        }
        match e {
            Event::Asking { part, of } if of > 1 => {
                eprintln!("analysis: asking the model about part {part} of {of}")
            }
            Event::Asking { .. } => eprintln!("analysis: asking the model"),
            Event::Merging { answers } => {
                eprintln!("analysis: merging {answers} answers into one")
            }
            Event::Warning(w) => eprintln!("warning: analysis: {}", w.message),
        }
    }
}

/// The analysis settings from the flags and the environment: an endpoint, a model, the
/// token (`--ai-token-file`, else `HOLDFAST_AI_TOKEN`), the prompt, and the tuning
/// variables.
fn config(ai: &AiArgs) -> Result<Config, String> {
    let endpoint = ai
        .ai_endpoint
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or("no AI endpoint: give --ai-endpoint BASE_URL or HOLDFAST_AI_ENDPOINT (e.g. https://api.openai.com/v1)")?;
    let model = ai
        .ai_model
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or("no AI model: give --ai-model NAME or HOLDFAST_AI_MODEL")?;
    let mut config = Config::new(endpoint, model);
    config.token = match &ai.ai_token_file {
        Some(path) => Some(Token::from_file(path)?),
        None => Token::from_env()?,
    };
    config.prompt = ai.prompt.clone().filter(|p| !p.trim().is_empty());
    if let Some(n) = env_number("HOLDFAST_AI_CHUNK_CHARS")? {
        if n < holdfast_analysis::summary::MIN_BUDGET {
            return Err(format!(
                "HOLDFAST_AI_CHUNK_CHARS must be at least {}",
                holdfast_analysis::summary::MIN_BUDGET
            ));
        }
        config.chunk_chars = n;
    }
    if let Some(n) = env_number("HOLDFAST_AI_MAX_PARTS")? {
        if n == 0 {
            return Err("HOLDFAST_AI_MAX_PARTS must be at least 1".into());
        }
        config.max_parts = n;
    }
    if let Some(v) = env_value("HOLDFAST_AI_TIMEOUT") {
        let t = humantime::parse_duration(&v)
            .map_err(|e| format!("HOLDFAST_AI_TIMEOUT `{v}` is not a duration like 60s: {e}"))?;
        if t < Duration::from_millis(100) {
            return Err("HOLDFAST_AI_TIMEOUT must be at least 100ms".into());
        }
        config.timeout = t;
    }
    Ok(config)
}

fn env_value(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn env_number(name: &str) -> Result<Option<usize>, String> {
    env_value(name)
        .map(|v| {
            v.parse::<usize>()
                .map_err(|_| format!("{name} `{v}` is not a whole number"))
        })
        .transpose()
}
