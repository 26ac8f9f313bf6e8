//! The HTML report in a real headless Chromium, driven through chromedriver's W3C WebDriver
//! HTTP API on loopback: the page loads from a file with nothing fetched, the severity
//! filter leaves exactly the matching rows, free text and sorting work, a row opens its
//! detail, no script from the image ran, and a screenshot is kept as an artifact
//! (`target/tmp/html-report/*.png`).
//!
//! Runs under `HOLDFAST_FULL_TESTS=1` (Debian `chromium` and `chromium-driver`, which
//! `scripts/setup-test-deps.sh` installs) and fails there if they are missing; skipped
//! otherwise, to keep `cargo test -p holdfast-report` fast.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use holdfast_report::{render, Format, RenderOptions};
use serde_json::{json, Value};

/// The W3C name of the key holding an element's id.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// chromedriver, killed (it is ours: we hold its handle) when the test ends.
struct Driver {
    child: Child,
    base: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start(path: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = ureq::get(&format!("{}/status", driver.base))
                .call()
                .ok()
                .and_then(|r| r.into_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                return driver;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// One browser opened through WebDriver (the protocol calls it a session).
struct Browser<'a> {
    driver: &'a Driver,
    id: String,
}

fn answer(r: Result<ureq::Response, ureq::Error>, what: &str) -> Value {
    match r {
        Ok(resp) => resp.into_json::<Value>().unwrap()["value"].clone(),
        Err(ureq::Error::Status(code, resp)) => {
            panic!(
                "{what}: HTTP {code}: {}",
                resp.into_string().unwrap_or_default()
            )
        }
        Err(e) => panic!("{what}: {e}"),
    }
}

impl<'a> Browser<'a> {
    fn new(driver: &'a Driver, chromium: &Path) -> Browser<'a> {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1400,1000"]
            }
        }}});
        let v = answer(
            ureq::post(&format!("{}/session", driver.base)).send_json(caps),
            "open the browser",
        );
        Browser {
            driver,
            id: v["sessionId"].as_str().unwrap().to_string(),
        }
    }

    fn url(&self, tail: &str) -> String {
        format!("{}/session/{}{tail}", self.driver.base, self.id)
    }

    fn post(&self, tail: &str, body: Value) -> Value {
        answer(ureq::post(&self.url(tail)).send_json(body), tail)
    }

    fn get(&self, tail: &str) -> Value {
        answer(ureq::get(&self.url(tail)).call(), tail)
    }

    fn find(&self, css: &str) -> String {
        let v = self.post("/element", json!({"using": "css selector", "value": css}));
        v[ELEMENT].as_str().unwrap().to_string()
    }

    fn click(&self, css: &str) {
        let el = self.find(css);
        self.post(&format!("/element/{el}/click"), json!({}));
    }

    fn script(&self, body: &str) -> Value {
        self.post("/execute/sync", json!({"script": body, "args": []}))
    }

    /// The ids of the finding rows the user sees, top to bottom, asked element by element
    /// through WebDriver's own visibility check.
    fn visible_ids(&self) -> Vec<String> {
        let found = self.post(
            "/elements",
            json!({"using": "css selector", "value": "tbody.finding"}),
        );
        let mut ids = Vec::new();
        for el in found.as_array().unwrap() {
            let el = el[ELEMENT]
                .as_str()
                .unwrap_or_else(|| panic!("not an element: {el}"));
            if self.get(&format!("/element/{el}/displayed")) == true {
                let id = self.get(&format!("/element/{el}/attribute/data-id"));
                ids.push(id.as_str().unwrap().to_string());
            }
        }
        ids
    }
}

impl Drop for Browser<'_> {
    fn drop(&mut self) {
        let _ = ureq::delete(&self.url("")).call();
    }
}

