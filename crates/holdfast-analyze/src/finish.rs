//! The steps that need the whole merged image: the OS, package purls (which name the
//! distribution), Debian licenses from copyright files, and the layer that introduced each
//! package.

use std::collections::{HashMap, HashSet};

use holdfast_model::{LayerInfo, OsFamily, OsRelease, Package, PackageType, Purl, Warning};
use holdfast_source::ImageMetadata;

use crate::analyzer::FileFact;
use crate::layer::LayerAnalysis;
use crate::merge::{merge, Placed};
use crate::{os, ImageFacts};

pub(crate) fn finish(
    metadata: ImageMetadata,
    layers: Vec<LayerAnalysis>,
    mut warnings: Vec<Warning>,
    cached_layers: usize,
    read_layers: usize,
) -> ImageFacts {
    let layer_ids: Vec<Option<String>> = metadata
        .layers
        .iter()
        .zip(&layers)
        .map(|(d, a)| d.diff_id.clone().or_else(|| a.diff_id.clone()))
        .collect();
    for (layer, id) in layers.iter().zip(&layer_ids) {
        for (path, message) in &layer.warnings {
            warnings.push(Warning {
                layer: id.clone(),
                path: path.clone(),
                message: message.clone(),
            });
        }
    }
    let fs = merge(&layers);
    let os = os::detect(&fs);

    let mut packages = Vec::new();
    for by_analyzer in fs.stacks.values() {
        for stack in by_analyzer.values() {
            let Some(top) = stack.last() else { continue };
            for fact in &top.result.facts {
                let FileFact::Packages(found) = fact else {
                    continue;
                };
                for p in found {
                    let mut p = p.clone();
                    if p.path.is_empty() {
                        p.path = top.result.path.clone();
                    }
                    p.layer =
                        introduced_in(stack, &p).and_then(|i| layer_ids.get(i).cloned().flatten());
                    packages.push(p);
                }
            }
        }
    }
    attach_deb_licenses(&mut packages, &fs);
    for p in &mut packages {
        if p.purl.is_empty() {
            p.purl = os_purl(p, os.as_ref());
        }
    }
    packages.sort_by(|a, b| {
        (a.package_type, &a.name, &a.version, &a.path, &a.arch).cmp(&(
            b.package_type,
            &b.name,
            &b.version,
            &b.path,
            &b.arch,
        ))
    });
    assign_ids(&mut packages);
    warnings.sort();
    warnings.dedup();

    let layers_info = metadata
        .layers
        .iter()
        .zip(&layer_ids)
        .map(|(d, id)| LayerInfo {
            diff_id: id.clone(),
            digest: d.digest.clone(),
            created_by: d.created_by.clone(),
            size: d.size,
        })
        .collect();
    ImageFacts {
        metadata,
        os,
        packages,
        layers: layers_info,
        warnings,
        fs,
        cached_layers,
        read_layers,
    }
}

/// The lowest layer of the unbroken run, ending at the visible result, in which the same
/// file listed the same package: where the package was installed, not where the
/// database was last rewritten.
fn introduced_in(stack: &[Placed], p: &Package) -> Option<usize> {
    let key = |q: &Package| (q.name.clone(), q.version.clone(), q.arch.clone());
    let want = key(p);
    let mut layer = stack.last()?.layer;
    for placed in stack.iter().rev().skip(1) {
        let has = placed.result.facts.iter().any(|f| match f {
            FileFact::Packages(ps) => ps.iter().any(|q| key(q) == want),
            _ => false,
        });
        if !has {
            break;
        }
        layer = placed.layer;
    }
    Some(layer)
}

fn attach_deb_licenses(packages: &mut [Package], fs: &crate::merge::MergedFs) {
    let mut cache: HashMap<String, Vec<String>> = HashMap::new();
    for p in packages
        .iter_mut()
        .filter(|p| p.package_type == PackageType::Deb)
    {
        if let Some(l) = cache.get(&p.name) {
            p.licenses = l.clone();
            continue;
        }
        let doc = format!("/usr/share/doc/{}/copyright", p.name);
        let licenses = fs
            .resolve(&doc)
            .and_then(|at| fs.visible(&at, "dpkg"))
            .and_then(|placed| {
                placed.result.facts.iter().find_map(|f| match f {
                    FileFact::PackageLicense { licenses, .. } => Some(licenses.clone()),
                    _ => None,
                })
            })
            .unwrap_or_default();
        cache.insert(p.name.clone(), licenses.clone());
        p.licenses = licenses;
    }
}

/// Package URLs for OS packages, which name the distribution (purl-spec `PURL-TYPES.rst`):
/// `pkg:deb/debian/NAME@VER?arch=A&distro=debian-12`, `pkg:apk/alpine/NAME@VER?arch=A&distro=3.19.1`,
/// `pkg:rpm/redhat/NAME@VER-REL?arch=A&epoch=E`.
fn os_purl(p: &Package, os: Option<&OsRelease>) -> String {
    let family = os.map(|o| o.family).unwrap_or(OsFamily::Unknown);
    let version = os.map(|o| o.version.as_str()).unwrap_or("");
    match p.package_type {
        PackageType::Deb => {
            let ns = match family {
                OsFamily::Ubuntu => "ubuntu",
                _ => "debian",
            };
            let distro = (!version.is_empty()).then(|| format!("{ns}-{version}"));
            Purl::new("deb", &p.name)
                .namespace(ns)
                .version(&p.version)
                .qualifier_opt("arch", p.arch.as_deref())
                .qualifier_opt("distro", distro.as_deref())
                .to_string()
        }
        PackageType::Apk => {
            let ns = match family {
                OsFamily::Wolfi => "wolfi",
                OsFamily::Chainguard => "chainguard",
                _ => "alpine",
            };
            Purl::new("apk", &p.name)
                .namespace(ns)
                .version(&p.version)
                .qualifier_opt("arch", p.arch.as_deref())
                .qualifier_opt("distro", (!version.is_empty()).then_some(version))
                .to_string()
        }
        PackageType::Rpm => {
            let ns = match family {
                OsFamily::Centos => "centos",
                OsFamily::Rocky => "rocky",
                OsFamily::Alma => "almalinux",
                OsFamily::Oracle => "oracle",
                OsFamily::Fedora => "fedora",
                OsFamily::Amazon => "amazon",
                OsFamily::Suse => "suse",
                OsFamily::Opensuse => "opensuse",
                OsFamily::Photon => "photon",
                OsFamily::Mariner => "mariner",
                _ => "redhat",
            };
            Purl::new("rpm", &p.name)
                .namespace(ns)
                .version(&p.version)
                .qualifier_opt("arch", p.arch.as_deref())
                .qualifier_opt("epoch", p.epoch.map(|e| e.to_string()).as_deref())
                .to_string()
        }
        _ => String::new(),
    }
}

/// Ids are purls, made unique with the path when one purl occurs in several files.
fn assign_ids(packages: &mut [Package]) {
    let mut seen: HashSet<String> = HashSet::new();
    let mut dup: HashSet<String> = HashSet::new();
    for p in packages.iter() {
        if !seen.insert(p.purl.clone()) {
            dup.insert(p.purl.clone());
        }
    }
    let mut used: HashSet<String> = HashSet::new();
    for p in packages.iter_mut() {
        let mut id = if dup.contains(&p.purl) {
            format!("{}#{}", p.purl, p.path)
        } else {
            p.purl.clone()
        };
        let mut n = 2;
        while !used.insert(id.clone()) {
            id = format!("{}#{}~{n}", p.purl, p.path);
            n += 1;
        }
        p.id = id;
    }
}
