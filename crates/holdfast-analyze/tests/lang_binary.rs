//! Integration tests of the binary and archive catalogers (Go, Rust, Java, .NET) through
//! the public analyzer registry, and end to end through the layer walker.
//!
//! Go binaries are built here with the installed `go` and compared with `go version -m`;
//! Debian's Go binaries and jar are compared when present. Missing tools skip those tests
//! with a message, unless `HOLDFAST_FULL_TESTS=1`, which makes them fail instead.

use std::collections::BTreeSet;
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use holdfast_analyze::analyzer::{
    Analyzer, EntryKind, EntryMeta, FileContent, FileFact, FileInput, Want,
};
use holdfast_analyze::{AnalyzeOptions, WalkLimits};
use holdfast_model::{DependencyScope, Evidence, Package, PackageType};
use holdfast_source::{
    ImageMetadata, LayerInfo, LayerOpenError, LayerStream, LayerVisit, LayerVisitor, Source,
    TargetKind,
};

// ---------------------------------------------------------------------------------------
// Helpers

fn full_tests() -> bool {
    std::env::var("HOLDFAST_FULL_TESTS").as_deref() == Ok("1")
}

/// True when a prerequisite is there; otherwise skips the test with a message, or fails
/// it under `HOLDFAST_FULL_TESTS=1`.
fn prerequisite(present: bool, what: &str) -> bool {
    if present {
        return true;
    }
    assert!(!full_tests(), "HOLDFAST_FULL_TESTS=1, but {what}");
    eprintln!("skipped: {what} (set HOLDFAST_FULL_TESTS=1 to make this a failure)");
    false
}

fn analyzer(name: &str) -> Box<dyn Analyzer> {
    holdfast_analyze::registry::all()
        .into_iter()
        .find(|a| a.name() == name)
        .unwrap_or_else(|| panic!("no analyzer `{name}`"))
}

fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lang_binary")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn file_meta(size: u64, mode: u32) -> EntryMeta {
    EntryMeta {
        kind: EntryKind::File,
        size,
        mode,
        uid: 0,
        gid: 0,
        capabilities: None,
    }
}

/// Runs an analyzer on bytes, as the walker does for a file within its bound.
fn run_bytes(a: &dyn Analyzer, path: &str, mode: u32, data: &[u8]) -> Vec<FileFact> {
    let meta = file_meta(data.len() as u64, mode);
    assert_ne!(
        a.wants(path, &meta),
        Want::No,
        "{} should want {path}",
        a.name()
    );
    let mut input = FileInput {
        path,
        meta: &meta,
        content: FileContent::Bytes(data),
    };
    a.analyze(&mut input)
        .unwrap_or_else(|e| panic!("{}: {path}: {e}", a.name()))
}

/// Runs an analyzer on a forward-only reader, as the walker does for streamed files.
fn run_stream(a: &dyn Analyzer, path: &str, size: u64, reader: &mut dyn Read) -> Vec<FileFact> {
    let meta = file_meta(size, 0o755);
    assert_eq!(a.wants(path, &meta), Want::Stream);
    let mut input = FileInput {
        path,
        meta: &meta,
        content: FileContent::Stream(reader),
    };
    a.analyze(&mut input)
        .unwrap_or_else(|e| panic!("{}: {path}: {e}", a.name()))
}

fn packages(facts: &[FileFact]) -> Vec<Package> {
    facts
        .iter()
        .flat_map(|f| match f {
            FileFact::Packages(p) => p.clone(),
            _ => Vec::new(),
        })
        .collect()
}

