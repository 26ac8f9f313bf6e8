//! The in-memory picture of one staged layer: what each path is, which directories the
//! layer named explicitly, and the modes and owners to give them once they are in place.

use std::collections::BTreeMap;

/// Mode and owner of a directory, applied after every layer is in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DirMeta {
    /// Permission bits, including setuid/setgid/sticky.
    pub mode: u32,
    /// Owner to set (only recorded when running as root and not `0:0`).
    pub owner: Option<(u32, u32)>,
}

/// One staged entry.
#[derive(Debug)]
pub(crate) enum Node {
    Dir(DirNode),
    /// A regular file (or a hard link to one) of this size.
    File {
        size: u64,
    },
    /// A symlink and its target as written (lossily decoded, for resolution only; the
    /// link on disk has the raw bytes).
    Symlink(String),
}

/// A staged directory.
#[derive(Debug, Default)]
pub(crate) struct DirNode {
    /// `Some` when the layer had an entry for this directory; `None` when it was only
    /// created as the parent of something.
    pub explicit: Option<DirMeta>,
    pub children: BTreeMap<String, Node>,
}

/// The components of an image path (`/a/b` → `a`, `b`).
pub(crate) fn components(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty())
}

/// Joins a name to an image directory path.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

impl DirNode {
    /// The node at an image path (`None` for `/` and for absent paths). Does not follow
    /// symlinks: a path through a symlink is absent.
    pub fn lookup(&self, path: &str) -> Option<&Node> {
        let mut dir = self;
        let mut found = None;
        for comp in components(path) {
            let node = dir.children.get(comp)?;
            found = Some(node);
            dir = match node {
                Node::Dir(d) => d,
                // Only valid if this is the last component; checked below.
                _ => &EMPTY,
            };
        }
        // A path that went through a non-directory was not found: `EMPTY` has no
        // children, so any further component returned `None` above.
        found
    }

    /// The directory at an image path, `/` included.
    pub fn dir_mut(&mut self, path: &str) -> Option<&mut DirNode> {
        let mut dir = self;
        for comp in components(path) {
            dir = match dir.children.get_mut(comp)? {
                Node::Dir(d) => d,
                _ => return None,
            };
        }
        Some(dir)
    }

    /// The target of the symlink at `path`, if there is one.
    pub fn link_of(&self, path: &str) -> Option<&str> {
        match self.lookup(path)? {
            Node::Symlink(t) => Some(t),
            _ => None,
        }
    }

    /// Whether a directory on the way to `path` (its last component excluded) is a
    /// symlink of this layer.
    pub fn parent_has_link(&self, path: &str) -> bool {
        let mut dir = self;
        let mut comps = components(path).peekable();
        while let Some(comp) = comps.next() {
            if comps.peek().is_none() {
                return false;
            }
            match dir.children.get(comp) {
                Some(Node::Dir(d)) => dir = d,
                Some(Node::Symlink(_)) => return true,
                _ => return false,
            }
        }
        false
    }
}

static EMPTY: DirNode = DirNode {
    explicit: None,
    children: BTreeMap::new(),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_does_not_go_through_files_or_links() {
        let mut root = DirNode::default();
        let mut a = DirNode::default();
        a.children.insert("f".into(), Node::File { size: 3 });
        root.children.insert("a".into(), Node::Dir(a));
        root.children.insert("l".into(), Node::Symlink("/a".into()));
        assert!(matches!(root.lookup("/a/f"), Some(Node::File { size: 3 })));
        assert!(root.lookup("/a/f/g").is_none());
        assert!(root.lookup("/l/f").is_none());
        assert_eq!(root.link_of("/l"), Some("/a"));
        assert!(root.parent_has_link("/l/f"));
        assert!(!root.parent_has_link("/l"));
        assert!(root.dir_mut("/a").is_some());
        assert!(root.dir_mut("/a/f").is_none());
    }
}
