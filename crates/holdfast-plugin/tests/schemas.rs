//! The JSON Schemas in `docs/plugin-*.schema.json` agree with the protocol's Rust types:
//! what the types write validates, and what the schemas reject the types reject too, but
//! for the listed constraints that only the schemas check.

mod common;

use std::collections::BTreeMap;

use common::{assert_valid, schema, validator};
use holdfast_plugin::{
    Command, Event, LogLevel, Manifest, ParamSpec, ParamType, PluginFinding, Request, RequestTarget,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

fn full_manifest() -> Manifest {
    let mut m = Manifest::new("env-files.v2_x", "1.2.3", &Command::ALL);
    m.description = "finds things".into();
    m.author = "someone".into();
    m.kinds = vec!["secret".into(), "weak-password".into()];
    m.params = vec![
        ParamSpec {
            name: "max_file_size".into(),
            kind: ParamType::Integer,
            default: Some(json!(1048576)),
            help: "bytes".into(),
        },
        ParamSpec {
            name: "ratio".into(),
            kind: ParamType::Number,
            default: Some(json!(0.5)),
            help: String::new(),
        },
        ParamSpec {
            name: "strict".into(),
            kind: ParamType::Boolean,
            default: Some(json!(false)),
            help: String::new(),
        },
        ParamSpec {
            name: "service".into(),
            kind: ParamType::String,
            default: None,
            help: String::new(),
        },
    ];
    m
}

fn full_request() -> Request {
    Request {
        protocol: 1,
        command: Command::ScanImage,
        target: RequestTarget {
            name: "nginx:1.25".into(),
            kind: "image".into(),
            image_id: Some("sha256:abcd".into()),
        },
        rootfs: "/var/lib/holdfast/rootfs/abcd".into(),
        config: json!({"Env": ["PATH=/bin"], "ExposedPorts": {"22/tcp": {}}, "User": "nginx"}),
        packages: vec![json!({"name": "openssl", "version": "3.0.2", "type": "deb"})],
        params: BTreeMap::from([
            ("max_file_size".to_string(), json!(10)),
            ("service".to_string(), json!("ssh")),
            ("strict".to_string(), json!(true)),
            ("ratio".to_string(), json!(0.25)),
            ("unset".to_string(), Value::Null),
        ]),
        deadline: "2025-06-01T12:30:00.5+02:00".into(),
    }
}

fn minimal_request() -> Request {
    Request {
        protocol: 1,
        command: Command::ScanConfig,
        target: RequestTarget {
            name: "./deploy".into(),
            kind: "config".into(),
            image_id: None,
        },
        rootfs: "/work/deploy".into(),
        config: Value::Null,
        packages: Vec::new(),
        params: BTreeMap::new(),
        deadline: "2025-06-01T10:30:00Z".into(),
    }
}

fn sample_events() -> Vec<Event> {
    let full = PluginFinding::new("ENV-FILE-VALUES", "MEDIUM", "Environment file with values")
        .description("assigns API_KEY")
        .path("/app/.env")
        .line(3)
        .remediation("remove it")
        .kind("secret");
    let mut events = vec![
        Event::Finding { finding: full },
        Event::Finding {
            finding: PluginFinding::new("X", "UNKNOWN", "minimal"),
        },
        Event::Progress {
            done: 3,
            total: Some(10),
        },
        Event::Progress {
            done: 0,
            total: None,
        },
    ];
    for severity in ["LOW", "HIGH", "CRITICAL"] {
        events.push(Event::Finding {
            finding: PluginFinding::new("S", severity, "t").kind("misconfiguration"),
        });
    }
    for level in [
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warn,
        LogLevel::Error,
    ] {
        events.push(Event::Log {
            level,
            message: "a message \"quoted\" \u{1F600}".into(),
        });
    }
    events
}

/// Serializes `value`, validates it, and reads it back unchanged.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    which: &str,
    value: &T,
) {
    let json = serde_json::to_value(value).unwrap();
    assert_valid(which, &json, &format!("{value:?}"));
    let back: T = serde_json::from_value(json).unwrap();
    assert_eq!(&back, value);
}

#[test]
fn what_the_types_write_validates() {
    round_trip("manifest", &full_manifest());
    round_trip("manifest", &Manifest::new("a", "0", &[Command::ScanRootfs]));
    round_trip("request", &full_request());
    round_trip("request", &minimal_request());
    for event in sample_events() {
        round_trip("event", &event);
    }
}

