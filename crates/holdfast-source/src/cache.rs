//! The on-disk cache of per-layer analysis results.
//!
//! An entry is keyed by the layer's diff_id and by the analyzer-set key (a hash of the
//! names and versions of every analyzer that ran), so changing one analyzer invalidates
//! exactly the results it helped produce. Entries are zstd-compressed bytes whose meaning
//! belongs to the caller. Writes go to a temporary file in the same directory and are
//! renamed into place, so readers (other processes too) see a whole entry or none.
//!
//! Besides the results, the cache keeps a small index from compressed blob digests to the
//! diff_ids they inflate to ([`LayerCache::record_blob`]), written once a blob was
//! verified, and per-layer lock files: a scan that is about to analyse a layer claims it
//! ([`LayerCache::claim`]); another scan of the same layer, in this process or another
//! one, waits for that claim and then finds the result instead of downloading and
//! analysing the layer again. The locks are advisory `flock`s, released by the kernel if
//! the holder dies, so a crashed scan never blocks the next one.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use fs4::fs_std::FileExt;

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
        self.keyed_path("layers", set_key, diff_id, "zst")
    }

    /// `DIR/KIND/SET/ALG-HEX.EXT`, or `None` when a part could name a path: the digest
    /// comes from the image, so only `alg:hex` with alphanumeric parts is accepted.
    fn keyed_path(&self, kind: &str, set_key: &str, digest: &str, ext: &str) -> Option<PathBuf> {
        let (alg, hex) = digest_parts(digest)?;
        if !is_key_part(set_key) {
            return None;
        }
        Some(
            self.dir
                .join(kind)
                .join(set_key)
                .join(format!("{alg}-{hex}.{ext}")),
        )
    }

    /// Remembers that the compressed blob `digest` inflates to the layer `diff_id`.
    /// Call only once both were verified (the blob's hash and the tar's hash).
    pub fn record_blob(&self, digest: &str, diff_id: &str) -> Result<(), SourceError> {
        let Some(path) = self.keyed_path("blobs", "sha", digest, "diffid") else {
            return Err(SourceError::InvalidTarget(format!(
                "`{digest}` is not a digest that can key the cache"
            )));
        };
        if digest_parts(diff_id).is_none() {
            return Err(SourceError::InvalidTarget(format!(
                "`{diff_id}` is not a digest"
            )));
        }
        write_atomic(&path, diff_id.as_bytes())
    }

    /// The diff_id a compressed blob was seen to inflate to, if it was.
    pub fn diff_id_for_blob(&self, digest: &str) -> Option<String> {
        let path = self.keyed_path("blobs", "sha", digest, "diffid")?;
        let text = std::fs::read_to_string(path).ok()?;
        let text = text.trim();
        digest_parts(text).map(|_| text.to_string())
    }

    /// Claims the right to analyse a layer. Returns `Ok(None)` when another scan holds
    /// the claim; see [`LayerCache::wait_claim`].
    pub fn claim(&self, set_key: &str, diff_id: &str) -> Result<Option<LayerClaim>, SourceError> {
        let (file, path) = self.lock_file(set_key, diff_id)?;
        match FileExt::try_lock_exclusive(&file) {
            Ok(true) => Ok(Some(LayerClaim { _file: file })),
            Ok(false) => Ok(None),
            Err(e) => Err(SourceError::io(path, e)),
        }
    }

    /// Waits until nobody else holds the layer's claim, then holds it.
    pub fn wait_claim(&self, set_key: &str, diff_id: &str) -> Result<LayerClaim, SourceError> {
        let (file, path) = self.lock_file(set_key, diff_id)?;
        FileExt::lock_exclusive(&file).map_err(|e| SourceError::io(path, e))?;
        Ok(LayerClaim { _file: file })
    }

    fn lock_file(&self, set_key: &str, diff_id: &str) -> Result<(File, PathBuf), SourceError> {
        let Some(path) = self.keyed_path("locks", set_key, diff_id, "lock") else {
            return Err(SourceError::InvalidTarget(format!(
                "`{diff_id}` is not a digest that can key the cache"
            )));
        };
        let open = || {
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
        };
        // The directory exists after the first claim of a set: create it only when missing.
        let file = match open() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let dir = path.parent().expect("keyed paths have a parent");
                std::fs::create_dir_all(dir).map_err(|e| SourceError::io(dir, e))?;
                open()
            }
            opened => opened,
        }
        .map_err(|e| SourceError::io(&path, e))?;
        Ok((file, path))
    }

    /// Counts the cached layer results.
    pub fn info(&self) -> Result<CacheInfo, SourceError> {
        let mut info = CacheInfo::default();
        for (_, meta) in self.entries()? {
            info.entries += 1;
            info.bytes += meta.len();
            if let Ok(m) = meta.modified() {
                info.oldest = Some(info.oldest.map_or(m, |o: SystemTime| o.min(m)));
                info.newest = Some(info.newest.map_or(m, |o: SystemTime| o.max(m)));
            }
        }
        Ok(info)
    }

    /// Removes layer results (and blob index entries and idle lock files) last written
    /// more than `older_than` ago, or all of them. Returns how many results went.
    pub fn clean(&self, older_than: Option<Duration>) -> Result<CacheInfo, SourceError> {
        let now = SystemTime::now();
        let old = |meta: &std::fs::Metadata| match older_than {
            None => true,
            Some(age) => meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|d| d > age),
        };
        let mut removed = CacheInfo::default();
        for (path, meta) in self.entries()? {
            if old(&meta) && std::fs::remove_file(&path).is_ok() {
                removed.entries += 1;
                removed.bytes += meta.len();
            }
        }
        for kind in ["blobs", "locks"] {
            for (path, meta) in walk_files(&self.dir.join(kind))? {
                if !old(&meta) {
                    continue;
                }
                if kind == "locks" {
                    // A held lock belongs to a running scan: leave it.
                    let Ok(f) = std::fs::OpenOptions::new().write(true).open(&path) else {
                        continue;
                    };
                    if !matches!(FileExt::try_lock_exclusive(&f), Ok(true)) {
                        continue;
                    }
                }
                let _ = std::fs::remove_file(&path);
            }
        }
        Ok(removed)
    }

    /// Every result file with its metadata.
    fn entries(&self) -> Result<Vec<(PathBuf, std::fs::Metadata)>, SourceError> {
        Ok(walk_files(&self.dir.join("layers"))?
            .into_iter()
            .filter(|(p, _)| p.extension().is_some_and(|e| e == "zst"))
            .collect())
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
        let compressed = zstd::encode_all(bytes, 3).map_err(|e| SourceError::io(&path, e))?;
        write_atomic(&path, &compressed)
    }
}

