//! The part of the OSV schema (<https://ossf.github.io/osv-schema/>, 1.6) this crate reads.
//!
//! Fields the database does not keep are not declared, so serde skips them without
//! building values (Go's `ecosystem_specific.imports`, `credits`, ...). Every list may be
//! absent or `null` in real feeds; both read as empty.

use serde::{Deserialize, Deserializer, Serialize};

/// One OSV record (the top-level object of a `.json` file).
#[derive(Debug, Deserialize)]
pub(crate) struct Advisory {
    /// `id`: required by the schema (checked after parsing, for a better warning).
    #[serde(default)]
    pub id: String,
    /// `modified`: required by the schema (RFC 3339); checked after parsing.
    #[serde(default)]
    pub modified: String,
    /// `published` (RFC 3339).
    #[serde(default)]
    pub published: Option<String>,
    /// `withdrawn` (RFC 3339): present when the record was retracted.
    #[serde(default)]
    pub withdrawn: Option<String>,
    /// `aliases`: ids of the same vulnerability in other databases.
    #[serde(default, deserialize_with = "null_default")]
    pub aliases: Vec<String>,
    /// `related`: ids of related, but different, vulnerabilities.
    #[serde(default, deserialize_with = "null_default")]
    pub related: Vec<String>,
    /// `summary`: one line.
    #[serde(default)]
    pub summary: Option<String>,
    /// `details`: CommonMark.
    #[serde(default)]
    pub details: Option<String>,
    /// `severity[]`: `{type, score}` pairs (CVSS vectors, or an `Ubuntu` rating).
    #[serde(default, deserialize_with = "null_default")]
    pub severity: Vec<SeverityEntry>,
    /// `affected[]`.
    #[serde(default, deserialize_with = "null_default")]
    pub affected: Vec<Affected>,
    /// `references[]`.
    #[serde(default, deserialize_with = "null_default")]
    pub references: Vec<Reference>,
    /// `database_specific`: free-form; GHSA puts `severity` here.
    #[serde(default)]
    pub database_specific: Option<Specific>,
}

/// One element of `severity[]` or `affected[].severity[]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct SeverityEntry {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4` or `Ubuntu`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A vector string for CVSS types, a word for `Ubuntu`.
    pub score: String,
}

/// One element of `references[]`.
#[derive(Debug, Deserialize)]
pub(crate) struct Reference {
    /// `url`.
    #[serde(default)]
    pub url: Option<String>,
}

/// The keys of `database_specific` / `ecosystem_specific` objects that rate a record.
///
/// The values are free-form in the schema, so they are kept as JSON and read leniently.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Specific {
    /// GHSA and others: `"HIGH"`, `"MODERATE"`, ...; Go's old `ecosystem_specific`.
    #[serde(default)]
    pub severity: Option<serde_json::Value>,
    /// Debian security tracker urgency (`affected[].ecosystem_specific.urgency`).
    #[serde(default)]
    pub urgency: Option<serde_json::Value>,
    /// Node security WG records: a bare CVSS score.
    #[serde(default)]
    pub cvss_score: Option<serde_json::Value>,
}

/// One element of `affected[]`.
#[derive(Debug, Deserialize)]
pub(crate) struct Affected {
    /// `package`: `{ecosystem, name, purl}`; absent in records that only list GIT ranges.
    #[serde(default)]
    pub package: Option<PackageRef>,
    /// `affected[].severity[]`: overrides the top-level `severity` for this package.
    #[serde(default, deserialize_with = "null_default")]
    pub severity: Vec<SeverityEntry>,
    /// `affected[].ranges[]`.
    #[serde(default, deserialize_with = "null_default")]
    pub ranges: Vec<Range>,
    /// `affected[].versions[]`: every affected version, enumerated.
    #[serde(default, deserialize_with = "null_default")]
    pub versions: Vec<String>,
    /// `affected[].ecosystem_specific`.
    #[serde(default)]
    pub ecosystem_specific: Option<Specific>,
    /// `affected[].database_specific`.
    #[serde(default)]
    pub database_specific: Option<Specific>,
}

/// `affected[].package`.
#[derive(Debug, Deserialize)]
pub(crate) struct PackageRef {
    /// `ecosystem`, e.g. `Debian:12`, `PyPI`.
    #[serde(default)]
    pub ecosystem: String,
    /// `name`: the ecosystem's package name (Debian: the source package).
    #[serde(default)]
    pub name: String,
}

/// `affected[].ranges[]`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Range {
    /// `type`: `SEMVER`, `ECOSYSTEM` or `GIT`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `events[]`, in the order the record gives them.
    #[serde(default, deserialize_with = "null_default")]
    pub events: Vec<Event>,
}

/// `affected[].ranges[].events[]`: exactly one of the four keys is set in a valid record.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Event {
    /// `introduced`: `"0"` means before every version.
    #[serde(default)]
    pub introduced: Option<String>,
    /// `fixed`: the first version without the vulnerability.
    #[serde(default)]
    pub fixed: Option<String>,
    /// `last_affected`: the last version known to have it.
    #[serde(default)]
    pub last_affected: Option<String>,
    /// `limit`: an upper bound of the range (`"*"` is infinity).
    #[serde(default)]
    pub limit: Option<String>,
}

/// Reads `null` as the type's default, so `"related": null` is an empty list.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