fn warnings(facts: &[FileFact]) -> Vec<String> {
    facts
        .iter()
        .filter_map(|f| match f {
            FileFact::Skipped { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

fn name_version_scope(p: &[Package]) -> Vec<(String, String, Option<DependencyScope>)> {
    p.iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.scope))
        .collect()
}

/// Builds a zip from (name, content, stored?) entries.
fn zip_of(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data, stored) in entries {
        let method = if *stored {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        w.start_file(
            *name,
            zip::write::SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn pom(group: &str, artifact: &str, version: &str) -> Vec<u8> {
    format!("#Created by Apache Maven 3.9.5\ngroupId={group}\nartifactId={artifact}\nversion={version}\n")
        .into_bytes()
}

/// A relocatable ELF carrying a cargo-auditable `.dep-v0` section, written by `object`.
fn auditable_elf(json: &str) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(json.as_bytes()).unwrap();
    let compressed = z.finish().unwrap();
    let mut o = object::write::Object::new(
        object::BinaryFormat::Elf,
        object::Architecture::X86_64,
        object::Endianness::Little,
    );
    let text = o.add_section(Vec::new(), b".text".to_vec(), object::SectionKind::Text);
    o.append_section_data(text, &[0xc3; 64], 16);
    let id = o.add_section(
        Vec::new(),
        b".dep-v0".to_vec(),
        object::SectionKind::ReadOnlyData,
    );
    o.append_section_data(id, &compressed, 1);
    o.write().unwrap()
}

/// A minimal ELF64 with a Go 1.18+ inline build info blob `pad` bytes in.
fn synthetic_go_elf(pad: usize, version: &str, modinfo: &str) -> Vec<u8> {
    const START: [u8; 16] = [
        0x30, 0x77, 0xaf, 0x0c, 0x92, 0x74, 0x08, 0x02, 0x41, 0xe1, 0xc1, 0x07, 0xe6, 0xd6, 0x18,
        0xe6,
    ];
    const END: [u8; 16] = [
        0xf9, 0x32, 0x43, 0x31, 0x86, 0x18, 0x20, 0x72, 0x00, 0x82, 0x42, 0x10, 0x41, 0x16, 0xd8,
        0xf2,
    ];
    fn varint(out: &mut Vec<u8>, mut v: usize) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    let mut b = vec![0u8; 64];
    b[..4].copy_from_slice(b"\x7fELF");
    b[4] = 2;
    b[5] = 1;
    b[6] = 1;
    b.resize(64 + pad, 0x90);
    while !b.len().is_multiple_of(16) {
        b.push(0);
    }
    b.extend_from_slice(b"\xff Go buildinf:\x08\x02");
    b.resize(b.len() + 16, 0);
    varint(&mut b, version.len());
    b.extend_from_slice(version.as_bytes());
    let mut m = START.to_vec();
    m.extend_from_slice(modinfo.as_bytes());
    m.extend_from_slice(&END);
    varint(&mut b, m.len());
    b.extend_from_slice(&m);
    b.resize(b.len() + 4096, 0);
    b
}

// ---------------------------------------------------------------------------------------
// Go

fn go_available() -> bool {
    Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `go1.19.8` → `v1.19.8`, `go1.19` → `v1.19.0` (release versions only).
fn go_semver(toolchain: &str) -> String {
    let v = toolchain
        .split_whitespace()
        .next()
        .and_then(|v| v.strip_prefix("go"))
        .expect("a release toolchain");
    let mut parts: Vec<&str> = v.split('.').collect();
    while parts.len() < 3 {
        parts.push("0");
    }
    format!("v{}", parts.join("."))
}

/// What `go version -m BINARY` says: the toolchain, and the modules the binary holds as
/// (path, version), with replacements applied and local-directory replacements dropped,
/// sorted.
fn go_version_m(binary: &Path) -> (String, Vec<(String, String)>) {
    let out = Command::new("go")
        .arg("version")
        .arg("-m")
        .arg(binary)
        .output()
        .expect("go version -m");
    assert!(out.status.success(), "go version -m failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let first = lines.next().unwrap();
    let toolchain = first.rsplit_once(": ").unwrap().1.to_string();
    let mut mods: Vec<Option<(String, String)>> = Vec::new();
    let mut main_package = None;
    let mut has_mod = false;
    for line in lines {
        let cols: Vec<&str> = line.trim_start_matches('\t').split('\t').collect();
        match cols.as_slice() {
            ["path", path] => main_package = Some(path.to_string()),
            ["mod" | "dep", path, version, ..] => {
                has_mod |= cols[0] == "mod";
                mods.push(Some((path.to_string(), version.to_string())))
            }
            ["=>", path, version, ..] => {
                let last = mods.last_mut().expect("=> after a module");
                *last = if path.starts_with('.') || path.starts_with('/') {
                    None
                } else {
                    Some((path.to_string(), version.to_string()))
                };
            }
            _ => {}
        }
    }
    // On top of what `go version -m` prints, holdfast reports the module of the main
    // package of a binary built outside module mode (no `mod` line): the repository root
    // for github.com paths, as a `(devel)` main module.
    if !has_mod {
        if let Some(path) = main_package {
            let module = match path.strip_prefix("github.com/") {
                Some(rest) => {
                    let repo: Vec<&str> = rest.splitn(3, '/').take(2).collect();
                    format!("github.com/{}", repo.join("/"))
                }
                None => path,
            };
            mods.push(Some((module, "(devel)".to_string())));
        }
    }
    let mut mods: Vec<(String, String)> = mods.into_iter().flatten().collect();
    mods.sort();
    (toolchain, mods)
}

/// Checks the Go analyzer's view of a binary against `go version -m`, reading the binary
/// both from memory and as a stream.
fn check_go_binary(binary: &Path) -> Vec<Package> {
    let go = analyzer("go");
    let data = std::fs::read(binary).unwrap();
    let image_path = format!("/usr/bin/{}", binary.file_name().unwrap().to_string_lossy());
    let from_bytes = run_bytes(go.as_ref(), &image_path, 0o755, &data);
    let mut file = std::fs::File::open(binary).unwrap();
    let from_stream = run_stream(go.as_ref(), &image_path, data.len() as u64, &mut file);
    assert_eq!(from_bytes, from_stream, "memory and stream disagree");
    assert!(warnings(&from_bytes).is_empty(), "{from_bytes:?}");

    let found = packages(&from_bytes);
    let (toolchain, expected) = go_version_m(binary);
    let stdlib: Vec<&Package> = found.iter().filter(|p| p.name == "stdlib").collect();
    assert_eq!(stdlib.len(), 1);
    assert_eq!(stdlib[0].version, go_semver(&toolchain));
    assert_eq!(
        stdlib[0].purl,
        format!("pkg:golang/stdlib@{}", go_semver(&toolchain))
    );
    let mut modules: Vec<(String, String)> = found
        .iter()
        .filter(|p| p.name != "stdlib")
        // A `(devel)` main module whose version holdfast found elsewhere (ldflags, the
        // binary's strings, the VCS stamp) says so in `evidence`.
        .map(|p| match p.evidence {
            Some(_) => (p.name.clone(), "(devel)".to_string()),
            None => (p.name.clone(), p.version.clone()),
        })
        .collect();
    modules.sort();
    assert_eq!(modules, expected, "modules differ from `go version -m`");
    for p in &found {
        assert_eq!(p.package_type, PackageType::Golang);
        assert_eq!(p.ecosystem.as_deref(), Some("Go"));
        assert_eq!(p.path, image_path);
        assert_eq!(p.layer, None);
    }
    found
}

/// Runs `go` in `dir` with a private GOPATH, no network, and the module files it needs
/// from `proxy` (a `file://` GOPROXY) when given.
fn go_cmd(dir: &Path, gopath: &Path, proxy: Option<&Path>, args: &[&str]) {
    let mut cmd = Command::new("go");
    cmd.args(args)
        .current_dir(dir)
        .env("GOPATH", gopath)
        .env("GOFLAGS", "-mod=mod -modcacherw")
        .env("GOSUMDB", "off")
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0")
        .env(
            "GOPROXY",
            match proxy {
                Some(p) => format!("file://{}", p.display()),
                None => "off".to_string(),
            },
        );
    if std::env::var_os("HOME").is_none() && std::env::var_os("GOCACHE").is_none() {
        cmd.env(
            "GOCACHE",
            std::env::temp_dir().join("holdfast-test-gocache"),
        );
    }
    let out = cmd.output().expect("run go");
    assert!(
        out.status.success(),
        "go {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn go_toolchain() -> String {
    let out = Command::new("go").arg("version").output().unwrap();
    // `go version go1.19.8 linux/amd64`
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .nth(2)
        .unwrap()
        .to_string()
}

#[test]
fn go_binary_built_here_without_dependencies() {
    if !prerequisite(go_available(), "`go` is not installed") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("hello");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("go.mod"), "module example.com/hello\n\ngo 1.19\n").unwrap();
    std::fs::write(
        src.join("main.go"),
        "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n",
    )
    .unwrap();
    go_cmd(
        &src,
        &tmp.path().join("gopath"),
        None,
        &["build", "-trimpath", "-o", "hello", "."],
    );
    let found = check_go_binary(&src.join("hello"));
    let got: Vec<(String, String)> = found
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("example.com/hello".to_string(), "(devel)".to_string()),
            ("stdlib".to_string(), go_semver(&go_toolchain())),
        ]
    );
    // `(devel)` is not a version: the purl has none.
    assert_eq!(found[0].purl, "pkg:golang/example.com/hello");
}

/// Writes a module version into a `file://` GOPROXY tree.
fn proxy_module(proxy: &Path, path: &str, version: &str, declared: &str, files: &[(&str, &str)]) {
    let dir = proxy.join(path).join("@v");
    std::fs::create_dir_all(&dir).unwrap();
    let gomod = format!("module {declared}\n\ngo 1.16\n");
    std::fs::write(dir.join("list"), format!("{version}\n")).unwrap();
    std::fs::write(
        dir.join(format!("{version}.info")),
        format!("{{\"Version\":\"{version}\",\"Time\":\"2023-01-01T00:00:00Z\"}}"),
    )
    .unwrap();
    std::fs::write(dir.join(format!("{version}.mod")), &gomod).unwrap();
    let prefix = format!("{path}@{version}/");
    let mut entries: Vec<(String, Vec<u8>)> =
        vec![(format!("{prefix}go.mod"), gomod.clone().into_bytes())];
    for (name, content) in files {
        entries.push((format!("{prefix}{name}"), content.as_bytes().to_vec()));
    }
    let refs: Vec<(&str, &[u8], bool)> = entries
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice(), false))
        .collect();
    std::fs::write(dir.join(format!("{version}.zip")), zip_of(&refs)).unwrap();
}

#[test]
fn go_binary_built_here_with_dependencies_and_replacements() {
    if !prerequisite(go_available(), "`go` is not installed") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let proxy = tmp.path().join("proxy");
    proxy_module(
        &proxy,
        "example.com/dep",
        "v1.2.3",
        "example.com/dep",
        &[(
            "dep.go",
            "package dep\n\nfunc Name() string { return \"dep\" }\n",
        )],
    );
    // A fork that keeps the original module path, as forks do.
    proxy_module(
        &proxy,
        "example.com/fork",
        "v1.1.0",
        "example.com/old",
        &[(
            "old.go",
            "package old\n\nfunc Name() string { return \"old\" }\n",
        )],
    );
    let src = tmp.path().join("app");
    std::fs::create_dir_all(src.join("local")).unwrap();
    std::fs::write(
        src.join("go.mod"),
        "module example.com/app\n\ngo 1.19\n\nrequire (\n\texample.com/dep v1.2.3\n\texample.com/old v1.0.0\n\texample.com/local v0.0.0\n)\n\nreplace example.com/old => example.com/fork v1.1.0\n\nreplace example.com/local => ./local\n",
    )
    .unwrap();
    std::fs::write(
        src.join("local/go.mod"),
        "module example.com/local\n\ngo 1.19\n",
    )
    .unwrap();
    std::fs::write(
        src.join("local/local.go"),
        "package local\n\nfunc Name() string { return \"local\" }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/dep\"\n\t\"example.com/local\"\n\t\"example.com/old\"\n)\n\nfunc main() { fmt.Println(dep.Name(), old.Name(), local.Name()) }\n",
    )
    .unwrap();
    go_cmd(
        &src,
        &tmp.path().join("gopath"),
        Some(&proxy),
        &["build", "-trimpath", "-o", "app", "."],
    );
    let found = check_go_binary(&src.join("app"));
    let mut got: Vec<(String, String)> = found
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("example.com/app".to_string(), "(devel)".to_string()),
            ("example.com/dep".to_string(), "v1.2.3".to_string()),
            ("example.com/fork".to_string(), "v1.1.0".to_string()),
            ("stdlib".to_string(), go_semver(&go_toolchain())),
        ]
    );
    let dep = found.iter().find(|p| p.name == "example.com/dep").unwrap();
    assert_eq!(dep.purl, "pkg:golang/example.com/dep@v1.2.3");

    // The go.mod the build completed (go.sum added, nothing else changed) reads the same,
    // with scopes.
    let gomod = std::fs::read(src.join("go.mod")).unwrap();
    let facts = run_bytes(analyzer("go").as_ref(), "/src/app/go.mod", 0o644, &gomod);
    assert_eq!(
        name_version_scope(&packages(&facts)),
        vec![
            (
                "example.com/dep".to_string(),
                "v1.2.3".to_string(),
                Some(DependencyScope::Direct)
            ),
            (
                "example.com/fork".to_string(),
                "v1.1.0".to_string(),
                Some(DependencyScope::Direct)
            ),
        ]
    );
}

