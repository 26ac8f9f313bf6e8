//! Setuid/setgid files, per layer, and world-writable paths in system directories.
//!
//! Both are judged from the entry's mode alone (`Want::Meta`): no file is read. Each
//! finding is a file finding, so the pipeline attaches the layer that added the file and
//! marks copies a later layer replaced or deleted as `removed`.
//!
//! Grading: the setuid/setgid programs a Debian system ships on purpose (su, mount,
//! passwd, chsh, ...) are LOW, "present as expected"; any other setuid/setgid file is
//! MEDIUM. Setuid copies of shells and interpreters are also reported by the escape
//! checker, at HIGH (`HF-SUID-GTFOBIN`).

use std::sync::LazyLock;

use holdfast_analyze::analyzer::{
    AnalyzeError, AnalyzerGroup, EntryKind, EntryMeta, FileFact, FileInput, Want,
};
use holdfast_analyze::Analyzer;
use holdfast_model::{FindingKind, Severity};
use serde::Deserialize;

use crate::rules::{embedded, file_name, mode_owner, parent, under, RuleText};
use crate::Checker;

#[derive(Debug, Deserialize)]
struct SuidRules {
    expected_setid: ExpectedSetid,
    unexpected_setid: RuleText,
    system_path: Vec<SystemPath>,
    world_writable: WorldWritable,
}

#[derive(Debug, Deserialize)]
struct ExpectedSetid {
    dirs: Vec<String>,
    names: Vec<String>,
    paths: Vec<String>,
    text: RuleText,
}

#[derive(Debug, Deserialize)]
struct SystemPath {
    prefix: String,
    severity: Severity,
}

#[derive(Debug, Deserialize)]
struct WorldWritable {
    exempt: Vec<String>,
    text: RuleText,
}

static RULES: LazyLock<SuidRules> =
    LazyLock::new(|| embedded("suid/rules.toml", include_str!("rules.toml")));

const SETID_BITS: u32 = 0o6000;
const SETUID: u32 = 0o4000;
const OTHER_WRITE: u32 = 0o002;
const STICKY: u32 = 0o1000;

impl SuidRules {
    fn expected(&self, path: &str) -> bool {
        let e = &self.expected_setid;
        e.paths.iter().any(|p| p == path)
            || (e.dirs.iter().any(|d| d == parent(path))
                && e.names.iter().any(|n| n == file_name(path)))
    }

    /// The severity of a world-writable path, when it is in a system directory.
    fn system_severity(&self, path: &str) -> Option<Severity> {
        if self.world_writable.exempt.iter().any(|e| under(path, e)) {
            return None;
        }
        self.system_path
            .iter()
            .filter(|s| under(path, &s.prefix))
            .max_by_key(|s| s.prefix.len())
            .map(|s| s.severity)
    }

    fn world_writable_risk(&self, path: &str, meta: &EntryMeta) -> Option<Severity> {
        let risky = match meta.kind {
            EntryKind::File => meta.mode & OTHER_WRITE != 0,
            EntryKind::Dir => meta.mode & OTHER_WRITE != 0 && meta.mode & STICKY == 0,
            _ => false,
        };
        if risky {
            self.system_severity(path)
        } else {
            None
        }
    }
}

/// Setuid/setgid files and world-writable system paths.
pub struct SuidChecker;

impl Checker for SuidChecker {
    fn kinds(&self) -> &'static [FindingKind] {
        &[FindingKind::Suid]
    }

    fn analyzers(&self) -> Vec<Box<dyn Analyzer>> {
        vec![Box::new(SuidAnalyzer)]
    }
}

/// The file-level part of [`SuidChecker`].
pub struct SuidAnalyzer;

