//! Every format rendered from fixture results: snapshots (insta), the published schemas
//! (ours for JSON, OASIS SARIF 2.1.0, CycloneDX 1.6, SPDX 2.3), hostile content kept inert
//! in HTML, and the parts of SARIF and CycloneDX that consumers rely on.
//!
//! The published schemas are other people's files and are not in the repository:
//! `scripts/fetch-test-schemas.sh` installs them into `target/test-schemas` (or
//! `$HOLDFAST_TEST_SCHEMAS`). Without them the schema tests skip with a message, and fail
//! under `HOLDFAST_FULL_TESTS=1`.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use holdfast_model::ScanResult;
use holdfast_report::{render, Format, RenderOptions, TableOptions, UserTemplate};
use serde_json::Value;

fn rendered(result: &ScanResult, format: Format, opts: &RenderOptions) -> String {
    let mut out = Vec::new();
    render(result, format, &mut out, opts).expect("render");
    String::from_utf8(out).expect("utf-8")
}

fn text(format: Format) -> String {
    rendered(&fixture(), format, &RenderOptions::default())
}

fn json(format: Format) -> Value {
    serde_json::from_str(&text(format)).expect("valid JSON")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn full_tests() -> bool {
    std::env::var("HOLDFAST_FULL_TESTS").as_deref() == Ok("1")
}

/// The directory of published schemas, or `None` (after saying why) when they are not
/// installed and the full suite is not asked for.
fn schema_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("HOLDFAST_TEST_SCHEMAS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/test-schemas"));
    if dir.join("sarif-schema-2.1.0.json").is_file() {
        return Some(dir);
    }
    let why = format!(
        "the published schemas are not in `{}`; run scripts/fetch-test-schemas.sh",
        dir.display()
    );
    assert!(!full_tests(), "HOLDFAST_FULL_TESTS=1, but {why}");
    eprintln!("skipped: {why}");
    None
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Serves `$ref`s to other schemas from the same local directory, by file name; nothing
/// is fetched.
struct LocalSchemas(PathBuf);

impl jsonschema::Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.as_str().rsplit('/').next().unwrap_or_default();
        let path = self.0.join(name);
        if !path.is_file() {
            return Err(format!(
                "no local copy of `{}` (looked for {})",
                uri.as_str(),
                path.display()
            )
            .into());
        }
        Ok(load(&path))
    }
}

/// The OASIS SARIF schema's `language` pattern has a bare `]`, which ECMAScript regexes
/// take as a literal (Annex B) and Rust's regex engines reject; it is escaped before the
/// schema is compiled. Nothing else is changed.
fn escape_bare_brackets(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                match v {
                    Value::String(p) if k == "pattern" && p.contains("{2}]?$") => {
                        *p = p.replace("{2}]?$", "{2}\\]?$");
                    }
                    _ => escape_bare_brackets(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(escape_bare_brackets),
        _ => {}
    }
}

fn validator(schema_path: &Path) -> jsonschema::Validator {
    let mut schema = load(schema_path);
    escape_bare_brackets(&mut schema);
    let dir = schema_path.parent().unwrap().to_path_buf();
    jsonschema::options()
        .with_retriever(LocalSchemas(dir))
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{}: {e}", schema_path.display()))
}

/// Validates `instance`, listing every error with its place in the document.
fn assert_valid(schema_path: &Path, instance: &Value, what: &str) {
    let validator = validator(schema_path);
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not validate against {}:\n{}",
        schema_path.display(),
        errors.join("\n")
    );
}

// ---- snapshots ----

#[test]
fn snapshot_table() {
    insta::assert_snapshot!(text(Format::Table));
}

