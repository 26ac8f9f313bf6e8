//! `holdfast plugin install|uninstall`: copying a plugin into the user's plugin
//! directory, and removing it from there only.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::discover::{ask_info, Answer};
use crate::Plugin;

/// Why a plugin could not be installed or removed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{path}: not a plugin: {reason}")]
    NotAPlugin { path: PathBuf, reason: String },
    #[error("{0}: neither an executable file nor a directory holding one")]
    NotExecutable(PathBuf),
    #[error("a plugin named `{name}` is already installed at {path}; uninstall it first")]
    Exists { name: String, path: PathBuf },
    #[error("no installed plugin named `{0}` in {1}")]
    NotInstalled(String, PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Installs the plugin at `from` (an executable, or a directory holding one plugin and
/// its files) into `dir` under its manifest name; returns where it is now.
pub fn install(from: &Path, dir: &Path) -> Result<Plugin, InstallError> {
    let meta = std::fs::metadata(from).map_err(io(from))?;
    // A directory is searched as a plugin root, which already asked its plugin `info`.
    let (exe, manifest, is_dir) = if meta.is_dir() {
        let found = crate::discover(&[from.to_path_buf()], None);
        match found.plugins.into_iter().next() {
            Some(p) => (p.path, p.manifest, true),
            None => {
                return Err(match found.broken.into_iter().next() {
                    Some(b) => InstallError::NotAPlugin {
                        path: b.path,
                        reason: b.reason,
                    },
                    None => InstallError::NotExecutable(from.to_path_buf()),
                })
            }
        }
    } else if meta.permissions().mode() & 0o111 != 0 {
        match ask_info(from) {
            Answer::Manifest(m) => (from.to_path_buf(), m, false),
            Answer::Broken(reason) => {
                return Err(InstallError::NotAPlugin {
                    path: from.to_path_buf(),
                    reason,
                })
            }
        }
    } else {
        return Err(InstallError::NotExecutable(from.to_path_buf()));
    };
    // The name was checked by the manifest (letters, digits, `-_.`): safe as a file name.
    let target = dir.join(&manifest.name);
    if target.symlink_metadata().is_ok() {
        return Err(InstallError::Exists {
            name: manifest.name,
            path: target,
        });
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = if is_dir {
        copy_tree(from, &target)?;
        target.join(exe.strip_prefix(from).expect("found under the directory"))
    } else {
        std::fs::copy(&exe, &target).map_err(io(&target))?;
        target
    };
    Ok(Plugin { path, manifest })
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), InstallError> {
    std::fs::create_dir(to).map_err(io(to))?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let kind = entry.file_type().map_err(io(&src))?;
        if kind.is_dir() {
            copy_tree(&src, &dst)?;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst).map_err(io(&dst))?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&src).map_err(io(&src))?;
            std::os::unix::fs::symlink(target, &dst).map_err(io(&dst))?;
        }
    }
    Ok(())
}

/// Removes the installed plugin of that name from `dir` (never anything outside it).
pub fn uninstall(name: &str, dir: &Path) -> Result<PathBuf, InstallError> {
    let not_installed = || InstallError::NotInstalled(name.to_string(), dir.to_path_buf());
    if !holdfast_plugin::valid_name(name) {
        return Err(not_installed());
    }
    let target = dir.join(name);
    let meta = target.symlink_metadata().map_err(|_| not_installed())?;
    if meta.is_dir() {
        std::fs::remove_dir_all(&target).map_err(io(&target))?;
    } else {
        std::fs::remove_file(&target).map_err(io(&target))?;
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_under_the_manifest_name_and_uninstalls() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("whatever.sh");
        std::fs::write(
            &src,
            "#!/bin/sh\necho '{\"protocol\":1,\"name\":\"tidy\",\"version\":\"1\",\"commands\":[\"scan/rootfs\"]}'\n",
        )
        .unwrap();
        std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o755)).unwrap();
        let dir = tmp.path().join("plugins");
        let p = install(&src, &dir).unwrap();
        assert_eq!(p.path, dir.join("tidy"));
        assert!(matches!(
            install(&src, &dir),
            Err(InstallError::Exists { .. })
        ));
        assert_eq!(
            crate::discover(std::slice::from_ref(&dir), None)
                .plugins
                .len(),
            1
        );
        uninstall("tidy", &dir).unwrap();
        assert!(!dir.join("tidy").exists());
        assert!(matches!(
            uninstall("tidy", &dir),
            Err(InstallError::NotInstalled(..))
        ));
        assert!(matches!(
            uninstall("../plugins", &dir),
            Err(InstallError::NotInstalled(..))
        ));
        std::fs::write(tmp.path().join("plain"), "x").unwrap();
        assert!(matches!(
            install(&tmp.path().join("plain"), &dir),
            Err(InstallError::NotExecutable(_))
        ));
    }
}
