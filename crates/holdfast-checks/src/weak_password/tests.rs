//! The weak-password checker on real layer tars, with hashes made by `mkpasswd`.

use std::time::Duration;

use holdfast_model::{Finding, Severity};

use super::dictionary::user_dictionary;
use super::*;
use holdfast_analyze::analyzer::FileFact;

use crate::record;
use crate::test_support::{
    check, check_all, check_planted, file, file_mode, have_mkpasswd, mkpasswd, openssl_passwd,
    Entry, Planted,
};

const STRONG: &str = "vT7#qL2!mZ9@xR4p";

fn quick(dict: &str) -> Config {
    Config {
        dictionary: user_dictionary(dict, 1000),
        built_in: false,
        timeout: Duration::from_secs(60),
    }
}

fn run(config: Config, entries: Vec<Entry<'_>>) -> Vec<Finding> {
    check(Box::new(WeakPasswordChecker::new(config)), &[entries])
}

/// [`run`], with the warnings.
fn run_all(config: Config, entries: Vec<Entry<'_>>) -> Checked {
    check_all(Box::new(WeakPasswordChecker::new(config)), &[entries])
}

/// The warnings' paths and messages.
fn warnings(c: &Checked) -> Vec<(&str, &str)> {
    c.warnings
        .iter()
        .map(|w| (w.path.as_deref().unwrap_or(""), w.message.as_str()))
        .collect()
}

fn ids(f: &[Finding]) -> Vec<(&str, Option<u32>)> {
    f.iter().map(|f| (f.id.as_str(), f.line)).collect()
}

fn ids_titles(f: &[Finding]) -> Vec<(&str, &str)> {
    f.iter()
        .map(|f| (f.id.as_str(), f.title.as_str()))
        .collect()
}

fn no_clear_text(findings: &[Finding], passwords: &[&str]) {
    let json = serde_json::to_string(findings).expect("json");
    for p in passwords {
        assert!(!json.contains(p), "password {p:?} leaked into {json}");
    }
}

fn passwd_for(users: &[&str]) -> String {
    let mut s = String::from("root:x:0:0:root:/root:/bin/bash\n");
    for (i, u) in users.iter().enumerate() {
        s.push_str(&format!(
            "{u}:x:{}:{}::/home/{u}:/bin/bash\n",
            1000 + i,
            1000 + i
        ));
    }
    s
}

#[test]
fn every_scheme_is_verified_through_libxcrypt() {
    if !have_mkpasswd() {
        return;
    }
    for method in [
        "yescrypt",
        "sha512crypt",
        "sha256crypt",
        "md5crypt",
        "bcrypt",
        "bcrypt-a",
        "descrypt",
    ] {
        // DES keeps only 8 characters; "alice12" fits and is a derived guess.
        let weak = mkpasswd(method, "alice123");
        let strong = mkpasswd(method, STRONG);
        let shadow = format!("root:*:19000:0:99999:7:::\nalice:{weak}:19000:0:99999:7:::\nbob:{strong}:19000:0:99999:7:::\n");
        let f = run(
            quick(""),
            vec![
                file("/etc/passwd", &passwd_for(&["alice", "bob"])),
                file("/etc/shadow", &shadow),
            ],
        );
        assert_eq!(
            ids(&f),
            vec![("HF-WEAKPW-SHADOW", Some(2))],
            "{method}: {f:?}"
        );
        assert_eq!(f[0].path.as_deref(), Some("/etc/shadow"));
        assert!(f[0].title.contains("alice"));
        assert!(
            f[0].evidence.as_deref().unwrap_or("").contains("derived"),
            "{method}: {:?}",
            f[0].evidence
        );
        no_clear_text(&f, &["alice123", STRONG]);
    }
}

#[test]
fn hashes_made_by_openssl_passwd() {
    for flag in ["6", "5", "1"] {
        let (Some(weak), Some(strong)) = (
            openssl_passwd(flag, "carol2025"),
            openssl_passwd(flag, STRONG),
        ) else {
            return;
        };
        let shadow = format!("carol:{weak}:19000::::::\ndave:{strong}:19000::::::\n");
        let f = run(
            quick(""),
            vec![
                file("/etc/passwd", &passwd_for(&["carol", "dave"])),
                file("/etc/shadow", &shadow),
            ],
        );
        assert_eq!(ids(&f), vec![("HF-WEAKPW-SHADOW", Some(1))], "-{flag}");
    }
}