#[test]
fn debian_go_binaries_match_go_version_m() {
    if !prerequisite(go_available(), "`go` is not installed") {
        return;
    }
    for bin in ["/usr/bin/docker-registry", "/usr/bin/skopeo"] {
        let path = PathBuf::from(bin);
        if !prerequisite(path.exists(), &format!("{bin} is not installed")) {
            continue;
        }
        let found = check_go_binary(&path);
        eprintln!("{bin}: {} packages match `go version -m`", found.len());
    }
}

#[test]
fn go_mod_fixture() {
    let facts = run_bytes(
        analyzer("go").as_ref(),
        "/src/service/go.mod",
        0o644,
        &fixture("go.mod"),
    );
    assert!(warnings(&facts).is_empty());
    use DependencyScope::*;
    let want: Vec<(String, String, Option<DependencyScope>)> = [
        ("github.com/google/uuid", "v1.4.0", Direct),
        ("github.com/sirupsen/logrus", "v1.9.3", Direct),
        ("golang.org/x/crypto", "v0.17.0", Direct),
        ("github.com/davecgh/go-spew", "v1.1.1", Transitive),
        ("golang.org/x/sys", "v0.13.0", Transitive),
        ("gopkg.in/yaml.v3", "v3.0.1", Transitive),
    ]
    .iter()
    .map(|(n, v, s)| (n.to_string(), v.to_string(), Some(*s)))
    .collect();
    let p = packages(&facts);
    assert_eq!(name_version_scope(&p), want);
    assert_eq!(p[5].purl, "pkg:golang/gopkg.in/yaml.v3@v3.0.1");
}

