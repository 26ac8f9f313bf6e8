//! Reader for rpm's "ndb" package store, `Packages.db` (SUSE/openSUSE).
//!
//! Layout (rpm `lib/backend/ndb/rpmpkg.c`; every integer little-endian; as
//! confirmed on files written by rpm 4.18 built with `--enable-ndb`):
//!
//! * Bytes 0..32, the file header: magic `RpmP` at 0, format version (0) at
//!   4, generation at 8, number of 4096-byte slot pages at 12, next package
//!   index at 16.
//! * The rest of the slot pages is an array of 16-byte slots, starting right
//!   after the header: magic `Slot`, package index (0 = free slot), block
//!   offset, block count. Blocks are 16 bytes, counted from the file start.
//! * Each used slot points at a blob occupying `blkcnt` blocks: a 16-byte
//!   head (magic `BlbS`, package index, generation, blob length), the header
//!   blob itself, zero padding, and a 12-byte tail at the very end of the
//!   last block (Adler-32 of everything before the tail, blob length again,
//!   magic `BlbE`).
//!
//! Slots are validated and sorted by block offset; overlapping or duplicate
//! blobs are rejected, so the work done is bounded by the file size.

use crate::bytes::{slice, to_usize, Endian};
use crate::header::MAX_HEADER_BLOB;
use crate::{Collector, RpmDbError, RpmDbKind, RpmDbRead};

const LE: Endian = Endian::Little;
/// `PKGDB_MAGIC`: "RpmP" read as a little-endian u32.
const PKGDB_MAGIC: &[u8; 4] = b"RpmP";
/// The only format version rpm has written.
const PKGDB_VERSION: u32 = 0;
/// Size of the file header; also where the first slot starts.
const PKGDB_HEADER_SIZE: usize = 32;
const HDR_VERSION: usize = 4;
const HDR_SLOTNPAGES: usize = 12;
/// Slot pages are always 4096 bytes.
const PAGE_SIZE: usize = 4096;
/// `SLOT_MAGIC` and slot size.
const SLOT_MAGIC: &[u8; 4] = b"Slot";
const SLOT_SIZE: usize = 16;
/// Blob blocks are 16 bytes.
const BLK_SIZE: usize = 16;
/// Blob head: magic, pkgidx, generation, length.
const BLOBHEAD_MAGIC: &[u8; 4] = b"BlbS";
const BLOBHEAD_SIZE: usize = 16;
/// Blob tail: checksum, length, magic.
const BLOBTAIL_MAGIC: &[u8; 4] = b"BlbE";
const BLOBTAIL_SIZE: usize = 12;

/// True if `bytes` starts with the NDB file magic.
pub(crate) fn has_magic(bytes: &[u8]) -> bool {
    bytes.starts_with(PKGDB_MAGIC)
}

/// A used slot: where one package's blob lives.
#[derive(Debug, Clone, Copy)]
struct Slot {
    number: u32,
    pkgidx: u32,
    /// Byte range of the blob.
    start: usize,
    len: usize,
}

