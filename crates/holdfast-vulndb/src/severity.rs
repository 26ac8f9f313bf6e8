//! How bad an advisory is: CVSS vectors scored with the `cvss` crate, else the words
//! databases use.
//!
//! Computed once per `affected[]` entry at build time and stored, so matching never
//! parses a vector. The order of preference (first hit wins):
//!
//! 1. a CVSS v3.x vector, then a v4.0 vector, in `affected[].severity[]` (which the
//!    schema says replaces the top-level field for that package), then in the top-level
//!    `severity[]`;
//! 2. `database_specific.severity` (GHSA: `LOW`, `MODERATE`, `HIGH`, `CRITICAL`), of the
//!    entry then of the record, and an `Ubuntu` entry of `severity[]`;
//! 3. a bare score: `database_specific.cvss_score` (Node security WG records);
//! 4. `affected[].ecosystem_specific.severity` / `.urgency` (Debian's urgency:
//!    `unimportant`, `low`, `medium`, `high`);
//! 5. a CVSS v2 vector, scored, only when nothing above rated the record.
//!
//! Scores map to [`Severity`] by the CVSS v3/v4 qualitative bands (0.1–3.9 low, 4.0–6.9
//! medium, 7.0–8.9 high, 9.0–10.0 critical); a 0.0 score is low.

use std::str::FromStr;

use holdfast_model::Severity;

use crate::osv::{SeverityEntry, Specific};

/// A rating with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rating {
    pub severity: Severity,
    /// The CVSS vector the score was computed from.
    pub vector: Option<String>,
    pub score: Option<f64>,
    /// Which field decided: `CVSS_V3`, `CVSS_V4`, `CVSS_V2`, `database_specific`,
    /// `cvss_score`, `Ubuntu`, `ecosystem_specific`; empty for no rating.
    pub source: &'static str,
}

impl Rating {
    fn unknown() -> Self {
        Rating {
            severity: Severity::Unknown,
            vector: None,
            score: None,
            source: "",
        }
    }
}

/// Everything that may rate one `affected[]` entry of a record.
pub(crate) struct RatingInputs<'a> {
    pub affected_severity: &'a [SeverityEntry],
    pub top_severity: &'a [SeverityEntry],
    pub affected_database: Option<&'a Specific>,
    pub top_database: Option<&'a Specific>,
    pub affected_ecosystem: Option<&'a Specific>,
}

/// Rates one `affected[]` entry; see the module docs for the order.
pub(crate) fn rate(inp: &RatingInputs<'_>) -> Rating {
    // 1. CVSS v3, then v4: the package-level list first.
    for list in [inp.affected_severity, inp.top_severity] {
        for kind in ["CVSS_V3", "CVSS_V4"] {
            for e in list.iter().filter(|e| e.kind == kind) {
                if let Some(r) = score_vector(&e.score, kind) {
                    return r;
                }
            }
        }
    }
    // 2. Words: database_specific.severity, then an Ubuntu priority.
    for spec in [inp.affected_database, inp.top_database]
        .into_iter()
        .flatten()
    {
        if let Some(sev) = spec.severity.as_ref().and_then(json_word) {
            return word_rating(sev, "database_specific");
        }
    }
    for list in [inp.affected_severity, inp.top_severity] {
        for e in list.iter().filter(|e| e.kind == "Ubuntu") {
            if let Some(sev) = severity_word(&e.score) {
                return word_rating(sev, "Ubuntu");
            }
        }
    }
    // 3. A bare score.
    for spec in [inp.affected_database, inp.top_database]
        .into_iter()
        .flatten()
    {
        if let Some(score) = spec.cvss_score.as_ref().and_then(json_score) {
            return Rating {
                severity: band(score),
                vector: None,
                score: Some(score),
                source: "cvss_score",
            };
        }
    }
    // 4. The ecosystem's own scale (Debian urgency, Go's former severity).
    if let Some(spec) = inp.affected_ecosystem {
        for v in [&spec.severity, &spec.urgency].into_iter().flatten() {
            if let Some(sev) = json_word(v) {
                return word_rating(sev, "ecosystem_specific");
            }
        }
    }
    // 5. CVSS v2 as a last resort.
    for list in [inp.affected_severity, inp.top_severity] {
        for e in list.iter().filter(|e| e.kind == "CVSS_V2") {
            if let Some(r) = score_vector(&e.score, "CVSS_V2") {
                return r;
            }
        }
    }
    Rating::unknown()
}

fn word_rating(severity: Severity, source: &'static str) -> Rating {
    Rating {
        severity,
        vector: None,
        score: None,
        source,
    }
}

