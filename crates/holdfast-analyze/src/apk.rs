//! Alpine's apk database, `/lib/apk/db/installed`: paragraphs of `K:value` lines, where
//! `P` is the name, `V` the version, `A` the architecture, `o` the origin (source)
//! package, `L` the license (apk-tools' `apk_database.c` writes these); `F` names a
//! directory (relative to the root) and each `R` after it a file the package installed
//! there, which become [`FileFact::OwnedFiles`].

use holdfast_model::{Package, PackageType};

use crate::analyzer::{
    AnalyzeError, Analyzer, AnalyzerGroup, EntryMeta, FileContent, FileFact, FileInput, Want,
};

const INSTALLED: &str = "/lib/apk/db/installed";

/// Reads the apk installed database.
pub struct ApkAnalyzer;

impl Analyzer for ApkAnalyzer {
    fn name(&self) -> &'static str {
        "apk"
    }
    /// 2: the `F:`/`R:` file lists become [`FileFact::OwnedFiles`].
    fn version(&self) -> u32 {
        2
    }
    fn group(&self) -> AnalyzerGroup {
        AnalyzerGroup::OsPackages
    }
    fn wants(&self, path: &str, _meta: &EntryMeta) -> Want {
        if path == INSTALLED {
            Want::Bytes
        } else {
            Want::No
        }
    }
    fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
        let FileContent::Bytes(bytes) = input.content else {
            return Ok(Vec::new());
        };
        Ok(parse_installed(&String::from_utf8_lossy(bytes), input.path))
    }
}

/// Parses an apk installed database: its packages, then the files each one owns.
pub fn parse_installed(text: &str, path: &str) -> Vec<FileFact> {
    let mut packages = Vec::new();
    let mut owned = Vec::new();
    let mut skipped = 0usize;
    let mut cur: [Option<&str>; 5] = [None; 5]; // P V A o L
    let mut files = String::new();
    let mut dir: &str = "";
    let mut flush = |cur: &mut [Option<&str>; 5],
                     files: &mut String,
                     packages: &mut Vec<Package>,
                     owned: &mut Vec<FileFact>| {
        match (cur[0], cur[1]) {
            (Some(name), Some(version)) if !name.is_empty() && !version.is_empty() => {
                packages.push(Package {
                    id: String::new(),
                    name: name.to_string(),
                    version: version.to_string(),
                    package_type: PackageType::Apk,
                    purl: String::new(),
                    source_name: Some(cur[3].unwrap_or(name).to_string()),
                    source_version: Some(version.to_string()),
                    arch: cur[2].map(str::to_string),
                    epoch: None,
                    licenses: cur[4].map(|l| vec![l.to_string()]).unwrap_or_default(),
                    vendor: None,
                    ecosystem: None,
                    scope: None,
                    layer: None,
                    path: path.to_string(),
                    owner: None,
                    digests: Vec::new(),
                    evidence: None,
                });
                if !files.is_empty() {
                    owned.push(FileFact::OwnedFiles {
                        package_type: PackageType::Apk,
                        name: name.to_string(),
                        paths: std::mem::take(files),
                    });
                }
            }
            (None, None) => {}
            _ => skipped += 1,
        }
        *cur = [None; 5];
        files.clear();
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            flush(&mut cur, &mut files, &mut packages, &mut owned);
            dir = "";
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let slot = match k {
            "P" => 0,
            "V" => 1,
            "A" => 2,
            "o" => 3,
            "L" => 4,
            "F" => {
                dir = v.trim().trim_matches('/');
                continue;
            }
            "R" => {
                let file = v.trim();
                if !file.is_empty() && !file.contains('/') {
                    files.push('/');
                    if !dir.is_empty() {
                        files.push_str(dir);
                        files.push('/');
                    }
                    files.push_str(file);
                    files.push('\n');
                }
                continue;
            }
            _ => continue,
        };
        if v.len() <= 512 {
            cur[slot] = Some(v.trim());
        }
    }
    flush(&mut cur, &mut files, &mut packages, &mut owned);
    let mut facts = vec![FileFact::Packages(packages)];
    facts.extend(owned);
    if skipped > 0 {
        facts.push(FileFact::malformed(format!(
            "{skipped} entries without a name or version skipped"
        )));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_model::WarningKind;

    #[test]
    fn parses_installed() {
        let text = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\nF:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\nF:usr/bin\nR:ldd\n\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\nL:Apache-2.0\n\nV:1.0\n";
        let facts = parse_installed(text, INSTALLED);
        let FileFact::Packages(p) = &facts[0] else {
            panic!()
        };
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].source_name.as_deref(), Some("openssl"));
        assert_eq!(p[0].licenses, vec!["MIT"]);
        assert_eq!(
            facts[1],
            FileFact::OwnedFiles {
                package_type: PackageType::Apk,
                name: "musl".into(),
                paths: "/lib/ld-musl-x86_64.so.1\n/lib/libc.musl-x86_64.so.1\n/usr/bin/ldd\n"
                    .into(),
            }
        );
        assert!(matches!(
            facts[facts.len() - 1],
            FileFact::Skipped {
                kind: WarningKind::MalformedFile,
                ..
            }
        ));
    }
}
