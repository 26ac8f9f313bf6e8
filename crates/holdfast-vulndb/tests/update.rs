//! `db update` against a feed served on loopback by the test, with connections cut
//! mid-download.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use holdfast_vulndb::update::{update, FeedSource, UpdateError, UpdateOptions};

/// How the server answers one path.
#[derive(Clone, Copy)]
enum Mode {
    Whole,
    /// Cut the body half way on the first N requests.
    CutFirst(usize),
    CutAlways,
    /// Answer this status with an empty body.
    Status(u16),
}

struct Feed {
    base: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

/// Serves `files` (path → (body, mode)) on 127.0.0.1 until the test ends.
fn serve(files: HashMap<String, (Vec<u8>, Mode)>) -> Feed {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
            let n = {
                let mut h = counter.lock().unwrap();
                let e = h.entry(path.clone()).or_insert(0);
                *e += 1;
                *e
            };
            match files.get(&path) {
                None => {
                    let _ = stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                }
                Some((_, Mode::Status(code))) => {
                    let head = format!(
                        "HTTP/1.1 {code} Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                    let _ = stream.write_all(head.as_bytes());
                }
                Some((body, mode)) => {
                    let cut = match mode {
                        Mode::Whole => false,
                        Mode::CutFirst(k) => n <= *k,
                        Mode::CutAlways => true,
                        Mode::Status(_) => unreachable!(),
                    };
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes());
                    let part = if cut {
                        &body[..body.len() / 2]
                    } else {
                        &body[..]
                    };
                    let _ = stream.write_all(part);
                }
            }
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    });
    Feed { base, hits }
}

fn advisory(id: &str, eco: &str, name: &str, fixed: &str) -> String {
    format!(
        r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"{eco}","name":"{name}"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}]}}]}}"#
    )
}

