//! A container's OCI runtime spec (`config.json`, as containerd stores it and as Podman's
//! storage keeps it) read into the [`ContainerRuntime`] facts the escape checker judges.
//!
//! The spec says what the runtime will do, not which flags asked for it, so the flags are
//! worked back: capabilities beyond the default set are `cap_add`, missing ones
//! `cap_drop`; a namespace absent from `linux.namespaces` is the host's; no seccomp
//! profile is `seccomp=unconfined`. A spec with every capability and no masked paths is
//! what `--privileged` writes, and is reported as privileged.

use std::collections::BTreeSet;
use std::path::Path;

use holdfast_model::{ContainerMount, ContainerProcess, ContainerRuntime};
use serde::Deserialize;

/// The capabilities a container gets when nobody adds or drops any: the set containerd,
/// Docker and runc's spec generator all use.
pub const DEFAULT_CAPABILITIES: [&str; 14] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// The parts of an OCI runtime spec that bear on isolation.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RuntimeSpec {
    pub process: Option<SpecProcess>,
    pub root: Option<SpecRoot>,
    pub mounts: Vec<SpecMount>,
    pub linux: Option<SpecLinux>,
}

/// `process`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SpecProcess {
    pub user: SpecUser,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub capabilities: Option<SpecCapabilities>,
    pub apparmor_profile: String,
    pub no_new_privileges: bool,
}

/// `process.user`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SpecUser {
    pub uid: u32,
    pub gid: u32,
    pub username: String,
}

/// `process.capabilities`; the bounding set limits what any process can ever gain.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SpecCapabilities {
    pub bounding: Vec<String>,
    pub effective: Vec<String>,
    pub permitted: Vec<String>,
}

/// `root`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SpecRoot {
    pub path: String,
    pub readonly: bool,
}

/// One entry of `mounts`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SpecMount {
    pub destination: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub source: String,
    pub options: Vec<String>,
}

/// `linux`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SpecLinux {
    pub namespaces: Vec<SpecNamespace>,
    pub devices: Vec<SpecDevice>,
    pub seccomp: Option<serde_json::Value>,
    pub masked_paths: Vec<String>,
}

/// One entry of `linux.namespaces`; a `path` joins an existing namespace.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SpecNamespace {
    #[serde(rename = "type")]
    pub kind: String,
    pub path: String,
}

/// One entry of `linux.devices`: a device node created in the container.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SpecDevice {
    pub path: String,
}

/// What the host says that the runtime's API does not: its kernel, cgroup version and
/// whether AppArmor is on. Read from the host the socket lives on.
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    pub kernel_version: Option<String>,
    pub cgroup_version: Option<String>,
    pub apparmor: bool,
}

impl HostFacts {
    /// Reads this host's facts from `/proc` and `/sys`.
    pub fn read() -> Self {
        let kernel_version =
            std::fs::read_to_string(crate::host::path("/proc/sys/kernel/osrelease"))
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
        let cgroup_version = Some(
            if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
                "2"
            } else {
                "1"
            }
            .to_string(),
        );
        let apparmor = std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
            .is_ok_and(|s| s.trim() == "Y");
        HostFacts {
            kernel_version,
            cgroup_version,
            apparmor,
        }
    }
}

fn cap_name(c: &str) -> String {
    let upper = c.trim().to_ascii_uppercase();
    upper.strip_prefix("CAP_").unwrap_or(&upper).to_string()
}

/// Which namespace mode a spec gives for `kind`: the host's when it is absent, another
/// process's when it names a path, the container's own otherwise (empty, as Docker says).
fn namespace_mode(spec: &SpecLinux, kind: &str) -> String {
    match spec.namespaces.iter().find(|n| n.kind == kind) {
        None => "host".into(),
        Some(n) if !n.path.is_empty() => format!("container:{}", n.path),
        Some(_) => String::new(),
    }
}

/// Whether a spec mount is a bind mount of a host path.
fn is_bind(m: &SpecMount) -> bool {
    m.kind == "bind" || m.options.iter().any(|o| o == "bind" || o == "rbind")
}

impl RuntimeSpec {
    /// Parses a spec; unknown fields are ignored.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The user the process runs as, `uid:gid` or the name the spec gives.
    pub fn user(&self) -> String {
        let Some(p) = &self.process else {
            return String::new();
        };
        if !p.user.username.is_empty() {
            return p.user.username.clone();
        }
        format!("{}:{}", p.user.uid, p.user.gid)
    }

