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
//!
//! A cache may have a second tier, a [`RemoteLayerStore`] shared by many machines (an S3
//! bucket: `holdfast-remote-cache`). Its objects are named like the local files
//! (`layers/SET/ALG-HEX.zst`, `blobs/sha/ALG-HEX.diffid`) and hold the same bytes. A local
//! miss asks the remote and keeps what it answers, once it decodes, by the same atomic
//! write; a result stored locally is uploaded too. The remote is a speed-up, never a
//! dependency: its errors are logged (`tracing::warn!`, naming the store, never a
//! credential), the scan reads the image instead, and the remote rests for
//! [`REMOTE_REST`] before it is asked again, so an unreachable store costs one timeout per
//! rest, not one per layer. Claims stay local: two machines may analyse the same new layer
//! at once, and the later upload replaces the earlier, identical one.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use fs4::fs_std::FileExt;

use crate::SourceError;

/// How long the remote tier is left alone after one of its calls failed.
pub const REMOTE_REST: Duration = Duration::from_secs(60);

/// The error a [`RemoteLayerStore`] reports; its message must name no credential.
pub type RemoteStoreError = Box<dyn std::error::Error + Send + Sync>;

/// A second tier for the layer cache, shared by the machines of a fleet: a flat store of
/// objects named by the cache's relative file names (`layers/SET/ALG-HEX.zst`). The calls
/// block; the cache makes them from the scan's own threads.
pub trait RemoteLayerStore: Send + Sync {
    /// Where the store is, for messages: a URL without credentials (`s3://bucket/prefix`).
    fn location(&self) -> &str;
    /// The object named `key`, or `None` when the store does not hold it.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, RemoteStoreError>;
    /// Stores `bytes` as the object named `key`, replacing any object of that name whole.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), RemoteStoreError>;
}

/// A directory of cached layer results, with an optional remote tier.
#[derive(Debug, Clone)]
pub struct LayerCache {
    dir: PathBuf,
    remote: Option<Arc<RemoteTier>>,
}

/// The remote store with its rest after a failure (shared by every clone of the cache).
struct RemoteTier {
    store: Arc<dyn RemoteLayerStore>,
    resting_until: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for RemoteTier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteTier")
            .field("location", &self.store.location())
            .finish_non_exhaustive()
    }
}

impl RemoteTier {
    /// Whether the store failed less than [`REMOTE_REST`] ago.
    fn resting(&self) -> bool {
        let until = *self.resting_until.lock().unwrap_or_else(|e| e.into_inner());
        until.is_some_and(|t| Instant::now() < t)
    }

