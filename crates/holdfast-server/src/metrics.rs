//! `/metrics` in the Prometheus text exposition format (0.0.4): counters and a duration
//! histogram kept in memory since start, and gauges read from the store at each scrape
//! (findings of every target's latest scan, the queue, stored scans, the database's age).
//!
//! Written here rather than with `prometheus-client`: that crate writes OpenMetrics,
//! whose counter families are named without `_total`, which the 0.0.4 text format that
//! `promtool check metrics` and older scrapers read treats as a family without help; and
//! every gauge here is rebuilt from the store per scrape anyway.
//!
//! `pod_security_issue` is the per-pod gauge the runtime image scanner's dashboards read:
//! one series, valued 1, per finding of each image of each pod of the latest cluster
//! scans (exceptions in force left out), labelled `PodName`, `Namespace`, `Image`,
//! `IsPublic`, `BaseOS`, `VulnerabilityID`, `PkgName`, `InstalledVersion`,
//! `FixedVersion` and `Severity`. It is absent until a cluster scan has finished.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use crate::AppState;

/// Upper bounds of the scan duration histogram, in seconds.
const BUCKETS: [f64; 14] = [
    0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Inner {
    scans: BTreeMap<String, u64>,
    durations: BTreeMap<String, Histogram>,
    interrupted: u64,
}

/// The metrics a process keeps between scrapes.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// Zeroed metrics.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// A scan of this process ended (`finished` or `failed`) after `took`.
    pub fn scan_finished(&self, status: &str, took: Duration) {
        let mut m = self.inner.lock().expect("metrics lock");
        *m.scans.entry(status.to_string()).or_default() += 1;
        let h = m.durations.entry(status.to_string()).or_default();
        let secs = took.as_secs_f64();
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// A scan's worker stopped before it finished.
    pub fn scan_interrupted(&self) {
        self.inner.lock().expect("metrics lock").interrupted += 1;
    }
}

/// Writes families in the text format.
#[derive(Default)]
struct Exposition {
    out: String,
}

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        writeln!(
            self.out,
            "# HELP {name} {}",
            help.replace('\\', "\\\\").replace('\n', "\\n")
        )
        .unwrap();
        writeln!(self.out, "# TYPE {name} {kind}").unwrap();
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let v = v
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                write!(self.out, "{k}=\"{v}\"").unwrap();
            }
            self.out.push('}');
        }
        if value.is_infinite() {
            self.out
                .push_str(if value > 0.0 { " +Inf\n" } else { " -Inf\n" });
        } else {
            writeln!(self.out, " {value}").unwrap();
        }
    }
}

/// The text exposition, with the store's gauges read now.
/// The `pod_security_issue` family, when cluster scans have pods.
async fn pod_security_issues(
    state: &AppState,
    latest: &[holdfast_store::TargetSummary],
    e: &mut Exposition,
) -> Result<(), holdfast_store::StoreError> {
    let clusters = match crate::pods::latest(state).await {
        Ok(c) => c,
        Err(_) => return Ok(()),
    };
    if clusters.iter().all(|c| c.cluster.pods.is_empty()) {
        return Ok(());
    }
    let exceptions = state.store.active_exceptions().await?;
    let findings = state
        .store
        .latest_findings_of(crate::pods::CLUSTER_PREFIX)
        .await?;
    let mut by_target: BTreeMap<(&str, &str), Vec<&holdfast_store::FindingRow>> = BTreeMap::new();
    for f in &findings {
        if crate::views::covered(&exceptions, f).is_none() {
            by_target
                .entry((f.scan_id.as_str(), f.target.as_str()))
                .or_default()
                .push(f);
        }
    }
    let os: BTreeMap<(&str, &str), &str> = latest
        .iter()
        .filter_map(|t| Some(((t.scan_id.as_str(), t.name.as_str()), t.os.as_deref()?)))
        .collect();
    // One series per label set: a pod running the same image twice counts once.
    let mut series: std::collections::BTreeSet<Vec<(&str, String)>> = Default::default();
    for c in &clusters {
        for pod in &c.cluster.pods {
            for image in &pod.images {
                let Some(target) = image.target.as_deref() else {
                    continue;
                };
                let key = (c.scan_id.as_str(), target);
                for f in by_target.get(&key).into_iter().flatten() {
                    series.insert(vec![
                        ("PodName", pod.name.clone()),
                        ("Namespace", pod.namespace.clone()),
                        ("Image", image.reference.clone()),
                        ("IsPublic", pod.is_public.to_string()),
                        (
                            "BaseOS",
                            os.get(&key).copied().unwrap_or_default().to_string(),
                        ),
                        ("VulnerabilityID", f.id.clone()),
                        ("PkgName", f.package.clone().unwrap_or_default()),
                        (
                            "InstalledVersion",
                            f.installed_version.clone().unwrap_or_default(),
                        ),
                        ("FixedVersion", f.fixed_version.clone().unwrap_or_default()),
                        ("Severity", f.severity.clone()),
                    ]);
                }
            }
        }
    }
    e.family(
        "pod_security_issue",
        "gauge",
        "A finding of an image a pod runs, from the latest cluster scans (1 per finding).",
    );
    for labels in &series {
        let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        e.sample("pod_security_issue", &labels, 1.0);
    }
    Ok(())
}

