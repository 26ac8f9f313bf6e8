//! Parser for the rpm "header structure" as stored in the package database.
//!
//! Format (rpm `lib/header.c`, LSB "Package File Format: Header Structure";
//! all integers big-endian, whatever the database's own byte order):
//!
//! ```text
//! u32 il                      number of index entries
//! u32 dl                      length of the data store in bytes
//! il x { i32 tag, u32 type, i32 offset, u32 count }   index entries, 16 bytes
//! dl bytes                    data store; entry offsets are relative to it
//! ```
//!
//! In a package *file* the header is preceded by an 8-byte intro
//! (`8e ad e8 01` + 4 reserved bytes); databases store the blob without it,
//! but a blob that still carries it is accepted.
//!
//! Limits follow rpm's own sanity checks (`hdrchkTags`, `hdrchkData`): fewer
//! than 65536 index entries and a data store smaller than 16 MiB. All values
//! are read through bounds-checked helpers; counts are checked against the
//! bytes available before anything is allocated.

use crate::bytes::{slice, to_usize, Endian};
use crate::{RpmDbError, RpmPackage};

/// rpm `hdrchkTags`: an index count with any of the upper 16 bits set is
/// rejected, so at most 65535 entries.
pub(crate) const MAX_INDEX_ENTRIES: u32 = 0xffff;
/// rpm `hdrchkData`: a data length with any of the upper 8 bits set is
/// rejected, so at most 16 MiB - 1.
pub(crate) const MAX_DATA_LEN: u32 = 0x00ff_ffff;
/// Largest blob a valid header can occupy (intro + index + data store).
pub(crate) const MAX_HEADER_BLOB: usize =
    8 + 8 + 16 * (MAX_INDEX_ENTRIES as usize) + (MAX_DATA_LEN as usize);

/// The 8-byte intro of a header inside a package file (magic, version 1,
/// four reserved bytes). Stripped if present.
const HEADER_INTRO_MAGIC: [u8; 4] = [0x8e, 0xad, 0xe8, 0x01];

// Index entry data types (rpm `rpmTagType`).
const TYPE_INT32: u32 = 4;
const TYPE_INT64: u32 = 5;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

// Tag numbers (rpm `rpmtag.h`).
const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_SIZE: u32 = 1009;
const TAG_VENDOR: u32 = 1011;
const TAG_LICENSE: u32 = 1014;
const TAG_ARCH: u32 = 1022;
const TAG_OLDFILENAMES: u32 = 1027;
const TAG_SOURCERPM: u32 = 1044;
const TAG_DIRINDEXES: u32 = 1116;
const TAG_BASENAMES: u32 = 1117;
const TAG_DIRNAMES: u32 = 1118;
const TAG_LONGSIZE: u32 = 5009;
const TAG_MODULARITYLABEL: u32 = 5096;

/// One decoded index entry.
#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u32,
    ty: u32,
    offset: u32,
    count: u32,
}

/// A validated header: its index and a borrowed data store.
struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
}

impl<'a> Header<'a> {
    /// Validates the length fields and decodes the index.
    fn parse(blob: &'a [u8]) -> Result<Self, RpmDbError> {
        let blob = match blob.get(..4) {
            Some(m) if m == HEADER_INTRO_MAGIC => blob.get(8..).unwrap_or(&[]),
            _ => blob,
        };
        let be = Endian::Big;
        let (il, dl) = match (be.u32(blob, 0), be.u32(blob, 4)) {
            (Some(il), Some(dl)) => (il, dl),
            _ => {
                return Err(RpmDbError::HeaderTruncated {
                    needed: 8,
                    available: blob.len(),
                })
            }
        };
        if il > MAX_INDEX_ENTRIES {
            return Err(RpmDbError::HeaderTooManyEntries {
                count: il,
                max: MAX_INDEX_ENTRIES,
            });
        }
        if dl > MAX_DATA_LEN {
            return Err(RpmDbError::HeaderDataTooLarge {
                len: dl,
                max: MAX_DATA_LEN,
            });
        }
        // Both are capped above, so this cannot overflow u64.
        let data_start = 8 + 16 * u64::from(il);
        let needed = data_start + u64::from(dl);
        if (blob.len() as u64) < needed {
            return Err(RpmDbError::HeaderTruncated {
                needed,
                available: blob.len(),
            });
        }
        let data_start = data_start as usize;
        let data = slice(blob, data_start, to_usize(dl)).ok_or(RpmDbError::HeaderTruncated {
            needed,
            available: blob.len(),
        })?;
        let mut entries = Vec::with_capacity(to_usize(il));
        for i in 0..to_usize(il) {
            let base = 8 + 16 * i;
            let field = |n: usize| be.u32(blob, base + 4 * n).unwrap_or(0);
            entries.push(Entry {
                tag: field(0),
                ty: field(1),
                offset: field(2),
                count: field(3),
            });
        }
        Ok(Header { entries, data })
    }

