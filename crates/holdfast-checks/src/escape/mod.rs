//! Container-escape risks.
//!
//! From the image (a file analyzer that needs only metadata, so no file is read):
//! setuid/setgid copies of programs that give a shell, and file capabilities. From a
//! container (the image-wide step, on [`holdfast_model::ContainerRuntime`]): privileged
//! mode, added capabilities, runtime sockets, host namespaces and paths, devices, writable
//! cgroups, missing seccomp/AppArmor, root without a user namespace, the host kernel
//! against known escape CVEs, and processes that look like reverse shells or miners.
//! Every name, path, CVE and pattern is in `rules.toml`.

mod kernel;
mod runtime;

use std::sync::LazyLock;

use holdfast_analyze::analyzer::{
    AnalyzeError, AnalyzerGroup, EntryKind, EntryMeta, FileFact, FileInput, Want,
};
use holdfast_analyze::file_caps::FileCaps;
use holdfast_analyze::Analyzer;
use holdfast_model::{FindingKind, Severity};
use serde::Deserialize;

use crate::rules::{embedded, file_name, mode_owner, RuleText};
use crate::{CheckContext, Checked, Checker};

/// The rule tables.
#[derive(Debug, Deserialize)]
pub(crate) struct EscapeRules {
    setuid_shells: SetuidShells,
    file_caps: FileCapRules,
    #[serde(flatten)]
    pub runtime: runtime::RuntimeRules,
    #[serde(flatten)]
    pub kernel: kernel::KernelRules,
}

#[derive(Debug, Deserialize)]
struct SetuidShells {
    names: Vec<String>,
    prefixes: Vec<String>,
    text: RuleText,
}

#[derive(Debug, Deserialize)]
struct FileCapRules {
    high: Vec<String>,
    medium: Vec<String>,
    text: RuleText,
}

pub(crate) static RULES: LazyLock<EscapeRules> =
    LazyLock::new(|| embedded("escape/rules.toml", include_str!("rules.toml")));

impl SetuidShells {
    /// Whether a base name is one of the listed programs (or a versioned interpreter).
    fn matches(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
            || self.prefixes.iter().any(|p| {
                name.strip_prefix(p.as_str()).is_some_and(|rest| {
                    rest.is_empty() || rest.chars().all(|c| c.is_ascii_digit() || c == '.')
                })
            })
    }
}

impl FileCapRules {
    fn grade(&self, cap: &str) -> Severity {
        if self.high.iter().any(|c| c == cap) {
            Severity::High
        } else if self.medium.iter().any(|c| c == cap) {
            Severity::Medium
        } else {
            Severity::Low
        }
    }
}

const SETID_BITS: u32 = 0o6000;
const SETUID: u32 = 0o4000;

/// Escape risks from the image's files and the container's runtime.
pub struct EscapeChecker;

impl Checker for EscapeChecker {
    fn kinds(&self) -> &'static [FindingKind] {
        &[FindingKind::Escape]
    }

    fn analyzers(&self) -> Vec<Box<dyn Analyzer>> {
        vec![Box::new(FilePrivilegeAnalyzer)]
    }

    fn check(&self, ctx: &CheckContext<'_>) -> Checked {
        match &ctx.metadata.container {
            Some(c) => runtime::check(&RULES, c).into(),
            None => Checked::default(),
        }
    }
}

/// Setuid shells and file capabilities, judged from the entry's metadata alone.
pub struct FilePrivilegeAnalyzer;

impl Analyzer for FilePrivilegeAnalyzer {
    fn name(&self) -> &'static str {
        "escape-file-privileges"
    }

    fn version(&self) -> u32 {
        1
    }

    fn group(&self) -> AnalyzerGroup {
        AnalyzerGroup::Check(FindingKind::Escape)
    }

    fn wants(&self, path: &str, meta: &EntryMeta) -> Want {
        if meta.kind != EntryKind::File {
            return Want::No;
        }
        let setid_shell =
            meta.mode & SETID_BITS != 0 && RULES.setuid_shells.matches(file_name(path));
        if setid_shell || meta.capabilities.is_some() {
            Want::Meta
        } else {
            Want::No
        }
    }

    fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
        let meta = input.meta;
        let mut facts = Vec::new();
        if meta.mode & SETID_BITS != 0 && RULES.setuid_shells.matches(file_name(input.path)) {
            facts.push(setuid_shell(meta, input.path));
        }
        if let Some(raw) = &meta.capabilities {
            match FileCaps::parse(raw) {
                Ok(caps) if caps.permitted | caps.inheritable != 0 => {
                    facts.push(file_caps(&caps));
                }
                Ok(_) => {}
                // A `security.capability` value that does not decode.
                Err(e) => facts.push(FileFact::malformed(e.to_string())),
            }
        }
        Ok(facts)
    }
}

