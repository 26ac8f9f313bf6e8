//! What to keep of the findings: the severity threshold (`--severity`), fixed-only
//! (`--ignore-unfixed`), the ignore file (`.holdfastignore`) and VEX statements, and the
//! verdict: whether what is left fails the gate ([`verdict`]), for the CLI's
//! `--exit-code` and every other front end.

mod ignore_file;
mod verdict;
pub mod vex;

use holdfast_model::{Finding, FindingStatus, Severity, SuppressionInfo, TargetResult};

pub use ignore_file::{IgnoreFile, IgnoreRule, ParseError};
pub use verdict::{verdict, Decider, Verdict};

/// The filters a user chose.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Keep only these severities; empty keeps all.
    pub severities: Vec<Severity>,
    /// Drop vulnerabilities that have no fixed version.
    pub ignore_unfixed: bool,
    /// Rules from `.holdfastignore`.
    pub ignore: IgnoreFile,
    /// The date rules expire against (`YYYY-MM-DD`), normally today.
    pub today: Option<time::Date>,
    /// Suppressing statements from `--vex` documents, with each document's name.
    pub vex: Vec<(String, vex::VexStatement)>,
}

/// Why a finding was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suppression {
    Severity,
    Unfixed,
    /// An ignore rule, by its line in the file.
    IgnoreRule {
        line: usize,
    },
    /// A VEX statement (`not_affected` or `fixed`), by index into `Policy::vex`.
    Vex {
        statement: usize,
    },
}

impl Policy {
    /// Splits findings into those kept and those suppressed, with the reason.
    pub fn apply(&self, findings: Vec<Finding>) -> (Vec<Finding>, Vec<(Finding, Suppression)>) {
        let mut kept = Vec::new();
        let mut dropped = Vec::new();
        for f in findings {
            match self.suppression(&f) {
                None => kept.push(f),
                Some(why) => dropped.push((f, why)),
            }
        }
        (kept, dropped)
    }

    /// Whether the policy keeps `f` (no filter, ignore rule or VEX statement takes it out).
    pub fn keeps(&self, f: &Finding) -> bool {
        self.suppression(f).is_none()
    }

    /// Why the policy takes `f` out, or `None` when it keeps it.
    pub fn suppression(&self, f: &Finding) -> Option<Suppression> {
        if !self.severities.is_empty() && !self.severities.contains(&f.severity) {
            return Some(Suppression::Severity);
        }
        if self.ignore_unfixed && f.status == Some(FindingStatus::Affected) {
            return Some(Suppression::Unfixed);
        }
        if let Some(i) = self.vex.iter().position(|(_, st)| st.covers(f)) {
            return Some(Suppression::Vex { statement: i });
        }
        self.ignore
            .matching_rule(f, self.today)
            .map(|r| Suppression::IgnoreRule { line: r.line })
    }
}

impl Policy {
    /// Filters a target's findings in place. Findings a VEX statement or an ignore rule
    /// suppressed move to the target's `suppressed` list with the decision attached
    /// (`ignore_source` names the ignore file); the severity and fixed-only filters are
    /// views and just drop. Returns how many findings were taken out.
    pub fn filter_target(&self, target: &mut TargetResult, ignore_source: Option<&str>) -> usize {
        let (kept, suppressed) = self.apply(std::mem::take(&mut target.findings));
        target.findings = kept;
        let count = suppressed.len();
        for (mut f, why) in suppressed {
            f.suppression = match why {
                Suppression::Vex { statement } => {
                    let (source, st) = &self.vex[statement];
                    Some(SuppressionInfo {
                        by: "vex".into(),
                        source: Some(source.clone()),
                        statement: Some(st.raw.clone()),
                    })
                }
                Suppression::IgnoreRule { line } => Some(SuppressionInfo {
                    by: "ignore-file".into(),
                    source: ignore_source.map(str::to_string),
                    statement: Some(serde_json::json!({ "line": line })),
                }),
                Suppression::Severity | Suppression::Unfixed => None,
            };
            if f.suppression.is_some() {
                target.suppressed.push(f);
            }
        }
        count
    }
}

/// Parses `--severity` values (`LOW,MEDIUM`, case-insensitive).
pub fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_model::FindingKind;

    fn finding(id: &str, sev: Severity, status: FindingStatus) -> Finding {
        Finding {
            kind: FindingKind::Vulnerability,
            id: id.into(),
            severity: sev,
            title: String::new(),
            description: String::new(),
            package: Some("openssl".into()),
            installed_version: Some("1".into()),
            fixed_version: None,
            status: Some(status),
            layer: None,
            path: Some("/var/lib/dpkg/status".into()),
            line: None,
            removed: false,
            references: vec![],
            aliases: vec!["GHSA-aaaa".into()],
            cvss: None,
            suppression: None,
            locations: vec![],
            severity_source: None,
            remediation: None,
            evidence: None,
            fingerprint: None,
            source: None,
        }
    }

    #[test]
    fn severity_unfixed_and_ignore_rules() {
        let policy = Policy {
            severities: vec![Severity::High, Severity::Critical],
            ignore_unfixed: true,
            ignore: IgnoreFile::parse(
                "# accepted risk\nCVE-3 exp:2030-01-01\nGHSA-aaaa pkg:other\n",
            )
            .unwrap(),
            today: time::Date::from_calendar_date(2026, time::Month::November, 25).ok(),
            vex: Vec::new(),
        };
        let (kept, dropped) = policy.apply(vec![
            finding("CVE-1", Severity::High, FindingStatus::Fixed),
            finding("CVE-2", Severity::Low, FindingStatus::Fixed),
            finding("CVE-3", Severity::Critical, FindingStatus::Fixed),
            finding("CVE-4", Severity::Critical, FindingStatus::Affected),
        ]);
        assert_eq!(
            kept.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
            vec!["CVE-1"]
        );
        let why: Vec<_> = dropped
            .iter()
            .map(|(f, w)| (f.id.as_str(), w.clone()))
            .collect();
        assert_eq!(
            why,
            vec![
                ("CVE-2", Suppression::Severity),
                ("CVE-3", Suppression::IgnoreRule { line: 2 }),
                ("CVE-4", Suppression::Unfixed),
            ]
        );
        assert!(parse_severity("bogus").is_err());
    }
}
