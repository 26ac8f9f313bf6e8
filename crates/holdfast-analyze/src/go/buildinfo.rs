//! Finding a Go binary's build info blob in a forward-only stream.
//!
//! Layout (Go's `src/debug/buildinfo/buildinfo.go`, `readRawBuildInfo`): a 32-byte header
//! aligned to 16 bytes starts with the 14-byte magic `"\xff Go buildinf:"`, then one byte
//! of pointer size (4 or 8) and one byte of flags (bit 0x1: big endian, bit 0x2: strings
//! inline).
//!
//! * Go 1.18 and later set 0x2: the header is followed by two varint-length-prefixed
//!   strings, the toolchain version (`runtime.buildVersion`) and the module info
//!   (`runtime.modinfo`). Everything is forward of the magic, so a stream can read it.
//! * Older toolchains write two pointers instead, at header offsets 16 and 16+ptrsize:
//!   virtual addresses of Go string headers (`{data pointer, length}`) that the program
//!   headers map to file offsets. The headers usually sit after the blob but the string
//!   bytes in `.rodata`, before it: from a stream that has passed them they cannot be
//!   read, and the caller gets a [`Scan::Skipped`] saying so. From bytes in memory every
//!   address can be read.
//!
//! Go itself looks for the magic only in the first 64 KiB of the data section, which it
//! finds through the section headers at the end of the file. A stream does not have them
//! yet, so the whole file is scanned at 16-byte aligned offsets (at most
//! [`MAX_SCAN_BYTES`]), and a match only counts when the header and the version string
//! are well-formed: the magic also occurs as a constant in binaries that link
//! `debug/buildinfo`, and that copy is followed by unrelated bytes.

use std::io::{self, Read};

use holdfast_model::WarningKind;

use crate::catalog::elf::{self, Segment};

/// `buildInfoMagic`.
const MAGIC: &[u8; 14] = b"\xff Go buildinf:";
/// `buildInfoAlign`: the blob starts at a 16-byte aligned address, and as segments keep
/// addresses and offsets congruent modulo the page size, at an aligned file offset too.
const ALIGN: u64 = 16;
/// `buildInfoSize`: the fixed header.
const HEADER: usize = 32;
/// Bytes read from the stream per step of the scan.
const CHUNK: usize = 256 << 10;
/// Bytes asked of the reader per `read` call.
const READ: usize = 64 << 10;
/// Stop scanning after this many bytes of one file.
pub(crate) const MAX_SCAN_BYTES: u64 = 512 << 20;
/// A toolchain version longer than this is not one (`go1.22.1 X:boringcrypto` is ~30).
const MAX_VERSION: u64 = 1 << 10;
/// Module info longer than this is not read (large binaries have a few hundred KiB).
const MAX_MODINFO: u64 = 16 << 20;

/// The raw strings of a build info blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawBuildInfo {
    /// `runtime.buildVersion`, e.g. `go1.19.8`.
    pub version: String,
    /// `runtime.modinfo` with its 16-byte sentinels removed; empty when the binary was
    /// not built in module mode.
    pub modinfo: String,
    /// The first string in the file, before the blob, that is a semantic version alone
    /// between NUL bytes (see [`version_string`]): what `-ldflags -X` links in.
    pub content_version: Option<String>,
}

/// What a scan found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Scan {
    /// No build info: not a Go binary (or not one this reader understands).
    NotFound,
    /// The blob's strings.
    Found(RawBuildInfo),
    /// A build info blob is there but could not be read (or the scan bound came first);
    /// the kind says what stopped it, the message says why.
    Skipped(WarningKind, String),
}

/// The file's bytes: all of them in memory, or a window over a forward-only stream.
pub(crate) enum Source<'a> {
    /// The whole file, read by the walker: every offset can be read.
    Mem(&'a [u8]),
    /// The live stream: offsets behind the window are gone.
    Stream(Window<'a>),
}

/// A forward-only view of a stream: holds `buf`, the bytes from offset `start`, and reads
/// more on demand. Bytes before `start` are gone for good.
pub(crate) struct Window<'a> {
    reader: &'a mut dyn Read,
    buf: Vec<u8>,
    start: u64,
    eof: bool,
    /// Bytes taken from the reader so far, bounded by [`MAX_SCAN_BYTES`].
    consumed: u64,
    /// Where each read lands before it is appended to `buf`.
    scratch: Vec<u8>,
}

/// Result of reading at an offset.
enum At {
    /// The bytes asked for.
    Data(Vec<u8>),
    /// The stream has already passed the offset.
    Behind,
    /// The file ends (or the scan bound is reached) before the bytes do.
    Short,
}

