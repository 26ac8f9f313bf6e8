//! A small W3C WebDriver client over chromedriver on loopback, shared by the browser
//! tests (the HTML report, the web console). Written against the protocol directly: the
//! handful of calls the tests make are a few JSON requests each.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

/// The W3C name of the key holding an element's id.
pub const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub fn tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// chromedriver, killed (it is ours: we hold its handle) when the test ends.
pub struct Driver {
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
    pub fn start(path: &Path) -> Driver {
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
pub struct Browser<'a> {
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
    pub fn new(driver: &'a Driver, chromium: &Path) -> Browser<'a> {
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

    pub fn url(&self, tail: &str) -> String {
        format!("{}/session/{}{tail}", self.driver.base, self.id)
    }

    pub fn post(&self, tail: &str, body: Value) -> Value {
        answer(ureq::post(&self.url(tail)).send_json(body), tail)
    }

    pub fn get(&self, tail: &str) -> Value {
        answer(ureq::get(&self.url(tail)).call(), tail)
    }

    pub fn find(&self, css: &str) -> String {
        let v = self.post("/element", json!({"using": "css selector", "value": css}));
        v[ELEMENT].as_str().unwrap().to_string()
    }

    pub fn click(&self, css: &str) {
        let el = self.find(css);
        self.post(&format!("/element/{el}/click"), json!({}));
    }

    pub fn script(&self, body: &str) -> Value {
        self.post("/execute/sync", json!({"script": body, "args": []}))
    }
}

impl Drop for Browser<'_> {
    fn drop(&mut self) {
        let _ = ureq::delete(&self.url("")).call();
    }
}

impl Browser<'_> {
    /// Opens `url` and waits for it to load.
    pub fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url }));
    }

    /// The URL shown.
    pub fn current_url(&self) -> String {
        self.get("/url").as_str().unwrap().to_string()
    }

    /// The visible text of the first element matching `css`.
    pub fn text(&self, css: &str) -> String {
        let el = self.find(css);
        self.get(&format!("/element/{el}/text"))
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Types `text` into the first element matching `css`.
    pub fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css);
        self.post(&format!("/element/{el}/value"), json!({ "text": text }));
    }

    /// How many elements match `css`.
    pub fn count(&self, css: &str) -> usize {
        self.post("/elements", json!({"using": "css selector", "value": css}))
            .as_array()
            .unwrap()
            .len()
    }

    /// Accepts the open `confirm`/`alert` dialog.
    pub fn accept_dialog(&self) {
        self.post("/alert/accept", json!({}));
    }

    /// Saves a PNG of the window to `path` (a test artifact) and says where.
    pub fn screenshot(&self, path: &Path) {
        let shot = self.get("/screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        std::fs::write(path, png).unwrap();
        eprintln!("screenshot: {}", path.display());
    }
}
