//! Shared helpers: build image archives and layouts from real tar bytes, run the binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

/// One entry of a layer tar.
pub enum E<'a> {
    File(&'a str, Vec<u8>),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    /// A regular file whose name is written raw into the header (for `../` names).
    RawName(&'a [u8], Vec<u8>),
}

/// A file entry from a string.
pub fn f<'a>(path: &'a str, content: &str) -> E<'a> {
    E::File(path, content.as_bytes().to_vec())
}

fn header(kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(if kind == tar::EntryType::Directory {
        0o755
    } else {
        0o644
    });
    h.set_mtime(1_700_000_000);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Builds an uncompressed layer tar.
pub fn layer(entries: &[E<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            E::File(p, data) => {
                let mut h = header(tar::EntryType::Regular, data.len() as u64);
                b.append_data(&mut h, p, &data[..]).unwrap();
            }
            E::Dir(p) => {
                let mut h = header(tar::EntryType::Directory, 0);
                b.append_data(&mut h, p, std::io::empty()).unwrap();
            }
            E::Symlink(p, t) => {
                let mut h = header(tar::EntryType::Symlink, 0);
                b.append_link(&mut h, p, t).unwrap();
            }
            E::Hardlink(p, t) => {
                let mut h = header(tar::EntryType::Link, 0);
                // Hard-link targets are raw: the tar crate refuses `..`, images do not.
                let name = &mut h.as_old_mut().linkname;
                name.fill(0);
                name[..t.len()].copy_from_slice(t.as_bytes());
                h.set_path(p).unwrap();
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            }
            E::RawName(name, data) => {
                let mut h = header(tar::EntryType::Regular, data.len() as u64);
                let field = &mut h.as_old_mut().name;
                field.fill(0);
                field[..name.len()].copy_from_slice(name);
                h.set_cksum();
                b.append(&h, &data[..]).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

/// How a layer blob is stored.
#[derive(Clone, Copy)]
pub enum Z {
    Plain,
    Gzip,
    Zstd,
}

pub fn compress(raw: &[u8], z: Z) -> Vec<u8> {
    match z {
        Z::Plain => raw.to_vec(),
        Z::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(raw).unwrap();
            e.finish().unwrap()
        }
        Z::Zstd => zstd::encode_all(raw, 3).unwrap(),
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// An image config for the given uncompressed layers.
pub fn config(layers: &[Vec<u8>], arch: &str) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    let history: Vec<serde_json::Value> = (0..layers.len())
        .map(|i| serde_json::json!({"created_by": format!("RUN step {i}")}))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "architecture": arch, "os": "linux",
        "config": {"Env": ["PATH=/usr/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }))
    .unwrap()
}

/// An image config for the given layers whose `config` object is `runtime`.
#[allow(dead_code)]
pub fn config_with(layers: &[Vec<u8>], runtime: serde_json::Value) -> Vec<u8> {
    let mut cfg: serde_json::Value = serde_json::from_slice(&config(layers, "amd64")).unwrap();
    cfg["config"] = runtime;
    serde_json::to_vec(&cfg).unwrap()
}

fn add_member(b: &mut tar::Builder<std::fs::File>, name: &str, data: &[u8]) {
    let mut h = header(tar::EntryType::Regular, data.len() as u64);
    b.append_data(&mut h, name, data).unwrap();
}

/// Writes a `docker save`-style archive. `stored` overrides the blob bytes of a layer
/// (for truncation and bomb tests); diff_ids always come from `raw`.
pub fn docker_archive(path: &Path, raw: &[Vec<u8>], z: Z, stored: &[(usize, Vec<u8>)]) {
    docker_archive_with_config(path, raw, z, stored, config(raw, "amd64"));
}

/// Like [`docker_archive`], with the image config given (see [`config_with`]).
pub fn docker_archive_with_config(
    path: &Path,
    raw: &[Vec<u8>],
    z: Z,
    stored: &[(usize, Vec<u8>)],
    cfg: Vec<u8>,
) {
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    let cfg_name = format!("{}.json", &sha256(&cfg)[7..]);
    add_member(&mut b, &cfg_name, &cfg);
    let mut names = Vec::new();
    for (i, l) in raw.iter().enumerate() {
        let name = format!("l{i}/layer.tar");
        let blob = stored
            .iter()
            .find(|(j, _)| *j == i)
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| compress(l, z));
        add_member(&mut b, &name, &blob);
        names.push(name);
    }
    let manifest =
        serde_json::json!([{"Config": cfg_name, "RepoTags": ["test/image:1"], "Layers": names}]);
    add_member(
        &mut b,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    b.finish().unwrap();
}

fn write_blob(dir: &Path, bytes: &[u8]) -> (String, u64) {
    let digest = sha256(bytes);
    let p = dir.join("blobs/sha256").join(&digest[7..]);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
    (digest, bytes.len() as u64)
}

/// Writes one image into an OCI layout and returns its manifest descriptor.
fn oci_image(dir: &Path, raw: &[Vec<u8>], z: Z, arch: &str) -> serde_json::Value {
    let cfg = config(raw, arch);
    let (cfg_digest, cfg_size) = write_blob(dir, &cfg);
    let media = match z {
        Z::Plain => "application/vnd.oci.image.layer.v1.tar",
        Z::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Z::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    };
    let layers: Vec<serde_json::Value> = raw
        .iter()
        .map(|l| {
            let (d, s) = write_blob(dir, &compress(l, z));
            serde_json::json!({"mediaType": media, "digest": d, "size": s})
        })
        .collect();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_digest, "size": cfg_size},
        "layers": layers,
    });
    let (d, s) = write_blob(dir, &serde_json::to_vec(&manifest).unwrap());
    serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": s,
        "platform": {"os": "linux", "architecture": arch}})
}

/// Writes an OCI layout holding one image per (arch, layers); several become an index.
pub fn oci_layout(dir: &Path, images: &[(&str, Vec<Vec<u8>>)], z: Z, tag: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let descs: Vec<serde_json::Value> = images
        .iter()
        .map(|(arch, raw)| oci_image(dir, raw, z, arch))
        .collect();
    let mut top = if descs.len() == 1 {
        descs[0].clone()
    } else {
        let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": descs});
        let (d, s) = write_blob(dir, &serde_json::to_vec(&index).unwrap());
        serde_json::json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": d, "size": s})
    };
    top["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": tag});
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [top]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

/// Tars a directory (an OCI layout) into an OCI archive.
pub fn tar_dir(dir: &Path, out: &Path) {
    let mut b = tar::Builder::new(std::fs::File::create(out).unwrap());
    b.append_dir_all(".", dir).unwrap();
    b.finish().unwrap();
}

/// A Debian-looking base layer: os-release through a symlink, a dpkg status file.
pub fn debian_base(packages: &[(&str, &str)]) -> Vec<u8> {
    let mut status = String::new();
    for (n, v) in packages {
        status.push_str(&format!(
            "Package: {n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {v}\nDescription: x\n\n"
        ));
    }
    layer(&[
        E::Dir("etc"),
        E::Symlink("etc/os-release", "../usr/lib/os-release"),
        f(
            "usr/lib/os-release",
            "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
        ),
        E::File("var/lib/dpkg/status", status.into_bytes()),
    ])
}

/// The built binary.
pub fn holdfast() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_holdfast"));
    // A cache home of the tests' own, so no user DB or cache leaks into a result.
    let xdg = Path::new(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache");
    c.env_remove("HOLDFAST_CACHE_DIR")
        .env_remove("HOLDFAST_CACHE_URL")
        .env_remove("HOLDFAST_DB")
        .env_remove("CONTAINERD_ADDRESS")
        .env_remove("CONTAINERD_NAMESPACE")
        .env_remove("CONTAINER_HOST")
        .env("XDG_CACHE_HOME", xdg)
        .env("NO_COLOR", "1");
    c
}

/// Runs `holdfast sbom -f json --no-cache TARGET EXTRA...` and returns the parsed result.
pub fn sbom_json(target: &str, extra: &[&str]) -> (serde_json::Value, Output) {
    let out = holdfast()
        .args(["sbom", "-f", "json", "--no-cache", target])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "holdfast failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (serde_json::from_slice(&out.stdout).unwrap(), out)
}

/// `name=version` for every package of the first target, sorted.
pub fn package_list(result: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = result["targets"][0]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}={}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect();
    v.sort();
    v
}

