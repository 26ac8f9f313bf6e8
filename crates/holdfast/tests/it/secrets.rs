//! Secrets, malware and webshells end to end: an image built here with secrets in files,
//! in the config's Env, in history, and in a file a later layer deletes.

use std::path::Path;
use std::process::Command;

use crate::common::*;

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A deterministic pseudo-random token (xorshift), so the snapshot is stable and no real
/// credential is ever written down.
fn tok(n: usize, seed: u64) -> String {
    let chars: Vec<char> = ALNUM.chars().collect();
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chars[(x % chars.len() as u64) as usize]
        })
        .collect()
}

/// The planted values, so tests can check none of them is printed in clear.
struct Planted {
    github: String,
    stripe: String,
    npm: String,
    db_password: String,
    git_password: String,
}

fn planted() -> Planted {
    Planted {
        github: format!("ghp_{}", tok(36, 1)),
        stripe: format!("sk_live_{}", tok(24, 2)),
        npm: format!("npm_{}", tok(36, 3)),
        db_password: tok(18, 4),
        git_password: tok(24, 5),
    }
}

fn eicar() -> String {
    let mut s = String::from("X5O!P%@AP[4\\PZX54(P^)7CC)7}$");
    s.push_str("EICAR-STANDARD-ANTIVIRUS-");
    s.push_str("TEST-FILE!$H+H*");
    s
}

/// A docker-archive with the given config fields (Env and history's created_by).
fn archive(path: &Path, layers: &[Vec<u8>], env: &[String], history: &[String]) {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    let history: Vec<serde_json::Value> = history
        .iter()
        .map(|c| serde_json::json!({"created_by": c}))
        .collect();
    let cfg = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": env, "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }))
    .unwrap();
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, name, data).unwrap();
    };
    let cfg_name = format!("{}.json", &sha256(&cfg)[7..]);
    add(&cfg_name, &cfg);
    let mut names = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let name = format!("l{i}/layer.tar");
        add(&name, l);
        names.push(name);
    }
    let manifest =
        serde_json::json!([{"Config": cfg_name, "RepoTags": ["test/secrets:1"], "Layers": names}]);
    add("manifest.json", &serde_json::to_vec(&manifest).unwrap());
    b.into_inner().unwrap();
}

fn secrets_image(dir: &Path, p: &Planted) -> std::path::PathBuf {
    let base = layer(&[
        f(
            "app/settings.py",
            &format!(
                "DEBUG = False\nDATABASE_URL = \"postgres://app:{}@db.example.invalid:5432/app\"\nGITHUB_TOKEN = \"{}\"\n",
                p.db_password, p.github
            ),
        ),
        f(
            "root/.git-credentials",
            &format!("https://ci:{}@git.example.invalid\n", p.git_password),
        ),
        // Near misses that must stay quiet.
        f(
            "app/example.env",
            "PASSWORD=changeme\nAWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nTOKEN=${CI_TOKEN}\n",
        ),
        f("usr/share/doc/app/README", &format!("token: {}\n", p.github)),
        f("var/www/html/up.php", "<?php @eval($_POST['x']); ?>\n"),
        f("var/www/html/index.php", "<?php echo htmlspecialchars($_GET['q']); ?>\n"),
        f("tmp/eicar.com", &eicar()),
    ]);
    // A later layer deletes the credentials file: it is still in the image.
    let cleanup = layer(&[f("root/.wh..git-credentials", "")]);
    let img = dir.join("secrets.tar");
    archive(
        &img,
        &[base, cleanup],
        &["PATH=/usr/bin".into(), format!("STRIPE_API_KEY={}", p.stripe)],
        &[
            "COPY app /app".into(),
            format!("/bin/sh -c echo //registry.example.invalid/:_authToken={} > /root/.npmrc && npm ci && rm /root/.npmrc", p.npm),
        ],
    );
    img
}