    /// The isolation facts, for a container `id` named `name` from `image`.
    pub fn runtime(&self, host: &HostFacts) -> ContainerRuntime {
        let linux = self.linux.as_ref();
        let empty = SpecLinux::default();
        let l = linux.unwrap_or(&empty);
        let process = self.process.as_ref();
        let bounding: BTreeSet<String> = process
            .and_then(|p| p.capabilities.as_ref())
            .map(|c| c.bounding.iter().map(|n| cap_name(n)).collect())
            .unwrap_or_default();
        let defaults: BTreeSet<String> =
            DEFAULT_CAPABILITIES.iter().map(|c| c.to_string()).collect();
        let privileged = bounding.contains("SYS_ADMIN")
            && bounding.contains("SYS_MODULE")
            && l.masked_paths.is_empty();
        let (cap_add, cap_drop, devices) = if privileged {
            // `--privileged` grants all of these at once; Docker lists none of them.
            (Vec::new(), Vec::new(), Vec::new())
        } else {
            (
                bounding.difference(&defaults).cloned().collect(),
                defaults.difference(&bounding).cloned().collect(),
                l.devices.iter().map(|d| d.path.clone()).collect(),
            )
        };
        let mut security_opt = Vec::new();
        if l.seccomp.is_none() {
            security_opt.push("seccomp=unconfined".to_string());
        }
        let no_new_privileges = process.is_some_and(|p| p.no_new_privileges);
        if no_new_privileges {
            security_opt.push("no-new-privileges".to_string());
        }
        let mut apparmor_profile = process
            .map(|p| p.apparmor_profile.clone())
            .unwrap_or_default();
        // The spec is what runs: no profile means none, not a default applied later.
        if apparmor_profile.is_empty() && host.apparmor {
            apparmor_profile = "unconfined".into();
        }
        let user_ns = l.namespaces.iter().any(|n| n.kind == "user");
        let mut daemon_security_options = vec!["name=seccomp".to_string()];
        if host.apparmor {
            daemon_security_options.push("name=apparmor".into());
        }
        if user_ns {
            // Root inside a user namespace is not root on the host.
            daemon_security_options.push("name=userns".into());
        }
        ContainerRuntime {
            privileged,
            cap_add,
            cap_drop,
            mounts: self
                .mounts
                .iter()
                .filter(|m| is_bind(m))
                .map(|m| ContainerMount {
                    kind: "bind".into(),
                    source: m.source.clone(),
                    destination: m.destination.clone(),
                    read_write: !m.options.iter().any(|o| o == "ro"),
                })
                .collect(),
            devices,
            pid_mode: namespace_mode(l, "pid"),
            network_mode: namespace_mode(l, "network"),
            ipc_mode: namespace_mode(l, "ipc"),
            uts_mode: namespace_mode(l, "uts"),
            userns_mode: if user_ns {
                "private".into()
            } else {
                "host".into()
            },
            cgroupns_mode: match namespace_mode(l, "cgroup").as_str() {
                "" => "private".into(),
                other => other.to_string(),
            },
            security_opt,
            apparmor_profile,
            user: self.user(),
            readonly_rootfs: self.root.as_ref().is_some_and(|r| r.readonly),
            no_new_privileges,
            daemon_security_options,
            kernel_version: host.kernel_version.clone(),
            cgroup_version: host.cgroup_version.clone(),
            ..ContainerRuntime::default()
        }
    }
}

/// Processes kept per container; a container with more is unusual and the rest are
/// dropped.
pub(crate) const MAX_PROCESSES: usize = 4096;
/// Longest command line kept per process.
const MAX_COMMAND_BYTES: usize = 4096;

/// A command line cut to [`MAX_COMMAND_BYTES`], on a character boundary.
pub(crate) fn clip_command(mut command: String) -> String {
    if command.len() > MAX_COMMAND_BYTES {
        let mut end = MAX_COMMAND_BYTES;
        while !command.is_char_boundary(end) {
            end -= 1;
        }
        command.truncate(end);
    }
    command
}

