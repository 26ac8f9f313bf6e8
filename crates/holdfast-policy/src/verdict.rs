//! The gate: does a result fail, and because of which findings.
//!
//! One function decides it for every front end (the CLI's exit code, and the admission
//! webhook and authorization plugin to come), so that "blocked" means the same thing
//! everywhere: a finding that survives the policy's filters (severity threshold,
//! fixed-only, ignore rules, VEX statements) decides.

use holdfast_model::{Finding, FindingKind, ScanResult, Severity};

use crate::Policy;

/// A finding that decided a verdict, named so that a person can find it in the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decider {
    /// The target's name, as in the result.
    pub target: String,
    pub kind: FindingKind,
    /// The finding's id (a CVE, a rule id).
    pub id: String,
    pub severity: Severity,
    /// The package, for findings about one.
    pub package: Option<String>,
}

/// What the gate decided about one result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// The findings that survive the policy, worst first; empty means the result passes.
    pub deciders: Vec<Decider>,
}

impl Verdict {
    /// Whether any finding survived the policy.
    pub fn fails(&self) -> bool {
        !self.deciders.is_empty()
    }

    /// The process exit code for `--exit-code code`: `code` when the verdict fails and
    /// `code` is not 0, else 0.
    pub fn exit_code(&self, code: u8) -> u8 {
        if self.fails() {
            code
        } else {
            0
        }
    }
}

/// Judges a result: every finding of every target that the policy keeps decides against
/// it. Findings already moved to a target's `suppressed` list never decide; findings the
/// scan kept are judged again, so a result saved earlier can be judged under a stricter
/// policy.
pub fn verdict(policy: &Policy, result: &ScanResult) -> Verdict {
    let mut deciders: Vec<Decider> = result
        .targets
        .iter()
        .flat_map(|t| t.findings.iter().map(move |f| (t.name.as_str(), f)))
        .filter(|(_, f)| policy.keeps(f))
        .map(|(target, f): (&str, &Finding)| Decider {
            target: target.to_string(),
            kind: f.kind,
            id: f.id.clone(),
            severity: f.severity,
            package: f.package.clone(),
        })
        .collect();
    deciders.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.target.cmp(&b.target))
            .then_with(|| a.id.cmp(&b.id))
    });
    Verdict { deciders }
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_model::{ScanSummary, TargetKind, TargetResult, ToolInfo};

    fn result(findings: Vec<Finding>) -> ScanResult {
        let target = TargetResult {
            kind: TargetKind::Image,
            name: "app.tar".into(),
            image_id: None,
            platform: None,
            created: None,
            os: None,
            layers: vec![],
            packages: vec![],
            findings,
            suppressed: vec![],
            warnings: vec![],
            plugins: Vec::new(),
            checks: Vec::new(),
        };
        ScanResult {
            schema_version: holdfast_model::SCHEMA_VERSION,
            tool: ToolInfo {
                name: "holdfast".into(),
                version: "0".into(),
            },
            created_at: String::new(),
            db: None,
            summary: ScanSummary::of(std::slice::from_ref(&target)),
            targets: vec![target],
            registry: None,
            cluster: None,
            analysis: None,
        }
    }

    #[test]
    fn surviving_findings_decide_worst_first() {
        let low = Finding::new(FindingKind::Secret, "HF-SECRET-X", Severity::Low, "x");
        let high = Finding::new(FindingKind::Vulnerability, "CVE-1", Severity::High, "y");
        let r = result(vec![low, high]);
        let v = verdict(&Policy::default(), &r);
        assert!(v.fails());
        assert_eq!(v.exit_code(5), 5);
        let ids: Vec<&str> = v.deciders.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["CVE-1", "HF-SECRET-X"]);

        let strict = Policy {
            severities: vec![Severity::Critical],
            ..Policy::default()
        };
        let v = verdict(&strict, &r);
        assert!(!v.fails());
        assert_eq!(v.exit_code(5), 0);
    }

    #[test]
    fn exit_code_zero_never_fails_the_process() {
        let high = Finding::new(FindingKind::Vulnerability, "CVE-1", Severity::High, "y");
        assert_eq!(
            verdict(&Policy::default(), &result(vec![high])).exit_code(0),
            0
        );
    }
}