fn setuid_shell(meta: &EntryMeta, path: &str) -> FileFact {
    let rules = &RULES.setuid_shells;
    let mut f = rules.text.finding(FindingKind::Escape);
    let root_setuid = meta.mode & SETUID != 0 && meta.uid == 0;
    // A setgid copy, or one owned by another user, grants less than root.
    f.severity = if root_setuid {
        Severity::High
    } else {
        Severity::Medium
    };
    let bit = if meta.mode & SETUID != 0 {
        "setuid"
    } else {
        "setgid"
    };
    f.title = format!("{bit} `{}` {}", file_name(path), rules.text.title);
    f.evidence = Some(mode_owner(meta.mode, meta.uid, meta.gid));
    FileFact::Finding(Box::new(f))
}

fn file_caps(caps: &FileCaps) -> FileFact {
    let rules = &RULES.file_caps;
    let names = caps.names();
    let (worst, severity) = names
        .iter()
        .map(|n| (n, rules.grade(n)))
        .max_by_key(|(_, s)| *s)
        .map(|(n, s)| (n.clone(), s))
        .unwrap_or_else(|| (String::new(), Severity::Low));
    let mut f = rules.text.finding(FindingKind::Escape);
    f.id = format!("{}-{}", rules.text.id, worst.to_ascii_uppercase());
    f.severity = severity;
    f.title = format!("{}: {}", rules.text.title, caps.display());
    f.evidence = Some(caps.display());
    FileFact::Finding(Box::new(f))
}

#[cfg(test)]
mod tests {
    use holdfast_analyze::analyzer::FileContent;
    use holdfast_analyze::file_caps::encode_v2;

    use super::*;

    fn meta(mode: u32, caps: Option<Vec<u8>>) -> EntryMeta {
        EntryMeta {
            kind: EntryKind::File,
            size: 1000,
            mode,
            uid: 0,
            gid: 0,
            capabilities: caps,
        }
    }

    fn run(path: &str, m: &EntryMeta) -> Vec<FileFact> {
        let a = FilePrivilegeAnalyzer;
        if a.wants(path, m) == Want::No {
            return Vec::new();
        }
        assert_eq!(a.wants(path, m), Want::Meta);
        a.analyze(&mut FileInput {
            path,
            meta: m,
            content: FileContent::Bytes(&[]),
        })
        .unwrap()
    }

    fn ids(facts: &[FileFact]) -> Vec<(String, Severity)> {
        facts
            .iter()
            .filter_map(|f| match f {
                FileFact::Finding(f) => Some((f.id.clone(), f.severity)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn rules_parse() {
        assert!(RULES.setuid_shells.matches("bash"));
        assert!(RULES.setuid_shells.matches("python3.11"));
        assert!(!RULES.setuid_shells.matches("python-config"));
        assert!(!RULES.setuid_shells.matches("su"));
    }

    #[test]
    fn setuid_shells_and_near_misses() {
        let h = (String::from("HF-SUID-GTFOBIN"), Severity::High);
        assert_eq!(ids(&run("/usr/bin/bash", &meta(0o4755, None))), vec![h]);
        assert_eq!(
            ids(&run("/usr/local/bin/python3.11", &meta(0o2755, None))),
            vec![("HF-SUID-GTFOBIN".into(), Severity::Medium)]
        );
        // Not setuid, or setuid but not a shell-giving program.
        assert!(run("/usr/bin/bash", &meta(0o755, None)).is_empty());
        assert!(run("/usr/bin/su", &meta(0o4755, None)).is_empty());
    }

    #[test]
    fn capabilities_graded_by_worst() {
        let admin = encode_v2(1 << 21 | 1 << 13, 0, true);
        assert_eq!(
            ids(&run("/usr/bin/tool", &meta(0o755, Some(admin)))),
            vec![("HF-ESCAPE-FILE-CAP-SYS_ADMIN".into(), Severity::High)]
        );
        let ping = encode_v2(1 << 13, 0, true);
        assert_eq!(
            ids(&run("/usr/bin/ping", &meta(0o755, Some(ping)))),
            vec![("HF-ESCAPE-FILE-CAP-NET_RAW".into(), Severity::Low)]
        );
        // An empty set is no grant; a garbled value is a warning, not a finding.
        assert!(ids(&run("/x", &meta(0o755, Some(encode_v2(0, 0, false))))).is_empty());
        let bad = run("/x", &meta(0o755, Some(vec![1, 2])));
        assert!(matches!(
            bad.as_slice(),
            [FileFact::Skipped {
                kind: holdfast_model::WarningKind::MalformedFile,
                ..
            }]
        ));
    }
}
