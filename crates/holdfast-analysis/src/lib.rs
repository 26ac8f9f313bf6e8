//! Explaining a scan result with an OpenAI-compatible model.
//!
//! [`analyze`] describes the result compactly and without secrets ([`summary`], checked by
//! [`redact`]), splits the description into parts that fit a budget of characters, asks
//! the model about each part over the Chat Completions API (`POST BASE/chat/completions`),
//! and, when there were several parts, asks once more for one answer over the part
//! answers. It never fails: what goes wrong (no endpoint, a timeout, a refusal, a rate
//! limit) becomes a warning in the returned [`Analysis`], and the caller's scan is not
//! affected.
//!
//! **Merging.** Each part's answer is kept as its own section under a heading (what the
//! part covered). When several parts were answered, a final request gives the model those
//! answers (each cut to share the budget) and asks for one prioritised answer under the
//! same instructions; it becomes the first, `overall`, section. A part answers "what to
//! fix first" only within what it saw; the overall answer ranks across targets and
//! severities. If the final request fails, the part sections remain.

mod client;
pub mod redact;
pub mod summary;

use std::path::Path;
use std::time::Duration;

use holdfast_model::{
    Analysis, AnalysisSection, AnalysisSectionKind, AnalysisWarning, AnalysisWarningKind,
    ScanResult,
};

use crate::client::{Client, Endpoint};
use crate::redact::Scrubber;

/// Characters of description per request, by default (about 6,000 tokens: fits any
/// current model's context with room for the answer).
pub const DEFAULT_CHUNK_CHARS: usize = 24_000;
/// Time one request may take, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Parts asked at most, by default; beyond it the least severe findings are left out.
pub const DEFAULT_MAX_PARTS: usize = 16;
/// Retries of one request after a 429, a 5xx or a connection failure.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// Longest `Retry-After` waited for; a longer one ends the analysis with a warning.
pub const DEFAULT_RETRY_AFTER_CAP: Duration = Duration::from_secs(30);
/// Sampling temperature sent: low, for a factual triage.
pub const DEFAULT_TEMPERATURE: f64 = 0.2;
/// Longest answer kept per section, in characters.
const MAX_ANSWER_CHARS: usize = 32_000;
/// Largest token file read.
const MAX_TOKEN_FILE: u64 = 64 << 10;

/// The instructions given to the model unless `--prompt` replaces them.
pub const DEFAULT_PROMPT: &str = "You are a senior security engineer triaging the result of a container image security scan. \
The user message is a redacted summary of the findings: secret values, evidence and file contents were removed on purpose, so do not ask for them. \
Say what to fix first and why: group related findings (one package upgrade that fixes several CVEs, one base image update, one leaked credential to revoke and rotate), \
rank the groups by real risk (exploitability and exposure, a fix being available, secrets and backdoors before theoretical issues), \
and for each group give the concrete action (the package and the version to upgrade to, the file or layer to change, the credential to rotate). \
Mention what can safely wait. Be concise: short headings and bullet points, no preamble, no repetition of the whole input. \
Use only the findings given; do not invent versions or CVE details.";

/// How the final request turns part answers into one; `{instructions}` is replaced by the
/// instructions the parts were asked with.
const MERGE_PROMPT: &str = "A container scan result was too large for one request, so it was described in parts and each part was analysed separately under these instructions:\n\n---\n{instructions}\n---\n\n\
The user message holds the answer for each part. Merge them into one answer that follows the same instructions: one ranking across all parts (what to fix first overall), related items from different parts grouped together, duplicates removed. \
Do not mention the parts themselves.";

/// An API token: never printed (its `Debug` hides it), never serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

impl Token {
    /// A token from a string: trimmed; `None` when empty. Refused when it holds control
    /// characters (it goes into a header).
    pub fn new(value: &str) -> Result<Option<Token>, String> {
        let v = value.trim();
        if v.is_empty() {
            return Ok(None);
        }
        if v.chars().any(|c| c.is_control()) {
            return Err("the AI token holds control characters".into());
        }
        Ok(Some(Token(v.to_string())))
    }

