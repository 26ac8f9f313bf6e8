//! OSV ecosystem names: which ones a package is looked up in, and how names compare.
//!
//! OSV spells OS ecosystems with the release (`affected[].package.ecosystem`, see the
//! schema's ecosystem table): `Debian:12`, `Ubuntu:22.04:LTS` (`:LTS` is mandatory on
//! LTS releases, absent otherwise), `Alpine:v3.19`, `Rocky Linux:9`, `AlmaLinux:9`,
//! `Red Hat:enterprise_linux:9::baseos` (a CPE, one ecosystem per repository),
//! `SUSE:<PRETTY_NAME>`, `openSUSE:<PRETTY_NAME>`, `Photon OS:5.0`, `Wolfi`,
//! `Chainguard`. Language ecosystems have no release (`PyPI`, `npm`, `Go`, ...).

use std::borrow::Cow;

use holdfast_model::names::pep503_normalize;
use holdfast_model::{OsFamily, OsRelease, Package};

/// The name under which an `affected[].package.name` is stored and looked up.
///
/// PyPI names are normalized as PEP 503 says (lowercase, every run of `-`, `_`, `.`
/// becomes one `-`); NuGet and Packagist names compare without case in their
/// registries and are lowercased. Every other ecosystem compares names exactly (npm is
/// case-sensitive, Go module paths are kept as given, Debian names are source packages).
pub fn normalize_name(ecosystem: &str, name: &str) -> String {
    let name = name.trim();
    match base(ecosystem) {
        "PyPI" => pep503_normalize(name),
        "NuGet" | "Packagist" => name.to_lowercase(),
        _ => name.to_string(),
    }
}

/// The ecosystem without its release or registry suffix (`Debian:12` → `Debian`).
pub(crate) fn base(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or("").trim()
}

/// Which stored ecosystems a package is looked up in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Selector {
    /// Exactly this ecosystem.
    Exact(String),
    /// Every stored ecosystem that starts with this (Red Hat's per-repository CPEs).
    Prefix(String),
}

impl Selector {
    /// The stored ecosystems this selector picks, from the list the database holds.
    pub(crate) fn resolve<'a>(&self, known: &'a [String]) -> Vec<&'a str> {
        match self {
            Selector::Exact(e) => known
                .iter()
                .filter(|k| *k == e)
                .map(String::as_str)
                .collect(),
            Selector::Prefix(p) => known
                .iter()
                .filter(|k| k.starts_with(p.as_str()))
                .map(String::as_str)
                .collect(),
        }
    }
}

/// The OSV ecosystems of an operating system's packages; empty when OSV has none.
pub(crate) fn os_selectors(os: &OsRelease) -> Vec<Selector> {
    let version = os.version.trim();
    let major = version.split('.').next().unwrap_or("").trim();
    let major_minor = || -> Option<String> {
        let mut parts = version.split('.');
        let (a, b) = (parts.next()?, parts.next()?);
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        (numeric(a) && numeric(b)).then(|| format!("{a}.{b}"))
    };
    let numeric_major = !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit());
    let exact = |s: String| vec![Selector::Exact(s)];
    match os.family {
        OsFamily::Debian | OsFamily::Distroless => {
            let release = if numeric_major {
                Some(major.to_string())
            } else {
                os.codename.as_deref().and_then(debian_release_of_codename)
            };
            release.map_or_else(Vec::new, |r| exact(format!("Debian:{r}")))
        }
        OsFamily::Ubuntu => match major_minor() {
            Some(mm) => {
                let lts = is_ubuntu_lts(&mm);
                exact(if lts {
                    format!("Ubuntu:{mm}:LTS")
                } else {
                    format!("Ubuntu:{mm}")
                })
            }
            None => Vec::new(),
        },
        OsFamily::Alpine => {
            major_minor().map_or_else(Vec::new, |mm| exact(format!("Alpine:v{mm}")))
        }
        OsFamily::Wolfi => exact("Wolfi".into()),
        OsFamily::Chainguard => exact("Chainguard".into()),
        OsFamily::Rocky if numeric_major => exact(format!("Rocky Linux:{major}")),
        OsFamily::Alma if numeric_major => exact(format!("AlmaLinux:{major}")),
        // One ecosystem per product stream and repository (baseos, appstream, ...):
        // the image does not say which repository a package came from.
        OsFamily::Redhat if numeric_major => vec![Selector::Prefix(format!(
            "Red Hat:enterprise_linux:{major}::"
        ))],
        OsFamily::Photon if !version.is_empty() => {
            // OSV: `Photon OS:5.0`; os-release says `VERSION_ID=5.0`.
            let v = major_minor().unwrap_or_else(|| format!("{major}.0"));
            exact(format!("Photon OS:{v}"))
        }
        OsFamily::Suse => {
            pretty_suffix(os, "SUSE ").map_or_else(Vec::new, |p| exact(format!("SUSE:{p}")))
        }
        OsFamily::Opensuse => {
            pretty_suffix(os, "openSUSE ").map_or_else(Vec::new, |p| exact(format!("openSUSE:{p}")))
        }
        _ => Vec::new(),
    }
}

