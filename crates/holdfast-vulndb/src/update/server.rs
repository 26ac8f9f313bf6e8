//! `holdfast db update --server URL`: take the database a holdfast server holds instead of
//! building one, so a fleet downloads the feed once.
//!
//! The server's side of the contract: `GET {server}/api/v1/db` with `Authorization: Bearer
//! TOKEN` answers 200 with the database file, its `ETag` being the quoted lowercase hex
//! SHA-256 of the file; with `If-None-Match` naming that digest it answers 304 with no body.
//! 401 means the token is missing or refused, 503 (with a JSON `{"error": ...}`) that the
//! server has no database yet.
//!
//! The client sends the SHA-256 of the local database as `If-None-Match`, streams a new one
//! into a temporary file beside the destination while hashing it, checks the digest
//! against the `ETag` and that the file opens as a holdfast database ([`crate::info`]),
//! and only then renames it over the old one. Whatever fails, the old database stays. The
//! token goes in one header and nowhere else: no message, error or log line holds it.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::{display_url, status_text, transport_reason, Backoff, Progress};
use crate::{DbError, DbInfo};

/// The server's path for the database.
pub const DB_PATH: &str = "/api/v1/db";

/// Longest error text taken from a server's answer.
const MAX_ERROR_BODY: u64 = 4096;

/// How to update from a server.
pub struct ServerOptions<'a> {
    /// The server's base URL (`https://holdfast.example:8080`).
    pub server_url: String,
    /// The bearer token; `None` sends no `Authorization` header.
    pub token: Option<String>,
    /// Attempts before giving up on a broken connection or a 5xx (other than 503).
    pub attempts: u32,
    /// First wait between attempts; doubled each time.
    pub backoff: Duration,
    /// Connect and read timeout.
    pub timeout: Duration,
    /// Largest database accepted, in bytes.
    pub max_bytes: u64,
    /// Called with (label, bytes so far, total if known) as the download progresses.
    pub progress: Option<&'a Progress<'a>>,
}

impl ServerOptions<'_> {
    /// Options for `server_url` and `token`, with the same retry, timeout and size bounds
    /// as a feed update.
    pub fn new(server_url: impl Into<String>, token: Option<String>) -> Self {
        let feed = super::UpdateOptions::default();
        ServerOptions {
            server_url: server_url.into(),
            token,
            attempts: feed.attempts,
            backoff: feed.backoff,
            timeout: feed.timeout,
            max_bytes: feed.max_bytes,
            progress: None,
        }
    }
}

/// What an update from a server did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerUpdate {
    /// The local database is the server's (304): nothing was written.
    Current {
        /// Lowercase hex SHA-256 of the database.
        sha256: String,
    },
    /// The server's database now is the local one.
    Installed {
        /// Lowercase hex SHA-256 of the database.
        sha256: String,
        /// Its size.
        bytes: u64,
        /// What it holds.
        info: DbInfo,
    },
}

/// Why an update from a server failed; the old database is untouched. Every message names
/// the URL asked (without credentials) and never the token.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// 401: the token is missing or refused.
    #[error("{url} answered HTTP 401 Unauthorized: {}", if *.token_sent { "the token was refused" } else { "a token is needed" })]
    Unauthorized {
        /// The URL asked.
        url: String,
        /// Whether a token was sent.
        token_sent: bool,
    },
    /// Another status than 200 or 304 (after the retries a 5xx gets).
    #[error("{url} answered {}{}{}", status_text(*.status), .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default(), attempts_note(*.attempts))]
    Status {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The server's `error` field, or the start of its text.
        message: Option<String>,
        /// Attempts made.
        attempts: u32,
    },
    /// The connection failed or broke (after the retries).
    #[error("downloading {url} failed after {attempts} attempts: {reason}")]
    Transfer {
        /// The URL asked.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last attempt's failure.
        reason: String,
    },
    /// The answer has no `ETag` that is a quoted SHA-256, so the file cannot be verified.
    #[error("{url} sent no usable ETag (expected a quoted SHA-256): {}", .etag.as_deref().unwrap_or("none"))]
    BadEtag {
        /// The URL asked.
        url: String,
        /// The header as sent, if any.
        etag: Option<String>,
    },
    /// The file's SHA-256 is not the `ETag` (after the retries).
    #[error("{url} sent a file whose sha256 {actual} is not its ETag {etag}")]
    Checksum {
        /// The URL asked.
        url: String,
        /// The digest the `ETag` promised.
        etag: String,
        /// The digest of what arrived.
        actual: String,
    },
    /// The file arrived intact but is not a database this build reads.
    #[error("{url} sent a file that is not a holdfast database: {source}")]
    NotADatabase {
        /// The URL asked.
        url: String,
        /// Why it does not open.
        #[source]
        source: DbError,
    },
    /// The local database or the temporary file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

