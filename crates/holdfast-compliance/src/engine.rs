//! The one engine every check runs on: Rego modules compiled once into a `regorus`
//! interpreter, then evaluated against each input document.

use crate::catalog::{self, CatalogError, Check, CheckSource, InputKind, PolicyMetadata};
use holdfast_model::CheckStatus;
use serde::Serialize;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

/// Longest one check may run on one document before it is stopped with `ERROR`.
pub const CHECK_TIME_LIMIT: Duration = Duration::from_secs(5);

/// Largest policy file read from `--policy`.
const MAX_POLICY_FILE: u64 = 1 << 20;

/// What a failing (or noteworthy) rule said about one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The rule's message.
    pub message: String,
    /// The line of the input file, when the rule gave one.
    pub line: Option<u32>,
    /// The container, when the rule named one.
    pub container: Option<String>,
}

/// How one check ended on one input document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `PASS`, `WARN` (a `deny` rule fired), `INFO` (only `warn` fired) or `ERROR`.
    pub status: CheckStatus,
    /// What `deny` reported, or the error for `ERROR`.
    pub deny: Vec<Hit>,
    /// What `warn` reported.
    pub warn: Vec<Hit>,
}

impl Outcome {
    /// A pass with no hits, before the rules are read.
    fn pass() -> Self {
        Outcome {
            status: CheckStatus::Pass,
            deny: Vec::new(),
            warn: Vec::new(),
        }
    }

    /// WARN with `deny` hits, else INFO with `warn` hits, else PASS.
    fn decided_status(&self) -> CheckStatus {
        if !self.deny.is_empty() {
            CheckStatus::Warn
        } else if !self.warn.is_empty() {
            CheckStatus::Info
        } else {
            CheckStatus::Pass
        }
    }

    /// A check that could not be decided, and why.
    pub fn error(message: impl Into<String>) -> Self {
        Outcome {
            status: CheckStatus::Error,
            deny: vec![Hit {
                message: message.into(),
                line: None,
                container: None,
            }],
            warn: Vec::new(),
        }
    }
}

struct Compiled {
    check: Check,
    has_deny: bool,
    has_warn: bool,
}

/// The compiled checks, ready to evaluate documents. Not shared between threads: clone it
/// (the compiled modules are shared) for each.
#[derive(Clone)]
pub struct RuleEngine {
    engine: regorus::Engine,
    compiled: std::sync::Arc<Vec<Compiled>>,
}

impl RuleEngine {
    /// The built-in checks, plus the checks in each `--policy` path (a directory of `.rego`
    /// and `.toml` files, or one file).
    pub fn new(policy_paths: &[PathBuf]) -> Result<Self, CatalogError> {
        Self::for_kinds(policy_paths, &InputKind::ALL)
    }

