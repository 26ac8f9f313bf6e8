//! dpkg: the status database (`/var/lib/dpkg/status`, and distroless images' one file per
//! package under `/var/lib/dpkg/status.d/`), the packages' file lists
//! (`/var/lib/dpkg/info/NAME[:ARCH].list`, for [`FileFact::OwnedFiles`]) and licenses from
//! machine-readable copyright files (`/usr/share/doc/PACKAGE/copyright`, DEP-5).

use holdfast_model::{Package, PackageType};

use crate::analyzer::{
    AnalyzeError, Analyzer, AnalyzerGroup, EntryMeta, FileContent, FileFact, FileInput, Want,
};
use crate::control::paragraphs;

const STATUS: &str = "/var/lib/dpkg/status";
const STATUS_D: &str = "/var/lib/dpkg/status.d/";
const DOC: &str = "/usr/share/doc/";
const INFO: &str = "/var/lib/dpkg/info/";

/// Reads dpkg's database and copyright files.
pub struct DpkgAnalyzer;

impl Analyzer for DpkgAnalyzer {
    fn name(&self) -> &'static str {
        "dpkg"
    }
    /// 2: file lists (`info/*.list`) become [`FileFact::OwnedFiles`].
    fn version(&self) -> u32 {
        2
    }
    fn group(&self) -> AnalyzerGroup {
        AnalyzerGroup::OsPackages
    }
    fn wants(&self, path: &str, _meta: &EntryMeta) -> Want {
        if path == STATUS {
            return Want::Bytes;
        }
        if let Some(name) = path.strip_prefix(STATUS_D) {
            return if name.contains('/') || name.ends_with(".md5sums") {
                Want::No
            } else {
                Want::Bytes
            };
        }
        if let Some(name) = path.strip_prefix(INFO) {
            return if list_package(name).is_some() {
                Want::Bytes
            } else {
                Want::No
            };
        }
        if let Some(rest) = path.strip_prefix(DOC) {
            if rest
                .split_once('/')
                .is_some_and(|(pkg, f)| !pkg.is_empty() && f == "copyright")
            {
                return Want::Bytes;
            }
        }
        Want::No
    }
    fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
        let FileContent::Bytes(bytes) = input.content else {
            return Ok(Vec::new());
        };
        let text = String::from_utf8_lossy(bytes);
        if let Some(name) = input.path.strip_prefix(INFO).and_then(list_package) {
            return Ok(parse_list(name, &text).into_iter().collect());
        }
        if let Some(rest) = input.path.strip_prefix(DOC) {
            let package = rest.split('/').next().unwrap_or_default().to_string();
            let licenses = copyright_licenses(&text);
            return Ok(if licenses.is_empty() {
                Vec::new()
            } else {
                vec![FileFact::PackageLicense { package, licenses }]
            });
        }
        Ok(parse_status(&text, input.path))
    }
}

/// The package a file of `/var/lib/dpkg/info/` lists the files of: `NAME.list` or, for
/// multi-arch packages, `NAME:ARCH.list`.
fn list_package(file: &str) -> Option<&str> {
    let stem = file.strip_suffix(".list")?;
    let name = stem.split_once(':').map_or(stem, |(n, _)| n);
    (!file.contains('/') && valid_name(name)).then_some(name)
}

/// Parses a dpkg file list (one absolute path a line, directories included) into the
/// files `package` owns. A directory is left out when the next line is inside it, as dpkg
/// writes a directory before its contents: ownership is asked of files, and this keeps
/// the list smaller.
pub fn parse_list(package: &str, text: &str) -> Option<FileFact> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| l.starts_with('/') && *l != "/." && *l != "/")
        .collect();
    let mut paths = String::new();
    for (i, line) in lines.iter().enumerate() {
        let is_dir = lines.get(i + 1).is_some_and(|next| {
            next.strip_prefix(line)
                .is_some_and(|rest| rest.starts_with('/'))
        });
        if !is_dir {
            paths.push_str(line);
            paths.push('\n');
        }
    }
    (!paths.is_empty()).then(|| FileFact::OwnedFiles {
        package_type: PackageType::Deb,
        name: package.to_string(),
        paths,
    })
}

/// Parses a dpkg status file into installed packages (and warnings for what was skipped).
pub fn parse_status(text: &str, path: &str) -> Vec<FileFact> {
    let (paras, bad_lines) = paragraphs(text);
    let mut packages = Vec::new();
    let mut skipped = 0usize;
    for p in &paras {
        let Some(name) = p.get("Package") else {
            skipped += 1;
            continue;
        };
        // dpkg lists removed-but-configured and half-installed packages too; only
        // packages whose status says "installed" are on the filesystem.
        if let Some(status) = p.get("Status") {
            if status.split_whitespace().nth(2) != Some("installed") {
                continue;
            }
        }
        let (Some(version), true) = (p.get("Version"), valid_name(name)) else {
            skipped += 1;
            continue;
        };
        if version.is_empty() || version.len() > 256 || version.contains(char::is_whitespace) {
            skipped += 1;
            continue;
        }
        let (source_name, source_version) = match p.get("Source") {
            Some(src) => match src.split_once('(') {
                Some((n, v)) => (
                    n.trim().to_string(),
                    v.trim_end_matches(')').trim().to_string(),
                ),
                None => (src.trim().to_string(), version.to_string()),
            },
            None => (name.to_string(), version.to_string()),
        };
        packages.push(Package {
            id: String::new(),
            name: name.to_string(),
            version: version.to_string(),
            package_type: PackageType::Deb,
            purl: String::new(),
            source_name: Some(source_name),
            source_version: Some(source_version),
            arch: p.get("Architecture").map(str::to_string),
            epoch: None,
            licenses: Vec::new(),
            vendor: None,
            ecosystem: None,
            scope: None,
            layer: None,
            path: path.to_string(),
            owner: None,
            digests: Vec::new(),
            evidence: None,
        });
    }
    let mut facts = vec![FileFact::Packages(packages)];
    if skipped > 0 || bad_lines > 0 {
        facts.push(FileFact::malformed(format!(
            "{skipped} paragraphs without a valid package name or version and {bad_lines} unreadable lines skipped"
        )));
    }
    facts
}

