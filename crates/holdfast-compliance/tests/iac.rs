//! The built-in IaC checks on the corpus in `tests/fixtures/iac`: every planted problem is
//! found and nothing else (`expected.toml`), and every rule hadolint or checkov fires on
//! the corpus is carried by a check under its alias or explained (`reference.toml`).

use holdfast_compliance::{scan_config, ConfigScanOptions, RuleEngine};
use holdfast_model::{CheckStatus, TargetResult};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

const CORPUS: &str = "tests/fixtures/iac";

#[derive(Deserialize)]
struct Expected {
    files: BTreeMap<String, ExpectedFile>,
}

#[derive(Deserialize)]
struct ExpectedFile {
    fail: Vec<String>,
}

#[derive(Deserialize)]
struct Reference {
    hadolint: BTreeMap<String, ReferenceRule>,
    checkov: BTreeMap<String, ReferenceRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferenceRule {
    holdfast: Option<String>,
    explained: Option<String>,
    note: Option<String>,
}

/// The corpus scanned once, keyed by the path relative to the corpus.
fn scanned() -> &'static BTreeMap<String, TargetResult> {
    static SCANNED: OnceLock<BTreeMap<String, TargetResult>> = OnceLock::new();
    SCANNED.get_or_init(|| {
        let options = ConfigScanOptions {
            paths: vec![CORPUS.into()],
            ..Default::default()
        };
        scan_config(&options)
            .expect("the corpus scans")
            .into_iter()
            .map(|t| {
                let rel = t.name.strip_prefix(CORPUS).unwrap().trim_start_matches('/');
                (rel.to_string(), t)
            })
            .collect()
    })
}

fn failing(t: &TargetResult) -> BTreeSet<String> {
    t.checks
        .iter()
        .filter(|c| c.status == CheckStatus::Warn)
        .map(|c| c.id.clone())
        .collect()
}

