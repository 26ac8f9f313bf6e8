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
#[path = "support/webdriver.rs"]
mod webdriver;

use std::path::Path;

use holdfast_report::{render, Format, RenderOptions};
use serde_json::json;
use webdriver::{tool, Browser, Driver, ELEMENT};

/// The ids of the finding rows the user sees, top to bottom, asked element by element
/// through WebDriver's own visibility check.
fn visible_ids(b: &Browser) -> Vec<String> {
    let found = b.post(
        "/elements",
        json!({"using": "css selector", "value": "tbody.finding"}),
    );
    let mut ids = Vec::new();
    for el in found.as_array().unwrap() {
        let el = el[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("not an element: {el}"));
        if b.get(&format!("/element/{el}/displayed")) == true {
            let id = b.get(&format!("/element/{el}/attribute/data-id"));
            ids.push(id.as_str().unwrap().to_string());
        }
    }
    ids
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
    let all = visible_ids(&s);
    assert_eq!(all.len(), 8, "{all:?}");
    assert_eq!(all[0], "CVE-2024-0001");
    let count = s.script("return document.getElementById('f-count').textContent");
    assert_eq!(count, "8 of 8 findings");

    // Filter by severity: the two HIGH findings remain.
    s.click("#f-severity option[value='HIGH']");
    let mut high = visible_ids(&s);
    high.sort();
    assert_eq!(high, ["CVE-2024-0002", "HF-ESCAPE-DOCKER-SOCK"]);

    // With "no fix yet" too: the escape risk is about no package, the CVE has no fix.
    s.click("#f-fix option[value='unfixed']");
    assert_eq!(visible_ids(&s), ["CVE-2024-0002"]);
    s.click("#f-fix option[value='']");
    s.click("#f-severity option[value='']");

    // Free text searches the rows' text, the hostile package name included, as text.
    let text = s.find("#f-text");
    s.post(
        &format!("/element/{text}/value"),
        json!({"text": "<script>"}),
    );
    assert_eq!(visible_ids(&s), ["CVE-2024-6666"]);
    s.post(&format!("/element/{text}/clear"), json!({}));
    s.script("document.getElementById('f-text').dispatchEvent(new Event('input')); return 0");
    assert_eq!(visible_ids(&s).len(), 8);

    // Sorting by id, ascending.
    s.click("th[data-key='id']");
    let ids = visible_ids(&s);
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
    s.screenshot(&dir.join("report.png"));

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