// ---------------------------------------------------------------------------------------
// Rust

#[test]
fn cargo_lock_fixture() {
    let facts = run_bytes(
        analyzer("rust").as_ref(),
        "/src/myapp/Cargo.lock",
        0o644,
        &fixture("Cargo.lock"),
    );
    assert!(warnings(&facts).is_empty());
    use DependencyScope::*;
    // The workspace's own crates (no source) are the application.
    let (apps, p): (Vec<Package>, Vec<Package>) = packages(&facts)
        .into_iter()
        .partition(|p| p.scope == Some(Application));
    assert_eq!(
        name_version_scope(&apps),
        vec![
            ("myapp".to_string(), "0.3.0".to_string(), Some(Application)),
            ("utils".to_string(), "0.1.0".to_string(), Some(Application)),
        ]
    );
    assert!(apps.iter().all(|a| a.ecosystem.is_none()));
    let want: Vec<(String, String, Option<DependencyScope>)> = [
        ("cfg-if", "1.0.0", Direct),
        ("getrandom", "0.2.11", Transitive),
        ("libc", "0.2.150", Transitive),
        ("rand", "0.8.5", Direct),
        ("rand_core", "0.6.4", Transitive),
        ("private-crate", "2.1.0", Direct),
        ("wasi", "0.11.0+wasi-snapshot-preview1", Transitive),
    ]
    .iter()
    .map(|(n, v, s)| (n.to_string(), v.to_string(), Some(*s)))
    .collect();
    assert_eq!(name_version_scope(&p), want);
    assert_eq!(p[0].purl, "pkg:cargo/cfg-if@1.0.0");
    assert_eq!(p[0].ecosystem.as_deref(), Some("crates.io"));
    assert_eq!(
        p[5].purl,
        "pkg:cargo/private-crate@2.1.0?repository_url=https://crates.example.com/api/v1/crates/"
    );
    assert_eq!(p[5].ecosystem, None);
    assert_eq!(p[6].purl, "pkg:cargo/wasi@0.11.0+wasi-snapshot-preview1");
    assert!(p
        .iter()
        .all(|p| p.package_type == PackageType::Cargo && p.path == "/src/myapp/Cargo.lock"));
}

