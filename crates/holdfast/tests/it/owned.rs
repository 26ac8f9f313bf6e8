//! Language packages in files an OS package owns: the JSON result names the owner, their
//! vulnerabilities say that the fix comes through the OS package, and `--skip-os-owned`
//! leaves them out with their findings.

use std::path::Path;

use crate::common::*;

const OWNED: &str = "usr/lib/python3/dist-packages/foo-1.0.dist-info/METADATA";
const COPY: &str = "usr/local/lib/python3.11/dist-packages/foo-1.0.dist-info/METADATA";
const BAR: &str = "usr/local/lib/python3.11/dist-packages/bar-2.0.dist-info/METADATA";

/// A Debian image: python3-foo's file list names its dist-info; a pip-installed copy of
/// the same version and an unrelated pip package are owned by nobody.
fn image(path: &Path) {
    let metadata = |name: &str, version: &str| {
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    };
    let list = format!(
        "/.\n/usr\n/usr/lib\n/usr/lib/python3\n/usr/lib/python3/dist-packages\n/usr/lib/python3/dist-packages/foo-1.0.dist-info\n/{OWNED}\n"
    );
    let base = debian_base(&[("python3-foo", "1.0-1")]);
    let top = layer(&[
        f("var/lib/dpkg/info/python3-foo.list", &list),
        f(OWNED, &metadata("foo", "1.0")),
        f(COPY, &metadata("foo", "1.0")),
        f(BAR, &metadata("bar", "2.0")),
    ]);
    docker_archive(path, &[base, top], Z::Plain, &[]);
}

/// A database with one PyPI advisory for foo and one for bar.
fn database(dir: &Path) -> String {
    let osv = dir.join("osv/PyPI");
    std::fs::create_dir_all(&osv).unwrap();
    for (id, name, fixed) in [
        ("PYSEC-0000-1", "foo", "1.1"),
        ("PYSEC-0000-2", "bar", "2.1"),
    ] {
        let record = serde_json::json!({
            "id": id,
            "modified": "2024-01-01T00:00:00Z",
            "summary": format!("a flaw in {name}"),
            "affected": [{
                "package": {"name": name, "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]
            }]
        });
        std::fs::write(osv.join(format!("{id}.json")), record.to_string()).unwrap();
    }
    let db = dir.join("owned.db");
    let out = holdfast()
        .args(["db", "build", "--from"])
        .arg(dir.join("osv"))
        .arg("-o")
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path_str(&db)
}

fn scan(target: &Path, db: &str, extra: &[&str]) -> serde_json::Value {
    let out = holdfast()
        .args([
            "scan",
            "image",
            "--no-cache",
            "-f",
            "json",
            "--scanners",
            "vuln",
            "--db",
            db,
        ])
        .args(extra)
        .arg(target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (name, path, owner) of the language packages.
fn owners(r: &serde_json::Value) -> Vec<(String, String, Option<String>)> {
    r["targets"][0]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "python")
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["path"].as_str().unwrap().to_string(),
                p["owner"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn finding<'a>(r: &'a serde_json::Value, id: &str) -> Option<&'a serde_json::Value> {
    r["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
}

#[test]
fn owned_packages_name_their_os_package_and_can_be_skipped() {
    let d = temp();
    let target = d.path().join("owned.tar");
    image(&target);
    let db = database(d.path());

    let r = scan(&target, &db, &[]);
    assert_eq!(
        owners(&r),
        [
            ("bar".to_string(), format!("/{BAR}"), None),
            (
                "foo".to_string(),
                format!("/{OWNED}"),
                Some("deb/python3-foo".to_string())
            ),
            ("foo".to_string(), format!("/{COPY}"), None),
        ]
    );
    let debs = r["targets"][0]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "deb");
    assert!(debs.into_iter().all(|p| p.get("owner").is_none()));
    // One finding for both copies of foo: the owned one is fixed through python3-foo,
    // the pip-installed one by pip.
    let foo = finding(&r, "PYSEC-0000-1").expect("foo's finding");
    assert_eq!(foo["locations"].as_array().unwrap().len(), 2);
    assert_eq!(
        foo["remediation"],
        format!(
            "Fixed through the OS package deb/python3-foo: upgrade it (foo in /{OWNED} comes from it). \
In /{COPY}, which no OS package owns, upgrade foo to 1.1 or later."
        )
    );
    let bar = finding(&r, "PYSEC-0000-2").expect("bar's finding");
    assert!(bar.get("remediation").is_none(), "{bar}");

    // Skipped: the owned copy and its location go; the rest stays.
    let r = scan(&target, &db, &["--skip-os-owned"]);
    assert_eq!(
        owners(&r),
        [
            ("bar".to_string(), format!("/{BAR}"), None),
            ("foo".to_string(), format!("/{COPY}"), None),
        ]
    );
    let foo = finding(&r, "PYSEC-0000-1").expect("the pip copy's finding");
    assert_eq!(foo["path"], format!("/{COPY}"));
    assert_eq!(foo["locations"].as_array().unwrap().len(), 1);
    assert!(foo.get("remediation").is_none(), "{foo}");

    // Library packages only: the owner is still known (the OS catalogers run for it),
    // and the OS packages are not listed.
    let r = scan(&target, &db, &["--pkg-types", "library"]);
    assert_eq!(owners(&r)[1].2.as_deref(), Some("deb/python3-foo"));
    let types: Vec<&str> = r["targets"][0]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    assert!(types.iter().all(|t| *t == "python"), "{types:?}");
    let r = scan(&target, &db, &["--pkg-types", "library", "--skip-os-owned"]);
    assert_eq!(owners(&r).len(), 2);
}

#[test]
fn an_image_with_only_the_owned_package_has_no_finding_when_skipped() {
    let d = temp();
    let target = d.path().join("owned.tar");
    let list = format!("/{OWNED}\n");
    let base = debian_base(&[("python3-foo", "1.0-1")]);
    let top = layer(&[
        f("var/lib/dpkg/info/python3-foo.list", &list),
        f(OWNED, "Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n"),
    ]);
    docker_archive(&target, &[base, top], Z::Plain, &[]);
    let db = database(d.path());
    let r = scan(&target, &db, &[]);
    assert!(finding(&r, "PYSEC-0000-1").is_some());
    let r = scan(&target, &db, &["--skip-os-owned"]);
    assert!(owners(&r).is_empty());
    assert!(finding(&r, "PYSEC-0000-1").is_none());
}
