//! Dockerfiles parsed into the `dockerfile` input document of `docs/checks.md`.
//!
//! Written by hand: the Dockerfile crates on crates.io either predate heredocs and parser
//! directives or pull in a grammar engine for what is a line-oriented format, and the
//! checks need line numbers and the raw text of each instruction, which they drop.

use serde::Serialize;
use std::collections::BTreeMap;

/// A parsed Dockerfile: the `dockerfile` input document.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Dockerfile {
    /// Always `dockerfile`.
    pub kind: &'static str,
    /// The file, as the scan names it.
    pub path: String,
    /// `ARG`s before the first `FROM`.
    pub args: Vec<Pair>,
    /// Build stages, in order; the last one is the image that is built.
    pub stages: Vec<Stage>,
}

/// One `FROM` and the instructions up to the next.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stage {
    /// Position among the stages, from 0.
    pub index: usize,
    /// The `AS` name, if any.
    pub name: Option<String>,
    /// What the stage starts from.
    pub from: From,
    /// The stage's instructions after `FROM`.
    pub instructions: Vec<Instruction>,
}

/// A stage's base.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct From {
    /// The reference as written.
    pub raw: String,
    /// The reference's name without tag and digest, variables expanded where possible.
    pub image: String,
    /// The tag, if the reference has one.
    pub tag: Option<String>,
    /// The digest (`sha256:...`), if the reference has one.
    pub digest: Option<String>,
    /// `--platform`, if given.
    pub platform: Option<String>,
    /// The `FROM` line.
    pub line: u32,
    /// True when the reference names an earlier stage.
    pub stage_ref: bool,
    /// The index of the earlier stage it names, if it names one.
    pub stage_index: Option<usize>,
    /// True for `FROM scratch`.
    pub scratch: bool,
}

/// One instruction.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Instruction {
    /// The instruction in lower case: `run`, `copy`, ...
    pub cmd: String,
    /// First line of the instruction.
    pub line: u32,
    /// Last line of the instruction, continuation lines and heredocs included.
    pub end_line: u32,
    /// `--name=value` flags; a bare `--name` maps to `""`.
    pub flags: BTreeMap<String, String>,
    /// The text after the instruction and its flags.
    pub value: String,
    /// The exec form's array, else `value` split on white space.
    pub args: Vec<String>,
    /// True for the JSON (exec) form.
    pub json: bool,
    /// `key`/`value` pairs of `ENV`, `ARG` and `LABEL`.
    pub pairs: Vec<Pair>,
}

/// A `key=value` pair of `ENV`, `ARG` or `LABEL`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Pair {
    /// The name.
    pub key: String,
    /// The value, unquoted; `null` for an `ARG` without a default.
    pub value: Option<String>,
    /// The instruction's line.
    pub line: u32,
}

/// Largest Dockerfile read, in bytes: far beyond any real one.
pub const MAX_DOCKERFILE_SIZE: usize = 4 << 20;

/// Why a Dockerfile could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DockerfileError {
    /// An instruction came before the first `FROM` that may not.
    #[error("line {line}: `{cmd}` before the first FROM")]
    BeforeFrom {
        /// The instruction's line.
        line: u32,
        /// The instruction.
        cmd: String,
    },
    /// A heredoc was never closed.
    #[error("line {line}: heredoc `{delimiter}` is never closed")]
    OpenHeredoc {
        /// The instruction's line.
        line: u32,
        /// The delimiter that was looked for.
        delimiter: String,
    },
    /// The file has no `FROM`.
    #[error("no FROM instruction")]
    NoFrom,
    /// The file is too large to be a Dockerfile.
    #[error("{size} bytes is more than a Dockerfile may have ({MAX_DOCKERFILE_SIZE})")]
    TooLarge {
        /// The file's size.
        size: usize,
    },
}

/// A logical line: an instruction's text with its continuations joined.
struct Logical {
    line: u32,
    end_line: u32,
    text: String,
}

