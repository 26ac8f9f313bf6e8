//! Arbitrary bytes as a layer: the walker and every registered analyzer must neither panic
//! nor hang, whatever the tar headers and file contents say.
#![no_main]

use holdfast_analyze::{registry, walker};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let analyzers = registry::all();
    let refs: Vec<&dyn holdfast_analyze::Analyzer> = analyzers.iter().map(|a| a.as_ref()).collect();
    let mut reader = data;
    let layer = walker::walk_tar(&mut reader, &refs, walker::WalkLimits::default());
    let _ = holdfast_analyze::merge::merge(&[layer]);
});
