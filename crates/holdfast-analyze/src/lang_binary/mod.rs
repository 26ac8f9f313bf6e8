//! Catalogers of language packages recorded in binaries and archives: Go, Rust, Java, .NET.

use crate::analyzer::Analyzer;

/// The analyzers of this family, in a fixed order.
pub fn analyzers() -> Vec<Box<dyn Analyzer>> {
    Vec::new()
}