    /// The token in `HOLDFAST_AI_TOKEN`, if set and not empty.
    pub fn from_env() -> Result<Option<Token>, String> {
        match std::env::var("HOLDFAST_AI_TOKEN") {
            Ok(v) => Token::new(&v),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err("HOLDFAST_AI_TOKEN is not valid UTF-8".into())
            }
        }
    }

    /// The token in a file (surrounding blanks and the final newline removed).
    pub fn from_file(path: &Path) -> Result<Token, String> {
        use std::io::Read;
        let shown = path.display();
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot read the AI token file `{shown}`: {e}"))?;
        let mut text = String::new();
        file.take(MAX_TOKEN_FILE + 1)
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read the AI token file `{shown}`: {e}"))?;
        if text.len() as u64 > MAX_TOKEN_FILE {
            return Err(format!(
                "the AI token file `{shown}` is too large to be a token"
            ));
        }
        Token::new(&text)?.ok_or_else(|| format!("the AI token file `{shown}` is empty"))
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

/// How to reach the model and how to split the work.
#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL of the API (`BASE/chat/completions` is called).
    pub endpoint: String,
    /// The model's name.
    pub model: String,
    /// Sent as `Authorization: Bearer`, when set.
    pub token: Option<Token>,
    /// Replaces [`DEFAULT_PROMPT`].
    pub prompt: Option<String>,
    /// Characters of description per request (at least [`summary::MIN_BUDGET`]).
    pub chunk_chars: usize,
    /// Time one request may take.
    pub timeout: Duration,
    /// Parts asked at most.
    pub max_parts: usize,
    /// Retries after a 429, a 5xx or a connection failure.
    pub max_retries: u32,
    /// Longest `Retry-After` honoured.
    pub retry_after_cap: Duration,
    /// Sampling temperature; `None` sends none (for models that accept only their default).
    pub temperature: Option<f64>,
}

impl Config {
    /// A configuration with the defaults.
    pub fn new(endpoint: impl Into<String>, model: impl Into<String>) -> Self {
        Config {
            endpoint: endpoint.into(),
            model: model.into(),
            token: None,
            prompt: None,
            chunk_chars: DEFAULT_CHUNK_CHARS,
            timeout: DEFAULT_TIMEOUT,
            max_parts: DEFAULT_MAX_PARTS,
            max_retries: DEFAULT_MAX_RETRIES,
            retry_after_cap: DEFAULT_RETRY_AFTER_CAP,
            temperature: Some(DEFAULT_TEMPERATURE),
        }
    }

    /// The instructions the parts are asked with.
    pub fn instructions(&self) -> &str {
        self.prompt
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .unwrap_or(DEFAULT_PROMPT)
    }
}

/// What [`analyze`] reports while it runs.
#[derive(Debug)]
pub enum Event<'a> {
    /// A part is being asked (1-based).
    Asking { part: usize, of: usize },
    /// The part answers are being merged.
    Merging { answers: usize },
    /// Something went wrong; it is also in the result's warnings.
    Warning(&'a AnalysisWarning),
}

/// `host[:port]` of an endpoint, for an [`Analysis`] made without asking (an unusable
/// configuration): empty when it is not a usable URL.
pub fn endpoint_host(endpoint: &str) -> String {
    Endpoint::parse(endpoint)
        .map(|e| e.host)
        .unwrap_or_default()
}

