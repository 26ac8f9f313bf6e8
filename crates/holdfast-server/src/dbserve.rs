//! `GET /api/v1/db`: the vulnerability database this server matches with, for `holdfast
//! db update --server`, so a fleet downloads the feeds once. The ETag is the file's
//! SHA-256 (quoted hex): clients send the hash of what they have and get `304` when it
//! is current, and check what they download against it.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::api::ApiError;

/// What identifies one version of a file: device, inode, size, mtime in ns.
type FileStamp = (u64, u64, u64, i64);

/// The last file hashed, and its ETag.
static ETAG_CACHE: Mutex<Option<(FileStamp, String)>> = Mutex::new(None);

/// How old the database file is, in seconds.
pub fn db_age_seconds(path: &Path) -> Option<f64> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(
        SystemTime::now()
            .duration_since(modified)
            .ok()?
            .as_secs_f64(),
    )
}

/// Serves the database file, or `304` when the client's `If-None-Match` names it.
pub async fn serve(path: std::path::PathBuf, headers: HeaderMap) -> Result<Response, ApiError> {
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let opened = tokio::task::spawn_blocking(move || open_and_hash(&path))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let (file, etag, len, modified) = match opened {
        Ok(Some(x)) => x,
        Ok(None) => return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "this server has no vulnerability database yet: run `holdfast db update` where it runs",
        )),
        Err(e) => return Err(ApiError::internal(format!("reading the database: {e}"))),
    };
    let quoted = format!("\"{etag}\"");
    let mut out = HeaderMap::new();
    out.insert(
        header::ETAG,
        HeaderValue::from_str(&quoted).expect("hex is a header value"),
    );
    if let Some(modified) = modified {
        let date = httpdate(modified);
        if let Ok(v) = HeaderValue::from_str(&date) {
            out.insert(header::LAST_MODIFIED, v);
        }
    }
    let matches = if_none_match.is_some_and(|v| {
        v.split(',').any(|t| {
            let t = t.trim().trim_start_matches("W/");
            t == quoted || t == "*"
        })
    });
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    Ok((StatusCode::OK, out, Body::from_stream(stream)).into_response())
}

type Opened = (std::fs::File, String, u64, Option<SystemTime>);

/// Opens the file and hashes it (or takes the cached hash of the same inode, size and
/// time); the handle served is the one hashed, so a database renamed into place
/// meanwhile cannot be served under the old ETag.
fn open_and_hash(path: &Path) -> std::io::Result<Option<Opened>> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    let stamp = (
        meta.dev(),
        meta.ino(),
        meta.len(),
        meta.mtime_nsec() + meta.mtime() * 1_000_000_000,
    );
    let cached = ETAG_CACHE
        .lock()
        .expect("etag lock")
        .as_ref()
        .filter(|(s, _)| *s == stamp)
        .map(|(_, e)| e.clone());
    let etag = match cached {
        Some(e) => e,
        None => {
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
            file.seek(SeekFrom::Start(0))?;
            let e = hex::encode(hasher.finalize());
            *ETAG_CACHE.lock().expect("etag lock") = Some((stamp, e.clone()));
            e
        }
    };
    Ok(Some((file, etag, meta.len(), meta.modified().ok())))
}

/// An HTTP date (RFC 9110 IMF-fixdate).
fn httpdate(t: SystemTime) -> String {
    let t: time::OffsetDateTime = t.into();
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&format).unwrap_or_default()
}