const AUDIT_JSON: &str = r#"{"packages":[
  {"name":"tool","version":"0.4.2","source":"crates.io","dependencies":[1,2],"root":true},
  {"name":"clap","version":"4.4.8","source":"crates.io","dependencies":[3]},
  {"name":"mylib","version":"0.1.0","source":"local","dependencies":[3]},
  {"name":"anstyle","version":"1.0.4","source":"crates.io"},
  {"name":"cc","version":"1.0.83","source":"crates.io","kind":"build"}
]}"#;

#[test]
fn cargo_auditable_binary() {
    let elf = auditable_elf(AUDIT_JSON);
    let facts = run_bytes(
        analyzer("rust").as_ref(),
        "/usr/local/bin/tool",
        0o755,
        &elf,
    );
    assert!(warnings(&facts).is_empty(), "{facts:?}");
    let p = packages(&facts);
    assert_eq!(
        name_version_scope(&p),
        vec![
            ("tool".to_string(), "0.4.2".to_string(), None),
            (
                "clap".to_string(),
                "4.4.8".to_string(),
                Some(DependencyScope::Direct)
            ),
            (
                "anstyle".to_string(),
                "1.0.4".to_string(),
                Some(DependencyScope::Transitive)
            ),
        ]
    );
    assert_eq!(p[1].purl, "pkg:cargo/clap@4.4.8");
    // A Go binary or a plain ELF has no audit data: no packages, no warning.
    let go = synthetic_go_elf(100, "go1.21.0", "path\tx\n");
    assert!(packages(&run_bytes(analyzer("rust").as_ref(), "/bin/x", 0o755, &go)).is_empty());
}

// ---------------------------------------------------------------------------------------
// Java

#[test]
fn jar_with_pom_properties() {
    let jar = zip_of(&[
        (
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\r\nImplementation-Version: 9.9\r\n\r\n",
            false,
        ),
        (
            "META-INF/maven/com.fasterxml.jackson.core/jackson-databind/pom.properties",
            &pom("com.fasterxml.jackson.core", "jackson-databind", "2.13.3"),
            false,
        ),
        (
            "com/fasterxml/jackson/databind/ObjectMapper.class",
            b"\xca\xfe\xba\xbe",
            false,
        ),
    ]);
    let facts = run_bytes(
        analyzer("java").as_ref(),
        "/app/lib/jackson-databind-2.13.3.jar",
        0o644,
        &jar,
    );
    assert!(warnings(&facts).is_empty());
    let p = packages(&facts);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].name, "com.fasterxml.jackson.core:jackson-databind");
    assert_eq!(p[0].version, "2.13.3");
    assert_eq!(
        p[0].purl,
        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.3"
    );
    assert_eq!(p[0].package_type, PackageType::Maven);
    assert_eq!(p[0].ecosystem.as_deref(), Some("Maven"));
    assert_eq!(p[0].vendor, None);
}

