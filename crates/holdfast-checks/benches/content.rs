//! Benchmarks of the content scanners on generated files: the secret rules over source
//! code (keyword pass, then the regexes of the rules whose keywords occur) and the
//! built-in YARA rules over source code and over machine code. Source trees and binaries
//! are most of the bytes these scanners read in a real image.
//!
//! Run with `cargo bench -p holdfast-checks --bench content`.

use divan::counter::BytesCount;
use divan::Bencher;
use holdfast_checks::malware::yara::YaraRuleSet;
use holdfast_checks::secret::RuleSet;

fn main() {
    divan::main();
}

/// Files per corpus.
const FILES: usize = 200;
/// Bytes per source file (a mid-sized module).
const SOURCE_BYTES: usize = 24 << 10;
/// Bytes per binary (a small executable).
const BINARY_BYTES: usize = 96 << 10;

/// Lines of ordinary code: identifiers that hold the secret rules' keywords (`token`,
/// `password`, `secret`, `redis`, `mysql`) as real code does, assignments that are not
/// secrets, URLs and comments.
const CODE_LINES: &[&str] = &[
    "def get_token(self, request):",
    "    token = self.tokenize(request.body)",
    "    password = kwargs.get('password')",
    "    if not self._secret_store.has(key):",
    "        raise AccessDenied('missing secret')",
    "    print(f\"{name}: {value}\")",
    "    return self.session.post(url, data=payload)",
    "import os, sys, json",
    "from redis import Redis  # mysql and postgres clients share the pool",
    "SERVICE_TIMEOUT = 30",
    "class TaskRunner(BaseRunner):",
    "    \"\"\"Runs tasks; see https://example.org/docs/tasks for the protocol.\"\"\"",
    "    api_key_header = 'X-Api-Key'",
    "    for index, item in enumerate(items):",
    "        result[index] = transform(item, mode=MODE_FAST)",
    "func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {",
    "\tif err != nil { return nil, fmt.Errorf(\"read token: %w\", err) }",
    "// Access keys rotate every 90 days; the auth_key below is a test value.",
    "    url = 'postgresql://localhost/app'",
    "",
];

/// A deterministic xorshift stream.
struct Stream(u64);

impl Stream {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// `FILES` source files of `SOURCE_BYTES`, with paths.
fn sources() -> Vec<(String, Vec<u8>)> {
    let mut rng = Stream(0x9e37_79b9_7f4a_7c15);
    (0..FILES)
        .map(|i| {
            let mut text = Vec::with_capacity(SOURCE_BYTES + 200);
            while text.len() < SOURCE_BYTES {
                let line = CODE_LINES[(rng.next() % CODE_LINES.len() as u64) as usize];
                text.extend_from_slice(line.as_bytes());
                text.push(b'\n');
            }
            (format!("/usr/lib/python3/dist-packages/app/m{i}.py"), text)
        })
        .collect()
}

/// `FILES` ELF-like binaries of `BINARY_BYTES`: an ELF magic, machine-code-like noise and
/// the strings a binary carries (`/bin/sh`, `exec`, `<%`, library names).
fn binaries() -> Vec<(String, Vec<u8>)> {
    let mut rng = Stream(0x2545_f491_4f6c_dd1d);
    let strings: &[&[u8]] = &[
        b"/bin/sh\0",
        b"execve\0",
        b"libc.so.6\0",
        b"GLIBC_2.34\0",
        b"<%s>\0",
        b"request failed: %s\0",
        b"socket\0connect\0",
    ];
    (0..FILES)
        .map(|i| {
            let mut data = b"\x7fELF\x02\x01\x01\0".to_vec();
            while data.len() < BINARY_BYTES {
                if rng.next().is_multiple_of(64) {
                    data.extend_from_slice(strings[(rng.next() % strings.len() as u64) as usize]);
                } else {
                    data.extend_from_slice(&rng.next().to_le_bytes());
                }
            }
            (format!("/usr/bin/tool{i}"), data)
        })
        .collect()
}

fn bytes_of(files: &[(String, Vec<u8>)]) -> BytesCount {
    BytesCount::new(files.iter().map(|(_, d)| d.len()).sum::<usize>())
}

#[divan::bench]
fn secret_rules_over_source(bencher: Bencher) {
    let rules = RuleSet::builtin().unwrap();
    let files = sources();
    bencher.counter(bytes_of(&files)).bench(|| {
        files
            .iter()
            .map(|(path, text)| rules.scan_text(Some(path), text).matches.len())
            .sum::<usize>()
    });
}

#[divan::bench(args = ["source", "binary"])]
fn yara_rules(bencher: Bencher, kind: &str) {
    let rules = YaraRuleSet::compile(&[]).unwrap();
    let files = if kind == "source" {
        sources()
    } else {
        binaries()
    };
    bencher.counter(bytes_of(&files)).bench(|| {
        files
            .iter()
            .map(|(path, data)| rules.scan(path, data).unwrap().len())
            .sum::<usize>()
    });
}
