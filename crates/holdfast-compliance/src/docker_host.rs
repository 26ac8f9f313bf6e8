//! The `docker-host`, `docker-container` and `docker-image` input documents
//! (`docs/checks.md`): the daemon's process, configuration and files read from the host
//! (under `--host-root` when one is set), and what the Engine API says.

use crate::exec_audit::{self, ExecAudit};
use crate::host_facts::{
    find_processes, parse_flags, read_or_empty, read_small, stat, tree_files, NameMaps,
};
use holdfast_source::docker_facts::DockerFacts;
use holdfast_source::host;
use serde_json::{json, Map, Value};
use std::path::Path;

/// Most files listed under `/etc/docker/certs.d`.
const MAX_CERT_FILES: usize = 1_000;

/// dockerd flags that take no value (`--tlsverify` alone means true); any other flag
/// written without `=` takes the next argument.
const BOOLEAN_FLAGS: &[&str] = &[
    "D",
    "debug",
    "tls",
    "tlsverify",
    "icc",
    "ip-forward",
    "ip-masq",
    "iptables",
    "ip6tables",
    "ipv6",
    "live-restore",
    "userland-proxy",
    "selinux-enabled",
    "no-new-privileges",
    "experimental",
    "rootless",
    "init",
    "raw-logs",
    "disable-legacy-registry",
    "validate",
    "help",
    "h",
    "version",
    "v",
    "userns-remap-default",
];

/// The three kinds of document one daemon gives.
#[derive(Debug, Default)]
pub struct DockerDocuments {
    /// The `docker-host` document.
    pub host: Value,
    /// One `docker-container` document per container.
    pub containers: Vec<Value>,
    /// One `docker-image` document per image.
    pub images: Vec<Value>,
}

/// The documents for this host, from the Engine API's `facts` (none when the daemon could
/// not be reached: the host's files and process are still read).
pub fn documents(facts: Option<DockerFacts>) -> DockerDocuments {
    let daemon = daemon(facts.as_ref());
    let info = facts.as_ref().map(|f| &f.info).unwrap_or(&Value::Null);
    let docker_root = info
        .get("DockerRootDir")
        .and_then(Value::as_str)
        .unwrap_or("/var/lib/docker")
        .to_string();
    let files = files(&daemon);
    let (audit_rules, audit_available) = audit_rules();
    let exec_audit = exec_audit::read();
    let host = json!({
        "kind": "docker-host",
        "daemon": daemon,
        "files": files,
        "audit_rules": audit_rules,
        "audit_available": audit_available,
        "mounts": mounts(),
        "docker_root": docker_root,
        "docker_group_members": group_members("docker"),
        "containers": facts.as_ref().map_or(0, |f| f.containers.len()),
        "networks": facts.as_ref().map(|f| f.networks.clone()).unwrap_or(Value::Null),
        "listening_ports": listening_ports(),
        "exec_audit": {
            "files": exec_audit.files,
            "execs": exec_audit.execs.iter().map(|e| e.to_json()).collect::<Vec<_>>(),
        },
    });
    let content_trust = content_trust();
    let mut docs = DockerDocuments {
        host,
        ..Default::default()
    };
    let Some(facts) = facts else {
        return docs;
    };
    for doc in facts.containers {
        docs.containers
            .push(container_document(doc, &docs.host["daemon"], &exec_audit));
    }
    for mut doc in facts.images {
        doc["kind"] = json!("docker-image");
        doc["content_trust"] = json!(content_trust);
        docs.images.push(doc);
    }
    docs
}

/// The `docker-container` documents of `facts` alone, for judging containers without the
/// host's files (the `misconfig` scanner of `scan container`). `dockerd` says whether the
/// API is this host's `dockerd`, whose process and daemon.json give the container checks
/// their defaults; for another engine behind the same API (Podman's service) the daemon
/// object holds the API's answers only.
pub fn container_documents(facts: DockerFacts, dockerd: bool) -> Vec<Value> {
    let audit = if dockerd {
        exec_audit::read()
    } else {
        Default::default()
    };
    let daemon = if dockerd {
        daemon(Some(&facts))
    } else {
        json!({
            "running": false, "pid": null, "cmdline": null, "flags": {},
            "config_path": null, "config": null, "config_error": null,
            "info": facts.info, "version": facts.version, "api_errors": facts.errors,
        })
    };
    facts
        .containers
        .into_iter()
        .map(|doc| container_document(doc, &daemon, &audit))
        .collect()
}