#[test]
fn jar_with_manifest_only_and_name_only() {
    let java = analyzer("java");
    let manifest = zip_of(&[(
        "META-INF/MANIFEST.MF",
        b"Manifest-Version: 1.0\nImplementation-Title: Widget\nImplementation-Vendor-Id: com.acme\nImplementation-Version: 4.5.6\n",
        false,
    )]);
    let p = packages(&run_bytes(
        java.as_ref(),
        "/opt/widget.jar",
        0o644,
        &manifest,
    ));
    assert_eq!(
        (
            p[0].name.as_str(),
            p[0].version.as_str(),
            p[0].purl.as_str()
        ),
        (
            "com.acme:widget",
            "4.5.6",
            "pkg:maven/com.acme/widget@4.5.6"
        )
    );
    assert_eq!(p[0].vendor, None);

    let bare = zip_of(&[(
        "org/apache/commons/text/StringEscapeUtils.class",
        b"x",
        false,
    )]);
    let p = packages(&run_bytes(
        java.as_ref(),
        "/opt/lib/commons-text-1.10.0.jar",
        0o644,
        &bare,
    ));
    assert_eq!(
        (
            p[0].name.as_str(),
            p[0].version.as_str(),
            p[0].purl.as_str()
        ),
        ("commons-text", "1.10.0", "pkg:maven/commons-text@1.10.0")
    );
    assert_eq!(p[0].evidence, Some(Evidence::FileName));
    assert_eq!(p[0].vendor, None);
    // Nothing to go by: nothing reported, no warning.
    let facts = run_bytes(java.as_ref(), "/opt/lib/app.jar", 0o644, &bare);
    assert!(packages(&facts).is_empty() && warnings(&facts).is_empty());
}

#[test]
fn war_and_shaded_fat_jar() {
    let lib = |g: &str, a: &str, v: &str| {
        zip_of(&[(
            &format!("META-INF/maven/{g}/{a}/pom.properties"),
            &pom(g, a, v),
            false,
        )])
    };
    let shaded = zip_of(&[
        (
            "META-INF/maven/com.acme/fat/pom.properties",
            &pom("com.acme", "fat", "2.0.0"),
            false,
        ),
        (
            "META-INF/maven/com.google.guava/guava/pom.properties",
            &pom("com.google.guava", "guava", "32.1.2-jre"),
            false,
        ),
        (
            "META-INF/maven/org.yaml/snakeyaml/pom.properties",
            &pom("org.yaml", "snakeyaml", "1.33"),
            false,
        ),
    ]);
    let war = zip_of(&[
        (
            "META-INF/maven/com.acme/webapp/pom.properties",
            &pom("com.acme", "webapp", "1.0.0"),
            false,
        ),
        (
            "WEB-INF/lib/spring-core-5.3.20.jar",
            &lib("org.springframework", "spring-core", "5.3.20"),
            false,
        ),
        ("WEB-INF/lib/fat-2.0.0.jar", &shaded, true),
        ("WEB-INF/classes/com/acme/App.class", b"x", false),
    ]);
    let facts = run_bytes(analyzer("java").as_ref(), "/srv/webapp.war", 0o644, &war);
    assert!(warnings(&facts).is_empty(), "{facts:?}");
    let got: Vec<(String, String, String)> = packages(&facts)
        .into_iter()
        .map(|p| (p.name, p.version, p.path))
        .collect();
    let want: Vec<(String, String, String)> = [
        ("com.acme:webapp", "1.0.0", "/srv/webapp.war"),
        (
            "org.springframework:spring-core",
            "5.3.20",
            "/srv/webapp.war!/WEB-INF/lib/spring-core-5.3.20.jar",
        ),
        (
            "com.acme:fat",
            "2.0.0",
            "/srv/webapp.war!/WEB-INF/lib/fat-2.0.0.jar",
        ),
        (
            "com.google.guava:guava",
            "32.1.2-jre",
            "/srv/webapp.war!/WEB-INF/lib/fat-2.0.0.jar",
        ),
        (
            "org.yaml:snakeyaml",
            "1.33",
            "/srv/webapp.war!/WEB-INF/lib/fat-2.0.0.jar",
        ),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn debian_log4j_core_jar_matches_its_pom_properties() {
    let jar_path = Path::new("/usr/share/java/log4j-core.jar");
    if !jar_path.exists() {
        eprintln!(
            "skipped: {} is not installed (liblog4j2-java)",
            jar_path.display()
        );
        return;
    }
    let data = std::fs::read(jar_path).unwrap();
    // Every pom.properties in the jar, read independently with the zip crate.
    let mut want = BTreeSet::new();
    let mut z = zip::ZipArchive::new(Cursor::new(&data)).unwrap();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        if f.name().starts_with("META-INF/maven/") && f.name().ends_with("/pom.properties") {
            let mut text = String::new();
            f.read_to_string(&mut text).unwrap();
            let get = |k: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(&format!("{k}=")))
                    .unwrap()
                    .trim()
                    .to_string()
            };
            want.insert((
                format!("{}:{}", get("groupId"), get("artifactId")),
                get("version"),
            ));
        }
    }
    assert!(!want.is_empty());
    let facts = run_bytes(
        analyzer("java").as_ref(),
        "/usr/share/java/log4j-core.jar",
        0o644,
        &data,
    );
    let got: BTreeSet<(String, String)> = packages(&facts)
        .into_iter()
        .filter(|p| p.path == "/usr/share/java/log4j-core.jar")
        .map(|p| (p.name, p.version))
        .collect();
    assert_eq!(got, want);
    eprintln!("log4j-core.jar: {want:?}");
}

// ---------------------------------------------------------------------------------------
// .NET

