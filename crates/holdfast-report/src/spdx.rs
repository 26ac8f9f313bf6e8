//! SPDX 2.3 JSON (<https://spdx.github.io/spdx-spec/v2.3/>). Written with our own serde
//! structs: the SPDX crates on the registry target reading documents, not writing them.
//! SPDX 2.3 has no vulnerability element; findings become annotations and `SECURITY`
//! external references on the package they are about (or on the image).

use std::collections::HashMap;

use holdfast_model::{
    DependencyScope, DigestAlgorithm, Finding, Package, ScanResult, TargetResult,
};
use serde::Serialize;

use crate::ids::{document_uuid, short_hash};
use crate::locate::{location, suppressed_by, PackageIndex};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

/// SPDX 2.3 `checksum`: an algorithm name from the spec's list and the hex value.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    download_location: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    files_analyzed: bool,
    license_concluded: &'static str,
    license_declared: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    license_comments: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    annotations: Vec<Annotation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Annotation {
    annotation_date: String,
    annotation_type: &'static str,
    annotator: String,
    comment: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

/// SPDX ids allow letters, digits, `.` and `-` only.
fn spdx_id(prefix: &str, seed: &str) -> String {
    format!("SPDXRef-{prefix}-{}", short_hash(seed))
}

fn package(p: &Package) -> SpdxPackage {
    SpdxPackage {
        spdx_id: spdx_id("Package", &p.id),
        name: p.name.clone(),
        version_info: Some(p.version.clone()),
        download_location: "NOASSERTION",
        checksums: p
            .digests
            .iter()
            .map(|d| Checksum {
                algorithm: match d.algorithm {
                    DigestAlgorithm::Sha1 => "SHA1",
                    DigestAlgorithm::Sha256 => "SHA256",
                },
                checksum_value: d.value.clone(),
            })
            .collect(),
        files_analyzed: false,
        license_concluded: "NOASSERTION",
        // Package licenses are copied as the package states them (Debian short names such
        // as `GPL-2+` are not SPDX expressions), so they go in the comment.
        license_declared: "NOASSERTION",
        license_comments: (!p.licenses.is_empty()).then(|| p.licenses.join(", ")),
        source_info: Some(match &p.layer {
            Some(l) => format!("found in {} (layer {l})", p.path),
            None => format!("found in {}", p.path),
        }),
        primary_package_purpose: (p.scope == Some(DependencyScope::Application))
            .then_some("APPLICATION"),
        external_refs: (!p.purl.is_empty())
            .then(|| ExternalRef {
                reference_category: "PACKAGE-MANAGER",
                reference_type: "purl",
                reference_locator: p.purl.clone(),
                comment: None,
            })
            .into_iter()
            .collect(),
        annotations: Vec::new(),
    }
}

/// One line saying what holdfast found, for an SPDX annotation.
fn finding_comment(f: &Finding) -> String {
    let mut c = format!(
        "holdfast {} {} ({}): {}",
        f.kind.as_str(),
        f.id,
        f.severity.as_str(),
        f.title
    );
    if let Some(v) = &f.installed_version {
        c.push_str(&format!("; installed {v}"));
    }
    if let Some(v) = &f.fixed_version {
        c.push_str(&format!("; fixed in {v}"));
    }
    let loc = location(f);
    if !loc.is_empty() {
        c.push_str(&format!("; at {loc}"));
    }
    if let Some(s) = &f.source {
        c.push_str(&format!("; reported by {s}"));
    }
    if let Some(s) = &f.suppression {
        c.push_str(&format!("; suppressed by {}", suppressed_by(s)));
    }
    c
}

/// Attaches a target's findings to the SPDX packages: a `SECURITY`/`advisory` external
/// reference for each advisory URL (as SPDX 2.3 annex K describes for linking security
/// information), and an annotation for every finding, on its package or on the image.
fn attach_findings(
    t: &TargetResult,
    packages: &mut [SpdxPackage],
    index: &HashMap<&str, usize>,
    target_index: usize,
    date: &str,
    annotator: &str,
) {
    let idx = PackageIndex::new(t);
    for f in t.findings.iter().chain(&t.suppressed) {
        // Every copy of the package the finding covers, else the image.
        let mut at: Vec<usize> = idx
            .packages_of(f)
            .iter()
            .filter_map(|p| index.get(p.id.as_str()).copied())
            .collect();
        if at.is_empty() {
            at.push(target_index);
        }
        for at in at {
            let Some(pkg) = packages.get_mut(at) else {
                continue;
            };
            annotate(pkg, f, date, annotator);
        }
    }
}

/// Records one finding on one SPDX package: its advisory link and an annotation.
fn annotate(pkg: &mut SpdxPackage, f: &holdfast_model::Finding, date: &str, annotator: &str) {
    if let Some(url) = f
        .references
        .iter()
        .find(|r| r.starts_with("https://") && !r.contains(char::is_whitespace))
    {
        let exists = pkg
            .external_refs
            .iter()
            .any(|e| e.reference_locator == *url);
        if !exists {
            pkg.external_refs.push(ExternalRef {
                reference_category: "SECURITY",
                reference_type: "advisory",
                reference_locator: url.clone(),
                comment: Some(f.id.clone()),
            });
        }
    }
    pkg.annotations.push(Annotation {
        annotation_date: date.to_string(),
        annotation_type: if f.suppression.is_some() {
            "REVIEW"
        } else {
            "OTHER"
        },
        annotator: annotator.to_string(),
        comment: finding_comment(f),
    });
}

/// Builds the SPDX document: one package per target (the image) containing its packages.
pub fn document(result: &ScanResult) -> Document {
    let mut packages = Vec::new();
    let mut relationships = Vec::new();
    let annotator = format!("Tool: {}-{}", result.tool.name, result.tool.version);
    let mut emitted: HashMap<&str, usize> = HashMap::new();
    for t in &result.targets {
        let target_id = spdx_id("Target", &t.name);
        packages.push(SpdxPackage {
            spdx_id: target_id.clone(),
            name: t.name.clone(),
            version_info: t.image_id.clone(),
            download_location: "NOASSERTION",
            checksums: Vec::new(),
            files_analyzed: false,
            license_concluded: "NOASSERTION",
            license_declared: "NOASSERTION",
            license_comments: None,
            source_info: None,
            primary_package_purpose: Some("CONTAINER"),
            external_refs: Vec::new(),
            annotations: Vec::new(),
        });
        let target_index = packages.len() - 1;
        let mut index = HashMap::new();
        relationships.push(Relationship {
            spdx_element_id: "SPDXRef-DOCUMENT".into(),
            relationship_type: "DESCRIBES",
            related_spdx_element: target_id.clone(),
        });
        for p in &t.packages {
            // A package two targets share (same purl) is one SPDX element that both
            // contain: SPDX ids must be unique in a document.
            let at = match emitted.get(p.id.as_str()) {
                Some(&at) => at,
                None => {
                    emitted.insert(p.id.as_str(), packages.len());
                    packages.push(package(p));
                    packages.len() - 1
                }
            };
            relationships.push(Relationship {
                spdx_element_id: target_id.clone(),
                relationship_type: "CONTAINS",
                related_spdx_element: packages[at].spdx_id.clone(),
            });
            index.insert(p.id.as_str(), at);
        }
        attach_findings(
            t,
            &mut packages,
            &index,
            target_index,
            &result.created_at,
            &annotator,
        );
    }
    let name = result
        .targets
        .iter()
        .map(|t| t.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        document_namespace: format!(
            "https://spdx.org/spdxdocs/holdfast-{}",
            document_uuid(result)
        ),
        name,
        creation_info: CreationInfo {
            created: result.created_at.clone(),
            creators: vec![annotator],
        },
        packages,
        relationships,
    }
}
