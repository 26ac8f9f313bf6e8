//! The `misconfig` scanner of `scan image` and `scan container`: what an image and a
//! container themselves show, judged by the checks `compliance docker` and `scan config`
//! run, so one rule gives one answer wherever it meets the fact.
//!
//! - The image's config is a `docker-image` document (the CIS Docker section 4 checks).
//! - Its history is turned back into a Dockerfile, one line per history step, and the
//!   Dockerfile checks read it: what `RUN apt-get install` without cleanup or `ADD` of a
//!   URL left in the history is found without the build file. The checks about the base
//!   image and the final stage's `USER` and `HEALTHCHECK` are left out there: the history
//!   names no base image, and the config decides the user and health check.
//! - A container of the Docker Engine API (Docker or Podman's service) is a
//!   `docker-container` document (the CIS Docker section 5 checks).
//!
//! Checks a person must judge (`manual`) are not listed: they say nothing about one image.

use crate::catalog::{Check, InputKind};
use crate::config_scan::{push_results, Judged};
use crate::engine::RuleEngine;
use crate::{regulation_filter, BenchmarkError, CheckFilter};
use holdfast_model::{CheckEvidence, CheckResult, Finding, ImageConfig, ImageMetadata};
use serde_json::{json, Value};
use std::path::PathBuf;

/// The name the history's Dockerfile is judged under; evidence names the history step.
const HISTORY: &str = "image history";

/// Dockerfile checks that do not apply to a history:
/// - the history names no base image (`LATEST-TAG`);
/// - the config, not the last `USER` or `HEALTHCHECK` step, decides what the image runs as
///   and whether it has a health check (`CIS-DOCKER-4.1` and `4.6` judge those);
/// - a history holds its base images' steps too, so a base's `CMD`, `ENTRYPOINT` or
///   `MAINTAINER` beside the image's own says nothing about the image's build file.
const NOT_FOR_HISTORY: &[&str] = &[
    "HF-DF-LATEST-TAG",
    "HF-DF-ROOT-USER",
    "HF-DF-NO-HEALTHCHECK",
    "HF-DF-MULTIPLE-CMD",
    "HF-DF-MULTIPLE-ENTRYPOINT",
    "HF-DF-MAINTAINER",
];

/// The compiled image, history and container checks, built once per scan and cloned for
/// each target (the compiled modules are shared).
#[derive(Clone)]
pub struct ImageChecks {
    engine: RuleEngine,
    /// The `--compliance` regulations' filter.
    keep: std::sync::Arc<CheckFilter>,
}

/// What the scanner found on one target.
#[derive(Debug, Default)]
pub struct ImageJudgement {
    /// One result per automated check that had a document to judge.
    pub checks: Vec<CheckResult>,
    /// One `misconfiguration` finding per piece of evidence of a failed check.
    pub findings: Vec<Finding>,
    /// What could not be judged, and why.
    pub warnings: Vec<String>,
}

impl ImageChecks {
    /// Compiles the built-in checks of the three kinds, and those of `policies` (the
    /// user's checks on `docker-image`, `dockerfile` and `docker-container` documents);
    /// only those tagged with one of `regulations` run, when any are named.
    pub fn new(policies: &[PathBuf], regulations: &[String]) -> Result<Self, BenchmarkError> {
        let kinds = [
            InputKind::DockerImage,
            InputKind::Dockerfile,
            InputKind::DockerContainer,
        ];
        Ok(ImageChecks {
            engine: RuleEngine::for_kinds(policies, &kinds)?,
            keep: regulation_filter(regulations)
                .map_err(BenchmarkError::Regulation)?
                .into(),
        })
    }