/// The database URL of a server: `{server}/api/v1/db`.
pub fn db_url(server_url: &str) -> String {
    format!("{}{DB_PATH}", server_url.trim_end_matches('/'))
}

/// Makes `out` the server's database, unless it already is.
pub fn update_from_server(
    out: &Path,
    opts: &ServerOptions<'_>,
) -> Result<ServerUpdate, ServerError> {
    let url = db_url(&opts.server_url);
    let local = match sha256_file(out) {
        Ok(digest) => Some(digest),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(ServerError::Io {
                path: out.to_path_buf(),
                source,
            })
        }
    };
    let agent = super::agent(opts.timeout);
    let attempts = opts.attempts.max(1);
    let mut backoff = Backoff::new(opts.backoff);
    let mut attempt = 1;
    loop {
        match fetch_once(&agent, &url, local.as_deref(), out, opts, attempt) {
            Ok(done) => return Ok(done),
            Err(Failure::Retry(_)) if attempt < attempts => {
                backoff.wait();
                attempt += 1;
            }
            Err(Failure::Retry(e) | Failure::Final(e)) => return Err(e),
        }
    }
}

/// How one attempt failed.
enum Failure {
    /// Worth another attempt: the connection, a 5xx other than 503, a damaged body.
    Retry(ServerError),
    /// Not worth one: the answer will be the same.
    Final(ServerError),
}

fn fetch_once(
    agent: &ureq::Agent,
    url: &str,
    local: Option<&str>,
    out: &Path,
    opts: &ServerOptions<'_>,
    attempt: u32,
) -> Result<ServerUpdate, Failure> {
    let shown = display_url(url);
    let mut request = agent.get(url);
    if let Some(token) = &opts.token {
        request = request.set("Authorization", &format!("Bearer {token}"));
    }
    if let Some(digest) = local {
        request = request.set("If-None-Match", &format!("\"{digest}\""));
    }
    let response = match request.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(401, _)) => {
            return Err(Failure::Final(ServerError::Unauthorized {
                url: shown,
                token_sent: opts.token.is_some(),
            }))
        }
        Err(ureq::Error::Status(status, response)) => {
            let e = ServerError::Status {
                url: shown,
                status,
                message: error_message(response),
                attempts: attempt,
            };
            // 503 is the server saying it has no database yet: asking again in a second
            // will not change that.
            return Err(if status >= 500 && status != 503 {
                Failure::Retry(e)
            } else {
                Failure::Final(e)
            });
        }
        Err(ureq::Error::Transport(t)) => {
            return Err(Failure::Retry(ServerError::Transfer {
                url: shown,
                attempts: attempt,
                reason: transport_reason(&t),
            }))
        }
    };
    match (response.status(), local) {
        (304, Some(digest)) => Ok(ServerUpdate::Current {
            sha256: digest.to_string(),
        }),
        (200, _) => receive(response, &shown, out, opts, attempt),
        (status, _) => Err(Failure::Final(ServerError::Status {
            url: shown,
            status,
            message: Some("not an answer to this request".into()),
            attempts: attempt,
        })),
    }
}

/// The server's explanation: the `error` field of a JSON body, else the start of the text.
fn error_message(response: ureq::Response) -> Option<String> {
    let mut body = String::new();
    response
        .into_reader()
        .take(MAX_ERROR_BODY)
        .read_to_string(&mut body)
        .ok()?;
    let text = match serde_json::from_str::<serde_json::Value>(&body) {
        Ok(v) => v.get("error")?.as_str()?.to_string(),
        Err(_) => body,
    };
    // The text is the server's: keep it to one printable line.
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    let clean = clean.trim();
    (!clean.is_empty()).then(|| clean.to_string())
}

/// The digest an `ETag` promises: `"<64 hex>"`, quotes optional, case ignored. A weak
/// validator (`W/"..."`) promises no bytes and is refused.
fn etag_digest(etag: &str) -> Option<String> {
    let value = etag.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    (value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| value.to_ascii_lowercase())
}

