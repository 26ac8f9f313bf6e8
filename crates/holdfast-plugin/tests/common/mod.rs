//! Shared by the integration tests of the SDK and of the example plugins (the Rust example
//! includes this file by path): the protocol's JSON Schemas, and running a plugin as a
//! child process the way holdfast does.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use holdfast_plugin::{Event, Manifest};
use serde_json::Value;

/// The repository's root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("docs/plugin-event.schema.json").is_file())
        .expect("the workspace has docs/plugin-event.schema.json")
        .to_path_buf()
}

/// One of the protocol's schemas, by its short name: `manifest`, `request` or `event`.
pub fn schema(which: &str) -> Value {
    let path = workspace().join(format!("docs/plugin-{which}.schema.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A validator of one of the schemas, formats (`date-time`) checked.
pub fn validator(which: &str) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema(which))
        .unwrap_or_else(|e| panic!("plugin-{which}.schema.json: {e}"))
}

/// Why `instance` does not validate against the schema, every error with its place.
pub fn schema_errors(which: &str, instance: &Value) -> Vec<String> {
    validator(which)
        .iter_errors(instance)
        .map(|e| format!("{e} at `{}`", e.instance_path()))
        .collect()
}

/// Panics, listing the errors, unless `instance` validates against the schema.
pub fn assert_valid(which: &str, instance: &Value, what: &str) {
    let errors = schema_errors(which, instance);
    assert!(
        errors.is_empty(),
        "{what} does not validate against plugin-{which}.schema.json:\n{}\n{instance}",
        errors.join("\n")
    );
}

/// What a plugin run did.
#[derive(Debug)]
pub struct Output {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `plugin` with `args`, `stdin` written to it and closed, as holdfast does.
pub fn run(plugin: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(plugin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", plugin.display()));
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_string();
    // A plugin that answers without reading its stdin closes the pipe: not an error here.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Output {
        status: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("a plugin writes UTF-8"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `PLUGIN info`: its manifest, checked against the schema and by `Manifest::problem`.
pub fn info(plugin: &Path) -> Manifest {
    let out = run(plugin, &["info"], "");
    assert_eq!(out.status, Some(0), "{} info: {out:?}", plugin.display());
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "info prints one line: {out:?}");
    let value: Value = serde_json::from_str(lines[0]).expect("info prints JSON");
    assert_valid("manifest", &value, "the manifest");
    let manifest: Manifest = serde_json::from_value(value).expect("info prints a manifest");
    assert_eq!(manifest.problem(), None, "{manifest:?}");
    manifest
}

/// Runs a scan and returns its events: each line checked against the event schema and
/// parsed with the strict [`Event`] type. The request is checked against its schema first.
pub fn scan(plugin: &Path, command: holdfast_plugin::Command, request: &Value) -> Vec<Event> {
    assert_valid("request", request, "the test's request");
    let out = run(plugin, &command.words(), &request.to_string());
    assert_eq!(
        out.status,
        Some(0),
        "{} {command}: {out:?}",
        plugin.display()
    );
    events(&out.stdout)
}

/// The events of a plugin's stdout.
pub fn events(stdout: &str) -> Vec<Event> {
    stdout
        .lines()
        .map(|line| {
            let value: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            assert_valid("event", &value, line);
            serde_json::from_value(value).unwrap_or_else(|e| panic!("not an event ({e}): {line}"))
        })
        .collect()
}

/// A request for `rootfs`, with a one-hour deadline that is a valid RFC 3339 time.
pub fn request(
    command: holdfast_plugin::Command,
    rootfs: &Path,
    config: Value,
    params: Value,
) -> Value {
    let kind = command.words()[1];
    serde_json::json!({
        "protocol": 1,
        "command": command.as_str(),
        "target": {"name": format!("test-{kind}"), "kind": kind, "image_id": "sha256:0123"},
        "rootfs": rootfs,
        "config": config,
        "packages": [],
        "params": params,
        "deadline": "2030-01-01T00:00:00Z",
    })
}
