//! Go: the module build info that the Go toolchain embeds in every executable, and
//! `go.mod` files in source trees.
//!
//! From a binary this reports the main module (`mod` line), every dependency (`dep`
//! lines; a `=>` replacement line that follows one is reported instead of it) and the
//! toolchain as the package `stdlib`. Conventions, shared with Trivy and govulncheck:
//!
//! * `stdlib`'s version is the toolchain release as a semantic version with a `v`, both in
//!   `version` and in the purl: `go1.20.3` → `v1.20.3`, `go1.19` → `v1.19.0`, `go1.21rc2`
//!   → `v1.21.0-rc.2` (golang.org/x/vuln `GoTagToSemver`). Module versions carry the `v`
//!   too, so every Go package's version compares the same way. Development toolchains
//!   (`devel ...`) have no release version: `stdlib` is then left out, with a warning.
//! * A main module built from a work tree has version `(devel)`. Its version is then, in
//!   order: the `-X` flag of the `-ldflags` build setting that sets a `version` variable
//!   (`main.version`, `.../version.Version`; evidence `go-ldflags`), the pseudo-version
//!   of the VCS stamp (`vcs-stamp`), or, as Syft does, the first semantic version that
//!   stands alone between NUL bytes in the binary before the build info, which is how a
//!   string set with `-X` is stored when the flags were not recorded, as in Debian's
//!   GOPATH builds (`binary-content`, a guess). Versions get Go's `v` prefix. Without
//!   any, it is reported with `(devel)` as `go version -m` prints it, and a purl without
//!   a version.
//! * A binary built outside module mode has no `mod` line, only the main package's
//!   `path`: its module is taken to be the repository root on hosts whose module paths
//!   are `HOST/OWNER/REPO` (`github.com/docker/distribution/cmd/registry` →
//!   `github.com/docker/distribution`), else the package path itself.
//! * A replacement by a local directory (`=> ../fork`, no version) is not a published
//!   module and cannot be matched: it is left out.

mod buildinfo;
mod gomod;

use holdfast_model::path::file_name;
use holdfast_model::{Evidence, Package, PackageType, Purl, WarningKind};

use crate::analyzer::{
    AnalyzeError, Analyzer, AnalyzerGroup, EntryKind, EntryMeta, FileContent, FileFact, FileInput,
    Want,
};
use crate::catalog::package::{
    is_executable, lang_package, load, plausible_name, plausible_version, MAX_TEXT_BYTES,
};

/// The OSV ecosystem of Go modules.
const ECOSYSTEM: &str = "Go";

/// Reads Go build info from executables and requirements from `go.mod`.
pub struct GoAnalyzer;

impl Analyzer for GoAnalyzer {
    fn name(&self) -> &'static str {
        "go"
    }
    fn version(&self) -> u32 {
        3
    }
    fn group(&self) -> AnalyzerGroup {
        AnalyzerGroup::Library
    }
    fn wants(&self, path: &str, meta: &EntryMeta) -> Want {
        if meta.kind != EntryKind::File {
            return Want::No;
        }
        if file_name(path) == "go.mod" {
            return if gomod::wanted_path(path) {
                Want::Bytes
            } else {
                Want::No
            };
        }
        // An ELF header is 52 or 64 bytes; anything smaller is not a binary.
        if is_executable(meta) && meta.size >= 64 {
            return Want::Stream;
        }
        Want::No
    }
    fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
        if file_name(input.path) == "go.mod" {
            let Some(bytes) = load(&mut input.content, MAX_TEXT_BYTES)? else {
                return Ok(vec![FileFact::bound(format!(
                    "go.mod larger than {} MiB; skipped",
                    MAX_TEXT_BYTES >> 20
                ))]);
            };
            return Ok(gomod::analyze(&String::from_utf8_lossy(&bytes), input.path));
        }
        let path = input.path;
        let mut src = match &mut input.content {
            FileContent::Bytes(b) => buildinfo::Source::Mem(b),
            FileContent::Stream(r) => buildinfo::Source::stream(&mut **r),
            FileContent::File(f) => buildinfo::Source::stream(&mut **f),
        };
        Ok(match buildinfo::scan(&mut src)? {
            buildinfo::Scan::NotFound => Vec::new(),
            buildinfo::Scan::Skipped(kind, msg) => vec![FileFact::skipped(kind, msg)],
            buildinfo::Scan::Found(raw) => binary_facts(
                &raw.version,
                &raw.modinfo,
                raw.content_version.as_deref(),
                path,
            ),
        })
    }
}