impl Analyzer for SuidAnalyzer {
    fn name(&self) -> &'static str {
        "suid-files"
    }

    fn version(&self) -> u32 {
        1
    }

    fn group(&self) -> AnalyzerGroup {
        AnalyzerGroup::Check(FindingKind::Suid)
    }

    fn wants(&self, path: &str, meta: &EntryMeta) -> Want {
        // Cheap tests first: almost no entry has either bit.
        let setid = meta.kind == EntryKind::File && meta.mode & SETID_BITS != 0;
        if setid
            || (meta.mode & OTHER_WRITE != 0 && RULES.world_writable_risk(path, meta).is_some())
        {
            Want::Meta
        } else {
            Want::No
        }
    }

    fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
        let (path, meta) = (input.path, input.meta);
        let mut facts = Vec::new();
        if meta.kind == EntryKind::File && meta.mode & SETID_BITS != 0 {
            let expected = RULES.expected(path);
            let mut f = if expected {
                RULES.expected_setid.text.finding(FindingKind::Suid)
            } else {
                RULES.unexpected_setid.finding(FindingKind::Suid)
            };
            let bits = match (meta.mode & SETUID != 0, meta.mode & 0o2000 != 0) {
                (true, true) => "setuid+setgid",
                (true, false) => "setuid",
                _ => "setgid",
            };
            let setuid_root = meta.mode & SETUID != 0 && meta.uid == 0;
            if !expected && !setuid_root {
                // Setgid only, or setuid to a user other than root: less than root.
                f.severity = Severity::Low;
            }
            f.title = format!("{bits} {}: {}", file_name(path), f.title);
            f.evidence = Some(mode_owner(meta.mode, meta.uid, meta.gid));
            facts.push(FileFact::Finding(Box::new(f)));
        }
        if let Some(severity) = RULES.world_writable_risk(path, meta) {
            let mut f = RULES.world_writable.text.finding(FindingKind::Suid);
            f.severity = severity;
            f.title = if meta.kind == EntryKind::Dir {
                "World-writable directory without the sticky bit in a system path".into()
            } else {
                "World-writable file in a system path".into()
            };
            f.evidence = Some(mode_owner(meta.mode, meta.uid, meta.gid));
            facts.push(FileFact::Finding(Box::new(f)));
        }
        Ok(facts)
    }
}

#[cfg(test)]
mod tests {
    use holdfast_analyze::analyzer::FileContent;

    use super::*;

    fn meta(kind: EntryKind, mode: u32, uid: u64) -> EntryMeta {
        EntryMeta {
            kind,
            size: 0,
            mode,
            uid,
            gid: 0,
            capabilities: None,
        }
    }

    fn found(path: &str, m: &EntryMeta) -> Vec<(String, Severity)> {
        let a = SuidAnalyzer;
        if a.wants(path, m) == Want::No {
            return Vec::new();
        }
        a.analyze(&mut FileInput {
            path,
            meta: m,
            content: FileContent::Bytes(&[]),
        })
        .unwrap()
        .into_iter()
        .filter_map(|f| match f {
            FileFact::Finding(f) => Some((f.id, f.severity)),
            _ => None,
        })
        .collect()
    }

    #[test]
    fn setid_grading() {
        let file = |mode, uid| meta(EntryKind::File, mode, uid);
        let new = |s| vec![("HF-SUID-NEW".to_string(), s)];
        assert_eq!(found("/usr/bin/su", &file(0o4755, 0)), new(Severity::Low));
        assert_eq!(found("/bin/mount", &file(0o4755, 0)), new(Severity::Low));
        assert_eq!(
            found("/usr/sbin/unix_chkpwd", &file(0o2755, 0)),
            new(Severity::Low)
        );
        assert_eq!(
            found("/opt/app/helper", &file(0o4755, 0)),
            new(Severity::Medium)
        );
        assert_eq!(
            found("/opt/app/helper", &file(0o2755, 0)),
            new(Severity::Low)
        );
        // `su` outside the binary directories is not the distribution's.
        assert_eq!(found("/tmp/su", &file(0o4755, 0)), new(Severity::Medium));
        assert!(found("/usr/bin/su", &file(0o755, 0)).is_empty());
    }

    #[test]
    fn world_writable_paths() {
        let ww = |s| vec![("HF-WORLD-WRITABLE".to_string(), s)];
        assert_eq!(
            found("/etc/profile.d/x.sh", &meta(EntryKind::File, 0o666, 0)),
            ww(Severity::High)
        );
        assert_eq!(
            found("/usr/share/app", &meta(EntryKind::Dir, 0o777, 0)),
            ww(Severity::Medium)
        );
        assert_eq!(
            found("/var/www/uploads", &meta(EntryKind::Dir, 0o777, 33)),
            ww(Severity::Medium)
        );
        // Near misses: sticky directories, scratch dirs, non-system paths, not writable.
        assert!(found("/var/tmp", &meta(EntryKind::Dir, 0o1777, 0)).is_empty());
        assert!(found("/usr/share/x", &meta(EntryKind::Dir, 0o1777, 0)).is_empty());
        assert!(found("/var/tmp/x", &meta(EntryKind::File, 0o666, 0)).is_empty());
        assert!(found("/tmp/x", &meta(EntryKind::File, 0o666, 0)).is_empty());
        assert!(found("/home/u/x", &meta(EntryKind::File, 0o666, 0)).is_empty());
        assert!(found("/etc/passwd", &meta(EntryKind::File, 0o644, 0)).is_empty());
        assert!(found("/etc/link", &meta(EntryKind::Symlink, 0o777, 0)).is_empty());
    }
}