    /// [`RuleEngine::new`], compiling only the built-in checks of these input kinds: a
    /// run never pays at start-up for benchmarks it does not judge. The user's policies
    /// are all compiled (a `.rego` check names its kind only once compiled).
    pub fn for_kinds(policy_paths: &[PathBuf], kinds: &[InputKind]) -> Result<Self, CatalogError> {
        let mut engine = regorus::Engine::new();
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit: CHECK_TIME_LIMIT,
            check_interval: NonZeroU32::new(256).expect("non-zero"),
        });
        let builtin = |origin: &str, message: String| CatalogError::Invalid {
            origin: origin.to_string(),
            message,
        };
        for (origin, text) in catalog::LIB_MODULES {
            engine
                .add_policy(origin.to_string(), text.to_string())
                .map_err(|e| builtin(origin, e.to_string()))?;
        }
        let mut compiled = Vec::new();
        for (name, text) in catalog::BUILTIN_FILES {
            let origin = format!("builtin/{name}");
            for source in catalog::parse_check_file(&origin, text)? {
                if kinds.contains(&source.check.input) {
                    compiled.push(add_check(&mut engine, source)?);
                }
            }
        }
        for dir in policy_paths {
            for path in catalog::policy_files(dir)? {
                let text = read_policy(&path)?;
                let origin = path.display().to_string();
                if path.extension().is_some_and(|e| e == "toml") {
                    for source in catalog::parse_check_file(&origin, &text)? {
                        compiled.push(add_check(&mut engine, source)?);
                    }
                } else if let Some(c) = add_rego_policy(&mut engine, &path, text)? {
                    compiled.push(c);
                }
            }
        }
        let mut seen = std::collections::HashMap::new();
        for c in &compiled {
            if let Some(first) = seen.insert(c.check.id.clone(), c.check.origin.clone()) {
                return Err(CatalogError::Duplicate {
                    id: c.check.id.clone(),
                    first,
                    second: c.check.origin.clone(),
                });
            }
        }
        Ok(RuleEngine {
            engine,
            compiled: std::sync::Arc::new(compiled),
        })
    }

    /// Every loaded check, in load order (built-in first).
    pub fn checks(&self) -> impl ExactSizeIterator<Item = &Check> {
        self.compiled.iter().map(|c| &c.check)
    }

    /// Runs every check of `kind` that `selected` keeps on one document; returns each
    /// check's index (in [`RuleEngine::checks`] order) with its outcome.
    pub fn evaluate<T: Serialize>(
        &mut self,
        kind: InputKind,
        input: &T,
        selected: &dyn Fn(&Check) -> bool,
    ) -> Vec<(usize, Outcome)> {
        let compiled = std::sync::Arc::clone(&self.compiled);
        let wanted: Vec<usize> = (0..compiled.len())
            .filter(|&i| compiled[i].check.input == kind && selected(&compiled[i].check))
            .collect();
        if wanted.is_empty() {
            return Vec::new();
        }
        let json = match serde_json::to_value(input) {
            Ok(v) => v,
            Err(e) => {
                let message = format!("input document: {e}");
                return wanted
                    .into_iter()
                    .map(|i| (i, Outcome::error(&message)))
                    .collect();
            }
        };
        // Scripts read the document as JSON text on stdin, made only if one runs.
        let text = if wanted.iter().any(|&i| compiled[i].check.script.is_some()) {
            json.to_string()
        } else {
            String::new()
        };
        self.engine.set_input(regorus::Value::from(json));
        let mut together = self
            .evaluate_together(&compiled, &wanted)
            .unwrap_or_default();
        wanted
            .into_iter()
            .map(|i| {
                let outcome = together
                    .remove(&i)
                    .unwrap_or_else(|| self.run(&compiled[i], kind, &text));
                (i, outcome)
            })
            .collect()
    }

    /// Every wanted Rego check's rules in one query, so what the checks share (the
    /// library's rules over the same input: a Dockerfile's `RUN`s, a pod's containers) is
    /// evaluated once per document rather than once per check. `None` when there is
    /// nothing to share or the query fails as a whole (one check's error, an undefined
    /// rule, the time limit): the caller then runs each check alone, which gives each its
    /// own outcome and error. Manual and script checks are always the caller's.
    fn evaluate_together(
        &mut self,
        compiled: &[Compiled],
        wanted: &[usize],
    ) -> Option<std::collections::HashMap<usize, Outcome>> {
        let rego = |c: &Compiled| !c.check.manual && c.check.script.is_none();
        if wanted.iter().filter(|&&i| rego(&compiled[i])).count() < 2 {
            return None;
        }
        let mut rules = Vec::new();
        for &i in wanted.iter().filter(|&&i| rego(&compiled[i])) {
            let c = &compiled[i];
            for (rule, present) in [("deny", c.has_deny), ("warn", c.has_warn)] {
                if present {
                    rules.push((i, rule, format!("data.{}.{rule}", c.check.package)));
                }
            }
        }
        let query = format!(
            "hits := [{}]",
            rules
                .iter()
                .map(|(_, _, path)| path.as_str())
                .collect::<Vec<_>>()
                // One per line: the parser limits a line's length.
                .join(",\n")
        );
        let results = self.engine.eval_query(query, false).ok()?;
        let [result] = results.result.as_slice() else {
            return None;
        };
        let values = result.bindings["hits"].as_array().ok()?;
        if values.len() != rules.len() {
            return None;
        }
        let mut outcomes: std::collections::HashMap<usize, Outcome> = Default::default();
        for ((i, rule, _), value) in rules.iter().zip(values.iter()) {
            let outcome = outcomes.entry(*i).or_insert_with(Outcome::pass);
            if *rule == "deny" {
                outcome.deny = hits(value);
            } else {
                outcome.warn = hits(value);
            }
        }
        for o in outcomes.values_mut() {
            o.status = o.decided_status();
        }
        Some(outcomes)
    }

    fn run(&mut self, c: &Compiled, kind: InputKind, input_text: &str) -> Outcome {
        let mut outcome = Outcome::pass();

        if c.check.manual {
            outcome.status = CheckStatus::Note;
            return outcome;
        }
        if let Some(script) = &c.check.script {
            return script.run(kind, input_text);
        }
        for (rule, present) in [("deny", c.has_deny), ("warn", c.has_warn)] {
            if !present {
                continue;
            }
            let hits = match self
                .engine
                .eval_rule(format!("data.{}.{rule}", c.check.package))
            {
                Ok(value) => hits(&value),
                Err(e) => return Outcome::error(format!("{rule}: {e}")),
            };
            if rule == "deny" {
                outcome.deny = hits;
            } else {
                outcome.warn = hits;
            }
        }
        outcome.status = outcome.decided_status();
        outcome
    }
}

