//! From a source's layers to facts: the single walk per layer, the layer cache, the merge,
//! and the catalogers that turn files into packages.
//!
//! [`analyze`] is the whole pipeline: look up each layer in the cache by diff_id, have the
//! source stream the missing ones to the walker (in parallel where the source allows),
//! store verified results, merge bottom to top, then finish the facts that need the whole
//! image (the OS, package purls, licenses, the layer that introduced each package).

pub mod analyzer;
pub mod apk;
mod control;
pub mod dpkg;
pub mod file_caps;
mod finish;
mod lang_binary;
mod lang_text;
mod layer;
pub mod merge;
pub mod os;
pub mod registry;
mod rpm;
pub mod walker;

use std::sync::Mutex;

use holdfast_model::{LayerInfo, OsRelease, Package, Warning};
use holdfast_source::{ImageMetadata, LayerCache, LayerStream, LayerVisit, Source};

pub use analyzer::{Analyzer, AnalyzerGroup};
pub use layer::LayerAnalysis;
pub use merge::MergedFs;
pub use walker::WalkLimits;

/// Version of the walker and of the cached [`LayerAnalysis`] shape; part of the cache key.
pub const WALKER_VERSION: u32 = 3;

/// How to run an analysis.
#[derive(Default)]
pub struct AnalyzeOptions {
    /// Where layer results are cached; `None` disables the cache.
    pub cache: Option<LayerCache>,
    pub limits: WalkLimits,
}

/// What the analysis of one target found.
pub struct ImageFacts {
    pub metadata: ImageMetadata,
    pub os: Option<OsRelease>,
    pub packages: Vec<Package>,
    pub layers: Vec<LayerInfo>,
    pub warnings: Vec<Warning>,
    pub fs: MergedFs,
    /// Layers served from the cache, and layers read.
    pub cached_layers: usize,
    pub read_layers: usize,
}

/// Analyzes every layer of a source and merges the results.
pub fn analyze(
    source: &dyn Source,
    analyzers: &[Box<dyn Analyzer>],
    options: &AnalyzeOptions,
) -> ImageFacts {
    let metadata = source.metadata().clone();
    let n = metadata.layers.len();
    let set_key = registry::set_key(analyzers);
    let refs: Vec<&dyn Analyzer> = analyzers.iter().map(|a| a.as_ref()).collect();
    let mut warnings: Vec<Warning> = metadata
        .warnings
        .iter()
        .map(|w| Warning::general(None, w.clone()))
        .collect();

    let mut results: Vec<Option<LayerAnalysis>> = vec![None; n];
    let mut cached_layers = 0;
    if let Some(cache) = &options.cache {
        for (i, layer) in metadata.layers.iter().enumerate() {
            let Some(diff_id) = &layer.diff_id else {
                continue;
            };
            let hit = cache
                .get(&set_key, diff_id)
                .and_then(|bytes| serde_json::from_slice::<LayerAnalysis>(&bytes).ok());
            if let Some(hit) = hit {
                results[i] = Some(hit);
                cached_layers += 1;
            }
        }
    }
    let missing: Vec<usize> = (0..n).filter(|&i| results[i].is_none()).collect();
    let walked: Mutex<Vec<(Option<usize>, LayerAnalysis)>> = Mutex::new(Vec::new());
    let visit = |v: LayerVisit<'_>| {
        let analysis = match v.stream {
            LayerStream::Tar(reader) => walker::walk_tar(reader, &refs, options.limits),
            LayerStream::Directory(dir) => walker::walk_dir(dir, &refs, options.limits),
        };
        walked
            .lock()
            .expect("no panics while holding the lock")
            .push((v.index, analysis));
    };
    let open_errors = if missing.is_empty() {
        Vec::new()
    } else {
        source.stream_layers(&missing, &visit)
    };
    let read_layers = missing.len();
    for e in open_errors {
        let layer = e
            .index
            .and_then(|i| metadata.layers.get(i))
            .and_then(|l| l.diff_id.as_deref());
        warnings.push(Warning::general(
            layer,
            format!("layer not scanned: {}", e.error),
        ));
    }
    for (index, analysis) in walked.into_inner().expect("lock not poisoned") {
        let index = index.or_else(|| {
            let computed = analysis.diff_id.as_deref()?;
            metadata
                .layers
                .iter()
                .position(|l| l.diff_id.as_deref() == Some(computed))
        });
        let Some(index) = index else {
            warnings.push(Warning::general(
                analysis.diff_id.as_deref(),
                "a layer in the stream matches no diff_id of the image config; ignored",
            ));
            continue;
        };
        let claimed = metadata.layers[index].diff_id.as_deref();
        match (claimed, analysis.diff_id.as_deref()) {
            (Some(c), Some(a)) if c == a => {
                if let Some(cache) = &options.cache {
                    if let Ok(bytes) = serde_json::to_vec(&analysis) {
                        if let Err(e) = cache.put(&set_key, c, &bytes) {
                            tracing::warn!("layer cache: {e}");
                        }
                    }
                }
            }
            (Some(c), Some(a)) => warnings.push(Warning::general(
                Some(c),
                format!("layer content hashes to {a}, not to the diff_id the config gives; result not cached"),
            )),
            _ => {}
        }
        results[index] = Some(analysis);
    }
    let layers: Vec<LayerAnalysis> = results.into_iter().map(Option::unwrap_or_default).collect();
    finish::finish(metadata, layers, warnings, cached_layers, read_layers)
}
