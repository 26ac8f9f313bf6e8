//! Materialising real image archives built here, and asserting on the resulting tree.

use std::collections::BTreeMap;
use std::fs;
use std::io::Cursor;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use holdfast_rootfs::{materialize, MaterializeError, MaterializeOptions, Materialized};
use holdfast_source::{
    open_target, ImageMetadata, LayerInfo, LayerOpenError, LayerStream, LayerVisit, LayerVisitor,
    OpenOptions, Source, TargetKind, TargetSpec,
};
use sha2::{Digest, Sha256};

// ---- building images ------------------------------------------------------------------

/// One entry of a layer tar.
enum E<'a> {
    File(&'a str, &'a str, u32),
    Dir(&'a str, u32),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    /// A regular file whose name is written raw into the header (for `../` names).
    RawName(&'a [u8], &'a str),
    /// A file owned by uid:gid.
    Owned(&'a str, u64, u64),
    Char(&'a str),
    Fifo(&'a str),
}

use E::*;

fn f<'a>(path: &'a str, content: &'a str) -> E<'a> {
    File(path, content, 0o644)
}

fn header(kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(1_700_000_000);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Writes a raw name (or link name) into an old-style header field.
fn raw_field(field: &mut [u8], value: &[u8]) {
    field.fill(0);
    field[..value.len()].copy_from_slice(value);
}

fn layer(entries: &[E<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            File(p, data, mode) => {
                let mut h = header(tar::EntryType::Regular, data.len() as u64, *mode);
                b.append_data(&mut h, p, data.as_bytes()).unwrap();
            }
            Dir(p, mode) => {
                let mut h = header(tar::EntryType::Directory, 0, *mode);
                b.append_data(&mut h, p, std::io::empty()).unwrap();
            }
            Symlink(p, t) => {
                let mut h = header(tar::EntryType::Symlink, 0, 0o777);
                raw_field(&mut h.as_old_mut().linkname, t.as_bytes());
                raw_field(&mut h.as_old_mut().name, p.as_bytes());
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            }
            Hardlink(p, t) => {
                let mut h = header(tar::EntryType::Link, 0, 0o644);
                raw_field(&mut h.as_old_mut().linkname, t.as_bytes());
                raw_field(&mut h.as_old_mut().name, p.as_bytes());
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            }
            RawName(name, data) => {
                let mut h = header(tar::EntryType::Regular, data.len() as u64, 0o644);
                raw_field(&mut h.as_old_mut().name, name);
                h.set_cksum();
                b.append(&h, data.as_bytes()).unwrap();
            }
            Owned(p, uid, gid) => {
                let mut h = header(tar::EntryType::Regular, 2, 0o640);
                h.set_uid(*uid);
                h.set_gid(*gid);
                b.append_data(&mut h, p, &b"hi"[..]).unwrap();
            }
            Char(p) => {
                let mut h = header(tar::EntryType::Char, 0, 0o666);
                h.set_device_major(1).unwrap();
                h.set_device_minor(3).unwrap();
                b.append_data(&mut h, p, std::io::empty()).unwrap();
            }
            Fifo(p) => {
                let mut h = header(tar::EntryType::Fifo, 0, 0o644);
                b.append_data(&mut h, p, std::io::empty()).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn add_member(b: &mut tar::Builder<fs::File>, name: &str, data: &[u8]) {
    let mut h = header(tar::EntryType::Regular, data.len() as u64, 0o644);
    b.append_data(&mut h, name, data).unwrap();
}

/// Writes a `docker save`-style archive. `stored` overrides the blob of a layer (for
/// truncation); diff_ids always come from `raw`.
fn docker_archive(path: &Path, raw: &[Vec<u8>], stored: &[(usize, Vec<u8>)]) {
    let diff_ids: Vec<String> = raw.iter().map(|l| format!("\"{}\"", sha256(l))).collect();
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{}},"rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
        diff_ids.join(",")
    );
    let mut b = tar::Builder::new(fs::File::create(path).unwrap());
    let cfg_name = format!("{}.json", &sha256(config.as_bytes())[7..]);
    add_member(&mut b, &cfg_name, config.as_bytes());
    let mut names = Vec::new();
    for (i, l) in raw.iter().enumerate() {
        let name = format!("l{i}/layer.tar");
        let blob = stored
            .iter()
            .find(|(j, _)| *j == i)
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| l.clone());
        add_member(&mut b, &name, &blob);
        names.push(format!("\"{name}\""));
    }
    let manifest = format!(
        r#"[{{"Config":"{cfg_name}","RepoTags":["test/image:1"],"Layers":[{}]}}]"#,
        names.join(",")
    );
    add_member(&mut b, "manifest.json", manifest.as_bytes());
    b.finish().unwrap();
}

/// A scratch area: `work/dest` is the destination, deep enough that a `../../` escape
/// would still land inside the scratch area, where the test can see it.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a/b/work/dest")).unwrap();
        Scratch { dir }
    }
    fn dest(&self) -> PathBuf {
        self.dir.path().join("a/b/work/dest")
    }
    fn archive(&self, raw: &[Vec<u8>], stored: &[(usize, Vec<u8>)]) -> Box<dyn Source> {
        let path = self.dir.path().join("image.tar");
        docker_archive(&path, raw, stored);
        open_target(
            &TargetSpec::DockerArchive(path),
            "test",
            &OpenOptions::default(),
        )
        .unwrap()
    }
    /// Materialises, then checks the staging directory is gone.
    fn run(
        &self,
        source: &dyn Source,
        options: &MaterializeOptions,
    ) -> Result<Materialized, MaterializeError> {
        let result = materialize(source, &self.dest(), options);
        let beside: Vec<String> = fs::read_dir(self.dest().parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            beside,
            vec!["dest"],
            "the staging directory was left behind"
        );
        result
    }
}

/// Every path below `root` and what it is: `f:CONTENT`, `d`, `l:TARGET`.
fn tree(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let md = fs::symlink_metadata(&p).unwrap();
            let what = if md.is_dir() {
                stack.push(p.clone());
                "d".to_string()
            } else if md.file_type().is_symlink() {
                format!("l:{}", fs::read_link(&p).unwrap().display())
            } else {
                format!("f:{}", fs::read_to_string(&p).unwrap())
            };
            out.insert(rel, what);
        }
    }
    out
}

