//! The holdfast plugin protocol, version 1, and a small SDK for plugins written in Rust.
//!
//! A plugin is any executable. holdfast runs `PLUGIN info` and reads one [`Manifest`] from
//! its stdout. For each target it then runs `PLUGIN scan image` (the words of a
//! [`Command`]), writes one [`Request`] as JSON to its stdin and closes it; the plugin
//! answers with [`Event`]s on stdout, one JSON object a line.
//!
//! ```no_run
//! use holdfast_plugin::{Command, Emitter, Manifest, PluginFinding, Request};
//!
//! fn main() {
//!     let manifest = Manifest::new("hello", "1.0.0", &[Command::ScanImage]);
//!     holdfast_plugin::run(manifest, |request: &Request, out: &mut Emitter| {
//!         if request.rootfs.join("etc/hello").exists() {
//!             out.finding(PluginFinding::new("HELLO-1", "LOW", "a hello file").path("/etc/hello"))?;
//!         }
//!         Ok(())
//!     });
//! }
//! ```
//!
//! The JSON Schemas of the manifest, the request and the events are in the repository's
//! `docs/plugin-*.schema.json`; these types are their reference.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The finding kinds a plugin may report (holdfast's, in kebab-case).
pub const KINDS: [&str; 11] = [
    "vulnerability",
    "secret",
    "misconfiguration",
    "compliance",
    "malware",
    "webshell",
    "backdoor",
    "weak-password",
    "escape",
    "history",
    "suid",
];

/// What a plugin can be asked to do; on the command line, the words of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Command {
    /// A container image: the rootfs is its merged layers.
    #[serde(rename = "scan/image")]
    ScanImage,
    /// A container: the rootfs is its filesystem as it is now.
    #[serde(rename = "scan/container")]
    ScanContainer,
    /// A root filesystem in a directory.
    #[serde(rename = "scan/rootfs")]
    ScanRootfs,
    /// Configuration files (Dockerfiles, manifests) under a directory.
    #[serde(rename = "scan/config")]
    ScanConfig,
}

impl Command {
    /// Every command, in protocol order.
    pub const ALL: [Command; 4] = [
        Command::ScanImage,
        Command::ScanContainer,
        Command::ScanRootfs,
        Command::ScanConfig,
    ];

    /// The protocol name, `scan/image`.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::ScanImage => "scan/image",
            Command::ScanContainer => "scan/container",
            Command::ScanRootfs => "scan/rootfs",
            Command::ScanConfig => "scan/config",
        }
    }

    /// The arguments a plugin is run with: `["scan", "image"]`.
    pub fn words(self) -> [&'static str; 2] {
        let (a, b) = self.as_str().split_once('/').expect("names have one slash");
        [a, b]
    }

    /// The command named by its arguments (`scan image`), as a plugin reads them.
    pub fn from_words(words: &[impl AsRef<str>]) -> Option<Command> {
        match words {
            [a, b] => format!("{}/{}", a.as_ref(), b.as_ref()).parse().ok(),
            _ => None,
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Command {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Command::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                format!("`{s}` is not a plugin command (scan/image, scan/container, scan/rootfs, scan/config)")
            })
    }
}

/// What `PLUGIN info` prints: who the plugin is and what it can do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The protocol version the plugin speaks; holdfast runs plugins of version 1.
    pub protocol: u32,
    /// A unique name: letters, digits, `-`, `_` and `.`.
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub author: String,
    /// The commands it answers.
    pub commands: Vec<Command>,
    /// The parameters it takes.
    #[serde(default)]
    pub params: Vec<ParamSpec>,
    /// The finding kinds it reports (holdfast's kebab-case kinds: `secret`,
    /// `misconfiguration`, `malware`...); the first is the default of its findings.
    #[serde(default)]
    pub kinds: Vec<String>,
}

