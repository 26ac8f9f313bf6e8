//! What to keep of the findings: the severity threshold (`--severity`), fixed-only
//! (`--ignore-unfixed`) and the ignore file (`.holdfastignore`), and whether what is left
//! should fail a CI job (`--exit-code`).

mod ignore_file;
pub mod vex;

use holdfast_model::{Finding, FindingStatus, Severity};

pub use ignore_file::{IgnoreFile, IgnoreRule, ParseError};

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

    fn suppression(&self, f: &Finding) -> Option<Suppression> {
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

/// Parses `--severity` values (`LOW,MEDIUM`, case-insensitive).
pub fn parse_severity(s: &str) -> Result<Severity, String> {
    match s.trim().to_ascii_uppercase().as_str() {
        "UNKNOWN" => Ok(Severity::Unknown),
        "LOW" => Ok(Severity::Low),
        "MEDIUM" => Ok(Severity::Medium),
        "HIGH" => Ok(Severity::High),
        "CRITICAL" => Ok(Severity::Critical),
        other => Err(format!(
            "unknown severity `{other}`; expected UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL"
        )),
    }
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
            remediation: None,
            evidence: None,
            fingerprint: None,
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
