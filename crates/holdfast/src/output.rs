//! Where rendered reports go: stdout, one file, or one file per format in a directory.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use holdfast_model::ScanResult;
use holdfast_report::{render, Format, TableOptions};

/// Parses `--format` values; empty means the command's default.
pub fn parse_formats(values: &[String], default: Format) -> Result<Vec<Format>> {
    let mut out = Vec::new();
    for v in values.iter().filter(|v| !v.trim().is_empty()) {
        let f: Format = v.parse().map_err(anyhow::Error::msg)?;
        if !out.contains(&f) {
            out.push(f);
        }
    }
    if out.is_empty() {
        out.push(default);
    }
    Ok(out)
}

/// A file-system-safe stem for output files named after the target.
fn file_stem(result: &ScanResult) -> String {
    let name = result
        .targets
        .first()
        .map(|t| t.name.as_str())
        .unwrap_or("result");
    let base = name
        .rsplit(['/', ':'])
        .find(|s| !s.is_empty())
        .unwrap_or("result");
    base.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes every format to its destination.
pub fn write_all(result: &ScanResult, formats: &[Format], output: Option<&Path>) -> Result<()> {
    let table = TableOptions::default();
    match (output, formats) {
        (None, [one]) => {
            let stdout = std::io::stdout();
            let mut lock = BufWriter::new(stdout.lock());
            render(result, *one, &mut lock, &table)?;
            lock.flush()?;
        }
        (None, _) => bail!("several formats need --output DIR (one file per format)"),
        (Some(path), [one]) if !path.is_dir() => {
            let mut f = BufWriter::new(
                File::create(path)
                    .with_context(|| format!("cannot create `{}`", path.display()))?,
            );
            render(result, *one, &mut f, &table)?;
            f.flush()?;
        }
        (Some(dir), many) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
            let stem = file_stem(result);
            for f in many {
                if *f == Format::Table {
                    let stdout = std::io::stdout();
                    let mut lock = stdout.lock();
                    render(result, *f, &mut lock, &table)?;
                }
                let path = dir.join(format!("{stem}.{}", f.extension()));
                let mut w = BufWriter::new(
                    File::create(&path)
                        .with_context(|| format!("cannot create `{}`", path.display()))?,
                );
                render(result, *f, &mut w, &table)?;
                w.flush()?;
            }
        }
    }
    Ok(())
}