fn read_policy(path: &std::path::Path) -> Result<String, CatalogError> {
    let read_err = |source| CatalogError::Read {
        path: path.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read_err)?.len();
    if size > MAX_POLICY_FILE {
        return Err(CatalogError::Invalid {
            origin: path.display().to_string(),
            message: format!(
                "{size} bytes is more than a policy file may have ({MAX_POLICY_FILE})"
            ),
        });
    }
    std::fs::read_to_string(path).map_err(read_err)
}

fn add_check(engine: &mut regorus::Engine, source: CheckSource) -> Result<Compiled, CatalogError> {
    let path = format!("{}#{}", source.check.origin, source.check.id);
    engine
        .add_policy(path.clone(), source.module)
        .map_err(|e| CatalogError::Invalid {
            origin: source.check.origin.clone(),
            message: format!("{}: {e}", source.check.id),
        })?;
    Ok(declared(engine, &path, source.check))
}

fn declared(engine: &regorus::Engine, path: &str, check: Check) -> Compiled {
    let has = |rule: &str| {
        engine
            .has_declared_rule_rooted_at(path, rule)
            .unwrap_or(false)
    };
    Compiled {
        has_deny: has("deny"),
        has_warn: has("warn"),
        check,
    }
}

/// Adds a user's `.rego` file. A module with a `metadata` rule is a check; one without is
/// a library other modules import, and gives no check.
fn add_rego_policy(
    engine: &mut regorus::Engine,
    path: &std::path::Path,
    text: String,
) -> Result<Option<Compiled>, CatalogError> {
    let origin = path.display().to_string();
    let invalid = |message: String| CatalogError::Invalid {
        origin: origin.clone(),
        message,
    };
    let package = engine
        .add_policy(origin.clone(), text)
        .map_err(|e| invalid(e.to_string()))?;
    if !engine
        .has_declared_rule_rooted_at(&origin, "metadata")
        .unwrap_or(false)
    {
        return Ok(None);
    }
    let value = engine
        .eval_rule(format!("{package}.metadata"))
        .map_err(|e| invalid(format!("metadata: {e}")))?;
    let json = serde_json::to_value(&value).map_err(|e| invalid(format!("metadata: {e}")))?;
    let meta: PolicyMetadata =
        serde_json::from_value(json).map_err(|e| invalid(format!("metadata: {e}")))?;
    let package = package
        .strip_prefix("data.")
        .unwrap_or(&package)
        .to_string();
    let check = meta.into_check(package, path)?;
    Ok(Some(declared(engine, &origin, check)))
}