#[test]
fn html_report_in_headless_chromium() {
    if std::env::var("HOLDFAST_FULL_TESTS").as_deref() != Ok("1") {
        eprintln!(
            "skipped: set HOLDFAST_FULL_TESTS=1 to drive the HTML report in headless Chromium"
        );
        return;
    }
    let driver_path = tool("chromedriver").expect(
        "HOLDFAST_FULL_TESTS=1, but chromedriver is not installed (Debian chromium-driver)",
    );
    let chromium = tool("chromium")
        .expect("HOLDFAST_FULL_TESTS=1, but chromium is not installed (Debian chromium)");

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("report.html");
    let mut html = Vec::new();
    render(
        &common::fixture(),
        Format::Html,
        &mut html,
        &RenderOptions::default(),
    )
    .unwrap();
    std::fs::write(&page, &html).unwrap();

    let driver = Driver::start(&driver_path);
    let s = Browser::new(&driver, &chromium);
    s.post("/url", json!({"url": format!("file://{}", page.display())}));

    // Everything is there, most severe first; the script counted the rows.
    let all = s.visible_ids();
    assert_eq!(all.len(), 8, "{all:?}");
    assert_eq!(all[0], "CVE-2024-0001");
    let count = s.script("return document.getElementById('f-count').textContent");
    assert_eq!(count, "8 of 8 findings");

    // Filter by severity: the two HIGH findings remain.
    s.click("#f-severity option[value='HIGH']");
    let mut high = s.visible_ids();
    high.sort();
    assert_eq!(high, ["CVE-2024-0002", "HF-ESCAPE-DOCKER-SOCK"]);

    // With "no fix yet" too: the escape risk is about no package, the CVE has no fix.
    s.click("#f-fix option[value='unfixed']");
    assert_eq!(s.visible_ids(), ["CVE-2024-0002"]);
    s.click("#f-fix option[value='']");
    s.click("#f-severity option[value='']");

    // Free text searches the rows' text, the hostile package name included, as text.
    let text = s.find("#f-text");
    s.post(
        &format!("/element/{text}/value"),
        json!({"text": "<script>"}),
    );
    assert_eq!(s.visible_ids(), ["CVE-2024-6666"]);
    s.post(&format!("/element/{text}/clear"), json!({}));
    s.script("document.getElementById('f-text').dispatchEvent(new Event('input')); return 0");
    assert_eq!(s.visible_ids().len(), 8);

    // Sorting by id, ascending.
    s.click("th[data-key='id']");
    let ids = s.visible_ids();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);

    // A row opens its detail, which names the layer's command.
    let first = s.find("tbody.finding[data-id='CVE-2024-0001'] button.toggle");
    s.post(&format!("/element/{first}/click"), json!({}));
    let detail = s.find("tbody.finding[data-id='CVE-2024-0001'] tr.detail");
    assert_eq!(s.get(&format!("/element/{detail}/displayed")), true);
    let detail_text = s.get(&format!("/element/{detail}/text"));
    assert!(
        detail_text.as_str().unwrap().contains("ADD file:0123 in /"),
        "{detail_text}"
    );

    // The hostile finding's detail, built from the JSON, shows the name as text.
    let hostile = s.find("tbody.finding[data-id='CVE-2024-6666'] button.toggle");
    s.post(&format!("/element/{hostile}/click"), json!({}));
    let detail = s.find("tbody.finding[data-id='CVE-2024-6666'] tr.detail");
    let detail_text = s.get(&format!("/element/{detail}/text"));
    assert!(
        detail_text
            .as_str()
            .unwrap()
            .contains("<script>alert(1)</script>"),
        "{detail_text}"
    );

    // The hostile name is text on the page, and nothing from the image ran.
    let body = s.script("return document.body.innerText");
    assert!(body.as_str().unwrap().contains("<script>alert(1)</script>"));
    let alert = ureq::get(&s.url("/alert/text")).call();
    assert!(
        matches!(alert, Err(ureq::Error::Status(404, _))),
        "an alert is open: a script from the image ran"
    );
    let scripts = s.script("return document.querySelectorAll('script:not([type])').length");
    assert_eq!(scripts, 1);
    let data = s.script("return document.querySelectorAll('script[type]').length");
    assert_eq!(data, 1);

    // The screenshot, kept as the test's artifact.
    let shot = s.get("/screenshot");
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot.as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let artifact = dir.join("report.png");
    std::fs::write(&artifact, png).unwrap();
    eprintln!("screenshot: {}", artifact.display());

    // A large result: the rows come a page at a time.
    let big = dir.join("big.html");
    let mut html = Vec::new();
    render(
        &common::synthetic(1200),
        Format::Html,
        &mut html,
        &RenderOptions::default(),
    )
    .unwrap();
    std::fs::write(&big, &html).unwrap();
    s.post("/url", json!({"url": format!("file://{}", big.display())}));
    let rows = "return document.querySelectorAll('tbody.finding').length";
    let count = "return document.getElementById('f-count').textContent";
    assert_eq!(s.script(rows), 500);
    assert_eq!(s.script(count), "1200 of 1200 findings (first 500 shown)");
    s.click("#f-more");
    assert_eq!(s.script(rows), 1000);
    s.click("#f-more");
    assert_eq!(s.script(rows), 1200);
    assert_eq!(s.script(count), "1200 of 1200 findings");
    assert_eq!(
        s.script("return document.getElementById('f-more').hidden"),
        true
    );
}
