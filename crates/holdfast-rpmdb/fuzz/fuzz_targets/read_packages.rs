//! Fuzz target: arbitrary bytes into every rpm database backend.
//!
//! The first input byte picks what is exercised; the rest is the database.
//! For the three backends the magic number is written over the input first,
//! so the fuzzer spends its time past the magic check:
//!
//! * 0: `detect_kind` + `read_packages` with whatever kind is detected, and
//!   `parse_header` on the raw bytes;
//! * 1: Berkeley DB hash (magic `0x061561` at offset 12, little-endian);
//! * 2: NDB (`RpmP` at offset 0);
//! * 3: SQLite (`SQLite format 3\0` at offset 0; goes through a temp file).
//!
//! Any panic, overflow, hang or excessive allocation is a bug: the reader
//! must turn every input into `Ok` (with warnings) or `Err`.
#![no_main]

use holdfast_rpmdb::{detect_kind, parse_header, read_packages, RpmDbKind};
use libfuzzer_sys::fuzz_target;

/// Copies `rest` and writes `magic` at `at`, growing the buffer if needed.
fn with_magic(rest: &[u8], at: usize, magic: &[u8]) -> Vec<u8> {
    let mut v = rest.to_vec();
    if v.len() < at + magic.len() {
        v.resize(at + magic.len(), 0);
    }
    v[at..at + magic.len()].copy_from_slice(magic);
    v
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => {
            if let Some(kind) = detect_kind(rest) {
                let _ = read_packages(kind, rest);
            }
            let _ = parse_header(rest, &mut Vec::new());
        }
        1 => {
            let db = with_magic(rest, 12, &0x0006_1561u32.to_le_bytes());
            let _ = read_packages(RpmDbKind::BerkeleyDb, &db);
        }
        2 => {
            let db = with_magic(rest, 0, b"RpmP");
            let _ = read_packages(RpmDbKind::Ndb, &db);
        }
        _ => {
            let db = with_magic(rest, 0, b"SQLite format 3\0");
            let _ = read_packages(RpmDbKind::Sqlite, &db);
        }
    }
});