#[test]
fn deps_json_fixture() {
    let facts = run_bytes(
        analyzer("dotnet").as_ref(),
        "/app/App.deps.json",
        0o644,
        &fixture("App.deps.json"),
    );
    assert!(warnings(&facts).is_empty());
    use DependencyScope::*;
    let (apps, p): (Vec<Package>, Vec<Package>) = packages(&facts)
        .into_iter()
        .partition(|p| p.scope == Some(Application));
    assert_eq!(
        name_version_scope(&apps),
        vec![("App".to_string(), "1.0.0".to_string(), Some(Application))]
    );
    assert_eq!(
        name_version_scope(&p),
        vec![
            (
                "Newtonsoft.Json".to_string(),
                "13.0.3".to_string(),
                Some(Direct)
            ),
            ("Serilog".to_string(), "3.1.1".to_string(), Some(Direct)),
            (
                "System.Diagnostics.DiagnosticSource".to_string(),
                "7.0.2".to_string(),
                Some(Transitive)
            ),
        ]
    );
    assert_eq!(p[0].purl, "pkg:nuget/Newtonsoft.Json@13.0.3");
    assert!(p
        .iter()
        .all(|p| p.ecosystem.as_deref() == Some("NuGet") && p.package_type == PackageType::Nuget));
}

#[test]
fn packages_lock_json_fixture() {
    let facts = run_bytes(
        analyzer("dotnet").as_ref(),
        "/src/App/packages.lock.json",
        0o644,
        &fixture("packages.lock.json"),
    );
    assert!(warnings(&facts).is_empty());
    use DependencyScope::*;
    assert_eq!(
        name_version_scope(&packages(&facts)),
        vec![
            (
                "Newtonsoft.Json".to_string(),
                "13.0.3".to_string(),
                Some(Direct)
            ),
            ("Serilog".to_string(), "3.1.1".to_string(), Some(Direct)),
            (
                "System.Diagnostics.DiagnosticSource".to_string(),
                "7.0.2".to_string(),
                Some(Transitive)
            ),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// End to end through the walker

/// One in-memory tar layer.
struct TarSource {
    metadata: ImageMetadata,
    tar: Vec<u8>,
}

impl TarSource {
    fn new(files: &[(&str, u32, Vec<u8>)]) -> Self {
        let mut b = tar::Builder::new(Vec::new());
        for (path, mode, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(*mode);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, path.trim_start_matches('/'), data.as_slice())
                .unwrap();
        }
        TarSource {
            metadata: ImageMetadata {
                layers: vec![LayerInfo::default()],
                ..ImageMetadata::new("test", TargetKind::Image)
            },
            tar: b.into_inner().unwrap(),
        }
    }
}

impl Source for TarSource {
    fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }
    fn stream_layers(&self, indexes: &[usize], visit: &LayerVisitor<'_>) -> Vec<LayerOpenError> {
        for &i in indexes {
            let mut r = Cursor::new(self.tar.as_slice());
            visit(LayerVisit {
                index: Some(i),
                stream: LayerStream::Tar(&mut r),
            });
        }
        Vec::new()
    }
}

fn image_files() -> Vec<(&'static str, u32, Vec<u8>)> {
    vec![
        (
            "/usr/local/bin/goapp",
            0o755,
            synthetic_go_elf(
                200_000,
                "go1.21.5",
                "path\tex.com/app\nmod\tex.com/app\tv1.0.0\t\ndep\tgithub.com/pkg/errors\tv0.9.1\th1:x=\n",
            ),
        ),
        ("/usr/local/bin/tool", 0o755, auditable_elf(AUDIT_JSON)),
        ("/usr/local/bin/script", 0o755, b"#!/bin/sh\nexit 0\n".repeat(10)),
        (
            "/app/lib/jackson-core-2.15.0.jar",
            0o644,
            zip_of(&[(
                "META-INF/maven/com.fasterxml.jackson.core/jackson-core/pom.properties",
                &pom("com.fasterxml.jackson.core", "jackson-core", "2.15.0"),
                false,
            )]),
        ),
        ("/src/Cargo.lock", 0o644, fixture("Cargo.lock")),
        ("/src/go.mod", 0o644, fixture("go.mod")),
        ("/app/App.deps.json", 0o644, fixture("App.deps.json")),
        ("/src/packages.lock.json", 0o644, fixture("packages.lock.json")),
        // Not wanted: module cache and vendored go.mod files.
        ("/root/go/pkg/mod/x.org/y@v1.0.0/go.mod", 0o644, fixture("go.mod")),
        ("/src/vendor/x.org/y/go.mod", 0o644, fixture("go.mod")),
    ]
}

fn lang_binary_analyzers() -> Vec<Box<dyn Analyzer>> {
    holdfast_analyze::registry::all()
        .into_iter()
        .filter(|a| ["go", "rust", "java", "dotnet"].contains(&a.name()))
        .collect()
}

/// (path, type) → count of packages.
fn summary(p: &[Package]) -> Vec<(String, PackageType, usize)> {
    let mut out: Vec<(String, PackageType, usize)> = Vec::new();
    for p in p {
        match out
            .iter_mut()
            .find(|(path, t, _)| *path == p.path && *t == p.package_type)
        {
            Some(e) => e.2 += 1,
            None => out.push((p.path.clone(), p.package_type, 1)),
        }
    }
    out.sort();
    out
}

#[test]
fn walker_end_to_end() {
    let source = TarSource::new(&image_files());
    let facts = holdfast_analyze::analyze(
        &source,
        &lang_binary_analyzers(),
        &AnalyzeOptions::default(),
    );
    assert!(facts.warnings.is_empty(), "{:?}", facts.warnings);
    let want = vec![
        ("/app/App.deps.json".to_string(), PackageType::Nuget, 4),
        (
            "/app/lib/jackson-core-2.15.0.jar".to_string(),
            PackageType::Maven,
            1,
        ),
        ("/src/Cargo.lock".to_string(), PackageType::Cargo, 9),
        ("/src/go.mod".to_string(), PackageType::Golang, 6),
        ("/src/packages.lock.json".to_string(), PackageType::Nuget, 3),
        ("/usr/local/bin/goapp".to_string(), PackageType::Golang, 3),
        ("/usr/local/bin/tool".to_string(), PackageType::Cargo, 3),
    ];
    assert_eq!(summary(&facts.packages), want);
    // Ids are unique even where one purl is found in two files.
    let ids: BTreeSet<&str> = facts.packages.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), facts.packages.len());
}