/// Parses a Dockerfile's text; `path` is what the document calls it.
pub fn parse(path: &str, text: &str) -> Result<Dockerfile, DockerfileError> {
    if text.len() > MAX_DOCKERFILE_SIZE {
        return Err(DockerfileError::TooLarge { size: text.len() });
    }
    let lines: Vec<&str> = text.lines().collect();
    let escape = escape_directive(&lines);
    let logical = logical_lines(&lines, escape)?;
    let mut doc = Dockerfile {
        kind: "dockerfile",
        path: path.to_string(),
        args: Vec::new(),
        stages: Vec::new(),
    };
    for l in logical {
        let (word, rest) = split_word(&l.text);
        let cmd = word.to_ascii_lowercase();
        let (flags, rest) = take_flags(rest);
        let mut ins = Instruction {
            cmd: cmd.clone(),
            line: l.line,
            end_line: l.end_line,
            flags,
            value: String::new(),
            args: Vec::new(),
            json: false,
            pairs: Vec::new(),
        };
        fill_value(&mut ins, rest);
        if cmd == "from" {
            let stage = new_stage(&ins, &doc);
            doc.stages.push(stage);
            continue;
        }
        match doc.stages.last_mut() {
            Some(stage) => stage.instructions.push(ins),
            None if cmd == "arg" => doc.args.extend(ins.pairs),
            None => {
                return Err(DockerfileError::BeforeFrom {
                    line: l.line,
                    cmd: word.to_string(),
                })
            }
        }
    }
    if doc.stages.is_empty() {
        return Err(DockerfileError::NoFrom);
    }
    Ok(doc)
}

/// The `# escape=` parser directive, if the file starts with one; `\` otherwise.
fn escape_directive(lines: &[&str]) -> char {
    for line in lines {
        let Some(comment) = line.trim().strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = comment.split_once('=') else {
            break;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "escape" => {
                if value.trim() == "`" {
                    return '`';
                }
            }
            "syntax" | "check" => {}
            _ => break,
        }
    }
    '\\'
}

/// Joins continuation lines, drops comments and blank lines, and appends heredoc bodies.
fn logical_lines(lines: &[&str], escape: char) -> Result<Vec<Logical>, DockerfileError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let first = lines[i].trim();
        if first.is_empty() || first.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        let mut text = String::new();
        loop {
            let raw = lines[i].trim_end();
            let trimmed = raw.trim_start();
            i += 1;
            if !text.is_empty() && (trimmed.starts_with('#') || trimmed.is_empty()) {
                // Comments and blank lines inside a continuation are dropped.
                if i >= lines.len() {
                    break;
                }
                continue;
            }
            match trimmed.strip_suffix(escape) {
                Some(head) if i < lines.len() => {
                    push_part(&mut text, head);
                }
                Some(head) => {
                    push_part(&mut text, head);
                    break;
                }
                None => {
                    push_part(&mut text, trimmed);
                    break;
                }
            }
        }
        let mut end = i;
        for delimiter in heredoc_delimiters(&text) {
            let mut body = Vec::new();
            let mut closed = false;
            while i < lines.len() {
                let line = lines[i];
                i += 1;
                if line.trim() == delimiter {
                    closed = true;
                    break;
                }
                body.push(line);
            }
            if !closed {
                return Err(DockerfileError::OpenHeredoc {
                    line: start as u32 + 1,
                    delimiter,
                });
            }
            text.push('\n');
            text.push_str(&body.join("\n"));
            end = i;
        }
        out.push(Logical {
            line: start as u32 + 1,
            end_line: end as u32,
            text,
        });
    }
    Ok(out)
}

fn push_part(text: &mut String, part: &str) {
    let part = part.trim();
    if part.is_empty() {
        return;
    }
    if !text.is_empty() {
        text.push(' ');
    }
    text.push_str(part);
}

/// The delimiters of `<<EOF`, `<<-EOF`, `<<"EOF"` and `<<'EOF'` heredocs, in order.
fn heredoc_delimiters(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find("<<") {
        let after = &rest[pos + 2..];
        let after = after.strip_prefix('-').unwrap_or(after);
        let (quoted, body) = match after.chars().next() {
            Some(q @ ('"' | '\'')) => (Some(q), &after[1..]),
            _ => (None, after),
        };
        let word: String = body
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let closes = quoted.is_none_or(|q| body[word.len()..].starts_with(q));
        if !word.is_empty() && closes && !word.chars().all(|c| c.is_ascii_digit()) {
            out.push(word.clone());
        }
        rest = &body[word.len()..];
    }
    out
}

fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(end) => (&text[..end], text[end..].trim_start()),
        None => (text, ""),
    }
}

