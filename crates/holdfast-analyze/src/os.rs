//! Operating-system identification: `os-release` (freedesktop's format, `/etc/os-release`
//! then `/usr/lib/os-release`) and the older per-distribution files.

use holdfast_model::{OsFamily, OsRelease};

use crate::analyzer::{
    AnalyzeError, Analyzer, AnalyzerGroup, EntryMeta, FileContent, FileFact, FileInput, OsSource,
    Want,
};
use crate::merge::MergedFs;

/// Files read to identify the OS, in the order they are trusted.
pub const OS_RELEASE_PATHS: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];
/// Fallback files, in the order they are consulted when no os-release is present.
pub const FALLBACK_PATHS: [&str; 4] = [
    "/etc/alpine-release",
    "/etc/redhat-release",
    "/etc/system-release",
    "/etc/debian_version",
];

/// Reads os-release and the fallback release files.
pub struct OsAnalyzer;

impl Analyzer for OsAnalyzer {
    fn name(&self) -> &'static str {
        "os-release"
    }
    fn version(&self) -> u32 {
        1
    }
    fn group(&self) -> AnalyzerGroup {
        AnalyzerGroup::Os
    }
    fn wants(&self, path: &str, meta: &EntryMeta) -> Want {
        if meta.size < 64 << 10
            && (OS_RELEASE_PATHS.contains(&path) || FALLBACK_PATHS.contains(&path))
        {
            Want::Bytes
        } else {
            Want::No
        }
    }
    fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
        let FileContent::Bytes(bytes) = input.content else {
            return Ok(Vec::new());
        };
        let text = String::from_utf8_lossy(bytes);
        let parsed = if OS_RELEASE_PATHS.contains(&input.path) {
            parse_os_release(&text).map(|os| (os, OsSource::OsRelease))
        } else {
            parse_fallback(input.path, &text).map(|os| (os, OsSource::DistroFile))
        };
        Ok(parsed
            .map(|(os, source)| vec![FileFact::OsRelease { os, source }])
            .unwrap_or_default())
    }
}

/// Parses the os-release format: `KEY=value` lines, values optionally quoted.
pub fn parse_os_release(text: &str) -> Option<OsRelease> {
    let mut id = String::new();
    let mut id_like = String::new();
    let mut version_id = String::new();
    let mut pretty = None;
    let mut codename = None;
    for line in text.lines() {
        let Some((k, v)) = line.trim().split_once('=') else {
            continue;
        };
        let v = unquote(v.trim());
        match k.trim() {
            "ID" => id = v.to_ascii_lowercase(),
            "ID_LIKE" => id_like = v.to_ascii_lowercase(),
            "VERSION_ID" => version_id = v,
            "PRETTY_NAME" => pretty = Some(v),
            "VERSION_CODENAME" if !v.is_empty() => codename = Some(v),
            _ => {}
        }
    }
    if id.is_empty() {
        return None;
    }
    let family = family_of(&id, &id_like);
    let distroless = pretty.as_deref() == Some("Distroless");
    Some(OsRelease {
        family: if family == OsFamily::Debian && distroless && version_id.is_empty() {
            OsFamily::Distroless
        } else {
            family
        },
        version: version_id,
        pretty_name: pretty,
        codename,
    })
}

fn unquote(v: &str) -> String {
    let v = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(v);
    v.replace("\\\"", "\"")
        .replace("\\$", "$")
        .replace("\\\\", "\\")
}

/// Maps os-release `ID` to a family ([`OsFamily::from_os_release_id`], the one table),
/// and `ID_LIKE` for derivatives it does not know: these are placed with the
/// distribution whose packages and advisories they follow (a `fedora`-like OS with Red
/// Hat, not with Fedora).
fn family_of(id: &str, id_like: &str) -> OsFamily {
    if let Some(family) = OsFamily::from_os_release_id(id) {
        return family;
    }
    let like: Vec<&str> = id_like.split_whitespace().collect();
    if like.contains(&"ubuntu") {
        OsFamily::Ubuntu
    } else if like.contains(&"debian") {
        OsFamily::Debian
    } else if like.contains(&"rhel") || like.contains(&"fedora") {
        OsFamily::Redhat
    } else if like.contains(&"suse") {
        OsFamily::Suse
    } else if like.contains(&"alpine") {
        OsFamily::Alpine
    } else {
        OsFamily::Unknown
    }
}

