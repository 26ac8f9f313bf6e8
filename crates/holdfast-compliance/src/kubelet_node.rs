//! The `kubelet-node` input document (`docs/checks.md`): the kubelet's and kube-proxy's
//! processes and flags, the kubelet's config file, and the files the CIS Kubernetes
//! Benchmark's worker node section names, read from this host (or `--host-root`).

use crate::host_facts::{find_processes, parse_flags, read_small, stat, tree_files, NameMaps};
use serde_json::{json, Map, Value};

/// Boolean kubelet and kube-proxy flags: written alone, they mean `true`.
const BOOLEAN_FLAGS: &[&str] = &[
    "anonymous-auth",
    "make-iptables-util-chains",
    "rotate-certificates",
    "rotate-server-certificates",
    "protect-kernel-defaults",
    "fail-swap-on",
    "cgroups-per-qos",
    "enable-controller-attach-detach",
    "enable-debugging-handlers",
    "enable-server",
    "exit-on-lock-contention",
    "serialize-image-pulls",
    "register-node",
    "register-schedulable",
    "read-only-port-enabled",
    "masquerade-all",
    "cleanup",
];

/// The systemd directories a kubelet unit may be in, in the order systemd prefers them.
const UNIT_DIRS: [&str; 3] = [
    "/etc/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
];

/// The document for this node.
pub fn document() -> Value {
    let kubelet = process("kubelet");
    let proxy = process("kube-proxy");
    let flag = |p: &Value, name: &str| -> Option<String> {
        p["flags"][name]
            .as_array()
            .and_then(|v| v.last())
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let config_path = flag(&kubelet, "config");
    let (config, config_error) = match &config_path {
        Some(path) => yaml_file(path),
        None => (Value::Null, Value::Null),
    };
    let client_ca = flag(&kubelet, "client-ca-file").or_else(|| {
        config["authentication"]["x509"]["clientCAFile"]
            .as_str()
            .map(str::to_string)
    });
    let proxy_config_path = flag(&proxy, "config");
    let (proxy_config, proxy_config_error) = match &proxy_config_path {
        Some(path) => yaml_file(path),
        None => (Value::Null, Value::Null),
    };
    let proxy_kubeconfig = flag(&proxy, "kubeconfig").or_else(|| {
        proxy_config["clientConnection"]["kubeconfig"]
            .as_str()
            .map(str::to_string)
    });
    let mut service_files = Vec::new();
    for dir in UNIT_DIRS {
        let unit = format!("{dir}/kubelet.service");
        if holdfast_source::host::path(&unit).is_file() {
            service_files.push(unit);
        }
        service_files.extend(
            tree_files(&format!("{dir}/kubelet.service.d"), 100)
                .into_iter()
                .filter(|f| f.ends_with(".conf")),
        );
    }
    let paths = json!({
        "service_files": service_files,
        "kubeconfig": flag(&kubelet, "kubeconfig"),
        "config": config_path,
        "client_ca": client_ca,
        "proxy_kubeconfig": proxy_kubeconfig,
    });
    let names = NameMaps::read();
    let mut files = Map::new();
    let mut wanted: Vec<String> = service_files.clone();
    for key in ["kubeconfig", "config", "client_ca", "proxy_kubeconfig"] {
        if let Some(p) = paths[key].as_str() {
            wanted.push(p.to_string());
        }
    }
    for p in wanted {
        let s = stat(&p, &names);
        files.insert(p, s);
    }
    let mut kubelet = kubelet;
    kubelet["config_path"] = paths["config"].clone();
    kubelet["config"] = config;
    kubelet["config_error"] = config_error;
    let mut proxy = proxy;
    proxy["config_path"] = json!(proxy_config_path);
    proxy["config"] = proxy_config;
    proxy["config_error"] = proxy_config_error;
    json!({
        "kind": "kubelet-node",
        "kubelet": kubelet,
        "kube_proxy": proxy,
        "paths": paths,
        "files": files,
    })
}

/// A process's `running`, `pid`, `cmdline` and `flags`.
fn process(name: &str) -> Value {
    match find_processes(name).into_iter().next() {
        Some((pid, cmdline)) => json!({
            "running": true,
            "pid": pid,
            "flags": parse_flags(&cmdline, BOOLEAN_FLAGS),
            "cmdline": cmdline,
        }),
        None => json!({"running": false, "pid": null, "cmdline": null, "flags": {}}),
    }
}

/// A YAML file of the host as JSON, or the reason it could not be read.
fn yaml_file(path: &str) -> (Value, Value) {
    match read_small(path) {
        Ok(Some(text)) => match serde_norway::from_str::<Value>(&text) {
            Ok(v) => (v, Value::Null),
            Err(e) => (Value::Null, json!(format!("{path}: {e}"))),
        },
        Ok(None) => (Value::Null, json!(format!("{path}: no such file"))),
        Err(e) => (Value::Null, json!(format!("{path}: {e}"))),
    }
}
