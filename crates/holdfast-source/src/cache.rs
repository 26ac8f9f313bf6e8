//! The on-disk cache of per-layer analysis results.
//!
//! An entry is keyed by the layer's diff_id and by the analyzer-set key (a hash of the
//! names and versions of every analyzer that ran), so changing one analyzer invalidates
//! exactly the results it helped produce. Entries are zstd-compressed bytes whose meaning
//! belongs to the caller. Writes go to a temporary file in the same directory and are
//! renamed into place, so readers (other processes too) see a whole entry or none.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::SourceError;

/// A directory of cached layer results.
#[derive(Debug, Clone)]
pub struct LayerCache {
    dir: PathBuf,
}

impl LayerCache {
    /// The default location: `$XDG_CACHE_HOME/holdfast` (or the platform's cache dir).
    pub fn default_dir() -> PathBuf {
        dirs::cache_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("holdfast")
    }

    /// A cache rooted at `dir`; created on first write.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LayerCache { dir: dir.into() }
    }

    /// The root directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry_path(&self, set_key: &str, diff_id: &str) -> Option<PathBuf> {
        // The diff_id comes from the image: accept only `alg:hex` so it cannot name a path.
        let (alg, hex) = diff_id.split_once(':')?;
        let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
        if !ok(alg) || !ok(hex) || !ok(set_key) {
            return None;
        }
        Some(
            self.dir
                .join("layers")
                .join(set_key)
                .join(format!("{alg}-{hex}.zst")),
        )
    }

    /// The cached bytes for a layer, if present and readable.
    pub fn get(&self, set_key: &str, diff_id: &str) -> Option<Vec<u8>> {
        let path = self.entry_path(set_key, diff_id)?;
        let compressed = std::fs::read(path).ok()?;
        zstd::decode_all(&compressed[..]).ok()
    }

    /// Stores bytes for a layer, atomically.
    pub fn put(&self, set_key: &str, diff_id: &str, bytes: &[u8]) -> Result<(), SourceError> {
        let Some(path) = self.entry_path(set_key, diff_id) else {
            return Err(SourceError::InvalidTarget(format!(
                "`{diff_id}` is not a digest that can key the cache"
            )));
        };
        let dir = path.parent().expect("entry paths have a parent");
        std::fs::create_dir_all(dir).map_err(|e| SourceError::io(dir, e))?;
        let compressed = zstd::encode_all(bytes, 3).map_err(|e| SourceError::io(&path, e))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| SourceError::io(dir, e))?;
        tmp.write_all(&compressed)
            .map_err(|e| SourceError::io(tmp.path(), e))?;
        tmp.persist(&path)
            .map_err(|e| SourceError::io(&path, e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refuses_path_like_ids() {
        let d = tempfile::tempdir().unwrap();
        let c = LayerCache::new(d.path());
        c.put("k1", "sha256:abcd", b"hello").unwrap();
        assert_eq!(c.get("k1", "sha256:abcd").unwrap(), b"hello");
        assert!(c.get("k2", "sha256:abcd").is_none());
        assert!(c.put("k1", "sha256:../../x", b"no").is_err());
    }
}
