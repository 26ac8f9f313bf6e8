//! Setuid/setgid files, per layer, and world-writable paths in system directories.
//!
//! Both are judged from the entry's mode alone (`Want::Meta`): no file is read. The
//! analyzer records a finding per entry; the image-wide step reports each path once per
//! state it had, at the layer that gave it that state: layers re-list parent directories
//! and copy files up unchanged, and those repeats are not new findings. A state a later
//! layer replaced or deleted is reported `removed`, as its bytes are still in the image.
//! A later layer that clears the bit leaves no record (nobody asked for the plain file),
//! so the lower state is then reported as visible: the layer that added it is still right.
//!
//! Grading: the setuid/setgid programs a Debian system ships on purpose (su, mount,
//! passwd, chsh, ...) are LOW, "present as expected"; any other setuid/setgid file is
//! MEDIUM. Setuid copies of shells and interpreters are also reported by the escape
//! checker, at HIGH (`HF-SUID-GTFOBIN`).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use holdfast_analyze::analyzer::{
    AnalyzeError, AnalyzerGroup, EntryKind, EntryMeta, FileFact, FileInput, Want,
};
use holdfast_analyze::merge::Placed;
use holdfast_analyze::Analyzer;
use holdfast_model::{Finding, FindingKind, Severity};
use serde::{Deserialize, Serialize};

use crate::rules::{embedded, file_name, mode_owner, parent, under, RuleText};
use crate::{record, CheckContext, Checked, Checker, CheckerRecord};

/// The analyzer's name, under which its records sit in the merged filesystem.
const ANALYZER: &str = "suid-files";

/// What [`SuidAnalyzer`] records about an entry for the image-wide step. Its JSON is
/// stored in the layer cache: changing it means bumping [`SuidAnalyzer`]'s version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "kebab-case")]
enum SuidRecord {
    /// One finding about the entry, without its place: the image-wide step places and
    /// dedupes it.
    SuidFinding(Finding),
}

impl CheckerRecord for SuidRecord {
    const CHECKER: &'static str = "suid";
    const ANALYZER: &'static str = ANALYZER;
}

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

    fn check(&self, ctx: &CheckContext<'_>) -> Checked {
        let mut out = Vec::new();
        for by_analyzer in ctx.fs.stacks.values() {
            if let Some(stack) = by_analyzer.get(ANALYZER) {
                let stack: Vec<&Placed> = stack.iter().collect();
                report_states(ctx, &stack, false, &mut out);
            }
        }
        let mut deleted: BTreeMap<&str, Vec<&Placed>> = BTreeMap::new();
        for placed in ctx
            .fs
            .removed
            .iter()
            .filter(|p| p.result.analyzer == ANALYZER)
        {
            deleted.entry(&placed.result.path).or_default().push(placed);
        }
        for mut stack in deleted.into_values() {
            stack.sort_by_key(|p| p.layer);
            report_states(ctx, &stack, true, &mut out);
        }
        out.into()
    }
}

/// One finding per run of identical states in a path's stack (bottom first), at the
/// run's first layer; all but the last run, or all when the path was deleted, are
/// `removed`.
fn report_states<'a>(
    ctx: &CheckContext<'a>,
    stack: &[&'a Placed],
    deleted: bool,
    out: &mut Vec<Finding>,
) {
    let mut runs: Vec<(usize, Vec<Finding>)> = Vec::new();
    for &placed in stack {
        let findings: Vec<Finding> = ctx
            .records_in(placed)
            .map(|SuidRecord::SuidFinding(f)| f)
            .collect();
        let same = runs.last().is_some_and(|(_, prev)| {
            prev.len() == findings.len()
                && prev.iter().zip(&findings).all(|(a, b)| {
                    (&a.id, a.severity, &a.evidence) == (&b.id, b.severity, &b.evidence)
                })
        });
        if !same {
            runs.push((placed.layer, findings));
        }
    }
    let last = runs.len().saturating_sub(1);
    for (i, (layer, findings)) in runs.into_iter().enumerate() {
        for mut f in findings {
            f.path = stack.first().map(|p| p.result.path.clone());
            f.layer = ctx.layer_id(layer);
            f.removed = deleted || i != last;
            out.push(f);
        }
    }
}

/// The file-level part of [`SuidChecker`].
pub struct SuidAnalyzer;

impl Analyzer for SuidAnalyzer {
    fn name(&self) -> &'static str {
        ANALYZER
    }

    fn version(&self) -> u32 {
        2
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
            f.title = format!("{bits} `{}`: {}", file_name(path), f.title);
            f.evidence = Some(mode_owner(meta.mode, meta.uid, meta.gid));
            facts.push(record(&SuidRecord::SuidFinding(f))?);
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
            facts.push(record(&SuidRecord::SuidFinding(f))?);
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
            FileFact::Record { data, .. } => {
                let f: Finding = serde_json::from_value(data).ok()?;
                Some((f.id, f.severity))
            }
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
            found("/opt/app/backupctl", &file(0o4755, 0)),
            new(Severity::Medium)
        );
        assert_eq!(
            found("/opt/app/backupctl", &file(0o2755, 0)),
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

    #[test]
    fn the_record_keeps_the_json_the_layer_cache_holds() {
        // What version 2 of the analyzer wrote; a change here needs a new version.
        let f = RULES.world_writable.text.finding(FindingKind::Suid);
        let FileFact::Record { kind, data } = record(&SuidRecord::SuidFinding(f.clone())).unwrap()
        else {
            panic!("not a record");
        };
        assert_eq!(kind, "suid-finding");
        assert_eq!(data, serde_json::to_value(&f).unwrap());
    }
}
