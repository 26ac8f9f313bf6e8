//! The backdoor checker: persistence and hidden access planted in an image.
//!
//! Line rules (`data/backdoor-rules.toml`) run in the layer walk over the files of their
//! class and give file findings: `/etc/ld.so.preload`, crontabs, systemd units and boot
//! scripts that fetch and run code or open reverse shells, shell start-up files that
//! alias core commands or hook every command, forced-command SSH keys, odd
//! `AuthorizedKeysCommand`s, inetd/xinetd bind shells. What needs the whole image is
//! recorded and decided in [`Checker::check`]: SSH keys of service accounts (from
//! `/etc/passwd`), PAM modules no package owns (dpkg's `*.list` files or apk's installed
//! database; rpm images are not judged, see [`BackdoorChecker`]), and setuid shells (by
//! name, or by content equal to one of the image's shells).

pub mod classes;
pub mod rules;

use std::collections::HashSet;

use holdfast_analyze::analyzer::{
    AnalyzeError, AnalyzerGroup, EntryKind, EntryMeta, FileFact, FileInput, Want,
};
use holdfast_analyze::merge::Placed;
use holdfast_analyze::Analyzer;
use holdfast_model::{Finding, FindingKind};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::rules::file_name;
use crate::weak_password::accounts::{self, PasswdEntry};
use crate::{record, CheckContext, Checked, Checker, CheckerRecord, ImageContext};
use classes::{classify, is_system_shell, FileClass, SHELL_NAMES};

const ANALYZER: &str = "backdoor";

/// The backdoor checker. PAM-module ownership is judged only when the image has dpkg or
/// apk ownership data: rpm keeps file lists inside its database, which the rpm cataloger
/// does not expose to checkers, so rpm-based images get no `HF-BACKDOOR-PAM-UNOWNED`
/// findings rather than false ones.
pub struct BackdoorChecker;

impl Default for BackdoorChecker {
    fn default() -> Self {
        Self::new()
    }
}

impl BackdoorChecker {
    /// The checker with the built-in rules.
    pub fn new() -> Self {
        BackdoorChecker
    }
}

/// A file with the setuid bit, or one of the image's own shells, by content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Hashed {
    sha256: String,
}

/// What [`BackdoorFiles`] records about a file for the image-wide step. The JSON of each
/// variant (`kind` = the variant's kebab-case name, `data` = its payload) is stored in the
/// layer cache: changing it means bumping [`BackdoorFiles`]'s version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "kebab-case")]
enum BackdoorRecord {
    /// The accounts of a passwd file; only `/etc/passwd`'s are used.
    Passwd(Vec<PasswdEntry>),
    /// How many keys an `authorized_keys` file holds.
    AuthorizedKeys(usize),
    /// The file is a PAM module.
    PamModule,
    /// PAM modules that a package database file lists as owned.
    OwnedPam(Vec<String>),
    /// A package database with file lists exists: `dpkg` or `apk`.
    OwnerDb(String),
    /// A setuid file's content.
    Setuid(Hashed),
    /// One of the image's shells' content.
    Shell(Hashed),
}

impl CheckerRecord for BackdoorRecord {
    const CHECKER: &'static str = "backdoor";
    const ANALYZER: &'static str = ANALYZER;
}

