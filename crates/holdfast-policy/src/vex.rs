//! OpenVEX documents (<https://github.com/openvex/spec>, `OPENVEX-SPEC.md`): statements
//! that a vulnerability does not affect a product (`not_affected`) or is `fixed` in it
//! suppress the matching findings; `affected` and `under_investigation` change nothing.
//!
//! A statement's product is matched to a finding through its package URL: the package
//! name and, when the purl has one, the version. A product that is the image itself
//! (`pkg:oci/...`, `pkg:docker/...`) without subcomponents covers every package in it.

use holdfast_model::Finding;
use serde_json::Value;

/// One statement that can suppress findings.
#[derive(Debug, Clone)]
pub struct VexStatement {
    /// The vulnerability id and its aliases as the statement names them.
    pub vulnerabilities: Vec<String>,
    /// Products as (name, version) from their purls; `None` name: the whole image.
    pub products: Vec<(Option<String>, Option<String>)>,
    /// The statement as written, kept on the findings it suppresses.
    pub raw: Value,
}

/// Why a VEX document could not be used.
#[derive(Debug, thiserror::Error)]
pub enum VexError {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not an OpenVEX document: {0}")]
    Shape(String),
}

/// Parses an OpenVEX document; returns the statements that suppress (not_affected, fixed).
pub fn parse(text: &str) -> Result<Vec<VexStatement>, VexError> {
    let doc: Value = serde_json::from_str(text)?;
    let statements = doc
        .get("statements")
        .and_then(Value::as_array)
        .ok_or_else(|| VexError::Shape("it has no `statements` array".into()))?;
    let mut out = Vec::new();
    for (i, st) in statements.iter().enumerate() {
        let status = st.get("status").and_then(Value::as_str).unwrap_or_default();
        if !matches!(status, "not_affected" | "fixed") {
            continue;
        }
        let mut vulnerabilities = Vec::new();
        match st.get("vulnerability") {
            Some(Value::String(s)) => vulnerabilities.push(s.clone()),
            Some(Value::Object(o)) => {
                for key in ["name", "@id"] {
                    if let Some(s) = o.get(key).and_then(Value::as_str) {
                        vulnerabilities.push(s.to_string());
                    }
                }
                if let Some(a) = o.get("aliases").and_then(Value::as_array) {
                    vulnerabilities.extend(a.iter().filter_map(Value::as_str).map(str::to_string));
                }
            }
            _ => {
                return Err(VexError::Shape(format!(
                    "statement {i} names no vulnerability"
                )))
            }
        }
        let mut products = Vec::new();
        for p in st
            .get("products")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (id, subs) = match p {
                Value::String(s) => (Some(s.as_str()), None),
                Value::Object(o) => (
                    o.get("@id").and_then(Value::as_str),
                    o.get("subcomponents").and_then(Value::as_array),
                ),
                _ => (None, None),
            };
            match subs.filter(|s| !s.is_empty()) {
                Some(subs) => {
                    for s in subs {
                        let sid = s.as_str().or_else(|| s.get("@id").and_then(Value::as_str));
                        if let Some(sid) = sid {
                            products.push(purl_name_version(sid));
                        }
                    }
                }
                None => {
                    if let Some(id) = id {
                        products.push(purl_name_version(id));
                    }
                }
            }
        }
        if products.is_empty() {
            return Err(VexError::Shape(format!("statement {i} names no product")));
        }
        out.push(VexStatement {
            vulnerabilities,
            products,
            raw: st.clone(),
        });
    }
    Ok(out)
}

/// The package name and version of a purl; image purls (`oci`, `docker`) give no name.
fn purl_name_version(purl: &str) -> (Option<String>, Option<String>) {
    let Some(rest) = purl.strip_prefix("pkg:") else {
        // Not a purl (an image reference, say): the statement covers the image.
        return (None, None);
    };
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let (path, version) = match rest.rsplit_once('@') {
        Some((p, v)) => (p, Some(decode(v))),
        None => (rest, None),
    };
    let ptype = path.split('/').next().unwrap_or_default();
    if matches!(ptype, "oci" | "docker") {
        return (None, None);
    }
    let name = path.rsplit('/').next().map(decode);
    (name, version)
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl VexStatement {
    /// Whether this statement covers the finding.
    pub fn covers(&self, f: &Finding) -> bool {
        let vuln = self
            .vulnerabilities
            .iter()
            .any(|v| *v == f.id || f.aliases.contains(v));
        vuln && self.products.iter().any(|(name, version)| match name {
            None => true,
            Some(n) => {
                f.package
                    .as_deref()
                    .is_some_and(|p| p.eq_ignore_ascii_case(n))
                    && version
                        .as_deref()
                        .is_none_or(|v| f.installed_version.as_deref() == Some(v))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls() {
        assert_eq!(
            purl_name_version("pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64"),
            (Some("libssl3".into()), Some("3.0.11-1~deb12u2".into()))
        );
        assert_eq!(
            purl_name_version("pkg:npm/%40babel/core@7.0.0")
                .0
                .as_deref(),
            Some("core")
        );
        assert_eq!(purl_name_version("pkg:oci/app@sha256%3Aabc"), (None, None));
        assert!(parse("{}").is_err());
        assert!(parse("nope").is_err());
    }
}
