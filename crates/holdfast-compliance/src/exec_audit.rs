//! `docker exec` commands in the host's audit log, for CIS Docker 5.23 (`--privileged`) and
//! 5.24 (`--user=root`). The daemon forgets an exec session soon after it ends; auditd's
//! `EXECVE` records of the `docker` client keep it for as long as the log is kept.
//!
//! The log is read where `/etc/audit/auditd.conf` puts it (`log_file`, by default
//! `/var/log/audit/audit.log`), with its rotated files (`audit.log.1` ...), newest first,
//! at most [`MAX_AUDIT_BYTES`] in all: of a file past what is left, its last part.

use crate::host_facts::read_or_empty;
use holdfast_source::host;
use serde_json::{json, Value};
use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Most bytes of audit log read, over every file.
pub const MAX_AUDIT_BYTES: u64 = 64 << 20;

/// Most rotated files looked at beside the log itself (auditd's `num_logs` is 5 by default).
const MAX_ROTATED: usize = 9;

/// Most exec commands kept: a log full of them says what it has to say long before.
const MAX_EXECS: usize = 1_000;

/// What the audit log says about `docker exec`.
#[derive(Debug, Default, PartialEq)]
pub struct ExecAudit {
    /// The log files read, newest first; empty when there is no log.
    pub files: Vec<String>,
    /// Every `docker exec` found, oldest first within a file.
    pub execs: Vec<AuditedExec>,
}

/// One `docker exec` command line from an `EXECVE` record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditedExec {
    /// When it ran, RFC 3339, from the record's `msg=audit(SECONDS.MILLIS:SERIAL)`.
    pub time: Option<String>,
    /// The container as the command named it: a name or an id prefix.
    pub container: String,
    /// `--privileged` was given.
    pub privileged: bool,
    /// The `--user` given, if any.
    pub user: Option<String>,
    /// The whole command line.
    pub cmd: String,
}

impl AuditedExec {
    /// The `{time, container, privileged, user, cmd}` object the documents carry.
    pub fn to_json(&self) -> Value {
        json!({
            "time": self.time.clone().unwrap_or_default(),
            "container": self.container,
            "privileged": self.privileged,
            "user": self.user.clone().unwrap_or_default(),
            "cmd": self.cmd,
        })
    }

    /// Whether the command names the container with this id and name (a name, with or
    /// without its leading `/`, or a prefix of the id as the CLI accepts it).
    pub fn names(&self, id: &str, name: &str) -> bool {
        let c = self.container.trim_start_matches('/');
        !c.is_empty() && (c == name.trim_start_matches('/') || id.starts_with(c))
    }
}

/// The log files' paths, sizes and times when last read, and what they said.
type Cached = (Vec<(String, u64, Option<SystemTime>)>, Arc<ExecAudit>);

/// The last reading, reused while no log file changed: `scan container --all` judges
/// each container on its own, and the log can be tens of MiB.
static LAST_READ: Mutex<Option<Cached>> = Mutex::new(None);

/// Reads the host's audit log (under `--host-root` when one is set), or gives the last
/// reading again when none of its files changed since.
pub fn read() -> Arc<ExecAudit> {
    let log = log_file();
    let candidates: Vec<String> = std::iter::once(log.clone())
        .chain((1..=MAX_ROTATED).map(|n| format!("{log}.{n}")))
        .collect();
    let stamp: Vec<(String, u64, Option<SystemTime>)> = candidates
        .iter()
        .filter_map(|p| {
            let m = std::fs::symlink_metadata(host::path(p)).ok()?;
            Some((p.clone(), m.len(), m.modified().ok()))
        })
        .collect();
    let mut last = LAST_READ.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((seen, audit)) = last.as_ref() {
        if *seen == stamp {
            return Arc::clone(audit);
        }
    }
    let audit = Arc::new(read_files(candidates));
    *last = Some((stamp, Arc::clone(&audit)));
    audit
}

