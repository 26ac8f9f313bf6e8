//! Output formats from the binary: several at once into a directory (and the table on
//! stdout), `report convert` of a saved result, user templates, and when the table is
//! colored (a real pseudo-terminal through `script`).

use std::path::Path;
use std::process::Command;

use crate::common::*;

const DEMO: &str = "fixtures/demo/demo-image.tar";

/// Runs the binary in the repository root; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = holdfast()
        .current_dir(repo_root())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Scans the demo image once into `dir` as JSON and returns the file.
fn saved_result(dir: &Path) -> std::path::PathBuf {
    let json = dir.join("result.json");
    let (code, _, err) = run(&[
        "scan",
        "image",
        "--no-cache",
        "-f",
        "json",
        "-o",
        &path_str(&json),
        DEMO,
    ]);
    assert_eq!(code, Some(0), "{err}");
    json
}

#[test]
fn several_formats_into_a_directory_and_the_table_on_stdout() {
    let d = temp();
    let out_dir = format!("{}/", d.path().join("out").display());
    let (code, stdout, err) = run(&[
        "scan",
        "image",
        "--no-cache",
        "-f",
        "table,html,json,sarif,cyclonedx,spdx",
        "-o",
        &out_dir,
        DEMO,
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        stdout.contains("Vulnerabilities ("),
        "the table goes to stdout too:\n{stdout}"
    );
    assert!(stdout.contains("Findings: "), "with its summary line");
    assert!(
        !stdout.contains('\x1b'),
        "no color when stdout is not a terminal"
    );
    for ext in ["txt", "html", "json", "sarif", "cdx.json", "spdx.json"] {
        let p = Path::new(&out_dir).join(format!("demo-image.tar.{ext}"));
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(!text.is_empty(), "{ext}");
        assert!(!text.contains('\x1b'), "{ext}: no color in files");
    }
    let sarif: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(&out_dir).join("demo-image.tar.sarif")).unwrap(),
    )
    .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());
}

#[test]
fn report_convert_rerenders_a_saved_result() {
    let d = temp();
    let json = saved_result(d.path());
    let out_dir = d.path().join("converted");
    let (code, _, err) = run(&[
        "report",
        "convert",
        &path_str(&json),
        "-f",
        "html,sarif,json",
        "-o",
        &path_str(&out_dir),
    ]);
    assert_eq!(code, Some(0), "{err}");
    // The result file is named after the target it holds.
    let html = std::fs::read_to_string(out_dir.join("demo-image.tar.html")).unwrap();
    assert!(
        html.contains("CVE-2024-0727"),
        "the demo's OpenSSL advisory is in the page"
    );
    assert!(out_dir.join("demo-image.tar.sarif").is_file());
    // JSON in, JSON out: the same result, byte for byte.
    let again = std::fs::read_to_string(out_dir.join("demo-image.tar.json")).unwrap();
    assert_eq!(again, std::fs::read_to_string(&json).unwrap());
    // One format without -o goes to stdout.
    let (code, stdout, err) = run(&["report", "convert", &path_str(&json)]);
    assert_eq!(code, Some(0), "{err}");
    assert!(stdout.contains("Vulnerabilities ("));
}

#[test]
fn report_convert_says_clearly_when_the_file_is_not_our_result() {
    let d = temp();
    let cdx = d.path().join("bom.json");
    let (code, _, err) = run(&[
        "sbom",
        "--no-cache",
        "-f",
        "cyclonedx",
        "-o",
        &path_str(&cdx),
        DEMO,
    ]);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = run(&["report", "convert", &path_str(&cdx), "-f", "html"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("is not a holdfast JSON result"), "{err}");
    assert!(err.contains("bom.json"), "names the file: {err}");

    let text = d.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let (code, _, err) = run(&["report", "convert", &path_str(&text)]);
    assert_eq!(code, Some(2));
    assert!(err.contains("is not JSON"), "{err}");

    let future = d.path().join("future.json");
    std::fs::write(
        &future,
        r#"{"schema_version": 99, "tool": {"name": "holdfast", "version": "9"}}"#,
    )
    .unwrap();
    let (code, _, err) = run(&["report", "convert", &path_str(&future)]);
    assert_eq!(code, Some(2));
    assert!(err.contains("schema_version 99"), "{err}");
}

#[test]
fn templates_render_the_json_result_and_name_the_line_that_fails() {
    let d = temp();
    let json = saved_result(d.path());
    let good = d.path().join("ids.tpl");
    std::fs::write(
        &good,
        "{% for t in targets %}{% for f in t.findings %}{{ f.id }}\n{% endfor %}{% endfor %}",
    )
    .unwrap();
    let (code, stdout, err) = run(&[
        "report",
        "convert",
        &path_str(&json),
        "-f",
        "template",
        "--template",
        &path_str(&good),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(stdout.lines().any(|l| l == "CVE-2024-0727"), "{stdout}");

    let bad = d.path().join("bad.tpl");
    std::fs::write(&bad, "fine\n{% if %}\n").unwrap();
    // A scan with a broken template fails before scanning, naming the file and the line.
    let (code, _, err) = run(&[
        "scan",
        "image",
        "-f",
        "template",
        "--template",
        &path_str(&bad),
        DEMO,
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("bad.tpl") && err.contains("line 2"), "{err}");

    let (code, _, err) = run(&["report", "convert", &path_str(&json), "-f", "template"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--template"), "{err}");
}

/// Runs the binary under `script`, which gives it a pseudo-terminal for stdout.
fn on_a_terminal(args: &str, env: &[(&str, &str)]) -> String {
    let cmd = format!("{} {args}", env!("CARGO_BIN_EXE_holdfast"));
    let mut c = Command::new("script");
    c.current_dir(repo_root())
        .args(["-qec", &cmd, "/dev/null"])
        .env_remove("NO_COLOR")
        .env(
            "XDG_CACHE_HOME",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"),
        );
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_table_is_colored_on_a_terminal_unless_told_not_to() {
    if !have_tool("script") {
        return;
    }
    let scan = format!("scan image --no-cache {DEMO}");
    let colored = on_a_terminal(&scan, &[]);
    assert!(
        colored.contains("\x1b[1;31mCRITICAL"),
        "severities are colored on a terminal:\n{colored}"
    );
    let plain = on_a_terminal(&scan, &[("NO_COLOR", "1")]);
    assert!(
        plain.contains("CRITICAL") && !plain.contains("\x1b["),
        "NO_COLOR is honored"
    );
    let plain = on_a_terminal(&format!("{scan} --no-color"), &[]);
    assert!(
        plain.contains("CRITICAL") && !plain.contains("\x1b["),
        "--no-color is honored"
    );
}