/// Reads every package header stored in an NDB `Packages.db` file.
pub(crate) fn read(bytes: &[u8]) -> Result<RpmDbRead, RpmDbError> {
    if !has_magic(bytes) {
        return Err(RpmDbError::WrongMagic {
            expected: RpmDbKind::Ndb,
        });
    }
    if bytes.len() < PKGDB_HEADER_SIZE {
        return Err(RpmDbError::NdbHeader(format!(
            "file is {} bytes, shorter than the {PKGDB_HEADER_SIZE}-byte header",
            bytes.len()
        )));
    }
    let version = LE.u32(bytes, HDR_VERSION).unwrap_or(u32::MAX);
    if version != PKGDB_VERSION {
        return Err(RpmDbError::NdbHeader(format!(
            "unsupported format version {version}"
        )));
    }
    let slot_pages = LE.u32(bytes, HDR_SLOTNPAGES).unwrap_or(0);
    if slot_pages == 0 {
        return Err(RpmDbError::NdbHeader("zero slot pages".into()));
    }
    let mut out = Collector::default();
    let slot_area = to_usize(slot_pages).saturating_mul(PAGE_SIZE);
    let slot_end = if slot_area > bytes.len() {
        out.warn(format!(
            "NDB header: {slot_pages} slot pages ({slot_area} bytes) extend past the end \
             of the {}-byte file; reading the slots present",
            bytes.len()
        ));
        bytes.len()
    } else {
        slot_area
    };

    let mut slots = Vec::new();
    let mut number = 0u32;
    let mut off = PKGDB_HEADER_SIZE;
    while off + SLOT_SIZE <= slot_end {
        number = number.saturating_add(1);
        let s = off;
        off += SLOT_SIZE;
        let slot_err = |reason: String| RpmDbError::NdbSlot {
            slot: number,
            reason,
        };
        if slice(bytes, s, 4) != Some(&SLOT_MAGIC[..]) {
            out.warn(slot_err("bad slot magic; slot skipped".into()).to_string());
            continue;
        }
        let pkgidx = LE.u32(bytes, s + 4).unwrap_or(0);
        if pkgidx == 0 {
            continue; // free slot
        }
        let blkoff = u64::from(LE.u32(bytes, s + 8).unwrap_or(0));
        let blkcnt = u64::from(LE.u32(bytes, s + 12).unwrap_or(0));
        let start = blkoff * BLK_SIZE as u64;
        let len = blkcnt * BLK_SIZE as u64;
        let end = start + len;
        if start < slot_area as u64 {
            out.warn(
                slot_err(format!(
                    "package index {pkgidx}: blob at byte {start} overlaps the slot pages"
                ))
                .to_string(),
            );
            continue;
        }
        if end > bytes.len() as u64 {
            out.warn(
                slot_err(format!(
                    "package index {pkgidx}: blob at bytes {start}..{end} points past end of file ({} bytes)",
                    bytes.len()
                ))
                .to_string(),
            );
            continue;
        }
        if len < (BLOBHEAD_SIZE + BLOBTAIL_SIZE) as u64 {
            out.warn(
                slot_err(format!(
                    "package index {pkgidx}: {blkcnt} blocks cannot hold a blob"
                ))
                .to_string(),
            );
            continue;
        }
        // `end` <= bytes.len(), so both fit in usize.
        slots.push(Slot {
            number,
            pkgidx,
            start: start as usize,
            len: len as usize,
        });
    }

    // rpm keeps blobs disjoint; enforce it so no byte is parsed twice.
    slots.sort_by_key(|s| (s.start, s.number));
    let mut seen_idx = std::collections::HashSet::new();
    let mut covered_to = 0usize;
    for slot in slots {
        if slot.start < covered_to {
            out.warn(
                RpmDbError::NdbSlot {
                    slot: slot.number,
                    reason: format!(
                        "package index {}: blob overlaps another blob; slot skipped",
                        slot.pkgidx
                    ),
                }
                .to_string(),
            );
            continue;
        }
        covered_to = slot.start + slot.len;
        if !seen_idx.insert(slot.pkgidx) {
            out.warn(
                RpmDbError::NdbSlot {
                    slot: slot.number,
                    reason: format!("package index {} used twice; slot skipped", slot.pkgidx),
                }
                .to_string(),
            );
            continue;
        }
        let location = format!("NDB slot {} (package index {})", slot.number, slot.pkgidx);
        match blob(bytes, slot) {
            Ok(b) => out.add_blob(&location, b),
            Err(e) => out.warn(e.to_string()),
        }
    }
    Ok(out.finish())
}

/// Validates a blob's head and tail and returns the header bytes.
fn blob(bytes: &[u8], slot: Slot) -> Result<&[u8], RpmDbError> {
    let err = |reason: String| RpmDbError::NdbBlob {
        pkgidx: slot.pkgidx,
        reason,
    };
    let region = slice(bytes, slot.start, slot.len).ok_or_else(|| err("out of bounds".into()))?;
    if slice(region, 0, 4) != Some(&BLOBHEAD_MAGIC[..]) {
        return Err(err(format!("no blob head magic at byte {}", slot.start)));
    }
    let head_idx = LE.u32(region, 4).unwrap_or(0);
    if head_idx != slot.pkgidx {
        return Err(err(format!("blob head records package index {head_idx}")));
    }
    let blob_len = to_usize(LE.u32(region, 12).unwrap_or(0));
    let tail_at = slot.len - BLOBTAIL_SIZE;
    if blob_len > MAX_HEADER_BLOB || BLOBHEAD_SIZE + blob_len > tail_at {
        return Err(err(format!(
            "blob length {blob_len} does not fit in {} blocks",
            slot.len / BLK_SIZE
        )));
    }
    if slice(region, tail_at + 8, 4) != Some(&BLOBTAIL_MAGIC[..]) {
        return Err(err("no blob tail magic".into()));
    }
    let tail_len = to_usize(LE.u32(region, tail_at + 4).unwrap_or(0));
    if tail_len != blob_len {
        return Err(err(format!(
            "blob tail records length {tail_len}, head records {blob_len}"
        )));
    }
    let stored = LE.u32(region, tail_at).unwrap_or(0);
    let computed = adler32(region.get(..tail_at).unwrap_or(&[]));
    if stored != computed {
        return Err(err(format!(
            "checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
        )));
    }
    slice(region, BLOBHEAD_SIZE, blob_len).ok_or_else(|| err("out of bounds".into()))
}