    /// Finds the entry for `tag`. When a tag occurs twice, the later entry
    /// wins: rpm appends entries added after the immutable region was sealed
    /// ("dribble" entries) behind the region, and they override it.
    fn find(&self, tag: u32) -> Option<(usize, Entry)> {
        self.entries
            .iter()
            .enumerate()
            .rev()
            .find(|(_, e)| e.tag == tag)
            .map(|(i, e)| (i, *e))
    }

    fn entry_err(index: usize, e: Entry, reason: impl Into<String>) -> RpmDbError {
        RpmDbError::HeaderEntry {
            index,
            tag: e.tag,
            reason: reason.into(),
        }
    }

    /// The data store from the entry's offset on, checked against `dl`.
    fn tail(&self, index: usize, e: Entry) -> Result<&'a [u8], RpmDbError> {
        self.data.get(to_usize(e.offset)..).ok_or_else(|| {
            Self::entry_err(
                index,
                e,
                format!(
                    "offset {} lies outside the {}-byte data store",
                    e.offset,
                    self.data.len()
                ),
            )
        })
    }

    /// Reads `count` NUL-terminated strings starting at the entry's offset.
    /// The count is checked against the bytes available before allocating
    /// (each string needs at least its terminator).
    fn strings(&self, index: usize, e: Entry) -> Result<Vec<&'a [u8]>, RpmDbError> {
        let mut rest = self.tail(index, e)?;
        let count = to_usize(e.count);
        if count > rest.len() {
            return Err(Self::entry_err(
                index,
                e,
                format!(
                    "count {} cannot fit in the {} bytes left in the data store",
                    e.count,
                    rest.len()
                ),
            ));
        }
        let mut out = Vec::with_capacity(count);
        for n in 0..count {
            let nul = rest.iter().position(|&b| b == 0).ok_or_else(|| {
                Self::entry_err(index, e, format!("string {n} is not NUL-terminated"))
            })?;
            out.push(&rest[..nul]);
            rest = &rest[nul + 1..];
        }
        Ok(out)
    }

    /// A single string. STRING is the normal type; for I18NSTRING and
    /// STRING_ARRAY the first element (the untranslated "C" value) is used.
    fn string(&self, tag: u32) -> Result<Option<String>, RpmDbError> {
        let Some((index, e)) = self.find(tag) else {
            return Ok(None);
        };
        match e.ty {
            TYPE_STRING | TYPE_I18NSTRING | TYPE_STRING_ARRAY => {}
            other => {
                return Err(Self::entry_err(
                    index,
                    e,
                    format!("expected a string, found data type {other}"),
                ))
            }
        }
        if e.count == 0 {
            return Err(Self::entry_err(index, e, "string entry with count 0"));
        }
        let one = Entry { count: 1, ..e };
        let strings = self.strings(index, one)?;
        Ok(strings
            .first()
            .map(|s| String::from_utf8_lossy(s).into_owned()))
    }

    /// A string array (STRING_ARRAY, or a single STRING treated as one item).
    fn string_array(&self, tag: u32) -> Result<Option<Vec<&'a [u8]>>, RpmDbError> {
        let Some((index, e)) = self.find(tag) else {
            return Ok(None);
        };
        match e.ty {
            TYPE_STRING_ARRAY | TYPE_I18NSTRING => {}
            TYPE_STRING if e.count == 1 => {}
            other => {
                return Err(Self::entry_err(
                    index,
                    e,
                    format!("expected a string array, found data type {other}"),
                ))
            }
        }
        Ok(Some(self.strings(index, e)?))
    }

    /// The big-endian INT32 values of an entry.
    fn u32_array(&self, tag: u32) -> Result<Option<Vec<u32>>, RpmDbError> {
        let Some((index, e)) = self.find(tag) else {
            return Ok(None);
        };
        if e.ty != TYPE_INT32 {
            return Err(Self::entry_err(
                index,
                e,
                format!("expected INT32, found data type {}", e.ty),
            ));
        }
        let rest = self.tail(index, e)?;
        let count = to_usize(e.count);
        if count > rest.len() / 4 {
            return Err(Self::entry_err(
                index,
                e,
                format!(
                    "{} INT32 values do not fit in the {} bytes left in the data store",
                    e.count,
                    rest.len()
                ),
            ));
        }
        Ok(Some(
            rest.chunks_exact(4)
                .take(count)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ))
    }

    /// The first INT32 value of an entry.
    fn u32(&self, tag: u32) -> Result<Option<u32>, RpmDbError> {
        let Some((index, e)) = self.find(tag) else {
            return Ok(None);
        };
        if e.ty != TYPE_INT32 || e.count == 0 {
            return Err(Self::entry_err(
                index,
                e,
                format!(
                    "expected INT32 with count >= 1, found type {} count {}",
                    e.ty, e.count
                ),
            ));
        }
        let rest = self.tail(index, e)?;
        Endian::Big
            .u32(rest, 0)
            .map(Some)
            .ok_or_else(|| Self::entry_err(index, e, "INT32 value runs past the data store"))
    }

    /// The first INT64 value of an entry.
    fn u64(&self, tag: u32) -> Result<Option<u64>, RpmDbError> {
        let Some((index, e)) = self.find(tag) else {
            return Ok(None);
        };
        if e.ty != TYPE_INT64 || e.count == 0 {
            return Err(Self::entry_err(
                index,
                e,
                format!(
                    "expected INT64 with count >= 1, found type {} count {}",
                    e.ty, e.count
                ),
            ));
        }
        let rest = self.tail(index, e)?;
        Endian::Big
            .u64(rest, 0)
            .map(Some)
            .ok_or_else(|| Self::entry_err(index, e, "INT64 value runs past the data store"))
    }
}

