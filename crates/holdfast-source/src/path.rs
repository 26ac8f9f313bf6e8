//! Paths inside an image: normalizing tar names and resolving symlinks within the image
//! root, never on the host.
//!
//! An image path is always absolute (`/etc/os-release`), `/`-separated, without `.` or
//! `..` components. A `..` that would climb above the root stops at the root, the way the
//! kernel resolves `..` at `/`; callers that must refuse such names (tar entries) ask
//! [`normalize_entry`], which says whether the name tried.

/// A tar entry name after normalization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryName {
    /// The absolute image path.
    pub path: String,
    /// The name had a `..` that climbed above the root.
    pub climbed: bool,
    /// The name started with `/`.
    pub absolute: bool,
}

/// Longest image path accepted; Linux's PATH_MAX. Longer names are refused, which also
/// bounds memory on pathological trees (a 10,000-deep directory chain).
pub const MAX_PATH_BYTES: usize = 4096;

/// Normalizes a raw tar entry name. `None` for names that are empty after normalization,
/// contain NUL, or are longer than [`MAX_PATH_BYTES`].
pub fn normalize_entry(raw: &[u8]) -> Option<EntryName> {
    if raw.contains(&0) || raw.len() > MAX_PATH_BYTES * 2 {
        return None;
    }
    let text = String::from_utf8_lossy(raw);
    let absolute = text.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    let mut climbed = false;
    for comp in text.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    climbed = true;
                }
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return None;
    }
    let mut path = String::with_capacity(text.len() + 1);
    for p in &parts {
        path.push('/');
        path.push_str(p);
    }
    if path.len() > MAX_PATH_BYTES {
        return None;
    }
    Some(EntryName {
        path,
        climbed,
        absolute,
    })
}

/// Normalizes a path, clamping `..` at the root. `None` for empty names or names with NUL.
pub fn normalize(raw: &[u8]) -> Option<String> {
    normalize_entry(raw).map(|n| n.path)
}

/// The parent directory of an image path (`/` for top-level entries and for `/`) and its
/// last component; defined once in `holdfast_model::path` for every crate.
pub use holdfast_model::path::{file_name, parent};

/// Joins a symlink target to the directory holding the link, inside the image root.
pub fn join_link(link_dir: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        normalize(target.as_bytes())
    } else {
        normalize(format!("{link_dir}/{target}").as_bytes())
    }
}

/// Most symlinks followed while resolving one path, as Linux's MAXSYMLINKS.
pub const MAX_SYMLINK_HOPS: usize = 40;

/// Resolves every component of `path` through the image's symlinks, inside the image root.
///
/// `link_of` answers whether an image path is a symlink and where it points. Absolute link
/// targets are taken relative to the image root, and `..` stops at the root, so nothing
/// resolves outside the image. Returns `None` on a loop or more than
/// [`MAX_SYMLINK_HOPS`] links.
pub fn resolve<'a>(path: &str, link_of: impl Fn(&str) -> Option<&'a str>) -> Option<String> {
    resolve_inner(path, &link_of, true)
}

/// Like [`resolve`] but leaves the last component unresolved: where a link itself lives.
pub fn resolve_parent<'a>(path: &str, link_of: impl Fn(&str) -> Option<&'a str>) -> Option<String> {
    resolve_inner(path, &link_of, false)
}

fn resolve_inner<'a>(
    path: &str,
    link_of: &dyn Fn(&str) -> Option<&'a str>,
    follow_last: bool,
) -> Option<String> {
    let mut pending: Vec<String> = normalize(path.as_bytes())?
        .split('/')
        .filter(|c| !c.is_empty())
        .rev()
        .map(str::to_string)
        .collect();
    let mut done = String::new();
    let mut hops = 0;
    while let Some(comp) = pending.pop() {
        let candidate = format!("{done}/{comp}");
        let is_last = pending.is_empty();
        if is_last && !follow_last {
            return Some(candidate);
        }
        match link_of(&candidate) {
            Some(target) => {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return None;
                }
                let dir = if done.is_empty() { "/" } else { done.as_str() };
                let joined = join_link(dir, target).unwrap_or_else(|| "/".to_string());
                // Restart from the root with the link's target followed by what is left.
                for c in joined.split('/').filter(|c| !c.is_empty()).rev() {
                    pending.push(c.to_string());
                }
                done.clear();
                // A target of "/" leaves nothing pending: the path is the root itself.
            }
            None => done = candidate,
        }
    }
    Some(if done.is_empty() {
        "/".to_string()
    } else {
        done
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn entry_names() {
        let n = normalize_entry(b"./usr/lib/../bin/sh").unwrap();
        assert_eq!(n.path, "/usr/bin/sh");
        assert!(!n.climbed && !n.absolute);
        let n = normalize_entry(b"../../etc/passwd").unwrap();
        assert_eq!(n.path, "/etc/passwd");
        assert!(n.climbed);
        assert!(normalize_entry(b"/etc/shadow").unwrap().absolute);
        assert!(normalize_entry(b"./").is_none());
        assert!(normalize_entry(b"a\0b").is_none());
    }

    #[test]
    fn resolves_inside_root_only() {
        let links: HashMap<&str, &str> = [
            ("/etc/os-release", "../usr/lib/os-release"),
            ("/evil", "/../../../../etc/shadow"),
            ("/bin", "usr/bin"),
            ("/loop1", "/loop2"),
            ("/loop2", "loop1"),
        ]
        .into_iter()
        .collect();
        let f = |p: &str| links.get(p).copied();
        assert_eq!(
            resolve("/etc/os-release", f).unwrap(),
            "/usr/lib/os-release"
        );
        assert_eq!(resolve("/evil", f).unwrap(), "/etc/shadow");
        assert_eq!(resolve("/bin/sh", f).unwrap(), "/usr/bin/sh");
        assert_eq!(resolve_parent("/bin", f).unwrap(), "/bin");
        assert!(resolve("/loop1/x", f).is_none());
    }
}