fn read_toml<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let text = std::fs::read_to_string(Path::new(CORPUS).join(name)).unwrap();
    toml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_planted_problem_is_found_and_nothing_else() {
    let expected: Expected = read_toml("expected.toml");
    let scanned = scanned();
    let mut problems = Vec::new();
    for (file, target) in scanned {
        assert!(target.warnings.is_empty(), "{file}: {:?}", target.warnings);
        for c in &target.checks {
            assert_ne!(
                c.status,
                CheckStatus::Error,
                "{file}: {} {:?}",
                c.id,
                c.evidence
            );
        }
        let Some(want) = expected.files.get(file) else {
            problems.push(format!("{file}: scanned but not in expected.toml"));
            continue;
        };
        let want: BTreeSet<String> = want.fail.iter().cloned().collect();
        let got = failing(target);
        let missed: Vec<_> = want.difference(&got).collect();
        let extra: Vec<_> = got.difference(&want).collect();
        if !missed.is_empty() || !extra.is_empty() {
            problems.push(format!("{file}: missed {missed:?}, unexpected {extra:?}"));
        }
    }
    for file in expected.files.keys() {
        if !scanned.contains_key(file) {
            problems.push(format!("{file}: in expected.toml but not scanned"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The corpus plants problems of every built-in IaC check.
    let fired: BTreeSet<String> = scanned.values().flat_map(failing).collect();
    let engine = RuleEngine::new(&[]).unwrap();
    let never: Vec<&str> = engine
        .checks()
        .filter(|c| {
            (c.id.starts_with("HF-DF-") || c.id.starts_with("HF-K8S-")) && !fired.contains(&c.id)
        })
        .map(|c| c.id.as_str())
        .collect();
    assert!(never.is_empty(), "no corpus file fails {never:?}");
}

#[test]
fn failures_are_findings_with_lines_aliases_and_evidence() {
    let t = &scanned()["bad-apt.Dockerfile"];
    let f = t
        .findings
        .iter()
        .find(|f| f.id == "HF-DF-APT-NO-RECOMMENDS")
        .expect("a finding per failure");
    assert!(f.aliases.iter().any(|a| a == "DL3015"), "{:?}", f.aliases);
    assert!(f.line.is_some() && f.evidence.is_some() && f.remediation.is_some());
    let failed: Vec<_> = t
        .checks
        .iter()
        .filter(|c| c.status != CheckStatus::Pass)
        .collect();
    insta::assert_json_snapshot!("bad_apt_checks", failed);
}

/// Runs a reference tool when it is installed; under HOLDFAST_FULL_TESTS it must be.
fn tool(name: &str) -> bool {
    let found = Command::new(name).arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("HOLDFAST_FULL_TESTS").is_none(),
            "{name} is not installed (scripts/setup-test-deps.sh installs it)"
        );
        eprintln!("{name} not installed: skipped");
    }
    found
}

/// Each (rule, corpus file) a tool fired, checked against the reference record.
fn compare(
    tool: &str,
    fired: &BTreeSet<(String, String)>,
    rules: &BTreeMap<String, ReferenceRule>,
) {
    let engine = RuleEngine::new(&[]).unwrap();
    let aliases: BTreeMap<&str, &Vec<String>> = engine
        .checks()
        .map(|c| (c.id.as_str(), &c.aliases))
        .collect();
    let scanned = scanned();
    let mut problems = Vec::new();
    for (rule, file) in fired {
        let Some(r) = rules.get(rule) else {
            problems.push(format!(
                "{tool} {rule} fires on {file} and is not in reference.toml"
            ));
            continue;
        };
        match (&r.holdfast, &r.explained) {
            (Some(id), _) => {
                if !aliases.get(id.as_str()).is_some_and(|a| a.contains(rule)) {
                    problems.push(format!("{id} does not list {rule} in its aliases"));
                }
                let fails = scanned.get(file).is_some_and(|t| failing(t).contains(id));
                if !fails && r.note.is_none() {
                    problems.push(format!("{tool} {rule} fires on {file}; {id} does not"));
                }
            }
            (None, Some(_)) => {}
            (None, None) => problems.push(format!("{rule}: neither holdfast nor explained")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn hadolint_rules_are_carried_or_explained() {
    if !tool("hadolint") {
        return;
    }
    let reference: Reference = read_toml("reference.toml");
    let mut fired = BTreeSet::new();
    for file in scanned().keys().filter(|f| !f.ends_with(".yaml")) {
        let out = Command::new("hadolint")
            .args(["-f", "json", "--no-fail"])
            .arg(Path::new(CORPUS).join(file))
            .output()
            .unwrap();
        let results: Vec<serde_json::Value> =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                panic!(
                    "hadolint on {file}: {e}: {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        for r in results {
            fired.insert((r["code"].as_str().unwrap().to_string(), file.clone()));
        }
    }
    assert!(fired.len() > 20, "hadolint fired only {fired:?}");
    compare("hadolint", &fired, &reference.hadolint);
}

#[test]
fn checkov_rules_are_carried_or_explained() {
    if !tool("checkov") {
        return;
    }
    let reference: Reference = read_toml("reference.toml");
    let out = Command::new("checkov")
        .args(["-d", CORPUS, "--framework", "dockerfile", "kubernetes"])
        .args(["-o", "json", "--quiet", "--compact", "--skip-download"])
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("checkov: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    // One report per framework, or a single object when only one had results.
    let reports = match report {
        serde_json::Value::Array(a) => a,
        other => vec![other],
    };
    let mut fired = BTreeSet::new();
    for r in &reports {
        for f in r["results"]["failed_checks"]
            .as_array()
            .into_iter()
            .flatten()
        {
            // Relative to the scanned directory for Dockerfiles, to the working directory
            // for manifests.
            let path = f["file_path"].as_str().unwrap().trim_start_matches('/');
            let file = path
                .strip_prefix(CORPUS)
                .unwrap_or(path)
                .trim_start_matches('/');
            fired.insert((
                f["check_id"].as_str().unwrap().to_string(),
                file.to_string(),
            ));
        }
    }
    assert!(fired.len() > 40, "checkov fired only {fired:?}");
    compare("checkov", &fired, &reference.checkov);
}

#[test]
fn compose_files_fail_exactly_the_expected_checks() {
    const COMPOSE: &str = "tests/fixtures/compose";
    let expected: Expected =
        toml::from_str(&std::fs::read_to_string(Path::new(COMPOSE).join("expected.toml")).unwrap())
            .unwrap();
    let options = ConfigScanOptions {
        paths: vec![COMPOSE.into()],
        ..Default::default()
    };
    let targets = scan_config(&options).unwrap();
    assert_eq!(
        targets.len(),
        expected.files.len(),
        "{:?}",
        targets.iter().map(|t| &t.name).collect::<Vec<_>>()
    );
    for t in &targets {
        let file = t
            .name
            .strip_prefix(COMPOSE)
            .unwrap()
            .trim_start_matches('/');
        assert!(t.warnings.is_empty(), "{file}: {:?}", t.warnings);
        assert!(
            t.checks.iter().all(|c| c.id.starts_with("HF-COMPOSE-")),
            "only compose checks run on {file}"
        );
        assert!(
            t.checks.iter().all(|c| c.status != CheckStatus::Error),
            "{file}: {:?}",
            t.checks
        );
        let want: BTreeSet<String> = expected.files[file].fail.iter().cloned().collect();
        assert_eq!(failing(t), want, "{file}");
    }
    let dirty = targets
        .iter()
        .find(|t| t.name.ends_with("docker-compose.yml"))
        .unwrap();
    let secret = dirty
        .findings
        .iter()
        .find(|f| f.id == "HF-COMPOSE-SECRET-ENV")
        .unwrap();
    assert_eq!(
        secret.evidence.as_deref(),
        Some("service web sets DB_PASSWORD to a literal value")
    );
}