/// Parses one header blob into an [`RpmPackage`].
///
/// `path_budget` caps the total bytes of file paths that may be produced
/// (dirname + basename joins can amplify a small header); `files_used`
/// receives the bytes actually produced. Problems that only affect the file
/// list are reported through `warnings` and leave `files` empty; problems
/// with identity tags are errors.
pub(crate) fn parse_header_budgeted(
    blob: &[u8],
    warnings: &mut Vec<String>,
    path_budget: usize,
    files_used: &mut usize,
) -> Result<RpmPackage, RpmDbError> {
    let h = Header::parse(blob)?;
    let name = h.string(TAG_NAME)?.ok_or(RpmDbError::MissingTag("NAME"))?;
    let version = h
        .string(TAG_VERSION)?
        .ok_or(RpmDbError::MissingTag("VERSION"))?;
    let release = h
        .string(TAG_RELEASE)?
        .ok_or(RpmDbError::MissingTag("RELEASE"))?;
    let epoch = h.u32(TAG_EPOCH)?;
    let arch = h.string(TAG_ARCH)?;
    let source_rpm = h.string(TAG_SOURCERPM)?;
    let license = h.string(TAG_LICENSE)?;
    let vendor = h.string(TAG_VENDOR)?;
    let modularity_label = h.string(TAG_MODULARITYLABEL)?;
    // LONGSIZE (INT64) supersedes SIZE (INT32) for packages over 4 GiB.
    let size = match h.u64(TAG_LONGSIZE)? {
        Some(s) => Some(s),
        None => h.u32(TAG_SIZE)?.map(u64::from),
    };

    let mut files = Vec::new();
    *files_used = 0;
    if let Err(reason) = file_list(&h, path_budget, &mut files, files_used) {
        warnings.push(format!(
            "package {name}-{version}-{release}: file list omitted: {reason}"
        ));
        files = Vec::new();
        *files_used = 0;
    }

    Ok(RpmPackage {
        name,
        epoch,
        version,
        release,
        arch,
        source_rpm,
        license,
        vendor,
        size,
        modularity_label,
        files,
    })
}

