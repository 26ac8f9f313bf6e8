//! The store on both databases: the same scenarios on SQLite and, when it is installed
//! (always under `HOLDFAST_FULL_TESTS=1`), on a private PostgreSQL server.

#[path = "support/postgres.rs"]
mod postgres;

use std::time::Duration;

use holdfast_model::ScanResult;
use holdfast_store::{NewException, NewScan, NewSchedule, ScanFilter, ScanStatus, Scope, Store};

fn demo_result() -> ScanResult {
    serde_json::from_str(include_str!("fixtures/demo-result.json")).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `scenario` on a fresh SQLite store, then on a fresh PostgreSQL one.
fn on_both<F, Fut>(scenario: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    rt.block_on(async {
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        scenario(store).await;
    });
    if let Some(pg) = postgres::TestPostgres::start() {
        let url = pg.fresh_database();
        rt.block_on(async {
            let store = Store::open(&url).await.unwrap();
            scenario(store).await;
        });
    }
}

#[test]
fn a_scan_goes_from_queue_to_result() {
    on_both(|store| async move {
        let queued = store
            .enqueue(&NewScan {
                target: "docker-archive:demo.tar".into(),
                scanners: vec!["vuln".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(queued.status, ScanStatus::Queued);
        assert_eq!(store.queue_depth().await.unwrap(), (1, 0));

        let claimed = store
            .claim("w1", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.id, queued.id);
        assert_eq!(claimed.status, ScanStatus::Running);
        assert_eq!(claimed.attempts, 1);
        assert!(
            store
                .claim("w2", Duration::from_secs(60))
                .await
                .unwrap()
                .is_none(),
            "taken once"
        );
        assert!(store
            .renew(&queued.id, "w1", Duration::from_secs(60))
            .await
            .unwrap());
        assert!(!store
            .renew(&queued.id, "w2", Duration::from_secs(60))
            .await
            .unwrap());

        let result = demo_result();
        assert!(
            !store.finish(&queued.id, "w2", &result, 5).await.unwrap(),
            "not w2's lease"
        );
        assert!(store.finish(&queued.id, "w1", &result, 5).await.unwrap());
        let done = store.scan(&queued.id).await.unwrap().unwrap();
        assert_eq!(done.status, ScanStatus::Finished);
        assert_eq!(
            store.scan_result(&queued.id).await.unwrap().unwrap(),
            result
        );

        let targets = store.latest_targets(None, None).await.unwrap();
        assert_eq!(targets.len(), 1);
        let t = &targets[0];
        assert_eq!(t.packages, result.targets[0].packages.len() as i64);
        let findings = result.targets[0].findings.len() as i64;
        assert_eq!(
            t.counts.critical + t.counts.high + t.counts.medium + t.counts.low + t.counts.unknown,
            findings
        );

        let vulns = store.vulnerabilities(|_| false).await.unwrap();
        let curl = vulns
            .iter()
            .find(|v| v.id == "CVE-2023-46218")
            .expect("the curl advisory");
        assert_eq!((curl.targets, curl.packages.len()), (1, 2), "{curl:?}");
        let rows = store
            .latest_findings(&["vulnerability"], &["CVE-2023-46218"])
            .await
            .unwrap();
        let mut packages: Vec<_> = rows.iter().filter_map(|r| r.package.as_deref()).collect();
        packages.sort();
        assert_eq!(packages, ["curl", "libcurl4"]);
        let excepted = store
            .vulnerabilities(|f| f.id == "CVE-2023-46218")
            .await
            .unwrap();
        assert!(excepted.iter().all(|v| v.id != "CVE-2023-46218"));

        let listed = store
            .scans(&ScanFilter {
                status: Some(ScanStatus::Finished),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert!(store.delete_scan(&queued.id).await.unwrap());
        assert!(
            store.latest_targets(None, None).await.unwrap().is_empty(),
            "derived rows go with the scan"
        );
        assert!(!store.delete_scan(&queued.id).await.unwrap());
    });
}

#[test]
fn an_interrupted_scan_is_failed_and_queued_again() {
    on_both(|store| async move {
        let queued = store
            .enqueue(&NewScan {
                target: "img".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        store
            .claim("dead-worker", Duration::from_millis(1))
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let recovered = store.recover_expired().await.unwrap();
        assert_eq!(recovered.len(), 1);
        let (failed, requeued) = &recovered[0];
        assert_eq!(failed, &queued.id);
        let old = store.scan(failed).await.unwrap().unwrap();
        assert_eq!(old.status, ScanStatus::Failed);
        assert!(old.error.unwrap().contains("interrupted"));
        let new = store
            .scan(requeued.as_ref().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(new.status, ScanStatus::Queued);
        assert_eq!(new.retry_of.as_deref(), Some(queued.id.as_str()));
        // The dead worker can no longer write its result.
        assert!(!store
            .finish(&queued.id, "dead-worker", &demo_result(), 1)
            .await
            .unwrap());

        // After three interrupted attempts the target is not queued again.
        for _ in 0..3 {
            if store
                .claim("dead", Duration::from_millis(1))
                .await
                .unwrap()
                .is_none()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            store.recover_expired().await.unwrap();
        }
        assert_eq!(store.queue_depth().await.unwrap(), (0, 0));
    });
}

#[test]
fn tokens_exceptions_schedules_and_audit() {
    on_both(|store| async move {
        let (info, token) = store.create_token("ci", Scope::Scan).await.unwrap();
        assert!(token.starts_with("hft_"));
        assert_eq!(store.verify_token(&token).await.unwrap().unwrap(), info);
        assert!(store.verify_token("hft_nope").await.unwrap().is_none());
        assert!(store.revoke_token(&info.id).await.unwrap());
        assert!(
            store.verify_token(&token).await.unwrap().is_none(),
            "revoked"
        );
        assert!(Scope::Admin.allows(Scope::Scan) && !Scope::Read.allows(Scope::Scan));

        let e = store
            .create_exception(
                &NewException {
                    advisory: "CVE-2023-38545".into(),
                    target: None,
                    package: Some("curl".into()),
                    reason: "not reachable".into(),
                    owner: "team-a".into(),
                    expires_at: Some(holdfast_store::now_ms() + 60_000),
                },
                "admin",
            )
            .await
            .unwrap();
        assert!(e.covers("CVE-2023-38545", &[], Some("curl"), "x"));
        assert!(!e.covers("CVE-2023-38545", &[], Some("libcurl4"), "x"));
        assert_eq!(store.active_exceptions().await.unwrap().len(), 1);
        let blank = NewException {
            advisory: " ".into(),
            target: None,
            package: None,
            reason: "r".into(),
            owner: "o".into(),
            expires_at: None,
        };
        assert!(store.create_exception(&blank, "admin").await.is_err());
        assert!(store.delete_exception(&e.id).await.unwrap());

        let s = store
            .upsert_schedule(
                &NewSchedule {
                    name: "nightly".into(),
                    target: "img".into(),
                    scanners: vec![],
                    spec: "every 12h".into(),
                },
                1000,
            )
            .await
            .unwrap();
        assert_eq!(store.due_schedules(999).await.unwrap().len(), 0);
        assert_eq!(store.due_schedules(1000).await.unwrap().len(), 1);
        assert!(store
            .advance_schedule(&s.id, 1000, 5000, Some("sha256:aa"))
            .await
            .unwrap());
        assert!(
            !store
                .advance_schedule(&s.id, 1000, 5000, None)
                .await
                .unwrap(),
            "only one runner moves it"
        );
        let s2 = &store.schedules().await.unwrap()[0];
        assert_eq!(
            (s2.next_run_at, s2.last_digest.as_deref()),
            (5000, Some("sha256:aa"))
        );
        assert!(store.delete_schedule("nightly").await.unwrap());

        store
            .audit(
                "admin",
                "exception.delete",
                &serde_json::json!({"id": e.id}),
            )
            .await
            .unwrap();
        let log = store.audit_log(10).await.unwrap();
        assert_eq!(log[0].action, "exception.delete");
    });
}

#[test]
fn concurrent_workers_never_take_a_scan_twice() {
    on_both(|store| async move {
        for i in 0..40 {
            store
                .enqueue(&NewScan {
                    target: format!("img{i}"),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
        let mut tasks = Vec::new();
        for w in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(scan) = store
                    .claim(&format!("w{w}"), Duration::from_secs(60))
                    .await
                    .unwrap()
                {
                    got.push(scan.id);
                }
                got
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!((n, all.len()), (40, 40), "each scan taken exactly once");
    });
}

#[test]
fn a_retry_waits_for_its_time() {
    on_both(|store| async move {
        let later = holdfast_store::now_ms() + 60_000;
        store
            .enqueue(&NewScan {
                target: "img".into(),
                not_before: Some(later),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(
            store
                .claim("w", Duration::from_secs(60))
                .await
                .unwrap()
                .is_none(),
            "not before its time"
        );
        store
            .enqueue(&NewScan {
                target: "img2".into(),
                not_before: Some(1),
                ..Default::default()
            })
            .await
            .unwrap();
        let taken = store
            .claim("w", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(taken.target, "img2");
    });
}

#[test]
fn bad_urls_are_named() {
    let rt = runtime();
    let err = rt
        .block_on(Store::open("mysql://u:pw@h/db"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("mysql://u:***@h/db"), "{err}");
}

#[test]
fn imported_results_make_trends_by_day() {
    on_both(|store| async move {
        const DAY: i64 = 86_400_000;
        let now = 40 * DAY + 3_600_000; // 01:00 on day 40
        let result = demo_result();
        let critical = result.targets[0]
            .findings
            .iter()
            .filter(|f| f.severity == holdfast_model::Severity::Critical)
            .count() as i64;
        // Before the window (day 5), inside it (day 30), and twice on day 35 (the later
        // one with no findings: the day counts the latest).
        store.import_result("img", &result, 5 * DAY).await.unwrap();
        store
            .import_result("img", &result, 30 * DAY + 10)
            .await
            .unwrap();
        let mut clean = result.clone();
        clean.targets[0].findings.clear();
        store.import_result("img", &result, 35 * DAY).await.unwrap();
        store
            .import_result("img", &clean, 35 * DAY + 5)
            .await
            .unwrap();
        let days = store.trends(30, now).await.unwrap();
        assert_eq!(days.len(), 30);
        assert_eq!(days[0].day, 11 * DAY, "the window ends with today");
        assert_eq!(
            days[0].images.critical, critical,
            "scans before the window count"
        );
        assert_eq!(
            days.iter()
                .find(|d| d.day == 34 * DAY)
                .unwrap()
                .images
                .critical,
            critical
        );
        assert_eq!(
            days.iter()
                .find(|d| d.day == 35 * DAY)
                .unwrap()
                .images
                .critical,
            0
        );
        assert_eq!(days[29].images.critical, 0);
        assert_eq!(days[29].containers.critical, 0);

        let latest = store.latest_targets(None, None).await.unwrap();
        assert_eq!(latest.len(), 1);
        assert_eq!(latest[0].fixable, 0, "the latest scan has no findings");
        store.import_result("img", &result, 36 * DAY).await.unwrap();
        let latest = store.latest_targets(None, None).await.unwrap();
        let fixable = result.targets[0]
            .findings
            .iter()
            .filter(|f| {
                f.kind == holdfast_model::FindingKind::Vulnerability && f.fixed_version.is_some()
            })
            .count() as i64;
        assert!(fixable > 0);
        assert_eq!(latest[0].fixable, fixable);
    });
}

#[test]
fn sessions_end_with_their_token_and_policies_keep_their_author() {
    on_both(|store| async move {
        let (token, _) = store.create_token("alice", Scope::Read).await.unwrap();
        let (secret, session) = store.create_session(&token, 60_000).await.unwrap();
        assert_eq!(session.token.name, "alice");
        let found = store.session(&secret).await.unwrap().unwrap();
        assert_eq!(found.csrf, session.csrf);
        assert!(store.session("not-a-secret").await.unwrap().is_none());
        let (expired, _) = store.create_session(&token, -1).await.unwrap();
        assert!(store.session(&expired).await.unwrap().is_none(), "expired");
        store.revoke_token(&token.id).await.unwrap();
        assert!(
            store.session(&secret).await.unwrap().is_none(),
            "token revoked"
        );
        let (token2, _) = store.create_token("bob", Scope::Admin).await.unwrap();
        let (s2, _) = store.create_session(&token2, 60_000).await.unwrap();
        store.delete_session(&s2).await.unwrap();
        assert!(store.session(&s2).await.unwrap().is_none(), "signed out");

        assert!(store.policy("ci").await.unwrap().is_none());
        let body = serde_json::json!({"severity": "HIGH", "fixable_only": true});
        store.put_policy("ci", &body, "bob").await.unwrap();
        let body2 = serde_json::json!({"severity": "CRITICAL"});
        store.put_policy("ci", &body2, "carol").await.unwrap();
        let p = store.policy("ci").await.unwrap().unwrap();
        assert_eq!(p.body, body2);
        assert_eq!(p.updated_by, "carol");
        assert_eq!(store.policies().await.unwrap().len(), 1);
    });
}
