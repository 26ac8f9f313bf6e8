//! Maven and Gradle declarations in source trees: `pom.xml` and Gradle's dependency lock
//! files (`gradle.lockfile`, and the older `gradle/dependency-locks/*.lockfile`).
//!
//! * `pom.xml`: the project itself (scope `application`) and its `<dependencies>`
//!   (`test` and `provided` scopes are development-only; others direct). A version is
//!   resolved from the pom's own `<properties>`, the `project.*` built-ins and its
//!   `<dependencyManagement>`; one that is not (a property of a parent pom, a version
//!   range, or none at all) is reported as written, with `evidence: unresolved` and no
//!   ecosystem, so it is listed but never matched against advisories.
//! * Gradle lock files: one `GROUP:ARTIFACT:VERSION=CONFIGURATIONS` line per resolved
//!   module (Gradle "Locking dependency versions"); a module locked only in test
//!   configurations is development-only. `empty=...` lines and comments are skipped.

use holdfast_model::path::{file_name, parent};
use holdfast_model::{DependencyScope, Evidence, Package, WarningKind};

use super::{maven_package, pom};
use crate::analyzer::{AnalyzeError, FileFact};
use crate::catalog::package::{plausible_name, plausible_version};
use crate::catalog::MAX_PACKAGES;

/// Which declaration file a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A Maven project model.
    Pom,
    /// A Gradle dependency lock file.
    GradleLock,
}

/// The kind of declaration file at `path`, by name alone.
pub(crate) fn kind(path: &str) -> Option<Kind> {
    let name = file_name(path);
    if name == "pom.xml" {
        return Some(Kind::Pom);
    }
    if name == "gradle.lockfile"
        || (name.ends_with(".lockfile") && parent(path).ends_with("gradle/dependency-locks"))
    {
        return Some(Kind::GradleLock);
    }
    None
}

/// Parses one declaration file.
pub(crate) fn parse(kind: Kind, text: &str, path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    match kind {
        Kind::Pom => parse_pom(text, path),
        Kind::GradleLock => Ok(parse_gradle_lock(text, path)),
    }
}

/// A `pom.xml` in a source tree.
fn parse_pom(text: &str, path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    let pom = pom::parse(text)
        .map_err(|e| AnalyzeError::Malformed(format!("pom.xml is not readable XML: {}", e.0)))?;
    let mut packages = Vec::new();
    let mut bad = 0usize;
    if let (Some(g), Some(a), Some(v)) = (
        pom.effective_group(),
        pom.artifact.as_deref(),
        pom.effective_version(),
    ) {
        if plausible_name(&g) && plausible_name(a) && plausible_version(&v) {
            let mut p = maven_package(Some(&g), a, &v, path);
            p.scope = Some(DependencyScope::Application);
            p.ecosystem = None;
            packages.push(p);
        }
    }
    for d in &pom.dependencies {
        if packages.len() >= MAX_PACKAGES {
            break;
        }
        let group = pom.resolve(&d.group).unwrap_or_else(|| d.group.clone());
        let artifact = pom
            .resolve(&d.artifact)
            .unwrap_or_else(|| d.artifact.clone());
        if !plausible_name(&group) || !plausible_name(&artifact) {
            bad += 1;
            continue;
        }
        let written = if d.version.is_empty() {
            pom.managed
                .get(&format!("{group}:{artifact}"))
                .cloned()
                .unwrap_or_default()
        } else {
            d.version.clone()
        };
        let scope = match d.scope.as_str() {
            "test" | "provided" => Some(DependencyScope::Dev),
            _ => Some(DependencyScope::Direct),
        };
        let resolved = pom.resolve(&written).filter(|v| is_exact(v));
        let mut p = match resolved {
            Some(v) => maven_package(Some(&group), &artifact, &v, path),
            None => {
                // Listed as written (without whitespace), never guessed.
                let shown: String = written.split_whitespace().collect();
                let mut p = maven_package(Some(&group), &artifact, "", path);
                p.purl = p.purl.trim_end_matches('@').to_string();
                p.version = shown;
                p.ecosystem = None;
                p.evidence = Some(Evidence::Unresolved);
                p
            }
        };
        p.scope = scope;
        packages.push(p);
    }
    dedup(&mut packages);
    let mut facts = vec![FileFact::Packages(packages)];
    if bad > 0 {
        facts.push(FileFact::malformed(format!(
            "{bad} dependencies without a usable groupId or artifactId skipped"
        )));
    }
    Ok(facts)
}

/// A single version, not a range (`[1.0,2.0)`) or a reference.
fn is_exact(v: &str) -> bool {
    plausible_version(v) && !v.contains(['[', ']', '(', ')', ',', '$'])
}

/// Keeps the first of packages with the same name, version and scope.
fn dedup(packages: &mut Vec<Package>) {
    let mut seen = std::collections::HashSet::new();
    packages.retain(|p| seen.insert((p.name.clone(), p.version.clone(), p.scope)));
}

