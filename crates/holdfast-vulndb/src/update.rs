//! `holdfast db update`: download the per-ecosystem `all.zip` files of an OSV feed (the
//! layout of osv.dev's public bucket: `BASE/ECOSYSTEM/all.zip`), check each one is a
//! readable zip, and build the database from them into a temporary file that replaces the
//! old database only when everything succeeded. A failed update leaves the old database
//! as it was.
//!
//! Each feed file is asked of the feed, then of each mirror in order ([`FeedSource`]: an
//! http(s) base URL or a local directory with the same layout). Every source gets a few
//! attempts with doubling waits before the next one is asked, so a fleet never waits on
//! one public host; [`UpdateReport::served`] says which source served each ecosystem.
//! [`server`] updates from a holdfast server's `GET /api/v1/db` instead, which needs no
//! build at all.

pub mod server;

use std::fmt;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
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
    /// Base URL of the feed (no trailing slash needed); a directory or `file://` URL with
    /// the same layout works too (see [`FeedSource::parse`]).
    pub feed_url: String,
    /// Sources asked, in order, for a feed file the feed could not serve.
    pub mirrors: Vec<FeedSource>,
    /// Ecosystem folders to fetch.
    pub ecosystems: Vec<String>,
    /// Attempts per file and source before moving on (or giving up).
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
            mirrors: Vec::new(),
            ecosystems: DEFAULT_ECOSYSTEMS.iter().map(|e| e.to_string()).collect(),
            // 0.5 s, then 1 s, between the attempts of one source: a source that is down
            // costs 1.5 s before the next one is asked.
            attempts: 3,
            backoff: Duration::from_millis(500),
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
    /// Every attempt at one file failed, or one failed in a way not worth repeating (a
    /// 4xx, a missing file).
    #[error("downloading {url} failed after {attempts} attempts: {last}")]
    Download {
        /// Where the file was asked for (a URL or a local path).
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last attempt's failure.
        last: String,
    },
    /// A feed file arrived whole but is not a zip.
    #[error("{url} is not a readable zip: {reason}")]
    BadZip {
        /// Where the file came from.
        url: String,
        /// What the zip reader said.
        reason: String,
    },
    /// No source (the feed, then each mirror) could serve one ecosystem's file.
    #[error("no source could serve {ecosystem}: {}", numbered(failures))]
    AllSourcesFailed {
        /// The ecosystem whose file is missing.
        ecosystem: String,
        /// Each source's failure, in the order asked.
        failures: Vec<UpdateError>,
    },
    /// A `--feed-url` or `--mirror` value that is not a source.
    #[error("`{0}` is not an http(s) URL, a file:// URL or a directory")]
    BadSource(String),
    /// Building the database from the downloads failed.
    #[error(transparent)]
    Db(#[from] crate::DbError),
}

fn numbered(failures: &[UpdateError]) -> String {
    let parts: Vec<String> = failures
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{}) {f}", i + 1))
        .collect();
    parts.join("; ")
}

/// One place the feed's files can come from, laid out as `ROOT/ECOSYSTEM/all.zip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedSource {
    /// An `http://` or `https://` base URL.
    Http(String),
    /// A local directory (given as a path or a `file://` URL).
    Dir(PathBuf),
}

impl FeedSource {
    /// Reads a `--feed-url` or `--mirror` value: an `http(s)://` base URL, a `file://` URL
    /// (`file:///srv/osv`, `file://localhost/srv/osv`; percent-escapes decoded), or a
    /// directory path. Any other scheme is refused rather than taken for a path.
    pub fn parse(value: &str) -> Result<FeedSource, UpdateError> {
        let bad = || UpdateError::BadSource(display_url(value));
        let value = value.trim();
        let lower = value.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Ok(FeedSource::Http(value.to_string()));
        }
        if lower.starts_with("file://") {
            let rest = &value["file://".len()..];
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            if !path.starts_with('/') {
                return Err(bad());
            }
            return percent_decode(path)
                .map(|p| FeedSource::Dir(p.into()))
                .ok_or_else(bad);
        }
        if value.is_empty() || value.contains("://") {
            return Err(bad());
        }
        Ok(FeedSource::Dir(PathBuf::from(value)))
    }

    /// Where this source keeps one ecosystem's zip.
    fn zip_location(&self, ecosystem: &str) -> Location {
        match self {
            FeedSource::Http(base) => Location::Url(zip_url(base, ecosystem)),
            FeedSource::Dir(dir) => Location::File(dir.join(ecosystem).join("all.zip")),
        }
    }
}

impl fmt::Display for FeedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeedSource::Http(url) => f.write_str(&display_url(url)),
            FeedSource::Dir(dir) => write!(f, "{}", dir.display()),
        }
    }
}

