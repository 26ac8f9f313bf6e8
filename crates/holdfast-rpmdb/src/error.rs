//! Error type shared by every backend and by the RPM header parser.
//!
//! Errors that make a whole database unreadable (wrong magic, a metadata page
//! that cannot be trusted, SQLite refusing to open the file) are returned as
//! `Err(RpmDbError)` from [`crate::read_packages`]. Errors confined to one
//! record (one header blob, one overflow chain, one NDB slot) are rendered
//! with `Display` and pushed to [`crate::RpmDbRead::warnings`] instead, so a
//! single damaged package never hides the rest of the database.

use crate::RpmDbKind;

/// Everything that can go wrong while reading an rpm database.
///
/// Every variant names the structure that was wrong and, where there is one,
/// the page / slot / entry number, so a warning such as
/// `page 17 points past end of file (16384 bytes)` can be acted upon.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpmDbError {
    /// The bytes do not carry the magic number of the requested backend.
    #[error("input is not a {expected:?} rpm database (magic number not found)")]
    WrongMagic {
        /// The backend the caller asked for.
        expected: RpmDbKind,
    },

    /// Writing the temporary copy of an SQLite database failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done when the I/O error happened.
        context: String,
        /// The underlying operating-system error.
        #[source]
        source: std::io::Error,
    },

    /// SQLite reported an error while opening or querying `rpmdb.sqlite`.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),

    /// `rpmdb.sqlite` opened, but its schema is not the one rpm writes.
    #[error("rpmdb.sqlite schema: {0}")]
    SqliteSchema(String),

    /// The Berkeley DB metadata page (page 0) is unusable.
    #[error("Berkeley DB metadata page: {0}")]
    BdbMeta(String),

    /// A page number taken from the file lies beyond the end of the file.
    #[error("page {page} points past end of file ({file_len} bytes)")]
    PagePastEnd {
        /// The offending page number.
        page: u32,
        /// Length of the input in bytes.
        file_len: usize,
    },

    /// A Berkeley DB page is malformed.
    #[error("Berkeley DB page {page}: {reason}")]
    BdbPage {
        /// The page number.
        page: u32,
        /// What was wrong with it.
        reason: String,
    },

    /// An overflow chain came back to a page it already visited.
    #[error("overflow chain starting at page {start} revisits page {page} (cycle)")]
    OverflowCycle {
        /// First page of the chain.
        start: u32,
        /// The page seen twice.
        page: u32,
    },

    /// An overflow page is claimed by two different chains.
    #[error(
        "overflow page {page} (chain starting at page {start}) already belongs to another chain"
    )]
    OverflowPageShared {
        /// First page of the chain being read.
        start: u32,
        /// The page that was already used.
        page: u32,
    },

    /// An overflow item claims more bytes than any rpm header can hold.
    #[error(
        "overflow item starting at page {start} claims {len} bytes, above the {max}-byte limit"
    )]
    OverflowTooLong {
        /// First page of the chain.
        start: u32,
        /// Claimed total length.
        len: u32,
        /// The limit that was exceeded.
        max: usize,
    },

    /// An overflow chain ended before delivering the announced length.
    #[error("overflow chain starting at page {start} ended after {got} of {expected} bytes")]
    OverflowShort {
        /// First page of the chain.
        start: u32,
        /// Announced total length.
        expected: u32,
        /// Bytes actually found.
        got: usize,
    },

    /// The NDB file header (first 32 bytes) is unusable.
    #[error("NDB header: {0}")]
    NdbHeader(String),

    /// An NDB slot entry is malformed.
    #[error("NDB slot {slot}: {reason}")]
    NdbSlot {
        /// Slot number, counting from the start of the file in 16-byte units.
        slot: u32,
        /// What was wrong with it.
        reason: String,
    },

    /// An NDB blob (header + package header + tail) is malformed.
    #[error("NDB blob of package index {pkgidx}: {reason}")]
    NdbBlob {
        /// The package index recorded in the slot.
        pkgidx: u32,
        /// What was wrong with it.
        reason: String,
    },

    /// The rpm header blob is shorter than its own index/data lengths claim.
    #[error("rpm header needs {needed} bytes but the blob has only {available}")]
    HeaderTruncated {
        /// Bytes required by the header's own length fields.
        needed: u64,
        /// Bytes available.
        available: usize,
    },

    /// The rpm header claims more index entries than rpm itself accepts.
    #[error("rpm header claims {count} index entries (limit {max})")]
    HeaderTooManyEntries {
        /// Claimed index entry count.
        count: u32,
        /// The limit.
        max: u32,
    },

    /// The rpm header claims a data store larger than rpm itself accepts.
    #[error("rpm header claims a {len}-byte data store (limit {max})")]
    HeaderDataTooLarge {
        /// Claimed data length.
        len: u32,
        /// The limit.
        max: u32,
    },

    /// One index entry of an rpm header is malformed.
    #[error("rpm header entry {index} (tag {tag}): {reason}")]
    HeaderEntry {
        /// Position of the entry in the index.
        index: usize,
        /// The entry's tag number.
        tag: u32,
        /// What was wrong with it.
        reason: String,
    },

    /// The rpm header lacks a tag every package must have.
    #[error("rpm header lacks required tag {0}")]
    MissingTag(&'static str),
}
