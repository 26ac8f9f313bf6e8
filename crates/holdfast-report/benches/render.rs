//! Rendering every format for a synthetic result of 10,000 findings (500 packages, 3
//! layers, every finding kind). The budget: all formats together under 1 s.
//!
//! `cargo bench -p holdfast-report --bench render`

#[path = "../tests/common/mod.rs"]
mod common;

use holdfast_report::{render, Format, RenderOptions, UserTemplate};

const FORMATS: [Format; 7] = [
    Format::Table,
    Format::Json,
    Format::Html,
    Format::Sarif,
    Format::CycloneDx,
    Format::Spdx,
    Format::Template,
];

fn options() -> RenderOptions {
    RenderOptions {
        template: Some(
            UserTemplate::new(
                "bench.tpl",
                "{% for t in targets %}{% for f in t.findings %}{{ f.id }} {{ f.severity }}\n{% endfor %}{% endfor %}",
            )
            .expect("the bench template parses"),
        ),
        ..RenderOptions::default()
    }
}

fn render_to_vec(
    result: &holdfast_model::ScanResult,
    format: Format,
    opts: &RenderOptions,
) -> usize {
    let mut out = Vec::with_capacity(4 << 20);
    render(result, format, &mut out, opts).expect("render");
    out.len()
}

/// All seven formats, one after the other, as `-f table,json,html,sarif,cyclonedx,spdx,template` does.
#[divan::bench(sample_count = 10)]
fn all_formats_10k(bencher: divan::Bencher) {
    let result = common::synthetic(10_000);
    let opts = options();
    bencher.bench(|| {
        FORMATS
            .iter()
            .map(|f| render_to_vec(&result, *f, &opts))
            .sum::<usize>()
    });
}

/// Each format alone, to see where the time goes.
#[divan::bench(sample_count = 10, args = ["table", "json", "html", "sarif", "cyclonedx", "spdx", "template"])]
fn one_format_10k(bencher: divan::Bencher, name: &str) {
    let result = common::synthetic(10_000);
    let opts = options();
    let format: Format = name.parse().expect("format name");
    bencher.bench(|| render_to_vec(&result, format, &opts));
}

fn main() {
    divan::main();
}
