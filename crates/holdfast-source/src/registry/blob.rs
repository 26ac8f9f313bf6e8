//! A blob as a blocking reader over the async download, checked against its digest.
//!
//! The download runs on the connection's runtime and hands chunks over a small bounded
//! channel, so a layer never sits whole in memory or on disk. `oci-client`'s
//! `pull_blob_stream` hashes every byte on the way and ends the stream with an error when
//! the hash is not the digest the manifest gave; this reader turns that error into ours,
//! stops a blob that grows past the size the manifest gave, and (see
//! [`BlobReader::finish`]) reads to the end even when the consumer stopped early. A
//! registry (or anything between) that serves other bytes makes the read fail with an
//! error naming the digest. The bytes are not hashed a second time here.

use std::io::{self, Read};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;

/// Chunks in flight per blob (reqwest chunks are a few KiB to a few tens of KiB).
const CHANNEL_CHUNKS: usize = 32;

/// Where a blob read stands once it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Reading,
    Verified,
    Failed(String),
}

/// A blocking, verifying reader over one blob download.
pub struct BlobReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
    digest: String,
    max_size: Option<u64>,
    read: u64,
    state: State,
}

impl BlobReader {
    /// Starts forwarding `stream` (spawned on `runtime`) into a new reader. `stream` is
    /// what `pull_blob_stream` returned for `digest`, a `sha256:` digest (checked by
    /// [`require_sha256`]): it verifies the digest as it ends.
    pub(crate) fn spawn(
        runtime: &tokio::runtime::Runtime,
        stream: oci_client::client::SizedStream,
        digest: &str,
        max_size: Option<u64>,
    ) -> BlobReader {
        let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
        let mut inner = stream.stream;
        runtime.spawn(async move {
            while let Some(item) = inner.next().await {
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    break;
                }
            }
        });
        BlobReader {
            rx,
            current: Bytes::new(),
            digest: digest.to_string(),
            max_size,
            read: 0,
            state: State::Reading,
        }
    }

    fn fail(&mut self, why: String) -> io::Error {
        self.state = State::Failed(why.clone());
        io::Error::other(why)
    }

    fn mismatch(&mut self, got: &str) -> io::Error {
        let why = format!(
            "blob {} failed verification: its bytes hash to {got} (digest mismatch; corrupted or tampered blob)",
            self.digest
        );
        self.fail(why)
    }

    /// A stream error; `oci-client`'s digest mismatch becomes ours.
    fn stream_error(&mut self, e: io::Error) -> io::Error {
        use oci_client::errors::DigestError;
        if let Some(DigestError::VerificationError { actual, .. }) = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<DigestError>())
        {
            let actual = actual.clone();
            return self.mismatch(&actual);
        }
        let why = format!("blob {}: download failed: {e}", self.digest);
        self.fail(why)
    }

    /// Reads what the consumer left unread and returns whether the whole blob matched its
    /// digest. Called after the layer walk, so a mismatch the walk did not reach (a
    /// decompressor that stopped early) still fails the layer.
    pub fn finish(&mut self) -> Result<(), String> {
        if self.state == State::Reading {
            let _ = io::copy(self, &mut io::sink());
        }
        match &self.state {
            State::Verified => Ok(()),
            State::Failed(why) => Err(why.clone()),
            State::Reading => Err(format!("blob {} was not read to its end", self.digest)),
        }
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match &self.state {
            State::Reading => {}
            State::Verified => return Ok(0),
            State::Failed(why) => return Err(io::Error::other(why.clone())),
        }
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(self.stream_error(e)),
                None => {
                    // The stream ended without a verification error: the digest matched.
                    self.state = State::Verified;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.current.len());
        let chunk = self.current.split_to(n);
        buf[..n].copy_from_slice(&chunk);
        self.read += n as u64;
        if let Some(max) = self.max_size {
            if self.read > max {
                let why = format!(
                    "blob {} is larger than the {max} bytes its manifest gives",
                    self.digest
                );
                return Err(self.fail(why));
            }
        }
        Ok(n)
    }
}

/// Whether `digest` is a `sha256:` digest, the only kind holdfast verifies; or why not.
pub(crate) fn require_sha256(digest: &str) -> Result<(), String> {
    match digest.split_once(':') {
        Some(("sha256", hex)) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(())
        }
        _ => Err(format!(
            "blob digest `{digest}` is not a sha256 digest; holdfast verifies sha256 only"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha256(data: &[u8]) -> String {
        format!("sha256:{}", crate::docker_archive::sha256_hex(data))
    }

    /// A reader over `data` served as the blob `sha256(digest_of)`, ending the way
    /// `pull_blob_stream` ends: with a verification error when the bytes do not match.
    fn reader(
        data: &'static [u8],
        digest_of: &[u8],
        max: Option<u64>,
    ) -> (tokio::runtime::Runtime, BlobReader) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let digest = sha256(digest_of);
        let mut chunks: Vec<io::Result<Bytes>> =
            data.chunks(3).map(|c| Ok(Bytes::from_static(c))).collect();
        let actual = sha256(data);
        if actual != digest {
            chunks.push(Err(io::Error::other(
                oci_client::errors::DigestError::VerificationError {
                    expected: digest.clone(),
                    actual,
                },
            )));
        }
        let stream = oci_client::client::SizedStream {
            content_length: None,
            digest_header_value: None,
            stream: Box::pin(futures_util::stream::iter(chunks)),
        };
        let r = BlobReader::spawn(&rt, stream, &digest, max);
        (rt, r)
    }

    #[test]
    fn good_blob_reads_and_verifies() {
        let (_rt, mut r) = reader(b"hello world", b"hello world", Some(11));
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello world");
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn mismatch_fails_naming_the_digest_even_if_unread() {
        let (_rt, mut r) = reader(b"hello wxrld", b"hello world", None);
        let mut first = [0u8; 4];
        r.read_exact(&mut first).unwrap();
        let err = r.finish().unwrap_err();
        assert!(
            err.contains("digest mismatch") && err.contains("sha256:"),
            "{err}"
        );
        let (_rt, mut r) = reader(b"hello wxrld", b"hello world", None);
        let e = io::copy(&mut r, &mut io::sink()).unwrap_err();
        assert!(e.to_string().contains("failed verification"), "{e}");
    }

    #[test]
    fn oversize_blob_is_stopped() {
        let (_rt, mut r) = reader(b"hello world", b"hello world", Some(5));
        let e = io::copy(&mut r, &mut io::sink()).unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
    }

    #[test]
    fn only_sha256_digests() {
        assert!(require_sha256("sha512:abcd").is_err());
        assert!(require_sha256("sha256:../../etc").is_err());
    }
}
