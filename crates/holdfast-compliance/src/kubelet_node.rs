//! The `kubelet-node` input document (`docs/checks.md`): the kubelet's and kube-proxy's
//! processes and flags, the kubelet's config file, and the files the CIS Kubernetes
//! Benchmark's worker node section names, read from this host (or `--host-root`).

use crate::host_facts::{
    files_within, find_processes, parse_flags, read_small, stat, tree_files, NameMaps,
};
use holdfast_source::host;
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
    let (mut config, mut config_error) = match &config_path {
        Some(path) => yaml_file(path),
        None => (Value::Null, Value::Null),
    };
    // `--config-dir`: drop-in KubeletConfiguration files (`*.conf`), merged over the
    // config file in name order, as the kubelet does.
    let drop_ins: Vec<String> = flag(&kubelet, "config-dir")
        .map(|dir| {
            // In name order: the walk sorts by file name.
            files_within(&dir, 1, 100)
                .into_iter()
                .filter(|f| f.ends_with(".conf"))
                .collect()
        })
        .unwrap_or_default();
    // Which file set each field a drop-in sets, for the checks' messages.
    let mut config_sources = Map::new();
    for path in &drop_ins {
        match yaml_file(path) {
            (drop_in, Value::Null) => {
                for field in leaf_paths(&drop_in) {
                    config_sources.insert(field, json!(path));
                }
                merge(&mut config, drop_in);
            }
            (_, error) => config_error = error,
        }
    }
    let client_ca = flag(&kubelet, "client-ca-file").or_else(|| {
        config["authentication"]["x509"]["clientCAFile"]
            .as_str()
            .map(str::to_string)
    });
    // kube-proxy usually runs as a DaemonSet's container: the paths its flags and config
    // name are then inside its own filesystem, seen from the host under /proc/PID/root.
    let proxy_root = own_root(proxy["pid"].as_u64()).unwrap_or_default();
    let proxy_config_path = flag(&proxy, "config").map(|p| format!("{proxy_root}{p}"));
    let (proxy_config, proxy_config_error) = match &proxy_config_path {
        Some(path) => yaml_file(path),
        None => (Value::Null, Value::Null),
    };
    let proxy_kubeconfig = flag(&proxy, "kubeconfig")
        .or_else(|| {
            proxy_config["clientConnection"]["kubeconfig"]
                .as_str()
                .map(str::to_string)
        })
        .map(|p| format!("{proxy_root}{p}"));
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
        "config_drop_ins": drop_ins,
        "client_ca": client_ca,
        "proxy_kubeconfig": proxy_kubeconfig,
    });
    let names = NameMaps::read();
    let mut files = Map::new();
    let mut wanted: Vec<String> = service_files.clone();
    wanted.extend(drop_ins.iter().cloned());
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
    kubelet["config_sources"] = Value::Object(config_sources);
    let mut proxy = proxy;
    proxy["config_path"] = json!(proxy_config_path);
    proxy["root"] = json!((!proxy_root.is_empty()).then_some(proxy_root));
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

/// `/proc/PID/root` when process `pid` runs in a mount namespace other than the host's
/// init (a container), so that the paths it names are found where the host sees them;
/// `None` when it shares the host's or either namespace cannot be read.
fn own_root(pid: Option<u64>) -> Option<String> {
    let pid = pid?;
    let mount_ns = |p: &str| std::fs::read_link(host::path(format!("/proc/{p}/ns/mnt"))).ok();
    let (own, init) = (mount_ns(&pid.to_string())?, mount_ns("1")?);
    (own != init).then(|| format!("/proc/{pid}/root"))
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

/// `over` merged into `base`: objects key by key, anything else replaced, as a drop-in's
/// fields override the config file's.
fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (k, v) in over {
                merge(base.entry(k).or_insert(Value::Null), v);
            }
        }
        (base, over) => *base = over,
    }
}

/// The dotted paths of `value`'s leaves (a list is a leaf), `apiVersion` and `kind` left
/// out.
fn leaf_paths(value: &Value) -> Vec<String> {
    fn walk(prefix: &str, value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&path, v, out);
                }
            }
            _ if !prefix.is_empty() => out.push(prefix.to_string()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", value, &mut out);
    out.retain(|p| p != "apiVersion" && p != "kind");
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_ins_override_field_by_field() {
        let mut config = json!({"authentication": {"anonymous": {"enabled": false}, "webhook": {"enabled": true}}, "tlsCipherSuites": ["A", "B"]});
        merge(
            &mut config,
            json!({"authentication": {"anonymous": {"enabled": true}}, "tlsCipherSuites": ["C"]}),
        );
        assert_eq!(
            config,
            json!({"authentication": {"anonymous": {"enabled": true}, "webhook": {"enabled": true}}, "tlsCipherSuites": ["C"]})
        );
        assert_eq!(
            leaf_paths(&json!({"kind": "K", "a": {"b": 1, "c": [1]}, "d": true})),
            ["a.b", "a.c", "d"]
        );
        let mut none = Value::Null;
        merge(&mut none, json!({"readOnlyPort": 0}));
        assert_eq!(none, json!({"readOnlyPort": 0}));
    }
}
