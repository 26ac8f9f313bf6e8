//! Arbitrary bytes as up to four layer tars (split at `\0LAYER\0`), materialised into a
//! fresh directory. Whatever the bytes, nothing may be written outside it: the canary
//! directory beside it (which a seed's absolute symlinks point at) stays empty, and the
//! staging directory is gone afterwards.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use holdfast_source::{
    ImageMetadata, LayerInfo, LayerOpenError, LayerStream, LayerVisit, LayerVisitor, Source,
    TargetKind,
};
use libfuzzer_sys::fuzz_target;

/// The canary: seeds hold symlinks to this absolute path.
const CANARY: &str = "/tmp/holdfast-fuzz-canary";

struct Layers {
    metadata: ImageMetadata,
    layers: Vec<Vec<u8>>,
}

impl Source for Layers {
    fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }

    fn stream_layers(&self, indexes: &[usize], visit: &LayerVisitor<'_>) -> Vec<LayerOpenError> {
        for &i in indexes {
            let mut reader = Cursor::new(&self.layers[i][..]);
            visit(LayerVisit {
                index: Some(i),
                stream: LayerStream::Tar(&mut reader),
            });
        }
        Vec::new()
    }
}

fn split(data: &[u8]) -> Vec<Vec<u8>> {
    let sep = b"\0LAYER\0";
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() < 3 {
        match rest.windows(sep.len()).position(|w| w == sep) {
            Some(at) => {
                out.push(rest[..at].to_vec());
                rest = &rest[at + sep.len()..];
            }
            None => break,
        }
    }
    out.push(rest.to_vec());
    out
}

fn empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).map(|mut d| d.next().is_none()).unwrap_or(true)
}

fuzz_target!(|data: &[u8]| {
    let layers = split(data);
    let mut metadata = ImageMetadata::new("fuzz", TargetKind::Image);
    metadata.layers = layers.iter().map(|_| LayerInfo::default()).collect();
    let source = Layers { metadata, layers };
    std::fs::create_dir_all(CANARY).unwrap();
    let parent = tempfile::tempdir().unwrap();
    let dest = parent.path().join("rootfs");
    std::fs::create_dir(&dest).unwrap();
    let options = holdfast_rootfs::MaterializeOptions {
        max_total_bytes: 64 << 20,
        max_entries: 100_000,
    };
    let _ = holdfast_rootfs::materialize(&source, &dest, &options);
    assert!(empty(Path::new(CANARY)), "something was written outside the destination");
    let left: Vec<_> = std::fs::read_dir(parent.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("rootfs")], "staging left behind");
});
