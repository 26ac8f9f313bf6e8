//! .NET: `*.deps.json`, written next to every published application, and NuGet's
//! `packages.lock.json`.
//!
//! `deps.json` (dotnet/runtime `docs/design/features/host-runtime-information.md`, "deps.json"):
//! `libraries` maps `NAME/VERSION` to `{type: "package" | "project" | "reference", ...}`,
//! and `targets[runtimeTarget.name]` maps the same keys to the assets each library brings
//! (`runtime`, `native`, `runtimeTargets`, `resources`, `compile`) and its `dependencies`.
//! Reported: libraries of type `package` that bring runtime assets (a package whose target
//! entry lists no `runtime`, `native` or `runtimeTargets` asset is compile-time only,
//! e.g. an analyzer or a reference assembly pack, and is not deployed; as Trivy decides).
//! A package not in the target at all is kept. Packages that a `project` library depends
//! on are `Direct`, others `Transitive`.
//!
//! `packages.lock.json` (NuGet `PackagesLockFile`): `dependencies` maps each target
//! framework (`net8.0`, `net8.0/linux-x64`) to packages with `type` `Direct`,
//! `Transitive`, `CentralTransitive` or `Project` and the `resolved` version. Projects are
//! left out; a package listed for several frameworks is reported once, `Direct` if any
//! framework has it as such.

use std::collections::{BTreeMap, BTreeSet};

use holdfast_model::path::file_name;
use holdfast_model::{DependencyScope, Package, PackageType, Purl};
use serde::Deserialize;
use serde_json::Value;

use crate::analyzer::{
    AnalyzeError, Analyzer, AnalyzerGroup, EntryKind, EntryMeta, FileFact, FileInput, Want,
};
use crate::catalog::package::{
    lang_package, load, plausible_name, plausible_version, MAX_TEXT_BYTES,
};

/// The OSV ecosystem of NuGet packages.
const ECOSYSTEM: &str = "NuGet";

/// Reads `*.deps.json` and `packages.lock.json`.
pub struct DotnetAnalyzer;

impl Analyzer for DotnetAnalyzer {
    fn name(&self) -> &'static str {
        "dotnet"
    }
    fn version(&self) -> u32 {
        2
    }
    fn group(&self) -> AnalyzerGroup {
        AnalyzerGroup::Library
    }
    fn wants(&self, path: &str, meta: &EntryMeta) -> Want {
        let name = file_name(path);
        if meta.kind == EntryKind::File
            && (name == "packages.lock.json"
                || (name.ends_with(".deps.json") && name.len() > ".deps.json".len()))
        {
            Want::Bytes
        } else {
            Want::No
        }
    }
    fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
        let Some(bytes) = load(&mut input.content, MAX_TEXT_BYTES)? else {
            return Ok(vec![FileFact::bound(format!(
                "larger than {} MiB; skipped",
                MAX_TEXT_BYTES >> 20
            ))]);
        };
        // Visual Studio writes JSON with a byte-order mark.
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
        if file_name(input.path) == "packages.lock.json" {
            packages_lock(bytes, input.path)
        } else {
            deps_json(bytes, input.path)
        }
    }
}

/// A NuGet package: `pkg:nuget/NAME@VERSION`.
fn nuget_package(name: &str, version: &str, scope: Option<DependencyScope>, path: &str) -> Package {
    lang_package(
        PackageType::Nuget,
        name,
        version,
        Purl::new("nuget", name).version(version).to_string(),
        Some(ECOSYSTEM),
        scope,
        path,
    )
}

fn not_json(what: &str, e: serde_json::Error) -> AnalyzeError {
    AnalyzeError::Malformed(format!("not a valid {what}: {e}"))
}