/// Decodes `%XX` escapes; `None` when they do not make UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A URL as it may be shown: without the `user:password@` part, if any.
pub fn display_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &url[..scheme_end + 3], &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// Where one file is read from.
enum Location {
    Url(String),
    File(PathBuf),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Url(url) => f.write_str(&display_url(url)),
            Location::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Which source served one ecosystem's zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedFile {
    /// The ecosystem.
    pub ecosystem: String,
    /// The source that served it (the feed or a mirror, as [`FeedSource`] displays it).
    pub source: String,
    /// Whether that source is a mirror rather than the feed.
    pub from_mirror: bool,
    /// Why each source asked before it failed, in order.
    pub failed: Vec<String>,
}

/// What an update did.
#[derive(Debug)]
pub struct UpdateReport {
    /// The build of the new database.
    pub build: BuildReport,
    /// One entry per ecosystem, in the order fetched.
    pub served: Vec<ServedFile>,
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

/// The agent every download of one update shares.
pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(timeout)
        .timeout_read(timeout)
        .build()
}

/// A transport failure in words, without the URL (which may carry credentials; callers
/// name the URL themselves).
pub(crate) fn transport_reason(t: &ureq::Transport) -> String {
    let mut reason = t.kind().to_string();
    if let Some(m) = t.message() {
        reason.push_str(": ");
        reason.push_str(m);
    }
    if let Some(source) = std::error::Error::source(t) {
        reason.push_str(&format!(": {source}"));
    }
    reason
}

/// The reason phrase of the statuses a feed or server is likely to answer.
pub(crate) fn status_text(code: u16) -> String {
    let phrase = match code {
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    };
    format!("HTTP {code} {phrase}").trim_end().to_string()
}

/// One download attempt. `Err((message, retry))`: client errors (4xx) and missing files are
/// final, broken connections and server errors are worth another try.
fn fetch_once(
    agent: &ureq::Agent,
    location: &Location,
    eco: &str,
    opts: &UpdateOptions<'_>,
) -> Result<Vec<u8>, (String, bool)> {
    let url = match location {
        Location::Url(url) => url,
        Location::File(path) => return read_local(path, eco, opts),
    };
    let resp = agent.get(url).call().map_err(|e| match e {
        ureq::Error::Status(code, _) => (status_text(code), !(400..500).contains(&code)),
        ureq::Error::Transport(t) => (transport_reason(&t), true),
    })?;
    fetch_body(resp, eco, opts).map_err(|m| (m, true))
}