/// Leading `--name[=value]` flags and the text after them.
fn take_flags(mut rest: &str) -> (BTreeMap<String, String>, &str) {
    let mut flags = BTreeMap::new();
    while let Some(flag) = rest.strip_prefix("--") {
        let (word, after) = split_word(flag);
        if word.is_empty() {
            break;
        }
        let (name, value) = word.split_once('=').unwrap_or((word, ""));
        // A repeated flag (`--mount` twice) keeps every value, one per line.
        flags
            .entry(name.to_string())
            .and_modify(|v: &mut String| {
                v.push('\n');
                v.push_str(&unquote(value));
            })
            .or_insert_with(|| unquote(value));
        rest = after;
    }
    (flags, rest)
}

fn fill_value(ins: &mut Instruction, rest: &str) {
    let rest = rest.trim();
    let first_line = rest.lines().next().unwrap_or("");
    if first_line.starts_with('[') {
        if let Ok(array) = serde_json::from_str::<Vec<String>>(first_line) {
            ins.value = array.join(" ");
            if let Some((_, heredoc)) = rest.split_once('\n') {
                ins.value.push('\n');
                ins.value.push_str(heredoc);
            }
            ins.args = array;
            ins.json = true;
            return;
        }
    }
    ins.value = rest.to_string();
    ins.args = rest.split_whitespace().map(str::to_string).collect();
    if matches!(ins.cmd.as_str(), "env" | "arg" | "label") {
        ins.pairs = pairs(&ins.cmd, rest, ins.line);
    }
}

/// `K=V K2="v 2"` pairs, or the old `ENV KEY value with spaces` form.
fn pairs(cmd: &str, rest: &str, line: u32) -> Vec<Pair> {
    let words = shell_words(rest);
    let legacy = cmd == "env" && words.first().is_some_and(|w| !w.contains('='));
    if legacy {
        let (key, value) = split_word(rest);
        return vec![Pair {
            key: key.to_string(),
            value: Some(unquote(value)),
            line,
        }];
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => Pair {
                key: k.to_string(),
                value: Some(v.to_string()),
                line,
            },
            None => Pair {
                key: w,
                value: None,
                line,
            },
        })
        .collect()
}

/// Splits on white space outside quotes, removing the quotes and `\` escapes.
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => word.push(c),
            (_, '\\') => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
                in_word = true;
            }
            (_, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

fn unquote(value: &str) -> String {
    let v = value.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner.to_string();
        }
    }
    v.to_string()
}

fn new_stage(ins: &Instruction, doc: &Dockerfile) -> Stage {
    let words = &ins.args;
    let raw = words.first().cloned().unwrap_or_default();
    let name = match words.get(1) {
        Some(kw) if kw.eq_ignore_ascii_case("as") => words.get(2).cloned(),
        _ => None,
    };
    let expanded = expand(&raw, &doc.args);
    let stage_index = doc.stages.iter().rposition(|s| {
        s.name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(&expanded))
    });
    let (image, tag, digest) = split_reference(&expanded);
    Stage {
        index: doc.stages.len(),
        name,
        from: From {
            scratch: expanded.eq_ignore_ascii_case("scratch"),
            raw,
            image,
            tag,
            digest,
            platform: ins.flags.get("platform").cloned(),
            line: ins.line,
            stage_ref: stage_index.is_some(),
            stage_index,
        },
        instructions: Vec::new(),
    }
}

/// `$VAR`, `${VAR}` and `${VAR:-default}` from the global `ARG` defaults; an unknown
/// variable is left as written.
fn expand(text: &str, args: &[Pair]) -> String {
    let lookup = |name: &str| {
        args.iter()
            .rev()
            .find(|p| p.key == name)
            .and_then(|p| p.value.clone())
    };
    let mut out = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(body) = after.strip_prefix('{') {
            let Some(close) = body.find('}') else {
                out.push_str(&rest[pos..]);
                return out;
            };
            let inner = &body[..close];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            match lookup(name).or(default.map(str::to_string)) {
                Some(v) => out.push_str(&v),
                None => out.push_str(&rest[pos..pos + 2 + close + 1]),
            }
            rest = &body[close + 1..];
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            match lookup(&name) {
                Some(v) if !name.is_empty() => out.push_str(&v),
                _ => out.push_str(&rest[pos..pos + 1 + name.len()]),
            }
            rest = &after[name.len()..];
        }
    }
    out.push_str(rest);
    out
}

