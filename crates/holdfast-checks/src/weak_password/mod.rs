//! The weak-password checker: local accounts (`/etc/shadow`, hashes in `/etc/passwd`,
//! empty passwords, extra UID 0 accounts) and services (Redis, MySQL/MariaDB, PostgreSQL,
//! Tomcat, FTP, sshd).
//!
//! The walk only extracts: account entries, sshd settings, and passwords from service
//! configs as digests ([`secret::SecretDigest`]), all as records; rules that one file
//! proves on its own (a `trust` line, anonymous FTP, a clear-text Tomcat password) are
//! file findings. Guessing runs once per image in [`Checker::check`], because it depends on
//! `--dict` (not part of the layer-cache key) and is slow by design.
//!
//! Findings name the account, the hash scheme and which list the password was in, never
//! the password.

pub mod accounts;
pub mod crack;
pub mod crypt;
pub mod dictionary;
pub mod files;
pub mod ftp;
pub mod mysql;
pub mod pg_authid;
pub mod pg_hba;
pub mod redis;
pub mod secret;
mod services;
pub mod sshd;
pub mod tomcat;

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use holdfast_analyze::merge::Placed;
use holdfast_analyze::Analyzer;
use holdfast_model::{Finding, FindingKind, Severity, Warning};
use serde::{Deserialize, Serialize};

use crate::finding_text::FindingTexts;
use crate::{CheckContext, Checked, Checker, CheckerRecord, ImageContext};
use accounts::{PasswdEntry, ShadowEntry};
use crack::Outcome;
use crypt::Scheme;
use dictionary::{Candidates, Source};
use secret::SecretDigest;

const ANALYZER: &str = "weak-password";

/// Most hashes guessed per image; the rest are reported as not checked.
const MAX_GUESS_TARGETS: usize = 1000;
/// Most service accounts (Tomcat users, database rows) recorded per file.
const MAX_SERVICE_ACCOUNTS: usize = 10_000;

/// What [`files::WeakPasswordFiles`] records about a file for the image-wide step. The
/// JSON of each variant (`kind` = the variant's kebab-case name, `data` = its payload) is
/// stored in the layer cache: changing it means bumping the analyzer's version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "kebab-case")]
enum WeakPasswordRecord {
    /// `/etc/passwd`'s entries.
    Passwd(Vec<PasswdEntry>),
    /// `/etc/shadow`'s entries.
    Shadow(Vec<ShadowEntry>),
    /// The first line of `/etc/hostname`, trimmed.
    Hostname(String),
    /// A Redis config's authentication settings.
    Redis(redis::RedisConfig),
    /// An sshd config file's settings.
    Sshd(sshd::SshdFile),
    /// The users of a `tomcat-users.xml`.
    Tomcat(Vec<tomcat::TomcatUser>),
    /// The accounts of a MySQL/MariaDB user table.
    Mysql(Vec<mysql::MysqlAccount>),
    /// The roles of PostgreSQL's `pg_authid` that have a password.
    PgRoles(Vec<pg_authid::PgRole>),
}

impl CheckerRecord for WeakPasswordRecord {
    const CHECKER: &'static str = "weak-password";
    const ANALYZER: &'static str = ANALYZER;
}