/// A container of the Engine API's facts as a `docker-container` document, with the
/// `docker exec` commands the audit log holds for it.
fn container_document(mut doc: Value, daemon: &Value, audit: &ExecAudit) -> Value {
    doc["kind"] = json!("docker-container");
    doc["daemon"] = daemon.clone();
    let id = doc["id"].as_str().unwrap_or_default();
    let name = doc["name"].as_str().unwrap_or_default();
    let history: Vec<Value> = audit
        .execs
        .iter()
        .filter(|e| e.names(id, name))
        .map(|e| e.to_json())
        .collect();
    doc["exec_history"] = json!(history);
    doc
}

/// The `daemon` object: process, flags, daemon.json and the API's answers.
fn daemon(facts: Option<&DockerFacts>) -> Value {
    let docker_host = std::env::var("DOCKER_HOST").ok();
    let process = pick_daemon(find_processes("dockerd"), docker_host.as_deref());
    let cmdline = process.as_ref().map(|(_, c)| c.clone());
    let flags = cmdline
        .as_deref()
        .map(|c| parse_flags(c, BOOLEAN_FLAGS))
        .unwrap_or_default();
    let config_path = flags
        .get("config-file")
        .and_then(|v| v.last().cloned())
        .unwrap_or_else(|| "/etc/docker/daemon.json".to_string());
    let (config, config_error) = match read_small(&config_path) {
        Ok(None) => (Value::Null, Value::Null),
        Ok(Some(text)) => match serde_json::from_str::<Value>(&text) {
            Ok(v) => (v, Value::Null),
            Err(e) => (Value::Null, json!(format!("{config_path}: {e}"))),
        },
        Err(e) => (Value::Null, json!(format!("{config_path}: {e}"))),
    };
    json!({
        "running": process.is_some(),
        "pid": process.as_ref().map(|(pid, _)| pid),
        "cmdline": cmdline,
        "flags": flags,
        "config_path": config_path,
        "config": config,
        "config_error": config_error,
        "info": facts.map(|f| f.info.clone()).unwrap_or(Value::Null),
        "version": facts.map(|f| f.version.clone()).unwrap_or(Value::Null),
        "api_errors": facts.map(|f| f.errors.clone()).unwrap_or_default(),
    })
}

/// The daemon the Engine API answers for, among several: the one listening on
/// `DOCKER_HOST`, else the one on the default socket, else the first.
fn pick_daemon(
    mut daemons: Vec<(u32, Vec<String>)>,
    docker_host: Option<&str>,
) -> Option<(u32, Vec<String>)> {
    let listens = |cmdline: &[String], want: &dyn Fn(&str) -> bool| {
        let flags = parse_flags(cmdline, BOOLEAN_FLAGS);
        let hosts: Vec<&String> = ["H", "host"]
            .iter()
            .filter_map(|k| flags.get(*k))
            .flatten()
            .collect();
        hosts.iter().any(|h| want(h)) || (hosts.is_empty() && want("fd://"))
    };
    let position = match docker_host {
        Some(h) => {
            let path = h.strip_prefix("unix://").unwrap_or(h).to_string();
            daemons.iter().position(|(_, c)| {
                listens(c, &|x: &str| {
                    x == h || x.strip_prefix("unix://") == Some(&path)
                })
            })
        }
        None => daemons.iter().position(|(_, c)| {
            listens(c, &|x: &str| {
                x == "fd://" || x == "unix:///var/run/docker.sock" || x == "unix:///run/docker.sock"
            })
        }),
    };
    match position {
        Some(i) => Some(daemons.swap_remove(i)),
        None => daemons.into_iter().next(),
    }
}

