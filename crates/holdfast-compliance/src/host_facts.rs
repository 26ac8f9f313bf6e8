//! Facts read from a host (under `--host-root` when one is set) that several benchmarks'
//! input documents share: processes and their flags, small files, owners and modes.

use holdfast_source::host;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;

/// Largest configuration file read (daemon.json, a kubelet config, audit rules).
pub(crate) const MAX_CONFIG: u64 = 1 << 20;

/// Every process whose name is `name`, by pid: its pid and command line.
pub(crate) fn find_processes(name: &str) -> Vec<(u32, Vec<String>)> {
    let proc_dir = host::path("/proc");
    let Ok(entries) = std::fs::read_dir(&proc_dir) else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids.into_iter()
        .filter_map(|pid| {
            let dir = proc_dir.join(pid.to_string());
            let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
            if comm.trim() != name {
                return None;
            }
            let raw = std::fs::read(dir.join("cmdline")).ok()?;
            let args = raw
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            Some((pid, args))
        })
        .collect()
}

/// A command line's flags, without dashes, each with every value it was given. A flag
/// written without `=` takes the next argument unless it is one of `booleans` (then it
/// means `true`) or the next argument is a flag.
pub fn parse_flags(cmdline: &[String], booleans: &[&str]) -> BTreeMap<String, Vec<String>> {
    let mut flags: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut args = cmdline.iter().skip(1).peekable();
    while let Some(arg) = args.next() {
        let Some(flag) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            continue;
        };
        if flag.is_empty() {
            break;
        }
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None if booleans.contains(&flag) => (flag.to_string(), "true".to_string()),
            None => match args.peek() {
                Some(next) if !next.starts_with('-') => {
                    (flag.to_string(), args.next().cloned().unwrap_or_default())
                }
                _ => (flag.to_string(), "true".to_string()),
            },
        };
        flags.entry(name).or_default().push(value);
    }
    flags
}

/// A file of the host, `None` when it does not exist; bounded in size.
pub(crate) fn read_small(path: &str) -> Result<Option<String>, String> {
    let p = host::path(path);
    match std::fs::metadata(&p) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
        Ok(m) if m.len() > MAX_CONFIG => Err(format!("{} bytes is too large to read", m.len())),
        Ok(_) => std::fs::read_to_string(&p)
            .map(Some)
            .map_err(|e| e.to_string()),
    }
}

/// A host file's text, empty when it is missing, unreadable or too large: for facts
/// whose absence is itself the answer (no group members, no mounts).
pub(crate) fn read_or_empty(path: &str) -> String {
    read_small(path).ok().flatten().unwrap_or_default()
}

/// Every file under a host directory, four levels down, at most `max`.
pub(crate) fn tree_files(dir: &str, max: usize) -> Vec<String> {
    files_within(dir, 4, max)
}

/// [`tree_files`] at most `depth` levels down (1: the directory's own files).
pub(crate) fn files_within(dir: &str, depth: usize, max: usize) -> Vec<String> {
    let root = host::path(dir);
    walkdir::WalkDir::new(&root)
        .follow_links(false)
        .max_depth(depth)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .take(max)
        .filter_map(|e| {
            let rel = e.path().strip_prefix(&root).ok()?;
            Some(format!("{dir}/{}", rel.display()))
        })
        .collect()
}

/// User and group names of the host, for owners.
pub(crate) struct NameMaps {
    users: BTreeMap<u32, String>,
    groups: BTreeMap<u32, String>,
}

impl NameMaps {
    pub(crate) fn read() -> Self {
        let parse = |path: &str| -> BTreeMap<u32, String> {
            read_or_empty(path)
                .lines()
                .filter_map(|l| {
                    let mut f = l.split(':');
                    let name = f.next()?;
                    let id = f.nth(1)?.parse().ok()?;
                    Some((id, name.to_string()))
                })
                .collect()
        };
        NameMaps {
            users: parse("/etc/passwd"),
            groups: parse("/etc/group"),
        }
    }
}

/// Type, mode, owner and group of a host path; `{"exists": false}` when there is none.
pub(crate) fn stat(path: &str, names: &NameMaps) -> Value {
    let Ok(m) = std::fs::symlink_metadata(host::path(path)) else {
        return json!({"exists": false});
    };
    let t = m.file_type();
    let kind = if t.is_dir() {
        "directory"
    } else if t.is_symlink() {
        "symlink"
    } else if t.is_file() {
        "file"
    } else {
        use std::os::unix::fs::FileTypeExt;
        if t.is_socket() {
            "socket"
        } else {
            "other"
        }
    };
    json!({
        "exists": true,
        "type": kind,
        "mode": format!("{:04o}", m.mode() & 0o7777),
        "uid": m.uid(),
        "gid": m.gid(),
        "user": names.users.get(&m.uid()),
        "group": names.groups.get(&m.gid()),
    })
}
