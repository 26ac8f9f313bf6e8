//! Small filesystem helpers shared by staging and flattening.

use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::tree::components;

/// Errors that say the destination filesystem itself is in trouble (full, read-only,
/// failing), as opposed to one entry that cannot be made: these stop the whole run.
pub(crate) fn is_fatal(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::ENOSPC
                | libc::EDQUOT
                | libc::EROFS
                | libc::EIO
                | libc::EMFILE
                | libc::ENFILE
                | libc::ENOMEM
        )
    )
}

/// The host path of an image path below `root`. Image paths are normalized (absolute,
/// no `.` or `..`), so the result is always inside `root`.
pub(crate) fn host_path(root: &Path, image_path: &str) -> PathBuf {
    let rel = image_path.trim_start_matches('/');
    if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    }
}

/// Opens the directory at `image_path` below `root` for `fchmod`/`fchown`, refusing to
/// go through a symlink at any component.
pub(crate) fn open_dir_nofollow(root: &Path, image_path: &str) -> io::Result<File> {
    let flags = libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let mut dir = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(root)?;
    for comp in components(image_path) {
        let name = std::ffi::CString::new(comp)
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: `dir` is an open directory descriptor and `name` is NUL-terminated.
        let fd = unsafe {
            use std::os::fd::AsRawFd;
            libc::openat(dir.as_raw_fd(), name.as_ptr(), libc::O_RDONLY | flags)
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nobody else.
        dir = unsafe {
            use std::os::fd::FromRawFd;
            File::from_raw_fd(fd)
        };
    }
    Ok(dir)
}

/// Whether the effective user is root (owners are applied only then).
pub(crate) fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}