/// Reads `candidates` (the log, then its rotations), newest first, within the budget.
fn read_files(candidates: Vec<String>) -> ExecAudit {
    let mut audit = ExecAudit::default();
    let mut budget = MAX_AUDIT_BYTES;
    let mut per_file = Vec::new();
    for path in candidates {
        if budget == 0 {
            break;
        }
        let Some(text) = read_tail(&path, &mut budget) else {
            continue;
        };
        per_file.push(parse(&text));
        audit.files.push(path);
    }
    // Oldest file first, so that the list reads in time order.
    for execs in per_file.into_iter().rev() {
        audit.execs.extend(execs);
    }
    let skip = audit.execs.len().saturating_sub(MAX_EXECS);
    audit.execs.drain(..skip);
    audit
}

/// Where auditd writes its log.
fn log_file() -> String {
    read_or_empty("/etc/audit/auditd.conf")
        .lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == "log_file")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| v.starts_with('/'))
        .unwrap_or_else(|| "/var/log/audit/audit.log".to_string())
}

/// A regular file's text, at most `budget` bytes of it (its end), taken off the budget.
fn read_tail(path: &str, budget: &mut u64) -> Option<String> {
    let p = host::path(path);
    let meta = std::fs::symlink_metadata(&p).ok()?;
    if !meta.is_file() {
        return None;
    }
    let mut f = std::fs::File::open(&p).ok()?;
    let take = meta.len().min(*budget);
    let start = meta.len() - take;
    f.seek(SeekFrom::Start(start)).ok()?;
    let mut bytes = Vec::with_capacity(take as usize);
    f.take(take).read_to_end(&mut bytes).ok()?;
    *budget -= take;
    // A cut line at the start is not a record.
    if start > 0 {
        let first = bytes.iter().position(|b| *b == b'\n').map_or(0, |i| i + 1);
        bytes.drain(..first);
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Every `docker exec` among the `EXECVE` records of `log`.
pub fn parse(log: &str) -> Vec<AuditedExec> {
    log.lines()
        .filter(|l| l.starts_with("type=EXECVE "))
        .filter_map(|l| {
            let args = execve_args(l)?;
            let mut exec = docker_exec(&args)?;
            exec.time = record_time(l);
            Some(exec)
        })
        .collect()
}

/// The arguments of an `EXECVE` record: `a0="docker"` (quoted), `a1=2D2D70726976` (hex,
/// for arguments with spaces or odd bytes), and the `a2[0]=... a2[1]=...` pieces of a
/// long one.
fn execve_args(line: &str) -> Option<Vec<String>> {
    // An enriched log appends interpreted fields after a group separator.
    let line = line.split('\u{1d}').next().unwrap_or(line);
    let mut argc: Option<usize> = None;
    let mut args: Vec<Option<String>> = Vec::new();
    for field in fields(line) {
        let Some((key, raw)) = field.split_once('=') else {
            continue;
        };
        if key == "argc" {
            let n: usize = raw.parse().ok()?;
            // An argument list is bounded by the kernel's; anything larger is not a record.
            if n > 4_096 {
                return None;
            }
            argc = Some(n);
            args = vec![None; n];
            continue;
        }
        let Some(rest) = key.strip_prefix('a') else {
            continue;
        };
        let (index, piece) = match rest.split_once('[') {
            Some((i, p)) => (i, Some(p.trim_end_matches(']'))),
            None => (rest, None),
        };
        let Ok(index) = index.parse::<usize>() else {
            continue; // `a2_len=...`
        };
        let value = decode(raw)?;
        let slot = args.get_mut(index)?;
        match (slot.as_mut(), piece) {
            (Some(s), Some(_)) => s.push_str(&value),
            _ => *slot = Some(value),
        }
    }
    argc?;
    args.into_iter().collect()
}

/// The record's fields, split on spaces outside quotes.
fn fields(line: &str) -> impl Iterator<Item = &str> {
    let mut quoted = false;
    line.split(move |c: char| {
        if c == '"' {
            quoted = !quoted;
        }
        c == ' ' && !quoted
    })
    .filter(|f| !f.is_empty())
}

/// An argument as auditd writes it: quoted text, `(null)`, or hex.
fn decode(raw: &str) -> Option<String> {
    if let Some(q) = raw.strip_prefix('"') {
        return Some(q.strip_suffix('"').unwrap_or(q).to_string());
    }
    if raw == "(null)" {
        return Some(String::new());
    }
    if !raw.len().is_multiple_of(2) || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..raw.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&raw[i..i + 2], 16).ok())
        .collect();
    Some(String::from_utf8_lossy(&bytes?).into_owned())
}