impl Manifest {
    /// A manifest with the required fields; the rest can be set on the value.
    pub fn new(name: &str, version: &str, commands: &[Command]) -> Self {
        Manifest {
            protocol: PROTOCOL_VERSION,
            name: name.to_string(),
            version: version.to_string(),
            description: String::new(),
            author: String::new(),
            commands: commands.to_vec(),
            params: Vec::new(),
            kinds: Vec::new(),
        }
    }

    /// Why this manifest cannot be used, if it cannot.
    pub fn problem(&self) -> Option<String> {
        if self.protocol != PROTOCOL_VERSION {
            return Some(format!(
                "speaks protocol {}, this holdfast speaks {PROTOCOL_VERSION}",
                self.protocol
            ));
        }
        if !valid_name(&self.name) {
            return Some(format!(
                "name `{}` is not 1-64 letters, digits, `-`, `_` or `.`",
                self.name
            ));
        }
        if self.commands.is_empty() {
            return Some("declares no command".into());
        }
        if let Some(k) = self.kinds.iter().find(|k| !KINDS.contains(&k.as_str())) {
            return Some(format!("kind `{k}` is not one of {}", KINDS.join(", ")));
        }
        let mut seen = std::collections::BTreeSet::new();
        for p in &self.params {
            if !valid_name(&p.name) {
                return Some(format!("parameter name `{}` is not valid", p.name));
            }
            if !seen.insert(&p.name) {
                return Some(format!("parameter `{}` is declared twice", p.name));
            }
            if let Some(d) = &p.default {
                if let Err(e) = p.kind.check(d) {
                    return Some(format!("parameter `{}` default: {e}", p.name));
                }
            }
        }
        None
    }

    /// The declared parameter of that name.
    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// A plugin or parameter name: 1 to 64 of `[A-Za-z0-9._-]`, not starting with `.` or `-`.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.starts_with(['.', '-'])
}

/// One parameter a plugin takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: ParamType,
    /// The value used when none is given (of the parameter's type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    #[serde(default)]
    pub help: String,
}

/// The JSON type of a parameter's value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    #[default]
    String,
    Integer,
    Number,
    Boolean,
}

impl ParamType {
    /// Turns a value given as text (`serviceName=ssh`) into the JSON value of this type.
    pub fn parse(self, text: &str) -> Result<serde_json::Value, String> {
        use serde_json::Value;
        match self {
            ParamType::String => Ok(Value::String(text.to_string())),
            ParamType::Integer => text
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("`{text}` is not an integer")),
            ParamType::Number => text
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| format!("`{text}` is not a number")),
            ParamType::Boolean => match text.trim() {
                "true" | "1" | "yes" | "on" => Ok(Value::Bool(true)),
                "false" | "0" | "no" | "off" => Ok(Value::Bool(false)),
                _ => Err(format!("`{text}` is not true or false")),
            },
        }
    }

    /// Whether a JSON value has this type.
    pub fn check(self, value: &serde_json::Value) -> Result<(), String> {
        let ok = match self {
            ParamType::String => value.is_string(),
            ParamType::Integer => value.is_i64() || value.is_u64(),
            ParamType::Number => value.is_number(),
            ParamType::Boolean => value.is_boolean(),
        };
        if ok {
            Ok(())
        } else {
            Err(format!("{value} is not of type {self:?}").to_lowercase())
        }
    }
}

/// What holdfast writes to a plugin's stdin for one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub protocol: u32,
    pub command: Command,
    pub target: RequestTarget,
    /// The target's root filesystem, read-only, as an absolute path.
    pub rootfs: PathBuf,
    /// The image config (`config` of the image's config JSON: Env, Cmd, ExposedPorts, User...),
    /// `null` when the target has none.
    #[serde(default)]
    pub config: serde_json::Value,
    /// The packages holdfast found, in its JSON result's shape.
    #[serde(default)]
    pub packages: Vec<serde_json::Value>,
    /// Every declared parameter: the value given, or its default.
    #[serde(default)]
    pub params: BTreeMap<String, serde_json::Value>,
    /// When the plugin will be stopped (RFC 3339).
    pub deadline: String,
}

