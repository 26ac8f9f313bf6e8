//! Language packages in files an OS package owns name that package as their owner: dpkg
//! file lists (`/var/lib/dpkg/info/*.list`) and apk's `installed` (`F:`/`R:`), through the
//! walker, the merge (a later layer's whiteout removes the ownership) and the finish step.

use std::io::Cursor;

use holdfast_analyze::AnalyzeOptions;
use holdfast_model::{Package, PackageType};
use holdfast_source::{
    ImageMetadata, LayerInfo, LayerOpenError, LayerStream, LayerVisit, LayerVisitor, Source,
    TargetKind,
};

/// An image of in-memory layers, bottom first.
struct Layers {
    metadata: ImageMetadata,
    tars: Vec<Vec<u8>>,
}

impl Layers {
    fn new(layers: &[&[(&str, &str)]]) -> Self {
        let tars: Vec<Vec<u8>> = layers
            .iter()
            .map(|files| {
                let mut b = tar::Builder::new(Vec::new());
                for (path, data) in *files {
                    let mut h = tar::Header::new_gnu();
                    h.set_size(data.len() as u64);
                    h.set_mode(0o644);
                    h.set_entry_type(tar::EntryType::Regular);
                    b.append_data(&mut h, path.trim_start_matches('/'), data.as_bytes())
                        .unwrap();
                }
                b.into_inner().unwrap()
            })
            .collect();
        Layers {
            metadata: ImageMetadata {
                layers: vec![LayerInfo::default(); tars.len()],
                ..ImageMetadata::new("test", TargetKind::Image)
            },
            tars,
        }
    }
}

impl Source for Layers {
    fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }
    fn stream_layers(&self, indexes: &[usize], visit: &LayerVisitor<'_>) -> Vec<LayerOpenError> {
        for &i in indexes {
            let mut r = Cursor::new(self.tars[i].as_slice());
            visit(LayerVisit {
                index: Some(i),
                stream: LayerStream::Tar(&mut r),
            });
        }
        Vec::new()
    }
}

fn packages(source: &Layers) -> Vec<Package> {
    let facts = holdfast_analyze::analyze(
        source,
        &holdfast_analyze::registry::all(),
        &AnalyzeOptions::default(),
    );
    facts.packages
}

/// (type, name, owner) of every package.
fn owners(packages: &[Package]) -> Vec<(PackageType, &str, Option<&str>)> {
    packages
        .iter()
        .map(|p| (p.package_type, p.name.as_str(), p.owner.as_deref()))
        .collect()
}

fn metadata(name: &str, version: &str) -> String {
    format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
}

const DPKG_STATUS: &str =
    "Package: python3-foo\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0-1\n";
const FOO_LIST: &str = "/.\n/usr\n/usr/lib\n/usr/lib/python3\n/usr/lib/python3/dist-packages\n/usr/lib/python3/dist-packages/foo-1.0.dist-info\n/usr/lib/python3/dist-packages/foo-1.0.dist-info/METADATA\n/usr/lib/python3/dist-packages/foo-1.0.dist-info/RECORD\n";
const OWNED: &str = "/usr/lib/python3/dist-packages/foo-1.0.dist-info/METADATA";
const PIP_INSTALLED: &str = "/usr/local/lib/python3.11/dist-packages/bar-2.0.dist-info/METADATA";

#[test]
fn dpkg_lists_name_the_owner_of_language_packages() {
    let foo = metadata("foo", "1.0");
    let bar = metadata("bar", "2.0");
    let source = Layers::new(&[&[
        ("/var/lib/dpkg/status", DPKG_STATUS),
        ("/var/lib/dpkg/info/python3-foo:amd64.list", FOO_LIST),
        (OWNED, &foo),
        (PIP_INSTALLED, &bar),
    ]]);
    let got = packages(&source);
    assert_eq!(
        owners(&got),
        [
            (PackageType::Deb, "python3-foo", None),
            (PackageType::Python, "bar", None),
            (PackageType::Python, "foo", Some("deb/python3-foo")),
        ]
    );
}

#[test]
fn a_removed_list_owns_nothing() {
    let foo = metadata("foo", "1.0");
    // The package is removed (its list deleted) but the dist-info stays behind.
    let source = Layers::new(&[
        &[
            ("/var/lib/dpkg/status", DPKG_STATUS),
            ("/var/lib/dpkg/info/python3-foo.list", FOO_LIST),
            (OWNED, &foo),
        ],
        &[
            ("/var/lib/dpkg/status", ""),
            ("/var/lib/dpkg/info/.wh.python3-foo.list", ""),
        ],
    ]);
    let got = packages(&source);
    assert_eq!(owners(&got), [(PackageType::Python, "foo", None)]);
}

#[test]
fn apk_installed_names_the_owner_of_language_packages() {
    let installed = "P:musl\nV:1.2.4-r2\nA:x86_64\nF:lib\nR:ld-musl-x86_64.so.1\n\n\
P:py3-foo\nV:1.0-r0\nA:noarch\nF:usr/lib/python3.11/site-packages/foo-1.0.dist-info\nR:METADATA\nR:RECORD\n\n";
    let foo = metadata("foo", "1.0");
    let bar = metadata("bar", "2.0");
    let source = Layers::new(&[&[
        ("/etc/alpine-release", "3.19.1\n"),
        ("/lib/apk/db/installed", installed),
        (
            "/usr/lib/python3.11/site-packages/foo-1.0.dist-info/METADATA",
            &foo,
        ),
        (
            "/usr/lib/python3.11/site-packages/bar-2.0.dist-info/METADATA",
            &bar,
        ),
    ]]);
    let got = packages(&source);
    assert_eq!(
        owners(&got),
        [
            (PackageType::Apk, "musl", None),
            (PackageType::Apk, "py3-foo", None),
            (PackageType::Python, "bar", None),
            (PackageType::Python, "foo", Some("apk/py3-foo")),
        ]
    );
}
