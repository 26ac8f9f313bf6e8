//! The image-wide checks of services: Redis, Tomcat and MySQL passwords against the
//! dictionaries, sshd's effective settings.

use std::cell::OnceCell;

use holdfast_model::{Finding, Severity};

use super::{dictionary, mysql, sshd, texts};
use super::{Recorded, SecretDigest, WeakPasswordChecker};
use crate::ImageContext;

impl WeakPasswordChecker {
    /// Findings about service passwords (Redis, Tomcat, MySQL) and sshd's settings.
    pub(super) fn services(
        &self,
        ctx: &ImageContext<'_>,
        recorded: &Recorded<'_>,
        out: &mut Vec<Finding>,
    ) {
        let t = texts();
        let host = recorded.hostname.as_deref();
        let sha256_index = OnceCell::new();
        let sha256_known =
            || sha256_index.get_or_init(|| self.index(|p| SecretDigest::of(p).sha256));
        let mysql_index = OnceCell::new();
        let mysql_known = || mysql_index.get_or_init(|| self.index(mysql::native_hash));
        let with_host = |name: &'static str| {
            let mut n = vec![name];
            n.extend(host);
            n
        };
        for (placed, c) in &recorded.redis {
            if let Some((digest, line)) = &c.requirepass {
                if let Some(why) = digest.weakness(
                    &dictionary::derived_from(&with_host("redis")),
                    sha256_known(),
                ) {
                    let mut f = t.finding("HF-WEAKPW-REDIS", "");
                    f.evidence = Some(format!("requirepass: {why}"));
                    out.push(ctx.at(f, placed, Some(*line)));
                }
            } else if !c.acl_auth {
                let mut f = t.finding("HF-WEAKPW-REDIS-NOAUTH", "");
                f.severity = match (c.listens_beyond_loopback, c.protected_mode_off) {
                    (true, true) => Severity::High,
                    (false, false) => Severity::Low,
                    _ => Severity::Medium,
                };
                f.evidence = Some(format!(
                    "no requirepass; {}; protected-mode {}",
                    if c.listens_beyond_loopback {
                        "listens beyond loopback"
                    } else {
                        "bound to loopback"
                    },
                    if c.protected_mode_off { "no" } else { "yes" }
                ));
                out.push(ctx.at(f, placed, None));
            }
        }
        for (placed, users) in &recorded.tomcat {
            for u in users {
                let Some(digest) = u.password.as_ref().filter(|_| !u.looks_digested) else {
                    continue;
                };
                let mut names = vec![u.name.as_str(), "tomcat"];
                names.extend(host);
                if let Some(why) =
                    digest.weakness(&dictionary::derived_from(&names), sha256_known())
                {
                    let mut f = t.finding("HF-WEAKPW-TOMCAT", &u.name);
                    f.evidence = Some(format!("user {} (roles: {}): {why}", u.name, u.roles));
                    out.push(ctx.at(f, placed, Some(u.line)));
                }
            }
        }
        for (placed, accounts) in &recorded.mysql {
            for a in accounts {
                let user = a.user.clone().unwrap_or_default();
                let subject = match (&a.user, &a.host) {
                    (Some(u), Some(h)) => format!("'{u}'@'{h}'"),
                    (Some(u), None) => u.clone(),
                    _ => "(unknown)".into(),
                };
                if a.hash.is_empty() {
                    let mut f = t.finding("HF-WEAKPW-MYSQL-EMPTY", &subject);
                    f.evidence = Some(format!("{subject}: mysql_native_password, empty"));
                    out.push(ctx.at(f, placed, None));
                    continue;
                }
                let mut names = vec![user.as_str(), "mysql", "mariadb"];
                names.extend(host);
                let hit = dictionary::derived_from(&names)
                    .iter()
                    .find(|(p, _)| mysql::native_hash(p) == a.hash)
                    .map(|(_, s)| s)
                    .or_else(|| mysql_known().get(&a.hash).copied());
                if let Some(source) = hit {
                    let mut f = t.finding("HF-WEAKPW-MYSQL", &subject);
                    f.evidence = Some(format!(
                        "{subject}: mysql_native_password hash matches {}",
                        source.describe()
                    ));
                    out.push(ctx.at(f, placed, None));
                }
            }
        }
        self.sshd(ctx, recorded, out);
    }

    /// PermitEmptyPasswords and root password logins, from the effective sshd settings.
    fn sshd(&self, ctx: &ImageContext<'_>, recorded: &Recorded<'_>, out: &mut Vec<Finding>) {
        let files = &recorded.sshd;
        let Some((main, _)) = files
            .iter()
            .find(|(p, _)| p.result.path == "/etc/ssh/sshd_config")
        else {
            return;
        };
        let paths: Vec<String> = files.iter().map(|(p, _)| p.result.path.clone()).collect();
        let get = |path: &str| {
            files
                .iter()
                .find(|(p, _)| p.result.path == path)
                .map(|(_, f)| f.clone())
        };
        let eff = sshd::effective("/etc/ssh/sshd_config", &get, &paths);
        let value = |k: &str| {
            eff.iter()
                .find(|(key, ..)| key == k)
                .map(|(_, v, path, line)| (v.to_ascii_lowercase(), path.clone(), *line))
        };
        let placed_of = |path: &str| {
            files
                .iter()
                .find(|(p, _)| p.result.path == path)
                .map_or(*main, |(p, _)| *p)
        };
        let t = texts();
        if let Some((v, path, line)) = value("permitemptypasswords") {
            if v == "yes" {
                let mut f = t.finding("HF-WEAKPW-SSH-EMPTY-PASSWORDS", "");
                f.evidence = Some("PermitEmptyPasswords yes".into());
                out.push(ctx.at(f, placed_of(&path), Some(line)));
            }
        }
        if let Some((v, path, line)) = value("permitrootlogin") {
            // OpenSSH's defaults: password and keyboard-interactive authentication on.
            let on = |k: &str| value(k).is_none_or(|(v, ..)| v == "yes");
            let by_password = on("passwordauthentication");
            let by_kbd = on("kbdinteractiveauthentication")
                && value("challengeresponseauthentication").is_none_or(|(v, ..)| v == "yes");
            if v == "yes" && (by_password || by_kbd) {
                let mut f = t.finding("HF-WEAKPW-SSH-ROOT-PASSWORD", "");
                f.evidence = Some(format!(
                    "PermitRootLogin yes; {} authentication on",
                    if by_password {
                        "password"
                    } else {
                        "keyboard-interactive"
                    }
                ));
                out.push(ctx.at(f, placed_of(&path), Some(line)));
            }
        }
    }
}
