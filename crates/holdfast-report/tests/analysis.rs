//! A result with a model's analysis: its own section at the end of the table, `analysis`
//! in the JSON (valid against our schema), its own section in the HTML with the model's
//! text as text. Results without one render as before (the snapshots in `formats.rs`).

mod common;

use std::path::Path;

use common::*;
use holdfast_model::{
    Analysis, AnalysisSection, AnalysisSectionKind, AnalysisWarning, AnalysisWarningKind,
    ScanResult, Severity,
};
use holdfast_report::{render, Format, RenderOptions};
use serde_json::Value;

/// Model text that would be markup in careless HTML and an escape sequence in a terminal.
const HOSTILE_ANSWER: &str =
    "1. Upgrade libssl3 first.\n\t- <img src=x onerror=alert(3)> & \x1b[2Jcleared?\n2. Rotate the key.";

fn analysed() -> ScanResult {
    let mut r = fixture();
    r.analysis = Some(Analysis {
        model: "test-model".into(),
        endpoint: "api.example.com".into(),
        created_at: "2026-01-02T03:04:06Z".into(),
        findings: 7,
        parts: 2,
        sections: vec![
            AnalysisSection {
                kind: AnalysisSectionKind::Overall,
                title: "Overall".into(),
                targets: vec![],
                severities: vec![],
                findings: 7,
                text: "OVERALL: patch openssl, then rotate secrets.".into(),
            },
            AnalysisSection {
                kind: AnalysisSectionKind::Part,
                title: "registry.example.com/app:1.0: CRITICAL, HIGH".into(),
                targets: vec!["registry.example.com/app:1.0".into()],
                severities: vec![Severity::Critical, Severity::High],
                findings: 4,
                text: HOSTILE_ANSWER.into(),
            },
        ],
        warnings: vec![AnalysisWarning {
            kind: AnalysisWarningKind::Timeout,
            message: "part 2 of 2 got no answer: no answer within the timeout".into(),
        }],
    });
    r
}

fn rendered(result: &ScanResult, format: Format) -> String {
    let mut out = Vec::new();
    render(result, format, &mut out, &RenderOptions::default()).expect("render");
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn the_table_ends_with_the_analysis() {
    let out = rendered(&analysed(), Format::Table);
    let at = out
        .find("\nAnalysis\n========\n")
        .expect("an Analysis section");
    let section = &out[at..];
    // After everything else.
    assert!(!section.contains("Total:"), "{section}");
    assert!(section.contains("By test-model at api.example.com, 2026-01-02T03:04:06Z, from a redacted summary of 7 findings in 2 requests."));
    assert!(section.contains("## Overall\nOVERALL: patch openssl"));
    assert!(section.contains(
        "## registry.example.com/app:1.0: CRITICAL, HIGH\n1. Upgrade libssl3 first.\n    - <img"
    ));
    // Lines are kept; the escape sequence is not.
    assert!(!section.contains('\x1b'), "{section:?}");
    assert!(section.contains("\u{FFFD}[2Jcleared?\n2. Rotate the key."));
    assert!(section.contains("Analysis warnings (1):\n  - [timeout] part 2 of 2 got no answer"));
    // Without an analysis, no such section.
    assert!(!rendered(&fixture(), Format::Table).contains("\nAnalysis\n"));
}

#[test]
fn the_json_carries_the_analysis_and_validates() {
    let v: Value = serde_json::from_str(&rendered(&analysed(), Format::Json)).unwrap();
    let a = &v["analysis"];
    assert_eq!(a["model"], "test-model");
    assert_eq!(a["endpoint"], "api.example.com");
    assert_eq!(a["sections"][0]["kind"], "overall");
    assert!(
        a["sections"][0].get("targets").is_none(),
        "empty lists are left out"
    );
    assert_eq!(
        a["sections"][1]["severities"],
        serde_json::json!(["CRITICAL", "HIGH"])
    );
    assert_eq!(a["sections"][1]["text"], HOSTILE_ANSWER);
    assert_eq!(a["warnings"][0]["kind"], "timeout");
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/result.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The schema still refuses what is not an analysis.
    let mut bad = v.clone();
    bad["analysis"]["sections"][0]["kind"] = Value::from("verdict");
    assert!(!validator.is_valid(&bad));
    let mut bad = v.clone();
    bad["analysis"]["token"] = Value::from("x");
    assert!(!validator.is_valid(&bad));
    // And it reads back.
    let back: ScanResult = serde_json::from_value(v).unwrap();
    assert_eq!(back.analysis, analysed().analysis);
    // Without an analysis, no `analysis` key.
    let plain: Value = serde_json::from_str(&rendered(&fixture(), Format::Json)).unwrap();
    assert!(plain.get("analysis").is_none());
}

#[test]
fn the_html_shows_the_model_text_as_text() {
    let html = rendered(&analysed(), Format::Html);
    let start = html
        .find("<section id=\"analysis\">")
        .expect("an analysis section");
    let end = start + html[start..].find("</section>").unwrap();
    let section = &html[start..end];
    assert!(section.contains("<h3>Overall</h3>"));
    assert!(section.contains("OVERALL: patch openssl, then rotate secrets."));
    assert!(
        section.contains("&lt;img src=x onerror=alert(3)&gt; &amp;"),
        "{section}"
    );
    assert!(!html.contains("<img src=x onerror=alert(3)>"));
    assert!(section.contains("white-space: pre-wrap"));
    assert!(section.contains("timeout: part 2 of 2 got no answer"));
    // Before the findings, after the summary.
    assert!(html.find("id=\"summary\"").unwrap() < start);
    assert!(start < html.find("<section id=\"findings\">").unwrap());
    assert!(!rendered(&fixture(), Format::Html).contains("id=\"analysis\""));
}