impl<'a> Source<'a> {
    /// A source over a stream.
    pub(crate) fn stream(reader: &'a mut dyn Read) -> Self {
        Source::Stream(Window {
            reader,
            buf: Vec::new(),
            start: 0,
            eof: false,
            consumed: 0,
            scratch: vec![0; READ],
        })
    }

    /// Reads until the bytes up to offset `end` are held (or the file or the bound ends);
    /// returns the offset where the held bytes end.
    fn fill_to(&mut self, end: u64) -> io::Result<u64> {
        match self {
            Source::Mem(b) => Ok(end.min(b.len() as u64)),
            Source::Stream(w) => {
                while w.start + (w.buf.len() as u64) < end && !w.eof {
                    let room = MAX_SCAN_BYTES.saturating_sub(w.consumed);
                    if room == 0 {
                        w.eof = true;
                        break;
                    }
                    let cap = usize::try_from(room).unwrap_or(READ).min(READ);
                    let n = loop {
                        match w.reader.read(&mut w.scratch[..cap]) {
                            Ok(n) => break n,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            Err(e) => return Err(e),
                        }
                    };
                    // A reader claiming more than it was given is not trusted past `cap`.
                    let n = n.min(cap);
                    if n == 0 {
                        w.eof = true;
                        break;
                    }
                    w.buf.extend_from_slice(&w.scratch[..n]);
                    w.consumed += n as u64;
                }
                Ok(end.min(w.start + w.buf.len() as u64))
            }
        }
    }

    /// The held bytes `[off, off + len)`, without reading.
    fn held(&self, off: u64, len: usize) -> Option<&[u8]> {
        let (data, start) = match self {
            Source::Mem(b) => (*b, 0),
            Source::Stream(w) => (w.buf.as_slice(), w.start),
        };
        let from = usize::try_from(off.checked_sub(start)?).ok()?;
        data.get(from..from.checked_add(len)?)
    }

    /// Forgets the bytes before `off` (a stream can never read them again); when `off` is
    /// past the held bytes, skips forward to it without holding what lies between.
    fn release_before(&mut self, off: u64) -> io::Result<()> {
        let Source::Stream(w) = self else {
            return Ok(());
        };
        if off <= w.start {
            return Ok(());
        }
        let held_end = w.start + w.buf.len() as u64;
        if off <= held_end {
            // `off - start <= buf.len()`, so the conversion cannot fail.
            let drop = usize::try_from(off - w.start).unwrap_or(w.buf.len());
            w.buf.drain(..drop);
            w.start = off;
            return Ok(());
        }
        w.buf.clear();
        w.start = held_end;
        let gap = off - held_end;
        let allowed = gap.min(MAX_SCAN_BYTES.saturating_sub(w.consumed));
        let skipped = io::copy(&mut (&mut *w.reader).take(allowed), &mut io::sink())?;
        w.consumed += skipped;
        w.start += skipped;
        if skipped < gap {
            w.eof = true;
        }
        Ok(())
    }

    /// Reads `len` bytes at `off`, dropping everything before `off` from a stream's window.
    fn read_at(&mut self, off: u64, len: u64) -> io::Result<At> {
        if let Source::Stream(w) = self {
            if off < w.start {
                return Ok(At::Behind);
            }
        }
        self.release_before(off)?;
        let Some(end) = off.checked_add(len) else {
            return Ok(At::Short);
        };
        if self.fill_to(end)? < end {
            return Ok(At::Short);
        }
        let len = usize::try_from(len).map_err(|_| io::Error::other("length overflows"))?;
        Ok(match self.held(off, len) {
            Some(b) => At::Data(b.to_vec()),
            None => At::Short,
        })
    }

    /// Whether the scan stopped at [`MAX_SCAN_BYTES`] rather than at the end of the file.
    fn hit_bound(&self) -> bool {
        match self {
            Source::Mem(b) => b.len() as u64 > MAX_SCAN_BYTES,
            Source::Stream(w) => w.consumed >= MAX_SCAN_BYTES,
        }
    }
}

