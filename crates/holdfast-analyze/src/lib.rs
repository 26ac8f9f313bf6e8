//! From a source's layers to facts: the single walk per layer, the layer cache, the merge,
//! and the catalogers that turn files into packages.
//!
//! [`analyze`] is the whole pipeline: look up each layer in the cache by diff_id, have the
//! source stream the missing ones to the walker (in parallel where the source allows),
//! store verified results, merge bottom to top, then finish the facts that need the whole
//! image (the OS, package purls, licenses, the layer that introduced each package).

pub mod analyzer;
pub mod apk;
pub mod archive;
mod catalog;
mod control;
pub mod dpkg;
pub mod file_caps;
mod finish;
mod hashing;
mod layer;
pub mod merge;
pub mod os;
pub mod registry;
mod rpm;
#[cfg(test)]
mod test_io;
pub mod walker;

// Language catalogers, one module per ecosystem; `catalog` holds what they share.
mod dotnet;
mod go;
mod java;
mod node;
mod php;
mod python;
mod ruby;
mod rust;

use std::sync::Mutex;

use holdfast_model::{LayerInfo, OsRelease, Package, Warning, WarningKind};
use holdfast_source::{ImageMetadata, LayerCache, LayerStream, LayerVisit, Source};

pub use analyzer::{Analyzer, AnalyzerGroup};
pub use layer::{AnalyzerTiming, LayerAnalysis, LayerWarning, WalkTimings};
pub use merge::MergedFs;
pub use walker::WalkLimits;

/// Version of the walker and of the cached [`LayerAnalysis`] shape; part of the cache key.
/// 4: layer warnings carry a [`holdfast_model::WarningKind`] ([`LayerWarning`]).
/// 5: warnings from [`analyzer::FileFact::Skipped`] keep the kind the analyzer gave
/// (they were all `Other`), and analyzers may ask for a file's head
/// ([`analyzer::Want::Head`]).
pub const WALKER_VERSION: u32 = 5;

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
        .map(|w| Warning::general(WarningKind::Other, None, w.clone()))
        .collect();

    let mut results: Vec<Option<LayerAnalysis>> = vec![None; n];
    // Each layer's cache key, worked out once: a layer the config names no diff_id for
    // may still be known by its blob digest, which costs a read of the blob index.
    let keys: Vec<Option<String>> = match &options.cache {
        Some(cache) => metadata
            .layers
            .iter()
            .map(|layer| {
                layer
                    .diff_id
                    .clone()
                    .or_else(|| cache.diff_id_for_blob(layer.digest.as_deref()?))
            })
            .collect(),
        None => vec![None; n],
    };
    let lookup = |i: usize| -> Option<LayerAnalysis> {
        let cache = options.cache.as_ref()?;
        let bytes = cache.get(&set_key, keys[i].as_deref()?)?;
        serde_json::from_slice::<LayerAnalysis>(&bytes).ok()
    };
    // Fills a layer's slot from the cache; whether it was there.
    let mut cached_layers = 0;
    let mut from_cache = |i: usize, results: &mut [Option<LayerAnalysis>]| -> bool {
        let Some(hit) = lookup(i) else {
            return false;
        };
        results[i] = Some(hit);
        cached_layers += 1;
        true
    };
    for i in 0..n {
        from_cache(i, &mut results);
    }
    // Claim the missing layers so that a concurrent scan of the same layer (this process
    // or another) waits for our result instead of downloading and walking it again.
    let mut mine = Vec::new();
    let mut busy = Vec::new();
    let mut claims = Vec::new();
    let missing: Vec<usize> = (0..n).filter(|&i| results[i].is_none()).collect();
    for i in missing {
        match (&options.cache, keys[i].as_deref()) {
            (Some(cache), Some(key)) => match cache.claim(&set_key, key) {
                // Another scan may have finished the layer since the lookup above.
                Ok(Some(c)) => {
                    if !from_cache(i, &mut results) {
                        claims.push(c);
                        mine.push(i);
                    }
                }
                Ok(None) => busy.push(i),
                Err(e) => {
                    tracing::debug!("layer cache claim: {e}");
                    mine.push(i);
                }
            },
            _ => mine.push(i),
        }
    }
    let mut read_layers = 0;
    let mut round = |indexes: &[usize], results: &mut Vec<Option<LayerAnalysis>>| {
        read_layers += indexes.len();
        stream_and_store(
            source,
            indexes,
            &refs,
            options,
            &set_key,
            &metadata,
            results,
            &mut warnings,
        );
    };
    round(&mine, &mut results);
    drop(claims);
    // The layers another scan was analysing: wait for it, then take its result; if it
    // failed, analyse them here.
    let mut again = Vec::new();
    let mut claims = Vec::new();
    for i in busy {
        let claim = match (&options.cache, keys[i].as_deref()) {
            (Some(cache), Some(key)) => cache.wait_claim(&set_key, key).ok(),
            _ => None,
        };
        if !from_cache(i, &mut results) {
            claims.extend(claim);
            again.push(i);
        }
    }
    if !again.is_empty() {
        round(&again, &mut results);
    }
    drop(claims);
    let layers: Vec<LayerAnalysis> = results.into_iter().map(Option::unwrap_or_default).collect();
    finish::finish(metadata, layers, warnings, cached_layers, read_layers)
}