/// Every path the CIS Docker Benchmark's sections 1 and 3 name, with owner and mode.
fn files(daemon: &Value) -> Map<String, Value> {
    let mut paths: Vec<String> = Vec::new();
    for dir in [
        "/etc/systemd/system",
        "/lib/systemd/system",
        "/usr/lib/systemd/system",
    ] {
        for unit in ["docker.service", "docker.socket", "containerd.service"] {
            paths.push(format!("{dir}/{unit}"));
        }
    }
    for p in [
        "/etc/docker",
        "/etc/docker/certs.d",
        "/var/run/docker.sock",
        "/run/docker.sock",
        "/etc/default/docker",
        "/etc/sysconfig/docker",
        "/etc/containerd/config.toml",
        "/run/containerd",
        "/run/containerd/containerd.sock",
        // The containerd dockerd starts itself when no --containerd is given.
        "/run/docker/containerd/containerd.sock",
        "/var/lib/docker",
        "/usr/bin/dockerd",
        "/usr/sbin/dockerd",
        "/usr/bin/containerd",
        "/usr/bin/containerd-shim",
        "/usr/bin/containerd-shim-runc-v1",
        "/usr/bin/containerd-shim-runc-v2",
        "/usr/bin/runc",
        "/usr/sbin/runc",
    ] {
        paths.push(p.to_string());
    }
    if let Some(p) = daemon["config_path"].as_str() {
        paths.push(p.to_string());
    }
    if let Some(bin) = daemon["cmdline"].get(0).and_then(Value::as_str) {
        paths.push(bin.to_string());
    }
    for key in [
        "tlscacert",
        "tlscert",
        "tlskey",
        "authorization-plugins",
        "containerd",
    ] {
        for v in setting_values(daemon, key) {
            if v.starts_with('/') {
                paths.push(v);
            }
        }
    }
    paths.extend(tree_files("/etc/docker/certs.d", MAX_CERT_FILES));
    let names = NameMaps::read();
    paths
        .into_iter()
        .map(|p| {
            let stat = stat(&p, &names);
            (p, stat)
        })
        .collect()
}

/// A daemon option's values from its flags and daemon.json.
fn setting_values(daemon: &Value, key: &str) -> Vec<String> {
    let mut out: Vec<String> = daemon["flags"][key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    match &daemon["config"][key] {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => out.extend(a.iter().filter_map(|v| v.as_str().map(str::to_string))),
        _ => {}
    }
    out
}

/// The loaded audit rules (`auditctl -l`), else the rules files.
fn audit_rules() -> (Vec<String>, bool) {
    if host::root() == Path::new("/") {
        if let Ok(out) = std::process::Command::new("auditctl").arg("-l").output() {
            if out.status.success() {
                let text = String::from_utf8_lossy(&out.stdout);
                let rules: Vec<String> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| l.starts_with('-'))
                    .map(str::to_string)
                    .collect();
                return (rules, true);
            }
        }
    }
    let mut files = vec!["/etc/audit/audit.rules".to_string()];
    files.extend(
        tree_files("/etc/audit/rules.d", MAX_CERT_FILES)
            .into_iter()
            .filter(|f| f.ends_with(".rules")),
    );
    let mut found = false;
    let mut rules = Vec::new();
    for f in files {
        if let Ok(Some(text)) = read_small(&f) {
            found = true;
            rules.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| l.starts_with('-'))
                    .map(str::to_string),
            );
        }
    }
    (rules, found)
}

/// The host's mounts: init's, since `/proc/mounts` is the reader's own (a container's,
/// under `--host-root`).
fn mounts() -> Vec<Value> {
    read_or_empty("/proc/1/mounts")
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 4)
                .then(|| json!({"source": f[0], "target": f[1], "fstype": f[2], "options": f[3]}))
        })
        .collect()
}