    /// Judges the image of `metadata` and, when given, the container's `docker-container`
    /// document (see [`crate::docker_host::container_documents`]).
    pub fn judge(&self, metadata: &ImageMetadata, container: Option<&Value>) -> ImageJudgement {
        let mut engine = self.engine.clone();
        let mut per_check: Vec<Vec<Judged>> = vec![Vec::new(); engine.checks().len()];
        let mut out = ImageJudgement::default();
        let automated = |c: &Check| !c.manual && (self.keep.as_ref())(c);
        // The image and container checks' messages name the image or container.
        let image = image_document(metadata);
        for (i, o) in engine.evaluate(InputKind::DockerImage, &image, &automated) {
            per_check[i].push((None, 0, o));
        }
        let (text, steps) = history_dockerfile(&metadata.config);
        if !steps.is_empty() {
            match crate::dockerfile::parse(HISTORY, &text) {
                Ok(doc) => {
                    let for_history =
                        |c: &Check| automated(c) && !NOT_FOR_HISTORY.contains(&c.id.as_str());
                    for (i, o) in engine.evaluate(InputKind::Dockerfile, &doc, &for_history) {
                        per_check[i].push((Some(HISTORY.to_string()), 0, o));
                    }
                }
                Err(e) => out.warnings.push(format!(
                    "the image's history could not be read as a Dockerfile, so the Dockerfile checks did not run on it: {e}"
                )),
            }
        }
        if let Some(doc) = container {
            for (i, o) in engine.evaluate(InputKind::DockerContainer, doc, &automated) {
                per_check[i].push((None, 0, o));
            }
        }
        // Line N + 1 of the history's Dockerfile is history step N.
        let relabel = |check: &Check, e: &mut CheckEvidence| {
            if check.input != InputKind::Dockerfile {
                return;
            }
            if let Some(step) = e.line.take().and_then(|l| l.checked_sub(1)) {
                let created_by = steps
                    .get((step as usize).wrapping_sub(1))
                    .map(String::as_str);
                e.object = Some(match created_by {
                    Some(c) => format!("history step {step} ({})", clip(c)),
                    None => format!("history step {step}"),
                });
            }
        };
        push_results(
            &mut out.checks,
            &mut out.findings,
            engine.checks(),
            per_check,
            None,
            relabel,
        );
        out
    }
}

/// The `docker-image` document of `metadata`, in the shape `compliance docker` gives the
/// daemon's images (`docs/checks.md`).
pub fn image_document(metadata: &ImageMetadata) -> Value {
    let history: Vec<Value> = metadata
        .config
        .history
        .iter()
        .map(|h| {
            json!({
                "created_by": h.created_by.clone().unwrap_or_default(),
                "empty_layer": h.empty_layer,
                "created": h.created,
                "comment": h.comment,
            })
        })
        .collect();
    json!({
        "kind": "docker-image",
        "id": metadata.image_id,
        "tags": metadata.repo_tags,
        "inspect": {
            "Config": metadata.config.config,
            "Architecture": metadata.config.architecture,
            "Os": metadata.config.os,
            "Created": metadata.config.created,
        },
        "history": history,
        "content_trust": false,
    })
}

/// The image's history as a Dockerfile, and each step's `created_by` as recorded: a
/// `FROM scratch` line (the history names no base image), then one line per step, so
/// line N + 1 is step N. A step that is no instruction (an import, an empty step) becomes
/// a comment, so the lines stay aligned.
pub fn history_dockerfile(config: &ImageConfig) -> (String, Vec<String>) {
    let mut text = String::from("FROM scratch\n");
    let mut steps = Vec::new();
    for entry in &config.history {
        let created_by = entry.created_by.clone().unwrap_or_default();
        let line = match instruction(&created_by) {
            Some(i) => i,
            None => format!("# {}", one_line(&created_by)),
        };
        text.push_str(&line);
        text.push('\n');
        steps.push(created_by);
    }
    (text, steps)
}

