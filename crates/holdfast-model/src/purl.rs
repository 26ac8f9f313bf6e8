//! Package URLs, written per the purl specification
//! (<https://github.com/package-url/purl-spec>, `PURL-SPECIFICATION.rst`).

use std::fmt::{self, Write};

/// A package URL under construction; `to_string()` renders the canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl {
    purl_type: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    qualifiers: Vec<(String, String)>,
    subpath: Option<String>,
}

impl Purl {
    /// Starts a purl of the given type (`deb`, `rpm`, `pypi`, ...) and name.
    pub fn new(purl_type: &str, name: &str) -> Self {
        Purl {
            purl_type: purl_type.to_ascii_lowercase(),
            namespace: None,
            name: name.to_string(),
            version: None,
            qualifiers: Vec::new(),
            subpath: None,
        }
    }

    /// Sets the namespace (`debian`, `alpine`, a Maven group id, an npm scope).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        let ns = namespace.into();
        self.namespace = (!ns.is_empty()).then_some(ns);
        self
    }

    /// Sets the version.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Adds a qualifier; empty values are dropped, as the spec requires.
    pub fn qualifier(mut self, key: &str, value: impl Into<String>) -> Self {
        let value = value.into();
        if !value.is_empty() {
            self.qualifiers.push((key.to_ascii_lowercase(), value));
        }
        self
    }

    /// Adds a qualifier when the value is present.
    pub fn qualifier_opt(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.qualifier(key, v),
            None => self,
        }
    }

    /// Sets the subpath.
    pub fn subpath(mut self, subpath: impl Into<String>) -> Self {
        self.subpath = Some(subpath.into());
        self
    }
}

/// Percent-encodes everything but the characters the purl spec leaves bare in a segment.
fn encode(out: &mut String, s: &str, keep: &[u8]) {
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::with_capacity(64);
        out.push_str("pkg:");
        out.push_str(&self.purl_type);
        out.push('/');
        if let Some(ns) = &self.namespace {
            for (i, seg) in ns.split('/').filter(|s| !s.is_empty()).enumerate() {
                if i > 0 {
                    out.push('/');
                }
                encode(&mut out, seg, b"");
            }
            out.push('/');
        }
        encode(&mut out, &self.name, b"");
        if let Some(v) = &self.version {
            out.push('@');
            // ':' is allowed in versions (Debian epochs) and kept readable.
            encode(&mut out, v, b":+");
        }
        if !self.qualifiers.is_empty() {
            let mut qs = self.qualifiers.clone();
            qs.sort();
            out.push('?');
            for (i, (k, v)) in qs.iter().enumerate() {
                if i > 0 {
                    out.push('&');
                }
                out.push_str(k);
                out.push('=');
                encode(&mut out, v, b":/+");
            }
        }
        if let Some(sp) = &self.subpath {
            out.push('#');
            encode(&mut out, sp.trim_matches('/'), b"/");
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::Purl;

    #[test]
    fn deb_with_tilde_and_qualifiers() {
        let p = Purl::new("deb", "openssl")
            .namespace("debian")
            .version("3.0.11-1~deb12u2")
            .qualifier("distro", "debian-12")
            .qualifier("arch", "amd64");
        assert_eq!(
            p.to_string(),
            "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"
        );
    }

    #[test]
    fn epoch_colon_kept_and_empty_qualifier_dropped() {
        let p = Purl::new("deb", "zlib1g")
            .namespace("debian")
            .version("1:1.2.13.dfsg-1")
            .qualifier("arch", "");
        assert_eq!(p.to_string(), "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1");
    }

    #[test]
    fn npm_scope_is_encoded() {
        let p = Purl::new("npm", "core")
            .namespace("@babel")
            .version("7.0.0");
        assert_eq!(p.to_string(), "pkg:npm/%40babel/core@7.0.0");
    }
}