#[test]
fn built_in_and_user_dictionaries_and_hostname() {
    if !have_mkpasswd() {
        return;
    }
    let shadow = format!(
        "root:{}:19000:0:99999:7:::\nweb:{}:19000::::::\nops:{}:19000::::::\nsvc:{}:19000::::::\n",
        mkpasswd("md5crypt", "password1"),
        mkpasswd("md5crypt", "corp-Zebra-77"),
        mkpasswd("md5crypt", "build-box-7!"),
        mkpasswd("md5crypt", STRONG),
    );
    let mut config = quick("corp-Zebra-77\n");
    config.built_in = true;
    let f = run(
        config,
        vec![
            file("/etc/passwd", &passwd_for(&["web", "ops", "svc"])),
            file("/etc/shadow", &shadow),
            file("/etc/hostname", "build-box-7!\n"),
        ],
    );
    assert_eq!(
        ids(&f),
        vec![
            ("HF-WEAKPW-SHADOW", Some(1)),
            ("HF-WEAKPW-SHADOW", Some(2)),
            ("HF-WEAKPW-SHADOW", Some(3)),
        ]
    );
    assert_eq!(f[0].severity, Severity::Critical, "root");
    assert!(f[0].evidence.as_deref().unwrap_or("").contains("built-in"));
    assert!(f[1].evidence.as_deref().unwrap_or("").contains("--dict"));
    assert!(f[2].evidence.as_deref().unwrap_or("").contains("host name"));
    no_clear_text(&f, &["password1", "corp-Zebra-77", "build-box-7!"]);
}

#[test]
fn locked_and_placeholder_fields_are_not_guessed() {
    if !have_mkpasswd() {
        return;
    }
    let locked = format!("!{}", mkpasswd("md5crypt", "alice"));
    let shadow = format!(
        "root:*:19000::::::\nalice:{locked}:19000::::::\nbob:!:19000::::::\nc:!*:1::::::\n"
    );
    let f = run(
        quick(""),
        vec![
            file("/etc/passwd", &passwd_for(&["alice", "bob", "c"])),
            file("/etc/shadow", &shadow),
        ],
    );
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn empty_passwords_uid0_and_hashes_in_passwd() {
    if !have_mkpasswd() {
        return;
    }
    let passwd = format!(
        "root:x:0:0:root:/root:/bin/bash\n\
         toor:x:0:0::/root:/bin/sh\n\
         guest::1001:1001::/home/guest:/bin/sh\n\
         old:{}:1002:1002::/home/old:/bin/sh\n\
         nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
         carl::1003:1003::/home/carl:/bin/sh\n",
        mkpasswd("descrypt", "old")
    );
    // carl's shadow hash is never consulted: his passwd field is empty, not `x`.
    let shadow = format!(
        "root:*:19000::::::\ntoor::19000::::::\nnobody:*:19000::::::\ncarl:{}:19000::::::\n",
        mkpasswd("md5crypt", STRONG)
    );
    let f = run(
        quick(""),
        vec![file("/etc/passwd", &passwd), file("/etc/shadow", &shadow)],
    );
    let mut got = ids(&f);
    got.sort();
    assert_eq!(
        got,
        vec![
            ("HF-WEAKPW-EMPTY", Some(2)),
            ("HF-WEAKPW-EMPTY", Some(3)),
            ("HF-WEAKPW-EMPTY", Some(6)),
            ("HF-WEAKPW-PASSWD-HASH", Some(4)),
            ("HF-WEAKPW-SHADOW", Some(4)),
            ("HF-WEAKPW-UID0", Some(2)),
        ]
    );
    let empty_in_shadow = f
        .iter()
        .find(|f| f.id == "HF-WEAKPW-EMPTY" && f.line == Some(2))
        .and_then(|f| f.path.as_deref());
    assert_eq!(empty_in_shadow, Some("/etc/shadow"));
}

#[test]
fn the_time_bound_reports_what_was_not_checked() {
    if !have_mkpasswd() {
        return;
    }
    let shadow = format!("root:{}:19000::::::\n", mkpasswd("yescrypt", STRONG));
    let mut config = quick("a\nb\nc\n");
    config.timeout = Duration::ZERO;
    let c = run_all(
        config,
        vec![
            file("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"),
            file("/etc/shadow", &shadow),
        ],
    );
    // Not a finding (it must not fail --exit-code), but a warning naming the account.
    assert!(c.findings.is_empty(), "{:?}", c.findings);
    let w = warnings(&c);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].0, "/etc/shadow");
    assert!(
        w[0].1
            .contains("password of root (yescrypt hash) was not fully checked"),
        "{}",
        w[0].1
    );
}

