//! Maven's project model (`pom.xml`, POM reference at maven.apache.org/pom.html): the
//! project's own coordinates, its parent's, its `<properties>` and its dependencies.
//!
//! A pom is read alone: a parent pom or an imported BOM is another file, which is not
//! followed, so a `${property}` defined there stays unresolved and is reported as such
//! (never guessed). Properties are substituted from the pom's own `<properties>` and the
//! `project.*` / `parent.*` built-ins, a bounded number of times (a property may name
//! another, and a hostile file may make them name each other).

use std::collections::HashMap;

use crate::catalog::xmlish::{self, XmlError};

/// Rounds of `${...}` substitution before a value counts as unresolved.
const MAX_ROUNDS: usize = 8;
/// Dependencies kept per pom.
const MAX_DEPENDENCIES: usize = 100_000;
/// Properties kept per pom.
const MAX_PROPERTIES: usize = 10_000;

/// One `<dependency>` of `<dependencies>` (not of `<dependencyManagement>`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct PomDependency {
    pub group: String,
    pub artifact: String,
    /// As written (may hold `${...}`, a range, or be empty when managed elsewhere).
    pub version: String,
    /// `compile` when not written.
    pub scope: String,
    pub optional: bool,
}

/// What a pom says about its project.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Pom {
    pub group: Option<String>,
    pub artifact: Option<String>,
    pub version: Option<String>,
    pub parent_group: Option<String>,
    pub parent_version: Option<String>,
    pub properties: HashMap<String, String>,
    pub dependencies: Vec<PomDependency>,
    /// `<dependencyManagement>` versions by `group:artifact`.
    pub managed: HashMap<String, String>,
}

/// Parses a pom.
pub(crate) fn parse(text: &str) -> Result<Pom, XmlError> {
    let mut pom = Pom::default();
    let mut dep = PomDependency::default();
    let mut managed = PomDependency::default();
    xmlish::walk(text, |path, value| {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        let v = || Some(value.to_string());
        match p.as_slice() {
            ["project", "groupId"] => pom.group = v(),
            ["project", "artifactId"] => pom.artifact = v(),
            ["project", "version"] => pom.version = v(),
            ["project", "parent", "groupId"] => pom.parent_group = v(),
            ["project", "parent", "version"] => pom.parent_version = v(),
            ["project", "properties", name] if pom.properties.len() < MAX_PROPERTIES => {
                pom.properties.insert(name.to_string(), value.to_string());
            }
            ["project", "dependencies", "dependency", field] => set(&mut dep, field, value),
            ["project", "dependencies", "dependency"] => {
                let d = std::mem::take(&mut dep);
                if pom.dependencies.len() < MAX_DEPENDENCIES {
                    pom.dependencies.push(d);
                }
            }
            ["project", "dependencyManagement", "dependencies", "dependency", field] => {
                set(&mut managed, field, value)
            }
            ["project", "dependencyManagement", "dependencies", "dependency"] => {
                let d = std::mem::take(&mut managed);
                if pom.managed.len() < MAX_DEPENDENCIES {
                    pom.managed
                        .insert(format!("{}:{}", d.group, d.artifact), d.version);
                }
            }
            _ => {}
        }
    })?;
    Ok(pom)
}

/// Sets one field of a dependency being read.
fn set(d: &mut PomDependency, field: &str, value: &str) {
    match field {
        "groupId" => d.group = value.to_string(),
        "artifactId" => d.artifact = value.to_string(),
        "version" => d.version = value.to_string(),
        "scope" => d.scope = value.to_string(),
        "optional" => d.optional = value == "true",
        _ => {}
    }
}

impl Pom {
    /// The project's group: its own, else its parent's (Maven inherits it).
    pub(crate) fn effective_group(&self) -> Option<String> {
        let g = self
            .group
            .as_deref()
            .or(self.parent_group.as_deref())
            .filter(|g| !g.is_empty())?;
        self.resolve(g)
    }

    /// The project's version: its own, else its parent's.
    pub(crate) fn effective_version(&self) -> Option<String> {
        let v = self
            .version
            .as_deref()
            .or(self.parent_version.as_deref())
            .filter(|v| !v.is_empty())?;
        self.resolve(v)
    }

    /// A value with its `${...}` references substituted; `None` when one cannot be.
    pub(crate) fn resolve(&self, value: &str) -> Option<String> {
        let mut v = value.to_string();
        for _ in 0..MAX_ROUNDS {
            let Some(start) = v.find("${") else {
                return Some(v);
            };
            let end = start + v[start..].find('}')?;
            let name = &v[start + 2..end];
            let with = self
                .builtin(name)
                .or_else(|| self.properties.get(name).cloned())?;
            v.replace_range(start..=end, &with);
            if v.len() > 1024 {
                return None;
            }
        }
        (!v.contains("${")).then_some(v)
    }

    /// The `project.*` and `parent.*` built-in properties.
    fn builtin(&self, name: &str) -> Option<String> {
        match name {
            "project.version" | "version" | "pom.version" => {
                self.version.clone().or(self.parent_version.clone())
            }
            "project.groupId" | "groupId" | "pom.groupId" => {
                self.group.clone().or(self.parent_group.clone())
            }
            "project.artifactId" | "artifactId" => self.artifact.clone(),
            "project.parent.version" | "parent.version" => self.parent_version.clone(),
            "project.parent.groupId" | "parent.groupId" => self.parent_group.clone(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_properties_and_dependencies() {
        let pom = parse(
            "<project><parent><groupId>org.acme</groupId><version>2.0</version></parent>\
             <artifactId>w</artifactId><properties><jx.version>2.15.2</jx.version>\
             <loop>${loop}</loop></properties>\
             <dependencyManagement><dependencies><dependency><groupId>m</groupId>\
             <artifactId>n</artifactId><version>9</version></dependency></dependencies>\
             </dependencyManagement><dependencies><dependency><groupId>c</groupId>\
             <artifactId>j</artifactId><version>${jx.version}</version><scope>test</scope>\
             </dependency></dependencies></project>",
        )
        .unwrap();
        assert_eq!(pom.effective_group().as_deref(), Some("org.acme"));
        assert_eq!(pom.effective_version().as_deref(), Some("2.0"));
        assert_eq!(pom.dependencies.len(), 1);
        assert_eq!(pom.dependencies[0].scope, "test");
        assert_eq!(
            pom.resolve(&pom.dependencies[0].version).as_deref(),
            Some("2.15.2")
        );
        assert_eq!(pom.managed.get("m:n").map(String::as_str), Some("9"));
        assert_eq!(pom.resolve("${loop}"), None);
        assert_eq!(pom.resolve("${nope}"), None);
        assert_eq!(pom.resolve("${project.version}").as_deref(), Some("2.0"));
    }
}