/// The target a request is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestTarget {
    /// As the user named it.
    pub name: String,
    /// `image`, `container`, `rootfs` or `config`.
    pub kind: String,
    /// The image id (its config digest), when the target is or runs an image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
}

impl Request {
    /// A parameter's value as text (strings as they are, other values as JSON).
    pub fn param(&self, name: &str) -> Option<String> {
        match self.params.get(name)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            v => Some(v.to_string()),
        }
    }

    /// The image config's exposed ports (`22/tcp`...), if it has any.
    pub fn exposed_ports(&self) -> Vec<String> {
        self.config
            .get("ExposedPorts")
            .and_then(|p| p.as_object())
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// One line a plugin writes to stdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Event {
    /// Something wrong with the target.
    Finding { finding: PluginFinding },
    /// A message for holdfast's log.
    Log { level: LogLevel, message: String },
    /// How far the plugin has come.
    Progress {
        done: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        total: Option<u64>,
    },
}

/// The level of a [`Event::Log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

/// A finding as a plugin reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginFinding {
    /// The rule's id, stable across runs (`SSH-PORT-EXPOSED`).
    pub id: String,
    /// `UNKNOWN`, `LOW`, `MEDIUM`, `HIGH` or `CRITICAL`.
    pub severity: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The file it is about, as a path inside the image (`/etc/shadow`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The 1-based line in that file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    /// One of holdfast's finding kinds; the manifest's first kind when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl PluginFinding {
    /// A finding with the required fields.
    pub fn new(id: &str, severity: &str, title: &str) -> Self {
        PluginFinding {
            id: id.to_string(),
            severity: severity.to_string(),
            title: title.to_string(),
            description: String::new(),
            path: None,
            line: None,
            remediation: None,
            kind: None,
        }
    }

    /// Sets the path inside the image.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// Sets the remediation.
    pub fn remediation(mut self, text: impl Into<String>) -> Self {
        self.remediation = Some(text.into());
        self
    }

    /// Sets the line.
    pub fn line(mut self, line: u32) -> Self {
        self.line = Some(line);
        self
    }

    /// Sets the kind.
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }
}

/// Writes events to stdout, one JSON line each.
pub struct Emitter {
    out: Box<dyn Write>,
}

impl Emitter {
    /// An emitter over any writer (the SDK's `run` uses stdout).
    pub fn new(out: impl Write + 'static) -> Self {
        Emitter { out: Box::new(out) }
    }

    /// Writes one event, flushed at once: holdfast reads events as they come, and what a
    /// plugin stopped at its deadline had written still counts.
    pub fn event(&mut self, event: &Event) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, event)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    /// Reports a finding.
    pub fn finding(&mut self, finding: PluginFinding) -> io::Result<()> {
        self.event(&Event::Finding { finding })
    }

    /// Writes a log line.
    pub fn log(&mut self, level: LogLevel, message: impl Into<String>) -> io::Result<()> {
        self.event(&Event::Log {
            level,
            message: message.into(),
        })
    }

    /// Reports progress.
    pub fn progress(&mut self, done: u64, total: Option<u64>) -> io::Result<()> {
        self.event(&Event::Progress { done, total })
    }

    /// Flushes what was written.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The whole life of a Rust plugin: answers `info` with the manifest, and a scan command
/// by reading the request from stdin and calling `scan` with it. Exits the process: 0 when
/// `scan` succeeded, 1 with the error on stderr when it did not, 2 on a bad command line.
pub fn run<F>(manifest: Manifest, scan: F) -> !
where
    F: FnOnce(&Request, &mut Emitter) -> io::Result<()>,
{
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match dispatch(&manifest, &args, io::stdin().lock(), scan) {
        Ok(()) => 0,
        Err(Failure::Usage(e)) => {
            eprintln!("{}: {e}", manifest.name);
            2
        }
        Err(Failure::Scan(e)) => {
            eprintln!("{}: {e}", manifest.name);
            1
        }
    };
    std::process::exit(code)
}

