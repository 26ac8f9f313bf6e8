//! Building blocks for the catalogers that implement [`Analyzer`](crate::analyzer::Analyzer)
//! by hand (`go`, `rust`, `java`, `dotnet`): a bare language package, plausibility checks
//! on names and versions read from untrusted files, and bounded reads of a file's content
//! whichever form the walker hands it in.

use std::borrow::Cow;

use holdfast_model::{DependencyScope, Package, PackageType};

use crate::analyzer::{EntryKind, EntryMeta, FileContent};

/// The largest text file (lock file, manifest) read when the content comes as a stream;
/// the walker normally hands such files over as bytes, already bounded by its own limit.
pub(crate) const MAX_TEXT_BYTES: u64 = 64 << 20;

/// A language package as these catalogers report it: no OS fields, no layer
/// (the merge sets it), the path of the file it was read from.
pub(crate) fn lang_package(
    package_type: PackageType,
    name: &str,
    version: &str,
    purl: String,
    ecosystem: Option<&str>,
    scope: Option<DependencyScope>,
    path: &str,
) -> Package {
    Package {
        id: String::new(),
        name: name.to_string(),
        version: version.to_string(),
        package_type,
        purl,
        source_name: None,
        source_version: None,
        arch: None,
        epoch: None,
        licenses: Vec::new(),
        vendor: None,
        ecosystem: ecosystem.map(str::to_string),
        scope,
        layer: None,
        path: path.to_string(),
        owner: None,
        digests: Vec::new(),
        evidence: None,
    }
}

/// Whether an entry is a regular file with an execute bit: a candidate binary.
pub(crate) fn is_executable(meta: &EntryMeta) -> bool {
    meta.kind == EntryKind::File && meta.mode & 0o111 != 0
}

/// The content as bytes: borrowed when the walker read the file, otherwise read from the
/// stream up to `limit` bytes. `None` when the stream holds more than `limit` bytes.
pub(crate) fn load<'a>(
    content: &mut FileContent<'a>,
    limit: u64,
) -> std::io::Result<Option<Cow<'a, [u8]>>> {
    match content.bytes_up_to(limit.saturating_add(1))? {
        Cow::Owned(read) if read.len() as u64 > limit => Ok(None),
        bytes => Ok(Some(bytes)),
    }
}

/// A version string that can be reported: non-empty, printable, without whitespace, of
/// a sane length. Guards every version read from untrusted files.
pub(crate) fn plausible_version(v: &str) -> bool {
    !v.is_empty() && v.len() <= 256 && v.chars().all(|c| c.is_ascii_graphic())
}

/// A package name that can be reported: non-empty, printable, of a sane length.
pub(crate) fn plausible_name(n: &str) -> bool {
    !n.is_empty() && n.len() <= 512 && !n.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_bounds_streams() {
        let data = vec![7u8; 100];
        let mut r: &[u8] = &data;
        let mut c = FileContent::Stream(&mut r);
        assert!(load(&mut c, 99).unwrap().is_none());
        let mut r: &[u8] = &data;
        let mut c = FileContent::Stream(&mut r);
        assert_eq!(load(&mut c, 100).unwrap().unwrap().len(), 100);
        let mut c = FileContent::Bytes(&data);
        assert!(matches!(load(&mut c, 1).unwrap(), Some(Cow::Borrowed(_))));
    }

    #[test]
    fn names_and_versions() {
        assert!(plausible_version("v1.2.3+incompatible"));
        assert!(!plausible_version("1 2"));
        assert!(!plausible_version(""));
        assert!(plausible_name("github.com/foo/bar"));
        assert!(!plausible_name("a\tb"));
    }
}