/// Scans an ELF file for Go build info. Non-ELF content is [`Scan::NotFound`] after
/// reading four bytes.
pub(crate) fn scan(src: &mut Source<'_>) -> io::Result<Scan> {
    let have = src.fill_to(elf::HEADER_BYTES as u64)?;
    if !src.held(0, 4.min(have as usize)).is_some_and(elf::is_elf) {
        return Ok(Scan::NotFound);
    }
    // The program headers follow the ELF header: read them now, before the stream moves
    // on, for the pointer format of old toolchains.
    let mut segments: Vec<Segment> = Vec::new();
    if let Some(header) = src.held(0, have as usize) {
        if let Some(end) = elf::program_table_end(header) {
            if end <= elf::MAX_PROGRAM_TABLE_END {
                let got = src.fill_to(end)?;
                if let Some(prefix) = src.held(0, got as usize) {
                    segments = elf::load_segments(prefix);
                }
            }
        }
    }

    let mut pos: u64 = 0; // next aligned candidate offset
    let mut hint: Option<String> = None;
    let mut hinted_to: u64 = 0;
    loop {
        let limit = pos.saturating_add(CHUNK as u64).min(MAX_SCAN_BYTES);
        let end = src.fill_to(limit)?;
        if hint.is_none() && end > hinted_to {
            // A string across the border of two chunks is missed: the window has let go
            // of the first part. Rare, and this is a best-effort hint anyway.
            let from = hinted_to.max(pos);
            if let Some(held) = src.held(from, usize::try_from(end - from).unwrap_or(0)) {
                hint = version_string(held);
            }
            hinted_to = end;
        }
        while pos + MAGIC.len() as u64 <= end {
            // Jump to the next aligned 0xff among the held bytes, then compare the magic.
            let span = usize::try_from(end - pos).unwrap_or(0);
            let skip = src.held(pos, span).and_then(|h| {
                h.iter()
                    .step_by(ALIGN as usize)
                    .position(|&b| b == MAGIC[0])
            });
            let Some(skip) = skip else {
                pos += (span as u64).div_ceil(ALIGN) * ALIGN;
                break;
            };
            pos += skip as u64 * ALIGN;
            if pos + MAGIC.len() as u64 > end {
                break;
            }
            if src.held(pos, MAGIC.len()) == Some(MAGIC.as_slice()) {
                match parse_at(src, pos, &segments)? {
                    Some(Scan::NotFound) | None => {}
                    Some(Scan::Found(mut raw)) => {
                        raw.content_version = hint;
                        return Ok(Scan::Found(raw));
                    }
                    Some(other) => return Ok(other),
                }
            }
            pos += ALIGN;
        }
        if end < limit || limit >= MAX_SCAN_BYTES {
            return Ok(if src.hit_bound() {
                Scan::Skipped(
                    WarningKind::BoundReached,
                    format!(
                        "no Go build info in the first {} MiB; the rest was not scanned",
                        MAX_SCAN_BYTES >> 20
                    ),
                )
            } else {
                Scan::NotFound
            });
        }
        src.release_before(pos)?;
    }
}

/// The longest version string [`version_string`] accepts.
const MAX_VERSION_STRING: usize = 128;

/// The first semantic version standing alone in `bytes`: after a NUL byte (or U+FFFD),
/// `v?MAJOR.MINOR.PATCH`, then letters, digits, `_`, `-` and one `+` part, then a NUL. This
/// is the pattern Syft's Go cataloger searches binaries for when the main module is
/// `(devel)`: a string variable set with `-ldflags -X` is stored that way.
pub(crate) fn version_string(bytes: &[u8]) -> Option<String> {
    // Every candidate holds a dot a few digits after its start, and dots are far rarer
    // than NULs in a binary: find them with SIMD, then look back for the start. A
    // candidate's first dot comes before any later candidate's, so the first accepted is
    // the first in the text, as a front-to-back search would find it.
    for dot in memchr::memchr_iter(b'.', bytes) {
        let digits = bytes[..dot]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            continue;
        }
        let mut start = dot - digits;
        if start > 0 && bytes[start - 1] == b'v' {
            start -= 1;
        }
        let after_nul = start >= 1 && bytes[start - 1] == 0;
        let after_replacement = start >= 3 && bytes[start - 3..start] == *b"\xEF\xBF\xBD";
        if !after_nul && !after_replacement {
            continue;
        }
        let rest = &bytes[start..bytes.len().min(start + MAX_VERSION_STRING + 1)];
        let Some(nul) = memchr::memchr(0, rest) else {
            continue;
        };
        let candidate = &rest[..nul];
        if is_semver_string(candidate) {
            return std::str::from_utf8(candidate).ok().map(str::to_string);
        }
    }
    None
}

/// `v?\d+\.\d+\.\d+[-\w]*[+\w]*`, the whole of `s`.
fn is_semver_string(s: &[u8]) -> bool {
    let s = s.strip_prefix(b"v").unwrap_or(s);
    let mut i = 0;
    for part in 0..3 {
        let digits = s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        i += digits;
        if part < 2 {
            if s.get(i) != Some(&b'.') {
                return false;
            }
            i += 1;
        }
    }
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    i += s[i..].iter().take_while(|b| word(b) || **b == b'-').count();
    i += s[i..].iter().take_while(|b| word(b) || **b == b'+').count();
    i == s.len()
}