/// One module line of the build info: `path version [sum]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Module {
    /// Module path.
    pub path: String,
    /// Version, `(devel)` for a main module built from a work tree.
    pub version: String,
    /// `go.sum` hash (`h1:...`), empty for replaced and main modules.
    pub sum: String,
    /// The `=>` line that followed, if any.
    pub replace: Option<Box<Module>>,
}

/// The module info of a binary (`runtime/debug.BuildInfo`, less the build settings).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct BuildInfo {
    /// The main package's import path.
    pub path: String,
    /// The `mod` line: the main module.
    pub main: Option<Module>,
    /// The `dep` lines.
    pub deps: Vec<Module>,
    /// `mod`, `dep` or `=>` lines that did not have the expected columns.
    pub bad_lines: usize,
    /// `build vcs.revision=` and `build vcs.time=`, which Go stamps into binaries built
    /// from a version-control checkout.
    pub vcs_revision: Option<String>,
    pub vcs_time: Option<String>,
    /// `build -ldflags=`: the linker flags, when the build recorded them.
    pub ldflags: Option<String>,
}

/// Parses module info as `runtime/debug.ParseBuildInfo` does (tab-separated `path`, `mod`,
/// `dep`, `=>`, `build` lines; a final line without newline is ignored), but leniently:
/// malformed lines are counted and skipped instead of failing the whole blob.
pub(crate) fn parse_modinfo(data: &str) -> BuildInfo {
    enum Last {
        None,
        Main,
        Dep(usize),
    }
    let mut bi = BuildInfo::default();
    let mut last = Last::None;
    for line in data.split_inclusive('\n') {
        let Some(line) = line.strip_suffix('\n') else {
            break;
        };
        if let Some(p) = line.strip_prefix("path\t") {
            bi.path = p.to_string();
        } else if let Some(rest) = line.strip_prefix("mod\t") {
            match module_line(rest) {
                Some(m) => {
                    bi.main = Some(m);
                    last = Last::Main;
                }
                None => bi.bad_lines += 1,
            }
        } else if let Some(rest) = line.strip_prefix("dep\t") {
            match module_line(rest) {
                Some(m) => {
                    bi.deps.push(m);
                    last = Last::Dep(bi.deps.len() - 1);
                }
                None => {
                    bi.bad_lines += 1;
                    last = Last::None;
                }
            }
        } else if let Some(rest) = line.strip_prefix("=>\t") {
            let cols: Vec<&str> = rest.split('\t').collect();
            let target = match last {
                Last::Main => bi.main.as_mut(),
                Last::Dep(i) => bi.deps.get_mut(i),
                Last::None => None,
            };
            match (cols.as_slice(), target) {
                ([path, version, sum], Some(m)) => {
                    m.replace = Some(Box::new(Module {
                        path: path.to_string(),
                        version: version.to_string(),
                        sum: sum.to_string(),
                        replace: None,
                    }));
                }
                _ => bi.bad_lines += 1,
            }
            last = Last::None;
        } else if let Some(setting) = line.strip_prefix("build\t") {
            if let Some(v) = setting.strip_prefix("vcs.revision=") {
                bi.vcs_revision = Some(v.to_string());
            } else if let Some(v) = setting.strip_prefix("vcs.time=") {
                bi.vcs_time = Some(v.to_string());
            } else if let Some(v) = setting.strip_prefix("-ldflags=") {
                bi.ldflags = Some(v.to_string());
            }
        }
        // Other `build` settings and unknown lines are ignored, as Go ignores them.
    }
    bi
}

