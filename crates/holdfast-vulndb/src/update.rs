//! `holdfast db update`: download the per-ecosystem `all.zip` files of an OSV feed (the
//! layout of osv.dev's public bucket: `BASE/ECOSYSTEM/all.zip`), check each one is a
//! readable zip, and build the database from them into a temporary file that replaces the
//! old database only when everything succeeded. A failed update leaves the old database
//! as it was.

use std::io::{Cursor, Read};
use std::path::Path;
use std::time::Duration;

use crate::{BuildReport, Builder};

/// The public OSV bucket.
pub const DEFAULT_FEED_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// The ecosystems holdfast catalogs, as the OSV feed names its folders.
pub const DEFAULT_ECOSYSTEMS: &[&str] = &[
    "Debian",
    "Ubuntu",
    "Alpine",
    "Red Hat",
    "Rocky Linux",
    "AlmaLinux",
    "SUSE",
    "openSUSE",
    "Wolfi",
    "Chainguard",
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Maven",
    "RubyGems",
    "Packagist",
    "NuGet",
];

/// A progress callback: (ecosystem, bytes so far, total when the server says).
pub type Progress<'a> = dyn Fn(&str, u64, Option<u64>) + 'a;

/// How to update.
pub struct UpdateOptions<'a> {
    /// Base URL of the feed (no trailing slash needed).
    pub feed_url: String,
    /// Ecosystem folders to fetch.
    pub ecosystems: Vec<String>,
    /// Attempts per file before giving up.
    pub attempts: u32,
    /// First wait between attempts; doubled each time.
    pub backoff: Duration,
    /// Connect and read timeout.
    pub timeout: Duration,
    /// Largest zip accepted, in bytes.
    pub max_bytes: u64,
    /// Called with (ecosystem, bytes so far, total if known) as downloads progress.
    pub progress: Option<&'a Progress<'a>>,
    /// NVD CVE API 2.0 JSON files to rate what the OSV records do not (plain or gzip;
    /// NVD publishes one per year: `.../feeds/json/cve/2.0/nvdcve-2.0-YEAR.json.gz`).
    pub nvd_urls: Vec<String>,
    /// Debian's security tracker JSON export, for Debian findings nothing else rates.
    pub debian_tracker_url: Option<String>,
}

impl Default for UpdateOptions<'_> {
    fn default() -> Self {
        UpdateOptions {
            feed_url: DEFAULT_FEED_URL.to_string(),
            ecosystems: DEFAULT_ECOSYSTEMS.iter().map(|e| e.to_string()).collect(),
            attempts: 4,
            backoff: Duration::from_secs(1),
            timeout: Duration::from_secs(60),
            max_bytes: 4 << 30,
            progress: None,
            nvd_urls: Vec::new(),
            debian_tracker_url: None,
        }
    }
}

/// Why an update failed; the old database is untouched.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("downloading {url} failed after {attempts} attempts: {last}")]
    Download {
        url: String,
        attempts: u32,
        last: String,
    },
    #[error("{url} is not a readable zip: {reason}")]
    BadZip { url: String, reason: String },
    #[error(transparent)]
    Db(#[from] crate::DbError),
}

/// The URL of one ecosystem's zip. Ecosystem names are path segments (`Red Hat` has a
/// space), so they are percent-encoded.
pub fn zip_url(feed_url: &str, ecosystem: &str) -> String {
    let mut seg = String::new();
    for b in ecosystem.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            seg.push(b as char);
        } else {
            seg.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{}/{seg}/all.zip", feed_url.trim_end_matches('/'))
}

/// One download attempt. `Err((message, retry))`: client errors (4xx) are final, broken
/// connections and server errors are worth another try.
fn fetch_once(
    agent: &ureq::Agent,
    url: &str,
    eco: &str,
    opts: &UpdateOptions<'_>,
) -> Result<Vec<u8>, (String, bool)> {
    let resp = agent.get(url).call().map_err(|e| {
        let retry = !matches!(&e, ureq::Error::Status(code, _) if (400..500).contains(code));
        (e.to_string(), retry)
    })?;
    fetch_body(resp, eco, opts).map_err(|m| (m, true))
}

fn fetch_body(
    resp: ureq::Response,
    eco: &str,
    opts: &UpdateOptions<'_>,
) -> Result<Vec<u8>, String> {
    let total = resp
        .header("Content-Length")
        .and_then(|v| v.parse::<u64>().ok());
    if total.is_some_and(|t| t > opts.max_bytes) {
        return Err(format!(
            "{} bytes is over the {}-byte limit",
            total.unwrap_or(0),
            opts.max_bytes
        ));
    }
    let mut reader = resp.into_reader().take(opts.max_bytes + 1);
    let mut body = Vec::with_capacity(total.unwrap_or(0).min(opts.max_bytes) as usize);
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| format!("connection broke after {} bytes: {e}", body.len()))?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
        if let Some(p) = opts.progress {
            p(eco, body.len() as u64, total);
        }
    }
    if body.len() as u64 > opts.max_bytes {
        return Err(format!("more than the {}-byte limit", opts.max_bytes));
    }
    if let Some(t) = total {
        if body.len() as u64 != t {
            return Err(format!("got {} of {t} bytes", body.len()));
        }
    }
    Ok(body)
}

/// Downloads every ecosystem's zip and builds `out` from them, atomically.
pub fn update(out: &Path, opts: &UpdateOptions<'_>) -> Result<BuildReport, UpdateError> {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(opts.timeout)
        .timeout_read(opts.timeout)
        .build();
    let mut zips = Vec::new();
    for eco in &opts.ecosystems {
        let url = zip_url(&opts.feed_url, eco);
        let body = download(&agent, &url, eco, opts)?;
        // Verify before anything is built: a truncated or corrupt zip fails here.
        zip::ZipArchive::new(Cursor::new(&body)).map_err(|e| UpdateError::BadZip {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        zips.push((url, body));
    }
    let mut nvd = Vec::new();
    for url in &opts.nvd_urls {
        nvd.push((url.clone(), download(&agent, url, "NVD", opts)?));
    }
    let tracker = match &opts.debian_tracker_url {
        Some(url) => Some((url.clone(), download(&agent, url, "Debian tracker", opts)?)),
        None => None,
    };
    let mut builder = Builder::create(out)?;
    for (url, body) in zips {
        builder.add_zip_reader(&url, Cursor::new(body))?;
    }
    for (url, body) in nvd {
        builder.add_nvd_bytes(&url, &body)?;
    }
    if let Some((url, body)) = tracker {
        builder.add_debian_tracker_bytes(&url, &body)?;
    }
    Ok(builder.finish()?)
}

/// Downloads one file with retries: a broken connection or a 5xx is retried with
/// doubling waits, a 4xx is final.
fn download(
    agent: &ureq::Agent,
    url: &str,
    label: &str,
    opts: &UpdateOptions<'_>,
) -> Result<Vec<u8>, UpdateError> {
    let mut wait = opts.backoff;
    let mut last = String::new();
    let mut tried = opts.attempts.max(1);
    for attempt in 1..=opts.attempts.max(1) {
        match fetch_once(agent, url, label, opts) {
            Ok(body) => return Ok(body),
            Err((e, retry)) => {
                last = e;
                if !retry {
                    tried = attempt;
                    break;
                }
                if attempt < opts.attempts {
                    std::thread::sleep(wait);
                    wait *= 2;
                }
            }
        }
    }
    Err(UpdateError::Download {
        url: url.to_string(),
        attempts: tried,
        last,
    })
}
