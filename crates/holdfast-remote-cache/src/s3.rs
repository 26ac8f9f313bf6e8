//! The S3 store behind the blocking [`RemoteLayerStore`] calls: `object_store`'s
//! `AmazonS3` on a small tokio runtime of the store's own.
//!
//! The calls block the scan thread that makes them (the engine runs scans on blocking
//! threads; never call them from async code). Retries are few and short, because the
//! cache only saves time: a failing store must cost a scan seconds, not the minutes
//! `object_store`'s defaults allow for.

use std::time::Duration;

use holdfast_source::{RemoteLayerStore, RemoteStoreError};
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::{BackoffConfig, ObjectStoreExt, PutPayload, RetryConfig};

use crate::{CacheUrl, Error};

/// The largest object the store reads back. Layer results are a few MiB compressed;
/// anything far larger is not one of ours.
pub const MAX_OBJECT_BYTES: u64 = 256 << 20;

/// A bucket (and prefix) of S3-compatible storage holding cache entries.
pub struct S3LayerStore {
    url: CacheUrl,
    location: String,
    store: AmazonS3,
    /// `Some` until dropped: see the `Drop` impl.
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for S3LayerStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3LayerStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl S3LayerStore {
    /// The store for `url`, configured from the AWS environment variables and then from
    /// `settings` (named like them). Makes no request.
    pub fn new(url: CacheUrl, settings: &[(&str, &str)]) -> Result<Self, Error> {
        let location = url.to_string();
        let mut builder = AmazonS3Builder::from_env();
        for (name, value) in settings {
            let key: AmazonS3ConfigKey =
                name.to_ascii_lowercase()
                    .parse()
                    .map_err(|_| Error::UnknownSetting {
                        url: location.clone(),
                        name: name.to_string(),
                    })?;
            builder = builder.with_config(key, *value);
        }
        let store = builder
            .with_bucket_name(url.bucket())
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(2),
                    base: 2.0,
                },
                max_retries: 3,
                retry_timeout: Duration::from_secs(20),
            })
            .build()
            .map_err(|source| Error::Configure {
                url: location.clone(),
                source,
            })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("holdfast-remote-cache")
            .enable_all()
            .build()
            .map_err(|source| Error::Runtime {
                url: location.clone(),
                source,
            })?;
        Ok(S3LayerStore {
            url,
            location,
            store,
            runtime: Some(runtime),
        })
    }

    fn path(&self, key: &str) -> Result<Path, RemoteStoreError> {
        Ok(Path::parse(self.url.object_name(key))?)
    }

    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime
            .as_ref()
            .expect("the runtime lives until drop")
            .block_on(future)
    }
}

impl RemoteLayerStore for S3LayerStore {
    fn location(&self) -> &str {
        &self.location
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, RemoteStoreError> {
        let path = self.path(key)?;
        self.block_on(async {
            let found = match self.store.get(&path).await {
                Ok(found) => found,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            if found.meta.size > MAX_OBJECT_BYTES {
                return Err(format!(
                    "the object is {} bytes, more than the {MAX_OBJECT_BYTES} a cache entry may be",
                    found.meta.size
                )
                .into());
            }
            Ok(Some(found.bytes().await?.to_vec()))
        })
    }

    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), RemoteStoreError> {
        let path = self.path(key)?;
        let payload = PutPayload::from(bytes.to_vec());
        self.block_on(self.store.put(&path, payload))?;
        Ok(())
    }
}

impl Drop for S3LayerStore {
    /// A front end may drop the cache inside async code, where dropping a runtime the
    /// ordinary way panics; in-flight requests have no caller left to answer anyway.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