/// `readModuleLine`: two or three tab-separated columns.
fn module_line(rest: &str) -> Option<Module> {
    let cols: Vec<&str> = rest.split('\t').collect();
    let (path, version, sum) = match cols.as_slice() {
        [p, v] => (*p, *v, ""),
        [p, v, s] => (*p, *v, *s),
        _ => return None,
    };
    Some(Module {
        path: path.to_string(),
        version: version.to_string(),
        sum: sum.to_string(),
        replace: None,
    })
}

/// `pkg:golang/NAMESPACE/NAME@VERSION`, the module path split at its last slash
/// (purl-spec `PURL-TYPES.rst`, golang).
pub(crate) fn go_purl(module: &str, version: Option<&str>) -> String {
    let (ns, name) = match module.rsplit_once('/') {
        Some((ns, name)) => (ns, name),
        None => ("", module),
    };
    let mut p = Purl::new("golang", name).namespace(ns);
    if let Some(v) = version.filter(|v| !v.is_empty()) {
        p = p.version(v);
    }
    p.to_string()
}

/// A Go module package.
pub(crate) fn go_package(
    module: &str,
    version: &str,
    scope: Option<holdfast_model::DependencyScope>,
    path: &str,
) -> Package {
    let purl_version = (version != "(devel)").then_some(version);
    lang_package(
        PackageType::Golang,
        module,
        version,
        go_purl(module, purl_version),
        Some(ECOSYSTEM),
        scope,
        path,
    )
}

/// Whether a replacement target is a directory rather than a module path: the
/// `modfile` rule, a path starting with `./`, `../` or `/` (or a Windows path).
pub(crate) fn is_local_path(p: &str) -> bool {
    p == "."
        || p == ".."
        || p.starts_with("./")
        || p.starts_with("../")
        || p.starts_with('/')
        || p.contains('\\')
        || p.as_bytes().get(1) == Some(&b':')
}

/// The toolchain release as a semantic version: `go1.20.3` → `v1.20.3`, `go1.19` →
/// `v1.19.0`, `go1.21rc2` → `v1.21.0-rc.2`, `go1.18beta1` → `v1.18.0-beta.1`. Words after
/// the version (`go1.22.1 X:boringcrypto`) are ignored; `devel` builds give `None`.
pub(crate) fn go_semver(toolchain: &str) -> Option<String> {
    let v = toolchain.split_whitespace().next()?.strip_prefix("go")?;
    let split = v
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(v.len());
    let (nums, pre) = v.split_at(split);
    let parts: Vec<&str> = nums.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 9 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let num = |i: usize| parts.get(i).copied().unwrap_or("0");
    let pre = if pre.is_empty() {
        String::new()
    } else {
        let (word, n) = ["rc", "beta", "alpha"]
            .iter()
            .find_map(|w| pre.strip_prefix(w).map(|n| (*w, n)))?;
        if n.is_empty() || n.len() > 9 || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        format!("-{word}.{n}")
    };
    Some(format!("v{}.{}.{}{pre}", num(0), num(1), num(2)))
}

/// The pseudo-version Go gives an untagged commit, `v0.0.0-YYYYMMDDHHMMSS-REV12`
/// (Go modules reference, "Pseudo-versions"), from the VCS stamp of a `(devel)` build.
fn pseudo_version(revision: Option<&str>, time: Option<&str>) -> Option<String> {
    let rev = revision?;
    let time = time?;
    if rev.len() < 12 || !rev.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    // vcs.time is RFC 3339 in UTC (`2023-05-13T00:06:07Z`): keep the digits.
    let digits: String = time.chars().take(19).filter(char::is_ascii_digit).collect();
    (digits.len() == 14 && time.ends_with('Z')).then(|| format!("v0.0.0-{digits}-{}", &rev[..12]))
}