    /// Logs a failed call and rests the store. Scans go on without it.
    fn failed(&self, doing: &str, key: &str, error: &dyn std::fmt::Display) {
        tracing::warn!(
            "layer cache: cannot {doing} `{key}` in the remote cache {}: {error}; \
             going on without it for {}s",
            self.store.location(),
            REMOTE_REST.as_secs()
        );
        *self.resting_until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + REMOTE_REST);
    }

    /// The object `key`, or `None` (missing, or the store failed or rests).
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        if self.resting() {
            return None;
        }
        match self.store.get(key) {
            Ok(found) => found,
            Err(e) => {
                self.failed("read", key, &e);
                None
            }
        }
    }

    /// Uploads `bytes` as `key` unless the store rests; failures are logged only.
    fn put(&self, key: &str, bytes: &[u8]) {
        if self.resting() {
            return;
        }
        if let Err(e) = self.store.put(key, bytes) {
            self.failed("write", key, &e);
        }
    }
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
        LayerCache {
            dir: dir.into(),
            remote: None,
        }
    }

    /// This cache with `store` as its second tier: local misses are looked up there and
    /// kept, and new results are uploaded to it (see the module documentation).
    pub fn with_remote(self, store: Arc<dyn RemoteLayerStore>) -> Self {
        LayerCache {
            remote: Some(Arc::new(RemoteTier {
                store,
                resting_until: Mutex::new(None),
            })),
            ..self
        }
    }

    /// Where the remote tier is, when there is one (a URL without credentials).
    pub fn remote_location(&self) -> Option<&str> {
        self.remote.as_ref().map(|r| r.store.location())
    }

    /// The root directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `DIR/KIND/SET/ALG-HEX.EXT`, or `None` when a part could name a path (see
    /// [`keyed_name`]).
    fn keyed_path(&self, kind: &str, set_key: &str, digest: &str, ext: &str) -> Option<PathBuf> {
        Some(self.dir.join(keyed_name(kind, set_key, digest, ext)?))
    }

    /// Reads a local file, or on a miss the remote object of the same name, which is kept
    /// locally once `check` accepts it. `check` turns the stored bytes into the answer.
    fn read_tiered<T>(&self, name: &str, check: impl Fn(&[u8]) -> Option<T>) -> Option<T> {
        let path = self.dir.join(name);
        if let Some(found) = std::fs::read(&path).ok().and_then(|b| check(&b)) {
            return Some(found);
        }
        let remote = self.remote.as_ref()?;
        let bytes = remote.get(name)?;
        let Some(found) = check(&bytes) else {
            tracing::warn!(
                "layer cache: `{name}` in the remote cache {} is not a valid entry; ignored",
                remote.store.location()
            );
            return None;
        };
        if let Err(e) = write_atomic(&path, &bytes) {
            tracing::warn!("layer cache: cannot keep `{name}` from the remote cache: {e}");
        }
        Some(found)
    }

    /// Writes a local file atomically, then uploads it when there is a remote tier (whose
    /// failures are only logged). The local write's outcome is returned.
    fn write_tiered(&self, name: &str, bytes: &[u8]) -> Result<(), SourceError> {
        let local = write_atomic(&self.dir.join(name), bytes);
        if let Some(remote) = &self.remote {
            remote.put(name, bytes);
        }
        local
    }

    /// Remembers that the compressed blob `digest` inflates to the layer `diff_id`.
    /// Call only once both were verified (the blob's hash and the tar's hash).
    pub fn record_blob(&self, digest: &str, diff_id: &str) -> Result<(), SourceError> {
        let Some(name) = keyed_name("blobs", "sha", digest, "diffid") else {
            return Err(SourceError::InvalidTarget(format!(
                "`{digest}` is not a digest that can key the cache"
            )));
        };
        if digest_parts(diff_id).is_none() {
            return Err(SourceError::InvalidTarget(format!(
                "`{diff_id}` is not a digest"
            )));
        }
        self.write_tiered(&name, diff_id.as_bytes())
    }

    /// The diff_id a compressed blob was seen to inflate to, if it was.
    pub fn diff_id_for_blob(&self, digest: &str) -> Option<String> {
        let name = keyed_name("blobs", "sha", digest, "diffid")?;
        self.read_tiered(&name, |bytes| {
            let text = std::str::from_utf8(bytes).ok()?.trim();
            digest_parts(text).map(|_| text.to_string())
        })
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
    /// On a local miss, the remote tier is asked and its entry kept locally.
    pub fn get(&self, set_key: &str, diff_id: &str) -> Option<Vec<u8>> {
        let name = keyed_name("layers", set_key, diff_id, "zst")?;
        self.read_tiered(&name, |compressed| zstd::decode_all(compressed).ok())
    }

    /// Stores bytes for a layer, atomically, and uploads them to the remote tier if any
    /// (an upload failure is logged, not returned).
    pub fn put(&self, set_key: &str, diff_id: &str, bytes: &[u8]) -> Result<(), SourceError> {
        let Some(name) = keyed_name("layers", set_key, diff_id, "zst") else {
            return Err(SourceError::InvalidTarget(format!(
                "`{diff_id}` is not a digest that can key the cache"
            )));
        };
        let compressed =
            zstd::encode_all(bytes, 3).map_err(|e| SourceError::io(self.dir.join(&name), e))?;
        self.write_tiered(&name, &compressed)
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

/// `KIND/SET/ALG-HEX.EXT`, the name of an entry relative to the cache directory (and in
/// the remote tier), or `None` when a part could name a path: the digest comes from the
/// image, so only `alg:hex` with alphanumeric parts is accepted.
fn keyed_name(kind: &str, set_key: &str, digest: &str, ext: &str) -> Option<String> {
    let (alg, hex) = digest_parts(digest)?;
    is_key_part(set_key).then(|| format!("{kind}/{set_key}/{alg}-{hex}.{ext}"))
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

    /// An in-memory remote that counts its calls; `fail` makes every call an error.
    #[derive(Default)]
    struct MemoryStore {
        objects: Mutex<std::collections::HashMap<String, Vec<u8>>>,
        calls: std::sync::atomic::AtomicUsize,
        fail: bool,
    }

    impl RemoteLayerStore for MemoryStore {
        fn location(&self) -> &str {
            "mem://fleet"
        }
        fn get(&self, key: &str) -> Result<Option<Vec<u8>>, RemoteStoreError> {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if self.fail {
                return Err("connection refused".into());
            }
            Ok(self.objects.lock().unwrap().get(key).cloned())
        }
        fn put(&self, key: &str, bytes: &[u8]) -> Result<(), RemoteStoreError> {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if self.fail {
                return Err("connection refused".into());
            }
            self.objects
                .lock()
                .unwrap()
                .insert(key.to_string(), bytes.to_vec());
            Ok(())
        }
    }

    #[test]
    fn a_remote_tier_shares_results_between_directories() {
        let store = Arc::new(MemoryStore::default());
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let first = LayerCache::new(a.path()).with_remote(store.clone());
        assert_eq!(first.remote_location(), Some("mem://fleet"));
        first.put("k1", "sha256:abcd", b"hello").unwrap();
        first.record_blob("sha256:cc", "sha256:abcd").unwrap();
        {
            let objects = store.objects.lock().unwrap();
            let mut names: Vec<&String> = objects.keys().collect();
            names.sort();
            assert_eq!(
                names,
                ["blobs/sha/sha256-cc.diffid", "layers/k1/sha256-abcd.zst"]
            );
        }

        let second = LayerCache::new(b.path()).with_remote(store.clone());
        assert_eq!(second.get("k1", "sha256:abcd").unwrap(), b"hello");
        assert_eq!(
            second.diff_id_for_blob("sha256:cc").as_deref(),
            Some("sha256:abcd")
        );
        // Kept locally: the same bytes as the first directory's, found without the remote.
        let entry = |d: &Path| std::fs::read(d.join("layers/k1/sha256-abcd.zst")).unwrap();
        assert_eq!(entry(a.path()), entry(b.path()));
        assert_eq!(
            LayerCache::new(b.path()).get("k1", "sha256:abcd").unwrap(),
            b"hello"
        );
        assert!(second.get("k1", "sha256:ffff").is_none());
    }

    #[test]
    fn a_remote_entry_that_does_not_decode_is_not_kept() {
        let store = Arc::new(MemoryStore::default());
        store
            .objects
            .lock()
            .unwrap()
            .insert("layers/k1/sha256-abcd.zst".into(), b"not zstd".to_vec());
        store
            .objects
            .lock()
            .unwrap()
            .insert("blobs/sha/sha256-cc.diffid".into(), b"../../x".to_vec());
        let d = tempfile::tempdir().unwrap();
        let c = LayerCache::new(d.path()).with_remote(store);
        assert!(c.get("k1", "sha256:abcd").is_none());
        assert!(c.diff_id_for_blob("sha256:cc").is_none());
        assert!(!d.path().join("layers").exists() && !d.path().join("blobs").exists());
    }

    #[test]
    fn a_failing_remote_never_fails_the_cache_and_rests() {
        let store = Arc::new(MemoryStore {
            fail: true,
            ..MemoryStore::default()
        });
        let d = tempfile::tempdir().unwrap();
        let c = LayerCache::new(d.path()).with_remote(store.clone());
        assert!(c.get("k1", "sha256:abcd").is_none());
        c.put("k1", "sha256:abcd", b"hello").unwrap();
        assert_eq!(c.get("k1", "sha256:abcd").unwrap(), b"hello");
        assert!(c.clone().get("k1", "sha256:bb").is_none());
        // One failed call, then the store rests (for every clone of the cache).
        assert_eq!(store.calls.load(std::sync::atomic::Ordering::SeqCst), 1);
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
