//! The layer cache's second tier in S3-compatible object storage, so that the workers of a
//! fleet, on many machines, analyse a layer once between them.
//!
//! [`open`] parses `s3://BUCKET[/PREFIX]` and returns a
//! [`holdfast_source::RemoteLayerStore`]; [`layer_cache`] builds the cache a front end
//! hands the engine (a local directory, with the remote tier when a URL is given). Where
//! the endpoint is and who we are come from the usual AWS environment variables, read by
//! `object_store`'s `AmazonS3Builder::from_env`: `AWS_ENDPOINT_URL` (an S3-compatible
//! server; `AWS_ALLOW_HTTP=true` for a plain-http one), `AWS_REGION` or
//! `AWS_DEFAULT_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`. Credentials never appear in a URL, a message or a log line.
//!
//! What the cache does with the store (local first, remote on a miss, uploads after a
//! local write, errors logged and never failing a scan) is `holdfast_source::LayerCache`'s
//! business; this crate only moves bytes.

mod s3;
mod url;

use std::path::PathBuf;
use std::sync::Arc;

use holdfast_source::{LayerCache, RemoteLayerStore};

pub use crate::s3::{S3LayerStore, MAX_OBJECT_BYTES};
pub use crate::url::CacheUrl;

/// Why a remote cache could not be set up. Each message names the URL (without any
/// credential) and what was wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL's scheme is not one this crate speaks.
    #[error("unsupported cache URL `{url}`: expected s3://BUCKET[/PREFIX]")]
    UnsupportedScheme {
        /// The URL, with any user information replaced.
        url: String,
    },
    /// The URL is `s3://` but not a bucket and prefix.
    #[error("malformed cache URL `{url}`: {reason}")]
    Malformed {
        /// The URL, with any user information replaced.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A setting handed to [`open_with`] is not an S3 setting `object_store` knows.
    #[error("unknown S3 setting `{name}` for the cache `{url}`")]
    UnknownSetting {
        /// The normalized URL.
        url: String,
        /// The setting's name.
        name: String,
    },
    /// `object_store` refused the configuration (a bad endpoint URL, say).
    #[error("cannot set up the cache `{url}`: {source}")]
    Configure {
        /// The normalized URL.
        url: String,
        /// What `object_store` said.
        #[source]
        source: object_store::Error,
    },
    /// The runtime the store's requests run on could not start.
    #[error("cannot start the I/O runtime for the cache `{url}`: {source}")]
    Runtime {
        /// The normalized URL.
        url: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

/// Opens the store `url` names (`s3://BUCKET[/PREFIX]`), configured from the AWS
/// environment variables. No request is made yet, so an unreachable endpoint or a missing
/// bucket shows only when the cache is used (as a logged warning).
pub fn open(url: &str) -> Result<Arc<dyn RemoteLayerStore>, Error> {
    open_with(url, &[])
}

/// Like [`open`], with settings named as the AWS environment variables are
/// (`AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`, ...) that take precedence over the environment:
/// for a front end whose configuration names them itself.
pub fn open_with(url: &str, settings: &[(&str, &str)]) -> Result<Arc<dyn RemoteLayerStore>, Error> {
    let parsed = CacheUrl::parse(url)?;
    Ok(Arc::new(S3LayerStore::new(parsed, settings)?))
}

/// The layer cache in `dir` (or the default directory), with the remote tier `url` names
/// when there is one: what the CLI's `--cache-dir`/`--cache-url` build, for every front end
/// that offers them.
pub fn layer_cache(dir: Option<PathBuf>, url: Option<&str>) -> Result<LayerCache, Error> {
    let cache = LayerCache::new(dir.unwrap_or_else(LayerCache::default_dir));
    Ok(match url {
        Some(url) => cache.with_remote(open(url)?),
        None => cache,
    })
}