/// An analysis that asked nothing, for a configuration problem the caller found.
pub fn not_configured(model: &str, endpoint: &str, message: impl Into<String>) -> Analysis {
    Analysis {
        model: model.to_string(),
        endpoint: endpoint_host(endpoint),
        created_at: now(),
        findings: 0,
        parts: 0,
        sections: Vec::new(),
        warnings: vec![AnalysisWarning {
            kind: AnalysisWarningKind::Config,
            message: message.into(),
        }],
    }
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Explains `result` with the model `config` names; proxies from the process's
/// environment. Never fails: problems are the returned analysis's warnings, also passed
/// to `on_event` as they happen.
pub fn analyze(
    result: &ScanResult,
    config: &Config,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Analysis {
    analyze_with_env(result, config, &|k| std::env::var(k).ok(), on_event)
}

/// The analysis being built, and where its events go.
struct Run<'a> {
    analysis: Analysis,
    on_event: &'a mut dyn FnMut(Event<'_>),
}

impl Run<'_> {
    fn warn(&mut self, kind: AnalysisWarningKind, message: String) {
        let w = AnalysisWarning { kind, message };
        (self.on_event)(Event::Warning(&w));
        self.analysis.warnings.push(w);
    }

    /// The answer's text, cut to the size kept, with warnings for what was cut.
    fn keep(&mut self, answer: client::Answer, what: &str) -> String {
        if answer.cut_short {
            self.warn(
                AnalysisWarningKind::Truncated,
                format!("the model stopped at its output limit in {what}"),
            );
        }
        if answer.text.chars().count() > MAX_ANSWER_CHARS {
            self.warn(
                AnalysisWarningKind::Truncated,
                format!("{what} was cut to {MAX_ANSWER_CHARS} characters"),
            );
            return summary::clip(&answer.text, MAX_ANSWER_CHARS);
        }
        answer.text
    }

    fn finish(mut self) -> Analysis {
        self.analysis.created_at = now();
        self.analysis
    }
}