/// `PRETTY_NAME` without the vendor word: OSV's SUSE ecosystems are named after it.
fn pretty_suffix<'a>(os: &'a OsRelease, vendor: &str) -> Option<&'a str> {
    let p = os.pretty_name.as_deref()?.trim();
    let rest = p.strip_prefix(vendor).unwrap_or(p).trim();
    (!rest.is_empty()).then_some(rest)
}

/// Ubuntu's LTS releases are the April releases of even years (`22.04`, `24.04`).
fn is_ubuntu_lts(major_minor: &str) -> bool {
    let Some((y, m)) = major_minor.split_once('.') else {
        return false;
    };
    m == "04" && y.parse::<u32>().is_ok_and(|y| y % 2 == 0)
}

/// Debian releases by code name, for images whose `VERSION_ID` is empty (testing/sid
/// name the upcoming release in `VERSION_CODENAME`).
fn debian_release_of_codename(codename: &str) -> Option<String> {
    let n = match codename.trim() {
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        _ => return None,
    };
    Some(n.to_string())
}

/// How a package is looked up: where, under which name, at which version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Lookup<'a> {
    /// The OS's selectors (computed once per scan), or the package's own ecosystem.
    pub selectors: Cow<'a, [Selector]>,
    /// The package's name as the image gives it; [`normalize_name`] is applied per
    /// stored ecosystem when the lookup is planned.
    pub name: String,
    /// The version compared with the advisory's ranges.
    pub version: String,
}