/// Tries to read a build info blob whose magic is at `pos`. `None` when the bytes there
/// are not one after all.
fn parse_at(src: &mut Source<'_>, pos: u64, segments: &[Segment]) -> io::Result<Option<Scan>> {
    let hdr_end = pos + HEADER as u64;
    if src.fill_to(hdr_end)? < hdr_end {
        return Ok(None);
    }
    let Some(header) = src.held(pos, HEADER).map(<[u8]>::to_vec) else {
        return Ok(None);
    };
    let ptr_size = header[14];
    let flags = header[15];
    if ptr_size != 4 && ptr_size != 8 {
        return Ok(None);
    }
    if flags & 0x2 != 0 {
        inline_strings(src, hdr_end)
    } else {
        pointer_strings(src, &header, segments)
    }
}

/// Go 1.18+: `decodeString` twice after the header.
fn inline_strings(src: &mut Source<'_>, mut off: u64) -> io::Result<Option<Scan>> {
    let Some(version) = varint_string(src, &mut off, MAX_VERSION)? else {
        return Ok(None);
    };
    let Ok(version) = String::from_utf8(version) else {
        return Ok(None);
    };
    if !plausible_toolchain(&version) {
        return Ok(None);
    }
    let modinfo = match varint_string(src, &mut off, MAX_MODINFO)? {
        Some(m) => m,
        None => {
            // Real module info is a few hundred KiB at most: past the bound or cut short,
            // the blob is broken.
            return Ok(Some(Scan::Skipped(
                WarningKind::MalformedFile,
                format!(
                    "Go build info ({version}): module info is truncated or longer than {} MiB",
                    MAX_MODINFO >> 20
                ),
            )));
        }
    };
    Ok(Some(Scan::Found(RawBuildInfo {
        content_version: None,
        version,
        modinfo: strip_sentinels(&modinfo),
    })))
}

/// A varint (`encoding/binary.Uvarint`) length followed by that many bytes; `None` when
/// malformed, truncated or longer than `max`.
fn varint_string(src: &mut Source<'_>, off: &mut u64, max: u64) -> io::Result<Option<Vec<u8>>> {
    let end = src.fill_to(*off + 10)?;
    let avail = usize::try_from(end.saturating_sub(*off)).unwrap_or(0);
    let Some(bytes) = src.held(*off, avail) else {
        return Ok(None);
    };
    let Some((len, n)) = uvarint(bytes) else {
        return Ok(None);
    };
    if len > max {
        return Ok(None);
    }
    let start = *off + n as u64;
    let stop = start + len;
    if src.fill_to(stop)? < stop {
        return Ok(None);
    }
    let Some(s) = src.held(start, len as usize).map(<[u8]>::to_vec) else {
        return Ok(None);
    };
    *off = stop;
    Ok(Some(s))
}

/// `binary.Uvarint`: little-endian base-128, at most 10 bytes.
fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut x: u64 = 0;
    for (i, &byte) in b.iter().enumerate().take(10) {
        let bits = u64::from(byte & 0x7f);
        if i == 9 && byte > 1 {
            return None; // overflows 64 bits
        }
        x |= bits << (7 * i);
        if byte < 0x80 {
            return Some((x, i + 1));
        }
    }
    None
}

