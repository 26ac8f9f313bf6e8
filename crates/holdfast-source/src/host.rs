//! Where the host's files are. On the host itself that is `/`; when holdfast runs in a
//! container with the host's root mounted into it (`docker run -v /:/host:ro ...
//! --host-root /host`), paths the host's programs report — containerd's content root and
//! snapshot mounts, Podman's storage, `/proc` entries of containers' processes, the
//! engines' default sockets — are read under that directory instead.

use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

static ROOT: OnceLock<PathBuf> = OnceLock::new();

/// Sets the host's root for this process (once, before any scan); an error names a
/// second, different setting or a directory that is not there.
pub fn set_root(dir: &Path) -> Result<(), String> {
    if !dir.is_dir() {
        return Err(format!(
            "--host-root `{}` is not a directory",
            dir.display()
        ));
    }
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("--host-root `{}`: {e}", dir.display()))?;
    let set = ROOT.get_or_init(|| dir.clone());
    if *set != dir {
        return Err(format!("the host root is already `{}`", set.display()));
    }
    Ok(())
}

/// The host's root: `/` unless [`set_root`] said otherwise.
pub fn root() -> &'static Path {
    ROOT.get().map(PathBuf::as_path).unwrap_or(Path::new("/"))
}

/// `path`, a path on the host, as this process reaches it: under the host root. `..`
/// components are dropped, so a reported path cannot climb out of the root.
pub fn path(path: impl AsRef<Path>) -> PathBuf {
    path_under(root(), path.as_ref())
}

fn path_under(root: &Path, path: &Path) -> PathBuf {
    if root == Path::new("/") {
        return path.to_path_buf();
    }
    let mut out = root.to_path_buf();
    for c in path.components() {
        if let Component::Normal(part) = c {
            out.push(part);
        }
    }
    out
}

/// A default socket: `default` when it exists here, else the host's one under the
/// host root when that exists, else `default` (so errors name the usual path).
pub fn default_socket(default: &Path) -> PathBuf {
    default_socket_under(root(), default)
}

fn default_socket_under(root: &Path, default: &Path) -> PathBuf {
    if default.exists() || root == Path::new("/") {
        return default.to_path_buf();
    }
    let on_host = path_under(root, default);
    if on_host.exists() {
        on_host
    } else {
        default.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The process-wide root is never set here: other tests of this binary read /proc.
    #[test]
    fn paths_stay_under_the_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("run")).unwrap();
        let root = dir.path();
        assert_eq!(
            path_under(root, Path::new("/proc/7/status")),
            root.join("proc/7/status")
        );
        assert_eq!(
            path_under(root, Path::new("/var/../../etc/shadow")),
            root.join("var/etc/shadow")
        );
        assert_eq!(
            path_under(Path::new("/"), Path::new("/proc/1")),
            PathBuf::from("/proc/1")
        );
        let sock = root.join("run/x.sock");
        std::fs::write(&sock, "").unwrap();
        assert_eq!(default_socket_under(root, Path::new("/run/x.sock")), sock);
        assert_eq!(
            default_socket_under(root, Path::new("/run/none.sock")),
            PathBuf::from("/run/none.sock")
        );
        assert!(set_root(&root.join("missing")).is_err());
        assert_eq!(super::root(), Path::new("/"));
    }
}