/// Adler-32 (RFC 1950, section 8.2), as used for the NDB blob checksum.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    // 5552 is the largest n for which the sums cannot overflow u32 before
    // reduction (zlib's NMAX).
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::tests::sample_header;

    /// Builds an NDB file by hand following the layout in the module docs.
    fn build(blobs: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut f = vec![0u8; PAGE_SIZE];
        f[..4].copy_from_slice(PKGDB_MAGIC);
        f[HDR_SLOTNPAGES..HDR_SLOTNPAGES + 4].copy_from_slice(&1u32.to_le_bytes());
        let mut slot = PKGDB_HEADER_SIZE;
        while slot < PAGE_SIZE {
            f[slot..slot + 4].copy_from_slice(SLOT_MAGIC);
            slot += SLOT_SIZE;
        }
        for (i, (idx, blob)) in blobs.iter().enumerate() {
            let start = f.len();
            let need = BLOBHEAD_SIZE + blob.len() + BLOBTAIL_SIZE;
            let blocks = need.div_ceil(BLK_SIZE);
            let mut region = vec![0u8; blocks * BLK_SIZE];
            region[..4].copy_from_slice(BLOBHEAD_MAGIC);
            region[4..8].copy_from_slice(&idx.to_le_bytes());
            region[12..16].copy_from_slice(&(blob.len() as u32).to_le_bytes());
            region[16..16 + blob.len()].copy_from_slice(blob);
            let tail = region.len() - BLOBTAIL_SIZE;
            let sum = adler32(&region[..tail]);
            region[tail..tail + 4].copy_from_slice(&sum.to_le_bytes());
            region[tail + 4..tail + 8].copy_from_slice(&(blob.len() as u32).to_le_bytes());
            region[tail + 8..].copy_from_slice(BLOBTAIL_MAGIC);
            f.extend_from_slice(&region);
            let s = PKGDB_HEADER_SIZE + i * SLOT_SIZE;
            f[s + 4..s + 8].copy_from_slice(&idx.to_le_bytes());
            f[s + 8..s + 12].copy_from_slice(&((start / BLK_SIZE) as u32).to_le_bytes());
            f[s + 12..s + 16].copy_from_slice(&(blocks as u32).to_le_bytes());
        }
        f
    }

    #[test]
    fn adler32_matches_reference_values() {
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(&[0xff; 100_000]), 0x149a_302c);
    }

    #[test]
    fn reads_hand_built_file() {
        let f = build(&[(1, sample_header("a")), (2, sample_header("b"))]);
        let r = read(&f).expect("valid");
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        let names: Vec<_> = r.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn corruption_becomes_warnings() {
        let f = build(&[(1, sample_header("a")), (2, sample_header("b"))]);
        // Flip a byte inside blob 1: checksum mismatch, blob 2 still read.
        let mut g = f.clone();
        g[PAGE_SIZE + 40] ^= 0xff;
        let r = read(&g).expect("header fine");
        assert_eq!(r.packages.len(), 1);
        assert!(
            r.warnings[0].contains("checksum mismatch"),
            "{:?}",
            r.warnings
        );
        // Make slot 2 point at slot 1's blob: overlap.
        let mut g = f.clone();
        let (s1, s2) = (PKGDB_HEADER_SIZE, PKGDB_HEADER_SIZE + SLOT_SIZE);
        let copy: Vec<u8> = g[s1 + 8..s1 + 16].to_vec();
        g[s2 + 8..s2 + 16].copy_from_slice(&copy);
        let r = read(&g).expect("header fine");
        assert_eq!(r.packages.len(), 1);
        assert!(r.warnings[0].contains("overlaps"), "{:?}", r.warnings);
        // Slot pointing past the end of the file.
        let mut g = f.clone();
        g[s2 + 12..s2 + 16].copy_from_slice(&u32::MAX.to_le_bytes());
        let r = read(&g).expect("header fine");
        assert!(
            r.warnings[0].contains("points past end of file"),
            "{:?}",
            r.warnings
        );
        // Truncated file: every prefix is handled without panicking.
        for len in (0..f.len()).step_by(7) {
            let _ = read(&f[..len]);
        }
        // Absurd slot page count.
        let mut g = f.clone();
        g[HDR_SLOTNPAGES..HDR_SLOTNPAGES + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let r = read(&g).expect("header fine");
        assert!(r.packages.is_empty());
        assert!(
            r.warnings[0].contains("extend past the end"),
            "{:?}",
            r.warnings
        );
        // Wrong version.
        let mut g = f;
        g[HDR_VERSION] = 3;
        assert!(matches!(read(&g), Err(RpmDbError::NdbHeader(_))));
    }
}