fn mode(p: &Path) -> u32 {
    fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

fn is_root() -> bool {
    // SAFETY: no preconditions.
    unsafe { libc::geteuid() == 0 }
}

// ---- tests ----------------------------------------------------------------------------

#[test]
fn layers_merge_like_the_analyzer() {
    let s = Scratch::new();
    let l0 = layer(&[
        Dir("etc", 0o755),
        f("etc/os-release", "v1"),
        Dir("usr", 0o755),
        Dir("usr/bin", 0o755),
        File("usr/bin/su", "suid", 0o4755),
        File("usr/bin/open", "open", 0o777),
        Dir("usr/lib", 0o755),
        f("usr/lib/libc.so", "libc"),
        Symlink("lib", "usr/lib"),
        f("a/x", "x"),
        f("a/y", "y"),
        Dir("d", 0o750),
        f("d/one", "1"),
        Dir("d/sub", 0o755),
        f("d/sub/two", "2"),
        Dir("real", 0o755),
        f("real/keep", "keep"),
        Symlink("link", "/real"),
        Dir("gone", 0o755),
        f("gone/inside", "in"),
        f("file-then-dir", "f"),
    ]);
    let l1 = layer(&[
        f("etc/os-release", "v2"),
        f("a/.wh.x", ""),
        f(".wh.gone", ""),
        Dir("d", 0o700),
        f("d/.wh..wh..opq", ""),
        f("d/three", "3"),
        // An implicit parent goes through the lower symlink...
        f("lib/x.so", "x.so"),
        // ...an explicit directory replaces it.
        Dir("link", 0o755),
        f("link/inner", "inner"),
        f("b/file", "shared"),
        Hardlink("b/link", "b/file"),
        // A hard link before its target, in the same layer.
        Hardlink("b/early", "b/late"),
        f("b/late", "late"),
        // A hard link to itself.
        f("b/self", "self"),
        Hardlink("b/self", "b/self"),
        // A hard link to a lower layer's file.
        Hardlink("b/su", "usr/bin/su"),
        Dir("file-then-dir", 0o755),
        f("file-then-dir/now", "now"),
        // A read-only directory that this layer still fills.
        Dir("ro", 0o555),
        f("ro/f", "ro"),
    ]);
    let l2 = layer(&[f("ro/g", "g"), Symlink("d/three", "one")]);
    let src = s.archive(&[l0, l1, l2], &[]);
    let m = s.run(src.as_ref(), &MaterializeOptions::default()).unwrap();
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    let dest = s.dest();
    let t = tree(&dest);
    let expect: BTreeMap<String, String> = [
        ("a", "d"),
        ("a/y", "f:y"),
        ("b", "d"),
        ("b/early", "f:late"),
        ("b/file", "f:shared"),
        ("b/late", "f:late"),
        ("b/self", "f:self"),
        ("b/link", "f:shared"),
        ("b/su", "f:suid"),
        ("d", "d"),
        ("d/three", "l:one"),
        ("etc", "d"),
        ("etc/os-release", "f:v2"),
        ("file-then-dir", "d"),
        ("file-then-dir/now", "f:now"),
        ("lib", "l:usr/lib"),
        ("link", "d"),
        ("link/inner", "f:inner"),
        ("real", "d"),
        ("real/keep", "f:keep"),
        ("ro", "d"),
        ("ro/f", "f:ro"),
        ("ro/g", "f:g"),
        ("usr", "d"),
        ("usr/bin", "d"),
        ("usr/bin/open", "f:open"),
        ("usr/bin/su", "f:suid"),
        ("usr/lib", "d"),
        ("usr/lib/libc.so", "f:libc"),
        ("usr/lib/x.so", "f:x.so"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(t, expect);
    // Hard links share the inode.
    let ino = |p: &str| fs::metadata(dest.join(p)).unwrap().ino();
    assert_eq!(ino("b/file"), ino("b/link"));
    assert_eq!(ino("b/early"), ino("b/late"));
    assert_eq!(ino("b/su"), ino("usr/bin/su"));
    // Modes, setuid included, and the upper layer's directory mode.
    assert_eq!(mode(&dest.join("usr/bin/su")), 0o4755);
    assert_eq!(mode(&dest.join("usr/bin/open")), 0o777);
    assert_eq!(mode(&dest.join("d")), 0o700);
    assert_eq!(mode(&dest.join("ro")), 0o555);
    // Counts: every regular file name.
    let files = t.values().filter(|v| v.starts_with("f:")).count() as u64;
    let bytes: u64 = t
        .values()
        .filter_map(|v| v.strip_prefix("f:"))
        .map(|c| c.len() as u64)
        .sum();
    assert_eq!((m.files, m.bytes, m.skipped), (files, bytes, 0));
    // Let the scratch directory be removed.
    fs::set_permissions(dest.join("ro"), fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn hostile_entries_stay_inside_dest() {
    let s = Scratch::new();
    let outside = tempfile::tempdir().unwrap();
    let outside_abs = outside.path().to_str().unwrap().to_string();
    let canary = format!("holdfast-rootfs-canary-{}", std::process::id());
    let l0 = layer(&[
        RawName(b"../../escape", "climbed"),
        RawName(b"/abs/file", "absolute"),
        Symlink("evil", "/etc"),
        File(&format!("evil/{canary}"), "same layer", 0o644),
        Symlink("out", &outside_abs),
        Symlink("up", "../../../../.."),
        Char("dev/null"),
        Fifo("run/fifo"),
        Hardlink("hl-climb", "../../../../etc/passwd"),
        Hardlink("hl-link", "evil"),
    ]);
    let l1 = layer(&[
        f("out/passwd", "not the host's"),
        f("up/escape2", "clamped"),
        f("evil/passwd", "image passwd"),
        Hardlink("hl-dest", "/out/passwd"),
    ]);
    // A hard link to a lower layer's file, through an absolute symlink.
    let l2 = layer(&[Hardlink("hl-lower", "out/passwd")]);
    let src = s.archive(&[l0, l1, l2], &[]);
    let m = s.run(src.as_ref(), &MaterializeOptions::default()).unwrap();
    let dest = s.dest();

    // Nothing outside dest.
    assert!(fs::read_dir(outside.path()).unwrap().next().is_none());
    assert!(!Path::new("/etc").join(&canary).exists());
    for p in [
        "escape",
        "a/escape",
        "a/b/escape",
        "a/b/work/escape",
        "escape2",
    ] {
        assert!(!s.dir.path().join(p).exists(), "{p} escaped");
    }
    // Absolute links resolve inside dest; the links themselves are unchanged.
    assert_eq!(fs::read_link(dest.join("evil")).unwrap(), Path::new("/etc"));
    assert_eq!(
        fs::read_to_string(dest.join("etc").join(&canary)).unwrap(),
        "same layer"
    );
    assert_eq!(
        fs::read_to_string(dest.join("etc/passwd")).unwrap(),
        "image passwd"
    );
    let through = dest
        .join(outside_abs.trim_start_matches('/'))
        .join("passwd");
    assert_eq!(fs::read_to_string(&through).unwrap(), "not the host's");
    assert_eq!(fs::read_to_string(dest.join("escape2")).unwrap(), "clamped");
    assert_eq!(
        fs::read_to_string(dest.join("abs/file")).unwrap(),
        "absolute"
    );
    // Hard links to the file written through an absolute symlink stay in dest.
    let ino = |p: &Path| fs::metadata(p).unwrap().ino();
    assert_eq!(ino(&dest.join("hl-dest")), ino(&through));
    assert_eq!(ino(&dest.join("hl-lower")), ino(&through));
    // Refused entries: the climbing name, the hard links to outside and to a symlink.
    assert!(!dest.join("escape").exists());
    assert!(!dest.join("hl-climb").exists());
    assert!(fs::symlink_metadata(dest.join("hl-link")).is_err());
    let joined = m.warnings.join("\n");
    assert!(joined.contains("climbs out"), "{joined}");
    assert!(joined.contains("hl-climb"), "{joined}");
    assert!(joined.contains("hl-link"), "{joined}");
    assert!(joined.contains("layer 0"), "{joined}");
    // Devices and fifos are never made.
    assert_eq!(m.skipped, 2);
    assert!(!dest.join("dev/null").exists());
    assert!(fs::symlink_metadata(dest.join("run/fifo")).is_err());
}

#[test]
fn same_layer_symlink_parent_resolves_within_the_layer() {
    let s = Scratch::new();
    // The file comes through a symlink of its own layer, and before a directory of the
    // same name would be: it lands where the link points.
    let l0 = layer(&[
        Dir("usr/lib", 0o755),
        Symlink("lib", "usr/lib"),
        f("lib/a.so", "a"),
        Symlink("loop1", "loop2"),
        Symlink("loop2", "loop1"),
        f("loop1/x", "never"),
    ]);
    let src = s.archive(&[l0], &[]);
    let m = s.run(src.as_ref(), &MaterializeOptions::default()).unwrap();
    let t = tree(&s.dest());
    assert_eq!(t.get("usr/lib/a.so").map(String::as_str), Some("f:a"));
    assert_eq!(t.get("lib").map(String::as_str), Some("l:usr/lib"));
    assert!(!t.keys().any(|k| k.ends_with("/x")), "{t:?}");
    assert!(
        m.warnings.iter().any(|w| w.contains("loop1/x")),
        "{:?}",
        m.warnings
    );
}

#[test]
fn upper_entries_replace_lower_directories_and_links() {
    let s = Scratch::new();
    let l0 = layer(&[
        Dir("x", 0o755),
        f("x/deep/file", "lower"),
        Symlink("y", "x"),
        f("z", "file"),
    ]);
    let l1 = layer(&[
        f("x", "now a file"),
        f("y", "file over link"),
        Symlink("z", "/x"),
    ]);
    let src = s.archive(&[l0, l1], &[]);
    let m = s.run(src.as_ref(), &MaterializeOptions::default()).unwrap();
    let t = tree(&s.dest());
    let expect: BTreeMap<String, String> = [
        ("x", "f:now a file"),
        ("y", "f:file over link"),
        ("z", "l:/x"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(t, expect);
    assert_eq!((m.files, m.bytes), (2, 24));
}

#[cfg(unix)]
#[test]
fn owners_are_applied_as_root() {
    let s = Scratch::new();
    let l0 = layer(&[Owned("owned", 1234, 5678), Dir("d", 0o2775)]);
    let src = s.archive(&[l0], &[]);
    s.run(src.as_ref(), &MaterializeOptions::default()).unwrap();
    let md = fs::metadata(s.dest().join("owned")).unwrap();
    if is_root() {
        assert_eq!((md.uid(), md.gid()), (1234, 5678));
    } else {
        // SAFETY: no preconditions.
        assert_eq!(md.uid(), unsafe { libc::geteuid() });
    }
    assert_eq!(md.mode() & 0o7777, 0o640);
    assert_eq!(mode(&s.dest().join("d")), 0o2775);
}

/// A source that hands layers over without their index, in reverse, from several
/// threads at once, plus one stray layer that belongs to no diff_id.
struct Unordered {
    metadata: ImageMetadata,
    layers: Vec<Vec<u8>>,
    stray: Vec<u8>,
    /// Where the staging directory is made (the destination's parent), and the modes
    /// of it and its entries seen once every layer was handed over.
    staging_parent: PathBuf,
    staging_modes: std::sync::Mutex<Vec<u32>>,
}

impl Unordered {
    fn record_staging_modes(&self) {
        let mut modes = self.staging_modes.lock().unwrap();
        for e in fs::read_dir(&self.staging_parent).unwrap() {
            let e = e.unwrap();
            if e.file_name()
                .to_string_lossy()
                .starts_with(".holdfast-staging-")
            {
                modes.push(mode(&e.path()));
                for layer in fs::read_dir(e.path()).unwrap() {
                    modes.push(mode(&layer.unwrap().path()));
                }
            }
        }
    }
}

impl Source for Unordered {
    fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }
    fn stream_layers(&self, indexes: &[usize], visit: &LayerVisitor<'_>) -> Vec<LayerOpenError> {
        std::thread::scope(|scope| {
            for &i in indexes.iter().rev() {
                let bytes = &self.layers[i];
                scope.spawn(move || {
                    visit(LayerVisit {
                        index: None,
                        stream: LayerStream::Tar(&mut Cursor::new(bytes)),
                    })
                });
            }
            scope.spawn(|| {
                visit(LayerVisit {
                    index: None,
                    stream: LayerStream::Tar(&mut Cursor::new(&self.stray)),
                })
            });
        });
        self.record_staging_modes();
        Vec::new()
    }
}

#[test]
fn layers_without_index_are_placed_by_digest() {
    let s = Scratch::new();
    let layers = vec![
        layer(&[f("f", "0"), f("only0", "0")]),
        layer(&[f("f", "1"), f("only1", "1")]),
        layer(&[f("f", "2"), f(".wh.only0", "")]),
        // The same content twice: both slots are filled.
        layer(&[f("dup", "d")]),
        layer(&[f("dup", "d")]),
    ];
    let mut metadata = ImageMetadata::new("unordered", TargetKind::Image);
    metadata.layers = layers
        .iter()
        .map(|l| LayerInfo {
            diff_id: Some(sha256(l)),
            ..LayerInfo::default()
        })
        .collect();
    let src = Unordered {
        metadata,
        layers,
        stray: layer(&[f("stray", "s")]),
        staging_parent: s.dest().parent().unwrap().to_path_buf(),
        staging_modes: Default::default(),
    };
    let m = s.run(&src, &MaterializeOptions::default()).unwrap();
    let t = tree(&s.dest());
    let expect: BTreeMap<String, String> = [("f", "f:2"), ("only1", "f:1"), ("dup", "f:d")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(t, expect);
    // The staging directory and each layer's directory in it: private. (The stray
    // layer's directory is already gone.)
    let modes = src.staging_modes.lock().unwrap().clone();
    assert_eq!(modes, vec![0o700; 6]);
    assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
    assert!(m.warnings[0].contains("is no diff_id"), "{:?}", m.warnings);
}

#[test]
fn directory_targets_are_copied_without_following_links() {
    let s = Scratch::new();
    let src_dir = s.dir.path().join("rootfs");
    fs::create_dir_all(src_dir.join("usr/bin")).unwrap();
    fs::create_dir_all(src_dir.join("proc/1")).unwrap();
    fs::write(src_dir.join("usr/bin/su"), "suid").unwrap();
    fs::set_permissions(
        src_dir.join("usr/bin/su"),
        fs::Permissions::from_mode(0o4755),
    )
    .unwrap();
    fs::write(src_dir.join("proc/1/status"), "not copied").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", src_dir.join("pw")).unwrap();
    std::os::unix::fs::symlink("usr/bin", src_dir.join("bin")).unwrap();
    fs::set_permissions(src_dir.join("usr"), fs::Permissions::from_mode(0o711)).unwrap();
    let fifo = std::ffi::CString::new(src_dir.join("fifo").to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);

    let source = open_target(
        &TargetSpec::Rootfs(src_dir.clone()),
        "rootfs",
        &OpenOptions::default(),
    )
    .unwrap();
    let m = s
        .run(source.as_ref(), &MaterializeOptions::default())
        .unwrap();
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    let t = tree(&s.dest());
    let expect: BTreeMap<String, String> = [
        ("bin", "l:usr/bin"),
        ("proc", "d"),
        ("pw", "l:/etc/passwd"),
        ("usr", "d"),
        ("usr/bin", "d"),
        ("usr/bin/su", "f:suid"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(t, expect);
    assert_eq!(mode(&s.dest().join("usr/bin/su")), 0o4755);
    assert_eq!(mode(&s.dest().join("usr")), 0o711);
    assert_eq!((m.files, m.bytes, m.skipped), (1, 4, 1));
    // The source is untouched.
    assert_eq!(
        fs::read_to_string(src_dir.join("proc/1/status")).unwrap(),
        "not copied"
    );
}

#[test]
fn dest_must_be_an_empty_directory() {
    let s = Scratch::new();
    let src = s.archive(&[layer(&[f("a", "a")])], &[]);
    fs::write(s.dest().join("existing"), "x").unwrap();
    let err = materialize(src.as_ref(), &s.dest(), &MaterializeOptions::default()).unwrap_err();
    assert!(matches!(err, MaterializeError::Destination { .. }), "{err}");
    assert!(err.to_string().contains("not empty"), "{err}");
    assert_eq!(fs::read_to_string(s.dest().join("existing")).unwrap(), "x");

    let file = s.dest().join("existing");
    let err = materialize(src.as_ref(), &file, &MaterializeOptions::default()).unwrap_err();
    assert!(err.to_string().contains("not a directory"), "{err}");
    let missing = s.dir.path().join("missing");
    let err = materialize(src.as_ref(), &missing, &MaterializeOptions::default()).unwrap_err();
    assert!(matches!(err, MaterializeError::Destination { .. }), "{err}");
}

#[test]
fn caps_stop_with_an_error_naming_them() {
    let s = Scratch::new();
    let entries: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
    let l0 = layer(
        &entries
            .iter()
            .map(|p| f(p, "0123456789"))
            .collect::<Vec<_>>(),
    );
    let src = s.archive(&[l0], &[]);
    let err = s
        .run(
            src.as_ref(),
            &MaterializeOptions {
                max_entries: 5,
                ..MaterializeOptions::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, MaterializeError::TooManyEntries { limit: 5 }));
    assert!(err.to_string().contains("max_entries"), "{err}");

    for e in fs::read_dir(s.dest()).unwrap() {
        fs::remove_file(e.unwrap().path()).unwrap();
    }
    let err = s
        .run(
            src.as_ref(),
            &MaterializeOptions {
                max_total_bytes: 55,
                ..MaterializeOptions::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, MaterializeError::TooManyBytes { limit: 55 }));
    assert!(err.to_string().contains("max_total_bytes"), "{err}");
}

#[test]
fn a_truncated_layer_is_a_warning_and_the_rest_goes_on() {
    let s = Scratch::new();
    let l0 = layer(&[f("base", "base")]);
    let big = "x".repeat(4000);
    let l1 = layer(&[f("first", "kept"), f("big", &big), f("after", "lost")]);
    let l2 = layer(&[f("top", "top")]);
    // Cut inside `big`'s content.
    let cut = l1[..512 * 4].to_vec();
    let src = s.archive(&[l0, l1, l2], &[(1, cut)]);
    let m = s.run(src.as_ref(), &MaterializeOptions::default()).unwrap();
    let t = tree(&s.dest());
    let expect: BTreeMap<String, String> =
        [("base", "f:base"), ("first", "f:kept"), ("top", "f:top")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    assert_eq!(t, expect);
    assert!(
        m.warnings
            .iter()
            .any(|w| w.starts_with("layer 1 ") && w.contains("truncated")),
        "{:?}",
        m.warnings
    );
}