/// The version a `-X` flag of `-ldflags` gives a variable named like a version
/// (`main.version`, `main.Version`, `github.com/x/y/version.Version`, `main.gitVersion`,
/// `...buildVersion`): the symbol's last part, lower-cased, ends in `version`.
fn ldflags_version(ldflags: &str) -> Option<String> {
    // The setting is quoted when it holds spaces: `"-s -w -X main.version=1.2.3"`.
    let flags = ldflags.trim().trim_matches(['"', '\'']);
    let mut words = flags.split_whitespace();
    while let Some(w) = words.next() {
        let assignment = match w {
            "-X" | "--X" => words.next()?,
            _ => match w.strip_prefix("-X=").or_else(|| w.strip_prefix("--X=")) {
                Some(a) => a,
                None => continue,
            },
        };
        let Some((symbol, value)) = assignment.split_once('=') else {
            continue;
        };
        let var = symbol.rsplit(['.', '/']).next().unwrap_or(symbol);
        let value = value.trim_matches(['"', '\'']);
        if var.to_ascii_lowercase().ends_with("version")
            && value
                .strip_prefix('v')
                .unwrap_or(value)
                .starts_with(|c: char| c.is_ascii_digit())
            && plausible_version(value)
        {
            return Some(with_v(value));
        }
    }
    None
}

/// A Go module version with its `v` prefix.
fn with_v(v: &str) -> String {
    if v.starts_with('v') {
        v.to_string()
    } else {
        format!("v{v}")
    }
}

/// The module of a main package built outside module mode: the repository root on hosts
/// whose module paths are `HOST/OWNER/REPO`, else the package path.
fn module_of_package(pkg: &str) -> &str {
    const THREE_PART_HOSTS: [&str; 5] = [
        "github.com/",
        "gitlab.com/",
        "bitbucket.org/",
        "golang.org/x/",
        "k8s.io/",
    ];
    let parts = if pkg.starts_with("k8s.io/") { 2 } else { 3 };
    if !THREE_PART_HOSTS.iter().any(|h| pkg.starts_with(h)) {
        return pkg;
    }
    match pkg.match_indices('/').nth(parts - 1) {
        Some((i, _)) => &pkg[..i],
        None => pkg,
    }
}