fn run(args: &[&str], cache: Option<&Path>) -> std::process::Output {
    let mut c = holdfast();
    c.args(args);
    if let Some(dir) = cache {
        c.env("HOLDFAST_CACHE_DIR", dir);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "holdfast {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn findings(out: &std::process::Output) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["targets"][0]["findings"].as_array().unwrap().clone()
}

#[test]
fn secrets_malware_and_webshells_in_an_image() {
    let d = temp();
    let p = planted();
    let img = secrets_image(d.path(), &p);
    let img = path_str(&img);
    let out = run(
        &[
            "scan",
            "image",
            "--no-cache",
            "--scanners",
            "secret,malware,webshell",
            "-f",
            "json",
            &img,
        ],
        None,
    );
    let found = findings(&out);
    let summary: Vec<String> = found
        .iter()
        .map(|f| {
            format!(
                "{} {} {} line={} removed={}",
                f["kind"].as_str().unwrap(),
                f["id"].as_str().unwrap(),
                f["path"].as_str().unwrap_or("-"),
                f["line"],
                f["removed"]
            )
        })
        .collect();
    let expected = [
        "secret HF-SECRET-GITHUB-TOKEN /app/settings.py line=3 removed=false",
        "secret HF-SECRET-DATABASE-URL /app/settings.py line=2 removed=false",
        "secret HF-SECRET-GIT-CREDENTIALS /root/.git-credentials line=1 removed=true",
        "secret HF-SECRET-NPM-TOKEN - line=null removed=false",
        "secret HF-SECRET-STRIPE-KEY - line=null removed=false",
        "malware HF-MALWARE-EICAR /tmp/eicar.com line=null removed=false",
        "webshell HF-WEBSHELL-PHP-EVAL-REQUEST /var/www/html/up.php line=null removed=false",
    ];
    for e in expected {
        assert!(
            summary.iter().any(|s| s == e),
            "missing `{e}` in {summary:#?}"
        );
    }
    assert_eq!(summary.len(), expected.len(), "{summary:#?}");
    // Where the config findings were: Env and history, said in the title.
    let title_of = |id: &str| {
        found.iter().find(|f| f["id"] == id).unwrap()["title"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(title_of("HF-SECRET-STRIPE-KEY").contains("Env (STRIPE_API_KEY)"));
    assert!(title_of("HF-SECRET-NPM-TOKEN").contains("history (step 2)"));

    insta::with_settings!({filters => vec![(r"holdfast-\d+\.\d+\.\d+", "holdfast-[version]")]}, {
        insta::assert_json_snapshot!("secrets_findings", found);
    });
}

#[test]
fn no_secret_in_clear_in_any_output_or_the_cache() {
    let d = temp();
    let p = planted();
    let img = path_str(&secrets_image(d.path(), &p));
    let cache = d.path().join("cache");
    let clear = [
        &p.github[4..],
        &p.stripe[8..],
        &p.npm[4..],
        &p.db_password,
        &p.git_password,
    ];
    for format in ["json", "table"] {
        let out = run(
            &["scan", "image", "--scanners", "secret", "-f", format, &img],
            Some(&cache),
        );
        let all = [out.stdout.clone(), out.stderr.clone()].concat();
        let text = String::from_utf8_lossy(&all);
        // The JSON carries the redacted evidence; the table shows no evidence column.
        assert!(format != "json" || text.contains("ghp_*****"), "{text}");
        assert!(text.contains("HF-SECRET-GITHUB-TOKEN"), "{text}");
        for c in clear {
            assert!(!text.contains(c), "clear secret in the {format} output");
        }
    }
    let mut cached = 0;
    for entry in walk(&cache) {
        let bytes = std::fs::read(&entry).unwrap();
        cached += 1;
        let text = String::from_utf8_lossy(&bytes);
        for c in clear {
            assert!(!text.contains(c), "clear secret in {}", entry.display());
        }
    }
    assert!(cached > 0, "the layer cache was written");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn user_rule_files_and_generated_keys() {
    if !have_tool("openssl") || !have_tool("ssh-keygen") {
        return;
    }
    let d = temp();
    // Real keys, made for this test.
    let rsa = d.path().join("rsa.pem");
    let ok = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
            "-out",
        ])
        .arg(&rsa)
        .status()
        .unwrap();
    assert!(ok.success());
    let ec = d.path().join("ec.pem");
    let ok = Command::new("openssl")
        .args([
            "ecparam",
            "-genkey",
            "-name",
            "prime256v1",
            "-noout",
            "-out",
        ])
        .arg(&ec)
        .status()
        .unwrap();
    assert!(ok.success());
    let ssh = d.path().join("id_ed25519");
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
        .arg(&ssh)
        .status()
        .unwrap();
    assert!(ok.success());
    let read = |p: &Path| std::fs::read(p).unwrap();
    let img = d.path().join("keys.tar");
    let l = layer(&[
        E::File("etc/app/tls.key", read(&rsa)),
        E::File("etc/app/ec.key", read(&ec)),
        E::File("root/.ssh/id_ed25519", read(&ssh)),
        E::File("root/.ssh/id_ed25519.pub", read(&ssh.with_extension("pub"))),
        f(
            "opt/acme/conf",
            &format!("key = acme-{}\n", tok(24, 9).to_lowercase()),
        ),
    ]);
    archive(&img, &[l], &["PATH=/usr/bin".into()], &["COPY . /".into()]);

    let rules = d.path().join("rules.toml");
    std::fs::write(
        &rules,
        r#"
disable = ["HF-SECRET-EC-PRIVATE-KEY"]
[[rule]]
id = "ACME-KEY"
title = "ACME key"
severity = "LOW"
keywords = ["acme-"]
regex = '''acme-(?P<secret>[0-9a-z]{24})'''
"#,
    )
    .unwrap();
    let img = path_str(&img);
    let base = [
        "scan",
        "image",
        "--no-cache",
        "--scanners",
        "secret",
        "-f",
        "json",
    ];
    let ids = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        args.push(&img);
        let mut v: Vec<String> = findings(&run(&args, None))
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    // openssl 3 writes PKCS#8 for genpkey and SEC1 (`EC PRIVATE KEY`) for ecparam.
    assert_eq!(
        ids(&[]),
        vec![
            "HF-SECRET-EC-PRIVATE-KEY",
            "HF-SECRET-OPENSSH-PRIVATE-KEY",
            "HF-SECRET-PKCS8-PRIVATE-KEY"
        ]
    );
    let rules = path_str(&rules);
    assert_eq!(
        ids(&["--secret-config", &rules]),
        vec![
            "ACME-KEY",
            "HF-SECRET-OPENSSH-PRIVATE-KEY",
            "HF-SECRET-PKCS8-PRIVATE-KEY"
        ]
    );
    // A broken rule file is an error that names it.
    std::fs::write(d.path().join("bad.toml"), "[[rule]]\nid = 1\n").unwrap();
    let out = holdfast()
        .args([
            "scan",
            "image",
            "--no-cache",
            "--scanners",
            "secret",
            "--secret-config",
        ])
        .arg(d.path().join("bad.toml"))
        .arg(&img)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml"));
}

#[test]
fn yara_rule_directories() {
    let d = temp();
    let rules = d.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("corp.yar"),
        "import \"pe\"\nrule Corp_Backdoor_Marker : backdoor\n{\n  meta:\n    description = \"Corp marker\"\n    severity = \"CRITICAL\"\n  strings:\n    $m = \"corp-implant-v2\"\n  condition:\n    $m and not pe.is_pe\n}\n",
    )
    .unwrap();
    let img = d.path().join("img.tar");
    let l = layer(&[f("usr/local/bin/agent", "#!/bin/sh\n# corp-implant-v2\n")]);
    archive(&img, &[l], &[], &[]);
    let out = run(
        &[
            "scan",
            "image",
            "--no-cache",
            "--scanners",
            "malware",
            "-f",
            "json",
            "--yara-rules",
            &path_str(&rules),
            &path_str(&img),
        ],
        None,
    );
    let found = findings(&out);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["id"], "Corp_Backdoor_Marker");
    assert_eq!(found[0]["severity"], "CRITICAL");
    assert_eq!(found[0]["path"], "/usr/local/bin/agent");
}