#[test]
fn likely_guesses_for_every_account_come_before_the_long_list() {
    if !have_mkpasswd() {
        return;
    }
    // root sorts first and resists everything; alice's derived guess must still be tried
    // before root's turn at the built-in list uses up the budget. Both are yescrypt, so the
    // built-in list against root (thousands of ~60 ms hashes) cannot finish in the budget
    // even on an idle machine.
    let shadow = format!(
        "root:{}:19000::::::\nalice:{}:19000::::::\n",
        mkpasswd("yescrypt", STRONG),
        mkpasswd("yescrypt", "alice1")
    );
    let mut config = quick("");
    config.built_in = true;
    config.timeout = Duration::from_secs(8);
    let c = run_all(
        config,
        vec![
            file("/etc/passwd", &passwd_for(&["alice"])),
            file("/etc/shadow", &shadow),
        ],
    );
    assert_eq!(ids(&c.findings), vec![("HF-WEAKPW-SHADOW", Some(2))]);
    let w = warnings(&c);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].1.contains("password of root"), "{}", w[0].1);
}

#[test]
fn millions_of_hashes_are_capped_into_one_finding() {
    if !have_mkpasswd() {
        return;
    }
    // One DES hash, repeated: cheap to verify, so the cap, not the clock, is exercised.
    let hash = mkpasswd("descrypt", "secret");
    let mut shadow = String::new();
    let mut passwd = String::new();
    for i in 0..1500 {
        shadow.push_str(&format!("u{i}:{hash}:19000::::::\n"));
        passwd.push_str(&format!("u{i}:x:{}:100::/home/u{i}:/bin/sh\n", 2000 + i));
    }
    let mut config = quick("secret\n");
    config.timeout = Duration::from_secs(120);
    let c = run_all(
        config,
        vec![file("/etc/passwd", &passwd), file("/etc/shadow", &shadow)],
    );
    let weak = c
        .findings
        .iter()
        .filter(|f| f.id == "HF-WEAKPW-SHADOW")
        .count();
    assert_eq!(weak, 1000);
    assert_eq!(c.findings.len(), 1000);
    let w = warnings(&c);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].1.contains("500 more password hashes not guessed"),
        "{}",
        w[0].1
    );
}

#[test]
fn redis_requirepass_missing_weak_and_strong() {
    let f = run(
        quick(""),
        vec![
            file(
                "/etc/redis/redis.conf",
                "bind 127.0.0.1 -::1\nprotected-mode yes\n# requirepass foobared\n",
            ),
            file("/srv/a/redis.conf", "bind 0.0.0.0\nprotected-mode no\n"),
            file("/srv/b/redis.conf", "requirepass redis\n"),
            file(
                "/srv/c/redis.conf",
                "requirepass \"Tr0ub4dor&3-xyzzy-plugh\"\n",
            ),
            file("/srv/d/redis.conf", "requirepass abc12\n"),
            file(
                "/srv/e/redis.conf",
                "user default on >Tr0ub4dor&3-xyzzy ~* +@all\n",
            ),
        ],
    );
    let got: Vec<(&str, Option<&str>, Severity)> = f
        .iter()
        .map(|f| (f.id.as_str(), f.path.as_deref(), f.severity))
        .collect();
    assert_eq!(
        got,
        vec![
            ("HF-WEAKPW-REDIS", Some("/srv/b/redis.conf"), Severity::High),
            ("HF-WEAKPW-REDIS", Some("/srv/d/redis.conf"), Severity::High),
            (
                "HF-WEAKPW-REDIS-NOAUTH",
                Some("/srv/a/redis.conf"),
                Severity::High
            ),
            (
                "HF-WEAKPW-REDIS-NOAUTH",
                Some("/etc/redis/redis.conf"),
                Severity::Low
            ),
        ]
    );
    assert!(f[0].evidence.as_deref().unwrap_or("").contains("derived"));
    assert!(f[1]
        .evidence
        .as_deref()
        .unwrap_or("")
        .contains("5 characters"));
    no_clear_text(&f, &["abc12", "Tr0ub4dor"]);
}