/// Parses the old release files: `/etc/alpine-release` holds `3.19.1`,
/// `/etc/redhat-release` a sentence such as `CentOS Linux release 7.9.2009 (Core)`,
/// `/etc/debian_version` `12.5` (or `bookworm/sid` on testing).
pub fn parse_fallback(path: &str, text: &str) -> Option<OsRelease> {
    let line = text.lines().next()?.trim();
    if line.is_empty() {
        return None;
    }
    let os = |family, version: &str| {
        Some(OsRelease {
            family,
            version: version.to_string(),
            pretty_name: Some(line.to_string()),
            codename: None,
        })
    };
    match path {
        "/etc/alpine-release" => os(OsFamily::Alpine, line),
        "/etc/debian_version" => os(OsFamily::Debian, line.split('.').next().unwrap_or(line)),
        _ => {
            let lower = line.to_ascii_lowercase();
            let version = line
                .split_whitespace()
                .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
                .unwrap_or("");
            let family = if lower.starts_with("centos") {
                OsFamily::Centos
            } else if lower.starts_with("rocky") {
                OsFamily::Rocky
            } else if lower.starts_with("almalinux") {
                OsFamily::Alma
            } else if lower.starts_with("oracle") {
                OsFamily::Oracle
            } else if lower.starts_with("fedora") {
                OsFamily::Fedora
            } else if lower.starts_with("amazon") {
                OsFamily::Amazon
            } else if lower.starts_with("red hat") {
                OsFamily::Redhat
            } else {
                return None;
            };
            os(family, version)
        }
    }
}

/// Picks the OS for a merged image: os-release through the image's own symlinks first,
/// then the fallback files; distroless when only dpkg's `status.d` says anything.
pub fn detect(fs: &MergedFs) -> Option<OsRelease> {
    let analyzer = OsAnalyzer.name();
    let fact_at = |p: &str| {
        let resolved = fs.resolve(p)?;
        let placed = fs.visible(&resolved, analyzer)?;
        placed.result.facts.iter().find_map(|f| match f {
            FileFact::OsRelease { os, .. } => Some(os.clone()),
            _ => None,
        })
    };
    let found = OS_RELEASE_PATHS
        .iter()
        .chain(FALLBACK_PATHS.iter())
        .find_map(|p| fact_at(p));
    match found {
        Some(os) => Some(os),
        None if has_dpkg_status_d(fs) => Some(OsRelease {
            family: OsFamily::Distroless,
            version: String::new(),
            pretty_name: None,
            codename: None,
        }),
        None => None,
    }
}

fn has_dpkg_status_d(fs: &MergedFs) -> bool {
    let prefix = "/var/lib/dpkg/status.d/";
    fs.stacks
        .range(prefix.to_string()..)
        .next()
        .is_some_and(|(k, _)| k.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_variants() {
        let d = parse_os_release("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n").unwrap();
        assert_eq!((d.family, d.version.as_str()), (OsFamily::Debian, "12"));
        assert_eq!(d.codename.as_deref(), Some("bookworm"));
        let u = parse_os_release("ID=ubi\nID_LIKE=\"rhel fedora\"\nVERSION_ID='9.3'").unwrap();
        assert_eq!((u.family, u.version.as_str()), (OsFamily::Redhat, "9.3"));
        assert_eq!(
            parse_os_release("ID=amzn\nVERSION_ID=\"2023\"")
                .unwrap()
                .family,
            OsFamily::Amazon
        );
        assert_eq!(
            parse_os_release("ID=\"opensuse-leap\"\nVERSION_ID=\"15.5\"")
                .unwrap()
                .family,
            OsFamily::Opensuse
        );
        assert_eq!(
            parse_os_release("ID=wolfi\nVERSION_ID=20230201")
                .unwrap()
                .family,
            OsFamily::Wolfi
        );
        let alma = parse_os_release(
            "ID=\"almalinux\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"",
        )
        .unwrap();
        assert_eq!(
            (alma.family, alma.version.as_str()),
            (OsFamily::Alma, "9.3")
        );
        assert!(parse_os_release("garbage\n\0\0").is_none());
    }

    #[test]
    fn fallback_files() {
        let c = parse_fallback(
            "/etc/redhat-release",
            "CentOS Linux release 7.9.2009 (Core)\n",
        )
        .unwrap();
        assert_eq!(
            (c.family, c.version.as_str()),
            (OsFamily::Centos, "7.9.2009")
        );
        let a = parse_fallback("/etc/alpine-release", "3.19.1\n").unwrap();
        assert_eq!((a.family, a.version.as_str()), (OsFamily::Alpine, "3.19.1"));
        let d = parse_fallback("/etc/debian_version", "12.5\n").unwrap();
        assert_eq!(d.version, "12");
    }
}