/// Runs a scan with `HOLDFAST_PRINT_PEAK_RSS=1`; returns (result, stderr, peak RSS MiB,
/// seconds).
fn scan_measured(img: &Path, extra: &[&str]) -> (serde_json::Value, String, u64, f64) {
    let started = std::time::Instant::now();
    let out = holdfast()
        .args(["scan", "image", "--no-cache", "-f", "json"])
        .args(extra)
        .arg(img)
        .env("HOLDFAST_PRINT_PEAK_RSS", "1")
        .output()
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "scan failed: {err}");
    let kib: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("holdfast: peak RSS "))
        .and_then(|v| v.trim_end_matches(" KiB").parse().ok())
        .expect("the binary reports its peak RSS");
    (
        serde_json::from_slice(&out.stdout).unwrap(),
        err,
        kib / 1024,
        secs,
    )
}

fn octal(field: &mut [u8], v: u64) {
    let s = format!("{:0width$o}", v, width = field.len() - 1);
    field[..s.len()].copy_from_slice(s.as_bytes());
    field[s.len()] = 0;
}

/// A GNU sparse entry: `real_size` bytes long, one block of data at its very end.
fn sparse_entry(name: &str, real_size: u64, tail: &[u8]) -> Vec<u8> {
    let mut block = tail.to_vec();
    block.resize(512, b'\n');
    let mut h = tar::Header::new_gnu();
    h.set_path(name).unwrap();
    h.set_entry_type(tar::EntryType::GNUSparse);
    h.set_size(block.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    let gnu = h.as_gnu_mut().unwrap();
    octal(&mut gnu.realsize, real_size);
    octal(&mut gnu.sparse[0].offset, real_size - block.len() as u64);
    octal(&mut gnu.sparse[0].numbytes, block.len() as u64);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(&block);
    out
}

/// Ceiling for these scans, as in `bad_input.rs`.
const CEILING_MIB: u64 = 300;

#[test]
fn hostile_files_are_bounded_and_named() {
    let d = temp();
    let ghp = format!("ghp_{}", tok(36, 11));
    // A 5 GiB sparse file with a secret in its last block.
    let mut raw = sparse_entry(
        "data/sparse.img",
        5 << 30,
        format!("token {ghp}\n").as_bytes(),
    );
    // One 100 MB line (over the default bound).
    let line = {
        let mut v = vec![b'a'; 100 << 20];
        v.extend_from_slice(format!(" {ghp}\n").as_bytes());
        v
    };
    // Binary noise with a token inside.
    let mut noise: Vec<u8> = (0..(1u32 << 20))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    noise[1000..1000 + ghp.len()].copy_from_slice(ghp.as_bytes());
    // Archives nested forty deep, a token at the bottom.
    let mut nested = layer(&[f("inner.txt", &format!("{ghp}\n"))]);
    for i in 0..40 {
        let name = format!("level{i}.tar");
        nested = layer(&[E::File(&name, nested)]);
    }
    let rest = layer(&[
        E::File("data/one-line.txt", line),
        E::File("data/noise.bin", noise.clone()),
        E::File("data/noise", noise),
        E::File("data/nested.tar", nested),
        f("etc/app.conf", &format!("token = {ghp}\n")),
    ]);
    // Splice the sparse entry in front of the other entries (drop its end-of-archive).
    raw.extend_from_slice(&rest);
    let img = d.path().join("hostile.tar");
    archive(&img, &[raw], &[], &[]);

    let (r, err, rss, secs) = scan_measured(&img, &["--scanners", "secret,malware,webshell"]);
    assert!(rss < CEILING_MIB, "peak RSS {rss} MiB");
    assert!(secs < 120.0, "took {secs:.1}s");
    let warnings = warnings_text(&r);
    assert!(
        warnings.contains("/data/sparse.img") && warnings.contains("5368709120 bytes"),
        "{warnings}\n{err}"
    );
    assert!(warnings.contains("/data/one-line.txt"), "{warnings}");
    let paths: Vec<&str> = r["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    // Only the plain text file is a finding: binaries, noise and archives are not text.
    assert_eq!(paths, vec!["/etc/app.conf"], "{paths:?}");
}

#[test]
fn one_long_line_scanned_when_the_bound_allows() {
    let d = temp();
    let ghp = format!("ghp_{}", tok(36, 12));
    let mut line = vec![b'a'; 100 << 20];
    line.extend_from_slice(format!(" password={ghp}\n").as_bytes());
    let img = d.path().join("line.tar");
    archive(
        &img,
        &[layer(&[E::File("data/one-line.txt", line)])],
        &[],
        &[],
    );
    let bound = (200u64 << 20).to_string();
    let (r, _, rss, secs) = scan_measured(
        &img,
        &[
            "--scanners",
            "secret",
            "--secret-max-file-size",
            &bound,
            "--max-file-size",
            &bound,
        ],
    );
    assert!(secs < 120.0, "took {secs:.1}s");
    assert!(rss < 400, "peak RSS {rss} MiB for a 100 MiB file");
    let f = &r["targets"][0]["findings"][0];
    assert_eq!(f["id"], "HF-SECRET-GITHUB-TOKEN");
    assert_eq!(f["line"], 1);
}

/// A clamd of the test's own: its config, a socket in a temp dir, and a signature database
/// made here (no freshclam, no network). Stopped by PID on drop.
struct Clamd {
    child: std::process::Child,
    socket: std::path::PathBuf,
}

impl Drop for Clamd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_clamd(dir: &Path, payload: &Path, marker: &str) -> Clamd {
    let db = dir.join("db");
    std::fs::create_dir_all(&db).unwrap();
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    // An MD5 signature for the whole payload file, written by sigtool (md5:size:name).
    let out = Command::new("sigtool")
        .arg("--md5")
        .arg(payload)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sigtool: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    let mut parts: Vec<&str> = line.trim().splitn(3, ':').collect();
    parts[2] = "Holdfast.Test.Payload";
    std::fs::write(
        db.join("holdfast-test.hdb"),
        format!("{}\n", parts.join(":")),
    )
    .unwrap();
    // A body signature (hex of a marker string, anywhere in any file).
    let hex: String = marker.bytes().map(|b| format!("{b:02x}")).collect();
    std::fs::write(
        db.join("holdfast-test.ndb"),
        format!("Holdfast.Test.Marker:0:*:{hex}\n"),
    )
    .unwrap();
    let socket = dir.join("clamd.sock");
    let conf = dir.join("clamd.conf");
    std::fs::write(
        &conf,
        format!(
            "LocalSocket {}\nDatabaseDirectory {}\nTemporaryDirectory {}\nLogFile {}\nForeground yes\nStreamMaxLength 20M\nMaxThreads 2\n",
            socket.display(),
            db.display(),
            dir.join("tmp").display(),
            dir.join("clamd.log").display()
        ),
    )
    .unwrap();
    let clamd = if Path::new("/usr/sbin/clamd").exists() {
        "/usr/sbin/clamd".to_string()
    } else {
        "clamd".to_string()
    };
    let child = Command::new(clamd)
        .arg("-c")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut c = Clamd { child, socket };
    let started = std::time::Instant::now();
    loop {
        if let Ok(mut s) = std::os::unix::net::UnixStream::connect(&c.socket) {
            use std::io::{Read, Write};
            let mut reply = [0u8; 5];
            if s.write_all(b"zPING\0").is_ok() && s.read_exact(&mut reply).is_ok() {
                assert_eq!(&reply, b"PONG\0");
                return c;
            }
        }
        if let Ok(Some(status)) = c.child.try_wait() {
            panic!(
                "clamd exited ({status}): {}",
                std::fs::read_to_string(dir.join("clamd.log")).unwrap_or_default()
            );
        }
        assert!(
            started.elapsed().as_secs() < 60,
            "clamd did not answer within 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn clamav_daemon_through_instream() {
    if !(have_tool("clamd") || Path::new("/usr/sbin/clamd").exists()) || !have_tool("sigtool") {
        return;
    }
    let d = temp();
    let payload_text = format!("holdfast clamav payload {}\n", tok(32, 20));
    let payload = d.path().join("payload.bin");
    std::fs::write(&payload, &payload_text).unwrap();
    let marker = format!("holdfast-ndb-marker-{}", tok(12, 21));
    let clamd = start_clamd(d.path(), &payload, &marker);

    // Big enough for several INSTREAM chunks, the marker near its end.
    let mut big = vec![b'.'; 300_000];
    big.extend_from_slice(marker.as_bytes());
    let img = d.path().join("img.tar");
    archive(
        &img,
        &[layer(&[
            E::File("opt/payload.bin", payload_text.into_bytes()),
            E::File("opt/big.dat", big),
            f("opt/clean.txt", "nothing to see\n"),
        ])],
        &[],
        &[],
    );
    let out = run(
        &[
            "scan",
            "image",
            "--no-cache",
            "--scanners",
            "malware",
            "-f",
            "json",
            "--clamd",
            &format!("unix:{}", clamd.socket.display()),
            &path_str(&img),
        ],
        None,
    );
    let mut got: Vec<(String, String)> = findings(&out)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, "/opt/big.dat");
    assert!(
        got[0].1.starts_with("CLAMAV-Holdfast.Test.Marker"),
        "{got:?}"
    );
    assert_eq!(got[1].0, "/opt/payload.bin");
    assert!(
        got[1].1.starts_with("CLAMAV-Holdfast.Test.Payload"),
        "{got:?}"
    );

    // A daemon that is not there is a clear error at the start.
    let out = holdfast()
        .args([
            "scan",
            "image",
            "--no-cache",
            "--scanners",
            "malware",
            "--clamd",
        ])
        .arg(format!("unix:{}", d.path().join("nope.sock").display()))
        .arg(&img)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot use clamd"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
