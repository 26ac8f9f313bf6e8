//! `materialize TARGET DEST`: materialises an image's root filesystem into DEST (created
//! when missing; it must be empty) and prints what it made and how long it took.
//!
//! TARGET is anything `holdfast scan image` accepts (`docker-archive:PATH`, `oci:DIR`, a
//! bare archive path, ...), or `rootfs:DIR` for a plain directory.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use holdfast_rootfs::{materialize, MaterializeOptions};
use holdfast_source::{open_target, OpenOptions, TargetSpec};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [target, dest] = args.as_slice() else {
        eprintln!("usage: materialize TARGET DEST");
        return ExitCode::from(2);
    };
    let spec = match target.strip_prefix("rootfs:") {
        Some(dir) => Ok(TargetSpec::Rootfs(dir.into())),
        None => TargetSpec::parse_image(target),
    };
    let started = Instant::now();
    let source = match spec.and_then(|s| open_target(&s, target, &OpenOptions::default())) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("materialize: {e}");
            return ExitCode::FAILURE;
        }
    };
    let opened = started.elapsed();
    let dest = Path::new(dest);
    if let Err(e) = std::fs::create_dir_all(dest) {
        eprintln!("materialize: cannot create `{}`: {e}", dest.display());
        return ExitCode::FAILURE;
    }
    match materialize(source.as_ref(), dest, &MaterializeOptions::default()) {
        Ok(m) => {
            for w in &m.warnings {
                eprintln!("warning: {w}");
            }
            println!(
                "files: {}\nbytes: {}\nskipped: {}\nwarnings: {}\nopen: {:.3}s\ntotal: {:.3}s",
                m.files,
                m.bytes,
                m.skipped,
                m.warnings.len(),
                opened.as_secs_f64(),
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("materialize: {e}");
            ExitCode::FAILURE
        }
    }
}