/// Before Go 1.18: two pointers to string headers, resolved through the load segments.
fn pointer_strings(
    src: &mut Source<'_>,
    header: &[u8],
    segments: &[Segment],
) -> io::Result<Option<Scan>> {
    let ptr = usize::from(header[14]);
    let big = match header[15] {
        0 => false,
        1 => true,
        _ => return Ok(None),
    };
    let read_ptr = |b: &[u8]| -> Option<u64> {
        Some(match (ptr, big) {
            (4, false) => u64::from(u32::from_le_bytes(b.get(..4)?.try_into().ok()?)),
            (4, true) => u64::from(u32::from_be_bytes(b.get(..4)?.try_into().ok()?)),
            (_, false) => u64::from_le_bytes(b.get(..8)?.try_into().ok()?),
            (_, true) => u64::from_be_bytes(b.get(..8)?.try_into().ok()?),
        })
    };
    let (Some(vers_addr), Some(mod_addr)) =
        (read_ptr(&header[16..]), read_ptr(&header[16 + ptr..]))
    else {
        return Ok(None);
    };
    if segments.is_empty() {
        return Ok(Some(Scan::Skipped(
            WarningKind::MalformedFile,
            "Go < 1.18 binary whose program headers could not be read; build info skipped".into(),
        )));
    }
    // Both string headers must be mapped; otherwise these bytes were not a blob.
    let (Some((vers_hdr, _)), Some((mod_hdr, _))) = (
        elf::file_offset(segments, vers_addr),
        elf::file_offset(segments, mod_addr),
    ) else {
        return Ok(None);
    };
    let behind = || {
        // Not a fault of the file, nor a bound: a limit of the single forward pass.
        Ok(Some(Scan::Skipped(
            WarningKind::Other,
            "Go < 1.18 binary: build info not readable from a stream".into(),
        )))
    };
    // A stream can only move forward: read the two headers in file order, then the two
    // strings in file order.
    let mut headers = [(vers_hdr, 0usize), (mod_hdr, 1usize)];
    headers.sort();
    let mut string_at = [(0u64, 0u64); 2];
    for (off, which) in headers {
        match src.read_at(off, 2 * ptr as u64)? {
            At::Data(h) => {
                let (Some(addr), Some(len)) = (read_ptr(&h), read_ptr(&h[ptr..])) else {
                    return Ok(None);
                };
                string_at[which] = (addr, len);
            }
            At::Behind => return behind(),
            At::Short => return Ok(None),
        }
    }
    let (vers_len, mod_len) = (string_at[0].1, string_at[1].1);
    if vers_len == 0 || vers_len > MAX_VERSION || mod_len > MAX_MODINFO {
        return Ok(None);
    }
    let mut strings = Vec::with_capacity(2);
    for (which, (addr, len)) in string_at.iter().enumerate() {
        if *len == 0 {
            continue;
        }
        // `ReadData` reads within one segment only.
        let Some((off, room)) = elf::file_offset(segments, *addr) else {
            return Ok(None);
        };
        if room < *len {
            return Ok(None);
        }
        strings.push((off, *len, which));
    }
    strings.sort();
    let mut values = [Vec::new(), Vec::new()];
    for (off, len, which) in strings {
        match src.read_at(off, len)? {
            At::Data(d) => values[which] = d,
            At::Behind => return behind(),
            At::Short => return Ok(None),
        }
    }
    let [version, modinfo] = values;
    let Ok(version) = String::from_utf8(version) else {
        return Ok(None);
    };
    if !plausible_toolchain(&version) {
        return Ok(None);
    }
    Ok(Some(Scan::Found(RawBuildInfo {
        content_version: None,
        version,
        modinfo: strip_sentinels(&modinfo),
    })))
}

/// What the toolchain writes as `runtime.buildVersion`: `go1.x...` for releases,
/// `devel ...` for development builds.
fn plausible_toolchain(v: &str) -> bool {
    (v.starts_with("go") || v.starts_with("devel")) && !v.chars().any(|c| c.is_control())
}