#[test]
fn tomcat_users() {
    let xml = "<?xml version='1.0' encoding='utf-8'?>\n<tomcat-users xmlns=\"http://tomcat.apache.org/xml\" version=\"1.0\">\n<!--\n  <user username=\"admin\" password=\"&lt;must-be-changed&gt;\" roles=\"manager-gui\"/>\n-->\n  <user username=\"tomcat\" password=\"s3cret\" roles=\"manager-gui\"/>\n  <user username=\"deploy\" password=\"Zq8!rP2#wT6$kL9m\" roles=\"manager-script\"/>\n</tomcat-users>\n";
    let f = run(quick(""), vec![file("/etc/tomcat10/tomcat-users.xml", xml)]);
    let mut got = ids(&f);
    got.sort();
    assert_eq!(
        got,
        vec![
            ("HF-WEAKPW-TOMCAT", Some(6)),
            ("HF-WEAKPW-TOMCAT-PLAIN", Some(6)),
            ("HF-WEAKPW-TOMCAT-PLAIN", Some(7)),
        ]
    );
    no_clear_text(&f, &["s3cret", "Zq8!rP2"]);
    // Debian's shipped file: every user commented out.
    let stock = "<tomcat-users>\n<!--\n  <user username=\"robot\" password=\"<must-be-changed>\" roles=\"manager-script\"/>\n-->\n</tomcat-users>\n";
    assert!(run(
        quick(""),
        vec![file("/etc/tomcat10/tomcat-users.xml", stock)]
    )
    .is_empty());
}

#[test]
fn mysql_native_password_rows() {
    let mut data = b"\xfe\x00localhost                                                   root                            ".to_vec();
    data.extend(mysql::native_hash("root").as_bytes());
    data.extend(b"YYYYN\x00\x00\xfe\x00%                                                           app                             ");
    data.extend(mysql::native_hash(STRONG).as_bytes());
    let f = run(
        quick(""),
        vec![file_mode("/var/lib/mysql/mysql/user.MYD", &data, 0o660)],
    );
    assert_eq!(ids(&f), vec![("HF-WEAKPW-MYSQL", None)]);
    assert!(f[0].title.contains("root"));

    // MariaDB 10.4+: global_priv rows in Aria, JSON as CREATE USER writes it.
    use super::mysql::tests::aria_row;
    let json = |auth: &str, extra: &str| {
        format!("{{\"access\": 0, \"plugin\": \"mysql_native_password\", \"authentication_string\": \"{auth}\"{extra}}}")
    };
    let mut aria = vec![0u8; 24];
    aria.extend(aria_row(
        "%",
        "app",
        &json(&mysql::native_hash("app2024"), ""),
    ));
    aria.extend(aria_row(
        "localhost",
        "report",
        &json(&mysql::native_hash(STRONG), ""),
    ));
    aria.extend(aria_row("%", "anon", &json("", "")));
    aria.extend(aria_row(
        "localhost",
        "mariadb.sys",
        &json("", ", \"account_locked\": true"),
    ));
    let f = run(
        quick(""),
        vec![file_mode(
            "/var/lib/mysql/mysql/global_priv.MAD",
            &aria,
            0o660,
        )],
    );
    assert_eq!(
        ids_titles(&f),
        vec![
            (
                "HF-WEAKPW-MYSQL-EMPTY",
                "MySQL/MariaDB account 'anon'@'%' has an empty password"
            ),
            (
                "HF-WEAKPW-MYSQL",
                "MySQL/MariaDB account 'app'@'%' has a guessable password"
            ),
        ]
    );
}