/// Held while a scan analyses a layer; dropping it lets waiting scans go on.
#[derive(Debug)]
pub struct LayerClaim {
    _file: File,
}

/// What the cache holds (or what a clean removed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheInfo {
    /// Layer results.
    pub entries: u64,
    /// Their size on disk, compressed.
    pub bytes: u64,
    pub oldest: Option<SystemTime>,
    pub newest: Option<SystemTime>,
}

/// Whether `s` can be one component of a cache key: alphanumeric, never empty.
fn is_key_part(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The `alg` and `hex` of an `alg:hex` digest whose parts can key the cache.
fn digest_parts(digest: &str) -> Option<(&str, &str)> {
    let (alg, hex) = digest.split_once(':')?;
    (is_key_part(alg) && is_key_part(hex)).then_some((alg, hex))
}

/// Writes a file by renaming a finished temporary file over it: readers see all or none.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SourceError> {
    let dir = path.parent().expect("cache paths have a parent");
    std::fs::create_dir_all(dir).map_err(|e| SourceError::io(dir, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| SourceError::io(dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| SourceError::io(tmp.path(), e))?;
    tmp.persist(path)
        .map_err(|e| SourceError::io(path, e.error))?;
    Ok(())
}

/// Regular files under `root` (two levels: `root/SET/FILE`); nothing when `root` is absent.
fn walk_files(root: &Path) -> Result<Vec<(PathBuf, std::fs::Metadata)>, SourceError> {
    let mut out = Vec::new();
    let sets = match std::fs::read_dir(root) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(SourceError::io(root, e)),
    };
    for set in sets.flatten() {
        let Ok(files) = std::fs::read_dir(set.path()) else {
            continue;
        };
        for f in files.flatten() {
            if let Ok(meta) = f.metadata() {
                if meta.is_file() {
                    out.push((f.path(), meta));
                }
            }
        }
    }
    Ok(out)
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

    #[test]
    fn blob_index_info_and_clean() {
        let d = tempfile::tempdir().unwrap();
        let c = LayerCache::new(d.path());
        assert_eq!(c.info().unwrap().entries, 0);
        c.put("k1", "sha256:aa", b"one").unwrap();
        c.put("k1", "sha256:bb", b"two").unwrap();
        c.record_blob("sha256:cc", "sha256:aa").unwrap();
        assert_eq!(
            c.diff_id_for_blob("sha256:cc").as_deref(),
            Some("sha256:aa")
        );
        assert!(c.record_blob("sha256:cc", "../x").is_err());
        let info = c.info().unwrap();
        assert_eq!(info.entries, 2);
        assert!(info.bytes > 0 && info.oldest.is_some());
        assert_eq!(c.clean(Some(Duration::from_secs(3600))).unwrap().entries, 0);
        assert_eq!(c.clean(None).unwrap().entries, 2);
        assert!(c.get("k1", "sha256:aa").is_none());
        assert!(c.diff_id_for_blob("sha256:cc").is_none());
    }

    #[test]
    fn a_claim_excludes_other_claims_until_dropped() {
        let d = tempfile::tempdir().unwrap();
        let c = LayerCache::new(d.path());
        let first = c.claim("k", "sha256:aa").unwrap().expect("free");
        assert!(c.claim("k", "sha256:aa").unwrap().is_none());
        assert!(c.claim("k", "sha256:bb").unwrap().is_some());
        let c2 = c.clone();
        let waiter = std::thread::spawn(move || {
            let _held = c2.wait_claim("k", "sha256:aa").unwrap();
            std::time::Instant::now()
        });
        std::thread::sleep(Duration::from_millis(200));
        let released = std::time::Instant::now();
        drop(first);
        assert!(waiter.join().unwrap() >= released);
    }
}
