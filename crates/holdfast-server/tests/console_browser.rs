//! The web console in a real headless Chromium driven through chromedriver: it signs in,
//! walks overview → image → vulnerability → trends → policy on a service holding a real
//! scan of the demo image and imported history, checks that the numbers shown equal the
//! API's, adds an exception from the vulnerability page and removes it from the policy
//! page (through the confirm dialog), shows a hostile name as text with no script run,
//! and keeps a screenshot of each page (`target/tmp/console/*.png`).
//!
//! Runs under `HOLDFAST_FULL_TESTS=1` (Debian `chromium` and `chromium-driver`, which
//! `scripts/setup-test-deps.sh` installs) and fails there if they are missing.

#[path = "support/service.rs"]
mod service;
#[path = "../../holdfast-report/tests/support/webdriver.rs"]
mod webdriver;

use std::path::Path;

use serde_json::{json, Value};
use service::{days_ago, demo_image, runtime, vulnerability_like, Service};
use webdriver::{tool, Browser, Driver};

const HOSTILE: &str = "<img src=x onerror=alert(7)>";

/// Waits up to 10 s for `done`, as a page that a click loads may still be on its way.
fn wait_for(b: &Browser, done: impl Fn(&Browser) -> bool, why: impl Fn() -> String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done(b) {
        assert!(std::time::Instant::now() < deadline, "{}", why());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn number(text: &str) -> i64 {
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {text:?}"))
}

#[test]
fn the_console_in_headless_chromium() {
    if std::env::var("HOLDFAST_FULL_TESTS").as_deref() != Ok("1") {
        eprintln!("skipped: set HOLDFAST_FULL_TESTS=1 to drive the console in headless Chromium");
        return;
    }
    let driver_path = tool("chromedriver").expect(
        "HOLDFAST_FULL_TESTS=1, but chromedriver is not installed (Debian chromium-driver)",
    );
    let chromium = tool("chromium")
        .expect("HOLDFAST_FULL_TESTS=1, but chromium is not installed (Debian chromium)");
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console");
    std::fs::create_dir_all(&shots).unwrap();

    let rt = runtime();
    rt.block_on(async move {
        let service = Service::start(None).await;
        // A real scan, the same image 12 days ago with one critical finding more, and a
        // host whose name is markup.
        let target = format!("docker-archive:{}", demo_image().display());
        let scan = service.scan_and_wait(&target).await;
        assert_eq!(scan["status"], "finished", "{scan}");
        let demo = scan["result"].clone();
        let mut older = demo.clone();
        older["created_at"] = json!(days_ago(12));
        let extra = vulnerability_like(&older, "CVE-2099-0002", "CRITICAL");
        older["targets"][0]["findings"]
            .as_array_mut()
            .unwrap()
            .push(extra);
        service.import(&older, &target).await;
        let mut hostile = demo.clone();
        hostile["targets"][0]["name"] = json!(HOSTILE);
        hostile["targets"][0]["kind"] = json!("rootfs");
        hostile["targets"][0]["image_id"] = Value::Null;
        service.import(&hostile, "rootfs:/srv").await;

        let (_, images) = service.get("/api/v1/images", &service.read).await;
        let image = images["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["kind"] == "image")
            .unwrap()
            .clone();
        let image_id = image["image_id"].as_str().unwrap().to_string();
        let (_, api_image) = service
            .get(&format!("/api/v1/images/{image_id}"), &service.read)
            .await;

        let base = service.base.clone();
        let admin = service.admin.clone();
        let http = service.http.clone();
        let read = service.read.clone();
        let walked = tokio::task::spawn_blocking(move || {
            let driver = Driver::start(&driver_path);
            let b = Browser::new(&driver, &chromium);
            let api = |path: &str| -> Value {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    http.get(format!("{base}{path}"))
                        .bearer_auth(&read)
                        .send()
                        .await
                        .unwrap()
                        .json::<Value>()
                        .await
                        .unwrap()
                })
            };

            // Sign in: the login page, then back to the overview.
            b.goto(&format!("{base}/"));
            assert!(
                b.current_url().contains("/login?next="),
                "{}",
                b.current_url()
            );
            b.type_into("#token", &admin);
            b.click("form[action='/login'] button[type=submit]");
            wait_for(
                &b,
                |b| !b.current_url().contains("/login"),
                || {
                    format!(
                        "still signing in: {}",
                        b.script("return document.body.innerText")
                    )
                },
            );
            assert_eq!(b.current_url(), format!("{base}/"));
            assert_eq!(b.text("h1"), "Overview");

            // The overview's image counts are the API's.
            for sev in ["critical", "high", "medium", "low"] {
                let shown =
                    number(&b.text(&format!("a.card[data-class='Images'] dd[data-sev='{sev}']")));
                assert_eq!(
                    shown,
                    image["counts"][sev].as_i64().unwrap(),
                    "images {sev}"
                );
            }
            b.screenshot(&shots.join("overview.png"));

            // Overview → image, through the riskiest-workloads table.
            let riskiest = b.count("#risky tbody tr");
            assert!(riskiest >= 1);
            b.goto(&format!("{base}/images/{image_id}"));
            assert_eq!(
                number(&b.text("#image-counts dd[data-sev='critical']")),
                api_image["summary"]["counts"]["critical"].as_i64().unwrap()
            );
            assert_eq!(
                number(&b.text("#package-count")),
                api_image["summary"]["packages"].as_i64().unwrap()
            );
            assert!(b.count("#layers tbody tr") >= 1);
            b.screenshot(&shots.join("image.png"));

            // Image → vulnerability: the first advisory of the worst package.
            let advisory = b.text("#packages tbody tr a.adv");
            b.click("#packages tbody tr a.adv");
            let vuln_url = format!("{base}/vulnerabilities/{advisory}");
            wait_for(&b, |b| b.current_url() == vuln_url, || b.current_url());
            let detail = api(&format!("/api/v1/vulnerabilities/{advisory}"));
            assert_eq!(
                b.count("#affected tbody tr"),
                detail["affected"].as_array().unwrap().len()
            );
            b.screenshot(&shots.join("vulnerability.png"));

            // Add an exception from here.
            b.type_into(
                "#add-exception input[name=reason]",
                "not reachable in this build",
            );
            b.type_into("#add-exception input[name=owner]", "platform team");
            b.click("#add-exception button[type=submit]");
            wait_for(
                &b,
                |b| b.count("#exceptions tbody tr") == 1,
                || {
                    format!(
                        "no exception listed: {}",
                        b.script("return document.body.innerText")
                    )
                },
            );
            assert_eq!(b.current_url(), vuln_url);
            let listed = api("/api/v1/exceptions");
            assert_eq!(listed["exceptions"][0]["advisory"], advisory.as_str());
            assert_eq!(listed["exceptions"][0]["owner"], "platform team");

            // Trends: today's image counts are what the API's images say now.
            b.goto(&format!("{base}/trends"));
            let after = api("/api/v1/images");
            let critical_now: i64 = after["targets"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["kind"] == "image")
                .map(|t| t["counts"]["critical"].as_i64().unwrap())
                .sum();
            let stored_critical: i64 = image["counts"]["critical"].as_i64().unwrap();
            assert!(critical_now <= stored_critical);
            // Trends count stored scans, not exceptions: today's value is the stored one.
            assert_eq!(
                number(&b.text("figure[data-class='Images'] span[data-today='critical']")),
                stored_critical
            );
            assert_eq!(b.count("figure.panel svg polyline"), 6);
            b.screenshot(&shots.join("trends.png"));

            // Policy: the exception is listed; remove it through the confirm dialog.
            b.goto(&format!("{base}/policy"));
            assert_eq!(b.count("#exceptions tbody tr"), 1);
            b.screenshot(&shots.join("policy.png"));
            b.click("#exceptions tbody tr button.danger");
            b.accept_dialog();
            // The form posts after the dialog; wait for the page that follows.
            wait_for(
                &b,
                |b| b.count("#exceptions tbody tr") == 0,
                || "the exception stayed".into(),
            );
            assert_eq!(api("/api/v1/exceptions")["exceptions"], json!([]));
            let audit: Vec<String> = b.text("#audit tbody").lines().map(str::to_string).collect();
            assert!(
                audit.iter().any(|l| l.contains("exception.delete")),
                "{audit:?}"
            );
            assert!(audit.iter().any(|l| l.contains("exception.create")));

            // The hostile host: its name is text, and no dialog opened.
            b.goto(&format!("{base}/images?kind=rootfs"));
            assert_eq!(b.text("#targets tbody th a"), HOSTILE);
            b.click("#targets tbody th a");
            wait_for(
                &b,
                |b| b.current_url().contains("/images/%3C"),
                || b.current_url(),
            );
            assert_eq!(b.text("h1"), HOSTILE);
            let images_in_heading = b.script("return document.querySelectorAll('h1 img').length");
            assert_eq!(images_in_heading, 0);
            b.screenshot(&shots.join("hostile.png"));
        })
        .await;
        service.stop().await;
        if let Err(e) = walked {
            std::panic::resume_unwind(e.into_panic());
        }
    });
}
