//! Unit-test scaffolding for the content scanners (secrets, malware): one file handed
//! straight to an analyzer, without a layer walk.

use holdfast_analyze::analyzer::{EntryKind, EntryMeta, FileContent, FileFact, FileInput};
use holdfast_analyze::Analyzer;

/// A regular 0644 file of `size` bytes.
pub fn file_meta(size: u64) -> EntryMeta {
    EntryMeta {
        kind: EntryKind::File,
        size,
        mode: 0o644,
        uid: 0,
        gid: 0,
        capabilities: None,
    }
}

/// `analyzer`'s facts for a file holding `bytes`, handed over as the walker reads it.
pub fn analyze_bytes(analyzer: &dyn Analyzer, path: &str, bytes: &[u8]) -> Vec<FileFact> {
    let meta = file_meta(bytes.len() as u64);
    let mut input = FileInput {
        path,
        meta: &meta,
        content: FileContent::Bytes(bytes),
    };
    analyzer.analyze(&mut input).unwrap()
}

/// `analyzer`'s facts for a file of `size` bytes handed over as an empty stream, as for a
/// file it asked to see only to report that it is over its bound.
pub fn analyze_unread(analyzer: &dyn Analyzer, path: &str, size: u64) -> Vec<FileFact> {
    let meta = file_meta(size);
    let mut empty = std::io::empty();
    let mut input = FileInput {
        path,
        meta: &meta,
        content: FileContent::Stream(&mut empty),
    };
    analyzer.analyze(&mut input).unwrap()
}

/// `analyzer`'s facts for a file of `size` bytes of which it is handed only `head`, the
/// first bytes, as the walker does for [`holdfast_analyze::analyzer::Want::Head`].
pub fn analyze_head(analyzer: &dyn Analyzer, path: &str, size: u64, head: &[u8]) -> Vec<FileFact> {
    let meta = file_meta(size);
    let mut input = FileInput {
        path,
        meta: &meta,
        content: FileContent::Bytes(head),
    };
    analyzer.analyze(&mut input).unwrap()
}