#[test]
fn snapshot_table_colored() {
    let opts = RenderOptions {
        table: TableOptions {
            color: true,
            ..TableOptions::default()
        },
        template: None,
    };
    let out = rendered(&fixture(), Format::Table, &opts);
    assert!(out.contains("\x1b[1;31mCRITICAL: 2\x1b[0m"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn snapshot_json() {
    insta::assert_snapshot!(text(Format::Json));
}

#[test]
fn snapshot_sarif() {
    insta::assert_snapshot!(text(Format::Sarif));
}

#[test]
fn snapshot_cyclonedx() {
    insta::assert_snapshot!(text(Format::CycloneDx));
}

#[test]
fn snapshot_spdx() {
    insta::assert_snapshot!(text(Format::Spdx));
}

#[test]
fn snapshot_html() {
    insta::assert_snapshot!(text(Format::Html));
}

#[test]
fn snapshot_template() {
    let t = UserTemplate::new(
        "summary.j2",
        "{% for t in targets %}{{ t.name }}: {{ t.findings|length }} findings\n\
         {% for f in t.findings %}- {{ f.severity }} {{ f.id }}{% if f.package %} ({{ f.package }}){% endif %}\n{% endfor %}\
         {% endfor %}total {{ summary.findings }}, critical {{ summary.by_severity.CRITICAL }}\n",
    )
    .unwrap();
    let opts = RenderOptions {
        template: Some(t),
        ..RenderOptions::default()
    };
    insta::assert_snapshot!(rendered(&fixture(), Format::Template, &opts));
}

// ---- table ----

#[test]
fn table_fits_100_columns_and_shows_every_kind() {
    let out = text(Format::Table);
    for line in out.lines() {
        assert!(
            line.chars().count() <= 100,
            "line wider than 100 columns: {line}"
        );
    }
    for heading in [
        "Vulnerabilities (5)",
        "Secrets (1)",
        "Malware (1)",
        "Container escape risks (1)",
    ] {
        assert!(out.contains(heading), "no `{heading}` in\n{out}");
    }
    assert!(out.contains(
        "Findings: 8 (CRITICAL: 2, HIGH: 2, MEDIUM: 2, LOW: 1, UNKNOWN: 1); 3 of 5 vulnerabilities fixable"
    ));
    // A scan's table lists findings, not packages; the stdlib finding covers two binaries.
    assert!(!out.contains("npm packages installed"));
    assert!(out.contains("in 2 places"));
    let listed = rendered(
        &fixture(),
        Format::Table,
        &RenderOptions {
            table: TableOptions {
                packages: true,
                ..TableOptions::default()
            },
            ..RenderOptions::default()
        },
    );
    assert!(listed.contains("npm packages installed (2 packages)"));
    assert!(out.contains("(removed)"), "the deleted secret is marked");
    assert!(out.contains("Suppressed (3, not counted)"));
    assert!(!out.contains('\x1b'), "no color unless asked");
}

#[test]
fn table_neutralizes_terminal_escapes_from_the_image() {
    let mut r = fixture();
    r.targets[0].packages[0].name = "evil\x1b[2J\x1b]0;owned\x07".into();
    r.targets[0].findings[0].package = Some("evil\x1b[2J".into());
    r.targets[0].findings[4].path = Some("/a\x1b[31mred".into());
    let with_packages = RenderOptions {
        table: TableOptions {
            packages: true,
            ..TableOptions::default()
        },
        ..RenderOptions::default()
    };
    let out = rendered(&r, Format::Table, &with_packages);
    assert!(out.contains("evil"), "the package table is rendered");
    assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out}");
}

// ---- schemas ----

#[test]
fn json_output_and_fixtures_validate_against_our_schema() {
    let schema = workspace().join("docs/result.schema.json");
    assert_valid(&schema, &json(Format::Json), "the fixture's JSON");
    assert_valid(
        &schema,
        &serde_json::to_value(synthetic(200)).unwrap(),
        "the synthetic result",
    );
    // Every JSON result the binary's snapshots hold.
    let snaps = workspace().join("crates/holdfast/tests/it/snapshots");
    let mut checked = 0;
    for entry in std::fs::read_dir(&snaps).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with("json.snap") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // An insta snapshot: a `---` header, then the content.
        let body = text.splitn(3, "---\n").nth(2).unwrap_or_default();
        let value: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_valid(&schema, &value, &name);
        checked += 1;
    }
    assert!(checked > 0, "no JSON snapshot found in {}", snaps.display());
}

#[test]
fn our_schema_rejects_what_is_not_a_result() {
    let schema = load(&workspace().join("docs/result.schema.json"));
    let v = jsonschema::validator_for(&schema).unwrap();
    let mut bad = json(Format::Json);
    bad["targets"][0]["findings"][0]["severity"] = Value::from("SEVERE");
    assert!(!v.is_valid(&bad));
    let mut bad = json(Format::Json);
    bad["targets"][0]["findings"][0]["kind"] = Value::from("rumour");
    assert!(!v.is_valid(&bad));
}

#[test]
fn sarif_validates_against_the_oasis_schema() {
    let Some(dir) = schema_dir() else { return };
    assert_valid(
        &dir.join("sarif-schema-2.1.0.json"),
        &json(Format::Sarif),
        "SARIF",
    );
}

#[test]
fn cyclonedx_validates_against_the_1_6_schema() {
    let Some(dir) = schema_dir() else { return };
    let schema = dir.join("cyclonedx/bom-1.6.schema.json");
    assert_valid(&schema, &json(Format::CycloneDx), "CycloneDX");
    let many = rendered(
        &synthetic(300),
        Format::CycloneDx,
        &RenderOptions::default(),
    );
    assert_valid(
        &schema,
        &serde_json::from_str(&many).unwrap(),
        "CycloneDX (synthetic)",
    );
}

#[test]
fn spdx_validates_against_the_2_3_schema() {
    let Some(dir) = schema_dir() else { return };
    let schema = dir.join("spdx/2.3-schema.json");
    assert_valid(&schema, &json(Format::Spdx), "SPDX");
    let many = rendered(&synthetic(300), Format::Spdx, &RenderOptions::default());
    assert_valid(
        &schema,
        &serde_json::from_str(&many).unwrap(),
        "SPDX (synthetic)",
    );
}

#[test]
fn the_published_schemas_do_reject_broken_documents() {
    let Some(dir) = schema_dir() else { return };
    let mut cdx = json(Format::CycloneDx);
    cdx["vulnerabilities"][0]["ratings"][0]["method"] = Value::from("CVSSv9");
    assert!(!validator(&dir.join("cyclonedx/bom-1.6.schema.json")).is_valid(&cdx));
    let mut sarif = json(Format::Sarif);
    sarif["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!validator(&dir.join("sarif-schema-2.1.0.json")).is_valid(&sarif));
    let mut spdx = json(Format::Spdx);
    spdx["packages"][1]["annotations"][0]["annotationType"] = Value::from("OPINION");
    assert!(!validator(&dir.join("spdx/2.3-schema.json")).is_valid(&spdx));
}

// ---- HTML ----

/// The text of the page's findings JSON block.
fn findings_json_text(html: &str) -> &str {
    let start = html
        .find("<script type=\"application/json\" id=\"finding-data\">")
        .expect("the findings' JSON block");
    let rest = &html[start..];
    &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()]
}

/// The page's findings, parsed.
fn findings_json(html: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(findings_json_text(html)).expect("the findings' JSON");
    v.as_array().expect("an array").clone()
}

#[test]
fn html_keeps_hostile_content_inert() {
    let html = text(Format::Html);
    assert!(
        !html.contains(HOSTILE_NAME),
        "the package name went in unescaped"
    );
    assert!(
        !html.contains("<img src=x"),
        "the secret's path went in unescaped"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(
        !html.contains("<b>bold</b>"),
        "a layer command went in unescaped"
    );
    // Our one script block is the only one, beside the findings' JSON, and no link is made
    // from a non-http reference.
    assert_eq!(html.matches("<script").count(), 2);
    assert_eq!(html.matches("<script>").count(), 1);
    let json = findings_json_text(&html);
    assert!(
        !json.contains('<') && !json.contains('>'),
        "markup characters in the findings' JSON"
    );
    assert!(json.contains("\\u003cscript\\u003e"), "{json}");
    assert!(
        json.contains("\\u003cimg src=x onerror=alert(2)\\u003e"),
        "{json}"
    );
    assert_eq!(findings_json(&html).len(), 8);
    assert!(!html.contains("href=\"javascript:"));
    assert!(
        html.contains("javascript:alert(3)"),
        "non-http references are shown as text"
    );
}

#[test]
fn html_is_self_contained() {
    let html = text(Format::Html);
    for needle in [
        "<link",
        "<img",
        "<iframe",
        "src=\"",
        "@import",
        "url(",
        "fetch(",
        "XMLHttpRequest",
    ] {
        assert!(
            !html.contains(needle),
            "the page would load something: `{needle}`"
        );
    }
    assert!(html.contains("Content-Security-Policy"));
    assert!(html.contains("default-src 'none'"));
}

#[test]
fn html_has_the_views_the_issue_asks_for() {
    let html = text(Format::Html);
    // Summary cards, charts by severity and kind, the filters, detail and layer views.
    for needle in [
        "class=\"cards\"",
        "aria-label=\"By severity\"",
        "aria-label=\"By kind\"",
        "id=\"f-severity\"",
        "id=\"f-kind\"",
        "id=\"f-package\"",
        "id=\"f-fix\"",
        "id=\"f-text\"",
        "id=\"finding-data\"",
        "id=\"f-more\"",
        "id=\"layers\"",
        "27.8 MiB",
        "Fixed version",
        "3.0.13-1~deb12u1",
    ] {
        assert!(html.contains(needle), "no `{needle}` in the HTML report");
    }
    assert_eq!(findings_json(&html).len(), 8);
    // The critical vulnerability's detail names the layer's command.
    assert!(html.contains("ADD file:0123 in "));
}

#[test]
fn html_shows_the_registry_summary() {
    use holdfast_model::{FailedImage, ImageFindings, RegistrySummary, Severity};
    let mut r = fixture();
    r.registry = Some(RegistrySummary {
        registry: "127.0.0.1:5000".into(),
        repositories: 2,
        images_selected: 3,
        images_scanned: 2,
        failed: vec![FailedImage {
            image: "127.0.0.1:5000/app:<bad>".into(),
            error: "manifest unknown".into(),
        }],
        by_severity: [(Severity::Critical, 1)].into(),
        worst: vec![ImageFindings {
            image: "127.0.0.1:5000/app:1".into(),
            findings: 4,
            by_severity: [(Severity::Critical, 1), (Severity::High, 3)].into(),
        }],
    });
    let html = rendered(&r, Format::Html, &RenderOptions::default());
    for needle in [
        "<h2>Registry 127.0.0.1:5000</h2>",
        "2 repositories · 3 images selected · 2 scanned · 1 failed",
        // minijinja's autoescape writes `/` as `&#x2f;`.
        "<td class=\"id\">127.0.0.1:5000&#x2f;app:1</td><td>4</td><td>1</td><td>3</td><td>0</td>",
        "127.0.0.1:5000&#x2f;app:&lt;bad&gt;</span>: manifest unknown",
    ] {
        assert!(html.contains(needle), "no `{needle}` in the HTML report");
    }
    // A plain image scan has no registry section.
    assert!(!text(Format::Html).contains("id=\"registry\""));
}

// ---- SARIF and CycloneDX details ----

#[test]
fn sarif_has_what_github_code_scanning_reads() {
    let v = json(Format::Sarif);
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids, unique, "one rule per id");
    assert_eq!(
        rules.len(),
        11,
        "8 findings and 3 suppressed, all with distinct ids"
    );
    // One result per place: the stdlib finding covers two binaries.
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 12);
    let stdlib: Vec<&str> = results
        .iter()
        .filter(|r| r["ruleId"] == "CVE-2023-29406")
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(stdlib, ["usr/bin/skopeo", "usr/bin/docker-registry"]);
    let critical = rules.iter().find(|r| r["id"] == "CVE-2024-0001").unwrap();
    assert_eq!(critical["properties"]["security-severity"], "9.8");
    assert!(critical["help"]["text"]
        .as_str()
        .unwrap()
        .contains("References:"));
    let escape = rules
        .iter()
        .find(|r| r["id"] == "HF-ESCAPE-DOCKER-SOCK")
        .unwrap();
    assert_eq!(
        escape["properties"]["security-severity"], "8.0",
        "mapped from HIGH"
    );
    for r in run["results"].as_array().unwrap() {
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            !uri.is_empty() && !uri.starts_with('/'),
            "relative uri: {uri}"
        );
        assert!(r["partialFingerprints"]["holdfast/v1"].is_string());
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
    }
    let secret = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "HF-SECRET-AWS-ACCESS-KEY")
        .unwrap();
    assert_eq!(
        secret["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    assert!(secret["partialFingerprints"]["holdfast/v1"]
        .as_str()
        .unwrap()
        .starts_with("sha256:5e5e"));
    let escape = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "HF-ESCAPE-DOCKER-SOCK")
        .unwrap();
    assert_eq!(
        escape["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "app.tar"
    );
    let suppressed = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["suppressions"].is_array())
        .count();
    assert_eq!(suppressed, 3);
}