#[test]
fn walker_streams_binaries_over_the_bound() {
    // With a bound below the Go binary's size, the walker hands the Go analyzer the live
    // tar stream; the Rust analyzer (which asked for bytes) gets a warning for the files
    // over the bound, and small files are unaffected.
    let source = TarSource::new(&image_files());
    let options = AnalyzeOptions {
        cache: None,
        limits: WalkLimits {
            max_file_bytes: 100_000,
            max_warnings: 200,
        },
    };
    let facts = holdfast_analyze::analyze(&source, &lang_binary_analyzers(), &options);
    let go_app: Vec<&Package> = facts
        .packages
        .iter()
        .filter(|p| p.path == "/usr/local/bin/goapp")
        .collect();
    let mut names: Vec<&str> = go_app.iter().map(|p| p.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["ex.com/app", "github.com/pkg/errors", "stdlib"]);
    let w: Vec<String> = facts.warnings.iter().map(|w| w.message.clone()).collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("rust: file is"), "{w:?}");
}

#[test]
fn full_registry_lets_the_go_analyzer_stream() {
    // With every analyzer of holdfast registered, no other one takes the executable
    // stream from the Go analyzer.
    let source = TarSource::new(&image_files());
    let options = AnalyzeOptions {
        cache: None,
        limits: WalkLimits {
            max_file_bytes: 100_000,
            max_warnings: 200,
        },
    };
    let facts = holdfast_analyze::analyze(&source, &holdfast_analyze::registry::all(), &options);
    assert!(
        !facts
            .warnings
            .iter()
            .any(|w| w.message.contains("consumed the stream")),
        "{:?}",
        facts.warnings
    );
    assert!(facts
        .packages
        .iter()
        .any(|p| p.path == "/usr/local/bin/goapp" && p.name == "stdlib"));
}

#[test]
fn go_binaries_in_dpkg_owned_files_name_their_owner() {
    let elf = |path: &str| {
        synthetic_go_elf(
            200_000,
            "go1.19.8",
            &format!("path\t{path}\nmod\t{path}\tv1.0.0\t\n"),
        )
    };
    let source = TarSource::new(&[
        (
            "/var/lib/dpkg/status",
            0o644,
            b"Package: foo\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-1\n"
                .to_vec(),
        ),
        (
            "/var/lib/dpkg/info/foo.list",
            0o644,
            b"/.\n/usr\n/usr/bin\n/usr/bin/foo\n".to_vec(),
        ),
        ("/usr/bin/foo", 0o755, elf("ex.com/foo")),
        ("/usr/local/bin/goapp", 0o755, elf("ex.com/app")),
    ]);
    let facts = holdfast_analyze::analyze(
        &source,
        &holdfast_analyze::registry::all(),
        &AnalyzeOptions::default(),
    );
    let mut got: Vec<(&str, &str, Option<&str>)> = facts
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Golang)
        .map(|p| (p.path.as_str(), p.name.as_str(), p.owner.as_deref()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("/usr/bin/foo", "ex.com/foo", Some("deb/foo")),
            ("/usr/bin/foo", "stdlib", Some("deb/foo")),
            ("/usr/local/bin/goapp", "ex.com/app", None),
            ("/usr/local/bin/goapp", "stdlib", None),
        ]
    );
    let deb = facts.packages.iter().find(|p| p.name == "foo").unwrap();
    assert_eq!(deb.owner, None, "OS packages have no owner");
}
