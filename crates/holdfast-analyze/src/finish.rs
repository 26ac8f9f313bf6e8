//! The steps that need the whole merged image: the OS, package purls (which name the
//! distribution), Debian licenses from copyright files, the layer that introduced each
//! package, the OS package that owns a language package's file, and dropping `setup.py`
//! requirements where the project has something better.

use std::collections::{HashMap, HashSet};

use holdfast_model::ImageMetadata;
use holdfast_model::{LayerInfo, OsFamily, OsRelease, Package, PackageType, Purl, Warning};

use crate::analyzer::FileFact;
use crate::layer::LayerAnalysis;
use crate::merge::{merge, MergedFs, Placed};
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
        for w in &layer.warnings {
            warnings.push(w.to_warning(id.as_deref()));
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
    crate::python::drop_superseded_setup_py(&mut packages, &fs);
    attach_deb_licenses(&mut packages, &fs);
    attach_owners(&mut packages, &fs);
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
            media_type: None,
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

fn attach_deb_licenses(packages: &mut [Package], fs: &MergedFs) {
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

/// The files whose ownership decides a language package's owner: the file it was read
/// from (for a member of an archive, `a.jar!/b.jar`, the archive on disk) and, for
/// installed metadata (`*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, `package.json`), the
/// package's directory too.
fn owner_keys(p: &Package) -> (&str, Option<&str>) {
    let file = p.path.split('!').next().unwrap_or_default();
    let dir = file.rsplit_once('/').and_then(|(dir, name)| {
        let metadata = match name {
            "METADATA" => dir.ends_with(".dist-info"),
            "PKG-INFO" => dir.ends_with(".egg-info"),
            "package.json" => true,
            _ => false,
        };
        (metadata && !dir.is_empty()).then_some(dir)
    });
    (file, dir)
}

/// Sets [`Package::owner`] on every language package whose file (see [`owner_keys`]) a
/// visible OS package file list names: the merged view, so a list a later layer deleted
/// (the package was removed) owns nothing. OS packages get no owner.
///
/// Only the paths language packages were read from are looked up, so the owned paths are
/// scanned once and never indexed. A listed path is also placed through the merged
/// symlinks (a list naming `/bin/x` where `/bin` links to `usr/bin`) when its file name is
/// one a language package has.
fn attach_owners(packages: &mut [Package], fs: &MergedFs) {
    let mut owners: HashMap<String, Option<String>> = HashMap::new();
    let mut names: HashSet<String> = HashSet::new();
    for p in packages.iter().filter(|p| !p.package_type.is_os()) {
        let (file, dir) = owner_keys(p);
        for key in std::iter::once(file).chain(dir) {
            if key.starts_with('/') {
                owners.insert(key.to_string(), None);
                names.extend(key.rsplit('/').next().map(str::to_string));
            }
        }
    }
    if owners.is_empty() {
        return;
    }
    for placed in fs.visible_all() {
        for fact in &placed.result.facts {
            let FileFact::OwnedFiles {
                package_type,
                name,
                paths,
            } = fact
            else {
                continue;
            };
            for line in paths.lines() {
                let slot = match owners.get_mut(line) {
                    Some(slot) => slot,
                    None => {
                        let base = line.rsplit('/').next().unwrap_or_default();
                        if !names.contains(base) {
                            continue;
                        }
                        let Some(at) = holdfast_source::path::resolve_parent(line, |p| {
                            fs.symlinks.get(p).map(String::as_str)
                        }) else {
                            continue;
                        };
                        match owners.get_mut(&at) {
                            Some(slot) => slot,
                            None => continue,
                        }
                    }
                };
                if slot.is_none() {
                    *slot = Some(format!("{}/{name}", package_type.as_str()));
                }
            }
        }
    }
    for p in packages.iter_mut().filter(|p| !p.package_type.is_os()) {
        let (file, dir) = owner_keys(p);
        let owner = std::iter::once(file)
            .chain(dir)
            .find_map(|k| owners.get(k).cloned().flatten());
        p.owner = owner;
    }
}

/// Package URLs for OS packages, which name the distribution (purl-spec `PURL-TYPES.rst`):
/// `pkg:deb/debian/NAME@VER?arch=A&distro=debian-12`, `pkg:apk/alpine/NAME@VER?arch=A&distro=3.19.1`,
/// `pkg:rpm/redhat/NAME@VER-REL?arch=A&epoch=E`. The namespace comes from the one family
/// table, [`OsFamily::purl_namespace`].
fn os_purl(p: &Package, os: Option<&OsRelease>) -> String {
    let family = os.map(|o| o.family).unwrap_or(OsFamily::Unknown);
    let version = os.map(|o| o.version.as_str()).unwrap_or("");
    let Some(ns) = family.purl_namespace(p.package_type) else {
        return String::new();
    };
    match p.package_type {
        PackageType::Deb => {
            // `debian-12`, `ubuntu-22.04`: the namespace is the os-release `ID` here.
            let distro = (!version.is_empty()).then(|| format!("{ns}-{version}"));
            Purl::new("deb", &p.name)
                .namespace(ns)
                .version(&p.version)
                .qualifier_opt("arch", p.arch.as_deref())
                .qualifier_opt("distro", distro.as_deref())
                .to_string()
        }
        PackageType::Apk => Purl::new("apk", &p.name)
            .namespace(ns)
            .version(&p.version)
            .qualifier_opt("arch", p.arch.as_deref())
            .qualifier_opt("distro", (!version.is_empty()).then_some(version))
            .to_string(),
        PackageType::Rpm => Purl::new("rpm", &p.name)
            .namespace(ns)
            .version(&p.version)
            .qualifier_opt("arch", p.arch.as_deref())
            .qualifier_opt("epoch", p.epoch.map(|e| e.to_string()).as_deref())
            .to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(package_type: PackageType) -> Package {
        Package {
            id: String::new(),
            name: "curl".into(),
            version: "8.5.0-1".into(),
            package_type,
            purl: String::new(),
            source_name: None,
            source_version: None,
            arch: Some("x86_64".into()),
            epoch: Some(1),
            licenses: Vec::new(),
            vendor: None,
            ecosystem: None,
            scope: None,
            layer: None,
            path: String::new(),
            owner: None,
            digests: Vec::new(),
            evidence: None,
        }
    }

    fn os(family: OsFamily, version: &str) -> OsRelease {
        OsRelease {
            family,
            version: version.into(),
            pretty_name: None,
            codename: None,
        }
    }

    #[test]
    fn os_purls_name_the_distribution() {
        use OsFamily::*;
        use PackageType::*;
        let purl = |t, f, v| os_purl(&pkg(t), Some(&os(f, v)));
        let rpm = |ns: &str| format!("pkg:rpm/{ns}/curl@8.5.0-1?arch=x86_64&epoch=1");
        assert_eq!(purl(Rpm, Alma, "9.3"), rpm("almalinux"));
        assert_eq!(purl(Rpm, Oracle, "9"), rpm("oracle"));
        assert_eq!(purl(Rpm, Amazon, "2023"), rpm("amazon"));
        assert_eq!(purl(Rpm, Redhat, "9.3"), rpm("redhat"));
        assert_eq!(purl(Rpm, Debian, "12"), rpm("redhat"));
        assert_eq!(os_purl(&pkg(Rpm), None), rpm("redhat"));
        assert_eq!(
            purl(Deb, Ubuntu, "22.04"),
            "pkg:deb/ubuntu/curl@8.5.0-1?arch=x86_64&distro=ubuntu-22.04"
        );
        assert_eq!(
            purl(Deb, Distroless, ""),
            "pkg:deb/debian/curl@8.5.0-1?arch=x86_64"
        );
        assert_eq!(
            purl(Apk, Wolfi, "20230201"),
            "pkg:apk/wolfi/curl@8.5.0-1?arch=x86_64&distro=20230201"
        );
        assert_eq!(
            purl(Apk, Debian, "12"),
            "pkg:apk/alpine/curl@8.5.0-1?arch=x86_64&distro=12"
        );
        assert_eq!(purl(Python, Alma, "9.3"), "");
    }
}