enum Failure {
    Usage(String),
    Scan(io::Error),
}

fn dispatch<F>(
    manifest: &Manifest,
    args: &[String],
    stdin: impl Read,
    scan: F,
) -> Result<(), Failure>
where
    F: FnOnce(&Request, &mut Emitter) -> io::Result<()>,
{
    let stdout = BufWriter::new(io::stdout());
    if args.len() == 1 && args[0] == "info" {
        let mut out = stdout;
        serde_json::to_writer(&mut out, manifest).map_err(|e| Failure::Scan(e.into()))?;
        return out
            .write_all(b"\n")
            .and_then(|()| out.flush())
            .map_err(Failure::Scan);
    }
    let Some(command) = Command::from_words(args) else {
        return Err(Failure::Usage(format!(
            "usage: info | scan image|container|rootfs|config (got `{}`)",
            args.join(" ")
        )));
    };
    if !manifest.commands.contains(&command) {
        return Err(Failure::Usage(format!("does not answer {command}")));
    }
    let request = read_request(stdin).map_err(Failure::Scan)?;
    let mut out = Emitter::new(stdout);
    scan(&request, &mut out).map_err(Failure::Scan)?;
    out.flush().map_err(Failure::Scan)
}

/// Reads and parses the request a plugin gets on stdin.
pub fn read_request(mut stdin: impl Read) -> io::Result<Request> {
    let mut text = Vec::new();
    stdin.read_to_end(&mut text)?;
    serde_json::from_slice(&text)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("request: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_words_round_trip() {
        for c in Command::ALL {
            assert_eq!(Command::from_words(&c.words()), Some(c));
        }
        assert_eq!(Command::from_words(&["scan"]), None);
        assert_eq!(Command::from_words(&["scan", "disk"]), None);
    }

    #[test]
    fn manifest_problems() {
        let mut m = Manifest::new("ok-name", "1", &[Command::ScanImage]);
        assert_eq!(m.problem(), None);
        m.protocol = 2;
        assert!(m.problem().unwrap().contains("protocol 2"));
        m.protocol = 1;
        m.name = "../evil".into();
        assert!(m.problem().unwrap().contains("not 1-64"));
        m.name = "ok".into();
        m.params.push(ParamSpec {
            name: "port".into(),
            kind: ParamType::Integer,
            default: Some(serde_json::json!("x")),
            help: String::new(),
        });
        assert!(m.problem().unwrap().contains("default"));
        m.params.clear();
        m.kinds = vec!["secret".into(), "secrets".into()];
        assert!(m.problem().unwrap().contains("kind `secrets`"));
    }

    #[test]
    fn events_parse_strictly() {
        let e: Event = serde_json::from_str(
            r#"{"type":"finding","finding":{"id":"A","severity":"HIGH","title":"t","path":"/x","line":3}}"#,
        )
        .unwrap();
        assert!(matches!(e, Event::Finding { ref finding } if finding.line == Some(3)));
        assert!(
            serde_json::from_str::<Event>(r#"{"type":"finding","finding":{"id":"A"}}"#).is_err()
        );
        assert!(
            serde_json::from_str::<Event>(r#"{"type":"progress","done":1,"extra":2}"#).is_err()
        );
        assert!(
            serde_json::from_str::<Event>(r#"{"type":"log","level":"loud","message":"m"}"#)
                .is_err()
        );
    }

    #[test]
    fn params_parse_by_type() {
        assert_eq!(
            ParamType::Integer.parse("22").unwrap(),
            serde_json::json!(22)
        );
        assert!(ParamType::Integer.parse("ssh").is_err());
        assert_eq!(
            ParamType::Boolean.parse("yes").unwrap(),
            serde_json::json!(true)
        );
        assert_eq!(
            ParamType::String.parse("ssh").unwrap(),
            serde_json::json!("ssh")
        );
    }
}
