//! The list of analyzers. Adding one is a module plus one line here.

use crate::analyzer::{Analyzer, AnalyzerGroup};
use crate::apk::ApkAnalyzer;
use crate::dotnet::DotnetAnalyzer;
use crate::dpkg::DpkgAnalyzer;
use crate::go::GoAnalyzer;
use crate::java::JavaAnalyzer;
use crate::node::NodeAnalyzer;
use crate::os::OsAnalyzer;
use crate::php::PhpAnalyzer;
use crate::python::PythonAnalyzer;
use crate::rpm::RpmAnalyzer;
use crate::ruby::RubyAnalyzer;
use crate::rust::RustAnalyzer;

/// Every analyzer holdfast has, in a fixed order.
///
/// The order matters: the walker offers a file's live stream to the first analyzer that
/// asks for one, so keep it stable (append new analyzers).
pub fn all() -> Vec<Box<dyn Analyzer>> {
    vec![
        Box::new(OsAnalyzer),
        // OS package databases.
        Box::new(DpkgAnalyzer),
        Box::new(ApkAnalyzer),
        Box::new(RpmAnalyzer),
        // Language packages recorded in text files.
        Box::new(PythonAnalyzer),
        Box::new(NodeAnalyzer),
        Box::new(RubyAnalyzer),
        Box::new(PhpAnalyzer),
        // Language packages recorded in binaries and archives (and their lock files).
        Box::new(GoAnalyzer),
        Box::new(RustAnalyzer),
        Box::new(JavaAnalyzer),
        Box::new(DotnetAnalyzer),
    ]
}

/// The analyzers of the given groups (OS identification always runs).
pub fn select(groups: &[AnalyzerGroup]) -> Vec<Box<dyn Analyzer>> {
    all()
        .into_iter()
        .filter(|a| a.group() == AnalyzerGroup::Os || groups.contains(&a.group()))
        .collect()
}

/// The cache key of an analyzer set: a short hash over the walker's and every analyzer's
/// name and version, so a change to any of them misses the old entries.
pub fn set_key(analyzers: &[Box<dyn Analyzer>]) -> String {
    use sha2::{Digest, Sha256};
    let mut names: Vec<String> = analyzers
        .iter()
        .map(|a| format!("{}:{}", a.name(), a.version()))
        .collect();
    names.sort();
    let mut h = Sha256::new();
    h.update(format!("walker:{};", crate::WALKER_VERSION));
    h.update(names.join(","));
    hex::encode(&h.finalize()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_order_and_groups_are_stable() {
        let all = all();
        let names: Vec<_> = all.iter().map(|a| a.name()).collect();
        assert_eq!(
            names,
            [
                "os-release",
                "dpkg",
                "apk",
                "rpm",
                "python",
                "node",
                "ruby",
                "php",
                "go",
                "rust",
                "java",
                "dotnet"
            ]
        );
        for a in &all[4..] {
            assert_eq!(a.group(), AnalyzerGroup::Library, "{}", a.name());
        }
    }
}
