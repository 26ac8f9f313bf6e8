//! What can stop a scan request. Problems inside a target (an unreadable layer, a broken
//! file) are not errors: they become the target's warnings and the scan goes on.

use std::path::PathBuf;

use holdfast_source::SourceError;
use holdfast_vulndb::DbError;

/// Why a request, or one of its targets, could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A target could not be opened (not found, not an image, unreachable registry).
    #[error("cannot open `{target}`")]
    Open {
        target: String,
        #[source]
        source: SourceError,
    },
    /// A container of the daemon could not be opened.
    #[error("cannot open container `{id}`")]
    OpenContainer {
        id: String,
        #[source]
        source: SourceError,
    },
    /// The daemon's containers could not be listed.
    #[error("cannot list the daemon's containers")]
    ListContainers(#[source] SourceError),
    /// A registry could not be reached or listed.
    #[error(transparent)]
    Registry(SourceError),
    /// A configuration scan could not start (its checks or paths could not be read).
    #[error("config scan: {0}")]
    Config(holdfast_compliance::ConfigScanError),
    /// A compliance benchmark could not start (its checks could not be loaded).
    #[error("compliance: {0}")]
    Benchmark(holdfast_compliance::BenchmarkError),
    /// The `misconfig` scanner's `--policy` checks could not be loaded, or a
    /// `--compliance` regulation is unknown.
    #[error("checks: {0}")]
    Misconfig(holdfast_compliance::BenchmarkError),
    /// A Kubernetes cluster could not be read.
    #[error("cluster: {0}")]
    Cluster(holdfast_kube::KubeError),
    /// No image of a registry matched the selection.
    #[error(
        "no image in `{host}` matches (repositories: {repositories}, unreadable: {unreadable})"
    )]
    NoImages {
        host: String,
        repositories: usize,
        unreadable: usize,
    },
    /// A glob of the registry selection does not parse.
    #[error("{flag} `{pattern}` is not a glob")]
    BadGlob {
        flag: &'static str,
        pattern: String,
        #[source]
        source: globset::Error,
    },
    /// The vulnerability database could not be opened.
    #[error("cannot open the vulnerability database `{}`", path.display())]
    OpenDb {
        path: PathBuf,
        #[source]
        source: DbError,
    },
    /// The bundled demo database could not be built.
    #[error("cannot build the demo database")]
    DemoDb(#[source] DemoDbError),
    /// Matching failed inside the database.
    #[error("matching against `{}`", path.display())]
    Match {
        path: PathBuf,
        #[source]
        source: DbError,
    },
    /// The request's cancellation token fired.
    #[error("the scan was cancelled")]
    Cancelled,
    /// The request's deadline passed before the scan finished.
    #[error("the scan did not finish before its deadline")]
    DeadlineExceeded,
    /// The worker thread running the scan panicked or was cancelled by the runtime.
    #[error("the scan's worker thread failed: {0}")]
    Worker(String),
}

impl ScanError {
    /// Whether trying again later may succeed: the Docker daemon or a registry could not
    /// be reached or answered with an error. A service retries these with backoff; a
    /// missing file or a broken image fails the same way every time.
    pub fn is_transient(&self) -> bool {
        let source = match self {
            ScanError::Open { source, .. }
            | ScanError::OpenContainer { source, .. }
            | ScanError::ListContainers(source)
            | ScanError::Registry(source) => source,
            _ => return false,
        };
        matches!(source, SourceError::Daemon(_) | SourceError::Registry(_))
    }
}

/// Why the demo database could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DemoDbError {
    /// Writing the advisories to a temporary directory failed.
    #[error("cannot write the demo advisories")]
    Io(#[from] std::io::Error),
    /// Compiling them failed.
    #[error(transparent)]
    Build(#[from] DbError),
}