/// Reads a mirror directory's file under the same bound as a download. A missing or
/// unreadable file is final; other errors (a network file system's) are retried.
fn read_local(path: &Path, eco: &str, opts: &UpdateOptions<'_>) -> Result<Vec<u8>, (String, bool)> {
    use std::io::ErrorKind;
    let io = |e: std::io::Error| {
        let retry = !matches!(
            e.kind(),
            ErrorKind::NotFound | ErrorKind::PermissionDenied | ErrorKind::IsADirectory
        );
        (e.to_string(), retry)
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let total = file.metadata().map_err(io)?.len();
    if total > opts.max_bytes {
        return Err((
            format!("{total} bytes is over the {}-byte limit", opts.max_bytes),
            false,
        ));
    }
    let mut body = Vec::with_capacity(total as usize);
    file.take(opts.max_bytes + 1)
        .read_to_end(&mut body)
        .map_err(io)?;
    if body.len() as u64 > opts.max_bytes {
        return Err((
            format!("more than the {}-byte limit", opts.max_bytes),
            false,
        ));
    }
    if let Some(p) = opts.progress {
        p(eco, body.len() as u64, Some(total));
    }
    Ok(body)
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

/// Downloads every ecosystem's zip (from the feed, else from the first mirror that has
/// it) and builds `out` from them, atomically.
pub fn update(out: &Path, opts: &UpdateOptions<'_>) -> Result<UpdateReport, UpdateError> {
    let agent = agent(opts.timeout);
    let mut sources = vec![FeedSource::parse(&opts.feed_url)?];
    sources.extend(opts.mirrors.iter().cloned());
    let mut zips = Vec::new();
    let mut served = Vec::new();
    for eco in &opts.ecosystems {
        let (label, body, from) = download_feed_file(&agent, &sources, eco, opts)?;
        zips.push((label, body));
        served.push(from);
    }
    let mut nvd = Vec::new();
    for url in &opts.nvd_urls {
        let location = Location::Url(url.clone());
        nvd.push((
            location.to_string(),
            download(&agent, &location, "NVD", opts)?,
        ));
    }
    let tracker = match &opts.debian_tracker_url {
        Some(url) => {
            let location = Location::Url(url.clone());
            let body = download(&agent, &location, "Debian tracker", opts)?;
            Some((location.to_string(), body))
        }
        None => None,
    };
    let mut builder = Builder::create(out)?;
    for (label, body) in zips {
        builder.add_zip_reader(&label, Cursor::new(body))?;
    }
    for (label, body) in nvd {
        builder.add_nvd_bytes(&label, &body)?;
    }
    if let Some((label, body)) = tracker {
        builder.add_debian_tracker_bytes(&label, &body)?;
    }
    Ok(UpdateReport {
        build: builder.finish()?,
        served,
    })
}

/// One ecosystem's zip from the first source that serves a readable one: each source
/// gets [`download`]'s retries, and a source whose file is not a zip is passed over like
/// one that is down. Returns the file's label, its bytes and who served it.
fn download_feed_file(
    agent: &ureq::Agent,
    sources: &[FeedSource],
    eco: &str,
    opts: &UpdateOptions<'_>,
) -> Result<(String, Vec<u8>, ServedFile), UpdateError> {
    let mut failures = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let location = source.zip_location(eco);
        let label = location.to_string();
        let result = download(agent, &location, eco, opts).and_then(|body| {
            // Verify before anything is built: a truncated or corrupt zip fails here.
            match zip::ZipArchive::new(Cursor::new(&body)) {
                Ok(_) => Ok(body),
                Err(e) => Err(UpdateError::BadZip {
                    url: label.clone(),
                    reason: e.to_string(),
                }),
            }
        });
        match result {
            Ok(body) => {
                let served = ServedFile {
                    ecosystem: eco.to_string(),
                    source: source.to_string(),
                    from_mirror: i > 0,
                    failed: failures.iter().map(UpdateError::to_string).collect(),
                };
                return Ok((label, body, served));
            }
            Err(e) => failures.push(e),
        }
    }
    if failures.len() == 1 {
        return Err(failures.remove(0));
    }
    Err(UpdateError::AllSourcesFailed {
        ecosystem: eco.to_string(),
        failures,
    })
}

/// Downloads one file with retries: a broken connection or a 5xx is retried with
/// doubling waits, a 4xx or a missing local file is final.
fn download(
    agent: &ureq::Agent,
    location: &Location,
    label: &str,
    opts: &UpdateOptions<'_>,
) -> Result<Vec<u8>, UpdateError> {
    let attempts = opts.attempts.max(1);
    let mut tried = attempts;
    let mut last = String::new();
    let mut backoff = Backoff::new(opts.backoff);
    for attempt in 1..=attempts {
        match fetch_once(agent, location, label, opts) {
            Ok(body) => return Ok(body),
            Err((e, retry)) => {
                last = e;
                if !retry {
                    tried = attempt;
                    break;
                }
                if attempt < attempts {
                    backoff.wait();
                }
            }
        }
    }
    Err(UpdateError::Download {
        url: location.to_string(),
        attempts: tried,
        last,
    })
}

/// Doubling waits between the attempts of one download, the feed's and the server's.
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    /// Waits start at `first`.
    pub(crate) fn new(first: Duration) -> Self {
        Backoff { next: first }
    }

    /// Sleeps the current wait and doubles the next one.
    pub(crate) fn wait(&mut self) {
        std::thread::sleep(self.next);
        self.next = self.next.saturating_mul(2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_from_urls_and_paths() {
        assert_eq!(
            FeedSource::parse("https://m.example/osv").unwrap(),
            FeedSource::Http("https://m.example/osv".into())
        );
        assert_eq!(
            FeedSource::parse("file:///srv/osv%20mirror").unwrap(),
            FeedSource::Dir("/srv/osv mirror".into())
        );
        assert_eq!(
            FeedSource::parse("file://localhost/srv/osv").unwrap(),
            FeedSource::Dir("/srv/osv".into())
        );
        assert_eq!(
            FeedSource::parse("mirror/osv").unwrap(),
            FeedSource::Dir("mirror/osv".into())
        );
        for bad in ["s3://bucket/osv", "file://host/srv", "", "file:///bad%zz"] {
            assert!(FeedSource::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shown_urls_lose_their_credentials() {
        assert_eq!(
            display_url("https://u:secret@m.example/osv?a=b@c"),
            "https://m.example/osv?a=b@c"
        );
        assert_eq!(display_url("http://m.example/x@y"), "http://m.example/x@y");
        assert_eq!(
            FeedSource::parse("https://u:secret@m.example")
                .unwrap()
                .to_string(),
            "https://m.example"
        );
    }
}
