//! The scheduler: queues due schedules (skipping images whose digest has not changed),
//! recovers scans whose worker died, and when the database file changes, reloads it and
//! matches every stored inventory again without reading images.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use holdfast_scan::{NoProgress, Target};
use holdfast_store::{NewScan, NewSchedule, Schedule};
use tokio::sync::watch;

use crate::worker::{sleep_or_stop, Backoff};
use crate::AppState;

/// When a schedule runs.
#[derive(Debug, Clone)]
pub enum ScheduleSpec {
    /// `every 12h`: this long after the last run.
    Every(Duration),
    /// A cron expression (five fields, or six with seconds), in UTC.
    Cron(Box<cron::Schedule>),
}

/// Parses `every DURATION` (`every 12h`, `every 30m`) or a cron expression (`0 3 * * *`).
pub fn parse_spec(spec: &str) -> Result<ScheduleSpec, String> {
    let spec = spec.trim();
    if let Some(d) = spec.strip_prefix("every ") {
        let d = humantime::parse_duration(d.trim()).map_err(|e| {
            format!(
                "`{spec}`: `{}` is not a duration like 30m or 12h: {e}",
                d.trim()
            )
        })?;
        if d < Duration::from_secs(60) {
            return Err(format!("`{spec}`: schedules run at most once a minute"));
        }
        return Ok(ScheduleSpec::Every(d));
    }
    let fields = spec.split_whitespace().count();
    let full = match fields {
        5 => format!("0 {spec}"),
        6 | 7 => spec.to_string(),
        _ => {
            return Err(format!(
                "`{spec}` is neither `every DURATION` nor a cron expression of 5 fields"
            ))
        }
    };
    cron::Schedule::from_str(&full)
        .map(|s| ScheduleSpec::Cron(Box::new(s)))
        .map_err(|e| format!("`{spec}` is not a cron expression: {e}"))
}

/// The first run of `spec` after `after` (Unix ms).
pub fn next_run(spec: &ScheduleSpec, after: i64) -> i64 {
    match spec {
        ScheduleSpec::Every(d) => after + d.as_millis() as i64,
        ScheduleSpec::Cron(s) => {
            let after = chrono_from_ms(after);
            s.after(&after)
                .next()
                .map(|t| t.timestamp_millis())
                .unwrap_or(i64::MAX)
        }
    }
}

fn chrono_from_ms(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The scheduler's loop, until the service stops.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let mut backoff = Backoff::new(Duration::from_secs(30));
    let mut db_stamp = db_file_stamp(&state);
    loop {
        match sync_config_schedules(&state).await {
            Ok(()) => break,
            Err(e) => {
                state.set_store_error(&e);
                if sleep_or_stop(backoff.next(), &mut stop).await {
                    return;
                }
            }
        }
    }
    backoff.reset();
    loop {
        let wait = match tick(&state).await {
            Ok(()) => {
                state.set_store_ok();
                backoff.reset();
                state.config.tick
            }
            Err(e) => {
                tracing::warn!("scheduler: the store failed ({e})");
                state.set_store_error(&e);
                backoff.next()
            }
        };
        let stamp = db_file_stamp(&state);
        if stamp.is_some() && stamp != db_stamp {
            db_stamp = stamp;
            if let Err(e) = reload_and_rematch(&state).await {
                tracing::warn!("re-matching stored inventories failed: {e}");
            }
        }
        if sleep_or_stop(wait, &mut stop).await {
            return;
        }
    }
}

/// The config file's schedules go into the store (replacing those of the same name).
async fn sync_config_schedules(state: &AppState) -> Result<(), holdfast_store::StoreError> {
    let now = holdfast_store::now_ms();
    for s in &state.config.schedules {
        let spec = s
            .spec
            .clone()
            .unwrap_or_else(|| state.config.default_spec());
        let Ok(parsed) = parse_spec(&spec) else {
            continue;
        };
        let existing = state.store.schedules().await?;
        let same = existing.iter().find(|e| e.name == s.name);
        if same.is_some_and(|e| e.target == s.target && e.spec == spec && e.scanners == s.scanners)
        {
            continue;
        }
        let first = match parsed {
            ScheduleSpec::Every(_) => now,
            ref cron => next_run(cron, now),
        };
        state
            .store
            .upsert_schedule(
                &NewSchedule {
                    name: s.name.clone(),
                    target: s.target.clone(),
                    scanners: s.scanners.clone(),
                    spec,
                },
                first,
            )
            .await?;
    }
    Ok(())
}

async fn tick(state: &AppState) -> Result<(), holdfast_store::StoreError> {
    for (failed, requeued) in state.store.recover_expired().await? {
        tracing::warn!(scan = %failed, requeued = ?requeued, "a worker stopped while scanning; the scan was failed and queued again");
        state.metrics.scan_interrupted();
    }
    let now = holdfast_store::now_ms();
    for schedule in state.store.due_schedules(now).await? {
        run_schedule(state, &schedule, now).await?;
    }
    Ok(())
}