/// The weak-password records of the image's visible files, sorted by kind, in path order.
#[derive(Default)]
struct Recorded<'a> {
    /// The first non-empty host name.
    hostname: Option<String>,
    /// The first passwd file's entries.
    passwd: Option<(&'a Placed, Vec<PasswdEntry>)>,
    /// The first shadow file's entries.
    shadow: Option<(&'a Placed, Vec<ShadowEntry>)>,
    /// Redis configs.
    redis: Vec<(&'a Placed, redis::RedisConfig)>,
    /// sshd config files.
    sshd: Vec<(&'a Placed, sshd::SshdFile)>,
    /// Tomcat user files.
    tomcat: Vec<(&'a Placed, Vec<tomcat::TomcatUser>)>,
    /// MySQL/MariaDB user tables.
    mysql: Vec<(&'a Placed, Vec<mysql::MysqlAccount>)>,
    /// PostgreSQL role catalogs.
    pg_roles: Vec<(&'a Placed, Vec<pg_authid::PgRole>)>,
}

impl<'a> Recorded<'a> {
    /// Reads every weak-password record once.
    fn read(ctx: &CheckContext<'a>) -> Self {
        let mut r = Recorded::default();
        for (placed, record) in ctx.records::<WeakPasswordRecord>() {
            match record {
                WeakPasswordRecord::Passwd(entries) => {
                    if r.passwd.is_none() {
                        r.passwd = Some((placed, entries));
                    }
                }
                WeakPasswordRecord::Shadow(entries) => {
                    if r.shadow.is_none() {
                        r.shadow = Some((placed, entries));
                    }
                }
                WeakPasswordRecord::Hostname(name) => {
                    if r.hostname.is_none() && !name.is_empty() {
                        r.hostname = Some(name);
                    }
                }
                WeakPasswordRecord::Redis(c) => r.redis.push((placed, c)),
                WeakPasswordRecord::Sshd(f) => r.sshd.push((placed, f)),
                WeakPasswordRecord::Tomcat(users) => r.tomcat.push((placed, users)),
                WeakPasswordRecord::Mysql(accounts) => r.mysql.push((placed, accounts)),
                WeakPasswordRecord::PgRoles(roles) => r.pg_roles.push((placed, roles)),
            }
        }
        r
    }
}

/// Options from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// Extra candidates (`--dict FILE`), tried after the derived guesses.
    pub dictionary: Candidates,
    /// Whether to try the built-in dictionary (tests turn it off to stay fast).
    pub built_in: bool,
    /// Time budget for guessing crypt(3) hashes in one image.
    pub timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            dictionary: Candidates::default(),
            built_in: true,
            timeout: Duration::from_secs(60),
        }
    }
}

/// The finding texts, from `data/weak-password-findings.toml`.
pub fn texts() -> &'static FindingTexts {
    static T: OnceLock<FindingTexts> = OnceLock::new();
    T.get_or_init(|| {
        FindingTexts::parse(
            FindingKind::WeakPassword,
            "weak-password-findings.toml",
            include_str!("../../data/weak-password-findings.toml"),
        )
    })
}

/// The weak-password checker.
pub struct WeakPasswordChecker {
    config: Config,
}

impl WeakPasswordChecker {
    /// A checker with the given options.
    pub fn new(config: Config) -> Self {
        WeakPasswordChecker { config }
    }
}

/// A stored password verifier.
enum Stored {
    /// A crypt(3) hash from shadow or passwd.
    Crypt(String),
    /// A PostgreSQL role verifier.
    Postgres(pg_authid::PgSecret),
}

/// One verifier to guess and where to report it.
struct GuessTarget<'a> {
    /// The account or role.
    subject: String,
    /// Names the derived guesses come from.
    names: Vec<String>,
    verifier: Stored,
    scheme: &'static str,
    /// Rough cost of one verification, 0 (fast) to 3 (memory-hard or iterated).
    cost: u8,
    id: &'static str,
    placed: &'a Placed,
    line: Option<u32>,
}

impl GuessTarget<'_> {
    fn run(&self, candidates: &Candidates, deadline: Instant) -> Outcome {
        match &self.verifier {
            Stored::Crypt(hash) => crack::crack(hash, candidates, deadline),
            Stored::Postgres(secret) => {
                crack::search(candidates, deadline, |p| secret.verify(&self.subject, p))
            }
        }
    }
}

impl WeakPasswordChecker {
    /// The dictionaries (`--dict`, then the built-in list) indexed by `digest` of each
    /// candidate, so a service password is looked up rather than compared with every
    /// candidate. Built on first use: most images have no service passwords.
    fn index(&self, digest: fn(&str) -> String) -> HashMap<String, Source> {
        let built_in = self.config.built_in.then(dictionary::built_in);
        let all = self
            .config
            .dictionary
            .iter()
            .chain(built_in.into_iter().flat_map(Candidates::iter));
        // The first source of a password wins, as in a merged candidate list.
        let mut index = HashMap::new();
        for (p, source) in all {
            index.entry(digest(p)).or_insert(source);
        }
        index
    }

