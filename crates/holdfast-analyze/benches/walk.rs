//! Benchmarks of one layer walk over an in-memory tar: the walker's own cost (hashing the
//! stream, parsing headers, skipping or reading each file) with analyzers that do no work,
//! so a change to how the walker reads, skips and buffers shows without the noise of
//! whole-process runs.
//!
//! Run with `cargo bench -p holdfast-analyze --bench walk`; with `RAYON_NUM_THREADS=1`
//! the layer's hash runs inline, on the walk's thread, as when every core walks a layer.

use holdfast_analyze::analyzer::{
    AnalyzeError, Analyzer, AnalyzerGroup, EntryKind, EntryMeta, FileContent, FileFact, FileInput,
    Want,
};
use holdfast_analyze::walker::walk_tar;
use holdfast_analyze::WalkLimits;

fn main() {
    divan::main();
}

/// Small and mid-sized files (1, 16 and 200 KiB in turn), as most of an image is.
const SMALL_FILES: usize = 1_500;
/// Files over the 4 MiB a walker keeps its buffer for: compilers, toolchain binaries.
const LARGE_FILES: usize = 4;
const LARGE_FILE_BYTES: usize = 12 << 20;

/// A layer of `SMALL_FILES` small files and `LARGE_FILES` large ones, about 160 MB.
fn layer() -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut add = |name: String, size: usize| {
        let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        header.set_size(size as u64);
        tar.append_data(&mut header, name, &body[..]).unwrap();
    };
    for i in 0..SMALL_FILES {
        add(
            format!("usr/share/f{i}"),
            [1 << 10, 16 << 10, 200 << 10][i % 3],
        );
    }
    for i in 0..LARGE_FILES {
        add(format!("usr/bin/large{i}"), LARGE_FILE_BYTES);
    }
    tar.into_inner().unwrap()
}

/// Wants every regular file in one form; with `sum`, reads every byte of it, as a pattern
/// scanner does, otherwise does nothing with it.
struct Probe {
    want: Want,
    sum: bool,
}

impl Analyzer for Probe {
    fn name(&self) -> &'static str {
        "probe"
    }
    fn version(&self) -> u32 {
        1
    }
    fn group(&self) -> AnalyzerGroup {
        AnalyzerGroup::Library
    }
    fn wants(&self, _: &str, meta: &EntryMeta) -> Want {
        if meta.kind == EntryKind::File {
            self.want
        } else {
            Want::No
        }
    }
    fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
        if let FileContent::Bytes(bytes) = input.content {
            let sum = if self.sum {
                bytes
                    .iter()
                    .fold(0u64, |s, &b| s.wrapping_mul(31) ^ u64::from(b))
            } else {
                bytes.len() as u64
            };
            divan::black_box(sum);
        }
        Ok(Vec::new())
    }
}

/// Walks the layer with one [`Probe`] that wants `want` of every file.
fn walk_wanting(bencher: divan::Bencher, want: Want, sum: bool) {
    let tar = layer();
    let probe = Probe { want, sum };
    let analyzers: [&dyn Analyzer; 1] = [&probe];
    bencher.bench(|| walk_tar(&mut &tar[..], &analyzers, WalkLimits::default()));
}

/// Nobody reads a file: every entry's data is skipped, and still hashed for the diff_id.
#[divan::bench(sample_count = 10)]
fn skip_every_file(bencher: divan::Bencher) {
    walk_wanting(bencher, Want::No, false);
}

/// Every file is read whole, as the secret and YARA scanners ask.
#[divan::bench(sample_count = 10)]
fn read_every_file(bencher: divan::Bencher) {
    walk_wanting(bencher, Want::Bytes, false);
}

/// Every file is read whole and each of its bytes looked at: the walk's hash and the
/// analyzer's work, one after the other on one core or side by side on two.
#[divan::bench(sample_count = 10)]
fn read_and_sum_every_file(bencher: divan::Bencher) {
    walk_wanting(bencher, Want::Bytes, true);
}

/// The floor of any walk that checks the diff_id: SHA-256 of the same bytes, nothing else.
#[divan::bench(sample_count = 10)]
fn sha256_of_the_layer(bencher: divan::Bencher) {
    use sha2::{Digest, Sha256};
    let tar = layer();
    bencher.bench(|| Sha256::digest(&tar));
}