/// Removes `cmd/go/internal/modload`'s 16-byte `infoStart`/`infoEnd` sentinels, with the
/// same test as `readRawBuildInfo`: at least 33 bytes and a newline 17 bytes from the end;
/// anything else means no module info.
fn strip_sentinels(m: &[u8]) -> String {
    if m.len() >= 33 && m[m.len() - 17] == b'\n' {
        String::from_utf8_lossy(&m[16..m.len() - 16]).into_owned()
    } else {
        String::new()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::test_io::Trickle;

    /// `infoStart`: the sentinels `cmd/go` wraps module info in
    /// (`cmd/go/internal/modload/build.go`).
    pub(crate) const INFO_START: [u8; 16] = [
        0x30, 0x77, 0xaf, 0x0c, 0x92, 0x74, 0x08, 0x02, 0x41, 0xe1, 0xc1, 0x07, 0xe6, 0xd6, 0x18,
        0xe6,
    ];
    /// `infoEnd`.
    pub(crate) const INFO_END: [u8; 16] = [
        0xf9, 0x32, 0x43, 0x31, 0x86, 0x18, 0x20, 0x72, 0x00, 0x82, 0x42, 0x10, 0x41, 0x16, 0xd8,
        0xf2,
    ];

    fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    /// A fake ELF file: 64-byte header (no program headers), `pad` zero bytes, then an
    /// inline build info blob.
    pub(crate) fn inline_elf(pad: usize, version: &str, modinfo: &str) -> Vec<u8> {
        let mut b = vec![0u8; 64];
        b[..4].copy_from_slice(elf::MAGIC);
        b[4] = 2;
        b[5] = 1;
        b[6] = 1;
        b.resize(64 + pad, 0);
        while !b.len().is_multiple_of(16) {
            b.push(0);
        }
        b.extend_from_slice(MAGIC);
        b.push(8);
        b.push(2);
        b.resize(b.len() + 16, 0);
        put_uvarint(&mut b, version.len() as u64);
        b.extend_from_slice(version.as_bytes());
        let mut m = INFO_START.to_vec();
        m.extend_from_slice(modinfo.as_bytes());
        m.extend_from_slice(&INFO_END);
        put_uvarint(&mut b, m.len() as u64);
        b.extend_from_slice(&m);
        b.resize(b.len() + 100, 0xee);
        b
    }

    fn scan_both(data: &[u8]) -> Scan {
        let mem = scan(&mut Source::Mem(data)).unwrap();
        for step in [1, 7, 4096, usize::MAX] {
            let mut r = Trickle { data, chunk: step };
            let streamed = scan(&mut Source::stream(&mut r)).unwrap();
            assert_eq!(streamed, mem, "step {step}");
        }
        mem
    }

    #[test]
    fn inline_blob_at_chunk_borders() {
        let modinfo = "path\tex.com/m\nmod\tex.com/m\t(devel)\t\n";
        // Put the blob just around the first chunk border, and across it.
        for pad in [0, CHUNK - 64 - 16, CHUNK - 64 - 8, CHUNK - 64, CHUNK + 3] {
            let data = inline_elf(pad, "go1.21.5", modinfo);
            match scan_both(&data) {
                Scan::Found(raw) => {
                    assert_eq!(raw.version, "go1.21.5");
                    assert_eq!(raw.modinfo, modinfo);
                }
                other => panic!("pad {pad}: {other:?}"),
            }
        }
    }

    #[test]
    fn unaligned_or_fake_magic_is_ignored() {
        // A magic copy at an unaligned offset, and an aligned one followed by garbage
        // (as the debug/buildinfo constant would be), before the real blob.
        let mut data = inline_elf(4096, "go1.20.3", "path\tx\n");
        let mut fake = vec![0u8; 64];
        fake[..4].copy_from_slice(elf::MAGIC);
        fake[4] = 2;
        fake.extend_from_slice(&[0; 3]);
        fake.extend_from_slice(MAGIC); // unaligned
        while !fake.len().is_multiple_of(16) {
            fake.push(0);
        }
        fake.extend_from_slice(MAGIC); // aligned, then junk flags
        fake.extend_from_slice(b"\x08\x02\x00\x00junk junk junk junk junk");
        while !fake.len().is_multiple_of(16) {
            fake.push(0);
        }
        data.splice(0..64, fake);
        match scan_both(&data) {
            Scan::Found(raw) => assert_eq!(raw.version, "go1.20.3"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn not_elf_and_not_go() {
        assert_eq!(scan_both(b"#!/bin/sh\necho hi\n"), Scan::NotFound);
        assert_eq!(scan_both(b""), Scan::NotFound);
        let mut elf_only = vec![0u8; 10_000];
        elf_only[..4].copy_from_slice(elf::MAGIC);
        assert_eq!(scan_both(&elf_only), Scan::NotFound);
    }

    #[test]
    fn truncated_blobs() {
        let full = inline_elf(100, "go1.21.5", "path\tex.com/m\nmod\tex.com/m\tv1.0.0\t\n");
        let magic_at = full.windows(MAGIC.len()).position(|w| w == MAGIC).unwrap();
        for cut in [
            magic_at + 10,
            magic_at + 20,
            magic_at + 33,
            magic_at + 45,
            full.len() - 150,
        ] {
            let r = scan_both(&full[..cut]);
            assert!(
                matches!(r, Scan::NotFound | Scan::Skipped(..)),
                "cut {cut}: {r:?}"
            );
        }
    }

    #[test]
    fn without_module_info() {
        let mut data = inline_elf(0, "go1.16", "");
        // Replace the modinfo with an empty string: length 0.
        let at = data.windows(6).position(|w| w == b"go1.16").unwrap() + 6;
        data.truncate(at);
        data.push(0);
        match scan_both(&data) {
            Scan::Found(raw) => {
                assert_eq!(raw.version, "go1.16");
                assert_eq!(raw.modinfo, "");
            }
            other => panic!("{other:?}"),
        }
    }

    /// A Go < 1.18 style ELF64: the blob in a data segment holds pointers to string
    /// headers right after it; the strings are in an earlier segment (as `.rodata` is) or,
    /// with `forward`, after the headers.
    fn pointer_elf(forward: bool, ptr: usize, big: bool) -> Vec<u8> {
        const TEXT_VADDR: u64 = 0x400000;
        const DATA_OFF: usize = 0x2000;
        const DATA_VADDR: u64 = 0x602000;
        let modinfo = {
            let mut m = INFO_START.to_vec();
            m.extend_from_slice(b"path\tex.com/old\nmod\tex.com/old\tv0.3.0\t\n");
            m.extend_from_slice(&INFO_END);
            m
        };
        let version = b"go1.16.15";
        let mut b = vec![0u8; DATA_OFF + 0x200];
        b[..4].copy_from_slice(elf::MAGIC);
        b[4] = 2;
        b[5] = 1;
        b[6] = 1;
        b[16] = 2;
        b[20] = 1;
        b[32..40].copy_from_slice(&64u64.to_le_bytes());
        b[52] = 64;
        b[54] = 56;
        b[56] = 2;
        let phdr = |b: &mut Vec<u8>, at: usize, off: u64, vaddr: u64, size: u64| {
            b[at..at + 4].copy_from_slice(&object::elf::PT_LOAD.to_le_bytes());
            b[at + 8..at + 16].copy_from_slice(&off.to_le_bytes());
            b[at + 16..at + 24].copy_from_slice(&vaddr.to_le_bytes());
            b[at + 32..at + 40].copy_from_slice(&size.to_le_bytes());
        };
        phdr(&mut b, 64, 0, TEXT_VADDR, DATA_OFF as u64);
        phdr(&mut b, 120, DATA_OFF as u64, DATA_VADDR, 0x200);
        let put = |b: &mut Vec<u8>, at: usize, v: u64| {
            let bytes: Vec<u8> = match (ptr, big) {
                (4, false) => (v as u32).to_le_bytes().to_vec(),
                (4, true) => (v as u32).to_be_bytes().to_vec(),
                (_, false) => v.to_le_bytes().to_vec(),
                (_, true) => v.to_be_bytes().to_vec(),
            };
            b[at..at + ptr].copy_from_slice(&bytes);
        };
        // The strings.
        let (vers_off, mod_off) = if forward {
            (DATA_OFF + 0x60, DATA_OFF + 0x80)
        } else {
            (0x1000, 0x1100)
        };
        b[vers_off..vers_off + version.len()].copy_from_slice(version);
        b[mod_off..mod_off + modinfo.len()].copy_from_slice(&modinfo);
        let vaddr = |off: usize| {
            if off >= DATA_OFF {
                DATA_VADDR + (off - DATA_OFF) as u64
            } else {
                TEXT_VADDR + off as u64
            }
        };
        // The blob, then the two string headers after it.
        b[DATA_OFF..DATA_OFF + 14].copy_from_slice(MAGIC);
        b[DATA_OFF + 14] = ptr as u8;
        b[DATA_OFF + 15] = u8::from(big);
        put(&mut b, DATA_OFF + 16, vaddr(DATA_OFF + 0x20));
        put(&mut b, DATA_OFF + 16 + ptr, vaddr(DATA_OFF + 0x40));
        put(&mut b, DATA_OFF + 0x20, vaddr(vers_off));
        put(&mut b, DATA_OFF + 0x20 + ptr, version.len() as u64);
        put(&mut b, DATA_OFF + 0x40, vaddr(mod_off));
        put(&mut b, DATA_OFF + 0x40 + ptr, modinfo.len() as u64);
        b
    }

    #[test]
    fn pointer_format_from_memory_and_from_a_stream() {
        let want = Scan::Found(RawBuildInfo {
            content_version: None,
            version: "go1.16.15".into(),
            modinfo: "path\tex.com/old\nmod\tex.com/old\tv0.3.0\t\n".into(),
        });
        for (ptr, big) in [(8, false), (4, false), (8, true), (4, true)] {
            // Strings before the blob: readable from memory only.
            let data = pointer_elf(false, ptr, big);
            assert_eq!(scan(&mut Source::Mem(&data)).unwrap(), want);
            let mut r: &[u8] = &data;
            assert_eq!(
                scan(&mut Source::stream(&mut r)).unwrap(),
                Scan::Skipped(
                    WarningKind::Other,
                    "Go < 1.18 binary: build info not readable from a stream".into()
                )
            );
            // Strings after the blob: a stream reads them too.
            assert_eq!(scan_both(&pointer_elf(true, ptr, big)), want);
        }
    }

    #[test]
    fn pointer_format_with_forged_addresses() {
        let mut data = pointer_elf(false, 8, false);
        // String header pointing into unmapped memory: not a blob.
        data[0x2020..0x2028].copy_from_slice(&0xdead_0000u64.to_le_bytes());
        assert_eq!(scan(&mut Source::Mem(&data)).unwrap(), Scan::NotFound);
        // String length past the segment end.
        let mut data = pointer_elf(true, 8, false);
        data[0x2048..0x2050].copy_from_slice(&(1u64 << 40).to_le_bytes());
        assert_eq!(scan_both(&data), Scan::NotFound);
        // Program header table claimed far away: blob found but cannot be mapped.
        let mut data = pointer_elf(true, 8, false);
        data[32..40].copy_from_slice(&(1u64 << 50).to_le_bytes());
        assert!(matches!(
            scan_both(&data),
            Scan::Skipped(WarningKind::MalformedFile, m) if m.contains("program headers")
        ));
    }

    /// The plain front-to-back search `version_string` must agree with.
    fn version_string_reference(bytes: &[u8]) -> Option<String> {
        let mut i = 0;
        while let Some(off) = bytes[i..].iter().position(|&b| b == 0 || b == 0xEF) {
            let at = i + off;
            i = at + 1;
            let start = if bytes[at] == 0 {
                at + 1
            } else if bytes.get(at..at + 3) == Some(b"\xEF\xBF\xBD".as_slice()) {
                at + 3
            } else {
                continue;
            };
            match bytes.get(start) {
                Some(b) if b.is_ascii_digit() || *b == b'v' => {}
                _ => continue,
            }
            let rest = &bytes[start..bytes.len().min(start + MAX_VERSION_STRING + 1)];
            let Some(nul) = rest.iter().position(|&b| b == 0) else {
                continue;
            };
            if is_semver_string(&rest[..nul]) {
                return std::str::from_utf8(&rest[..nul]).ok().map(str::to_string);
            }
        }
        None
    }

    #[test]
    fn version_string_agrees_with_a_front_to_back_search() {
        // Random texts of the pieces that matter, from a fixed-seed generator.
        let pieces: [&[u8]; 12] = [
            b"\x00",
            b"\x00",
            b"v",
            b"1",
            b"22",
            b".",
            b".3",
            b"1.2",
            b"-rc1",
            b"+ds",
            b"a",
            b"\xEF\xBF\xBD",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut found = 0;
        for _ in 0..20_000 {
            let n = next() % 14;
            let text: Vec<u8> = (0..n)
                .flat_map(|_| {
                    pieces[(next() % pieces.len() as u64) as usize]
                        .iter()
                        .copied()
                })
                .collect();
            let want = version_string_reference(&text);
            found += usize::from(want.is_some());
            assert_eq!(version_string(&text), want, "{text:?}");
        }
        assert!(
            found > 100,
            "the generator makes versions too rarely: {found}"
        );
    }

    #[test]
    fn version_strings_between_nuls() {
        assert_eq!(
            version_string(b"abc\x00v2.8.2+unknown junk\x002.8.2+ds1\x00more").as_deref(),
            Some("2.8.2+ds1")
        );
        assert_eq!(
            version_string(b"\xEF\xBF\xBDv1.2.3-rc.1\x00").as_deref(),
            None,
            "dots are not allowed after the patch number"
        );
        assert_eq!(
            version_string(b"\xEF\xBF\xBDv1.2.3-rc1\x00").as_deref(),
            Some("v1.2.3-rc1")
        );
        assert_eq!(version_string(b"\x001.2\x00\x00\x001.2.3"), None);
        assert_eq!(version_string(b"\x001.2.3.4\x00"), None);
        // Found before the blob, through the stream scan too.
        let mut data = inline_elf(2000, "go1.20.3", "path\tx\n");
        data[1000..1007].copy_from_slice(b"\x000.9.7\x00");
        match scan_both(&data) {
            Scan::Found(raw) => assert_eq!(raw.content_version.as_deref(), Some("0.9.7")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn varints() {
        assert_eq!(uvarint(&[0x05]), Some((5, 1)));
        assert_eq!(uvarint(&[0x96, 0x01]), Some((150, 2)));
        assert_eq!(uvarint(&[0x80]), None);
        assert_eq!(uvarint(&[0xff; 11]), None);
        assert_eq!(uvarint(&[]), None);
    }

    #[test]
    fn huge_modinfo_length_is_refused() {
        let mut b = vec![0u8; 64];
        b[..4].copy_from_slice(elf::MAGIC);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&[8, 2]);
        b.resize(b.len() + 16, 0);
        b.push(8);
        b.extend_from_slice(b"go1.21.0");
        put_uvarint(&mut b, u64::MAX / 2);
        b.resize(b.len() + 64, 0);
        assert!(matches!(
            scan_both(&b),
            Scan::Skipped(WarningKind::MalformedFile, m) if m.contains("module info")
        ));
    }
}