    /// Empty, UID 0 and passwd-stored findings; returns the hashes worth guessing.
    fn accounts<'a>(
        &self,
        ctx: &ImageContext<'_>,
        recorded: &Recorded<'a>,
        out: &mut Vec<Finding>,
    ) -> Vec<GuessTarget<'a>> {
        let t = texts();
        let host = recorded.hostname.as_deref();
        let (passwd, shadow) = (&recorded.passwd, &recorded.shadow);
        let target = |name: &str, hash: &str, placed: &'a Placed, line: u32| {
            let scheme = Scheme::of(hash);
            let mut names = vec![name.to_string()];
            names.extend(host.map(str::to_string));
            GuessTarget {
                subject: name.to_string(),
                names,
                verifier: Stored::Crypt(hash.to_string()),
                scheme: scheme.map_or("unknown", Scheme::name),
                cost: match scheme {
                    Some(Scheme::Des | Scheme::Md5) => 0,
                    Some(Scheme::Sha256 | Scheme::Sha512) => 1,
                    Some(Scheme::Bcrypt) => 2,
                    _ => 3,
                },
                id: "HF-WEAKPW-SHADOW",
                placed,
                line: Some(line),
            }
        };

        let mut targets = Vec::new();
        if let Some((placed, entries)) = passwd {
            for e in entries {
                if e.uid == 0 && e.name != "root" {
                    let mut f = t.finding("HF-WEAKPW-UID0", &e.name);
                    f.evidence = Some(format!("{}: uid 0, shell {}", e.name, e.shell));
                    out.push(ctx.at(f, placed, Some(e.line)));
                }
                // pam_unix reads shadow only when the passwd field says so (`x`); an empty
                // field is an empty password whatever shadow holds.
                if e.password.is_empty() {
                    let mut f = t.finding("HF-WEAKPW-EMPTY", &e.name);
                    f.evidence = Some(format!("{}: empty password field in /etc/passwd", e.name));
                    out.push(ctx.at(f, placed, Some(e.line)));
                } else if let Some(scheme) = Scheme::of(&e.password) {
                    let mut f = t.finding("HF-WEAKPW-PASSWD-HASH", &e.name);
                    f.evidence = Some(format!("{}: {} hash in /etc/passwd", e.name, scheme.name()));
                    out.push(ctx.at(f, placed, Some(e.line)));
                    targets.push(target(&e.name, &e.password, placed, e.line));
                }
            }
        }
        // Shadow entries count for accounts whose passwd field points there, and for
        // accounts passwd does not list.
        let uses_shadow = |name: &str| {
            passwd.as_ref().is_none_or(|(_, entries)| {
                entries
                    .iter()
                    .find(|e| e.name == name)
                    .is_none_or(|e| e.password == "x" || e.password.starts_with("##"))
            })
        };
        if let Some((placed, entries)) = shadow {
            for e in entries.iter().filter(|e| uses_shadow(&e.name)) {
                if e.password.is_empty() {
                    let mut f = t.finding("HF-WEAKPW-EMPTY", &e.name);
                    f.evidence = Some(format!("{}: empty password field in /etc/shadow", e.name));
                    out.push(ctx.at(f, placed, Some(e.line)));
                } else if Scheme::of(&e.password).is_some() {
                    targets.push(target(&e.name, &e.password, placed, e.line));
                }
            }
        }
        targets
    }

    /// PostgreSQL role verifiers worth guessing.
    fn postgres_roles<'a>(&self, recorded: &Recorded<'a>) -> Vec<GuessTarget<'a>> {
        let host = recorded.hostname.as_deref();
        let mut targets = Vec::new();
        for &(placed, ref roles) in &recorded.pg_roles {
            for role in roles {
                let name = role.name.clone().unwrap_or_default();
                let mut names = vec![name.clone(), "postgres".to_string()];
                names.extend(host.map(str::to_string));
                targets.push(GuessTarget {
                    subject: if name.is_empty() {
                        "(unknown)".into()
                    } else {
                        name
                    },
                    names,
                    scheme: role.secret.scheme(),
                    cost: match role.secret {
                        pg_authid::PgSecret::Md5(_) => 0,
                        pg_authid::PgSecret::Scram { .. } => 3,
                    },
                    verifier: Stored::Postgres(role.secret.clone()),
                    id: "HF-WEAKPW-PG",
                    placed,
                    line: None,
                });
            }
        }
        targets
    }

    /// Guesses every target in two passes under one deadline: first the cheap, likely
    /// candidates (derived from names, then `--dict`) for all of them, then the built-in
    /// list for those still standing, cheapest schemes and root first. One slow hash
    /// cannot use up the budget before the others got their likely guesses.
    fn guess(
        &self,
        ctx: &ImageContext<'_>,
        mut targets: Vec<GuessTarget<'_>>,
        deadline: Instant,
        out: &mut Checked,
    ) {
        targets.sort_by_key(|t| (t.cost, t.subject != "root"));
        if targets.len() > MAX_GUESS_TARGETS {
            // A hostile image can hold millions of hashes: guess the first ones and say
            // how many were left, in one warning.
            let rest = targets.split_off(MAX_GUESS_TARGETS);
            out.warnings.push(warning_at(
                ctx,
                rest[0].placed,
                format!(
                    "weak passwords: {} more password hashes not guessed; only the first \
                     {MAX_GUESS_TARGETS} are",
                    rest.len()
                ),
            ));
        }
        let mut standing = Vec::new();
        for t in targets {
            let names: Vec<&str> = t.names.iter().map(String::as_str).collect();
            let mut likely = dictionary::derived_from(&names);
            likely.extend(&self.config.dictionary);
            match t.run(&likely, deadline) {
                Outcome::Resisted if self.config.built_in => standing.push(t),
                Outcome::Resisted => {}
                outcome => self.report(ctx, &t, outcome, out),
            }
        }
        for t in standing {
            match t.run(dictionary::built_in(), deadline) {
                Outcome::Resisted => {}
                outcome => self.report(ctx, &t, outcome, out),
            }
        }
    }

    /// A cracked hash is a finding; one the deadline cut short is a warning, so an
    /// unfinished check neither passes for clean nor fails `--exit-code`.
    fn report(
        &self,
        ctx: &ImageContext<'_>,
        t: &GuessTarget<'_>,
        outcome: Outcome,
        out: &mut Checked,
    ) {
        match outcome {
            Outcome::Cracked(source) => {
                let mut f = texts().finding(t.id, &t.subject);
                if t.subject == "root" && t.id == "HF-WEAKPW-SHADOW" {
                    f.severity = Severity::Critical;
                }
                f.evidence = Some(format!(
                    "{}: {} hash matches {}",
                    t.subject,
                    t.scheme,
                    source.describe()
                ));
                out.findings.push(ctx.at(f, t.placed, t.line));
            }
            _ => out.warnings.push(warning_at(
                ctx,
                t.placed,
                format!(
                    "weak passwords: the password of {} ({} hash) was not fully checked; the \
                     {}s bound was reached (raise --weak-password-timeout)",
                    t.subject,
                    t.scheme,
                    self.config.timeout.as_secs_f64()
                ),
            )),
        }
    }
}

/// A warning about the file of `placed`.
fn warning_at(ctx: &ImageContext<'_>, placed: &Placed, message: String) -> Warning {
    Warning::file(
        holdfast_model::WarningKind::BoundReached,
        ctx.layer_id(placed.layer).as_deref(),
        &placed.result.path,
        message,
    )
}

impl Checker for WeakPasswordChecker {
    fn kinds(&self) -> &'static [FindingKind] {
        &[FindingKind::WeakPassword]
    }

    fn analyzers(&self) -> Vec<Box<dyn Analyzer>> {
        vec![Box::new(files::WeakPasswordFiles)]
    }

    fn check(&self, ctx: &CheckContext<'_>) -> Checked {
        let recorded = Recorded::read(ctx);
        let deadline = Instant::now() + self.config.timeout;
        let mut out = Checked::default();
        let mut targets = self.accounts(ctx, &recorded, &mut out.findings);
        targets.extend(self.postgres_roles(&recorded));
        self.guess(ctx, targets, deadline, &mut out);
        self.services(ctx, &recorded, &mut out.findings);
        out
    }
}

#[cfg(test)]
mod tests;