async fn run_schedule(
    state: &AppState,
    schedule: &Schedule,
    now: i64,
) -> Result<(), holdfast_store::StoreError> {
    let next = match parse_spec(&schedule.spec) {
        Ok(spec) => next_run(&spec, now),
        Err(e) => {
            tracing::warn!(schedule = %schedule.name, "disabled until fixed: {e}");
            i64::MAX
        }
    };
    let digest = current_digest(&schedule.target).await;
    let unchanged = digest.is_some()
        && digest == schedule.last_digest
        && last_run_finished(state, schedule).await?;
    if !state
        .store
        .advance_schedule(&schedule.id, schedule.next_run_at, next, digest.as_deref())
        .await?
    {
        return Ok(()); // another server took this run
    }
    if unchanged {
        tracing::info!(schedule = %schedule.name, "image unchanged since the last scan; not scanned again");
        return Ok(());
    }
    if state.config.skip_quay && crate::targets::is_quay(&schedule.target) {
        return Ok(());
    }
    state
        .store
        .enqueue(&NewScan {
            target: schedule.target.clone(),
            scanners: schedule.scanners.clone(),
            schedule_id: Some(schedule.id.clone()),
            retry_of: None,
            not_before: None,
        })
        .await?;
    Ok(())
}

async fn last_run_finished(
    state: &AppState,
    schedule: &Schedule,
) -> Result<bool, holdfast_store::StoreError> {
    let last = state
        .store
        .scans(&holdfast_store::ScanFilter {
            target: Some(schedule.target.clone()),
            limit: Some(1),
            ..Default::default()
        })
        .await?;
    Ok(last
        .first()
        .is_some_and(|s| s.status == holdfast_store::ScanStatus::Finished))
}

/// The image id of an image target, read from its metadata only (no layer); `None` for
/// other targets or when it cannot be read (then the schedule scans anyway).
async fn current_digest(target: &str) -> Option<String> {
    let (Target::Spec { spec, name }, crate::TargetKindArg::Image) =
        crate::parse_target(target).ok()?
    else {
        return None;
    };
    tokio::task::spawn_blocking(move || {
        holdfast_source::open_target(&spec, &name, &Default::default())
            .ok()
            .and_then(|s| s.metadata().image_id.clone())
    })
    .await
    .ok()
    .flatten()
}

fn db_file_stamp(state: &AppState) -> Option<(u64, SystemTime)> {
    let meta = std::fs::metadata(&state.db_path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// Opens the new database and re-matches the latest result of every target with it.
pub(crate) async fn reload_and_rematch(state: &AppState) -> anyhow::Result<usize> {
    let db = state.db.clone();
    tokio::task::spawn_blocking(move || db.reload(&NoProgress)).await??;
    let latest = state.store.latest_targets(None, None).await?;
    let mut scans: Vec<String> = latest.into_iter().map(|t| t.scan_id).collect();
    scans.sort();
    scans.dedup();
    let mut n = 0;
    for id in scans {
        let Some(mut result) = state.store.scan_result(&id).await? else {
            continue;
        };
        let db = state.db.clone();
        let result = tokio::task::spawn_blocking(move || {
            holdfast_scan::rematch(
                &mut result,
                &db,
                &holdfast_policy::Policy::default(),
                &NoProgress,
            )
            .map(|()| result)
        })
        .await??;
        if state.store.replace_result(&id, &result).await? {
            n += 1;
        }
    }
    tracing::info!("the vulnerability database changed: {n} stored results matched again");
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_and_cron_specs() {
        let ScheduleSpec::Every(d) = parse_spec("every 12h").unwrap() else {
            panic!()
        };
        assert_eq!(d, Duration::from_secs(12 * 3600));
        assert_eq!(
            next_run(&parse_spec("every 1h").unwrap(), 1_000),
            1_000 + 3_600_000
        );
        // 03:00 UTC every day: from 2026-01-01T00:00Z the next is 03:00 the same day.
        let midnight = 1_767_225_600_000;
        assert_eq!(
            next_run(&parse_spec("0 3 * * *").unwrap(), midnight),
            midnight + 3 * 3_600_000
        );
        assert!(parse_spec("every 5s")
            .unwrap_err()
            .contains("once a minute"));
        assert!(parse_spec("every soon")
            .unwrap_err()
            .contains("not a duration"));
        assert!(parse_spec("0 3 * *").unwrap_err().contains("neither"));
        assert!(parse_spec("0 99 * * *").unwrap_err().contains("not a cron"));
    }
}
