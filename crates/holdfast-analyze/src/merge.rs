//! Applying layers bottom to top, as the OCI image spec's `layer.md` describes: an upper
//! layer's file replaces the lower one at the same path, `.wh.NAME` deletes NAME,
//! `.wh..wh..opq` hides everything a lower layer had below that directory.
//!
//! Paths are placed through the symlinks of the layers below (and the same layer), so a
//! file written "through" a symlinked directory lands where the link points, inside the
//! image root. Nothing a lower layer found is thrown away: replaced and deleted results are
//! kept as hidden, because their bytes are still in the image.

use std::collections::{BTreeMap, HashMap};

use holdfast_source::path::{resolve, resolve_parent};

use crate::analyzer::FileFact;
use crate::layer::{FileResult, LayerAnalysis};

/// A file result and the layer (index, bottom first) it came from.
#[derive(Debug, Clone)]
pub struct Placed {
    pub layer: usize,
    pub result: FileResult,
}

/// The merged view of all layers.
#[derive(Debug, Default)]
pub struct MergedFs {
    /// Per path, per analyzer: every result bottom first; the last one is visible unless
    /// the path was deleted (then the whole stack is in `removed`).
    pub stacks: BTreeMap<String, BTreeMap<String, Vec<Placed>>>,
    /// Results whose file a later layer deleted.
    pub removed: Vec<Placed>,
    /// Symlinks of the merged filesystem: path → target as written.
    pub symlinks: HashMap<String, String>,
}

impl MergedFs {
    /// Resolves a path through the merged symlinks, inside the image root.
    pub fn resolve(&self, path: &str) -> Option<String> {
        resolve(path, |p| self.symlinks.get(p).map(String::as_str))
    }

    /// The visible result of one analyzer at a path.
    pub fn visible(&self, path: &str, analyzer: &str) -> Option<&Placed> {
        self.stacks.get(path)?.get(analyzer)?.last()
    }

    /// Every visible result, in path order.
    pub fn visible_all(&self) -> impl Iterator<Item = &Placed> {
        self.stacks
            .values()
            .flat_map(|by_analyzer| by_analyzer.values().filter_map(|s| s.last()))
    }

    /// Removes `path` and everything below it (or only below it, for opaque dirs).
    fn delete(&mut self, path: &str, include_self: bool) {
        let prefix = if path == "/" {
            "/".to_string()
        } else {
            format!("{path}/")
        };
        let mut doomed: Vec<String> = self
            .stacks
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        if include_self && self.stacks.contains_key(path) {
            doomed.push(path.to_string());
        }
        for k in doomed {
            if let Some(by_analyzer) = self.stacks.remove(&k) {
                self.removed.extend(by_analyzer.into_values().flatten());
            }
        }
        self.symlinks
            .retain(|k, _| !(k.starts_with(&prefix) || (include_self && k == path)));
    }
}

/// Merges layer analyses (bottom first) into one filesystem view.
pub fn merge(layers: &[LayerAnalysis]) -> MergedFs {
    let mut fs = MergedFs::default();
    for (index, layer) in layers.iter().enumerate() {
        // Deletions apply to what lower layers put there, before this layer adds anything.
        for w in &layer.whiteouts {
            let at = place(&fs, w);
            fs.delete(&at, true);
        }
        for d in &layer.opaque_dirs {
            let at = fs.resolve(d).unwrap_or_else(|| d.clone());
            fs.delete(&at, false);
        }
        for p in &layer.non_links {
            let at = place(&fs, p);
            fs.symlinks.remove(&at);
        }
        for (p, target) in &layer.symlinks {
            let at = place(&fs, p);
            fs.symlinks.insert(at, target.clone());
        }
        for r in &layer.files {
            let at = place(&fs, &r.path);
            let mut result = r.clone();
            if at != r.path {
                relocate(&mut result, &r.path, &at);
            }
            result.path = at.clone();
            fs.stacks
                .entry(at)
                .or_default()
                .entry(r.analyzer.clone())
                .or_default()
                .push(Placed {
                    layer: index,
                    result,
                });
        }
    }
    fs
}

/// Rewrites the paths facts recorded for a file that the merge placed elsewhere (written
/// through a symlinked directory). Paths inside archives (`a.jar!/b.jar`) keep their tail.
fn relocate(result: &mut FileResult, from: &str, to: &str) {
    for fact in &mut result.facts {
        if let FileFact::Packages(ps) = fact {
            for p in ps {
                if let Some(rest) = p.path.strip_prefix(from) {
                    p.path = format!("{to}{rest}");
                }
            }
        }
    }
}

/// Where a layer's path lands: its parent directories resolved through the symlinks
/// merged so far, its last component as written.
fn place(fs: &MergedFs, path: &str) -> String {
    resolve_parent(path, |p| fs.symlinks.get(p).map(String::as_str))
        .unwrap_or_else(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(path: &str) -> FileResult {
        FileResult {
            path: path.into(),
            analyzer: "t".into(),
            facts: vec![FileFact::PackageLicense {
                package: path.into(),
                licenses: vec![],
            }],
        }
    }

    #[test]
    fn whiteouts_opaque_dirs_and_links() {
        let l0 = LayerAnalysis {
            files: vec![
                result("/a/x"),
                result("/a/y"),
                result("/b/z"),
                result("/real/q"),
            ],
            symlinks: vec![("/link".into(), "/real".into())],
            ..Default::default()
        };
        let l1 = LayerAnalysis {
            whiteouts: vec!["/a/x".into()],
            opaque_dirs: vec!["/b".into()],
            files: vec![result("/link/w"), result("/b/new")],
            ..Default::default()
        };
        let fs = merge(&[l0, l1]);
        let visible: Vec<&str> = fs.visible_all().map(|p| p.result.path.as_str()).collect();
        assert_eq!(visible, vec!["/a/y", "/b/new", "/real/q", "/real/w"]);
        let removed: Vec<&str> = fs.removed.iter().map(|p| p.result.path.as_str()).collect();
        assert_eq!(removed, vec!["/a/x", "/b/z"]);
    }

    #[test]
    fn upper_file_hides_lower_but_keeps_it() {
        let l0 = LayerAnalysis {
            files: vec![result("/f")],
            ..Default::default()
        };
        let l1 = LayerAnalysis {
            files: vec![result("/f")],
            ..Default::default()
        };
        let fs = merge(&[l0, l1]);
        let stack = &fs.stacks["/f"]["t"];
        assert_eq!(stack.len(), 2);
        assert_eq!(fs.visible("/f", "t").unwrap().layer, 1);
    }
}
