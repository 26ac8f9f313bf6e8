//! Reader for rpm's Berkeley DB `Packages` file (hash access method).
//!
//! rpm up to 4.15 stored one record per installed package in a Berkeley DB
//! hash database: the key is the 4-byte header number (native byte order),
//! the value the package's header blob. Record 0 is special: its value is
//! the last allocated header number, not a header, and is skipped.
//!
//! Layout rules followed here (Berkeley DB `dbinc/db_page.h`,
//! `dbinc/hash.h`):
//!
//! * The file is an array of equal-sized pages. Page 0 is the metadata page
//!   (`DBMETA` + `HMETA`): `magic` at byte 12 (`0x061561` for hash),
//!   `version` at 16, `pagesize` at 20, `encrypt_alg` at 24, `type` at 25
//!   (`P_HASHMETA` = 8), `metaflags` at 26 (bit 0 = checksums), `last_pgno`
//!   at 32. All integers in the file use the byte order of the machine that
//!   created it; the magic number tells which.
//! * Every other page starts with the 26-byte `PAGE` header: LSN (8 bytes),
//!   `pgno` at 8, `prev_pgno` at 12, `next_pgno` at 16, `entries` (u16) at
//!   20, `hf_offset` (u16) at 22, `level` at 24, `type` at 25. With
//!   checksums enabled, 6 more bytes (2 unused + 4-byte checksum) follow.
//! * Hash pages (`P_HASH` = 13, or `P_HASH_UNSORTED` = 2 written before
//!   Berkeley DB 4.6) carry an array of `entries` u16 item offsets right
//!   after the header; items alternate key, data. Items are packed from the
//!   end of the page downwards, so item `i` extends from `inp[i]` to
//!   `inp[i-1]` (or to the end of the page for `i` = 0) — the `LEN_HITEM`
//!   rule.
//! * The first byte of an item is its type: `H_KEYDATA` (1) is followed by
//!   the bytes inline; `H_OFFPAGE` (3) is a 12-byte `HOFFPAGE` (type, 3
//!   unused bytes, `pgno` at 4, `tlen` at 8) pointing to a chain of
//!   `P_OVERFLOW` (7) pages. Each overflow page holds `hf_offset` bytes of
//!   data after its header and links to the next through `next_pgno`.
//!
//! All pages are scanned linearly (every record lives on some hash page), so
//! bucket arithmetic is not needed. Overflow chains are walked iteratively;
//! each overflow page may belong to one chain only, which catches cycles and
//! stops a hostile file from making many records share one huge chain.

use crate::bytes::{slice, to_usize, Endian};
use crate::header::MAX_HEADER_BLOB;
use crate::{Collector, RpmDbError, RpmDbKind, RpmDbRead};

/// `DBMETA.magic` of the hash access method.
const HASH_MAGIC: u32 = 0x0006_1561;
/// Byte offsets inside the metadata page (`DBMETA`).
const META_MAGIC: usize = 12;
const META_VERSION: usize = 16;
const META_PAGESIZE: usize = 20;
const META_ENCRYPT_ALG: usize = 24;
const META_TYPE: usize = 25;
const META_FLAGS: usize = 26;
const META_LAST_PGNO: usize = 32;
/// `metaflags` bit: pages carry checksums (`DBMETA_CHKSUM`).
const DBMETA_CHKSUM: u8 = 0x01;

/// Byte offsets inside the generic page header (`PAGE`).
const PG_PGNO: usize = 8;
const PG_NEXT_PGNO: usize = 16;
const PG_ENTRIES: usize = 20;
const PG_HF_OFFSET: usize = 22;
const PG_TYPE: usize = 25;
/// `SIZEOF_PAGE`: size of the generic page header.
const SIZEOF_PAGE: usize = 26;
/// `PG_CHKSUM`: 2 unused bytes + 4-byte checksum after the header when the
/// database has checksums.
const PG_CHKSUM_SIZE: usize = 6;

/// Page types (`P_*`).
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;