/// Warning messages of the first target, joined for `contains` checks.
pub fn warnings_text(result: &serde_json::Value) -> String {
    serde_json::to_string(&result["targets"][0]["warnings"]).unwrap()
}

/// A temporary directory and a path inside it.
pub fn temp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

pub fn path_str(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// Whether the full suites (Docker, debootstrap, rpm tools) are required.
pub fn full_tests() -> bool {
    std::env::var("HOLDFAST_FULL_TESTS").is_ok_and(|v| v == "1")
}

/// Skips (returns false) when a tool is missing, unless the full suite is required.
pub fn have_tool(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            !full_tests(),
            "HOLDFAST_FULL_TESTS=1 but `{tool}` is not installed"
        );
        eprintln!("skipped: `{tool}` is not installed (set HOLDFAST_FULL_TESTS=1 to require it)");
    }
    found
}

#[allow(dead_code)]
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Host files `sh` and `sleep` need, from `ldd`, so an image made of them can run a
/// process.
#[allow(dead_code)]
pub fn runtime_files() -> Vec<String> {
    let mut files = vec!["/bin/sh".to_string(), "/bin/sleep".to_string()];
    for bin in ["/bin/sh", "/bin/sleep"] {
        let out = Command::new("ldd").arg(bin).output().unwrap();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let path = line
                .split_whitespace()
                .find(|w| w.starts_with('/'))
                .map(str::to_string);
            if let Some(p) = path {
                if !files.contains(&p) {
                    files.push(p);
                }
            }
        }
    }
    files
}

/// Runs `cmd` with `input` on its stdin and collects its output.
pub fn output_with_input(cmd: &mut std::process::Command, input: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs a command, asserts it succeeded (showing its stderr if not), and parses its JSON
/// output.
pub fn run_json(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
