//! Positive and near-miss fixtures for every built-in rule. Secrets are generated here
//! (well-formed, random, never real) so no literal credential sits in the repository.

use super::*;
use crate::scan_test_support::{analyze_bytes, analyze_head, analyze_unread, file_meta as meta};
use holdfast_model::WarningKind;

const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const DIGITS: &str = "0123456789";
const HEX: &str = "0123456789abcdef";

/// A deterministic pseudo-random string over `alphabet` (xorshift; the seed varies it).
fn tok(alphabet: &str, n: usize, seed: u64) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
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

fn alnum() -> String {
    format!("{UPPER}{LOWER}{DIGITS}")
}

fn b64() -> String {
    format!("{UPPER}{LOWER}{DIGITS}+/")
}

/// A PEM block with a random body of `lines` 64-character lines.
fn pem(label: &str, headers: &str, lines: usize, seed: u64) -> String {
    let mut s = format!("-----BEGIN {label}-----\n{headers}");
    for i in 0..lines {
        s.push_str(&tok(&b64(), 64, seed + i as u64));
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

fn rules() -> Arc<RuleSet> {
    SecretConfig::default().rules
}

/// Rule ids found in `text` at `path`.
fn ids_at(path: &str, text: &str) -> Vec<String> {
    let r = rules();
    r.scan_text(Some(path), text.as_bytes())
        .matches
        .iter()
        .map(|m| r.rules[m.rule].id.clone())
        .collect()
}

fn ids(text: &str) -> Vec<String> {
    ids_at("/app/settings.txt", text)
}

#[track_caller]
fn hit(id: &str, text: &str) {
    hit_at(id, "/app/settings.txt", text);
}

#[track_caller]
fn hit_at(id: &str, path: &str, text: &str) {
    let found = ids_at(path, text);
    assert_eq!(found, vec![id.to_string()], "in {path}:\n{text}");
}

#[track_caller]
fn miss(text: &str) {
    miss_at("/app/settings.txt", text);
}

#[track_caller]
fn miss_at(path: &str, text: &str) {
    let found = ids_at(path, text);
    assert!(found.is_empty(), "unexpected {found:?} in {path}:\n{text}");
}

/// A near miss for a specific rule: that rule stays quiet (the generic rule may still
/// report a random value, which is right).
#[track_caller]
fn not_rule_at(id: &str, path: &str, text: &str) {
    let found = ids_at(path, text);
    assert!(
        !found.iter().any(|f| f == id),
        "unexpected {id} in {path}:\n{text}"
    );
}

#[track_caller]
fn not_rule(id: &str, text: &str) {
    not_rule_at(id, "/app/settings.txt", text);
}

#[test]
fn private_keys() {
    let cases = [
        ("HF-SECRET-RSA-PRIVATE-KEY", "RSA PRIVATE KEY", ""),
        (
            "HF-SECRET-RSA-PRIVATE-KEY",
            "RSA PRIVATE KEY",
            "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A1B2C3D4E5F60718293A4B5C6D7E8F9\n\n",
        ),
        ("HF-SECRET-EC-PRIVATE-KEY", "EC PRIVATE KEY", ""),
        ("HF-SECRET-DSA-PRIVATE-KEY", "DSA PRIVATE KEY", ""),
        ("HF-SECRET-OPENSSH-PRIVATE-KEY", "OPENSSH PRIVATE KEY", ""),
        ("HF-SECRET-PKCS8-PRIVATE-KEY", "PRIVATE KEY", ""),
        ("HF-SECRET-PKCS8-PRIVATE-KEY", "ENCRYPTED PRIVATE KEY", ""),
        (
            "HF-SECRET-PGP-PRIVATE-KEY",
            "PGP PRIVATE KEY BLOCK",
            "Comment: test\n\n",
        ),
    ];
    for (i, (id, label, headers)) in cases.iter().enumerate() {
        hit_at(
            id,
            "/root/key.pem",
            &pem(label, headers, 12, i as u64 * 100),
        );
        // Near miss: the armour line alone, as libraries carry it in their source.
        miss(&format!(
            "MARKER = b\"-----BEGIN {label}-----\"\nEND = b\"-----END {label}-----\"\n"
        ));
    }
    // Public material is not secret.
    miss(&pem("PUBLIC KEY", "", 6, 7));
    miss(&pem("CERTIFICATE", "", 12, 8));
    miss(&pem("PGP PUBLIC KEY BLOCK", "Comment: x\n\n", 12, 9));
}

#[test]
fn aws() {
    let id = format!("AKIA{}", tok("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 1));
    hit("HF-SECRET-AWS-ACCESS-KEY-ID", &format!("key_id: {id}\n"));
    miss(&format!("key_id: {}\n", &id[..19]));
    miss(&format!("x{id}x\n"));
    // AWS's documented example key id.
    miss("aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n");

    let secret = tok(&b64(), 40, 2);
    hit(
        "HF-SECRET-AWS-SECRET-ACCESS-KEY",
        &format!("aws_secret_access_key = {secret}\n"),
    );
    not_rule(
        "HF-SECRET-AWS-SECRET-ACCESS-KEY",
        &format!("aws_secret_access_key = {}\n", &secret[..39]),
    );
    miss("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
}

#[test]
fn gcp_service_account() {
    let mut body = String::new();
    for i in 0..10 {
        body.push_str(&tok(&b64(), 64, 30 + i));
        body.push_str("\\n");
    }
    let json = format!(
        "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"p\",\n  \"private_key_id\": \"{}\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{body}-----END PRIVATE KEY-----\\n\",\n  \"client_email\": \"a@p.iam.example.invalid\"\n}}\n",
        tok(HEX, 40, 3)
    );
    hit("HF-SECRET-GCP-SERVICE-ACCOUNT", &json);
    miss("{\"type\": \"service_account\", \"private_key\": \"\"}\n");
}

#[test]
fn azure() {
    let key = format!("{}==", tok(&b64(), 86, 4));
    hit(
        "HF-SECRET-AZURE-STORAGE-KEY",
        &format!("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key};EndpointSuffix=core.windows.net\n"),
    );
    miss(&format!("AccountKey={}==\n", tok(&b64(), 80, 4)));

    let sig = format!("{}%3D", tok(&alnum(), 43, 5));
    hit(
        "HF-SECRET-AZURE-SAS-TOKEN",
        &format!("url = \"https://acct.blob.example.invalid/c?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&spr=https&sig={sig}\"\n"),
    );
    miss(&format!(
        "url = \"https://host.example.invalid/c?a=1&sig={sig}\"\n"
    ));
}

#[test]
fn code_hosting() {
    let ghp = format!("ghp_{}", tok(&alnum(), 36, 6));
    hit("HF-SECRET-GITHUB-TOKEN", &format!("token: {ghp}\n"));
    miss(&format!("see: {}\n", &ghp[..39]));
    let pat = format!(
        "github_pat_{}_{}",
        tok(&alnum(), 22, 7),
        tok(&alnum(), 59, 8)
    );
    hit(
        "HF-SECRET-GITHUB-FINE-GRAINED-TOKEN",
        &format!("GH={pat}\n"),
    );
    miss(&format!("GH=github_pat_{}\n", tok(&alnum(), 22, 7)));
    let gl = format!("glpat-{}", tok(&alnum(), 20, 9));
    hit("HF-SECRET-GITLAB-TOKEN", &format!("CI_TOKEN {gl}\n"));
    miss(&format!("CI_TOKEN {}\n", &gl[..24]));
}

#[test]
fn saas() {
    let slack = format!(
        "xoxb-{}-{}-{}",
        tok(DIGITS, 12, 10),
        tok(DIGITS, 13, 11),
        tok(&alnum(), 24, 12)
    );
    hit("HF-SECRET-SLACK-TOKEN", &format!("slack: {slack}\n"));
    miss("slack: xoxb-not-a-token\n");
    let hook = format!(
        "https://hooks.slack.com/services/T{}/B{}/{}",
        tok("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10, 13),
        tok("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10, 14),
        tok(&alnum(), 24, 15)
    );
    hit("HF-SECRET-SLACK-WEBHOOK", &format!("hook: {hook}\n"));
    miss("hook: https://hooks.slack.com/services/\n");

    let stripe = format!("sk_live_{}", tok(&alnum(), 24, 16));
    hit("HF-SECRET-STRIPE-KEY", &format!("stripe {stripe}\n"));
    miss(&format!("stripe sk_live_{}\n", tok(&alnum(), 20, 16)));

    let sk = format!("SK{}", tok(HEX, 32, 17));
    hit("HF-SECRET-TWILIO-API-KEY", &format!("twilio_key: {sk}\n"));
    miss(&format!("SKIP{}\n", tok(HEX, 32, 17)));
    let tw = tok(HEX, 32, 18);
    hit(
        "HF-SECRET-TWILIO-AUTH-TOKEN",
        &format!("TWILIO_AUTH_TOKEN: {tw}\n"),
    );
    not_rule(
        "HF-SECRET-TWILIO-AUTH-TOKEN",
        &format!("TWILIO_AUTH_TOKEN: {}\n", &tw[..31]),
    );

    let sg = format!("SG.{}.{}", tok(&alnum(), 22, 19), tok(&alnum(), 43, 20));
    hit("HF-SECRET-SENDGRID-API-KEY", &format!("sendgrid = {sg}\n"));
    miss(&format!(
        "sendgrid = SG.{}.{}\n",
        tok(&alnum(), 22, 19),
        tok(&alnum(), 40, 20)
    ));
}

#[test]
fn package_registries() {
    let npm = format!("npm_{}", tok(&alnum(), 36, 21));
    hit("HF-SECRET-NPM-TOKEN", &format!("NPM {npm}\n"));
    miss(&format!("NPM {}\n", &npm[..38]));
    let line = format!(
        "//registry.example.invalid/:_authToken={}\n",
        tok(&alnum(), 30, 22)
    );
    hit_at("HF-SECRET-NPMRC-AUTH", "/root/.npmrc", &line);
    not_rule_at("HF-SECRET-NPMRC-AUTH", "/root/notes.txt", &line);
    miss_at(
        "/root/.npmrc",
        "//registry.example.invalid/:_authToken=${NPM_TOKEN}\n",
    );

    let pypi = format!("pypi-AgEIcHlwaS5vcmc{}", tok(&alnum(), 60, 23));
    hit("HF-SECRET-PYPI-TOKEN", &format!("password = {pypi}\n"));
    not_rule("HF-SECRET-PYPI-TOKEN", "password = pypi-AgEIcHlwaS5vcmc\n");

    let dckr = format!("dckr_pat_{}", tok(&alnum(), 27, 24));
    hit("HF-SECRET-DOCKER-HUB-TOKEN", &format!("DOCKER {dckr}\n"));
    miss(&format!("DOCKER dckr_pat_{}\n", tok(&alnum(), 20, 24)));

    let cfg = format!(
        "{{\"auths\": {{\"registry.example.invalid\": {{\"auth\": \"{}=\"}}}}}}\n",
        tok(&b64(), 27, 25)
    );
    hit_at(
        "HF-SECRET-DOCKER-CONFIG-AUTH",
        "/root/.docker/config.json",
        &cfg,
    );
    miss_at("/srv/app/other.json", &cfg);
    miss_at(
        "/root/.docker/config.json",
        "{\"auths\": {\"registry.example.invalid\": {}}, \"credsStore\": \"pass\"}\n",
    );
}

#[test]
fn credential_files() {
    let pw = tok(&alnum(), 16, 26);
    let netrc = format!("machine host.example.invalid login me password {pw}\n");
    hit_at("HF-SECRET-NETRC-PASSWORD", "/root/.netrc", &netrc);
    miss_at("/etc/notes", &netrc);

    let cred = format!("https://me:{}@git.example.invalid\n", tok(&alnum(), 20, 27));
    hit_at("HF-SECRET-GIT-CREDENTIALS", "/root/.git-credentials", &cred);
    miss_at("/root/.git-credentials", "https://me@git.example.invalid\n");

    let kube_token = format!(
        "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: {}\n",
        tok(&alnum(), 40, 28)
    );
    hit_at(
        "HF-SECRET-KUBECONFIG-TOKEN",
        "/root/.kube/config",
        &kube_token,
    );
    not_rule_at(
        "HF-SECRET-KUBECONFIG-TOKEN",
        "/srv/app/values.yaml",
        &kube_token,
    );
    let client_key = format!(
        "users:\n- name: u\n  user:\n    client-key-data: {}\n",
        tok(&b64(), 120, 29)
    );
    hit_at(
        "HF-SECRET-KUBECONFIG-CLIENT-KEY",
        "/root/.kube/config",
        &client_key,
    );
    miss_at("/root/.kube/config", "    client-key-data: LS0tLS1\n");
}

#[test]
fn database_urls() {
    let pw = tok(&alnum(), 14, 30);
    for scheme in [
        "postgres",
        "postgresql",
        "mysql",
        "mongodb+srv",
        "redis",
        "amqp",
    ] {
        hit(
            "HF-SECRET-DATABASE-URL",
            &format!("DATABASE_URL={scheme}://app:{pw}@db.example.invalid:5432/app\n"),
        );
    }
    miss("DATABASE_URL=postgres://app@db.example.invalid/app\n");
    miss("DATABASE_URL=postgres://app:${DB_PASSWORD}@db.example.invalid/app\n");
    miss("url = \"postgres://user:password@localhost/db\"  # example\n");
}

#[test]
fn jwt() {
    let jwt = format!(
        "eyJ{}.eyJ{}.{}",
        tok(&alnum(), 30, 31),
        tok(&alnum(), 60, 32),
        tok(&alnum(), 43, 33)
    );
    hit("HF-SECRET-JWT", &format!("Authorization: Bearer {jwt}\n"));
    miss(&format!(
        "header eyJ{}.eyJ{}\n",
        tok(&alnum(), 30, 31),
        tok(&alnum(), 60, 32)
    ));
}

#[test]
fn generic_assignments() {
    let v = tok(&alnum(), 20, 34);
    hit(
        "HF-SECRET-GENERIC-ASSIGNMENT",
        &format!("db_password = \"{v}\"\n"),
    );
    hit("HF-SECRET-GENERIC-ASSIGNMENT", &format!("API_KEY={v}\n"));
    hit(
        "HF-SECRET-GENERIC-ASSIGNMENT",
        &format!("client_secret: {v}\n"),
    );
    hit(
        "HF-SECRET-GENERIC-ASSIGNMENT",
        &format!("{{\"token\": \"{v}\"}}\n"),
    );
    // Near misses: code, placeholders, low entropy, references, no digits.
    miss("token = self.tokenize(source)\n");
    miss("password = getpass.getpass()\n");
    miss("password = \"changeme\"\n");
    miss("secret_key = \"aaaaaaaa1111\"\n");
    miss("PASSWORD=${DB_PASSWORD}\n");
    miss("password: <your-password>\n");
    miss("token_type = \"bearer_token_value\"\n");
    miss(&format!("passwordless = {}\n", &v[..5]));
}

/// The generic rule's regex starts at its keyword. Its former form also matched the
/// key's name before the keyword (`(?-u:\b)[a-z0-9_.-]*`); on texts built from key names,
/// keywords, separators and values, both must find the same secrets at the same places.
#[test]
fn generic_rule_finds_what_its_former_form_found() {
    let rule = rules()
        .get("HF-SECRET-GENERIC-ASSIGNMENT")
        .unwrap()
        .regex
        .clone();
    let former = regex::bytes::Regex::new(&rule.as_str().replacen(
        "(?i)(?:",
        r"(?i)(?-u:\b)[a-z0-9_.-]*(?:",
        1,
    ))
    .unwrap();
    assert_ne!(former.as_str(), rule.as_str());
    let secrets = |re: &regex::bytes::Regex, text: &[u8]| -> Vec<(usize, usize)> {
        re.captures_iter(text)
            .filter_map(|c| c.name("secret").or_else(|| c.name("secret_bare")))
            .map(|m| (m.start(), m.end()))
            .collect()
    };
    let pieces: Vec<&str> = "db|_|.|-|my|Password|passwd|SECRET|token|api_key|apikey|access-key|\
                             auth_key|x9|=|:|=>| |\n|\"|'|aB3dE5gH7j|s3cr3tValue99|$|;|é|("
        .split('|')
        .collect();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut found = 0;
    for _ in 0..20_000 {
        let mut text = String::new();
        let n = 1 + (seed % 24) as usize;
        for _ in 0..n {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.push_str(pieces[(seed % pieces.len() as u64) as usize]);
        }
        let want = secrets(&former, text.as_bytes());
        assert_eq!(secrets(&rule, text.as_bytes()), want, "text {text:?}");
        found += usize::from(!want.is_empty());
    }
    assert!(found > 500, "only {found} texts held a secret");
}

#[test]
fn specific_rules_win_over_generic() {
    let ghp = format!("ghp_{}", tok(&alnum(), 36, 35));
    assert_eq!(
        ids(&format!("GITHUB_TOKEN={ghp}\n")),
        vec!["HF-SECRET-GITHUB-TOKEN"]
    );
}

#[test]
fn lines_and_several_matches() {
    let a = format!("ghp_{}", tok(&alnum(), 36, 36));
    let b = format!("npm_{}", tok(&alnum(), 36, 37));
    let text = format!("one\ntwo {a}\nthree\n\nfive {b}\n");
    let r = rules();
    let found = r.scan_text(Some("/x"), text.as_bytes());
    let lines: Vec<u32> = found.matches.iter().map(|m| m.line).collect();
    assert_eq!(lines, vec![2, 5]);
}

#[test]
fn many_matches_are_bounded() {
    let mut text = String::new();
    for i in 0..150 {
        text.push_str(&format!("ghp_{}\n", tok(&alnum(), 36, 1000 + i)));
    }
    let found = rules().scan_text(Some("/x"), text.as_bytes());
    assert_eq!(found.matches.len(), matcher::MAX_MATCHES_PER_TEXT);
    assert!(found.truncated);
}

#[test]
fn findings_carry_redacted_evidence_and_fingerprint_only() {
    let a = SecretAnalyzer::new(SecretConfig::default());
    let ghp = format!("ghp_{}", tok(&alnum(), 36, 38));
    let facts = analyze_bytes(&a, "/app/.env", format!("x\nT={ghp}\n").as_bytes());
    let [FileFact::Finding(f)] = facts.as_slice() else {
        panic!("{facts:?}")
    };
    assert_eq!(f.evidence.as_deref(), Some("ghp_*****"));
    assert_eq!(f.fingerprint, Some(redact::fingerprint(&ghp)));
    assert_eq!(f.line, Some(2));
    assert!(f.remediation.is_some());
    let json = serde_json::to_string(&facts).unwrap();
    assert!(!json.contains(&ghp[4..]), "clear secret in {json}");
}

#[test]
fn binaries_and_large_files_are_skipped() {
    let a = SecretAnalyzer::new(SecretConfig {
        max_file_size: 1000,
        ..SecretConfig::default()
    });
    let ghp = format!("ghp_{}", tok(&alnum(), 36, 39));
    let mut bin = b"\x7fELF\0\0\0".to_vec();
    bin.extend_from_slice(ghp.as_bytes());
    assert!(analyze_bytes(&a, "/usr/bin/tool", &bin).is_empty());
    let mut latin1 = b"caf\xe9 ".to_vec();
    latin1.extend_from_slice(ghp.as_bytes());
    assert!(analyze_bytes(&a, "/etc/x", &latin1).is_empty());

    assert_eq!(a.wants("/usr/lib/libx.so.1", &meta(10)), Want::No);
    assert_eq!(a.wants("/usr/share/doc/x/README", &meta(10)), Want::No);
    assert_eq!(a.wants("/etc/app.conf", &meta(10)), Want::Bytes);
    assert_eq!(a.wants("/etc/big.conf", &meta(5000)), Want::Head);
    let facts = analyze_unread(&a, "/etc/big.conf", 5000);
    let [FileFact::Skipped {
        kind: WarningKind::BoundReached,
        message,
    }] = facts.as_slice()
    else {
        panic!("{facts:?}")
    };
    assert_eq!(
        message,
        "file is 5000 bytes, over the secret scanner's 1000-byte bound (--secret-max-file-size); not scanned for secrets"
    );
}

#[test]
fn oversized_binaries_are_skipped_silently_and_text_with_a_warning() {
    let a = SecretAnalyzer::new(SecretConfig {
        max_file_size: 1000,
        ..SecretConfig::default()
    });
    // No suffix, not executable: only the first bytes tell it is a binary.
    assert_eq!(a.wants("/opt/tool", &meta(50_000)), Want::Head);
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    elf.resize(SNIFF_BYTES, b'A');
    let facts = analyze_head(&a, "/opt/tool", 50_000, &elf);
    assert!(facts.is_empty(), "{facts:?}");
    // A suffix is enough, before any byte is read (archives are opened instead: below).
    assert_eq!(a.wants("/opt/blob.tar.xz", &meta(50_000)), Want::No);
    // A text file over the bound keeps its warning, even when the head is cut inside a
    // UTF-8 character.
    let mut text = "caf\u{e9} config\n".repeat(SNIFF_BYTES).into_bytes();
    text.truncate(SNIFF_BYTES);
    while std::str::from_utf8(&text).is_ok() {
        text.pop();
    }
    let facts = analyze_head(&a, "/etc/big.conf", 50_000, &text);
    assert!(
        matches!(
            facts.as_slice(),
            [FileFact::Skipped { kind: WarningKind::BoundReached, message }]
                if message.contains("50000 bytes")
        ),
        "{facts:?}"
    );
}

#[test]
fn oversized_elf_in_a_walk_gets_no_warning_even_when_another_analyzer_streams_it() {
    use holdfast_analyze::walker::walk_tar;
    use holdfast_analyze::WalkLimits;

    // An executable ELF larger than the walker's bound: `go` streams it, `rust` is told it
    // is over the bound; the secret scanner only looks at its head.
    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.resize(40_000, 0);
    let text = "x = 1\n".repeat(1000);
    let mut b = tar::Builder::new(Vec::new());
    for (name, body, mode) in [
        ("usr/bin/tool", &elf[..], 0o755),
        ("etc/big.conf", text.as_bytes(), 0o644),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_mode(mode);
        h.set_size(body.len() as u64);
        b.append_data(&mut h, name, body).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let secret = SecretAnalyzer::new(SecretConfig {
        max_file_size: 1000,
        ..SecretConfig::default()
    });
    let mut analyzers = holdfast_analyze::registry::all();
    analyzers.push(Box::new(secret));
    let refs: Vec<&dyn Analyzer> = analyzers.iter().map(|a| a.as_ref()).collect();
    let limits = WalkLimits {
        max_file_bytes: 16 << 10,
        ..WalkLimits::default()
    };
    let out = walk_tar(&mut &tar[..], &refs, limits);
    let secret_warnings: Vec<_> = out
        .warnings
        .iter()
        .filter(|w| w.message.starts_with("secret:"))
        .map(|w| (w.kind, w.path.as_deref(), w.message.as_str()))
        .collect();
    assert_eq!(
        secret_warnings,
        [(
            WarningKind::BoundReached,
            Some("/etc/big.conf"),
            "secret: file is 6000 bytes, over the secret scanner's 1000-byte bound (--secret-max-file-size); not scanned for secrets"
        )],
        "{:?}",
        out.warnings
    );
    // `go` still had the whole stream: it did not warn that someone else consumed it.
    assert!(
        !out.warnings
            .iter()
            .any(|w| w.message.contains("consumed the stream")),
        "{:?}",
        out.warnings
    );
}

#[test]
fn user_rules_change_findings_and_the_cache_version() {
    let user = r#"
disable = ["HF-SECRET-GITHUB-TOKEN"]
[[rule]]
id = "ACME-KEY"
title = "ACME key"
severity = "LOW"
keywords = ["acme-"]
regex = '''acme-(?P<secret>[0-9a-f]{24})'''
[[allow]]
id = "vendored"
paths = ['''^/opt/vendor/''']
"#;
    let cfg = SecretConfig::with_rule_files(&[("acme.toml".into(), user.into())], 1 << 20).unwrap();
    let ghp = format!("ghp_{}", tok(&alnum(), 36, 40));
    let acme = format!("acme-{}", tok(HEX, 24, 41));
    let found = cfg
        .rules
        .scan_text(Some("/x"), format!("{ghp}\n{acme}\n").as_bytes());
    let ids: Vec<&str> = found
        .matches
        .iter()
        .map(|m| cfg.rules.rules[m.rule].id.as_str())
        .collect();
    assert_eq!(ids, vec!["ACME-KEY"]);
    let user_a = SecretAnalyzer::new(cfg);
    assert_eq!(user_a.wants("/opt/vendor/x.txt", &meta(10)), Want::No);
    let builtin_a = SecretAnalyzer::new(SecretConfig::default());
    assert_ne!(user_a.version(), builtin_a.version());
}

#[test]
fn a_key_in_a_jar_in_a_tarball_is_found_at_its_nested_path() {
    use crate::test_support::{check_walked, file_mode, tar_gz_of, zip_of};

    let id = format!("AKIA{}", tok("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 71));
    let props = format!("app.name=demo\naws_access_key_id = {id}\n");
    let jar = zip_of(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("conf/app.properties", props.as_bytes()),
        ("com/example/App.class", b"\xca\xfe\xba\xbe\0\0"),
    ]);
    let bundle = tar_gz_of(&[("lib/app.jar", &jar), ("README", b"nothing here\n")]);
    let a = SecretAnalyzer::new(SecretConfig::default());
    assert_eq!(a.wants("/opt/bundle.tar.gz", &meta(1 << 30)), Want::Bytes);
    assert_eq!(a.wants("/opt/app.JAR", &meta(10)), Want::Bytes);
    assert_eq!(a.wants("/opt/app.apk", &meta(10)), Want::No);

    let (checked, warnings) = check_walked(
        Box::new(SecretChecker::new(SecretConfig::default())),
        &[vec![file_mode("/opt/bundle.tar.gz", &bundle, 0o644)]],
    );
    let found: Vec<_> = checked
        .findings
        .iter()
        .map(|f| (f.id.as_str(), f.path.as_deref(), f.line))
        .collect();
    assert_eq!(
        found,
        [(
            "HF-SECRET-AWS-ACCESS-KEY-ID",
            Some("/opt/bundle.tar.gz!/lib/app.jar!/conf/app.properties"),
            Some(2)
        )]
    );
    assert!(checked.findings[0].layer.is_some());
    // An ordinary archive gives no warning.
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
}

#[test]
fn archive_members_follow_the_per_file_rules() {
    let a = SecretAnalyzer::new(SecretConfig {
        max_file_size: 1000,
        ..SecretConfig::default()
    });
    let ghp = format!("ghp_{}", tok(&alnum(), 36, 72));
    let mut bin = b"\x7fELF\0\0\0".to_vec();
    bin.extend_from_slice(ghp.as_bytes());
    let mut big = "x = 1\n".repeat(300);
    big.push_str(&ghp);
    let z = crate::test_support::zip_of(&[
        ("bin/tool", &bin),
        ("img/logo.png", ghp.as_bytes()),
        ("conf/big.conf", big.as_bytes()),
        ("conf/token", format!("token: {ghp}\n").as_bytes()),
    ]);
    let facts = analyze_bytes(&a, "/srv/app.zip", &z);
    let got: Vec<String> = facts
        .iter()
        .map(|f| match f {
            FileFact::Finding(f) => format!("{} {}", f.id, f.path.as_deref().unwrap_or("")),
            FileFact::Skipped { kind, message } => format!("{kind:?} {message}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        [
            "BoundReached /srv/app.zip!/conf/big.conf: member is 1840 bytes, over the secret scanner's 1000-byte bound (--secret-max-file-size); not scanned for secrets".to_string(),
            "HF-SECRET-GITHUB-TOKEN /srv/app.zip!/conf/token".to_string(),
        ]
    );
}

#[test]
fn a_zip_bomb_in_a_wheel_is_one_bound_warning_naming_the_wheel() {
    use crate::test_support::{check_walked, file_mode, zeros_zip};

    let start = std::time::Instant::now();
    let wheel = zeros_zip("bomb/data.txt", 300);
    let path = "/usr/lib/python3/dist-packages/bomb-1.0-py3-none-any.whl";
    let (checked, warnings) = check_walked(
        Box::new(SecretChecker::new(SecretConfig::default())),
        &[vec![file_mode(path, &wheel, 0o644)]],
    );
    assert!(checked.findings.is_empty(), "{:?}", checked.findings);
    let got: Vec<_> = warnings
        .iter()
        .map(|w| (w.kind, w.path.as_deref()))
        .collect();
    assert_eq!(
        got,
        [(WarningKind::BoundReached, Some(path))],
        "{warnings:?}"
    );
    assert!(
        warnings[0]
            .message
            .starts_with(&format!("secret: {path}!/bomb/data.txt: ")),
        "{warnings:?}"
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn an_archive_over_the_walkers_bound_is_a_warning_naming_it() {
    use holdfast_analyze::walker::walk_tar;
    use holdfast_analyze::WalkLimits;

    let filler: String = (0..4000).map(|i| format!("line {i}\n")).collect();
    let jar = crate::test_support::zip_of(&[("a.txt", filler.as_bytes())]);
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o644);
    h.set_size(jar.len() as u64);
    b.append_data(&mut h, "opt/app.jar", &jar[..]).unwrap();
    let layer = b.into_inner().unwrap();
    let secret = SecretAnalyzer::new(SecretConfig::default());
    let limits = WalkLimits {
        max_file_bytes: 1 << 10,
        ..WalkLimits::default()
    };
    assert!(jar.len() > 1 << 10);
    let out = walk_tar(&mut &layer[..], &[&secret as &dyn Analyzer], limits);
    let got: Vec<_> = out
        .warnings
        .iter()
        .map(|w| (w.kind, w.path.as_deref(), w.message.starts_with("secret: ")))
        .collect();
    assert_eq!(
        got,
        [(WarningKind::BoundReached, Some("/opt/app.jar"), true)],
        "{:?}",
        out.warnings
    );
}