#[test]
fn pg_hba_trust_and_ftp_anonymous() {
    let f = run(
        quick(""),
        vec![
            file(
                "/etc/postgresql/15/main/pg_hba.conf",
                "# \"trust\" means no password\nlocal   all   postgres   peer\nlocal   all   all   trust\nhost    all   all   0.0.0.0/0   trust\nhost    all   all   ::1/128   scram-sha-256\n",
            ),
            file("/etc/vsftpd.conf", "listen=NO\nanonymous_enable=YES\n"),
            file("/etc/proftpd/proftpd.conf", "# <Anonymous ~ftp>\n#   User ftp\n# </Anonymous>\n"),
        ],
    );
    let got: Vec<(&str, Option<u32>, Severity)> = f
        .iter()
        .map(|f| (f.id.as_str(), f.line, f.severity))
        .collect();
    assert_eq!(
        got,
        vec![
            ("HF-WEAKPW-PG-TRUST", Some(4), Severity::High),
            ("HF-WEAKPW-FTP-ANONYMOUS", Some(2), Severity::Medium),
            ("HF-WEAKPW-PG-TRUST", Some(3), Severity::Medium),
        ]
    );
}

#[test]
fn postgres_role_verifiers() {
    use super::pg_authid::tests::{row, scram_verifier};
    use md5::{Digest, Md5};
    let mut data = vec![0u8; 64];
    let md5_field = format!("md5{}", hex::encode(Md5::digest(b"app123app")));
    data.extend(row("app", &md5_field));
    data.extend(row(
        "ops",
        &scram_verifier("postgres", b"salt-of-16-bytes", 4096),
    ));
    data.extend(row(
        "report",
        &scram_verifier(STRONG, b"another-16-bytes", 4096),
    ));
    let f = run(
        quick(""),
        vec![file_mode(
            "/var/lib/postgresql/15/main/global/1260",
            &data,
            0o600,
        )],
    );
    assert_eq!(
        ids_titles(&f),
        vec![
            (
                "HF-WEAKPW-PG",
                "PostgreSQL role app has a guessable password"
            ),
            (
                "HF-WEAKPW-PG",
                "PostgreSQL role ops has a guessable password"
            ),
        ]
    );
    assert!(f[1]
        .evidence
        .as_deref()
        .unwrap_or("")
        .contains("SCRAM-SHA-256"));
    no_clear_text(&f, &["app123", STRONG]);
}

/// The settings of Debian 12's stock sshd_config that matter here (written for this
/// test, in the same shape).
const SSHD_STOCK_LIKE: &str = "Include /etc/ssh/sshd_config.d/*.conf\n\
#PermitRootLogin prohibit-password\n\
#PasswordAuthentication yes\n\
#PermitEmptyPasswords no\n\
KbdInteractiveAuthentication no\n\
UsePAM yes\n\
X11Forwarding yes\n\
PrintMotd no\n\
AcceptEnv LANG LC_*\n\
Subsystem\tsftp\t/usr/lib/openssh/sftp-server\n";

#[test]
fn sshd_root_password_login_and_empty_passwords() {
    let stock = run(
        quick(""),
        vec![file("/etc/ssh/sshd_config", SSHD_STOCK_LIKE)],
    );
    assert!(stock.is_empty(), "{stock:?}");

    let f = run(
        quick(""),
        vec![
            file("/etc/ssh/sshd_config", SSHD_STOCK_LIKE),
            file(
                "/etc/ssh/sshd_config.d/10-root.conf",
                "PermitRootLogin yes\nPermitEmptyPasswords yes\n",
            ),
        ],
    );
    assert_eq!(
        ids(&f),
        vec![
            ("HF-WEAKPW-SSH-EMPTY-PASSWORDS", Some(2)),
            ("HF-WEAKPW-SSH-ROOT-PASSWORD", Some(1)),
        ]
    );
    assert_eq!(
        f[0].path.as_deref(),
        Some("/etc/ssh/sshd_config.d/10-root.conf")
    );

    // Password authentication turned off earlier in an include: root cannot log in by password.
    let off = run(
        quick(""),
        vec![
            file("/etc/ssh/sshd_config", SSHD_STOCK_LIKE),
            file(
                "/etc/ssh/sshd_config.d/00-keys.conf",
                "PasswordAuthentication no\n",
            ),
            file(
                "/etc/ssh/sshd_config.d/10-root.conf",
                "PermitRootLogin yes\n",
            ),
        ],
    );
    assert!(off.is_empty(), "{off:?}");
}

