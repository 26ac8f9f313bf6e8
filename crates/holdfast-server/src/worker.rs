//! Workers: take the oldest queued scan under a lease, run it through the engine, store
//! the result in one transaction. A worker that dies leaves its lease to expire; the
//! scheduler then fails the scan, saying so, and queues it again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use holdfast_model::error_chain;
use holdfast_scan::NoProgress;
use holdfast_store::{NewScan, ScanRecord};
use tokio::sync::watch;

use crate::AppState;

/// Exponential backoff for a loop whose store or target keeps failing.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub(crate) fn new(max: Duration) -> Backoff {
        Backoff {
            next: Duration::from_millis(250),
            max,
        }
    }

    /// The wait before the next try, doubling up to the bound.
    pub(crate) fn next(&mut self) -> Duration {
        let now = self.next;
        self.next = (self.next * 2).min(self.max);
        now
    }

    pub(crate) fn reset(&mut self) {
        self.next = Duration::from_millis(250);
    }
}

/// Sleeps for `d`, or less when the service stops; true when it stops.
pub(crate) async fn sleep_or_stop(d: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = stop.wait_for(|s| *s) => true,
    }
}

/// One worker's loop, until the service stops.
pub async fn run(state: AppState, n: usize, mut stop: watch::Receiver<bool>) {
    let worker = format!("{}#{n}", state.worker_id);
    let mut backoff = Backoff::new(Duration::from_secs(30));
    loop {
        if *stop.borrow() {
            return;
        }
        match state.store.claim(&worker, state.config.lease).await {
            Ok(Some(scan)) => {
                backoff.reset();
                state.set_store_ok();
                run_one(&state, &worker, scan).await;
            }
            Ok(None) => {
                state.set_store_ok();
                if sleep_or_stop(Duration::from_millis(300), &mut stop).await {
                    return;
                }
            }
            Err(e) => {
                let wait = backoff.next();
                tracing::warn!("worker {worker}: the store failed ({e}); retrying in {wait:?}");
                state.set_store_error(&e);
                if sleep_or_stop(wait, &mut stop).await {
                    return;
                }
            }
        }
    }
}

async fn run_one(state: &AppState, worker: &str, scan: ScanRecord) {
    let started = Instant::now();
    tracing::info!(scan = %scan.id, target = %scan.target, "scan started");
    let request = match crate::targets::scan_request(state, &scan.target, &scan.scanners) {
        Ok(r) => r,
        Err(e) => {
            finish_failed(state, worker, &scan, &e, started, false).await;
            return;
        }
    };
    let cancel = request.cancel.clone();
    let renew = {
        let store = state.store.clone();
        let lease = state.config.lease;
        let id = scan.id.clone();
        let worker = worker.to_string();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                match store.renew(&id, &worker, lease).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(scan = %id, "the lease was lost; cancelling the scan");
                        cancel.cancel();
                        return;
                    }
                    // The store is away: keep scanning, the next renewal may work.
                    Err(e) => tracing::warn!(scan = %id, "cannot renew the lease: {e}"),
                }
            }
        })
    };
    let outcome = holdfast_scan::scan_async(request, Arc::new(NoProgress)).await;
    renew.abort();
    match outcome {
        Ok(result) => {
            let duration = started.elapsed();
            if let Some(dir) = &state.config.report_dir {
                write_report(dir, &scan, &result).await;
            }
            let mut backoff = Backoff::new(Duration::from_secs(10));
            for attempt in 0..6 {
                match state
                    .store
                    .finish(&scan.id, worker, &result, duration.as_millis() as i64)
                    .await
                {
                    Ok(true) => {
                        state.metrics.scan_finished("finished", duration);
                        tracing::info!(scan = %scan.id, ?duration, "scan finished");
                        return;
                    }
                    Ok(false) => {
                        tracing::warn!(scan = %scan.id, "finished after its lease was taken over; result dropped");
                        return;
                    }
                    Err(e) => {
                        let wait = backoff.next();
                        tracing::warn!(scan = %scan.id, attempt, "cannot store the result ({e}); retrying in {wait:?}");
                        state.set_store_error(&e);
                        tokio::time::sleep(wait).await;
                    }
                }
            }
            // The lease will expire and the scan be queued again.
            tracing::error!(scan = %scan.id, "gave up storing the result");
        }
        Err(e) => {
            let transient = e.is_transient();
            finish_failed(state, worker, &scan, &error_chain(&e), started, transient).await;
        }
    }
}

/// Marks a scan failed; a transient failure is queued again after a backoff, up to the
/// store's attempt bound.
async fn finish_failed(
    state: &AppState,
    worker: &str,
    scan: &ScanRecord,
    error: &str,
    started: Instant,
    transient: bool,
) {
    let duration = started.elapsed();
    tracing::warn!(scan = %scan.id, target = %scan.target, "scan failed: {error}");
    state.metrics.scan_finished("failed", duration);
    if let Err(e) = state
        .store
        .fail(&scan.id, worker, error, duration.as_millis() as i64)
        .await
    {
        tracing::warn!(scan = %scan.id, "cannot mark the scan failed: {e}");
        return;
    }
    let tries = retry_depth(state, scan).await;
    if transient && tries < holdfast_store::MAX_ATTEMPTS {
        // The backoff lives in the store (`not_before`), so a restart keeps the retry.
        let wait = Duration::from_secs(2u64.pow(tries as u32 + 1));
        let retry = NewScan {
            target: scan.target.clone(),
            scanners: scan.scanners.clone(),
            schedule_id: scan.schedule_id.clone(),
            retry_of: Some(scan.id.clone()),
            not_before: Some(holdfast_store::now_ms() + wait.as_millis() as i64),
        };
        match state.store.enqueue(&retry).await {
            Ok(r) => {
                tracing::info!(scan = %scan.id, retry = %r.id, "the failure may be temporary: retrying in {wait:?}")
            }
            Err(e) => tracing::warn!(scan = %scan.id, "cannot queue the retry: {e}"),
        }
    }
}

/// How many scans the chain of retries ending at `scan` holds.
async fn retry_depth(state: &AppState, scan: &ScanRecord) -> i64 {
    let mut depth = 1;
    let mut previous = scan.retry_of.clone();
    while let Some(id) = previous {
        depth += 1;
        if depth >= holdfast_store::MAX_ATTEMPTS {
            break;
        }
        previous = match state.store.scan(&id).await {
            Ok(Some(s)) => s.retry_of,
            _ => None,
        };
    }
    depth
}

async fn write_report(
    dir: &std::path::Path,
    scan: &ScanRecord,
    result: &holdfast_model::ScanResult,
) {
    let path = dir.join(format!("{}.json", scan.id));
    let json = serde_json::to_vec_pretty(result).expect("a result serialises");
    let write = async {
        tokio::fs::create_dir_all(dir).await?;
        let tmp = dir.join(format!(".{}.json.tmp", scan.id));
        tokio::fs::write(&tmp, json).await?;
        tokio::fs::rename(&tmp, &path).await
    };
    if let Err(e) = write.await {
        tracing::warn!("cannot write the report `{}`: {e}", path.display());
    }
}