/// The Dockerfile instruction a history step's `created_by` records, on one line.
///
/// The forms builders write:
/// - the classic builder: `/bin/sh -c #(nop)  ENV A=1` for instructions that run nothing,
///   `/bin/sh -c apt-get ...` for `RUN`, with `|2 A=1 B=2 ` before it when build
///   arguments were set;
/// - BuildKit: the instruction itself (`ENV A=1`, `RUN /bin/sh -c make # buildkit`,
///   `COPY . /app # buildkit`);
/// - both: `ADD file:<digest> in /`, `EXPOSE map[22/tcp:{}]`, `HEALTHCHECK &{[...] ...}`.
fn instruction(created_by: &str) -> Option<String> {
    let mut s = created_by.trim();
    s = s.strip_suffix("# buildkit").unwrap_or(s).trim_end();
    if s.is_empty() {
        return None;
    }
    if let Some(rest) = s.strip_prefix("/bin/sh -c #(nop)") {
        return Some(tidy(rest.trim()));
    }
    let (keyword, rest) = match s.split_once(char::is_whitespace) {
        Some((k, r)) => (k, r.trim_start()),
        None => (s, ""),
    };
    if keyword.eq_ignore_ascii_case("RUN") {
        return Some(format!("RUN {}", one_line(shell_command(rest))));
    }
    if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(keyword)) {
        return Some(tidy(s));
    }
    // The classic builder's RUN: the shell command itself, build arguments first.
    let command = shell_command(s);
    (command.len() != s.len() || s.starts_with('|')).then(|| format!("RUN {}", one_line(command)))
}

/// The instructions BuildKit records by name.
const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// The command of a recorded `RUN`: without the `|N A=1 ...` build arguments and the
/// `/bin/sh -c` the builder put in front.
fn shell_command(s: &str) -> &str {
    let mut s = s.trim_start();
    if let Some(rest) = s.strip_prefix('|') {
        let (count, mut rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let count: usize = count.parse().unwrap_or(0);
        for _ in 0..count {
            rest = rest.trim_start();
            rest = rest.split_once(' ').map_or("", |(_, r)| r);
        }
        s = rest.trim_start();
    }
    s.strip_prefix("/bin/sh -c ").unwrap_or(s)
}

/// A recorded non-`RUN` instruction made parseable: `ADD file:x in /` is `ADD file:x /`,
/// `EXPOSE map[22/tcp:{} 80/tcp:{}]` is `EXPOSE 22/tcp 80/tcp`, and a `HEALTHCHECK`
/// recorded as Go's struct print keeps its test as `HEALTHCHECK CMD ...`.
fn tidy(s: &str) -> String {
    let (keyword, rest) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
    let rest = rest.trim();
    let upper = keyword.to_ascii_uppercase();
    match upper.as_str() {
        "ADD" | "COPY" => match rest.rsplit_once(" in ") {
            // `ADD file:<digest> in /`: a root filesystem archive unpacked into an empty
            // image, what `FROM scratch` + `ADD rootfs.tar /` records. It is what ADD is
            // for, and the history does not keep the archive's name.
            Some((src, dst)) if upper == "ADD" && dst.trim() == "/" && src.starts_with("file:") => {
                format!("# {upper} {rest} (a root filesystem archive)")
            }
            Some((src, dst)) => format!("{upper} {} {}", one_line(src.trim()), dst.trim()),
            None => format!("{upper} {}", one_line(rest)),
        },
        "EXPOSE" => {
            let ports = rest
                .trim_start_matches("map[")
                .trim_end_matches(']')
                .split_whitespace()
                .map(|p| p.trim_end_matches(":{}"))
                .collect::<Vec<_>>()
                .join(" ");
            format!("EXPOSE {ports}")
        }
        "HEALTHCHECK" if rest.starts_with("&{") => {
            // &{["CMD-SHELL" "curl -f http://localhost/"] "30s" ...}
            let test = rest
                .trim_start_matches("&{[")
                .split(']')
                .next()
                .unwrap_or_default();
            let words: Vec<&str> = test
                .split('"')
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, w)| w)
                .collect();
            match words.split_first() {
                Some((&"NONE", _)) => "HEALTHCHECK NONE".to_string(),
                Some((_, args)) if !args.is_empty() => {
                    format!("HEALTHCHECK CMD {}", one_line(&args.join(" ")))
                }
                _ => "HEALTHCHECK NONE".to_string(),
            }
        }
        _ => format!("{upper} {}", one_line(rest)),
    }
}