/// Debian package names: lower-case letters, digits, `+ - .`, at least two characters,
/// starting with an alphanumeric (Debian Policy 5.6.1).
fn valid_name(name: &str) -> bool {
    name.len() >= 2
        && name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
}

/// License short names from a DEP-5 copyright file (`Format:` header present); empty for
/// free-form copyright files, whose licenses cannot be read reliably.
pub fn copyright_licenses(text: &str) -> Vec<String> {
    let (paras, _) = paragraphs(text);
    let machine_readable = paras
        .first()
        .and_then(|p| p.get("Format"))
        .is_some_and(|f| f.contains("copyright-format"));
    if !machine_readable {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for p in &paras {
        // Only `Files:` paragraphs (and the header) state licenses; stand-alone `License:`
        // paragraphs carry license texts for names already used.
        if p.get("Files").is_none() {
            continue;
        }
        if let Some(l) = p.get("License") {
            let short = l.lines().next().unwrap_or("").trim();
            if !short.is_empty() && short.len() < 200 && !out.iter().any(|o| o == short) {
                out.push(short.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_model::WarningKind;

    #[test]
    fn status_with_source_versions_and_removed_packages() {
        let text = "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl (3.0.11-1~deb12u2)\nVersion: 3.0.11-1~deb12u2\n\n\
Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n\n\
Package: old\nStatus: deinstall ok config-files\nVersion: 1.0\n\n\
Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n\n\
Package: BAD NAME\nVersion: 1\n";
        let facts = parse_status(text, STATUS);
        let FileFact::Packages(p) = &facts[0] else {
            panic!()
        };
        let got: Vec<_> = p
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.source_name.as_deref().unwrap(),
                    p.source_version.as_deref().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
                ("zlib1g", "1:1.2.13.dfsg-1", "zlib", "1:1.2.13.dfsg-1"),
                ("bash", "5.2.15-2+b2", "bash", "5.2.15-2+b2"),
            ]
        );
        assert!(matches!(
            facts[1],
            FileFact::Skipped {
                kind: WarningKind::MalformedFile,
                ..
            }
        ));
    }

    #[test]
    fn file_lists_keep_files_and_name_the_package() {
        assert_eq!(
            list_package("docker-registry.list"),
            Some("docker-registry")
        );
        assert_eq!(list_package("libc6:amd64.list"), Some("libc6"));
        assert_eq!(list_package("libc6:amd64.md5sums"), None);
        assert_eq!(list_package("x/y.list"), None);
        let a = DpkgAnalyzer;
        let meta = EntryMeta {
            kind: crate::analyzer::EntryKind::File,
            size: 10,
            mode: 0o644,
            uid: 0,
            gid: 0,
            capabilities: None,
        };
        assert_eq!(
            a.wants("/var/lib/dpkg/info/foo:amd64.list", &meta),
            Want::Bytes
        );
        assert_eq!(a.wants("/var/lib/dpkg/info/foo.postinst", &meta), Want::No);
        let text = "/.\n/usr\n/usr/bin\n/usr/bin/registry\n/usr/share/doc/docker-registry\n/usr/share/doc/docker-registry/copyright\n/etc/x\n";
        let Some(FileFact::OwnedFiles {
            package_type,
            name,
            paths,
        }) = parse_list("docker-registry", text)
        else {
            panic!()
        };
        assert_eq!(
            (package_type, name.as_str()),
            (PackageType::Deb, "docker-registry")
        );
        assert_eq!(
            paths,
            "/usr/bin/registry\n/usr/share/doc/docker-registry/copyright\n/etc/x\n"
        );
        assert!(parse_list("empty", "/.\n").is_none());
    }

    #[test]
    fn dep5_licenses() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: x\n\nFiles: *\nCopyright: me\nLicense: GPL-2+\n\nFiles: lib/*\nLicense: LGPL-2.1+\n\nLicense: GPL-2+\n full text\n";
        assert_eq!(copyright_licenses(text), vec!["GPL-2+", "LGPL-2.1+"]);
        assert!(copyright_licenses("This is free-form.\nLicense: whatever").is_empty());
    }

    #[test]
    fn garbage_does_not_panic() {
        let mut junk = String::new();
        for i in 0..2000u32 {
            junk.push(char::from_u32(i * 37 % 0xD7FF).unwrap_or('x'));
            if i % 50 == 0 {
                junk.push('\n');
            }
        }
        let _ = parse_status(&junk, STATUS);
    }
}
