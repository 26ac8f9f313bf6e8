//! How long the checks take on one file of each kind, and on the test corpus as
//! `scan config` reads it (every core). Run: `cargo bench -p holdfast-compliance`.

use std::path::PathBuf;

use holdfast_compliance::{scan_config, ConfigScanOptions};

fn main() {
    divan::main();
}

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/iac")
}

fn options(path: PathBuf) -> ConfigScanOptions {
    ConfigScanOptions {
        paths: vec![path],
        ..ConfigScanOptions::default()
    }
}

/// One file, the engine compiled for its kinds included (as a one-file run pays it).
#[divan::bench(args = ["bad-apt.Dockerfile", "clean-deployment.yaml", "pss-violations.yaml"])]
fn one_file(bencher: divan::Bencher, name: &str) {
    let options = options(corpus().join(name));
    bencher.bench(|| scan_config(divan::black_box(&options)).expect("scans"));
}

/// The whole corpus (26 files) on every core.
#[divan::bench(sample_count = 20)]
fn corpus_tree(bencher: divan::Bencher) {
    let options = options(corpus());
    bencher.bench(|| scan_config(divan::black_box(&options)).expect("scans"));
}