fn zip_of(files: &[(&str, String)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in files {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(text.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn options(feed: &Feed, ecosystems: &[&str]) -> UpdateOptions<'static> {
    UpdateOptions {
        feed_url: feed.base.clone(),
        ecosystems: ecosystems.iter().map(|e| e.to_string()).collect(),
        attempts: 3,
        backoff: Duration::from_millis(10),
        timeout: Duration::from_secs(5),
        ..UpdateOptions::default()
    }
}

fn files() -> HashMap<String, (Vec<u8>, Mode)> {
    let pypi = zip_of(&[(
        "PYSEC-2020-96.json",
        advisory("PYSEC-2020-96", "PyPI", "pyyaml", "5.3.1"),
    )]);
    let npm = zip_of(&[
        (
            "GHSA-p6mc-m468-83gw.json",
            advisory("GHSA-p6mc-m468-83gw", "npm", "lodash", "4.17.19"),
        ),
        (
            "GHSA-vh95-rmgr-6w4m.json",
            advisory("GHSA-vh95-rmgr-6w4m", "npm", "minimist", "1.2.3"),
        ),
    ]);
    HashMap::from([
        ("/PyPI/all.zip".to_string(), (pypi, Mode::CutFirst(1))),
        ("/npm/all.zip".to_string(), (npm, Mode::Whole)),
        ("/Go/all.zip".to_string(), (zip_of(&[]), Mode::CutAlways)),
        (
            "/Maven/all.zip".to_string(),
            (b"not a zip at all".to_vec(), Mode::Whole),
        ),
    ])
}

#[test]
fn update_retries_a_cut_download_and_builds() {
    let feed = serve(files());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("osv.db");
    let report = update(&db, &options(&feed, &["PyPI", "npm"])).unwrap();
    assert_eq!(report.build.advisories, 3);
    assert_eq!(
        feed.hits.lock().unwrap()["/PyPI/all.zip"],
        2,
        "the cut download was retried once"
    );
    let info = holdfast_vulndb::info(&db).unwrap();
    assert_eq!(info.ecosystems.get("npm"), Some(&2));
}

#[test]
fn a_failed_update_leaves_the_old_database_whole() {
    let feed = serve(files());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("osv.db");
    update(&db, &options(&feed, &["npm"])).unwrap();
    let before = std::fs::read(&db).unwrap();
    let err = update(&db, &options(&feed, &["npm", "Go"])).unwrap_err();
    assert!(matches!(err, UpdateError::Download { .. }), "{err}");
    assert!(
        err.to_string().contains("/Go/all.zip") && err.to_string().contains("3 attempts"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the old database is untouched"
    );
    let err = update(&db, &options(&feed, &["Maven"])).unwrap_err();
    assert!(matches!(err, UpdateError::BadZip { .. }), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
}

#[test]
fn a_missing_ecosystem_is_not_retried() {
    let feed = serve(files());
    let dir = tempfile::tempdir().unwrap();
    let err = update(&dir.path().join("osv.db"), &options(&feed, &["Nope"])).unwrap_err();
    assert!(
        err.to_string().contains("after 1 attempts") && err.to_string().contains("404"),
        "{err}"
    );
    assert_eq!(feed.hits.lock().unwrap()["/Nope/all.zip"], 1);
}

#[test]
fn urls_encode_ecosystem_names() {
    assert_eq!(
        holdfast_vulndb::update::zip_url("http://h/", "Red Hat"),
        "http://h/Red%20Hat/all.zip"
    );
}

#[test]
fn update_fetches_nvd_and_the_debian_tracker_too() {
    let osv = advisory_with_alias("PYSEC-2020-96", "CVE-2020-1747", "PyPI", "pyyaml", "5.3.1");
    let nvd = serde_json::json!({"vulnerabilities": [{"cve": {"id": "CVE-2020-1747", "metrics": {
        "cvssMetricV31": [{"type": "Primary", "cvssData": {
            "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}]}}}]});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&serde_json::to_vec(&nvd).unwrap()).unwrap();
    let feed = serve(HashMap::from([
        (
            "/PyPI/all.zip".to_string(),
            (zip_of(&[("PYSEC-2020-96.json", osv)]), Mode::Whole),
        ),
        (
            "/nvd/nvdcve-2.0-2020.json.gz".to_string(),
            (gz.finish().unwrap(), Mode::CutFirst(1)),
        ),
        ("/tracker/json".to_string(), (b"{}".to_vec(), Mode::Whole)),
    ]));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("osv.db");
    let opts = UpdateOptions {
        nvd_urls: vec![format!("{}/nvd/nvdcve-2.0-2020.json.gz", feed.base)],
        debian_tracker_url: Some(format!("{}/tracker/json", feed.base)),
        ..options(&feed, &["PyPI"])
    };
    let report = update(&db, &opts).unwrap();
    assert_eq!(report.build.enriched.from_nvd, 1);
    // The cut NVD download was retried.
    assert_eq!(feed.hits.lock().unwrap()["/nvd/nvdcve-2.0-2020.json.gz"], 2);
}

fn advisory_with_alias(id: &str, alias: &str, eco: &str, name: &str, fixed: &str) -> String {
    format!(
        r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z","aliases":["{alias}"],"affected":[{{"package":{{"ecosystem":"{eco}","name":"{name}"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}]}}]}}"#
    )
}

fn pypi_zip() -> Vec<u8> {
    zip_of(&[(
        "PYSEC-2020-96.json",
        advisory("PYSEC-2020-96", "PyPI", "pyyaml", "5.3.1"),
    )])
}

/// An address nothing listens on: connections are refused.
fn refused_base() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

#[test]
fn a_failing_feed_falls_back_to_a_mirror() {
    let feed = serve(HashMap::from([(
        "/PyPI/all.zip".to_string(),
        (Vec::new(), Mode::Status(500)),
    )]));
    let mirror = serve(HashMap::from([(
        "/PyPI/all.zip".to_string(),
        (pypi_zip(), Mode::Whole),
    )]));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("osv.db");
    let opts = UpdateOptions {
        mirrors: vec![FeedSource::parse(&mirror.base).unwrap()],
        ..options(&feed, &["PyPI"])
    };
    let report = update(&db, &opts).unwrap();
    assert_eq!(report.build.advisories, 1);
    assert_eq!(
        feed.hits.lock().unwrap()["/PyPI/all.zip"],
        3,
        "the feed had its 3 attempts first"
    );
    let served = &report.served[0];
    assert_eq!(
        (served.ecosystem.as_str(), served.source.as_str()),
        ("PyPI", mirror.base.as_str())
    );
    assert!(served.from_mirror);
    assert_eq!(served.failed.len(), 1);
    assert!(
        served.failed[0].contains(&feed.base) && served.failed[0].contains("HTTP 500"),
        "{:?}",
        served.failed
    );
    let info = holdfast_vulndb::info(&db).unwrap();
    assert!(
        info.sources[0].source.starts_with(&mirror.base),
        "{:?}",
        info.sources
    );
}

#[test]
fn a_directory_mirror_serves_what_an_unreachable_feed_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let mirror = dir.path().join("osv mirror");
    std::fs::create_dir_all(mirror.join("Red Hat")).unwrap();
    std::fs::create_dir_all(mirror.join("PyPI")).unwrap();
    std::fs::write(mirror.join("PyPI/all.zip"), pypi_zip()).unwrap();
    std::fs::write(mirror.join("Red Hat/all.zip"), zip_of(&[])).unwrap();
    // A first mirror that serves something that is not a zip is passed over.
    std::fs::create_dir_all(dir.path().join("broken/PyPI")).unwrap();
    std::fs::write(dir.path().join("broken/PyPI/all.zip"), b"not a zip").unwrap();
    let db = dir.path().join("osv.db");
    let file_url = format!("file://{}", mirror.to_str().unwrap().replace(' ', "%20"));
    let opts = UpdateOptions {
        feed_url: refused_base(),
        mirrors: vec![
            FeedSource::parse(dir.path().join("broken").to_str().unwrap()).unwrap(),
            FeedSource::parse(&file_url).unwrap(),
        ],
        ecosystems: vec!["PyPI".into(), "Red Hat".into()],
        attempts: 2,
        backoff: Duration::from_millis(10),
        timeout: Duration::from_secs(5),
        ..UpdateOptions::default()
    };
    let report = update(&db, &opts).unwrap();
    assert_eq!(report.build.advisories, 1);
    let pypi = &report.served[0];
    assert_eq!(pypi.source, mirror.display().to_string());
    assert_eq!(pypi.failed.len(), 2, "{:?}", pypi.failed);
    assert!(
        pypi.failed[0].contains("after 2 attempts"),
        "{:?}",
        pypi.failed
    );
    assert!(
        pypi.failed[1].contains("not a readable zip"),
        "{:?}",
        pypi.failed
    );
    // The broken mirror has no Red Hat folder: a missing file is not retried.
    let red_hat = &report.served[1];
    assert!(red_hat.from_mirror);
    assert!(
        red_hat.failed[1].contains("after 1 attempts"),
        "{:?}",
        red_hat.failed
    );
}

#[test]
fn when_every_source_fails_the_error_names_each() {
    let feed = serve(HashMap::from([(
        "/npm/all.zip".to_string(),
        (Vec::new(), Mode::Status(503)),
    )]));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("osv.db");
    let opts = UpdateOptions {
        mirrors: vec![
            FeedSource::parse(&refused_base()).unwrap(),
            FeedSource::parse(dir.path().join("empty").to_str().unwrap()).unwrap(),
        ],
        ..options(&feed, &["npm"])
    };
    let err = update(&db, &opts).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, UpdateError::AllSourcesFailed { failures, .. } if failures.len() == 3),
        "{text}"
    );
    assert!(
        text.starts_with("no source could serve npm: 1) ")
            && text.contains("HTTP 503")
            && text.contains("2) ")
            && text.contains("3) ")
            && text.contains("empty/npm/all.zip"),
        "{text}"
    );
    assert!(!db.exists());
}