/// Rebuilds installed paths. Modern headers store them compressed as
/// DIRNAMES (each ending in '/'), BASENAMES and DIRINDEXES (rpm
/// `rpmfiBuildFNames`: path\[i\] = dirnames\[dirindexes\[i\]\] + basenames\[i\]);
/// headers from rpm < 4.0 store full paths in OLDFILENAMES.
fn file_list(
    h: &Header<'_>,
    budget: usize,
    out: &mut Vec<String>,
    used: &mut usize,
) -> Result<(), String> {
    let mut push = |parts: &[&[u8]]| -> Result<(), String> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        *used = used.saturating_add(len);
        if *used > budget {
            return Err(format!("file paths exceed the {budget}-byte budget"));
        }
        let mut bytes = Vec::with_capacity(len);
        for p in parts {
            bytes.extend_from_slice(p);
        }
        out.push(match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        });
        Ok(())
    };
    let basenames = h.string_array(TAG_BASENAMES).map_err(|e| e.to_string())?;
    if let Some(basenames) = basenames {
        let dirnames = h
            .string_array(TAG_DIRNAMES)
            .map_err(|e| e.to_string())?
            .ok_or("BASENAMES present without DIRNAMES")?;
        let dirindexes = h
            .u32_array(TAG_DIRINDEXES)
            .map_err(|e| e.to_string())?
            .ok_or("BASENAMES present without DIRINDEXES")?;
        if dirindexes.len() != basenames.len() {
            return Err(format!(
                "{} BASENAMES but {} DIRINDEXES",
                basenames.len(),
                dirindexes.len()
            ));
        }
        for (base, &di) in basenames.iter().zip(&dirindexes) {
            let dir = dirnames.get(to_usize(di)).ok_or_else(|| {
                format!(
                    "DIRINDEXES value {di} out of range ({} DIRNAMES)",
                    dirnames.len()
                )
            })?;
            push(&[dir, base])?;
        }
    } else if let Some(old) = h
        .string_array(TAG_OLDFILENAMES)
        .map_err(|e| e.to_string())?
    {
        for p in old {
            push(&[p])?;
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A value for [`build_header`].
    pub(crate) enum Val<'a> {
        Str(&'a str),
        I18n(&'a [&'a str]),
        StrArray(&'a [&'a str]),
        Int32(&'a [u32]),
        Int64(u64),
    }

    /// Builds a header blob by hand, following the layout in the module
    /// docs. Entries are written in the order given.
    pub(crate) fn build_header(tags: &[(u32, Val<'_>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data: Vec<u8> = Vec::new();
        for (tag, val) in tags {
            let (ty, count, align) = match val {
                Val::Str(_) => (TYPE_STRING, 1, 1),
                Val::I18n(v) => (TYPE_I18NSTRING, v.len(), 1),
                Val::StrArray(v) => (TYPE_STRING_ARRAY, v.len(), 1),
                Val::Int32(v) => (TYPE_INT32, v.len(), 4),
                Val::Int64(_) => (TYPE_INT64, 1, 8),
            };
            while !data.len().is_multiple_of(align) {
                data.push(0);
            }
            let offset = data.len() as u32;
            match val {
                Val::Str(s) => {
                    data.extend_from_slice(s.as_bytes());
                    data.push(0);
                }
                Val::I18n(v) | Val::StrArray(v) => {
                    for s in *v {
                        data.extend_from_slice(s.as_bytes());
                        data.push(0);
                    }
                }
                Val::Int32(v) => {
                    for x in *v {
                        data.extend_from_slice(&x.to_be_bytes());
                    }
                }
                Val::Int64(x) => data.extend_from_slice(&x.to_be_bytes()),
            }
            for f in [*tag, ty, offset, count as u32] {
                index.extend_from_slice(&f.to_be_bytes());
            }
        }
        let mut blob = Vec::new();
        blob.extend_from_slice(&((tags.len()) as u32).to_be_bytes());
        blob.extend_from_slice(&(data.len() as u32).to_be_bytes());
        blob.extend_from_slice(&index);
        blob.extend_from_slice(&data);
        blob
    }

    /// A small but complete package header.
    pub(crate) fn sample_header(name: &str) -> Vec<u8> {
        build_header(&[
            (TAG_NAME, Val::Str(name)),
            (TAG_VERSION, Val::Str("1.0")),
            (TAG_RELEASE, Val::Str("2.el9")),
            (TAG_EPOCH, Val::Int32(&[7])),
            (TAG_SUMMARY_FOR_TESTS, Val::I18n(&["a summary"])),
            (TAG_SIZE, Val::Int32(&[1234])),
            (TAG_LICENSE, Val::Str("MIT")),
            (TAG_ARCH, Val::Str("x86_64")),
            (TAG_SOURCERPM, Val::Str("x-1.0-2.el9.src.rpm")),
            (TAG_DIRINDEXES, Val::Int32(&[0, 1, 1])),
            (TAG_BASENAMES, Val::StrArray(&["bin", "a", "b"])),
            (TAG_DIRNAMES, Val::StrArray(&["/usr/", "/usr/bin/"])),
        ])
    }

    const TAG_SUMMARY_FOR_TESTS: u32 = 1004;

    fn parse(blob: &[u8]) -> (Result<RpmPackage, RpmDbError>, Vec<String>) {
        let mut w = Vec::new();
        let mut used = 0;
        let r = parse_header_budgeted(blob, &mut w, usize::MAX, &mut used);
        (r, w)
    }

    #[test]
    fn parses_hand_built_header() {
        let (pkg, w) = parse(&sample_header("x"));
        let pkg = pkg.expect("valid header");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(pkg.name, "x");
        assert_eq!(pkg.epoch, Some(7));
        assert_eq!(pkg.version, "1.0");
        assert_eq!(pkg.release, "2.el9");
        assert_eq!(pkg.arch.as_deref(), Some("x86_64"));
        assert_eq!(pkg.source_rpm.as_deref(), Some("x-1.0-2.el9.src.rpm"));
        assert_eq!(pkg.license.as_deref(), Some("MIT"));
        assert_eq!(pkg.vendor, None);
        assert_eq!(pkg.size, Some(1234));
        assert_eq!(pkg.modularity_label, None);
        assert_eq!(pkg.files, ["/usr/bin", "/usr/bin/a", "/usr/bin/b"]);
    }

    #[test]
    fn accepts_package_file_intro_and_longsize_and_oldfilenames() {
        let mut blob = vec![0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0];
        blob.extend(build_header(&[
            (TAG_NAME, Val::Str("old")),
            (TAG_VERSION, Val::Str("1")),
            (TAG_RELEASE, Val::Str("1")),
            (TAG_SIZE, Val::Int32(&[5])),
            (TAG_LONGSIZE, Val::Int64(5_000_000_000)),
            (TAG_VENDOR, Val::I18n(&["Acme", "Acme (de)"])),
            (TAG_MODULARITYLABEL, Val::Str("perl:5.30:1:abc")),
            (TAG_OLDFILENAMES, Val::StrArray(&["/etc/old", "/bin/old"])),
        ]));
        let (pkg, w) = parse(&blob);
        let pkg = pkg.expect("valid header");
        assert!(w.is_empty());
        assert_eq!(pkg.size, Some(5_000_000_000));
        assert_eq!(pkg.vendor.as_deref(), Some("Acme"));
        assert_eq!(pkg.modularity_label.as_deref(), Some("perl:5.30:1:abc"));
        assert_eq!(pkg.files, ["/etc/old", "/bin/old"]);
        assert_eq!(pkg.epoch, None);
        assert_eq!(pkg.arch, None);
    }

    #[test]
    fn later_duplicate_tag_wins() {
        let blob = build_header(&[
            (TAG_NAME, Val::Str("first")),
            (TAG_VERSION, Val::Str("1")),
            (TAG_RELEASE, Val::Str("1")),
            (TAG_NAME, Val::Str("second")),
        ]);
        assert_eq!(parse(&blob).0.expect("valid").name, "second");
    }

    #[test]
    fn every_truncation_is_a_clean_error() {
        let blob = sample_header("x");
        for len in 0..blob.len() {
            let (r, _) = parse(&blob[..len]);
            assert!(r.is_err(), "truncated to {len} bytes should fail");
        }
        assert!(matches!(
            parse(&blob[..5]).0,
            Err(RpmDbError::HeaderTruncated { needed: 8, .. })
        ));
    }

    #[test]
    fn huge_counts_are_rejected_without_allocating() {
        let mut blob = sample_header("x");
        blob[..4].copy_from_slice(&0xffff_ffffu32.to_be_bytes());
        assert!(matches!(
            parse(&blob).0,
            Err(RpmDbError::HeaderTooManyEntries {
                count: 0xffff_ffff,
                ..
            })
        ));
        let mut blob = sample_header("x");
        blob[4..8].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
        assert!(matches!(
            parse(&blob).0,
            Err(RpmDbError::HeaderDataTooLarge { .. })
        ));
        // A string array whose count is absurd: file list omitted, package kept.
        let mut blob = sample_header("x");
        // Entry 10 is BASENAMES; its count field is at 8 + 16*10 + 12.
        let at = 8 + 16 * 10 + 12;
        blob[at..at + 4].copy_from_slice(&0x4000_0000u32.to_be_bytes());
        let (pkg, w) = parse(&blob);
        let pkg = pkg.expect("identity tags are intact");
        assert!(pkg.files.is_empty());
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("cannot fit"), "{w:?}");
    }

    #[test]
    fn bad_offsets_and_types_are_errors() {
        // NAME offset beyond the data store.
        let mut blob = sample_header("x");
        blob[8 + 8..8 + 12].copy_from_slice(&0x00ff_0000u32.to_be_bytes());
        let err = parse(&blob).0.expect_err("bad offset");
        assert!(err.to_string().contains("outside"), "{err}");
        // NAME declared as INT32.
        let mut blob = sample_header("x");
        blob[8 + 4..8 + 8].copy_from_slice(&TYPE_INT32.to_be_bytes());
        let err = parse(&blob).0.expect_err("bad type");
        assert!(err.to_string().contains("tag 1000"), "{err}");
        // Missing NAME.
        let blob = build_header(&[(TAG_VERSION, Val::Str("1"))]);
        assert!(matches!(
            parse(&blob).0,
            Err(RpmDbError::MissingTag("NAME"))
        ));
        // Unterminated string at the end of the data store.
        let mut blob = build_header(&[
            (TAG_NAME, Val::Str("n")),
            (TAG_VERSION, Val::Str("1")),
            (TAG_RELEASE, Val::Str("1")),
        ]);
        let last = blob.len() - 1;
        blob[last] = b'x';
        let err = parse(&blob).0.expect_err("unterminated");
        assert!(err.to_string().contains("NUL"), "{err}");
    }

    #[test]
    fn inconsistent_file_list_is_a_warning() {
        let blob = build_header(&[
            (TAG_NAME, Val::Str("n")),
            (TAG_VERSION, Val::Str("1")),
            (TAG_RELEASE, Val::Str("1")),
            (TAG_DIRINDEXES, Val::Int32(&[0, 9])),
            (TAG_BASENAMES, Val::StrArray(&["a", "b"])),
            (TAG_DIRNAMES, Val::StrArray(&["/"])),
        ]);
        let (pkg, w) = parse(&blob);
        assert!(pkg.expect("kept").files.is_empty());
        assert!(w[0].contains("out of range"), "{w:?}");
    }

    #[test]
    fn file_path_budget_is_enforced() {
        let long_dir = format!("/{}/", "d".repeat(1000));
        let bases: Vec<String> = (0..100).map(|i| format!("f{i}")).collect();
        let base_refs: Vec<&str> = bases.iter().map(String::as_str).collect();
        let blob = build_header(&[
            (TAG_NAME, Val::Str("n")),
            (TAG_VERSION, Val::Str("1")),
            (TAG_RELEASE, Val::Str("1")),
            (TAG_DIRINDEXES, Val::Int32(&[0; 100])),
            (TAG_BASENAMES, Val::StrArray(&base_refs)),
            (TAG_DIRNAMES, Val::StrArray(&[&long_dir])),
        ]);
        let mut w = Vec::new();
        let mut used = 0;
        let pkg = parse_header_budgeted(&blob, &mut w, 10_000, &mut used).expect("kept");
        assert!(pkg.files.is_empty());
        assert_eq!(used, 0);
        assert!(w[0].contains("budget"), "{w:?}");
    }
}