fn group_members(group: &str) -> Vec<String> {
    read_or_empty("/etc/group")
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() == 4 && f[0] == group).then(|| {
                f[3].split(',')
                    .filter(|m| !m.is_empty())
                    .map(str::to_string)
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// TCP ports the host listens on (state LISTEN), from init's network namespace:
/// `/proc/net` is the reader's own (a container's, under `--host-root`).
fn listening_ports() -> Vec<u16> {
    let mut ports: Vec<u16> = ["/proc/1/net/tcp", "/proc/1/net/tcp6"]
        .iter()
        .filter_map(|p| read_small(p).ok().flatten())
        .flat_map(|text| {
            text.lines()
                .skip(1)
                .filter_map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    let port = f.get(1)?.rsplit(':').next()?;
                    (f.get(3) == Some(&"0A")).then(|| u16::from_str_radix(port, 16).ok())?
                })
                .collect::<Vec<_>>()
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// `DOCKER_CONTENT_TRUST=1` in this process's environment or the host's /etc/environment.
fn content_trust() -> bool {
    let on = |v: &str| v.trim().trim_matches('"') == "1";
    if std::env::var("DOCKER_CONTENT_TRUST").is_ok_and(|v| on(&v)) {
        return true;
    }
    read_or_empty("/etc/environment")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("DOCKER_CONTENT_TRUST="))
        .any(on)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec_audit::AuditedExec;
    use crate::{InputKind, RuleEngine};
    use std::collections::BTreeMap;

    /// 5.23 and 5.24 fail on what the daemon still holds and on what the audit log
    /// recorded for the container, and only for the container the command named.
    #[test]
    fn exec_checks_read_the_daemon_and_the_audit_log() {
        let audited = |container: &str, privileged: bool, user: Option<&str>| AuditedExec {
            time: Some("2026-12-01T09:14:02Z".into()),
            container: container.into(),
            privileged,
            user: user.map(str::to_string),
            cmd: format!("docker exec {container} sh"),
        };
        let audit = ExecAudit {
            files: vec!["/var/log/audit/audit.log".into()],
            execs: vec![
                audited("web", true, None),
                audited("4f1c", false, Some("0:0")),
                audited("other", true, Some("root")),
                audited("web", false, Some("1000")),
            ],
        };
        let container = |id: &str, name: &str, execs: Value| {
            container_document(
                json!({"id": id, "name": name, "inspect": {}, "execs": execs}),
                &json!({}),
                &audit,
            )
        };
        let mut engine = RuleEngine::for_kinds(&[], &[InputKind::DockerContainer]).unwrap();
        let mut judge = |doc: &Value| -> BTreeMap<String, (String, Vec<String>)> {
            let checks: Vec<_> = engine.checks().cloned().collect();
            engine
                .evaluate(InputKind::DockerContainer, doc, &|c| {
                    c.id == "CIS-DOCKER-5.23" || c.id == "CIS-DOCKER-5.24"
                })
                .into_iter()
                .map(|(i, o)| {
                    let hits = o.deny.iter().map(|h| h.message.clone()).collect();
                    (checks[i].id.clone(), (format!("{:?}", o.status), hits))
                })
                .collect()
        };
        let web = judge(&container("aaaa", "web", json!([])));
        assert_eq!(web["CIS-DOCKER-5.23"].0, "Warn");
        assert_eq!(
            web["CIS-DOCKER-5.23"].1,
            ["container web: `docker exec web sh` in the audit log at 2026-12-01T09:14:02Z was started with --privileged"]
        );
        assert_eq!(
            web["CIS-DOCKER-5.24"].0, "Pass",
            "uid 1000 is not root: {web:?}"
        );
        let by_id = judge(&container("4f1c2d", "db", json!([])));
        assert_eq!(by_id["CIS-DOCKER-5.23"].0, "Pass");
        assert_eq!(by_id["CIS-DOCKER-5.24"].0, "Warn", "{by_id:?}");
        let live = judge(&container(
            "bbbb",
            "cache",
            json!([{"privileged": true, "user": "root", "cmd": "sh"}]),
        ));
        assert_eq!(live["CIS-DOCKER-5.23"].0, "Warn");
        assert!(
            live["CIS-DOCKER-5.23"].1[0].contains("exec session `sh` that the daemon still holds")
        );
        assert_eq!(live["CIS-DOCKER-5.24"].0, "Warn");
        let clean = judge(&container(
            "cccc",
            "quiet",
            json!([{"privileged": false, "user": "", "cmd": "sh"}]),
        ));
        assert_eq!(clean["CIS-DOCKER-5.23"].0, "Pass");
        assert_eq!(clean["CIS-DOCKER-5.24"].0, "Pass");
    }

    #[test]
    fn dockerd_flags() {
        let cmd: Vec<String> = "/usr/bin/dockerd -H fd:// -H tcp://0.0.0.0:2375 --tlsverify --icc=false --log-level debug --userland-proxy=false -D --containerd=/run/containerd/containerd.sock"
            .split(' ')
            .map(str::to_string)
            .collect();
        let f = parse_flags(&cmd, BOOLEAN_FLAGS);
        assert_eq!(f["H"], ["fd://", "tcp://0.0.0.0:2375"]);
        assert_eq!(f["tlsverify"], ["true"]);
        assert_eq!(f["icc"], ["false"]);
        assert_eq!(f["log-level"], ["debug"]);
        assert_eq!(f["D"], ["true"]);
        assert_eq!(f["containerd"], ["/run/containerd/containerd.sock"]);
    }

    #[test]
    fn the_daemon_behind_docker_host_is_judged() {
        let d = |pid: u32, args: &str| (pid, args.split(' ').map(str::to_string).collect());
        let daemons = vec![
            d(
                10,
                "dockerd -H fd:// --containerd=/run/containerd/containerd.sock",
            ),
            d(20, "dockerd -H unix:///tmp/t/docker.sock --icc=false"),
        ];
        let pick = |h| pick_daemon(daemons.clone(), h).map(|(pid, _)| pid);
        assert_eq!(pick(Some("unix:///tmp/t/docker.sock")), Some(20));
        assert_eq!(pick(None), Some(10));
        assert_eq!(
            pick(Some("tcp://10.0.0.1:2376")),
            Some(10),
            "the first when none listens there"
        );
    }
}