/// [`analyze`] with the environment (for the proxy variables) given.
pub fn analyze_with_env(
    result: &ScanResult,
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Analysis {
    let mut run = Run {
        analysis: Analysis {
            model: config.model.clone(),
            endpoint: endpoint_host(&config.endpoint),
            ..Analysis::default()
        },
        on_event,
    };
    let (client, endpoint) = match setup(config, env) {
        Ok(c) => c,
        Err(message) => {
            run.warn(AnalysisWarningKind::Config, message);
            return run.finish();
        }
    };
    if config.token.is_some() && endpoint.scheme == "http" && !endpoint.is_loopback() {
        run.warn(
            AnalysisWarningKind::Config,
            format!(
                "the token is sent over plain HTTP to {}; use an https:// endpoint",
                endpoint.host
            ),
        );
    }

    let scrub = Scrubber::for_result(result);
    let summary = summary::summarize(result, &scrub, config.chunk_chars, config.max_parts);
    run.analysis.findings = summary.findings;
    run.analysis.parts = summary.parts.len();
    if summary.left_out > 0 {
        let lowest = summary
            .lowest_described
            .map(|s| format!(" (only {} and above were described)", s.as_str()))
            .unwrap_or_default();
        run.warn(
            AnalysisWarningKind::Skipped,
            format!(
                "{} findings were left out to stay within {} requests{lowest}",
                summary.left_out, config.max_parts
            ),
        );
    }

    let instructions = config.instructions();
    let of = summary.parts.len();
    let mut answered: Vec<(usize, AnalysisSection)> = Vec::new();
    for (i, part) in summary.parts.iter().enumerate() {
        (run.on_event)(Event::Asking { part: i + 1, of });
        match client.ask(instructions, &part.text) {
            Ok(answer) => {
                let text = run.keep(answer, &part.title);
                answered.push((
                    i,
                    AnalysisSection {
                        kind: AnalysisSectionKind::Part,
                        title: part.title.clone(),
                        targets: part.targets.clone(),
                        severities: part.severities.clone(),
                        findings: part.findings,
                        text,
                    },
                ));
            }
            Err(e) => {
                let which = if of > 1 {
                    format!("part {} of {of} ({})", i + 1, part.title)
                } else {
                    "the result".to_string()
                };
                run.warn(e.kind, format!("{which} got no answer: {}", e.message));
                if e.fatal && i + 1 < of {
                    run.warn(
                        AnalysisWarningKind::Skipped,
                        format!(
                            "the other {} parts were not asked: the same failure would repeat",
                            of - i - 1
                        ),
                    );
                    break;
                }
            }
        }
    }

    if answered.len() > 1 {
        (run.on_event)(Event::Merging {
            answers: answered.len(),
        });
        let merge_system = MERGE_PROMPT.replace("{instructions}", instructions);
        let share = (config.chunk_chars.max(summary::MIN_BUDGET) / answered.len()).max(500);
        let mut user = String::new();
        for (i, s) in &answered {
            user.push_str(&format!(
                "## Part {} of {of}: {}\n{}\n\n",
                i + 1,
                s.title,
                summary::clip(&s.text, share)
            ));
        }
        match client.ask(&merge_system, &user) {
            Ok(answer) => {
                let text = run.keep(answer, "the overall answer");
                run.analysis.sections.push(AnalysisSection {
                    kind: AnalysisSectionKind::Overall,
                    title: "Overall".into(),
                    targets: Vec::new(),
                    severities: Vec::new(),
                    findings: answered.iter().map(|(_, s)| s.findings).sum(),
                    text,
                });
            }
            Err(e) => run.warn(
                e.kind,
                format!(
                    "the part answers could not be merged into one ({}); they follow one by one",
                    e.message
                ),
            ),
        }
    }
    run.analysis
        .sections
        .extend(answered.into_iter().map(|(_, s)| s));
    run.finish()
}

/// The client and the parsed endpoint.
fn setup(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Client, Endpoint), String> {
    if config.endpoint.trim().is_empty() {
        return Err("no AI endpoint: give --ai-endpoint or HOLDFAST_AI_ENDPOINT".into());
    }
    if config.model.trim().is_empty() {
        return Err("no AI model: give --ai-model or HOLDFAST_AI_MODEL".into());
    }
    let endpoint = Endpoint::parse(&config.endpoint)?;
    let client = Client::new(config, endpoint.clone(), env)?;
    Ok((client, endpoint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let t = Token::new(" sk-secret-value\n").unwrap().unwrap();
        assert_eq!(t.expose(), "sk-secret-value");
        let mut c = Config::new("https://x/v1", "m");
        c.token = Some(t);
        assert!(!format!("{c:?}").contains("sk-secret-value"));
        assert_eq!(Token::new("  ").unwrap(), None);
        assert!(Token::new("a\u{7}b").is_err());
    }

    #[test]
    fn a_missing_endpoint_or_model_is_a_config_warning() {
        let r: ScanResult = serde_json::from_value(serde_json::json!({
            "schema_version": 1, "tool": {"name": "holdfast", "version": "0"},
            "created_at": "", "targets": [], "summary": {
                "targets": 0, "packages": 0, "findings": 0, "by_severity": {}, "warnings": 0}
        }))
        .unwrap();
        let mut events = 0;
        let a = analyze_with_env(&r, &Config::new("", "m"), &|_| None, &mut |_| events += 1);
        assert_eq!(a.warnings.len(), 1);
        assert_eq!(a.warnings[0].kind, AnalysisWarningKind::Config);
        assert!(a.warnings[0].message.contains("--ai-endpoint"));
        assert_eq!(events, 1);
        let a = analyze_with_env(
            &r,
            &Config::new("https://api.example.com/v1", " "),
            &|_| None,
            &mut |_| {},
        );
        assert!(a.warnings[0].message.contains("--ai-model"));
        assert_eq!(a.endpoint, "api.example.com");
        assert!(a.sections.is_empty());
    }

    #[test]
    fn a_custom_prompt_replaces_the_default() {
        let mut c = Config::new("https://x/v1", "m");
        assert_eq!(c.instructions(), DEFAULT_PROMPT);
        c.prompt = Some("List CVEs only.".into());
        assert_eq!(c.instructions(), "List CVEs only.");
    }
}
