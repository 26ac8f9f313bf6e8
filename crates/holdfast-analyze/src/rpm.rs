//! rpm's installed-package database in any of its three backends (SQLite `rpmdb.sqlite`,
//! BerkeleyDB hash `Packages`, NDB `Packages.db`), at the classic `/var/lib/rpm` and the
//! newer `/usr/lib/sysimage/rpm`. Parsing lives in `holdfast-rpmdb`; this module only turns
//! its records into packages.

use std::io::Read;

use holdfast_model::{Package, PackageType};
use holdfast_rpmdb::{detect_kind, read_packages, RpmPackage};

use crate::analyzer::{
    AnalyzeError, Analyzer, AnalyzerGroup, EntryMeta, FileFact, FileInput, Want,
};

const DIRS: [&str; 2] = ["/var/lib/rpm/", "/usr/lib/sysimage/rpm/"];
const FILES: [&str; 3] = ["Packages", "Packages.db", "rpmdb.sqlite"];

/// Databases of old releases run to a few hundred MiB; the file is held once, in memory,
/// because every backend needs random access.
const MAX_DB_BYTES: u64 = 512 << 20;

/// Reads rpm databases.
pub struct RpmAnalyzer;

impl Analyzer for RpmAnalyzer {
    fn name(&self) -> &'static str {
        "rpm"
    }
    /// 2: each package's file list becomes a [`FileFact::OwnedFiles`].
    fn version(&self) -> u32 {
        2
    }
    fn group(&self) -> AnalyzerGroup {
        AnalyzerGroup::OsPackages
    }
    fn wants(&self, path: &str, _meta: &EntryMeta) -> Want {
        let hit = DIRS
            .iter()
            .any(|d| path.strip_prefix(d).is_some_and(|f| FILES.contains(&f)));
        // A stream, so that a database over the walker's in-memory bound is still read.
        if hit {
            Want::Stream
        } else {
            Want::No
        }
    }
    fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
        if input.meta.size > MAX_DB_BYTES {
            return Err(AnalyzeError::BoundReached(format!(
                "rpm database of {} bytes is over the {MAX_DB_BYTES}-byte limit",
                input.meta.size
            )));
        }
        let mut bytes = Vec::with_capacity(input.meta.size as usize);
        input
            .content
            .with_reader(|r| r.take(MAX_DB_BYTES).read_to_end(&mut bytes))?;
        let Some(kind) = detect_kind(&bytes) else {
            return Err(AnalyzeError::Malformed(
                "not an rpm database (unknown format)".into(),
            ));
        };
        let read =
            read_packages(kind, &bytes).map_err(|e| AnalyzeError::Malformed(e.to_string()))?;
        let packages = read
            .packages
            .iter()
            .map(|p| package(p, input.path))
            .collect();
        let mut facts = vec![FileFact::Packages(packages)];
        facts.extend(read.packages.iter().filter_map(owned_files));
        // The reader describes damaged records it skipped or read only in part.
        facts.extend(read.warnings.into_iter().map(FileFact::malformed));
        Ok(facts)
    }
}

fn package(p: &RpmPackage, path: &str) -> Package {
    let (source_name, source_version) = p
        .source_rpm
        .as_deref()
        .and_then(split_source_rpm)
        .map(|(n, v)| (Some(n), Some(v)))
        .unwrap_or((None, None));
    Package {
        id: String::new(),
        name: p.name.clone(),
        version: format!("{}-{}", p.version, p.release),
        package_type: PackageType::Rpm,
        purl: String::new(),
        source_name,
        source_version,
        arch: p.arch.clone(),
        epoch: p.epoch.filter(|e| *e > 0),
        licenses: p.license.iter().cloned().collect(),
        vendor: p.vendor.clone(),
        ecosystem: None,
        scope: None,
        layer: None,
        path: path.to_string(),
        owner: None,
        digests: Vec::new(),
        evidence: None,
    }
}

/// The files an rpm package installed, as [`FileFact::OwnedFiles`]; none when its header
/// lists no files.
fn owned_files(p: &RpmPackage) -> Option<FileFact> {
    let mut paths = String::with_capacity(p.files.iter().map(|f| f.len() + 1).sum());
    for f in p
        .files
        .iter()
        .filter(|f| f.starts_with('/') && !f.contains('\n'))
    {
        paths.push_str(f);
        paths.push('\n');
    }
    (!paths.is_empty()).then(|| FileFact::OwnedFiles {
        package_type: PackageType::Rpm,
        name: p.name.clone(),
        paths,
    })
}

/// `bash-5.1.8-6.el9.src.rpm` → (`bash`, `5.1.8-6.el9`): name-version-release, split on the
/// last two dashes, as rpm names its files.
fn split_source_rpm(file: &str) -> Option<(String, String)> {
    let stem = file
        .strip_suffix(".src.rpm")
        .or_else(|| file.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    (!name.is_empty()).then(|| (name.to_string(), format!("{version}-{release}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_lists_become_owned_files() {
        let mut p = RpmPackage {
            name: "skopeo".into(),
            epoch: None,
            version: "1.14.2".into(),
            release: "1.el9".into(),
            arch: Some("x86_64".into()),
            source_rpm: None,
            license: None,
            vendor: None,
            size: None,
            modularity_label: None,
            files: vec![
                "/usr/bin".into(),
                "/usr/bin/skopeo".into(),
                "bad\nname".into(),
            ],
        };
        assert_eq!(
            owned_files(&p),
            Some(FileFact::OwnedFiles {
                package_type: PackageType::Rpm,
                name: "skopeo".into(),
                paths: "/usr/bin\n/usr/bin/skopeo\n".into(),
            })
        );
        p.files.clear();
        assert_eq!(owned_files(&p), None);
    }

    #[test]
    fn source_rpm_names() {
        assert_eq!(
            split_source_rpm("bash-5.1.8-6.el9.src.rpm"),
            Some(("bash".into(), "5.1.8-6.el9".into()))
        );
        assert_eq!(
            split_source_rpm("python3-libs-3.9.18-1.el9.src.rpm"),
            Some(("python3-libs".into(), "3.9.18-1.el9".into()))
        );
        assert_eq!(split_source_rpm("garbage"), None);
    }
}
