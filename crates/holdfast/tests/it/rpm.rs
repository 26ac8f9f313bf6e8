//! rpm databases written by the real rpm tools, read without them, inside an image.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::common::*;

fn sh(cmd: &str) -> String {
    let out = Command::new("sh").args(["-c", cmd]).output().unwrap();
    assert!(
        out.status.success(),
        "`{cmd}`: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const SPEC: &str = r#"
Name: NAME
Epoch: EPOCH
Version: VERSION
Release: RELEASE
Summary: a test package
License: LICENSE
Vendor: Holdfast Test
BuildArch: noarch
%description
A package made for holdfast's tests.
%install
mkdir -p %{buildroot}/usr/share/NAME
echo NAME > %{buildroot}/usr/share/NAME/README
%files
/usr/share/NAME/README
"#;

fn build_rpms(dir: &Path) -> Vec<String> {
    let mut rpms = Vec::new();
    for (name, epoch, version, release, license) in [
        ("hf-alpha", "2", "1.2.3", "4.el9", "MIT"),
        ("hf-beta", "0", "0.9", "1.el9", "GPL-2.0-or-later"),
    ] {
        let spec = SPEC
            .replace("NAME", name)
            .replace("EPOCH", epoch)
            .replace("VERSION", version)
            .replace("RELEASE", release)
            .replace("LICENSE", license);
        let spec_path = dir.join(format!("{name}.spec"));
        std::fs::write(&spec_path, spec).unwrap();
        sh(&format!(
            "rpmbuild --quiet --define '_topdir {}/top' -bb '{}'",
            dir.display(),
            spec_path.display()
        ));
        rpms.push(format!(
            "{}/top/RPMS/noarch/{name}-{version}-{release}.noarch.rpm",
            dir.display()
        ));
    }
    rpms
}

type Row = (String, String, String, String, String, String);

#[test]
fn rpm_sqlite_database_matches_rpm_qa() {
    if !have_tool("rpmbuild") {
        return;
    }
    let d = temp();
    let rpms = build_rpms(d.path());
    let root = d.path().join("root");
    let db = root.join("var/lib/rpm");
    std::fs::create_dir_all(&db).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "ID=\"rhel\"\nVERSION_ID=\"9.3\"\nPRETTY_NAME=\"Red Hat Enterprise Linux 9.3\"\n",
    )
    .unwrap();
    sh(&format!(
        "rpm --dbpath '{0}' --initdb && rpm -i --dbpath '{0}' --nodeps --justdb --ignorearch --ignoreos {1}",
        db.display(),
        rpms.join(" ")
    ));
    let expected: BTreeSet<Row> = sh(&format!(
        "rpm -qa --dbpath '{}' --qf '%{{NAME}}|%{{EPOCHNUM}}|%{{VERSION}}-%{{RELEASE}}|%{{ARCH}}|%{{SOURCERPM}}|%{{LICENSE}}\\n'",
        db.display()
    ))
    .lines()
    .map(|l| {
        let c: Vec<&str> = l.split('|').collect();
        let src = c[4].trim_end_matches(".src.rpm").to_string();
        (c[0].into(), c[1].into(), c[2].into(), c[3].into(), src, c[5].into())
    })
    .collect();
    assert_eq!(expected.len(), 2);
    // As a layer of an image and as a root filesystem.
    let layer_tar = Command::new("tar")
        .args(["-C", &path_str(&root), "-c", "."])
        .output()
        .unwrap()
        .stdout;
    let image = d.path().join("img.tar");
    docker_archive(&image, &[layer_tar], Z::Gzip, &[]);
    let (from_image, _) = sbom_json(&path_str(&image), &[]);
    let out = holdfast()
        .args([
            "scan",
            "rootfs",
            "-f",
            "json",
            "--no-cache",
            &path_str(&root),
        ])
        .output()
        .unwrap();
    let from_rootfs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for r in [from_image, from_rootfs] {
        let t = &r["targets"][0];
        assert_eq!(t["os"]["family"], "redhat");
        let got: BTreeSet<Row> = t["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
                (
                    s("name"),
                    p["epoch"].as_u64().unwrap_or(0).to_string(),
                    s("version"),
                    s("arch"),
                    format!("{}-{}", s("source_name"), s("source_version")),
                    p["licenses"][0].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert_eq!(got, expected);
        let alpha = t["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "hf-alpha")
            .unwrap();
        assert_eq!(
            alpha["purl"],
            "pkg:rpm/redhat/hf-alpha@1.2.3-4.el9?arch=noarch&epoch=2"
        );
        assert_eq!(alpha["vendor"], "Holdfast Test");
        assert_eq!(alpha["path"], "/var/lib/rpm/rpmdb.sqlite");
    }
}