/// A rule's set (or array) of messages and `{msg, line, container}` objects.
fn hits(value: &regorus::Value) -> Vec<Hit> {
    if *value == regorus::Value::Undefined {
        return Vec::new();
    }
    let Ok(json) = serde_json::to_value(value) else {
        return Vec::new();
    };
    let items = match json {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Bool(false) | serde_json::Value::Null => Vec::new(),
        other => vec![other],
    };
    let mut out: Vec<Hit> = items
        .into_iter()
        .map(|item| match item {
            serde_json::Value::String(message) => Hit {
                message,
                line: None,
                container: None,
            },
            serde_json::Value::Object(o) => Hit {
                message: o
                    .get("msg")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
                    .unwrap_or_else(|| serde_json::Value::Object(o.clone()).to_string()),
                line: o
                    .get("line")
                    .and_then(|l| l.as_u64())
                    .and_then(|l| u32::try_from(l).ok()),
                container: o
                    .get("container")
                    .and_then(|c| c.as_str())
                    .map(str::to_string),
            },
            other => Hit {
                message: other.to_string(),
                line: None,
                container: None,
            },
        })
        .collect();
    out.sort_by(|a, b| (a.line, &a.message).cmp(&(b.line, &b.message)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn user_policies_run_beside_the_builtin_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = std::fs::File::create(dir.path().join("no_alpine.rego")).unwrap();
        writeln!(
            f,
            "package team.no_alpine\nimport rego.v1\n\
             metadata := {{\"id\": \"TEAM-1\", \"title\": \"No alpine\", \"input\": \"dockerfile\", \"severity\": \"HIGH\", \"tags\": [\"pci-dss\"]}}\n\
             deny contains msg if {{ some s in input.stages; s.from.image == \"alpine\"; msg := sprintf(\"stage %d is alpine\", [s.index]) }}\n\
             warn contains {{\"msg\": \"has a run\", \"line\": i.line}} if {{ some s in input.stages; some i in s.instructions; i.cmd == \"run\" }}"
        )
        .unwrap();
        std::fs::write(
            dir.path().join("helpers.rego"),
            "package team.helpers\nx := 1\n",
        )
        .unwrap();
        let mut engine = RuleEngine::new(&[dir.path().to_path_buf()]).unwrap();
        let team = engine.checks().position(|c| c.id == "TEAM-1").unwrap();
        assert!(engine.checks().count() > 1, "built-in checks load too");
        let doc = crate::dockerfile::parse("Dockerfile", "FROM alpine:3\nRUN true\n").unwrap();
        let only_team = |c: &Check| c.id == "TEAM-1";
        let out = engine.evaluate(InputKind::Dockerfile, &doc, &only_team);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, team);
        assert_eq!(out[0].1.status, CheckStatus::Warn);
        assert_eq!(out[0].1.deny[0].message, "stage 0 is alpine");
        assert_eq!(out[0].1.warn[0].line, Some(2));
        let doc = crate::dockerfile::parse("Dockerfile", "FROM debian:12\n").unwrap();
        let out = engine.evaluate(InputKind::Dockerfile, &doc, &only_team);
        assert_eq!(out[0].1.status, CheckStatus::Pass);
    }

    #[test]
    fn a_broken_policy_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("bad.rego"),
            "package bad\ndeny contains x if {",
        )
        .unwrap();
        let err = RuleEngine::new(&[dir.path().to_path_buf()])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("bad.rego"), "{err}");
    }

    #[test]
    fn a_failing_rule_is_an_error_not_a_pass() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("div.rego"),
            "package div\nimport rego.v1\nmetadata := {\"id\": \"DIV\", \"title\": \"t\", \"input\": \"dockerfile\"}\n\
             f(_) := 1\nf(_) := 2\n\
             deny contains msg if { msg := sprintf(\"%v\", [f(input.stages[0].from.image)]) }\n",
        )
        .unwrap();
        let mut engine = RuleEngine::new(&[dir.path().to_path_buf()]).unwrap();
        let doc = crate::dockerfile::parse("Dockerfile", "FROM debian\n").unwrap();
        let out = engine.evaluate(InputKind::Dockerfile, &doc, &|c: &Check| c.id == "DIV");
        assert_eq!(out[0].1.status, CheckStatus::Error, "{:?}", out[0].1);

        // Beside the built-in checks, evaluated in one query, the failing check makes the
        // query fail: each check then runs alone and keeps its own outcome.
        let all = engine.evaluate(InputKind::Dockerfile, &doc, &|_: &Check| true);
        let by_id = |id: &str| {
            let i = engine.checks().position(|c| c.id == id).unwrap();
            all.iter().find(|(j, _)| *j == i).unwrap().1.status
        };
        assert_eq!(by_id("DIV"), CheckStatus::Error);
        assert_eq!(by_id("HF-DF-LATEST-TAG"), CheckStatus::Warn);
        assert_eq!(by_id("HF-DF-SUDO"), CheckStatus::Pass);
    }

    #[test]
    fn one_query_gives_what_each_check_alone_gives() {
        let mut engine = RuleEngine::new(&[]).unwrap();
        let text = "FROM debian:latest\nRUN apt-get update && apt-get install -y curl\n\
                    RUN curl -s https://x.example/i.sh | sh\nADD https://x.example/a.tgz /a\n";
        let doc = crate::dockerfile::parse("Dockerfile", text).unwrap();
        let together = engine.evaluate(InputKind::Dockerfile, &doc, &|_: &Check| true);
        assert!(together.len() > 20);
        for (i, outcome) in &together {
            let id = engine.checks().nth(*i).unwrap().id.clone();
            let alone = engine.evaluate(InputKind::Dockerfile, &doc, &|c: &Check| c.id == id);
            assert_eq!(alone.len(), 1);
            assert_eq!(&alone[0].1, outcome, "{id}");
        }
        assert!(
            together
                .iter()
                .filter(|(_, o)| o.status == CheckStatus::Warn)
                .count()
                >= 5
        );
    }
}
