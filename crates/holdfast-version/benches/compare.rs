//! Benchmarks comparing ~10k pre-parsed dpkg and PEP 440 versions: the
//! advisory-matching hot path (bounds are parsed once, compared many times).
//!
//! Run with `cargo bench -p holdfast-version --bench compare`.

use holdfast_version::{parse, Scheme, Version};

fn main() {
    divan::main();
}

/// How many versions each benchmark works on.
const N: usize = 10_000;

/// A small deterministic generator (xorshift), so every run sees the same
/// versions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Debian-looking versions: epochs, `~` pre-releases, `+deb` revisions.
fn dpkg_versions() -> Vec<Version> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..N)
        .map(|_| {
            let mut s = String::new();
            if rng.below(10) == 0 {
                s.push_str(&format!("{}:", rng.below(3)));
            }
            s.push_str(&format!(
                "{}.{}.{}",
                rng.below(5),
                rng.below(20),
                rng.below(30)
            ));
            match rng.below(4) {
                0 => s.push_str(&format!("~rc{}", rng.below(4))),
                1 => s.push_str("+dfsg"),
                _ => {}
            }
            s.push_str(&format!("-{}", 1 + rng.below(5)));
            if rng.below(3) == 0 {
                s.push_str(&format!("+deb{}u{}", 10 + rng.below(3), rng.below(4)));
            }
            parse(Scheme::Dpkg, &s).expect("generated dpkg version parses")
        })
        .collect()
}

/// PyPI-looking versions: pre-, post- and dev-releases, some local.
fn pep440_versions() -> Vec<Version> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    (0..N)
        .map(|_| {
            let mut s = format!("{}.{}.{}", rng.below(5), rng.below(20), rng.below(30));
            match rng.below(6) {
                0 => s.push_str(&format!("a{}", rng.below(4))),
                1 => s.push_str(&format!("rc{}", rng.below(4))),
                2 => s.push_str(&format!(".post{}", rng.below(4))),
                3 => s.push_str(&format!(".dev{}", rng.below(4))),
                _ => {}
            }
            if rng.below(10) == 0 {
                s.push_str(&format!("+local.{}", rng.below(9)));
            }
            parse(Scheme::Pep440, &s).expect("generated PEP 440 version parses")
        })
        .collect()
}

/// Compares every version with its neighbour: N comparisons.
fn neighbours(versions: &[Version]) -> usize {
    versions
        .windows(2)
        .filter(|w| divan::black_box(&w[0]) < divan::black_box(&w[1]))
        .count()
}

#[divan::bench]
fn dpkg_compare_10k(bencher: divan::Bencher) {
    let versions = dpkg_versions();
    bencher.bench(|| neighbours(&versions));
}

#[divan::bench]
fn pep440_compare_10k(bencher: divan::Bencher) {
    let versions = pep440_versions();
    bencher.bench(|| neighbours(&versions));
}

#[divan::bench]
fn dpkg_sort_10k(bencher: divan::Bencher) {
    let versions = dpkg_versions();
    bencher
        .with_inputs(|| versions.clone())
        .bench_local_values(|mut v| {
            v.sort();
            v
        });
}

#[divan::bench]
fn pep440_sort_10k(bencher: divan::Bencher) {
    let versions = pep440_versions();
    bencher
        .with_inputs(|| versions.clone())
        .bench_local_values(|mut v| {
            v.sort();
            v
        });
}
