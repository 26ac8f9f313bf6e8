//! Errors met while opening a target.

use std::path::PathBuf;

/// Why a target or one of its layers could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not a valid {what}: {reason}")]
    BadMetadata {
        path: String,
        what: &'static str,
        reason: String,
    },
    #[error("the image names `{name}`, which is not in `{container}`")]
    MissingBlob { name: String, container: String },
    #[error("no image for platform {wanted} in `{target}` (it has: {available})")]
    NoMatchingPlatform {
        target: String,
        wanted: String,
        available: String,
    },
    #[error("{0}")]
    InvalidTarget(String),
    #[error("Docker daemon: {0}")]
    Daemon(String),
    #[error("containerd: {0}")]
    Containerd(String),
    #[error("Podman: {0}")]
    Podman(String),
    /// A registry request failed; the message names the registry, never a credential.
    #[error("{0}")]
    Registry(String),
}

impl SourceError {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SourceError::Io {
            path: path.into(),
            source,
        }
    }

    /// A metadata file (manifest, index, config) that does not parse.
    pub fn bad(path: impl Into<String>, what: &'static str, reason: impl ToString) -> Self {
        SourceError::BadMetadata {
            path: path.into(),
            what,
            reason: reason.to_string(),
        }
    }
}
