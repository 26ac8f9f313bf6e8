//! Random access to the files inside an image archive or layout.
//!
//! A `docker save` tarball or an OCI archive is indexed once (entry headers only, seeking
//! over contents), after which any member can be opened as a byte range of the file, from
//! any thread, with its own file handle. A directory layout offers the same interface.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::path::normalize;
use crate::SourceError;

/// Metadata files (manifests, configs, indexes) are read whole; bound them.
pub const MAX_METADATA_BYTES: u64 = 64 << 20;

/// Where an image's members are stored.
pub enum BlobStore {
    /// Members of a tar file, by normalized name → (data offset, size).
    Tar {
        file: PathBuf,
        members: HashMap<String, (u64, u64)>,
    },
    /// Files below a directory.
    Dir { root: PathBuf },
}

impl BlobStore {
    /// Indexes the members of a tar file without reading their contents.
    pub fn index_tar(file: &Path) -> Result<Self, SourceError> {
        let f = File::open(file).map_err(|e| SourceError::io(file, e))?;
        let mut archive = tar::Archive::new(f);
        let mut members = HashMap::new();
        let mut links = Vec::new();
        let entries = archive
            .entries_with_seek()
            .map_err(|e| SourceError::io(file, e))?;
        for entry in entries {
            let entry = entry
                .map_err(|e| SourceError::bad(file.display().to_string(), "image archive", e))?;
            let raw = entry.path_bytes().into_owned();
            let Some(name) = normalize(&raw).map(|p| p.trim_start_matches('/').to_string()) else {
                continue;
            };
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    members.insert(name, (entry.raw_file_position(), entry.size()));
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    // `docker save` links a layer shared by two images to its first copy.
                    if let Some(target) = entry.link_name_bytes().map(|t| t.into_owned()) {
                        links.push((name, target, entry.header().entry_type()));
                    }
                }
                _ => {}
            }
        }
        for (name, target, kind) in links {
            let resolved = if kind == tar::EntryType::Symlink {
                let dir = name.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                let mut joined = dir.as_bytes().to_vec();
                joined.push(b'/');
                joined.extend_from_slice(&target);
                normalize(&joined)
            } else {
                normalize(&target)
            };
            if let Some(r) = resolved.map(|p| p.trim_start_matches('/').to_string()) {
                if let Some(range) = members.get(&r).copied() {
                    members.insert(name, range);
                }
            }
        }
        Ok(BlobStore::Tar {
            file: file.to_path_buf(),
            members,
        })
    }

    /// A human name for error messages.
    pub fn container_name(&self) -> String {
        match self {
            BlobStore::Tar { file, .. } => file.display().to_string(),
            BlobStore::Dir { root } => root.display().to_string(),
        }
    }

    /// Whether a member exists.
    pub fn contains(&self, name: &str) -> bool {
        match self {
            BlobStore::Tar { members, .. } => members.contains_key(name),
            BlobStore::Dir { root } => root.join(name).is_file(),
        }
    }

    /// A member's stored size, if it exists.
    pub fn size(&self, name: &str) -> Option<u64> {
        match self {
            BlobStore::Tar { members, .. } => members.get(name).map(|(_, size)| *size),
            BlobStore::Dir { root } => std::fs::symlink_metadata(root.join(name))
                .ok()
                .map(|m| m.len()),
        }
    }

    /// Opens a member for reading, with its size.
    pub fn open(&self, name: &str) -> Result<(Box<dyn Read + Send>, u64), SourceError> {
        match self {
            BlobStore::Tar { file, members } => {
                let (offset, size) =
                    *members.get(name).ok_or_else(|| SourceError::MissingBlob {
                        name: name.to_string(),
                        container: file.display().to_string(),
                    })?;
                let mut f = File::open(file).map_err(|e| SourceError::io(file, e))?;
                f.seek(SeekFrom::Start(offset))
                    .map_err(|e| SourceError::io(file, e))?;
                Ok((Box::new(f.take(size)), size))
            }
            BlobStore::Dir { root } => {
                // Member names come from image metadata: refuse anything that is not a
                // plain relative path, so a manifest cannot point outside the layout.
                let clean = normalize(name.as_bytes())
                    .map(|p| p.trim_start_matches('/').to_string())
                    .filter(|p| p == name)
                    .ok_or_else(|| {
                        SourceError::bad(name, "blob name", "not a plain relative path")
                    })?;
                let path = root.join(&clean);
                let meta = std::fs::symlink_metadata(&path).map_err(|e| match e.kind() {
                    io::ErrorKind::NotFound => SourceError::MissingBlob {
                        name: name.to_string(),
                        container: root.display().to_string(),
                    },
                    _ => SourceError::io(&path, e),
                })?;
                if !meta.is_file() {
                    return Err(SourceError::bad(
                        path.display().to_string(),
                        "blob",
                        "not a regular file",
                    ));
                }
                let f = File::open(&path).map_err(|e| SourceError::io(&path, e))?;
                Ok((Box::new(f), meta.len()))
            }
        }
    }

    /// Reads a small member (a manifest, a config) whole.
    pub fn read_small(&self, name: &str) -> Result<Vec<u8>, SourceError> {
        let (reader, size) = self.open(name)?;
        if size > MAX_METADATA_BYTES {
            return Err(SourceError::bad(
                name,
                "metadata file",
                format!("{size} bytes is more than the {MAX_METADATA_BYTES}-byte limit"),
            ));
        }
        let mut buf = Vec::with_capacity(size as usize);
        reader
            .take(MAX_METADATA_BYTES)
            .read_to_end(&mut buf)
            .map_err(|e| SourceError::io(name, e))?;
        Ok(buf)
    }
}

/// The blob path of a digest in an OCI layout: `blobs/ALG/HEX`, after checking that the
/// digest has the `alg:hex` shape (it comes from the image and must not climb directories).
pub fn blob_path(digest: &str) -> Result<String, SourceError> {
    let (alg, hex) = digest
        .split_once(':')
        .ok_or_else(|| SourceError::bad(digest, "digest", "expected ALGORITHM:HEX"))?;
    let alg_ok = !alg.is_empty()
        && alg
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b));
    let hex_ok = !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if !alg_ok || !hex_ok || alg.starts_with('.') {
        return Err(SourceError::bad(digest, "digest", "expected ALGORITHM:HEX"));
    }
    Ok(format!("blobs/{alg}/{hex}"))
}

#[cfg(test)]
mod tests {
    use super::blob_path;

    #[test]
    fn digests_cannot_climb() {
        assert_eq!(blob_path("sha256:ab12").unwrap(), "blobs/sha256/ab12");
        assert!(blob_path("sha256:../../etc/passwd").is_err());
        assert!(blob_path("../x:ab").is_err());
        assert!(blob_path("nocolon").is_err());
    }
}