/// `msg=audit(1733500000.123:42)` as RFC 3339.
fn record_time(line: &str) -> Option<String> {
    let start = line.find("msg=audit(")? + "msg=audit(".len();
    let stamp = &line[start..];
    let secs: u64 = stamp.split(['.', ':']).next()?.parse().ok()?;
    Some(humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string())
}

/// Global options of the docker CLI that take a value.
const GLOBAL_VALUED: &[&str] = &[
    "-H",
    "--host",
    "-c",
    "--context",
    "--config",
    "-l",
    "--log-level",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
];

/// `docker exec` options that take a value, long and short.
const EXEC_VALUED: &[&str] = &[
    "--env",
    "--env-file",
    "--user",
    "--workdir",
    "--detach-keys",
];
const EXEC_VALUED_SHORT: &[char] = &['e', 'u', 'w'];

/// A `docker [global options] exec|container exec [options] CONTAINER CMD...` line.
fn docker_exec(args: &[String]) -> Option<AuditedExec> {
    let program = args.first()?;
    if program.rsplit('/').next() != Some("docker") {
        return None;
    }
    let mut i = 1;
    // Global options up to the subcommand.
    while let Some(a) = args.get(i) {
        if !a.starts_with('-') {
            break;
        }
        i += if GLOBAL_VALUED.contains(&a.as_str()) {
            2
        } else {
            1
        };
    }
    match args.get(i).map(String::as_str) {
        Some("exec") => i += 1,
        Some("container") if args.get(i + 1).map(String::as_str) == Some("exec") => i += 2,
        _ => return None,
    }
    let mut exec = AuditedExec {
        time: None,
        container: String::new(),
        privileged: false,
        user: None,
        cmd: args.join(" "),
    };
    while let Some(a) = args.get(i) {
        i += 1;
        if a == "--" {
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let flag = format!("--{name}");
            if EXEC_VALUED.contains(&flag.as_str()) {
                let value = value.or_else(|| {
                    i += 1;
                    args.get(i - 1).cloned()
                });
                if name == "user" {
                    exec.user = value;
                }
            } else if name == "privileged" {
                exec.privileged = value.as_deref().is_none_or(|v| v != "false");
            }
            continue;
        }
        if let Some(short) = a.strip_prefix('-').filter(|s| !s.is_empty()) {
            // A run of short flags (`-itd`); a valued one takes the rest (`-u0`, `-u=0`)
            // or the next argument.
            for (at, c) in short.char_indices() {
                if EXEC_VALUED_SHORT.contains(&c) {
                    let rest = &short[at + c.len_utf8()..];
                    let rest = rest.strip_prefix('=').unwrap_or(rest);
                    let value = if rest.is_empty() {
                        i += 1;
                        args.get(i - 1).cloned()
                    } else {
                        Some(rest.to_string())
                    };
                    if c == 'u' {
                        exec.user = value;
                    }
                    break;
                }
            }
            continue;
        }
        exec.container = a.clone();
        break;
    }
    if exec.container.is_empty() {
        exec.container = args.get(i).cloned()?;
    }
    Some(exec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn execve(stamp: &str, args: &[&str]) -> String {
        let mut line = format!("type=EXECVE msg=audit({stamp}): argc={}", args.len());
        for (i, a) in args.iter().enumerate() {
            if a.contains(' ') {
                let hex: String = a.bytes().map(|b| format!("{b:02X}")).collect();
                line.push_str(&format!(" a{i}={hex}"));
            } else {
                line.push_str(&format!(" a{i}=\"{a}\""));
            }
        }
        line
    }

    #[test]
    fn docker_exec_lines_with_their_flags() {
        let log = [
            "type=SYSCALL msg=audit(1733500000.100:7): arch=c000003e syscall=59 success=yes exe=\"/usr/bin/docker\"".to_string(),
            execve("1733500000.100:7", &["docker", "exec", "--privileged", "web", "sh"]),
            execve("1733500001.000:8", &["/usr/bin/docker", "-H", "unix:///run/d.sock", "container", "exec", "-itu0", "db", "id"]),
            execve("1733500002.000:9", &["docker", "exec", "-e", "A=1", "--user=root:root", "-w", "/", "cache", "sh", "-c", "echo hi"]),
            execve("1733500003.000:10", &["docker", "exec", "-it", "web", "sh"]),
            execve("1733500004.000:11", &["docker", "exec", "--privileged=false", "-u", "1000", "web", "id"]),
            // Not docker exec.
            execve("1733500005.000:12", &["docker", "run", "--privileged", "img"]),
            execve("1733500006.000:13", &["podman", "exec", "--privileged", "web", "sh"]),
            execve("1733500007.000:14", &["/usr/local/bin/dockerx", "exec", "web"]),
        ]
        .join("\n");
        let execs = parse(&log);
        let summary: Vec<(&str, bool, Option<&str>)> = execs
            .iter()
            .map(|e| (e.container.as_str(), e.privileged, e.user.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                ("web", true, None),
                ("db", false, Some("0")),
                ("cache", false, Some("root:root")),
                ("web", false, None),
                ("web", false, Some("1000")),
            ]
        );
        assert_eq!(execs[0].time.as_deref(), Some("2024-12-06T15:46:40Z"));
        assert_eq!(
            execs[2].cmd,
            "docker exec -e A=1 --user=root:root -w / cache sh -c echo hi"
        );
    }

    #[test]
    fn long_arguments_in_pieces_and_enriched_fields() {
        let line = "type=EXECVE msg=audit(1733500000.100:7): argc=4 a0=\"docker\" a1=\"exec\" a2_len=6 a2[0]=\"--pri\" a2[1]=76696C65676564 a3=\"web\"\u{1d}ARCH=x86_64";
        let execs = parse(line);
        assert_eq!(execs.len(), 1);
        assert!(execs[0].privileged);
        assert_eq!(execs[0].container, "web");
    }

    #[test]
    fn broken_records_are_skipped() {
        for line in [
            "type=EXECVE msg=audit(1.0:1): argc=3 a0=\"docker\" a1=\"exec\"",
            "type=EXECVE msg=audit(1.0:1): argc=2 a0=\"docker\" a1=ZZ",
            "type=EXECVE msg=audit(1.0:1): argc=99999999 a0=\"docker\"",
            "type=EXECVE msg=audit(1.0:1): argc=2 a0=\"docker\" a5=\"exec\"",
            "type=EXECVE msg=audit(1.0:1): argc=2 a0=\"docker\" a1=\"exec\"",
            "type=EXECVE",
        ] {
            assert_eq!(parse(line), Vec::new(), "{line}");
        }
    }

    /// Every cut of real-looking records, and bytes that are not text, parse without a
    /// panic (the log is the host's, and a container may write into it through a mount).
    #[test]
    fn cut_and_mangled_records_never_panic() {
        let line = "type=EXECVE msg=audit(1733500000.100:7): argc=6 a0=\"/usr/bin/docker\" \
                    a1=\"container\" a2=\"exec\" a3=\"-u=0\" a4_len=4 a4[0]=\"w\" \
                    a4[1]=6562 a5=\"é\"\u{1d}UID=\"root\"";
        for end in (0..=line.len()).filter(|&i| line.is_char_boundary(i)) {
            let _ = parse(&line[..end]);
            let _ = parse(&line[end..]);
        }
        let mut noise = String::new();
        for i in 0u32..4_000 {
            noise.push(char::from_u32((i * 7919) % 0x2FF).unwrap_or(' '));
            if i % 97 == 0 {
                noise.push_str("\ntype=EXECVE argc=3 a0=\"docker\" a1=\"exec\" a");
            }
        }
        let _ = parse(&noise);
    }

    #[test]
    fn a_container_is_named_by_name_or_id_prefix() {
        let e = |c: &str| AuditedExec {
            time: None,
            container: c.into(),
            privileged: true,
            user: None,
            cmd: String::new(),
        };
        assert!(e("web").names("4f1c2d", "/web"));
        assert!(e("4f1c").names("4f1c2d", "/web"));
        assert!(!e("web2").names("4f1c2d", "/web"));
        assert!(!e("").names("4f1c2d", ""));
    }
}