/// Scores a vector with the `cvss` crate; `None` if it does not parse or is not of the
/// version `kind` announces.
pub(crate) fn score_vector(vector: &str, kind: &'static str) -> Option<Rating> {
    // Vectors are short; anything long is not one (and is not worth parsing).
    if vector.len() > 512 {
        return None;
    }
    let parsed = cvss::Cvss::from_str(vector.trim()).ok()?;
    let ok = matches!(
        (&parsed, kind),
        (cvss::Cvss::CvssV30(_) | cvss::Cvss::CvssV31(_), "CVSS_V3")
            | (cvss::Cvss::CvssV40(_), "CVSS_V4")
            | (cvss::Cvss::CvssV20(_), "CVSS_V2")
    );
    if !ok {
        return None;
    }
    let score = parsed.score();
    if !score.is_finite() {
        return None;
    }
    let severity = if kind == "CVSS_V2" {
        band_v2(score)
    } else {
        band(score)
    };
    Some(Rating {
        severity,
        vector: Some(vector.trim().to_string()),
        score: Some(score),
        source: kind,
    })
}

/// CVSS v3.x / v4.0 qualitative severity bands.
pub(crate) fn band(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score >= 0.0 {
        Severity::Low
    } else {
        Severity::Unknown
    }
}

/// CVSS v2 bands (NVD): low below 4.0, medium below 7.0, high above; no critical.
fn band_v2(score: f64) -> Severity {
    match band(score) {
        Severity::Critical => Severity::High,
        s => s,
    }
}

fn json_word(v: &serde_json::Value) -> Option<Severity> {
    v.as_str().and_then(severity_word)
}

fn json_score(v: &serde_json::Value) -> Option<f64> {
    let s = match v {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (0.0..=10.0).contains(&s).then_some(s)
}

/// Maps the words databases use to a [`Severity`]; `None` for "not yet assigned" and
/// other non-ratings, so a later source can still rate the record.
pub(crate) fn severity_word(word: &str) -> Option<Severity> {
    // Debian's tracker marks guessed urgencies with a trailing `*`.
    let w = word
        .trim()
        .trim_end_matches('*')
        .trim()
        .to_ascii_lowercase();
    Some(match w.as_str() {
        "critical" => Severity::Critical,
        "high" | "important" => Severity::High,
        "moderate" | "medium" => Severity::Medium,
        "low" | "negligible" | "unimportant" => Severity::Low,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, score: &str) -> SeverityEntry {
        SeverityEntry {
            kind: kind.into(),
            score: score.into(),
        }
    }

    fn inputs<'a>(top: &'a [SeverityEntry], db: Option<&'a Specific>) -> RatingInputs<'a> {
        RatingInputs {
            affected_severity: &[],
            top_severity: top,
            affected_database: None,
            top_database: db,
            affected_ecosystem: None,
        }
    }

    #[test]
    fn cvss_v3_and_v4_are_scored() {
        let v3 = [entry(
            "CVSS_V3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        )];
        let r = rate(&inputs(&v3, None));
        assert_eq!(
            (r.severity, r.score, r.source),
            (Severity::Critical, Some(9.8), "CVSS_V3")
        );
        let v4 = [entry(
            "CVSS_V4",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N",
        )];
        let r = rate(&inputs(&v4, None));
        assert_eq!(r.source, "CVSS_V4");
        assert_eq!(r.severity, band(r.score.unwrap()));
        assert_eq!(r.vector.as_deref(), Some(v4[0].score.as_str()));
    }

    #[test]
    fn v2_falls_back_to_database_specific_then_to_its_own_score() {
        let v2 = [entry("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P")];
        let db = Specific {
            severity: Some("MODERATE".into()),
            ..Default::default()
        };
        let r = rate(&inputs(&v2, Some(&db)));
        assert_eq!(
            (r.severity, r.source),
            (Severity::Medium, "database_specific")
        );
        let r = rate(&inputs(&v2, None));
        assert_eq!(
            (r.severity, r.score, r.source),
            (Severity::High, Some(7.5), "CVSS_V2")
        );
    }

    #[test]
    fn words_and_bad_vectors() {
        assert_eq!(severity_word("MODERATE"), Some(Severity::Medium));
        assert_eq!(severity_word("low*"), Some(Severity::Low));
        assert_eq!(severity_word("unimportant"), Some(Severity::Low));
        assert_eq!(severity_word("not yet assigned"), None);
        let bad = [entry("CVSS_V3", "CVSS:3.1/AV:Q")];
        assert_eq!(rate(&inputs(&bad, None)).severity, Severity::Unknown);
        // A v4 vector filed as CVSS_V3 is not trusted.
        let wrong = [entry(
            "CVSS_V3",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N",
        )];
        assert_eq!(rate(&inputs(&wrong, None)).source, "");
        assert_eq!(band(0.0), Severity::Low);
        assert_eq!(band(3.9), Severity::Low);
        assert_eq!(band(4.0), Severity::Medium);
        assert_eq!(band(8.9), Severity::High);
        assert_eq!(band(9.0), Severity::Critical);
    }
}