#[test]
fn what_both_accept_with_defaults_and_nulls() {
    // Optional fields left out or `null`: the types take them as absent.
    let accepted: [(&str, Value); 8] = [
        (
            "manifest",
            json!({"protocol": 1, "name": "a", "version": "1", "commands": ["scan/image"]}),
        ),
        (
            "manifest",
            json!({"protocol": 1, "name": "a", "version": "1", "commands": ["scan/image"],
                   "params": [{"name": "p"}, {"name": "q", "type": "integer", "default": null}]}),
        ),
        (
            "request",
            json!({"protocol": 1, "command": "scan/rootfs", "target": {"name": "r", "kind": "rootfs"},
                   "rootfs": "/r", "deadline": "2025-01-01T00:00:00Z"}),
        ),
        (
            "request",
            json!({"protocol": 1, "command": "scan/image",
                   "target": {"name": "r", "kind": "image", "image_id": null},
                   "rootfs": "/r", "config": null, "deadline": "2025-01-01T00:00:00Z"}),
        ),
        (
            "event",
            json!({"type": "progress", "done": 1, "total": null}),
        ),
        (
            "event",
            json!({"type": "finding", "finding": {"id": "A", "severity": "LOW", "title": "t",
                   "path": null, "line": null, "remediation": null, "kind": null}}),
        ),
        (
            "event",
            json!({"type": "finding", "finding": {"id": "A", "severity": "LOW", "title": "t", "description": ""}}),
        ),
        (
            "event",
            json!({"type": "log", "level": "warn", "message": ""}),
        ),
    ];
    for (which, value) in accepted {
        assert_valid(which, &value, "a sample");
        assert_eq!(types_reject(which, &value), None, "{value}");
    }
}

/// Why the Rust types reject `value`: serde, and for a manifest `Manifest::problem` too.
fn types_reject(which: &str, value: &Value) -> Option<String> {
    fn parse<T: DeserializeOwned>(value: &Value) -> Result<T, String> {
        serde_json::from_value(value.clone()).map_err(|e| e.to_string())
    }
    match which {
        "manifest" => match parse::<Manifest>(value) {
            Ok(m) => m.problem(),
            Err(e) => Some(e),
        },
        "request" => parse::<Request>(value).err(),
        "event" => parse::<Event>(value).err(),
        _ => unreachable!(),
    }
}

/// Whether the Rust types reject a sample the schema rejects.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Types {
    Reject,
    /// Only the schema checks this: the types take any string or number there.
    Accept,
}

