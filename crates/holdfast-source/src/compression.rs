//! Layer decompression, sniffed from the first bytes, with bounds against bombs.
//!
//! Media types lie (Docker archives never say whether a layer is compressed), so the
//! format is read from the magic bytes: gzip `1f 8b`, zstd `28 b5 2f fd`, anything else
//! is taken as a plain tar. The inflated size is bounded in two ways: an absolute ceiling
//! and a ratio to the compressed bytes read so far, checked once past a floor, so that a
//! small gzip bomb is stopped early and a large honest layer is not.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Reads the format from a blob's first bytes.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Bounds on how far a layer may inflate.
#[derive(Debug, Clone, Copy)]
pub struct DecompressLimits {
    /// No layer may inflate past this many bytes.
    pub max_bytes: u64,
    /// Past `ratio_floor` inflated bytes, inflated/compressed may not exceed this.
    pub max_ratio: u64,
    /// The ratio is only checked once this many bytes came out.
    pub ratio_floor: u64,
}

impl Default for DecompressLimits {
    fn default() -> Self {
        DecompressLimits {
            max_bytes: 32 << 30,
            max_ratio: 1000,
            ratio_floor: 256 << 20,
        }
    }
}

/// Counts the bytes that pass through a reader, shared with whoever holds the counter.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A decompressing reader that fails with a clear error when a limit is passed.
pub struct LayerReader<'a> {
    inner: Box<dyn Read + 'a>,
    compressed_in: Arc<AtomicU64>,
    out: u64,
    limits: DecompressLimits,
    compression: Compression,
}

impl<'a> LayerReader<'a> {
    /// Wraps a raw blob stream, sniffing its compression.
    pub fn new<R: Read + 'a>(raw: R, limits: DecompressLimits) -> io::Result<Self> {
        let compressed_in = Arc::new(AtomicU64::new(0));
        let counting = Counting {
            inner: raw,
            count: compressed_in.clone(),
        };
        let mut buffered = BufReader::with_capacity(256 << 10, counting);
        let compression = Compression::sniff(buffered.fill_buf()?);
        let inner: Box<dyn Read + 'a> = match compression {
            Compression::None => Box::new(buffered),
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
        };
        Ok(LayerReader {
            inner,
            compressed_in,
            out: 0,
            limits,
            compression,
        })
    }

    /// The compression that was sniffed.
    pub fn compression(&self) -> Compression {
        self.compression
    }
}

impl Read for LayerReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        if self.out > self.limits.max_bytes {
            return Err(io::Error::other(format!(
                "layer inflates past the limit of {} bytes (decompression bomb?)",
                self.limits.max_bytes
            )));
        }
        if self.compression != Compression::None && self.out > self.limits.ratio_floor {
            let inn = self.compressed_in.load(Ordering::Relaxed).max(1);
            if self.out / inn > self.limits.max_ratio {
                return Err(io::Error::other(format!(
                    "layer inflates more than {}:1 ({} bytes from {}; decompression bomb?)",
                    self.limits.max_ratio, self.out, inn
                )));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn sniffs_and_inflates() {
        let z = gzip(b"hello");
        let mut r = LayerReader::new(io::Cursor::new(z), DecompressLimits::default()).unwrap();
        assert_eq!(r.compression(), Compression::Gzip);
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello");
        let zs = zstd::encode_all(&b"world"[..], 1).unwrap();
        let mut r = LayerReader::new(io::Cursor::new(zs), DecompressLimits::default()).unwrap();
        assert_eq!(r.compression(), Compression::Zstd);
        s.clear();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "world");
    }

    #[test]
    fn bomb_is_stopped_by_ratio() {
        let z = gzip(&vec![0u8; 8 << 20]);
        let limits = DecompressLimits {
            max_bytes: u64::MAX,
            max_ratio: 100,
            ratio_floor: 1 << 20,
        };
        let mut r = LayerReader::new(io::Cursor::new(z), limits).unwrap();
        let err = io::copy(&mut r, &mut io::sink()).unwrap_err();
        assert!(err.to_string().contains("decompression bomb"), "{err}");
    }
}