/// The backdoor records of the image's visible files, sorted by kind, in path order.
#[derive(Default)]
struct Recorded<'a> {
    /// `/etc/passwd`'s accounts.
    passwd: Option<Vec<PasswdEntry>>,
    /// `authorized_keys` files and how many keys each holds.
    authorized_keys: Vec<(&'a Placed, usize)>,
    /// PAM modules.
    pam_modules: Vec<&'a Placed>,
    /// PAM module paths the package databases list, as written there.
    owned_pam: Vec<String>,
    /// The package databases with file lists.
    owner_dbs: Vec<String>,
    /// The content hashes of the image's shells.
    shells: HashSet<String>,
    /// Setuid files and their content hashes.
    setuid: Vec<(&'a Placed, Hashed)>,
}

impl<'a> Recorded<'a> {
    /// Reads every backdoor record once.
    fn read(ctx: &CheckContext<'a>) -> Self {
        let mut r = Recorded::default();
        for (placed, record) in ctx.records::<BackdoorRecord>() {
            match record {
                BackdoorRecord::Passwd(users) => {
                    if placed.result.path == "/etc/passwd" && r.passwd.is_none() {
                        r.passwd = Some(users);
                    }
                }
                BackdoorRecord::AuthorizedKeys(keys) => r.authorized_keys.push((placed, keys)),
                BackdoorRecord::PamModule => r.pam_modules.push(placed),
                BackdoorRecord::OwnedPam(paths) => r.owned_pam.extend(paths),
                BackdoorRecord::OwnerDb(db) => r.owner_dbs.push(db),
                BackdoorRecord::Setuid(h) => r.setuid.push((placed, h)),
                BackdoorRecord::Shell(h) => {
                    r.shells.insert(h.sha256);
                }
            }
        }
        r
    }
}

fn is_setuid(meta: &EntryMeta) -> bool {
    meta.mode & 0o4000 != 0
}

/// Paths under a PAM module directory in a package's file list.
fn pam_paths<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<String> {
    lines
        .map(str::trim)
        .filter(|l| l.ends_with(".so") && classify(l) == Some(FileClass::PamModule))
        .map(str::to_string)
        .collect()
}

/// The files of apk's installed database (`F:` directory, `R:` file lines).
fn apk_files(text: &str) -> Vec<String> {
    let mut dir = "";
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(d) = line.strip_prefix("F:") {
            dir = d;
        } else if let Some(f) = line.strip_prefix("R:") {
            out.push(format!("/{dir}/{f}"));
        }
    }
    out
}

/// The file-level part.
pub struct BackdoorFiles;

impl Analyzer for BackdoorFiles {
    fn name(&self) -> &'static str {
        ANALYZER
    }

    fn version(&self) -> u32 {
        1
    }

    fn group(&self) -> AnalyzerGroup {
        AnalyzerGroup::Check(FindingKind::Backdoor)
    }

    fn wants(&self, path: &str, meta: &EntryMeta) -> Want {
        if meta.kind != EntryKind::File && meta.kind != EntryKind::HardLink {
            return Want::No;
        }
        if classify(path).is_some() || is_setuid(meta) || is_system_shell(path) {
            Want::Bytes
        } else {
            Want::No
        }
    }

    fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
        let mut bytes = Vec::new();
        input.content.with_reader(|r| r.read_to_end(&mut bytes))?;
        let mut facts = Vec::new();
        let hashed = || Hashed {
            sha256: hex::encode(Sha256::digest(&bytes)),
        };
        if is_setuid(input.meta) {
            facts.push(record(&BackdoorRecord::Setuid(hashed()))?);
        } else if is_system_shell(input.path) {
            facts.push(record(&BackdoorRecord::Shell(hashed()))?);
        }
        let text = || String::from_utf8_lossy(&bytes);
        match classify(input.path) {
            Some(FileClass::Rules(class)) => {
                let text = text();
                for f in rules::scan(rules::built_in(), class, &text) {
                    facts.push(FileFact::Finding(Box::new(f)));
                }
                if class == "authorized-keys" {
                    let keys = text
                        .lines()
                        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                        .count();
                    facts.push(record(&BackdoorRecord::AuthorizedKeys(keys))?);
                }
            }
            Some(FileClass::Passwd) => {
                let users = accounts::parse_passwd(&text());
                facts.push(record(&BackdoorRecord::Passwd(users))?);
            }
            Some(FileClass::PamModule) => facts.push(record(&BackdoorRecord::PamModule)?),
            Some(FileClass::DpkgList) => {
                let owned = pam_paths(text().lines());
                if !owned.is_empty() {
                    facts.push(record(&BackdoorRecord::OwnedPam(owned))?);
                }
                // Even a package without PAM modules proves that ownership data exists.
                facts.push(record(&BackdoorRecord::OwnerDb("dpkg".into()))?);
            }
            Some(FileClass::ApkInstalled) => {
                let files = apk_files(&text());
                let owned = pam_paths(files.iter().map(String::as_str));
                facts.push(record(&BackdoorRecord::OwnedPam(owned))?);
                facts.push(record(&BackdoorRecord::OwnerDb("apk".into()))?);
            }
            None => {}
        }
        Ok(facts)
    }
}