/// Facts from a binary's build info strings; `content_version` is the version string
/// the scan saw in the binary, for a `(devel)` main module.
fn binary_facts(
    toolchain: &str,
    modinfo: &str,
    content_version: Option<&str>,
    path: &str,
) -> Vec<FileFact> {
    let mut bi = parse_modinfo(modinfo);
    let mut packages = Vec::new();
    let mut bad = bi.bad_lines;
    // Binaries built outside module mode (GOPATH builds, as Debian's are) carry only the
    // main package's `path`: report its module, so the program itself is in the
    // inventory.
    if bi.main.is_none() && !bi.path.is_empty() && !bi.path.starts_with("command-line-arguments") {
        bi.main = Some(Module {
            path: module_of_package(&bi.path).to_string(),
            version: "(devel)".into(),
            ..Module::default()
        });
    }
    let mut evidence = None;
    if let Some(main) = bi.main.as_mut() {
        if main.version == "(devel)" {
            let found = bi
                .ldflags
                .as_deref()
                .and_then(ldflags_version)
                .map(|v| (v, Evidence::GoLdflags))
                .or_else(|| {
                    pseudo_version(bi.vcs_revision.as_deref(), bi.vcs_time.as_deref())
                        .map(|v| (v, Evidence::VcsStamp))
                })
                .or_else(|| {
                    content_version
                        .filter(|v| plausible_version(v))
                        .map(|v| (with_v(v), Evidence::BinaryContent))
                });
            if let Some((v, e)) = found {
                main.version = v;
                evidence = Some(e);
            }
        }
    }
    if let Some(main) = &bi.main {
        if plausible_name(&main.path)
            && (main.version.is_empty() || plausible_version(&main.version))
        {
            let mut p = go_package(&main.path, &main.version, None, path);
            p.evidence = evidence;
            packages.push(p);
        } else {
            bad += 1;
        }
    }
    for dep in &bi.deps {
        let m = dep.replace.as_deref().unwrap_or(dep);
        if is_local_path(&m.path) || m.version.is_empty() {
            continue; // replaced by a local directory (`=> ./local (devel)`)
        }
        if !plausible_name(&m.path) || !plausible_version(&m.version) {
            bad += 1;
            continue;
        }
        packages.push(go_package(&m.path, &m.version, None, path));
    }
    let mut facts = Vec::new();
    match go_semver(toolchain) {
        Some(v) => packages.push(lang_package(
            PackageType::Golang,
            "stdlib",
            &v,
            go_purl("stdlib", Some(&v)),
            Some(ECOSYSTEM),
            None,
            path,
        )),
        // A development toolchain: not broken, not bounded, just not a version.
        None => facts.push(FileFact::skipped(
            WarningKind::Other,
            format!(
                "Go toolchain `{}` is not a release; stdlib not reported",
                toolchain.chars().take(64).collect::<String>()
            ),
        )),
    }
    facts.insert(0, FileFact::Packages(packages));
    if bad > 0 {
        facts.push(FileFact::malformed(format!(
            "{bad} malformed module lines in the Go build info skipped"
        )));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzer::EntryMeta;

    fn packages(facts: &[FileFact]) -> Vec<(String, String, String)> {
        facts
            .iter()
            .flat_map(|f| match f {
                FileFact::Packages(p) => p.clone(),
                _ => Vec::new(),
            })
            .map(|p| (p.name, p.version, p.purl))
            .collect()
    }

    const MODINFO: &str = "path\tgithub.com/acme/tool/cmd/tool\n\
mod\tgithub.com/acme/tool\tv1.4.0\th1:abc=\n\
dep\tgithub.com/pkg/errors\tv0.9.1\th1:def=\n\
dep\tgolang.org/x/net\tv0.7.0\th1:ghi=\n\
=>\tgithub.com/fork/net\tv0.8.1\th1:jkl=\n\
dep\texample.com/local\tv1.0.0\n\
=>\t../local\t\t\n\
\n\
dep\texample.com/local2\tv0.0.0\n\
=>\t./local2\t(devel)\t\n\
\n\
dep\tgithub.com/Azure/go-autorest\tv14.2.0+incompatible\th1:x=\n\
build\t-ldflags=\"-s -w\"\n\
build\tGOARCH=amd64\n";

    #[test]
    fn modinfo_lines() {
        let bi = parse_modinfo(MODINFO);
        assert_eq!(bi.path, "github.com/acme/tool/cmd/tool");
        assert_eq!(bi.main.as_ref().unwrap().version, "v1.4.0");
        assert_eq!(bi.deps.len(), 5);
        assert_eq!(
            bi.deps[1].replace.as_ref().unwrap().path,
            "github.com/fork/net"
        );
        assert_eq!(bi.bad_lines, 0);
    }

    #[test]
    fn binary_packages_with_replacements_and_stdlib() {
        let facts = binary_facts("go1.20.3", MODINFO, None, "/usr/bin/tool");
        assert_eq!(facts.len(), 1, "{facts:?}");
        assert_eq!(
            packages(&facts),
            vec![
                (
                    "github.com/acme/tool".into(),
                    "v1.4.0".into(),
                    "pkg:golang/github.com/acme/tool@v1.4.0".into()
                ),
                (
                    "github.com/pkg/errors".into(),
                    "v0.9.1".into(),
                    "pkg:golang/github.com/pkg/errors@v0.9.1".into()
                ),
                (
                    "github.com/fork/net".into(),
                    "v0.8.1".into(),
                    "pkg:golang/github.com/fork/net@v0.8.1".into()
                ),
                (
                    "github.com/Azure/go-autorest".into(),
                    "v14.2.0+incompatible".into(),
                    "pkg:golang/github.com/Azure/go-autorest@v14.2.0+incompatible".into()
                ),
                (
                    "stdlib".into(),
                    "v1.20.3".into(),
                    "pkg:golang/stdlib@v1.20.3".into()
                ),
            ]
        );
        let FileFact::Packages(p) = &facts[0] else {
            panic!()
        };
        assert!(p.iter().all(|p| p.ecosystem.as_deref() == Some("Go")
            && p.path == "/usr/bin/tool"
            && p.package_type == PackageType::Golang));
    }

    #[test]
    fn devel_main_and_devel_toolchain() {
        let facts = binary_facts(
            "devel go1.22-abcdef Tue Jan 1",
            "path\tex.com/m\nmod\tex.com/m\t(devel)\t\n",
            None,
            "/m",
        );
        assert_eq!(
            packages(&facts),
            vec![(
                "ex.com/m".into(),
                "(devel)".into(),
                "pkg:golang/ex.com/m".into()
            )]
        );
        assert!(
            matches!(&facts[1], FileFact::Skipped { kind: WarningKind::Other, message: m } if m.contains("not a release"))
        );
    }

    #[test]
    fn malformed_lines_are_counted() {
        let bi = parse_modinfo("dep\tonly-one-column\n=>\ta\tb\n=>\tno\tprevious\tmodule\nmod\tx\tv1\ttoo\tmany\ndep\tlast\tv1 no newline");
        assert_eq!(bi.deps.len(), 0);
        assert_eq!(bi.bad_lines, 4);
        let facts = binary_facts("go1.21.0", "dep\tbad name\tv1.0.0\t\n", None, "/x");
        assert!(
            matches!(facts.last(), Some(FileFact::Skipped { kind: WarningKind::MalformedFile, message: m }) if m.contains("1 malformed"))
        );
    }

    #[test]
    fn gopath_builds_and_vcs_pseudo_versions() {
        let facts = binary_facts(
            "go1.19.8",
            "path\tgithub.com/containers/skopeo/cmd/skopeo\nbuild\t-compiler=gc\n",
            None,
            "/usr/bin/skopeo",
        );
        let p = packages(&facts);
        assert_eq!(
            p[0],
            (
                "github.com/containers/skopeo".into(),
                "(devel)".into(),
                "pkg:golang/github.com/containers/skopeo".into()
            )
        );
        let modinfo = "path\tgithub.com/evanw/esbuild/cmd/esbuild\nmod\tgithub.com/evanw/esbuild\t(devel)\t\nbuild\tvcs.revision=d47ab43980c457db27d2671ab618cd5c40a618a7\nbuild\tvcs.time=2023-05-13T00:06:07Z\n";
        let p = packages(&binary_facts(
            "go1.20.4",
            modinfo,
            Some("9.9.9"),
            "/esbuild",
        ));
        assert_eq!(p[0].1, "v0.0.0-20230513000607-d47ab43980c4");
        assert_eq!(
            pseudo_version(Some("zz"), Some("2023-05-13T00:06:07Z")),
            None
        );
    }

    #[test]
    fn devel_versions_from_ldflags_or_content() {
        let main_of = |modinfo: &str, content: Option<&str>| {
            let FileFact::Packages(p) = &binary_facts("go1.21.0", modinfo, content, "/b")[0] else {
                panic!()
            };
            (
                p[0].name.clone(),
                p[0].version.clone(),
                p[0].purl.clone(),
                p[0].evidence,
            )
        };
        // Debian's docker-registry: a GOPATH build, the version only in the binary.
        assert_eq!(
            main_of(
                "path\tgithub.com/docker/distribution/cmd/registry\nbuild\t-compiler=gc\n",
                Some("2.8.2+ds1")
            ),
            (
                "github.com/docker/distribution".into(),
                "v2.8.2+ds1".into(),
                "pkg:golang/github.com/docker/distribution@v2.8.2+ds1".into(),
                Some(Evidence::BinaryContent)
            )
        );
        // Recorded linker flags win over the content and the VCS stamp.
        let modinfo = "path\tex.com/m/cmd/m\nmod\tex.com/m\t(devel)\t\nbuild\t-ldflags=\"-s -w -X ex.com/m/internal/version.Version=1.4.2 -X main.commit=abc\"\nbuild\tvcs.revision=d47ab43980c457db27d2671ab618cd5c40a618a7\nbuild\tvcs.time=2023-05-13T00:06:07Z\n";
        assert_eq!(main_of(modinfo, Some("0.0.1")).1, "v1.4.2");
        assert_eq!(main_of(modinfo, None).3, Some(Evidence::GoLdflags));
        // A released main module keeps its version, whatever the binary holds.
        assert_eq!(
            main_of("mod\tex.com/m\tv1.0.0\th1:x=\n", Some("9.9.9")).1,
            "v1.0.0"
        );
        for (flags, want) in [
            ("-X main.version=v0.3.0", Some("v0.3.0")),
            ("'-X=main.Version=2.0.0'", Some("v2.0.0")),
            ("-X main.gitVersion=1.2.3-dirty", Some("v1.2.3-dirty")),
            ("-X main.commit=1.2.3", None),
            ("-X main.version=dev", None),
            ("-X", None),
        ] {
            assert_eq!(ldflags_version(flags).as_deref(), want, "{flags}");
        }
        for (pkg, module) in [
            ("github.com/a/b/cmd/c", "github.com/a/b"),
            ("github.com/a/b", "github.com/a/b"),
            ("github.com/a", "github.com/a"),
            ("k8s.io/kubernetes/cmd/kubelet", "k8s.io/kubernetes"),
            ("example.com/x/cmd/y", "example.com/x/cmd/y"),
        ] {
            assert_eq!(module_of_package(pkg), module);
        }
    }

    #[test]
    fn toolchain_versions() {
        for (t, want) in [
            ("go1.20.3", Some("v1.20.3")),
            ("go1.19", Some("v1.19.0")),
            ("go1.21rc2", Some("v1.21.0-rc.2")),
            ("go1.18beta1", Some("v1.18.0-beta.1")),
            ("go1.9.2rc2", Some("v1.9.2-rc.2")),
            ("go1.22.1 X:boringcrypto", Some("v1.22.1")),
            ("devel +b7a85e0003", None),
            ("go1.x", None),
            ("go1..2", None),
            ("go1.21.0-fips", None),
            ("go", None),
        ] {
            assert_eq!(go_semver(t).as_deref(), want, "{t}");
        }
    }

    #[test]
    fn purls() {
        assert_eq!(
            go_purl("stdlib", Some("v1.2.3")),
            "pkg:golang/stdlib@v1.2.3"
        );
        assert_eq!(
            go_purl("gopkg.in/yaml.v3", Some("v3.0.1")),
            "pkg:golang/gopkg.in/yaml.v3@v3.0.1"
        );
        assert_eq!(go_purl("a/b", None), "pkg:golang/a/b");
    }

    #[test]
    fn wants() {
        let a = GoAnalyzer;
        let exe = EntryMeta {
            kind: EntryKind::File,
            size: 1 << 20,
            mode: 0o755,
            uid: 0,
            gid: 0,
            capabilities: None,
        };
        let plain = EntryMeta {
            mode: 0o644,
            ..exe.clone()
        };
        let tiny = EntryMeta {
            size: 10,
            ..exe.clone()
        };
        let dir = EntryMeta {
            kind: EntryKind::Dir,
            ..exe.clone()
        };
        assert_eq!(a.wants("/usr/bin/x", &exe), Want::Stream);
        assert_eq!(a.wants("/usr/bin/x", &plain), Want::No);
        assert_eq!(a.wants("/usr/bin/x", &tiny), Want::No);
        assert_eq!(a.wants("/usr/bin", &dir), Want::No);
        assert_eq!(a.wants("/src/app/go.mod", &plain), Want::Bytes);
        assert_eq!(a.wants("/src/app/vendor/x/go.mod", &plain), Want::No);
        assert_eq!(
            a.wants("/root/go/pkg/mod/github.com/x/y@v1.0.0/go.mod", &plain),
            Want::No
        );
    }

    #[test]
    fn analyze_streams_and_bytes_alike() {
        let data = buildinfo::tests::inline_elf(
            5000,
            "go1.21.5",
            "path\tex.com/m\nmod\tex.com/m\tv0.1.0\t\ndep\tex.com/d\tv1.2.3\th1:x=\n",
        );
        let meta = EntryMeta {
            kind: EntryKind::File,
            size: data.len() as u64,
            mode: 0o755,
            uid: 0,
            gid: 0,
            capabilities: None,
        };
        let mut from_bytes = FileInput {
            path: "/app",
            meta: &meta,
            content: FileContent::Bytes(&data),
        };
        let a = GoAnalyzer.analyze(&mut from_bytes).unwrap();
        let mut r: &[u8] = &data;
        let mut from_stream = FileInput {
            path: "/app",
            meta: &meta,
            content: FileContent::Stream(&mut r),
        };
        let b = GoAnalyzer.analyze(&mut from_stream).unwrap();
        assert_eq!(a, b);
        assert_eq!(packages(&a).len(), 3);
    }
}