pub async fn render(state: &AppState) -> Result<String, holdfast_store::StoreError> {
    let latest = state.store.latest_targets(None, None).await?;
    let (queued, running) = state.store.queue_depth().await?;
    let stored = state.store.scan_counts().await?;

    let mut e = Exposition::default();
    {
        let m = state.metrics.inner.lock().expect("metrics lock");
        e.family(
            "holdfast_scans_total",
            "counter",
            "Scans this process ran to the end, by outcome.",
        );
        for status in ["finished", "failed"] {
            let n = m.scans.get(status).copied().unwrap_or(0);
            e.sample("holdfast_scans_total", &[("status", status)], n as f64);
        }
        e.family(
            "holdfast_scans_interrupted_total",
            "counter",
            "Scans whose worker stopped before they finished, failed and queued again.",
        );
        e.sample(
            "holdfast_scans_interrupted_total",
            &[],
            m.interrupted as f64,
        );
        e.family(
            "holdfast_scan_duration_seconds",
            "histogram",
            "How long this process's scans took, by outcome.",
        );
        for (status, h) in &m.durations {
            for (i, le) in BUCKETS.iter().enumerate() {
                let le = le.to_string();
                e.sample(
                    "holdfast_scan_duration_seconds_bucket",
                    &[("status", status), ("le", &le)],
                    h.counts[i] as f64,
                );
            }
            e.sample(
                "holdfast_scan_duration_seconds_bucket",
                &[("status", status), ("le", "+Inf")],
                h.count as f64,
            );
            e.sample(
                "holdfast_scan_duration_seconds_sum",
                &[("status", status)],
                h.sum,
            );
            e.sample(
                "holdfast_scan_duration_seconds_count",
                &[("status", status)],
                h.count as f64,
            );
        }
    }

    let mut findings: BTreeMap<(String, &str), i64> = BTreeMap::new();
    let mut targets: BTreeMap<String, i64> = BTreeMap::new();
    for t in &latest {
        *targets.entry(t.kind.clone()).or_default() += 1;
        for (severity, n) in [
            ("critical", t.counts.critical),
            ("high", t.counts.high),
            ("medium", t.counts.medium),
            ("low", t.counts.low),
            ("unknown", t.counts.unknown),
        ] {
            *findings.entry((t.kind.clone(), severity)).or_default() += n;
        }
    }
    e.family(
        "holdfast_findings",
        "gauge",
        "Findings in the latest scan of every target, by severity and target kind.",
    );
    for ((kind, severity), n) in &findings {
        e.sample(
            "holdfast_findings",
            &[("severity", severity), ("target_kind", kind)],
            *n as f64,
        );
    }
    e.family(
        "holdfast_targets",
        "gauge",
        "Targets with a finished scan, by kind.",
    );
    for (kind, n) in &targets {
        e.sample("holdfast_targets", &[("kind", kind)], *n as f64);
    }
    e.family(
        "holdfast_queue_depth",
        "gauge",
        "Scans waiting for or held by a worker.",
    );
    e.sample(
        "holdfast_queue_depth",
        &[("state", "queued")],
        queued as f64,
    );
    e.sample(
        "holdfast_queue_depth",
        &[("state", "running")],
        running as f64,
    );
    e.family(
        "holdfast_stored_scans",
        "gauge",
        "Scans in the store, by status.",
    );
    for (status, n) in &stored {
        e.sample(
            "holdfast_stored_scans",
            &[("status", status.as_str())],
            *n as f64,
        );
    }
    pod_security_issues(state, &latest, &mut e).await?;
    if let Some(age) = crate::dbserve::db_age_seconds(&state.db_path) {
        e.family(
            "holdfast_db_age_seconds",
            "gauge",
            "Age of the vulnerability database file the service matches with.",
        );
        e.sample("holdfast_db_age_seconds", &[], age);
    }
    Ok(e.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let mut e = Exposition::default();
        e.sample("m", &[("a", "x\"y\\z\nw")], 1.0);
        e.sample("m", &[], f64::INFINITY);
        assert_eq!(e.out, "m{a=\"x\\\"y\\\\z\\nw\"} 1\nm +Inf\n");
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::new();
        m.scan_finished("finished", Duration::from_millis(300));
        m.scan_finished("finished", Duration::from_secs(3));
        let inner = m.inner.lock().unwrap();
        let h = &inner.durations["finished"];
        assert_eq!(
            (h.counts[0], h.counts[1], h.counts[4], h.count),
            (0, 1, 2, 2)
        );
    }
}