/// The processes with these host PIDs (at most [`MAX_PROCESSES`]), read from this host's
/// `/proc`; a process that exited meanwhile is left out.
pub fn host_processes(pids: &[u32]) -> Vec<ContainerProcess> {
    pids.iter()
        .take(MAX_PROCESSES)
        .filter_map(|pid| {
            let raw = std::fs::read(crate::host::path(format!("/proc/{pid}/cmdline"))).ok()?;
            let command = String::from_utf8_lossy(&raw)
                .trim_end_matches('\0')
                .replace('\0', " ");
            let status =
                std::fs::read_to_string(crate::host::path(format!("/proc/{pid}/status"))).ok()?;
            let user = status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().next())
                .unwrap_or_default()
                .to_string();
            Some(ContainerProcess {
                pid: pid.to_string(),
                user,
                command: clip_command(command),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> RuntimeSpec {
        serde_json::from_value(json).unwrap()
    }

    fn base() -> serde_json::Value {
        serde_json::json!({
            "process": {
                "user": {"uid": 0, "gid": 0},
                "capabilities": {"bounding": DEFAULT_CAPABILITIES.map(|c| format!("CAP_{c}"))},
            },
            "root": {"path": "rootfs"},
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/dev", "type": "tmpfs", "source": "tmpfs"},
            ],
            "linux": {
                "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"}],
                "seccomp": {"defaultAction": "SCMP_ACT_ERRNO"},
                "maskedPaths": ["/proc/kcore"],
            }
        })
    }

    #[test]
    fn a_default_spec_adds_nothing() {
        let rt = spec(base()).runtime(&HostFacts::default());
        assert!(!rt.privileged);
        assert!(rt.cap_add.is_empty() && rt.cap_drop.is_empty());
        assert!(rt.mounts.is_empty());
        assert_eq!((rt.pid_mode.as_str(), rt.network_mode.as_str()), ("", ""));
        assert!(rt.security_opt.is_empty());
        assert_eq!(rt.user, "0:0");
    }

    #[test]
    fn flags_are_worked_back() {
        let mut s = base();
        s["process"]["capabilities"]["bounding"] =
            serde_json::json!(["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"]);
        s["mounts"].as_array_mut().unwrap().push(serde_json::json!(
            {"destination": "/host-run", "type": "bind", "source": "/var/run", "options": ["rbind", "ro"]}
        ));
        s["linux"]["namespaces"] =
            serde_json::json!([{"type": "mount"}, {"type": "ipc", "path": "/proc/7/ns/ipc"}]);
        s["linux"]["seccomp"] = serde_json::Value::Null;
        s["linux"]["devices"] = serde_json::json!([{"path": "/dev/fuse"}]);
        let rt = spec(s).runtime(&HostFacts {
            apparmor: true,
            ..HostFacts::default()
        });
        assert_eq!(rt.cap_add, ["NET_ADMIN", "SYS_ADMIN"]);
        assert!(rt.cap_drop.contains(&"NET_RAW".to_string()));
        assert_eq!(rt.mounts.len(), 1);
        assert_eq!(rt.mounts[0].source, "/var/run");
        assert!(!rt.mounts[0].read_write);
        assert_eq!(rt.network_mode, "host");
        assert_eq!(rt.pid_mode, "host");
        assert_eq!(rt.ipc_mode, "container:/proc/7/ns/ipc");
        assert_eq!(rt.devices, ["/dev/fuse"]);
        assert_eq!(rt.security_opt, ["seccomp=unconfined"]);
        assert_eq!(rt.apparmor_profile, "unconfined");
        assert!(!rt.privileged);
    }

    #[test]
    fn all_capabilities_without_masks_is_privileged() {
        let mut s = base();
        s["process"]["capabilities"]["bounding"] =
            serde_json::json!(["CAP_SYS_ADMIN", "CAP_SYS_MODULE", "CAP_CHOWN"]);
        s["linux"]["maskedPaths"] = serde_json::json!([]);
        s["linux"]["devices"] = serde_json::json!([{"path": "/dev/sda"}]);
        let rt = spec(s).runtime(&HostFacts::default());
        assert!(rt.privileged);
        assert!(rt.cap_add.is_empty() && rt.devices.is_empty());
    }

    #[test]
    fn processes_of_this_host() {
        let me = std::process::id();
        let p = host_processes(&[me, u32::MAX]);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].pid, me.to_string());
        assert!(!p[0].command.is_empty());
    }
}