#[test]
fn every_finding_id_has_text() {
    for id in texts().ids() {
        let f = texts().finding(id, "x");
        assert!(f.id.starts_with("HF-WEAKPW-"));
        assert!(!f.description.is_empty() && f.remediation.is_some());
    }
}

#[test]
fn records_keep_the_kinds_the_layer_cache_holds() {
    // The kinds version 1 of the analyzer wrote, each with its payload as the data; a
    // change here needs a new `WeakPasswordFiles::version`.
    let passwd = accounts::parse_passwd("root:x:0:0:root:/root:/bin/bash\n");
    let shadow = accounts::parse_shadow("root:*:19000:0:99999:7:::\n");
    let redis = redis::parse("requirepass foobared\n");
    let sshd = sshd::parse("PermitRootLogin yes\n");
    let tomcat = tomcat::parse(
        "<tomcat-users><user username=\"a\" password=\"b\" roles=\"x\"/></tomcat-users>",
    );
    fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
        serde_json::to_value(v).unwrap()
    }
    let cases: Vec<(WeakPasswordRecord, &str, serde_json::Value)> = vec![
        (
            WeakPasswordRecord::Passwd(passwd.clone()),
            "passwd",
            json(&passwd),
        ),
        (
            WeakPasswordRecord::Shadow(shadow.clone()),
            "shadow",
            json(&shadow),
        ),
        (
            WeakPasswordRecord::Hostname("db1".into()),
            "hostname",
            serde_json::json!("db1"),
        ),
        (
            WeakPasswordRecord::Redis(redis.clone()),
            "redis",
            json(&redis),
        ),
        (WeakPasswordRecord::Sshd(sshd.clone()), "sshd", json(&sshd)),
        (
            WeakPasswordRecord::Tomcat(tomcat.clone()),
            "tomcat",
            json(&tomcat),
        ),
        (
            WeakPasswordRecord::Mysql(Vec::new()),
            "mysql",
            serde_json::json!([]),
        ),
        (
            WeakPasswordRecord::PgRoles(Vec::new()),
            "pg-roles",
            serde_json::json!([]),
        ),
    ];
    for (r, kind, data) in cases {
        let FileFact::Record { kind: k, data: d } = record(&r).unwrap() else {
            panic!("not a record");
        };
        assert_eq!((k.as_str(), &d), (kind, &data));
        assert_eq!(crate::decode::<WeakPasswordRecord>(kind, &data).unwrap(), r);
    }
}

#[test]
fn a_record_that_does_not_decode_is_a_warning_and_the_rest_is_checked() {
    let passwd = "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\n";
    let planted = Planted {
        name: ANALYZER,
        facts: vec![
            (
                "/etc/passwd",
                vec![record(&WeakPasswordRecord::Passwd(accounts::parse_passwd(passwd))).unwrap()],
            ),
            // The right kind, a payload of another shape.
            (
                "/etc/shadow",
                vec![FileFact::Record {
                    kind: "shadow".into(),
                    data: serde_json::json!("root::19000:0:99999:7:::"),
                }],
            ),
        ],
    };
    let checked = check_planted(Box::new(WeakPasswordChecker::new(quick(""))), planted);
    assert_eq!(ids(&checked.findings), vec![("HF-WEAKPW-UID0", Some(2))]);
    assert_eq!(checked.warnings.len(), 1, "{:?}", checked.warnings);
    let w = &checked.warnings[0];
    assert_eq!(w.kind, holdfast_model::WarningKind::CheckerRecord);
    assert_eq!(w.path.as_deref(), Some("/etc/shadow"));
    assert!(
        w.message.starts_with("weak-password checker: ") && w.message.contains("`shadow`"),
        "{}",
        w.message
    );
}
