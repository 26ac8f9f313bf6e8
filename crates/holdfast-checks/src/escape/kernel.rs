//! The host kernel's version against the container-escape CVE table.
//!
//! Kernel versions are compared as upstream `major.minor.patch` numbers taken from the
//! front of the release string (`6.1.0-18-amd64` → 6.1.0): distribution suffixes carry
//! no upstream meaning, which is why a match is reported as a lead to confirm.

use std::collections::BTreeMap;

use holdfast_model::{Finding, FindingKind, Severity};
use serde::Deserialize;

use crate::rules::RuleText;

/// The `kernel_cve` table and the words of its findings.
#[derive(Debug, Deserialize)]
pub(crate) struct KernelRules {
    kernel_cve: Vec<KernelCve>,
    kernel_text: RuleText,
}

#[derive(Debug, Deserialize)]
struct KernelCve {
    cve: String,
    name: String,
    introduced: String,
    fixed: String,
    #[serde(default)]
    backports: BTreeMap<String, String>,
    severity: Severity,
    why: String,
}

/// An upstream kernel version.
type Version = (u32, u32, u32);

/// The leading `major.minor[.patch]` of a kernel release string.
pub(crate) fn parse(release: &str) -> Option<Version> {
    let mut nums = [0u32; 3];
    let mut count = 0;
    for part in release.trim().split('.').take(3) {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            break;
        }
        nums[count] = digits.parse().ok()?;
        count += 1;
        if digits.len() != part.len() {
            break;
        }
    }
    (count >= 2).then_some((nums[0], nums[1], nums[2]))
}

impl KernelCve {
    /// Whether `v` is in the affected range; `None` when the table entry does not parse
    /// (a defect the tests catch).
    fn affects(&self, v: Version) -> Option<bool> {
        let introduced = parse(&self.introduced)?;
        let fixed = parse(&self.fixed)?;
        if v < introduced {
            return Some(false);
        }
        let branch = (v.0, v.1);
        let fixed_branch = (fixed.0, fixed.1);
        if branch > fixed_branch {
            return Some(false);
        }
        if branch == fixed_branch {
            return Some(v < fixed);
        }
        match self.backports.get(&format!("{}.{}", v.0, v.1)) {
            Some(b) => Some(v < parse(b)?),
            // An older branch with no fixed release listed: affected.
            None => Some(true),
        }
    }
}

impl KernelRules {
    /// One finding per CVE whose affected range holds `release`.
    pub(crate) fn check(&self, release: &str) -> Vec<Finding> {
        let Some(v) = parse(release) else {
            return Vec::new();
        };
        self.kernel_cve
            .iter()
            .filter(|c| c.affects(v) == Some(true))
            .map(|c| {
                let t = &self.kernel_text;
                let mut f = t.finding(FindingKind::Escape);
                f.id = format!("{}-{}", t.id, c.cve);
                f.severity = c.severity;
                f.title = format!(
                    "Host kernel {release} may be affected by {} ({})",
                    c.cve, c.name
                );
                f.description = format!(
                    "{}: {}. The kernel reports {release}; {} is fixed upstream in {}{}. {}",
                    c.cve,
                    c.why,
                    c.name,
                    c.fixed,
                    backports_text(&c.backports),
                    t.description
                );
                f.aliases = vec![c.cve.clone()];
                f.evidence = Some(format!("kernel {release}"));
                f
            })
            .collect()
    }

    #[cfg(test)]
    pub(crate) fn entries(&self) -> usize {
        self.kernel_cve.len()
    }
}

fn backports_text(b: &BTreeMap<String, String>) -> String {
    if b.is_empty() {
        return String::new();
    }
    let list: Vec<&str> = b.values().map(String::as_str).collect();
    format!(" and in the stable releases {}", list.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escape::RULES;

    fn ids(release: &str) -> Vec<String> {
        RULES
            .kernel
            .check(release)
            .into_iter()
            .map(|f| f.id)
            .collect()
    }

    #[test]
    fn versions_parse() {
        assert_eq!(parse("6.1.0-18-amd64"), Some((6, 1, 0)));
        assert_eq!(parse("5.15.0-91-generic"), Some((5, 15, 0)));
        assert_eq!(parse("6.18.44-fc-v657"), Some((6, 18, 44)));
        assert_eq!(parse("4.9"), Some((4, 9, 0)));
        assert_eq!(parse("5.10.0+"), Some((5, 10, 0)));
        assert_eq!(parse("linux"), None);
        assert_eq!(parse("6"), None);
    }

    #[test]
    fn every_entry_parses() {
        for c in &RULES.kernel.kernel_cve {
            assert!(
                parse(&c.introduced).is_some() && parse(&c.fixed).is_some(),
                "{}",
                c.cve
            );
            for b in c.backports.values() {
                assert!(parse(b).is_some(), "{} {b}", c.cve);
            }
        }
        assert!(RULES.kernel.entries() >= 5);
    }

    #[test]
    fn ranges_with_backports() {
        // Dirty Pipe: 5.8 up to 5.16.11, fixed in 5.15.25 and 5.10.102.
        assert!(ids("5.16.10").contains(&"HF-ESCAPE-KERNEL-CVE-2022-0847".to_string()));
        assert!(!ids("5.16.11").contains(&"HF-ESCAPE-KERNEL-CVE-2022-0847".to_string()));
        assert!(ids("5.10.101").contains(&"HF-ESCAPE-KERNEL-CVE-2022-0847".to_string()));
        assert!(!ids("5.10.102").contains(&"HF-ESCAPE-KERNEL-CVE-2022-0847".to_string()));
        assert!(!ids("5.4.250").contains(&"HF-ESCAPE-KERNEL-CVE-2022-0847".to_string()));
        // A branch without a listed fix, inside the range, is affected (5.13).
        assert!(ids("5.13.19").contains(&"HF-ESCAPE-KERNEL-CVE-2022-0847".to_string()));
        // Dirty COW on an old kernel.
        assert!(
            ids("3.10.0-1160.el7.x86_64").contains(&"HF-ESCAPE-KERNEL-CVE-2016-5195".to_string())
        );
        assert!(!ids("4.4.26").contains(&"HF-ESCAPE-KERNEL-CVE-2016-5195".to_string()));
        // Recent kernels match nothing.
        assert!(ids("6.18.44-fc-v657").is_empty());
        assert!(ids("6.8.0").is_empty());
        // Debian 12's ABI version matches the 6.1 entries: a lead, as the text says.
        let debian = RULES.kernel.check("6.1.0-18-amd64");
        assert_eq!(debian.len(), 1);
        assert!(debian[0].description.contains("backport"));
    }
}