/// `*.deps.json`.
#[derive(Debug, Deserialize)]
struct DepsJson {
    #[serde(rename = "runtimeTarget", default)]
    runtime_target: Option<RuntimeTarget>,
    #[serde(default)]
    targets: BTreeMap<String, BTreeMap<String, Value>>,
    #[serde(default)]
    libraries: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
struct RuntimeTarget {
    #[serde(default)]
    name: Option<String>,
}

/// Facts from a `deps.json`.
fn deps_json(bytes: &[u8], path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    let doc: DepsJson = serde_json::from_slice(bytes).map_err(|e| not_json("deps.json", e))?;
    // The runtime target, or every target when it is not named.
    let target_name = doc.runtime_target.as_ref().and_then(|t| t.name.as_deref());
    let targets: Vec<&BTreeMap<String, Value>> = match target_name.and_then(|n| doc.targets.get(n))
    {
        Some(t) => vec![t],
        None => doc.targets.values().collect(),
    };
    let entry = |key: &str| targets.iter().find_map(|t| t.get(key));

    // Direct: what the project libraries depend on, as `NAME/VERSION` keys.
    let mut direct: BTreeSet<String> = BTreeSet::new();
    let mut has_project = false;
    for (key, lib) in &doc.libraries {
        if lib.get("type").and_then(Value::as_str) != Some("project") {
            continue;
        }
        has_project = true;
        if let Some(deps) = entry(key)
            .and_then(|e| e.get("dependencies"))
            .and_then(Value::as_object)
        {
            for (name, version) in deps {
                if let Some(v) = version.as_str() {
                    direct.insert(format!("{name}/{v}").to_ascii_lowercase());
                }
            }
        }
    }

    let mut packages = Vec::new();
    let mut bad = 0usize;
    for (key, lib) in &doc.libraries {
        let kind = lib.get("type").and_then(Value::as_str);
        if kind == Some("project") {
            // The app's own entry (and the projects it references): `application`.
            if let Some((name, version)) = key.split_once('/') {
                if plausible_name(name) && plausible_version(version) {
                    let mut p = nuget_package(name, version, None, path);
                    p.scope = Some(DependencyScope::Application);
                    // A project is not a published NuGet package: no ecosystem to match.
                    p.ecosystem = None;
                    packages.push(p);
                }
            }
            continue;
        }
        if kind != Some("package") {
            continue;
        }
        let Some((name, version)) = key.split_once('/') else {
            bad += 1;
            continue;
        };
        if !plausible_name(name) || !plausible_version(version) {
            bad += 1;
            continue;
        }
        if let Some(e) = entry(key) {
            let has_assets = ["runtime", "native", "runtimeTargets"].iter().any(|k| {
                e.get(*k)
                    .and_then(Value::as_object)
                    .is_some_and(|o| !o.is_empty())
            });
            if !has_assets {
                continue;
            }
        }
        let scope = if !has_project {
            None
        } else if direct.contains(&key.to_ascii_lowercase()) {
            Some(DependencyScope::Direct)
        } else {
            Some(DependencyScope::Transitive)
        };
        packages.push(nuget_package(name, version, scope, path));
    }
    Ok(with_bad(
        packages,
        bad,
        "libraries without a NAME/VERSION key",
    ))
}

/// One package of `packages.lock.json`.
#[derive(Debug, Deserialize)]
struct LockDependency {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    resolved: Option<String>,
}

/// `packages.lock.json`.
#[derive(Debug, Deserialize)]
struct PackagesLock {
    #[serde(default)]
    dependencies: BTreeMap<String, BTreeMap<String, Value>>,
}

/// Facts from a `packages.lock.json`.
fn packages_lock(bytes: &[u8], path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    let doc: PackagesLock =
        serde_json::from_slice(bytes).map_err(|e| not_json("packages.lock.json", e))?;
    // (lower-cased name, version) → (name as written, direct?), in first-seen order.
    let mut order: Vec<(String, String)> = Vec::new();
    let mut seen: BTreeMap<(String, String), (String, bool)> = BTreeMap::new();
    let mut bad = 0usize;
    for deps in doc.dependencies.values() {
        for (name, raw) in deps {
            let Ok(dep) = serde_json::from_value::<LockDependency>(raw.clone()) else {
                bad += 1;
                continue;
            };
            let direct = match dep.kind.as_deref() {
                Some("Direct") => true,
                Some("Transitive" | "CentralTransitive") => false,
                Some("Project") => continue,
                _ => {
                    bad += 1;
                    continue;
                }
            };
            let Some(version) = dep.resolved.filter(|v| plausible_version(v)) else {
                bad += 1;
                continue;
            };
            if !plausible_name(name) {
                bad += 1;
                continue;
            }
            let key = (name.to_ascii_lowercase(), version.clone());
            match seen.get_mut(&key) {
                Some(e) => e.1 |= direct,
                None => {
                    order.push(key.clone());
                    seen.insert(key, (name.clone(), direct));
                }
            }
        }
    }
    let packages = order
        .iter()
        .filter_map(|key| {
            let (name, direct) = seen.get(key)?;
            let scope = if *direct {
                DependencyScope::Direct
            } else {
                DependencyScope::Transitive
            };
            Some(nuget_package(name, &key.1, Some(scope), path))
        })
        .collect();
    Ok(with_bad(
        packages,
        bad,
        "entries without a known type or resolved version",
    ))
}

/// The packages, plus a warning when some entries were skipped.
fn with_bad(packages: Vec<Package>, bad: usize, what: &str) -> Vec<FileFact> {
    let mut facts = vec![FileFact::Packages(packages)];
    if bad > 0 {
        facts.push(FileFact::malformed(format!("{bad} {what} skipped")));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_model::WarningKind;

    fn got(facts: &[FileFact]) -> Vec<(String, String, Option<DependencyScope>)> {
        let FileFact::Packages(p) = &facts[0] else {
            panic!()
        };
        p.iter()
            .map(|p| (p.name.clone(), p.version.clone(), p.scope))
            .collect()
    }

    #[test]
    fn deps_json_runtime_packages() {
        let text = br#"{
  "runtimeTarget": {"name": ".NETCoreApp,Version=v6.0/linux-x64"},
  "targets": {
    ".NETCoreApp,Version=v6.0": {},
    ".NETCoreApp,Version=v6.0/linux-x64": {
      "App/1.0.0": {"dependencies": {"Newtonsoft.Json": "13.0.1", "Analyzers": "1.0.0"}, "runtime": {"App.dll": {}}},
      "Newtonsoft.Json/13.0.1": {"runtime": {"lib/net6.0/Newtonsoft.Json.dll": {}}, "dependencies": {"System.Buffers": "4.5.1"}},
      "System.Buffers/4.5.1": {"runtimeTargets": {"runtimes/unix/lib/System.Buffers.dll": {"rid": "unix"}}},
      "Analyzers/1.0.0": {"compile": {"ref/a.dll": {}}},
      "SQLitePCLRaw.lib/2.1.0": {"native": {"runtimes/linux-x64/native/libe_sqlite3.so": {}}}
    }
  },
  "libraries": {
    "App/1.0.0": {"type": "project", "serviceable": false, "sha512": ""},
    "Newtonsoft.Json/13.0.1": {"type": "package", "serviceable": true, "sha512": "sha512-x", "path": "newtonsoft.json/13.0.1"},
    "System.Buffers/4.5.1": {"type": "package"},
    "Analyzers/1.0.0": {"type": "package"},
    "SQLitePCLRaw.lib/2.1.0": {"type": "package"},
    "NotInTargets/2.0.0": {"type": "package"},
    "System.Runtime/4.0.0": {"type": "reference"},
    "broken": {"type": "package"}
  }
}"#;
        let facts = deps_json(text, "/app/App.deps.json").unwrap();
        use DependencyScope::*;
        assert_eq!(
            got(&facts),
            vec![
                ("App".into(), "1.0.0".into(), Some(Application)),
                ("Newtonsoft.Json".into(), "13.0.1".into(), Some(Direct)),
                ("NotInTargets".into(), "2.0.0".into(), Some(Transitive)),
                ("SQLitePCLRaw.lib".into(), "2.1.0".into(), Some(Transitive)),
                ("System.Buffers".into(), "4.5.1".into(), Some(Transitive)),
            ]
        );
        assert!(
            matches!(&facts[1], FileFact::Skipped { kind: WarningKind::MalformedFile, message: m } if m.starts_with("1 "))
        );
        let FileFact::Packages(p) = &facts[0] else {
            panic!()
        };
        assert_eq!(p[1].purl, "pkg:nuget/Newtonsoft.Json@13.0.1");
        assert_eq!(p[0].ecosystem, None);
        assert_eq!(p[1].ecosystem.as_deref(), Some("NuGet"));
    }

    #[test]
    fn packages_lock_dedupes_frameworks() {
        let text = br#"{
  "version": 1,
  "dependencies": {
    "net6.0": {
      "Serilog": {"type": "Transitive", "resolved": "2.12.0", "contentHash": "x"},
      "Newtonsoft.Json": {"type": "Direct", "requested": "[13.0.1, )", "resolved": "13.0.1"},
      "Lib": {"type": "Project", "dependencies": {"Serilog": "[2.12.0, )"}}
    },
    "net6.0/linux-x64": {
      "Serilog": {"type": "Direct", "resolved": "2.12.0"},
      "Microsoft.Extensions.Logging": {"type": "CentralTransitive", "requested": "[8.0.0, )", "resolved": "8.0.0"},
      "Odd": {"type": "Direct"},
      "Strange": 7
    }
  }
}"#;
        let facts = packages_lock(text, "/src/packages.lock.json").unwrap();
        use DependencyScope::*;
        assert_eq!(
            got(&facts),
            vec![
                ("Newtonsoft.Json".into(), "13.0.1".into(), Some(Direct)),
                ("Serilog".into(), "2.12.0".into(), Some(Direct)),
                (
                    "Microsoft.Extensions.Logging".into(),
                    "8.0.0".into(),
                    Some(Transitive)
                ),
            ]
        );
        assert!(
            matches!(&facts[1], FileFact::Skipped { kind: WarningKind::MalformedFile, message: m } if m.starts_with("2 "))
        );
    }

    #[test]
    fn bad_json() {
        assert!(deps_json(b"{", "/a.deps.json").is_err());
        assert!(packages_lock(b"[1,2]", "/packages.lock.json").is_err());
        let deep = "[".repeat(100_000);
        assert!(deps_json(deep.as_bytes(), "/a.deps.json").is_err());
        // Unexpected shapes inside are errors, not panics.
        assert!(deps_json(br#"{"libraries": 5}"#, "/a.deps.json").is_err());
        let facts = deps_json(br#"{"libraries": {"A/1.0": 5}}"#, "/a.deps.json").unwrap();
        assert!(got(&facts).is_empty());
    }

    #[test]
    fn wants() {
        let a = DotnetAnalyzer;
        let m = EntryMeta {
            kind: EntryKind::File,
            size: 100,
            mode: 0o644,
            uid: 0,
            gid: 0,
            capabilities: None,
        };
        assert_eq!(a.wants("/app/App.deps.json", &m), Want::Bytes);
        assert_eq!(a.wants("/app/.deps.json", &m), Want::No);
        assert_eq!(a.wants("/src/packages.lock.json", &m), Want::Bytes);
        assert_eq!(a.wants("/src/package-lock.json", &m), Want::No);
    }
}
