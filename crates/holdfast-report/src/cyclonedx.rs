//! CycloneDX 1.6 JSON (<https://cyclonedx.org/docs/1.6/json/>).
//!
//! Written with our own serde structs: the `cyclonedx-bom` crate (0.8.1, its newest
//! release) writes specification versions up to 1.5 only. The subset emitted here is
//! validated against the published 1.6 schema in the tests. Findings become
//! `vulnerabilities` (see `vex.rs`).

use holdfast_model::{DependencyScope, DigestAlgorithm, Package, ScanResult, TargetResult};
use serde::Serialize;

use crate::ids::document_uuid;

mod vex;

#[derive(Serialize)]
pub struct Bom {
    #[serde(rename = "$schema")]
    schema: &'static str,
    #[serde(rename = "bomFormat")]
    bom_format: &'static str,
    #[serde(rename = "specVersion")]
    spec_version: &'static str,
    #[serde(rename = "serialNumber")]
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    vulnerabilities: Vec<vex::Vulnerability>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    #[serde(skip_serializing_if = "Option::is_none")]
    component: Option<Component>,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize, Default)]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

/// CycloneDX `hash`: an algorithm name from the spec's list and the hex value.
#[derive(Serialize)]
struct Hash {
    alg: &'static str,
    content: String,
}

#[derive(Serialize)]
struct LicenseChoice {
    license: License,
}

#[derive(Serialize)]
struct License {
    name: String,
}

#[derive(Serialize)]
pub(crate) struct Property {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(rename = "dependsOn")]
    depends_on: Vec<String>,
}

pub(crate) fn prop(name: &str, value: impl Into<String>) -> Property {
    Property {
        name: format!("holdfast:{name}"),
        value: value.into(),
    }
}

fn package_component(p: &Package) -> Component {
    let mut properties = vec![
        prop("package:type", p.package_type.as_str()),
        prop("path", &p.path),
    ];
    if let Some(l) = &p.layer {
        properties.push(prop("layer:diff_id", l));
    }
    if let Some(s) = &p.source_name {
        properties.push(prop("source:name", s));
    }
    if let Some(s) = &p.source_version {
        properties.push(prop("source:version", s));
    }
    if let Some(a) = &p.arch {
        properties.push(prop("arch", a));
    }
    if let Some(v) = &p.vendor {
        properties.push(prop("vendor", v));
    }
    if let Some(e) = p.evidence {
        properties.push(prop("evidence", e.as_str()));
    }
    Component {
        // The project's own package is the application the others are libraries of.
        kind: if p.scope == Some(DependencyScope::Application) {
            "application"
        } else {
            "library"
        },
        bom_ref: Some(p.id.clone()),
        name: p.name.clone(),
        version: Some(p.version.clone()),
        hashes: p
            .digests
            .iter()
            .map(|d| Hash {
                alg: match d.algorithm {
                    DigestAlgorithm::Sha1 => "SHA-1",
                    DigestAlgorithm::Sha256 => "SHA-256",
                },
                content: d.value.clone(),
            })
            .collect(),
        purl: (!p.purl.is_empty()).then(|| p.purl.clone()),
        licenses: p
            .licenses
            .iter()
            .map(|l| LicenseChoice {
                license: License { name: l.clone() },
            })
            .collect(),
        properties,
    }
}

pub(crate) fn target_ref(t: &TargetResult) -> String {
    format!("target:{}", t.name)
}

/// Builds the BOM. Several targets become several top-level container components.
pub fn bom(result: &ScanResult) -> Bom {
    let mut components = Vec::new();
    let mut dependencies = Vec::new();
    let mut emitted = std::collections::HashSet::new();
    for t in &result.targets {
        let mut refs = Vec::new();
        if let Some(os) = &t.os {
            let os_ref = format!("{}:os", target_ref(t));
            components.push(Component {
                kind: "operating-system",
                bom_ref: Some(os_ref.clone()),
                name: os.family.as_str().to_string(),
                version: Some(os.version.clone()).filter(|v| !v.is_empty()),
                ..Default::default()
            });
            refs.push(os_ref);
        }
        for p in &t.packages {
            // Two targets holding the same package (same purl) share one component: the
            // schema wants `components` unique, and the bom-ref names the package.
            if emitted.insert(p.id.as_str()) {
                components.push(package_component(p));
            }
            refs.push(p.id.clone());
        }
        dependencies.push(Dependency {
            reference: target_ref(t),
            depends_on: refs,
        });
    }
    let main = match result.targets.as_slice() {
        [one] => Some(Component {
            kind: "container",
            bom_ref: Some(target_ref(one)),
            name: one.name.clone(),
            version: one.image_id.clone(),
            properties: one.platform.iter().map(|p| prop("platform", p)).collect(),
            ..Default::default()
        }),
        _ => {
            for t in &result.targets {
                components.push(Component {
                    kind: "container",
                    bom_ref: Some(target_ref(t)),
                    name: t.name.clone(),
                    version: t.image_id.clone(),
                    ..Default::default()
                });
            }
            None
        }
    };
    Bom {
        schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: format!("urn:uuid:{}", document_uuid(result)),
        version: 1,
        metadata: Metadata {
            timestamp: result.created_at.clone(),
            tools: Tools {
                components: vec![Component {
                    kind: "application",
                    name: result.tool.name.clone(),
                    version: Some(result.tool.version.clone()),
                    ..Default::default()
                }],
            },
            component: main,
        },
        components,
        dependencies,
        vulnerabilities: vex::vulnerabilities(result),
    }
}