#[test]
fn what_the_schemas_reject_the_types_reject() {
    use Types::{Accept, Reject};
    let finding = |extra: Value| {
        let mut f = json!({"id": "A", "severity": "HIGH", "title": "t"});
        f.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"type": "finding", "finding": f})
    };
    let manifest = |edit: &dyn Fn(&mut Value)| {
        let mut m = serde_json::to_value(full_manifest()).unwrap();
        edit(&mut m);
        m
    };
    let request = |edit: &dyn Fn(&mut Value)| {
        let mut r = serde_json::to_value(full_request()).unwrap();
        edit(&mut r);
        r
    };
    let cases: Vec<(&str, &str, Value, Types)> = vec![
        // Events.
        (
            "event",
            "finding without id",
            json!({"type": "finding", "finding": {"severity": "HIGH", "title": "t"}}),
            Reject,
        ),
        (
            "event",
            "finding without title",
            json!({"type": "finding", "finding": {"id": "A", "severity": "HIGH"}}),
            Reject,
        ),
        (
            "event",
            "unknown type",
            json!({"type": "alert", "message": "m"}),
            Reject,
        ),
        (
            "event",
            "no type",
            json!({"finding": {"id": "A", "severity": "HIGH", "title": "t"}}),
            Reject,
        ),
        (
            "event",
            "extra field in a finding",
            finding(json!({"cve": "CVE-1"})),
            Reject,
        ),
        (
            "event",
            "extra field in an event",
            json!({"type": "progress", "done": 1, "extra": 2}),
            Reject,
        ),
        (
            "event",
            "extra field beside a finding",
            json!({"type": "finding", "finding": {"id": "A", "severity": "HIGH", "title": "t"}, "at": 1}),
            Reject,
        ),
        (
            "event",
            "bad log level",
            json!({"type": "log", "level": "loud", "message": "m"}),
            Reject,
        ),
        (
            "event",
            "log without message",
            json!({"type": "log", "level": "info"}),
            Reject,
        ),
        (
            "event",
            "negative progress",
            json!({"type": "progress", "done": -1}),
            Reject,
        ),
        (
            "event",
            "fractional progress",
            json!({"type": "progress", "done": 1.5}),
            Reject,
        ),
        (
            "event",
            "null description",
            finding(json!({"description": null})),
            Reject,
        ),
        (
            "event",
            "line as text",
            finding(json!({"line": "3"})),
            Reject,
        ),
        (
            "event",
            "line past u32",
            finding(json!({"line": 4294967296u64})),
            Reject,
        ),
        (
            "event",
            "bad severity",
            finding(json!({"severity": "SEVERE"})),
            Accept,
        ),
        (
            "event",
            "lowercase severity",
            finding(json!({"severity": "high"})),
            Accept,
        ),
        (
            "event",
            "unknown kind",
            finding(json!({"kind": "rumour"})),
            Accept,
        ),
        ("event", "line 0", finding(json!({"line": 0})), Accept),
        ("event", "empty id", finding(json!({"id": ""})), Accept),
        ("event", "blank id", finding(json!({"id": " \t"})), Accept),
        // Manifests.
        (
            "manifest",
            "no name",
            manifest(&|m| {
                m.as_object_mut().unwrap().remove("name");
            }),
            Reject,
        ),
        (
            "manifest",
            "no commands",
            manifest(&|m| {
                m.as_object_mut().unwrap().remove("commands");
            }),
            Reject,
        ),
        (
            "manifest",
            "extra field",
            manifest(&|m| m["homepage"] = json!("x")),
            Reject,
        ),
        (
            "manifest",
            "unknown command",
            manifest(&|m| m["commands"] = json!(["scan/disk"])),
            Reject,
        ),
        (
            "manifest",
            "empty commands",
            manifest(&|m| m["commands"] = json!([])),
            Reject,
        ),
        (
            "manifest",
            "protocol 2",
            manifest(&|m| m["protocol"] = json!(2)),
            Reject,
        ),
        (
            "manifest",
            "bad name",
            manifest(&|m| m["name"] = json!("../evil")),
            Reject,
        ),
        (
            "manifest",
            "name from a dot",
            manifest(&|m| m["name"] = json!(".hidden")),
            Reject,
        ),
        (
            "manifest",
            "long name",
            manifest(&|m| m["name"] = json!("a".repeat(65))),
            Reject,
        ),
        (
            "manifest",
            "bad param name",
            manifest(&|m| m["params"][0]["name"] = json!("a b")),
            Reject,
        ),
        (
            "manifest",
            "param type",
            manifest(&|m| m["params"][0]["type"] = json!("list")),
            Reject,
        ),
        (
            "manifest",
            "param extra field",
            manifest(&|m| m["params"][0]["required"] = json!(true)),
            Reject,
        ),
        (
            "manifest",
            "integer default as text",
            manifest(&|m| m["params"][0]["default"] = json!("10")),
            Reject,
        ),
        (
            "manifest",
            "fractional integer default",
            manifest(&|m| m["params"][0]["default"] = json!(1.5)),
            Reject,
        ),
        (
            "manifest",
            "number default as text",
            manifest(&|m| m["params"][1]["default"] = json!("0.5")),
            Reject,
        ),
        (
            "manifest",
            "boolean default as text",
            manifest(&|m| m["params"][2]["default"] = json!("yes")),
            Reject,
        ),
        (
            "manifest",
            "string default as number",
            manifest(&|m| m["params"][3]["default"] = json!(3)),
            Reject,
        ),
        (
            "manifest",
            "untyped default as number",
            manifest(&|m| m["params"] = json!([{"name": "p", "default": 3}])),
            Reject,
        ),
        (
            "manifest",
            "null description",
            manifest(&|m| m["description"] = Value::Null),
            Reject,
        ),
        (
            "manifest",
            "unknown kind",
            manifest(&|m| m["kinds"] = json!(["rumour"])),
            Reject,
        ),
        // Requests.
        (
            "request",
            "no deadline",
            request(&|r| {
                r.as_object_mut().unwrap().remove("deadline");
            }),
            Reject,
        ),
        (
            "request",
            "no rootfs",
            request(&|r| {
                r.as_object_mut().unwrap().remove("rootfs");
            }),
            Reject,
        ),
        (
            "request",
            "extra field",
            request(&|r| r["env"] = json!({})),
            Reject,
        ),
        (
            "request",
            "extra target field",
            request(&|r| r["target"]["digest"] = json!("x")),
            Reject,
        ),
        (
            "request",
            "unknown command",
            request(&|r| r["command"] = json!("scan/disk")),
            Reject,
        ),
        (
            "request",
            "null params",
            request(&|r| r["params"] = Value::Null),
            Reject,
        ),
        (
            "request",
            "packages not a list",
            request(&|r| r["packages"] = json!({})),
            Reject,
        ),
        (
            "request",
            "protocol 2",
            request(&|r| r["protocol"] = json!(2)),
            Accept,
        ),
        (
            "request",
            "relative rootfs",
            request(&|r| r["rootfs"] = json!("rootfs")),
            Accept,
        ),
        (
            "request",
            "unknown target kind",
            request(&|r| r["target"]["kind"] = json!("vm")),
            Accept,
        ),
        (
            "request",
            "config a list",
            request(&|r| r["config"] = json!([])),
            Accept,
        ),
        (
            "request",
            "deadline not RFC 3339",
            request(&|r| r["deadline"] = json!("tomorrow")),
            Accept,
        ),
        (
            "request",
            "param value an object",
            request(&|r| r["params"]["service"] = json!({})),
            Accept,
        ),
    ];
    let mut wrong = Vec::new();
    for (which, what, value, types) in cases {
        if validator(which).is_valid(&value) {
            wrong.push(format!("{which} schema accepts {what}: {value}"));
        }
        let rejected = types_reject(which, &value);
        match (types, rejected) {
            (Reject, None) => wrong.push(format!("the {which} type accepts {what}: {value}")),
            (Accept, Some(e)) => wrong.push(format!(
                "the {which} type now rejects {what} ({e}): mark it Reject"
            )),
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn enum_of(schema: &Value, pointer: &str) -> Vec<String> {
    let values = schema
        .pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no enum at {pointer}"));
    values
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn schema_enums_are_the_types_and_the_result_schemas() {
    let manifest = schema("manifest");
    let request = schema("request");
    let event = schema("event");
    let commands: Vec<String> = Command::ALL.iter().map(|c| c.to_string()).collect();
    assert_eq!(enum_of(&manifest, "/$defs/command/enum"), commands);
    assert_eq!(enum_of(&request, "/properties/command/enum"), commands);
    let types: Vec<String> = [
        ParamType::String,
        ParamType::Integer,
        ParamType::Number,
        ParamType::Boolean,
    ]
    .iter()
    .map(|t| {
        serde_json::to_value(t)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    })
    .collect();
    assert_eq!(
        enum_of(&manifest, "/$defs/param/properties/type/enum"),
        types
    );
    let levels: Vec<String> = [
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warn,
        LogLevel::Error,
    ]
    .iter()
    .map(|l| {
        serde_json::to_value(l)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    })
    .collect();
    assert_eq!(
        enum_of(&event, "/$defs/log_event/properties/level/enum"),
        levels
    );
    assert_eq!(
        enum_of(&request, "/properties/target/properties/kind/enum"),
        Command::ALL.map(|c| c.words()[1].to_string())
    );

    // Severities and kinds are holdfast's, as its result schema has them.
    let result = common::workspace().join("docs/result.schema.json");
    let result: Value = serde_json::from_str(&std::fs::read_to_string(result).unwrap()).unwrap();
    let kinds = enum_of(&result, "/$defs/kind/enum");
    assert_eq!(enum_of(&manifest, "/$defs/kind/enum"), kinds);
    assert_eq!(
        enum_of(&event, "/$defs/finding/properties/kind/oneOf/0/enum"),
        kinds
    );
    assert_eq!(
        enum_of(&event, "/$defs/finding/properties/severity/enum"),
        enum_of(&result, "/$defs/severity/enum")
    );
}

#[test]
fn required_fields_are_the_types_required_fields() {
    // A field is required by the schema exactly when the type cannot do without it.
    let manifest = serde_json::to_value(full_manifest()).unwrap();
    let request = serde_json::to_value(full_request()).unwrap();
    let finding = serde_json::to_value(&sample_events()[0]).unwrap();
    let cases = [
        ("manifest", manifest, "/required", ""),
        ("request", request.clone(), "/required", ""),
        ("request", request, "/properties/target/required", "/target"),
        ("event", finding, "/$defs/finding/required", "/finding"),
    ];
    for (which, sample, required_at, object_at) in cases {
        let s = schema(which);
        let required = enum_of(&s, required_at);
        let fields: Vec<String> = sample
            .pointer(object_at)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        for field in fields {
            let mut without = sample.clone();
            without
                .pointer_mut(object_at)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove(&field);
            let types_need = types_reject(which, &without).is_some();
            assert_eq!(
                required.contains(&field),
                types_need,
                "{which}{object_at}: `{field}` required by the schema: {}, by the type: {types_need}",
                required.contains(&field)
            );
            assert_eq!(
                validator(which).is_valid(&without),
                !types_need,
                "{which} without {field}"
            );
        }
    }
}