/// `name[:tag][@digest]`; a `:` before the last `/` is a registry's port.
fn split_reference(reference: &str) -> (String, Option<String>, Option<String>) {
    let (rest, digest) = match reference.split_once('@') {
        Some((r, d)) => (r, Some(d.to_string())),
        None => (reference, None),
    };
    let slash = rest.rfind('/').map_or(0, |p| p + 1);
    match rest[slash..].rfind(':') {
        Some(colon) => (
            rest[..slash + colon].to_string(),
            Some(rest[slash + colon + 1..].to_string()),
            digest,
        ),
        None => (rest.to_string(), None, digest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_flags_and_continuations() {
        let text = "# syntax=docker/dockerfile:1\nARG BASE=debian:12\nFROM ${BASE} AS build\n\
            RUN --mount=type=cache,target=/var/cache/apt apt-get update && \\\n  # a comment\n  apt-get install -y curl\n\
            FROM --platform=linux/amd64 build\nCOPY --from=build --chown=app /out /app\n\
            ENV A=1 B=\"two words\"\nENV LEGACY some value\nCMD [\"/app\", \"--serve\"]\n";
        let doc = parse("Dockerfile", text).unwrap();
        assert_eq!(doc.args[0].value.as_deref(), Some("debian:12"));
        let build = &doc.stages[0];
        assert_eq!(build.name.as_deref(), Some("build"));
        assert_eq!(build.from.image, "debian");
        assert_eq!(build.from.tag.as_deref(), Some("12"));
        assert_eq!(build.from.raw, "${BASE}");
        let run = &build.instructions[0];
        assert_eq!((run.line, run.end_line), (4, 6));
        assert_eq!(run.flags["mount"], "type=cache,target=/var/cache/apt");
        assert_eq!(
            run.value, "apt-get update && apt-get install -y curl",
            "comment lines inside a continuation are dropped"
        );
        let last = &doc.stages[1];
        assert!(last.from.stage_ref);
        assert_eq!(last.from.stage_index, Some(0));
        assert_eq!(last.from.platform.as_deref(), Some("linux/amd64"));
        let copy = &last.instructions[0];
        assert_eq!(copy.flags["from"], "build");
        assert_eq!(copy.args, ["/out", "/app"]);
        let env = &last.instructions[1].pairs;
        assert_eq!(env[1].key, "B");
        assert_eq!(env[1].value.as_deref(), Some("two words"));
        assert_eq!(
            last.instructions[2].pairs[0].value.as_deref(),
            Some("some value")
        );
        let cmd = &last.instructions[3];
        assert!(cmd.json);
        assert_eq!(cmd.args, ["/app", "--serve"]);
    }

    #[test]
    fn heredocs_and_escape_directive() {
        let text = "# escape=`\nFROM alpine:3.20@sha256:abc\nRUN <<EOF\napk add curl\nEOF\nRUN echo a `\n  b\nRUN --mount=type=cache,target=/a --mount=type=cache,target=/b true\n";
        let doc = parse("Dockerfile", text).unwrap();
        let stage = &doc.stages[0];
        assert_eq!(stage.from.digest.as_deref(), Some("sha256:abc"));
        assert_eq!(stage.from.tag.as_deref(), Some("3.20"));
        assert_eq!(stage.instructions[0].value, "<<EOF\napk add curl");
        assert_eq!(stage.instructions[0].end_line, 5);
        assert_eq!(stage.instructions[1].value, "echo a b");
        assert_eq!(
            stage.instructions[2].flags["mount"],
            "type=cache,target=/a\ntype=cache,target=/b"
        );
    }

    #[test]
    fn registry_port_is_not_a_tag() {
        let (image, tag, _) = split_reference("registry:5000/team/app");
        assert_eq!((image.as_str(), tag), ("registry:5000/team/app", None));
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert_eq!(
            parse("D", "RUN x\n"),
            Err(DockerfileError::BeforeFrom {
                line: 1,
                cmd: "RUN".into()
            })
        );
        assert_eq!(parse("D", "# nothing\n"), Err(DockerfileError::NoFrom));
        assert!(matches!(
            parse("D", "FROM a\nRUN <<EOF\nx\n"),
            Err(DockerfileError::OpenHeredoc { line: 2, .. })
        ));
    }
}
