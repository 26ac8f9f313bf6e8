//! What a running scan tells its caller, as data, and how the caller stops it.
//!
//! The engine never prints. It sends [`ScanEvent`]s to the request's [`ProgressSink`]:
//! the command line turns them into notes and a progress bar, the service into stored
//! status and metrics. Events borrow from the scan; a sink that keeps one clones what it
//! needs. Sinks are called from the scan's worker threads, several at once during a
//! registry scan, so they must be `Sync` and quick.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use holdfast_model::TargetResult;

use crate::ScanError;

/// One thing that happened during a scan.
#[derive(Debug, Clone, Copy)]
pub enum ScanEvent<'a> {
    /// No database was built: the bundled demo advisories are used instead.
    DemoDatabase {
        /// Where a real database was looked for.
        expected: &'a Path,
        /// How many demo advisories there are.
        advisories: usize,
    },
    /// The database is older than the engine's staleness bound.
    StaleDatabase {
        /// Its age in whole days.
        days: i64,
    },
    /// A registry was listed and filtered: this many images will be scanned.
    RegistrySelected {
        /// `host[:port]`.
        registry: &'a str,
        images: usize,
    },
    /// A target is about to be opened.
    TargetStarted {
        /// The target's name as the request gave it (or `host/repo:tag`).
        name: &'a str,
    },
    /// A target was scanned; its result is final (policy applied).
    TargetFinished {
        /// The target's result.
        result: &'a TargetResult,
        /// Findings the policy took out (filtered or suppressed).
        filtered: usize,
        /// True for an image of a registry scan, whose per-image notes a summary replaces.
        fleet: bool,
    },
    /// A target could not be scanned; the others go on.
    TargetFailed { name: &'a str, error: &'a ScanError },
    /// A target listed at the start was gone when its turn came (a container removed
    /// meanwhile); the others go on.
    TargetVanished { name: &'a str, error: &'a ScanError },
}

/// Receives a scan's events.
pub trait ProgressSink: Send + Sync {
    /// Called for every event, from the scan's worker threads.
    fn event(&self, event: &ScanEvent<'_>);
}

/// A sink that ignores every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn event(&self, _: &ScanEvent<'_>) {}
}

/// Stops a scan from outside: cancelled by hand, or when its deadline passes. Cloning
/// shares the token. The engine checks it before each target and between the steps of
/// a target; a step already running (one layer walk, one match) finishes first.
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    cancelled: Arc<AtomicBool>,
    deadline: Option<Instant>,
}

impl CancelToken {
    /// A token that only [`cancel`](Self::cancel) fires.
    pub fn new() -> Self {
        Self::default()
    }

    /// A token that also fires at `deadline`.
    pub fn with_deadline(deadline: Instant) -> Self {
        CancelToken {
            cancelled: Arc::default(),
            deadline: Some(deadline),
        }
    }

    /// Asks every scan holding this token to stop.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// `Err` when the scan should stop: cancelled, or past its deadline.
    pub fn check(&self) -> Result<(), ScanError> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(ScanError::Cancelled);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(ScanError::DeadlineExceeded);
        }
        Ok(())
    }
}