impl BackdoorChecker {
    fn service_account_keys(
        &self,
        ctx: &ImageContext<'_>,
        recorded: &Recorded<'_>,
        out: &mut Vec<Finding>,
    ) {
        let Some(users) = &recorded.passwd else {
            return;
        };
        for &(placed, keys) in &recorded.authorized_keys {
            if keys == 0 {
                continue;
            }
            let path = &placed.result.path;
            let owner = users.iter().find(|u| {
                let home = u.home.trim_end_matches('/');
                !home.is_empty()
                    && path
                        .strip_prefix(home)
                        .is_some_and(|rest| rest.starts_with("/.ssh/"))
            });
            let Some(u) = owner else { continue };
            if u.uid != 0 && (u.uid < 1000 || accounts::is_nologin_shell(&u.shell)) {
                let mut f = rules::texts().finding("HF-BACKDOOR-SSH-KEY-SERVICE-ACCOUNT", &u.name);
                f.evidence = Some(format!(
                    "{}: uid {}, shell {}, {keys} key(s)",
                    u.name, u.uid, u.shell
                ));
                out.push(ctx.at(f, placed, None));
            }
        }
    }

    fn unowned_pam_modules(
        &self,
        ctx: &ImageContext<'_>,
        recorded: &Recorded<'_>,
        out: &mut Vec<Finding>,
    ) {
        let mut dbs: Vec<&str> = recorded.owner_dbs.iter().map(String::as_str).collect();
        if dbs.is_empty() {
            return;
        }
        dbs.sort();
        dbs.dedup();
        let evidence = format!("not listed by {}", dbs.join(", "));
        let resolve = |p: &str| ctx.fs.resolve(p).unwrap_or_else(|| p.to_string());
        let owned: HashSet<String> = recorded.owned_pam.iter().map(|p| resolve(p)).collect();
        for &placed in &recorded.pam_modules {
            let path = &placed.result.path;
            if owned.contains(path) || owned.contains(&resolve(path)) {
                continue;
            }
            let mut f = rules::texts().finding("HF-BACKDOOR-PAM-UNOWNED", path);
            f.evidence = Some(evidence.clone());
            out.push(ctx.at(f, placed, None));
        }
    }

    fn setuid_shells(
        &self,
        ctx: &ImageContext<'_>,
        recorded: &Recorded<'_>,
        out: &mut Vec<Finding>,
    ) {
        for (placed, h) in &recorded.setuid {
            let path = &placed.result.path;
            let why = if SHELL_NAMES.contains(&file_name(path)) {
                "named like a shell"
            } else if recorded.shells.contains(&h.sha256) {
                "same content as one of the image's shells"
            } else {
                continue;
            };
            let mut f = rules::texts().finding("HF-BACKDOOR-SETUID-SHELL", path);
            f.evidence = Some(format!("setuid, {why}"));
            out.push(ctx.at(f, placed, None));
        }
    }
}

impl Checker for BackdoorChecker {
    fn kinds(&self) -> &'static [FindingKind] {
        &[FindingKind::Backdoor]
    }

    fn analyzers(&self) -> Vec<Box<dyn Analyzer>> {
        vec![Box::new(BackdoorFiles)]
    }

    fn check(&self, ctx: &CheckContext<'_>) -> Checked {
        let recorded = Recorded::read(ctx);
        let mut out = Vec::new();
        self.service_account_keys(ctx, &recorded, &mut out);
        self.unowned_pam_modules(ctx, &recorded, &mut out);
        self.setuid_shells(ctx, &recorded, &mut out);
        out.into()
    }
}

#[cfg(test)]
mod tests;