/// Hash item types (`H_*`).
const H_KEYDATA: u8 = 1;
const H_DUPLICATE: u8 = 2;
const H_OFFPAGE: u8 = 3;
const H_OFFDUP: u8 = 4;
/// `HOFFPAGE` layout: type, 3 unused bytes, pgno, tlen.
const HOFFPAGE_PGNO: usize = 4;
const HOFFPAGE_TLEN: usize = 8;
const HOFFPAGE_SIZE: usize = 12;

/// Hash format versions accepted: 5 (Berkeley DB 3.0) to 10 (6.x).
const MIN_HASH_VERSION: u32 = 5;
const MAX_HASH_VERSION: u32 = 10;

/// Returns the byte order of a Berkeley DB hash file, if `bytes` has the
/// hash magic in the metadata page.
fn endian_of(bytes: &[u8]) -> Option<Endian> {
    [Endian::Little, Endian::Big]
        .into_iter()
        .find(|e| e.u32(bytes, META_MAGIC) == Some(HASH_MAGIC))
}

/// True if `bytes` starts with a Berkeley DB hash metadata page.
pub(crate) fn has_magic(bytes: &[u8]) -> bool {
    endian_of(bytes).is_some()
}

/// A validated view of the file.
struct Db<'a> {
    bytes: &'a [u8],
    e: Endian,
    page_size: usize,
    /// Pages that are both in the file and at or below `last_pgno`.
    page_count: u32,
    /// Pages physically present in the file.
    file_pages: usize,
    /// Bytes before a page's item index / overflow data.
    overhead: usize,
}

/// Reads every package header stored in a Berkeley DB hash `Packages` file.
pub(crate) fn read(bytes: &[u8]) -> Result<RpmDbRead, RpmDbError> {
    let e = endian_of(bytes).ok_or(RpmDbError::WrongMagic {
        expected: RpmDbKind::BerkeleyDb,
    })?;
    let meta_err = |m: String| RpmDbError::BdbMeta(m);
    let byte = |off: usize| bytes.get(off).copied().unwrap_or(0);
    let ty = byte(META_TYPE);
    if ty != P_HASHMETA {
        return Err(meta_err(format!(
            "page 0 has type {ty}, expected hash metadata ({P_HASHMETA})"
        )));
    }
    let alg = byte(META_ENCRYPT_ALG);
    if alg != 0 {
        return Err(meta_err(format!(
            "database is encrypted (algorithm {alg}) and cannot be read"
        )));
    }
    let page_size = e.u32(bytes, META_PAGESIZE).unwrap_or(0);
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(meta_err(format!(
            "page size {page_size} is not a power of two between 512 and 65536"
        )));
    }
    let version = e.u32(bytes, META_VERSION).unwrap_or(0);
    if !(MIN_HASH_VERSION..=MAX_HASH_VERSION).contains(&version) {
        return Err(meta_err(format!(
            "unsupported hash format version {version}"
        )));
    }
    let page_size = to_usize(page_size);
    if bytes.len() < page_size {
        return Err(meta_err(format!(
            "file is {} bytes, shorter than one {page_size}-byte page",
            bytes.len()
        )));
    }
    let mut out = Collector::default();
    let file_pages = bytes.len() / page_size;
    if !bytes.len().is_multiple_of(page_size) {
        out.warn(format!(
            "file length {} is not a multiple of the {page_size}-byte page size; \
             the partial last page is ignored",
            bytes.len()
        ));
    }
    let last_pgno = e.u32(bytes, META_LAST_PGNO).unwrap_or(0);
    let wanted = u64::from(last_pgno) + 1;
    let page_count = if wanted > file_pages as u64 {
        out.warn(format!(
            "metadata says the last page is {last_pgno}, but the file holds only \
             {file_pages} pages; reading those"
        ));
        u32::try_from(file_pages).unwrap_or(u32::MAX)
    } else {
        last_pgno.saturating_add(1)
    };
    let overhead = SIZEOF_PAGE
        + if byte(META_FLAGS) & DBMETA_CHKSUM != 0 {
            PG_CHKSUM_SIZE
        } else {
            0
        };
    let db = Db {
        bytes,
        e,
        page_size,
        page_count,
        file_pages,
        overhead,
    };
    // owners[p] = id of the overflow chain that consumed page p (0 = none).
    let mut owners = vec![0u32; to_usize(page_count)];
    let mut next_chain = 0u32;
    for pgno in 1..page_count {
        let Some(page) = db.page(pgno) else { break };
        let ty = page.get(PG_TYPE).copied().unwrap_or(0);
        if ty != P_HASH && ty != P_HASH_UNSORTED {
            // Overflow pages are read through their chains; free (P_INVALID)
            // and never-written pages carry nothing.
            continue;
        }
        if db.e.u32(page, PG_PGNO) != Some(pgno) {
            out.warn(format!(
                "Berkeley DB page {pgno}: page header records page number {}; page skipped",
                db.e.u32(page, PG_PGNO).unwrap_or(0)
            ));
            continue;
        }
        db.read_hash_page(pgno, page, &mut out, &mut owners, &mut next_chain);
    }
    Ok(out.finish())
}