/// A Gradle lock file.
fn parse_gradle_lock(text: &str, path: &str) -> Vec<FileFact> {
    let mut packages = Vec::new();
    let mut bad = 0usize;
    let mut first_bad = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("empty=") {
            continue;
        }
        let (coords, configs) = line.split_once('=').unwrap_or((line, ""));
        let parts: Vec<&str> = coords.split(':').collect();
        let [group, artifact, version] = parts.as_slice() else {
            bad += 1;
            first_bad.get_or_insert_with(|| super::clean(line));
            continue;
        };
        if !plausible_name(group) || !plausible_name(artifact) || !plausible_version(version) {
            bad += 1;
            first_bad.get_or_insert_with(|| super::clean(line));
            continue;
        }
        if packages.len() >= MAX_PACKAGES {
            break;
        }
        let test_only = !configs.is_empty()
            && configs
                .split(',')
                .all(|c| c.trim().starts_with("test") || c.trim().contains("Test"));
        let mut p = maven_package(Some(group), artifact, version, path);
        p.scope = test_only.then_some(DependencyScope::Dev);
        packages.push(p);
    }
    dedup(&mut packages);
    let mut facts = vec![FileFact::Packages(packages)];
    if bad > 0 {
        facts.push(FileFact::skipped(
            WarningKind::MalformedFile,
            format!(
                "{bad} lines that are not GROUP:ARTIFACT:VERSION=CONFIGURATIONS skipped (first: `{}`)",
                first_bad.unwrap_or_default()
            ),
        ));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(
        facts: &[FileFact],
    ) -> Vec<(String, String, Option<DependencyScope>, Option<Evidence>)> {
        let FileFact::Packages(p) = &facts[0] else {
            panic!("packages first")
        };
        p.iter()
            .map(|p| (p.name.clone(), p.version.clone(), p.scope, p.evidence))
            .collect()
    }

    #[test]
    fn kinds() {
        assert_eq!(kind("/src/app/pom.xml"), Some(Kind::Pom));
        assert_eq!(kind("/src/app/gradle.lockfile"), Some(Kind::GradleLock));
        assert_eq!(
            kind("/src/app/gradle/dependency-locks/compileClasspath.lockfile"),
            Some(Kind::GradleLock)
        );
        assert_eq!(kind("/src/app/x.lockfile"), None);
        assert_eq!(kind("/usr/share/maven-repo/a/1/a-1.pom"), None);
    }

    #[test]
    fn pom_dependencies_resolved_or_marked() {
        let text = "<project>\n  <parent><groupId>org.acme</groupId><artifactId>p</artifactId><version>1.0</version></parent>\n  <artifactId>app</artifactId>\n  <properties><jackson.version>2.15.2</jackson.version></properties>\n  <dependencyManagement><dependencies><dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.9</version></dependency></dependencies></dependencyManagement>\n  <dependencies>\n    <dependency><groupId>com.fasterxml.jackson.core</groupId><artifactId>jackson-core</artifactId><version>${jackson.version}</version></dependency>\n    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId></dependency>\n    <dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.2</version><scope>test</scope></dependency>\n    <dependency><groupId>io.netty</groupId><artifactId>netty-all</artifactId><version>${netty.version}</version></dependency>\n    <dependency><groupId>x</groupId><artifactId>ranged</artifactId><version>[1.0,2.0)</version></dependency>\n    <dependency><artifactId>nogroup</artifactId></dependency>\n  </dependencies>\n</project>\n";
        let facts = parse_pom(text, "/src/pom.xml").unwrap();
        use DependencyScope::*;
        assert_eq!(
            rows(&facts),
            vec![
                ("org.acme:app".into(), "1.0".into(), Some(Application), None),
                (
                    "com.fasterxml.jackson.core:jackson-core".into(),
                    "2.15.2".into(),
                    Some(Direct),
                    None
                ),
                (
                    "org.slf4j:slf4j-api".into(),
                    "2.0.9".into(),
                    Some(Direct),
                    None
                ),
                ("junit:junit".into(), "4.13.2".into(), Some(Dev), None),
                (
                    "io.netty:netty-all".into(),
                    "${netty.version}".into(),
                    Some(Direct),
                    Some(Evidence::Unresolved)
                ),
                (
                    "x:ranged".into(),
                    "[1.0,2.0)".into(),
                    Some(Direct),
                    Some(Evidence::Unresolved)
                ),
            ]
        );
        let FileFact::Packages(p) = &facts[0] else {
            panic!()
        };
        assert_eq!(p[4].ecosystem, None);
        assert_eq!(p[4].purl, "pkg:maven/io.netty/netty-all");
        assert!(matches!(
            &facts[1],
            FileFact::Skipped {
                kind: WarningKind::MalformedFile,
                ..
            }
        ));
        assert!(matches!(
            parse_pom("<project><dependencies></project>", "/src/pom.xml"),
            Err(AnalyzeError::Malformed(m)) if m.starts_with("pom.xml is not readable XML")
        ));
    }

    #[test]
    fn gradle_lock_lines() {
        let facts = parse_gradle_lock(
            "# This is a Gradle generated file for dependency locking.\n\
             com.google.guava:guava:31.1-jre=compileClasspath,runtimeClasspath\n\
             org.junit.jupiter:junit-jupiter:5.9.0=testCompileClasspath,testRuntimeClasspath\n\
             not a coordinate\n\
             empty=annotationProcessor\n",
            "/src/gradle.lockfile",
        );
        assert_eq!(
            rows(&facts),
            vec![
                (
                    "com.google.guava:guava".into(),
                    "31.1-jre".into(),
                    None,
                    None
                ),
                (
                    "org.junit.jupiter:junit-jupiter".into(),
                    "5.9.0".into(),
                    Some(DependencyScope::Dev),
                    None
                ),
            ]
        );
        assert!(
            matches!(&facts[1], FileFact::Skipped { kind: WarningKind::MalformedFile, message }
            if message.contains("`not a coordinate`"))
        );
    }
}