/// Streams a 200's body into a temporary file beside `out`, verifies it and renames it
/// into place.
fn receive(
    response: ureq::Response,
    url: &str,
    out: &Path,
    opts: &ServerOptions<'_>,
    attempt: u32,
) -> Result<ServerUpdate, Failure> {
    let etag = response.header("ETag").map(str::to_string);
    let Some(expected) = etag.as_deref().and_then(etag_digest) else {
        return Err(Failure::Final(ServerError::BadEtag {
            url: url.to_string(),
            etag,
        }));
    };
    let transfer = |reason: String| {
        Failure::Retry(ServerError::Transfer {
            url: url.to_string(),
            attempts: attempt,
            reason,
        })
    };
    let total = response
        .header("Content-Length")
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(t) = total.filter(|t| *t > opts.max_bytes) {
        return Err(Failure::Final(ServerError::Status {
            url: url.to_string(),
            status: 200,
            message: Some(format!(
                "{t} bytes is over the {}-byte limit",
                opts.max_bytes
            )),
            attempts: attempt,
        }));
    }
    let io = |path: &Path, source: std::io::Error| {
        Failure::Final(ServerError::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    let tmp = TempFile::beside(out).map_err(|(p, e)| io(&p, e))?;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp.0)
        .map_err(|e| io(&tmp.0, e))?;
    let mut reader = response.into_reader().take(opts.max_bytes + 1);
    let mut hasher = Sha256::new();
    let mut got = 0u64;
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| transfer(format!("connection broke after {got} bytes: {e}")))?;
        if n == 0 {
            break;
        }
        got += n as u64;
        if got > opts.max_bytes {
            return Err(transfer(format!(
                "more than the {}-byte limit",
                opts.max_bytes
            )));
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n]).map_err(|e| io(&tmp.0, e))?;
        if let Some(p) = opts.progress {
            p("database", got, total);
        }
    }
    if let Some(t) = total.filter(|t| *t != got) {
        return Err(transfer(format!("got {got} of {t} bytes")));
    }
    file.sync_all().map_err(|e| io(&tmp.0, e))?;
    drop(file);
    let actual = hex::encode(hasher.finalize());
    if actual != expected {
        // A database replaced on the server while it was being sent looks like this too.
        return Err(Failure::Retry(ServerError::Checksum {
            url: url.to_string(),
            etag: expected,
            actual,
        }));
    }
    let info = crate::info(&tmp.0).map_err(|source| {
        Failure::Final(ServerError::NotADatabase {
            url: url.to_string(),
            source,
        })
    })?;
    tmp.persist(out).map_err(|e| io(out, e))?;
    Ok(ServerUpdate::Installed {
        sha256: actual,
        bytes: got,
        info,
    })
}

/// Lowercase hex SHA-256 of a file, read in blocks.
fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// A temporary file in the destination's directory (so the rename stays on one file
/// system), removed when dropped unless persisted.
struct TempFile(PathBuf);

impl TempFile {
    fn beside(out: &Path) -> Result<TempFile, (PathBuf, std::io::Error)> {
        let dir = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let file = out
            .file_name()
            .ok_or_else(|| (out.to_path_buf(), std::io::Error::other("no file name")))?
            .to_string_lossy()
            .into_owned();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Ok(TempFile(dir.join(format!(
            ".{file}.download-{}-{nanos}",
            std::process::id()
        ))))
    }

    /// Renames the file over `out` and makes the rename durable.
    fn persist(self, out: &Path) -> std::io::Result<()> {
        fs::rename(&self.0, out)?;
        if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Not every platform can open a directory.
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // After persist the name is gone and this fails harmlessly.
        let _ = fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_quoted_digests() {
        let d = "ab".repeat(32);
        assert_eq!(etag_digest(&format!("\"{d}\"")), Some(d.clone()));
        assert_eq!(etag_digest(&d.to_uppercase()), Some(d.clone()));
        assert_eq!(etag_digest(&format!("W/\"{d}\"")), None);
        assert_eq!(etag_digest("\"abc\""), None);
    }

    #[test]
    fn the_db_url_is_under_the_api() {
        assert_eq!(db_url("http://h:8080/"), "http://h:8080/api/v1/db");
    }
}