/// Streams the given layers from the source through the walker and stores the verified
/// results in the cache. A layer the source reports as failed (missing blob, digest
/// mismatch) is neither kept nor cached, even if its walk finished.
#[allow(clippy::too_many_arguments)]
fn stream_and_store(
    source: &dyn Source,
    indexes: &[usize],
    refs: &[&dyn Analyzer],
    options: &AnalyzeOptions,
    set_key: &str,
    metadata: &ImageMetadata,
    results: &mut [Option<LayerAnalysis>],
    warnings: &mut Vec<Warning>,
) {
    if indexes.is_empty() {
        return;
    }
    let walked: Mutex<Vec<(Option<usize>, LayerAnalysis)>> = Mutex::new(Vec::new());
    let visit = |v: LayerVisit<'_>| {
        let analysis = match v.stream {
            LayerStream::Tar(reader) => walker::walk_tar(reader, refs, options.limits),
            LayerStream::Directory(dir) => walker::walk_dir(dir, refs, options.limits),
        };
        tracing::debug!(target: "holdfast::fleet", diff_id = ?analysis.diff_id, "layer analysed");
        tracing::debug!(
            diff_id = ?analysis.diff_id,
            "layer walk: {}",
            analysis.timings.summary()
        );
        walked
            .lock()
            .expect("no panics while holding the lock")
            .push((v.index, analysis));
    };
    let open_errors = source.stream_layers(indexes, &visit);
    if tracing::enabled!(tracing::Level::DEBUG) {
        let mut total = layer::WalkTimings::default();
        for (_, analysis) in walked
            .lock()
            .expect("no panics while holding the lock")
            .iter()
        {
            total.add(&analysis.timings);
        }
        tracing::debug!(
            "all layers walked ({} layers): {}",
            indexes.len(),
            total.summary()
        );
    }
    let mut failed = Vec::new();
    for e in open_errors {
        failed.extend(e.index);
        let layer = e
            .index
            .and_then(|i| metadata.layers.get(i))
            .and_then(|l| l.diff_id.as_deref().or(l.digest.as_deref()));
        warnings.push(Warning::general(
            WarningKind::LayerNotScanned,
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
                WarningKind::LayerMismatch,
                analysis.diff_id.as_deref(),
                "a layer in the stream matches no diff_id of the image config; ignored",
            ));
            continue;
        };
        if failed.contains(&index) {
            continue;
        }
        let claimed = metadata.layers[index].diff_id.as_deref();
        match (claimed, analysis.diff_id.as_deref()) {
            (Some(c), Some(a)) if c == a => {
                if let Some(cache) = &options.cache {
                    if let Ok(bytes) = serde_json::to_vec(&analysis) {
                        if let Err(e) = cache.put(set_key, c, &bytes) {
                            tracing::warn!("layer cache: {e}");
                        }
                    }
                    if let Some(d) = metadata.layers[index].digest.as_deref() {
                        if d != c {
                            let _ = cache.record_blob(d, c);
                        }
                    }
                }
            }
            (Some(c), Some(a)) => warnings.push(Warning::general(
                WarningKind::LayerMismatch,
                Some(c),
                format!("layer content hashes to {a}, not to the diff_id the config gives; result not cached"),
            )),
            _ => {}
        }
        results[index] = Some(analysis);
    }
}