impl<'a> Db<'a> {
    /// The bytes of page `pgno`, if it lies inside the file.
    fn page(&self, pgno: u32) -> Option<&'a [u8]> {
        let start = to_usize(pgno).checked_mul(self.page_size)?;
        slice(self.bytes, start, self.page_size)
    }

    /// Reads the key/data pairs of one hash page.
    fn read_hash_page(
        &self,
        pgno: u32,
        page: &[u8],
        out: &mut Collector,
        owners: &mut [u32],
        next_chain: &mut u32,
    ) {
        let entries = usize::from(self.e.u16(page, PG_ENTRIES).unwrap_or(0));
        let index_end = self.overhead + 2 * entries;
        if index_end > self.page_size {
            out.warn(format!(
                "Berkeley DB page {pgno}: index of {entries} items runs past the page; page skipped"
            ));
            return;
        }
        if entries % 2 != 0 {
            out.warn(format!(
                "Berkeley DB page {pgno}: odd item count {entries}; the unpaired last item is ignored"
            ));
        }
        let inp = |i: usize| usize::from(self.e.u16(page, self.overhead + 2 * i).unwrap_or(0));
        // LEN_HITEM: item i spans inp[i] .. inp[i-1] (page end for i = 0).
        let item = |i: usize| -> Result<&[u8], String> {
            let start = inp(i);
            let end = if i == 0 { self.page_size } else { inp(i - 1) };
            if start < index_end || start >= end || end > self.page_size {
                return Err(format!(
                    "item {i} spans bytes {start}..{end}, outside the item area {index_end}..{}",
                    self.page_size
                ));
            }
            page.get(start..end)
                .ok_or_else(|| format!("item {i} is out of bounds"))
        };
        for pair in 0..entries / 2 {
            let (ki, di) = (2 * pair, 2 * pair + 1);
            let key = match item(ki) {
                Ok(k) => k,
                Err(reason) => {
                    out.warn(format!("Berkeley DB page {pgno}: {reason}; pair skipped"));
                    continue;
                }
            };
            // rpm's record 0 stores the next header number, not a header.
            if key.first() == Some(&H_KEYDATA) && key.get(1..) == Some(&[0u8; 4][..]) {
                continue;
            }
            let location = format!(
                "Berkeley DB page {pgno} item {di} (key {})",
                self.describe_key(key)
            );
            let data = match item(di) {
                Ok(d) => d,
                Err(reason) => {
                    out.warn(format!("Berkeley DB page {pgno}: {reason}; pair skipped"));
                    continue;
                }
            };
            match data.first().copied() {
                Some(H_KEYDATA) => out.add_blob(&location, data.get(1..).unwrap_or(&[])),
                Some(H_OFFPAGE) => {
                    if data.len() < HOFFPAGE_SIZE {
                        out.warn(format!(
                            "{location}: off-page reference is {} bytes, expected {HOFFPAGE_SIZE}",
                            data.len()
                        ));
                        continue;
                    }
                    let start = self.e.u32(data, HOFFPAGE_PGNO).unwrap_or(0);
                    let tlen = self.e.u32(data, HOFFPAGE_TLEN).unwrap_or(0);
                    *next_chain = next_chain.saturating_add(1);
                    match self.read_overflow(start, tlen, owners, *next_chain) {
                        Ok(blob) => out.add_blob(&location, &blob),
                        Err(e) => out.warn(format!("{location}: {e}")),
                    }
                }
                Some(H_DUPLICATE) | Some(H_OFFDUP) => out.warn(format!(
                    "{location}: duplicate data sets are never written by rpm; skipped"
                )),
                other => out.warn(format!(
                    "{location}: unknown item type {}",
                    other.map_or_else(|| "(empty item)".to_string(), |t| t.to_string())
                )),
            }
        }
    }

    /// Renders a key for warnings: the header number when it is the usual
    /// 4-byte key, else a hex prefix.
    fn describe_key(&self, key: &[u8]) -> String {
        match (key.first(), key.len()) {
            (Some(&H_KEYDATA), 5) => format!("#{}", self.e.u32(key, 1).unwrap_or(0)),
            _ => key
                .iter()
                .take(16)
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
        }
    }

    /// Follows an overflow chain from `start`, collecting `tlen` bytes.
    fn read_overflow(
        &self,
        start: u32,
        tlen: u32,
        owners: &mut [u32],
        chain: u32,
    ) -> Result<Vec<u8>, RpmDbError> {
        let total = to_usize(tlen);
        if total > MAX_HEADER_BLOB {
            return Err(RpmDbError::OverflowTooLong {
                start,
                len: tlen,
                max: MAX_HEADER_BLOB,
            });
        }
        // Never reserve more than the file could possibly supply.
        let mut blob = Vec::with_capacity(total.min(self.bytes.len()));
        let mut pgno = start;
        loop {
            if pgno == 0 {
                // PGNO_INVALID: the chain ended early.
                return Err(RpmDbError::OverflowShort {
                    start,
                    expected: tlen,
                    got: blob.len(),
                });
            }
            if to_usize(pgno) >= self.file_pages {
                return Err(RpmDbError::PagePastEnd {
                    page: pgno,
                    file_len: self.bytes.len(),
                });
            }
            let owner = owners.get_mut(to_usize(pgno)).ok_or(RpmDbError::BdbPage {
                page: pgno,
                reason: format!(
                    "referenced by an overflow chain but beyond the last page {} in the metadata",
                    self.page_count.saturating_sub(1)
                ),
            })?;
            if *owner == chain {
                return Err(RpmDbError::OverflowCycle { start, page: pgno });
            }
            if *owner != 0 {
                return Err(RpmDbError::OverflowPageShared { start, page: pgno });
            }
            *owner = chain;
            let page = self.page(pgno).ok_or(RpmDbError::PagePastEnd {
                page: pgno,
                file_len: self.bytes.len(),
            })?;
            let ty = page.get(PG_TYPE).copied().unwrap_or(0);
            if ty != P_OVERFLOW {
                return Err(RpmDbError::BdbPage {
                    page: pgno,
                    reason: format!(
                        "expected an overflow page (type {P_OVERFLOW}) in the chain from page {start}, found type {ty}"
                    ),
                });
            }
            // OV_LEN: hf_offset holds the number of data bytes on the page.
            let len = usize::from(self.e.u16(page, PG_HF_OFFSET).unwrap_or(0));
            let chunk = slice(page, self.overhead, len).ok_or_else(|| RpmDbError::BdbPage {
                page: pgno,
                reason: format!("overflow data length {len} runs past the page"),
            })?;
            let take = chunk.len().min(total - blob.len());
            blob.extend_from_slice(chunk.get(..take).unwrap_or(&[]));
            if blob.len() == total {
                return Ok(blob);
            }
            pgno = self.e.u32(page, PG_NEXT_PGNO).unwrap_or(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::tests::sample_header;

    /// Builds a minimal Berkeley DB hash file by hand, following the layout
    /// in the module docs. `pages` are (type, next_pgno, body) where body is
    /// either hash items or overflow bytes.
    pub(crate) struct Builder {
        e: Endian,
        page_size: usize,
        pages: Vec<Vec<u8>>,
    }

    impl Builder {
        pub(crate) fn new(e: Endian, page_size: usize) -> Self {
            Builder {
                e,
                page_size,
                pages: vec![vec![0; page_size]],
            }
        }

        fn put32(&self, p: &mut [u8], off: usize, v: u32) {
            let b = match self.e {
                Endian::Little => v.to_le_bytes(),
                Endian::Big => v.to_be_bytes(),
            };
            p[off..off + 4].copy_from_slice(&b);
        }

        fn put16(&self, p: &mut [u8], off: usize, v: u16) {
            let b = match self.e {
                Endian::Little => v.to_le_bytes(),
                Endian::Big => v.to_be_bytes(),
            };
            p[off..off + 2].copy_from_slice(&b);
        }

        fn new_page(&mut self, ty: u8, next: u32) -> usize {
            let n = self.pages.len();
            let mut p = vec![0; self.page_size];
            self.put32(&mut p, PG_PGNO, n as u32);
            self.put32(&mut p, PG_NEXT_PGNO, next);
            p[PG_TYPE] = ty;
            self.pages.push(p);
            n
        }

        /// Adds a hash page holding the given raw items (each starting with
        /// its H_* type byte).
        pub(crate) fn hash_page(&mut self, items: &[Vec<u8>]) -> usize {
            let n = self.new_page(P_HASH, 0);
            let mut p = std::mem::take(&mut self.pages[n]);
            let mut end = self.page_size;
            for (i, it) in items.iter().enumerate() {
                let start = end - it.len();
                p[start..end].copy_from_slice(it);
                self.put16(&mut p, SIZEOF_PAGE + 2 * i, start as u16);
                end = start;
            }
            self.put16(&mut p, PG_ENTRIES, items.len() as u16);
            self.pages[n] = p;
            n
        }

        /// Adds an overflow page with `data` and the given successor.
        pub(crate) fn overflow_page(&mut self, data: &[u8], next: u32) -> usize {
            let n = self.new_page(P_OVERFLOW, next);
            let mut p = std::mem::take(&mut self.pages[n]);
            p[SIZEOF_PAGE..SIZEOF_PAGE + data.len()].copy_from_slice(data);
            self.put16(&mut p, PG_HF_OFFSET, data.len() as u16);
            self.pages[n] = p;
            n
        }

        pub(crate) fn offpage(&self, pgno: u32, tlen: u32) -> Vec<u8> {
            let mut v = vec![H_OFFPAGE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            self.put32(&mut v, HOFFPAGE_PGNO, pgno);
            self.put32(&mut v, HOFFPAGE_TLEN, tlen);
            v
        }

        pub(crate) fn key(&self, n: u32) -> Vec<u8> {
            let mut v = vec![H_KEYDATA, 0, 0, 0, 0];
            self.put32(&mut v, 1, n);
            v
        }

        pub(crate) fn finish(mut self) -> Vec<u8> {
            let last = (self.pages.len() - 1) as u32;
            let mut meta = std::mem::take(&mut self.pages[0]);
            self.put32(&mut meta, META_MAGIC, HASH_MAGIC);
            self.put32(&mut meta, META_VERSION, 9);
            self.put32(&mut meta, META_PAGESIZE, self.page_size as u32);
            meta[META_TYPE] = P_HASHMETA;
            self.put32(&mut meta, META_LAST_PGNO, last);
            self.pages[0] = meta;
            self.pages.concat()
        }
    }

    fn inline(blob: &[u8]) -> Vec<u8> {
        let mut v = vec![H_KEYDATA];
        v.extend_from_slice(blob);
        v
    }

    #[test]
    fn reads_inline_and_overflow_records_in_both_byte_orders() {
        for e in [Endian::Little, Endian::Big] {
            let big = sample_header("over");
            let mut b = Builder::new(e, 512);
            let (first, rest) = big.split_at(300);
            // Pages: 1 = hash, 2.. = overflow chain.
            let items = vec![
                b.key(0),
                inline(&[5, 0, 0, 0]),
                b.key(1),
                inline(&sample_header("small")),
                b.key(2),
                b.offpage(2, big.len() as u32),
            ];
            b.hash_page(&items);
            b.overflow_page(first, 3);
            b.overflow_page(rest, 0);
            let file = b.finish();
            assert!(has_magic(&file));
            let r = read(&file).expect("valid file");
            assert!(r.warnings.is_empty(), "{:?}", r.warnings);
            let names: Vec<_> = r.packages.iter().map(|p| p.name.as_str()).collect();
            assert_eq!(names, ["small", "over"]);
        }
    }

    #[test]
    fn cyclic_overflow_chain_is_a_warning() {
        let mut b = Builder::new(Endian::Little, 512);
        let items = vec![b.key(1), b.offpage(2, 10_000)];
        b.hash_page(&items);
        b.overflow_page(&[1; 100], 3);
        b.overflow_page(&[2; 100], 2); // points back to page 2
        let r = read(&b.finish()).expect("metadata is fine");
        assert!(r.packages.is_empty());
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert!(
            r.warnings[0].contains("revisits page 2"),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn shared_overflow_pages_are_read_once() {
        let big = sample_header("over");
        let mut b = Builder::new(Endian::Little, 4096);
        let items = vec![
            b.key(1),
            b.offpage(2, big.len() as u32),
            b.key(2),
            b.offpage(2, big.len() as u32),
        ];
        b.hash_page(&items);
        b.overflow_page(&big, 0);
        let r = read(&b.finish()).expect("metadata is fine");
        assert_eq!(r.packages.len(), 1);
        assert!(
            r.warnings[0].contains("already belongs"),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn bad_references_are_warnings() {
        let mut b = Builder::new(Endian::Little, 512);
        let items = vec![
            b.key(1),
            b.offpage(17, 100), // past the end
            b.key(2),
            b.offpage(2, 0x7fff_ffff), // absurd length
            b.key(3),
            b.offpage(1, 100), // points at a hash page
            b.key(4),
            b.offpage(2, 400), // chain too short
        ];
        b.hash_page(&items);
        b.overflow_page(&[0; 10], 0);
        let r = read(&b.finish()).expect("metadata is fine");
        assert!(r.packages.is_empty());
        let w = r.warnings.join("\n");
        assert!(
            w.contains("page 17 points past end of file (1536 bytes)"),
            "{w}"
        );
        assert!(w.contains("above the"), "{w}");
        assert!(w.contains("expected an overflow page"), "{w}");
        assert!(w.contains("ended after 10 of 400 bytes"), "{w}");
    }

    #[test]
    fn bad_metadata_is_an_error() {
        let good = {
            let mut b = Builder::new(Endian::Little, 512);
            let items = vec![b.key(1), inline(&sample_header("x"))];
            b.hash_page(&items);
            b.finish()
        };
        assert_eq!(read(&good).expect("valid").packages.len(), 1);
        let mut f = good.clone();
        f[META_PAGESIZE..META_PAGESIZE + 4].copy_from_slice(&1000u32.to_le_bytes());
        assert!(matches!(read(&f), Err(RpmDbError::BdbMeta(m)) if m.contains("page size 1000")));
        let mut f = good.clone();
        f[META_ENCRYPT_ALG] = 1;
        assert!(matches!(read(&f), Err(RpmDbError::BdbMeta(m)) if m.contains("encrypted")));
        // Truncated mid-file: the partial page is ignored with warnings.
        let r = read(&good[..700]).expect("meta page is intact");
        assert!(r.packages.is_empty());
        assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
        // Shorter than a page.
        assert!(matches!(read(&good[..100]), Err(RpmDbError::BdbMeta(_))));
        assert!(matches!(
            read(&good[..10]),
            Err(RpmDbError::WrongMagic { .. })
        ));
    }

    #[test]
    fn corrupt_item_offsets_are_warnings() {
        let mut b = Builder::new(Endian::Little, 512);
        let items = vec![b.key(1), inline(&sample_header("x"))];
        let n = b.hash_page(&items);
        let mut file = b.finish();
        // Point item 1 above item 0 (violates LEN_HITEM ordering).
        let at = n * 512 + SIZEOF_PAGE + 2;
        file[at..at + 2].copy_from_slice(&511u16.to_le_bytes());
        let r = read(&file).expect("meta fine");
        assert!(r.packages.is_empty());
        assert!(
            r.warnings[0].contains("outside the item area"),
            "{:?}",
            r.warnings
        );
        // Claim a huge item count.
        let at = n * 512 + PG_ENTRIES;
        file[at..at + 2].copy_from_slice(&u16::MAX.to_le_bytes());
        let r = read(&file).expect("meta fine");
        assert!(
            r.warnings[0].contains("runs past the page"),
            "{:?}",
            r.warnings
        );
    }
}