/// Decides how `pkg` is looked up; empty when no OSV ecosystem covers it.
///
/// OS packages take their ecosystem from the detected OS. Debian, Ubuntu and the apk
/// distributions are matched on the source package (`source_name`, `source_version`),
/// since OSV names source packages there; rpm distributions on the binary package,
/// with the epoch put in front of the version (`1:3.0.7-25.el9`), as their records
/// write it. Language packages are looked up only when their cataloger set
/// `Package.ecosystem` (a crate from a git source, say, has none on purpose).
///
/// `os` is [`os_selectors`] of the detected OS, `None` when none was detected.
pub(crate) fn lookups<'a>(os: Option<&'a [Selector]>, pkg: &Package) -> Vec<Lookup<'a>> {
    use holdfast_model::PackageType as T;
    if pkg.package_type.is_os() {
        let selectors: Cow<'a, [Selector]> = match os {
            Some(os) => Cow::Borrowed(os),
            None => Cow::Owned(
                pkg.ecosystem
                    .as_ref()
                    .filter(|e| e.contains(':'))
                    .map(|e| vec![Selector::Exact(e.clone())])
                    .unwrap_or_default(),
            ),
        };
        if selectors.is_empty() {
            return Vec::new();
        }
        match pkg.package_type {
            T::Deb | T::Apk => {
                let name = pkg.source_name.as_deref().unwrap_or(&pkg.name);
                let version = pkg.source_version.as_deref().unwrap_or(&pkg.version);
                vec![Lookup {
                    selectors,
                    name: name.to_string(),
                    version: version.to_string(),
                }]
            }
            _ => {
                let evr = match pkg.epoch {
                    Some(e) if e > 0 && !pkg.version.contains(':') => {
                        format!("{e}:{}", pkg.version)
                    }
                    _ => pkg.version.clone(),
                };
                let mut out = vec![Lookup {
                    selectors: selectors.clone(),
                    name: pkg.name.clone(),
                    version: evr.clone(),
                }];
                // Rocky, SUSE and some Red Hat streams name the source rpm instead.
                if let Some(src) = pkg.source_name.as_deref().filter(|s| *s != pkg.name) {
                    let version = match (pkg.source_version.as_deref(), pkg.epoch) {
                        (Some(v), Some(e)) if e > 0 && !v.contains(':') => format!("{e}:{v}"),
                        (Some(v), _) => v.to_string(),
                        (None, _) => evr,
                    };
                    out.push(Lookup {
                        selectors,
                        name: src.to_string(),
                        version,
                    });
                }
                out
            }
        }
    } else {
        let Some(eco) = pkg
            .ecosystem
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        else {
            return Vec::new();
        };
        let mut version = pkg.version.trim().to_string();
        // The Go toolchain reports itself as `go1.22.1`; OSV's `stdlib` ranges omit `go`.
        if base(eco) == "Go" && matches!(pkg.name.as_str(), "stdlib" | "toolchain") {
            if let Some(v) = version.strip_prefix("go") {
                version = v.to_string();
            }
        }
        vec![Lookup {
            selectors: Cow::Owned(vec![Selector::Exact(eco.to_string())]),
            name: pkg.name.clone(),
            version,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(family: OsFamily, version: &str) -> OsRelease {
        OsRelease {
            family,
            version: version.into(),
            pretty_name: None,
            codename: None,
        }
    }

    #[test]
    fn pep503() {
        assert_eq!(normalize_name("PyPI", "Django"), "django");
        assert_eq!(normalize_name("PyPI", "zope.interface"), "zope-interface");
        assert_eq!(normalize_name("PyPI", "Foo__Bar-.baz"), "foo-bar-baz");
        assert_eq!(normalize_name("npm", "JSONStream"), "JSONStream");
        assert_eq!(
            normalize_name("Go", "github.com/Foo/bar"),
            "github.com/Foo/bar"
        );
        assert_eq!(
            normalize_name("NuGet", "Newtonsoft.Json"),
            "newtonsoft.json"
        );
    }

    #[test]
    fn os_ecosystems() {
        let one = |o: OsRelease| os_selectors(&o);
        let ex = |s: &str| vec![Selector::Exact(s.into())];
        assert_eq!(one(os(OsFamily::Debian, "12")), ex("Debian:12"));
        assert_eq!(one(os(OsFamily::Debian, "12.5")), ex("Debian:12"));
        let mut sid = os(OsFamily::Debian, "");
        sid.codename = Some("trixie".into());
        assert_eq!(one(sid), ex("Debian:13"));
        assert_eq!(one(os(OsFamily::Ubuntu, "22.04")), ex("Ubuntu:22.04:LTS"));
        assert_eq!(one(os(OsFamily::Ubuntu, "23.10")), ex("Ubuntu:23.10"));
        assert_eq!(one(os(OsFamily::Ubuntu, "21.04")), ex("Ubuntu:21.04"));
        assert_eq!(one(os(OsFamily::Alpine, "3.19.1")), ex("Alpine:v3.19"));
        assert_eq!(one(os(OsFamily::Rocky, "9.3")), ex("Rocky Linux:9"));
        assert_eq!(one(os(OsFamily::Alma, "8.9")), ex("AlmaLinux:8"));
        assert_eq!(
            one(os(OsFamily::Redhat, "9.3")),
            vec![Selector::Prefix("Red Hat:enterprise_linux:9::".into())]
        );
        let mut sles = os(OsFamily::Suse, "15.5");
        sles.pretty_name = Some("SUSE Linux Enterprise Server 15 SP5".into());
        assert_eq!(one(sles), ex("SUSE:Linux Enterprise Server 15 SP5"));
        assert!(one(os(OsFamily::Fedora, "39")).is_empty());
        assert!(one(os(OsFamily::Alpine, "edge")).is_empty());
    }
}