#[test]
fn cyclonedx_vulnerabilities_point_at_components_and_carry_analysis() {
    let v = json(Format::CycloneDx);
    let mut refs: Vec<String> = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["bom-ref"].as_str().map(str::to_string))
        .collect();
    refs.push(
        v["metadata"]["component"]["bom-ref"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    let vulns = v["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 11);
    for vuln in vulns {
        for a in vuln["affects"].as_array().unwrap() {
            let r = a["ref"].as_str().unwrap();
            assert!(
                refs.iter().any(|x| x == r),
                "affects an unknown bom-ref {r}"
            );
        }
    }
    // One vulnerability, both copies of the package it is in.
    let stdlib: Vec<&str> = vulns.iter().find(|x| x["id"] == "CVE-2023-29406").unwrap()["affects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["ref"].as_str().unwrap())
        .collect();
    assert_eq!(
        stdlib,
        [
            "pkg:golang/stdlib@v1.19.8#/usr/bin/skopeo",
            "pkg:golang/stdlib@v1.19.8#/usr/bin/docker-registry"
        ]
    );
    let by_id = |id: &str| vulns.iter().find(|x| x["id"] == id).unwrap();
    let critical = by_id("CVE-2024-0001");
    assert_eq!(critical["ratings"][0]["method"], "CVSSv31");
    assert_eq!(critical["ratings"][0]["score"], 9.8);
    assert_eq!(
        by_id("GHSA-xxxx-yyyy-zzzz")["ratings"][0]["method"],
        "CVSSv4"
    );
    let vex = &by_id("CVE-2023-7777")["analysis"];
    assert_eq!(vex["state"], "not_affected");
    assert_eq!(vex["justification"], "code_not_reachable");
    assert!(vex["detail"].as_str().unwrap().contains("never inflates"));
    assert_eq!(by_id("CVE-2023-9999")["analysis"]["state"], "resolved");
    let ignored = &by_id("CVE-2023-8888")["analysis"];
    assert_eq!(ignored["state"], "not_affected");
    assert!(ignored["detail"]
        .as_str()
        .unwrap()
        .contains(".holdfastignore at line 4"));
    // The escape risk is about the image itself.
    assert_eq!(
        by_id("HF-ESCAPE-DOCKER-SOCK")["affects"][0]["ref"],
        "target:docker-archive:app.tar"
    );
    assert!(by_id("CVE-2024-0001")["analysis"].is_null());
}

#[test]
fn spdx_carries_findings_as_annotations_and_security_refs() {
    let v = json(Format::Spdx);
    let pkgs = v["packages"].as_array().unwrap();
    let ssl = pkgs.iter().find(|p| p["name"] == "libssl3").unwrap();
    let refs = ssl["externalRefs"].as_array().unwrap();
    assert!(refs
        .iter()
        .any(|r| r["referenceCategory"] == "SECURITY" && r["referenceType"] == "advisory"));
    let notes = ssl["annotations"].as_array().unwrap();
    assert!(notes.iter().any(|a| a["comment"]
        .as_str()
        .unwrap()
        .contains("CVE-2024-0001 (CRITICAL)")));
    let image = pkgs
        .iter()
        .find(|p| p["primaryPackagePurpose"] == "CONTAINER")
        .unwrap();
    let comments: Vec<&str> = image["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["comment"].as_str().unwrap())
        .collect();
    assert!(comments.iter().any(|c| c.contains("HF-ESCAPE-DOCKER-SOCK")));
    assert!(comments
        .iter()
        .any(|c| c.contains("HF-SECRET-AWS-ACCESS-KEY") && c.contains(":3")));
}

#[test]
fn two_targets_render_in_every_format_and_validate() {
    let one = fixture();
    let mut second = one.targets[0].clone();
    second.name = "oci:layout:v2".into();
    second.findings.truncate(2);
    let two = result_of(vec![one.targets[0].clone(), second]);
    let table = rendered(&two, Format::Table, &RenderOptions::default());
    assert!(table.contains("oci:layout:v2 (debian 12)"));
    assert!(
        table.contains("All targets: 10 (CRITICAL: 3, HIGH: 3,"),
        "{table}"
    );
    let html = rendered(&two, Format::Html, &RenderOptions::default());
    assert_eq!(findings_json(&html).len(), 10);
    let spdx: Value =
        serde_json::from_str(&rendered(&two, Format::Spdx, &RenderOptions::default())).unwrap();
    let mut ids: Vec<&str> = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "SPDX ids are unique");
    assert_eq!(n, 10, "two images sharing eight packages");
    let Some(dir) = schema_dir() else { return };
    for (format, schema) in [
        (Format::CycloneDx, "cyclonedx/bom-1.6.schema.json"),
        (Format::Spdx, "spdx/2.3-schema.json"),
        (Format::Sarif, "sarif-schema-2.1.0.json"),
    ] {
        let v: Value =
            serde_json::from_str(&rendered(&two, format, &RenderOptions::default())).unwrap();
        assert_valid(&dir.join(schema), &v, &format!("{format:?} of two targets"));
    }
}

// ---- templates ----

#[test]
fn a_template_that_does_not_parse_names_the_file_and_line() {
    let err =
        UserTemplate::new("broken.tpl", "line one\n{% for x in %}\n{% endfor %}\n").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("broken.tpl"), "{msg}");
    assert!(msg.contains("line 2"), "{msg}");
}

#[test]
fn a_template_naming_a_missing_field_fails_with_the_line() {
    let t = UserTemplate::new("typo.tpl", "ok\n{{ summary.findingz }}\n").unwrap();
    let mut out = Vec::new();
    let err = render(
        &fixture(),
        Format::Template,
        &mut out,
        &RenderOptions {
            template: Some(t),
            ..Default::default()
        },
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("typo.tpl") && msg.contains("line 2"), "{msg}");
}

#[test]
fn every_format_renders_a_result_with_no_findings_and_no_targets() {
    let mut empty = fixture();
    for t in &mut empty.targets {
        t.findings.clear();
        t.suppressed.clear();
    }
    let none = result_of(Vec::new());
    for r in [&empty, &none] {
        for f in [
            Format::Table,
            Format::Json,
            Format::Html,
            Format::Sarif,
            Format::CycloneDx,
            Format::Spdx,
        ] {
            let out = rendered(r, f, &RenderOptions::default());
            assert!(!out.is_empty(), "{f:?}");
        }
    }
}

#[test]
fn html_ranks_a_clusters_pods_with_public_ones_doubled() {
    use holdfast_model::{ClusterPod, ClusterSummary, PodImage, Severity};
    let mut public_image = fixture().targets.remove(0);
    public_image.name = "reg.example/shop/web@sha256:aa".into();
    public_image.findings = vec![vuln("CVE-1", Severity::High, "zlib", "1", None, L1)];
    let mut private_image = public_image.clone();
    private_image.name = "reg.example/shop/batch:1".into();
    private_image.findings = vec![
        vuln("CVE-2", Severity::High, "zlib", "1", None, L1),
        vuln("CVE-3", Severity::Medium, "zlib", "1", None, L1),
    ];
    let pod = |name: &str, image: &str, public: bool| ClusterPod {
        namespace: "shop".into(),
        name: name.into(),
        images: vec![PodImage {
            container: "app".into(),
            reference: image.into(),
            digest: None,
            target: Some(image.into()),
        }],
        is_public: public,
        exposure: if public {
            vec!["Ingress shop/web → Service shop/web → Pod shop/web-1".into()]
        } else {
            Vec::new()
        },
        ..ClusterPod::default()
    };
    let mut result = result_of(vec![public_image, private_image]);
    result.cluster = Some(ClusterSummary {
        context: "prod".into(),
        pods: vec![
            pod("batch-1", "reg.example/shop/batch:1", false),
            pod("web-1", "reg.example/shop/web@sha256:aa", true),
        ],
        errors: vec![holdfast_model::ClusterError {
            namespace: Some("shop".into()),
            pod: Some("api-1".into()),
            image: None,
            message: "pull secret `shop/missing` does not exist".into(),
        }],
    });
    let html = rendered(&result, Format::Html, &RenderOptions::default());
    let section = &html[html
        .find("<section id=\"cluster\">")
        .expect("a cluster section")..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(section.contains("Cluster prod"), "{section}");
    assert!(
        section.contains("2 pods · 1 public · 2 images scanned · 1 error"),
        "{section}"
    );
    // web-1: one HIGH (5), public (x2) = 10; batch-1: HIGH and MEDIUM = 7.
    // Text is HTML-escaped, `/` included.
    let web = section.find("shop&#x2f;web-1").unwrap();
    let batch = section.find("shop&#x2f;batch-1").unwrap();
    assert!(web < batch, "the public pod ranks first: {section}");
    assert!(
        section.contains("<td>10</td>") && section.contains("<td>7</td>"),
        "{section}"
    );
    assert!(section.contains("pull secret `shop&#x2f;missing` does not exist"));
}
