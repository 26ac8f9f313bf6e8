//! The ssh-port example run as holdfast runs it: its manifest and its events, checked
//! against the protocol's schemas and parsed with the strict SDK types.

#[path = "../../../../crates/holdfast-plugin/tests/common/mod.rs"]
mod common;

use std::path::Path;

use common::{info, request, run, scan};
use holdfast_plugin::{Command, Event, ParamType, PluginFinding};
use serde_json::{json, Value};

fn plugin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_holdfast-plugin-ssh-port"))
}

fn exposed(port: &str) -> Event {
    Event::Finding {
        finding: PluginFinding::new("SSH-PORT-EXPOSED", "MEDIUM", "Image exposes the SSH port")
            .description(format!(
                "The image config exposes {port} (ExposedPorts), the port of an SSH server."
            ))
            .remediation(
                "Do not run an SSH server in a container; use docker exec or kubectl exec",
            ),
    }
}

fn events(command: Command, config: Value, params: Value) -> Vec<Event> {
    let req = request(command, &std::env::temp_dir(), config, params);
    scan(plugin(), command, &req)
}

#[test]
fn info_is_a_valid_manifest() {
    let manifest = info(plugin());
    assert_eq!(manifest.name, "ssh-port");
    assert_eq!(
        manifest.commands,
        [Command::ScanImage, Command::ScanContainer]
    );
    assert_eq!(manifest.kinds, ["misconfiguration"]);
    let port = manifest.param("port").unwrap();
    assert_eq!(
        (port.kind, port.default.clone()),
        (ParamType::Integer, Some(json!(22)))
    );
}

#[test]
fn reports_port_22() {
    let ports = json!({"ExposedPorts": {"80/tcp": {}, "22/tcp": {}}, "User": "app"});
    for command in [Command::ScanImage, Command::ScanContainer] {
        assert_eq!(
            events(command, ports.clone(), json!({"port": 22})),
            [exposed("22/tcp")]
        );
        // holdfast sends every parameter, but the plugin does without.
        assert_eq!(
            events(command, ports.clone(), json!({})),
            [exposed("22/tcp")]
        );
    }
}

#[test]
fn quiet_without_the_port() {
    for config in [
        json!({"ExposedPorts": {"80/tcp": {}, "22/udp": {}, "2222/tcp": {}}}),
        json!({"ExposedPorts": {}}),
        json!({"Env": ["PORT=22"]}),
        Value::Null,
    ] {
        assert_eq!(events(Command::ScanImage, config, json!({"port": 22})), []);
    }
}

#[test]
fn the_port_parameter() {
    let ports = json!({"ExposedPorts": {"22/tcp": {}, "2222/tcp": {}}});
    assert_eq!(
        events(Command::ScanImage, ports.clone(), json!({"port": 2222})),
        [exposed("2222/tcp")]
    );
    assert_eq!(
        events(
            Command::ScanImage,
            json!({"ExposedPorts": {"22/tcp": {}}}),
            json!({"port": 2222})
        ),
        []
    );
    // Not a port: the scan fails.
    for bad in [json!("ssh"), json!(70000), json!(-1)] {
        let req = request(
            Command::ScanImage,
            &std::env::temp_dir(),
            ports.clone(),
            json!({"port": bad}),
        );
        let out = run(plugin(), &["scan", "image"], &req.to_string());
        assert_eq!(out.status, Some(1), "{bad}: {out:?}");
        assert!(out.stderr.contains("is not a TCP port"), "{out:?}");
    }
}

#[test]
fn bad_usage() {
    for args in [&["scan", "rootfs"][..], &["scan", "config"], &["scan"], &[]] {
        let out = run(plugin(), args, "");
        assert_eq!(out.status, Some(2), "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{out:?}");
    }
    let out = run(plugin(), &["scan", "image"], "{}");
    assert_eq!(out.status, Some(1), "{out:?}");
}
