//! Shared plumbing for the integration tests: version generators biased
//! toward each scheme's tricky parts, and running a reference
//! implementation once over a whole batch of pairs.
//!
//! Reference policy: when a reference tool is missing the test prints why
//! and passes, unless `HOLDFAST_FULL_TESTS=1`, in which case it fails.
//! `tests/ref/setup.sh` installs every reference tool.

#![allow(dead_code)] // Each test binary uses a different part of this.

pub mod gen;

use std::cmp::Ordering;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use holdfast_version::{compare, Scheme};

/// Whether missing reference tools are failures (`HOLDFAST_FULL_TESTS=1`).
pub fn full_tests() -> bool {
    std::env::var("HOLDFAST_FULL_TESTS").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The directory holding the reference drivers and setup.sh.
pub fn ref_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("ref")
}

/// Turns "is this reference available?" into the skip/fail policy: returns
/// the command to run, or `None` after printing why the test is skipped.
/// Panics instead when `HOLDFAST_FULL_TESTS=1`.
pub fn require(name: &str, available: Result<Command, String>) -> Option<Command> {
    match available {
        Ok(cmd) => Some(cmd),
        Err(why) => {
            if full_tests() {
                panic!("reference {name} is missing ({why}) and HOLDFAST_FULL_TESTS=1; run tests/ref/setup.sh");
            }
            eprintln!(
                "SKIPPED: reference {name} is missing ({why}); run tests/ref/setup.sh, \
                 or set HOLDFAST_FULL_TESTS=1 to make this a failure"
            );
            None
        }
    }
}

/// Whether `program args...` runs and exits 0.
pub fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Feeds every pair as one `a<TAB>b` line to one run of `cmd` and reads
/// back one answer per line: `-1`, `0`, `1`, or `E` (refused) as `None`.
pub fn run_reference(cmd: &mut Command, pairs: &[(String, String)]) -> Vec<Option<Ordering>> {
    let mut input = String::new();
    for (a, b) in pairs {
        assert!(
            !a.contains(['\t', '\n']) && !b.contains(['\t', '\n']),
            "generated versions must not hold tabs or newlines"
        );
        input.push_str(a);
        input.push('\t');
        input.push_str(b);
        input.push('\n');
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start reference {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Write from another thread so a chatty reference cannot deadlock us.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("reference output");
    writer
        .join()
        .expect("writer thread")
        .expect("write to reference");
    assert!(
        out.status.success(),
        "reference {cmd:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("reference prints UTF-8");
    let answers: Vec<Option<Ordering>> = text
        .lines()
        .map(|l| match l.trim() {
            "-1" => Some(Ordering::Less),
            "0" => Some(Ordering::Equal),
            "1" => Some(Ordering::Greater),
            "E" => None,
            other => panic!("reference {cmd:?} printed {other:?}"),
        })
        .collect();
    assert_eq!(
        answers.len(),
        pairs.len(),
        "reference {cmd:?} answered {} of {} pairs; stderr: {}",
        answers.len(),
        pairs.len(),
        String::from_utf8_lossy(&out.stderr)
    );
    answers
}

/// One pair on which this crate and a reference disagree.
#[derive(Debug)]
pub struct Disagreement {
    pub a: String,
    pub b: String,
    pub ours: Result<Ordering, String>,
    pub reference: Option<Ordering>,
}

/// Compares every pair with `scheme` and with the reference answers.
/// Refusals agree when both sides refuse.
pub fn disagreements(
    scheme: Scheme,
    pairs: &[(String, String)],
    reference: &[Option<Ordering>],
) -> Vec<Disagreement> {
    pairs
        .iter()
        .zip(reference)
        .filter_map(|((a, b), want)| {
            let ours = compare(scheme, a, b).map_err(|e| e.to_string());
            let agree = match (&ours, want) {
                (Ok(o), Some(w)) => o == w,
                (Err(_), None) => true,
                _ => false,
            };
            (!agree).then(|| Disagreement {
                a: a.clone(),
                b: b.clone(),
                ours,
                reference: *want,
            })
        })
        .collect()
}

/// Draws `n` values from `strategy` with a deterministic generator (seed
/// from `HOLDFAST_SEED`, default fixed), so a failure reproduces.
pub fn sample<T: std::fmt::Debug>(
    strategy: proptest::strategy::BoxedStrategy<T>,
    n: usize,
    salt: u64,
) -> Vec<T> {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
    let seed: u64 = std::env::var("HOLDFAST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1e55);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&salt.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(proptest::test_runner::Config::default(), rng);
    (0..n)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("strategy generates a value")
                .current()
        })
        .collect()
}

/// Runs the reference over `pairs` and panics on any disagreement, listing
/// the first ones; prints how many pairs were checked. Returns the number of
/// pairs checked.
pub fn check_against(
    scheme: Scheme,
    reference_name: &str,
    cmd: &mut Command,
    pairs: &[(String, String)],
) -> usize {
    let answers = run_reference(cmd, pairs);
    let bad = disagreements(scheme, pairs, &answers);
    let refused = answers.iter().filter(|a| a.is_none()).count();
    eprintln!(
        "{scheme}: {} pairs checked against {reference_name} ({refused} refused by both), {} disagreements",
        pairs.len(),
        bad.len()
    );
    assert!(
        bad.is_empty(),
        "{} of {} pairs disagree with {reference_name}; first ones: {:#?}",
        bad.len(),
        pairs.len(),
        &bad[..bad.len().min(20)]
    );
    pairs.len()
}