/// `s` on one line: continuations joined, other line breaks made `;` (a history step is
/// one instruction, and the Dockerfile parser ends an instruction at a line break).
fn one_line(s: &str) -> String {
    s.replace("\\\r\n", " ")
        .replace("\\\n", " ")
        .replace("\r\n", "; ")
        .replace('\n', "; ")
}

/// A history step short enough for evidence.
fn clip(s: &str) -> String {
    const MAX: usize = 120;
    let s = one_line(s.trim());
    if s.chars().count() <= MAX {
        return s;
    }
    let mut out: String = s.chars().take(MAX).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_model::HistoryEntry;

    fn step(created_by: &str, empty_layer: bool) -> HistoryEntry {
        HistoryEntry {
            created_by: Some(created_by.to_string()),
            empty_layer,
            ..Default::default()
        }
    }

    #[test]
    fn builders_history_reads_back_as_instructions() {
        let cases = [
            ("/bin/sh -c #(nop) ADD file:4b03b5f551e3 in / ", "# ADD file:4b03b5f551e3 in / (a root filesystem archive)"),
            ("/bin/sh -c #(nop) ADD file:4b03b5f551e3 in /opt ", "ADD file:4b03b5f551e3 /opt"),
            ("/bin/sh -c #(nop) COPY dir:9a0c in /app ", "COPY dir:9a0c /app"),
            ("/bin/sh -c #(nop)  CMD [\"bash\"]", "CMD [\"bash\"]"),
            ("/bin/sh -c apt-get update && apt-get install -y curl", "RUN apt-get update && apt-get install -y curl"),
            ("|2 A=1 B=two /bin/sh -c make install", "RUN make install"),
            ("RUN /bin/sh -c pip install flask # buildkit", "RUN pip install flask"),
            ("RUN |1 V=2 /bin/sh -c echo $V # buildkit", "RUN echo $V"),
            ("COPY . /app # buildkit", "COPY . /app"),
            ("ENV API_TOKEN=abc", "ENV API_TOKEN=abc"),
            ("EXPOSE map[22/tcp:{} 80/tcp:{}]", "EXPOSE 22/tcp 80/tcp"),
            ("/bin/sh -c #(nop)  EXPOSE 8080", "EXPOSE 8080"),
            (
                "HEALTHCHECK &{[\"CMD-SHELL\" \"curl -f http://localhost/\"] \"30s\" \"3s\" \"0s\" \"0s\" '\\x03'}",
                "HEALTHCHECK CMD curl -f http://localhost/",
            ),
            ("HEALTHCHECK &{[\"NONE\"] \"0s\" \"0s\" \"0s\" \"0s\" '\\x00'}", "HEALTHCHECK NONE"),
            ("USER app", "USER app"),
            ("RUN /bin/sh -c set -e;\\\n    make\nmake test # buildkit", "RUN set -e;     make; make test"),
        ];
        for (created_by, want) in cases {
            assert_eq!(
                instruction(created_by).as_deref(),
                Some(want),
                "{created_by}"
            );
        }
        assert_eq!(instruction(""), None);
        assert_eq!(instruction("Imported from -"), None);
    }

    #[test]
    fn history_lines_are_its_steps() {
        let config = ImageConfig {
            history: vec![
                step("", false),
                step("/bin/sh -c #(nop)  ENV A=1", true),
                step("/bin/sh -c apt-get install -y x", false),
            ],
            ..Default::default()
        };
        let (text, steps) = history_dockerfile(&config);
        assert_eq!(
            text,
            "FROM scratch\n# \nENV A=1\nRUN apt-get install -y x\n"
        );
        assert_eq!(steps.len(), 3);
        let doc = crate::dockerfile::parse(HISTORY, &text).expect("parses");
        let doc = serde_json::to_value(doc).unwrap();
        let run = &doc["stages"][0]["instructions"][1];
        assert_eq!(run["cmd"], "run");
        assert_eq!(run["line"], 4);
    }
}
