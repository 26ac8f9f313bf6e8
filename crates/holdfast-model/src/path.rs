//! The two questions every crate asks of an image path: its last component and its
//! parent directory, answered one way everywhere.
//!
//! An image path is absolute (`/etc/os-release`), `/`-separated, without `.` or `..`
//! components and without a trailing `/` (what `holdfast_source::path::normalize` makes of
//! a tar name). These functions only split strings: they never touch the host filesystem,
//! and they accept any string without panicking.
//!
//! At the root, the parent stops: the parent of `/x` is `/`, and the parent of `/` is `/`
//! itself (as `..` at `/` is `/` for the kernel), so walking up with [`parent`] ends at `/`.
//! A string with no `/` at all is taken as a name at the root.

/// The last component of an image path: `x.jar` for `/usr/share/java/x.jar`.
///
/// Empty for `/` and for a path ending in `/`; the whole string when it holds no `/`.
pub fn file_name(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// The parent directory of an image path: `/usr/bin` for `/usr/bin/sh`, `/` for a
/// top-level entry such as `/x`, and `/` for `/` itself.
///
/// A string with no `/` is a name at the root, so its parent is `/` too.
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(file_name("/usr/share/java/x.jar"), "x.jar");
        assert_eq!(file_name("/x"), "x");
        assert_eq!(file_name("x.jar"), "x.jar");
        assert_eq!(file_name("/"), "");
        assert_eq!(file_name("/usr/"), "");
        assert_eq!(file_name(""), "");
        assert_eq!(file_name("/a/é"), "é");
    }

    #[test]
    fn parents_stop_at_the_root() {
        assert_eq!(parent("/usr/bin/sh"), "/usr/bin");
        assert_eq!(parent("/usr/bin"), "/usr");
        assert_eq!(parent("/x"), "/");
        assert_eq!(parent("/"), "/");
        assert_eq!(parent("x"), "/");
        assert_eq!(parent(""), "/");
        assert_eq!(parent("/usr/"), "/usr");
    }

    #[test]
    fn walking_up_ends_at_the_root() {
        let mut p = "/a/b/c";
        let mut seen = vec![p];
        while p != "/" {
            p = parent(p);
            seen.push(p);
        }
        assert_eq!(seen, ["/a/b/c", "/a/b", "/a", "/"]);
    }
}
