//! Script checks, as NeuVector allows them: a shell script from the user's check file,
//! given the input document as JSON on stdin, with a time limit and a cap on what it may
//! print. Exit status 0 is PASS, 1 WARN, 2 INFO; anything else, a signal or the time limit
//! is ERROR. What it printed is the evidence.

use crate::catalog::InputKind;
use crate::engine::{Hit, Outcome};
use holdfast_model::CheckStatus;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The time limit of a script that names none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Most bytes of a script's output kept; the rest is read and dropped.
pub const MAX_OUTPUT: usize = 64 << 10;

/// Most lines of output turned into evidence.
const MAX_EVIDENCE_LINES: usize = 20;

/// A script and how it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptCheck {
    /// The script, run by `/bin/sh -c`.
    pub text: String,
    /// Its time limit.
    pub timeout: Duration,
    /// Whether it may reach the network; without, it runs under `unshare --net`.
    pub network: bool,
}

/// `10s`, `2m`, `500ms`: the duration syntax of the CLI's other time flags.
pub fn parse_timeout(text: &str) -> Option<Duration> {
    humantime::parse_duration(text.trim()).ok()
}

impl ScriptCheck {
    /// Runs the script on one input document.
    pub fn run(&self, kind: InputKind, input: &str) -> Outcome {
        match self.execute(kind, input) {
            Ok((code, output)) => {
                let hits = evidence(&output);
                match code {
                    Some(0) => outcome(CheckStatus::Pass, Vec::new(), Vec::new()),
                    Some(1) => outcome(
                        CheckStatus::Warn,
                        or_default(hits, "the script exited 1"),
                        Vec::new(),
                    ),
                    Some(2) => outcome(
                        CheckStatus::Info,
                        Vec::new(),
                        or_default(hits, "the script exited 2"),
                    ),
                    Some(c) => error(format!("the script exited {c}: {}", first_line(&output))),
                    None => error(format!(
                        "the script was killed by a signal: {}",
                        first_line(&output)
                    )),
                }
            }
            Err(message) => error(message),
        }
    }

    fn execute(&self, kind: InputKind, input: &str) -> Result<(Option<i32>, String), String> {
        let mut cmd = if self.network {
            let mut c = Command::new("/bin/sh");
            c.arg("-c").arg(&self.text);
            c
        } else {
            let mut c = Command::new("unshare");
            c.args(["--net", "--", "/bin/sh", "-c"]).arg(&self.text);
            c
        };
        cmd.env("HOLDFAST_INPUT_KIND", kind.as_str())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so the time limit ends whatever it started.
            .process_group(0);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start the script: {e}"))?;
        let pid = child.id() as i32;
        let mut stdin = child.stdin.take().expect("piped");
        let input = input.to_string();
        // A script that never reads stdin must not block the writer.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        let mut stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let reader = std::thread::spawn(move || capped(&mut stdout));
        let err_reader = std::thread::spawn(move || capped(&mut stderr));
        let until = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) if Instant::now() >= until => break None,
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(format!("waiting for the script: {e}")),
            }
        };
        let Some(status) = status else {
            // SAFETY: kill(2) on the process group this function started.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            let _ = child.wait();
            return Err(format!(
                "the script ran past its time limit of {:?}",
                self.timeout
            ));
        };
        let _ = writer.join();
        let mut out = reader.join().unwrap_or_default();
        let err = err_reader.join().unwrap_or_default();
        if out.trim().is_empty() {
            out = err;
        }
        Ok((status.code(), out))
    }
}

/// Reads everything, keeping the first [`MAX_OUTPUT`] bytes.
fn capped(r: &mut dyn Read) -> String {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = r.read(&mut buf) {
        if n == 0 {
            break;
        }
        let room = MAX_OUTPUT.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

fn evidence(output: &str) -> Vec<Hit> {
    output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(MAX_EVIDENCE_LINES)
        .map(|l| Hit {
            message: l.to_string(),
            line: None,
            container: None,
        })
        .collect()
}

fn or_default(hits: Vec<Hit>, message: &str) -> Vec<Hit> {
    if hits.is_empty() {
        evidence(message)
    } else {
        hits
    }
}

fn first_line(output: &str) -> String {
    output
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

fn outcome(status: CheckStatus, deny: Vec<Hit>, warn: Vec<Hit>) -> Outcome {
    Outcome { status, deny, warn }
}

fn error(message: String) -> Outcome {
    Outcome::error(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(text: &str, timeout_ms: u64) -> ScriptCheck {
        ScriptCheck {
            text: text.into(),
            timeout: Duration::from_millis(timeout_ms),
            network: true,
        }
    }

    #[test]
    fn exit_codes_map_to_statuses_and_output_is_evidence() {
        let input = r#"{"kind":"docker-host","daemon":{"flags":{"icc":["true"]}}}"#;
        let check = script(
            "grep -q '\"icc\":\\[\"true\"\\]' && { echo icc is on; exit 1; }; exit 0",
            5000,
        );
        let out = check.run(InputKind::DockerHost, input);
        assert_eq!(out.status, CheckStatus::Warn);
        assert_eq!(out.deny[0].message, "icc is on");
        let out = check.run(InputKind::DockerHost, "{}");
        assert_eq!(out.status, CheckStatus::Pass);
        let info =
            script("echo \"$HOLDFAST_INPUT_KIND\"; exit 2", 5000).run(InputKind::DockerHost, "{}");
        assert_eq!(
            (info.status, info.warn[0].message.as_str()),
            (CheckStatus::Info, "docker-host")
        );
        let odd = script("echo broken >&2; exit 7", 5000).run(InputKind::DockerHost, "{}");
        assert_eq!(odd.status, CheckStatus::Error);
        assert_eq!(odd.deny[0].message, "the script exited 7: broken");
    }

    #[test]
    fn a_script_past_its_limit_is_stopped_with_its_children() {
        let started = Instant::now();
        let out = script("sleep 30 & sleep 30; exit 0", 300).run(InputKind::DockerHost, "{}");
        assert_eq!(out.status, CheckStatus::Error);
        assert!(out.deny[0].message.contains("time limit"), "{:?}", out.deny);
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn output_is_capped() {
        let out = script("yes 0123456789 | head -c 10000000; exit 1", 20_000)
            .run(InputKind::DockerHost, "{}");
        assert_eq!(out.status, CheckStatus::Warn);
        assert_eq!(out.deny.len(), MAX_EVIDENCE_LINES);
    }

    #[test]
    fn timeouts_parse() {
        assert_eq!(parse_timeout("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_timeout("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_timeout("soon"), None);
    }
}
