//! Package-name normalisation that must agree between the catalogers that report a
//! package and the database that matches it.

/// A Python package name normalized as PEP 503 says: every run of `-`, `_` and `.`
/// becomes one `-`, and the whole is lower-cased (`Foo__Bar.baz` → `foo-bar-baz`).
///
/// This is the name PyPI, its purls (`pkg:pypi/...`) and OSV's `PyPI` records compare by.
/// Nothing is trimmed: callers that take names from loose text trim them first.
pub fn pep503_normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.extend(c.to_lowercase());
            in_sep = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_normalizes_runs() {
        // The cataloger's cases.
        assert_eq!(pep503_normalize("PyYAML"), "pyyaml");
        assert_eq!(pep503_normalize("zope.interface"), "zope-interface");
        assert_eq!(pep503_normalize("Foo__Bar-.-baz"), "foo-bar-baz");
        // The matcher's cases.
        assert_eq!(pep503_normalize("Django"), "django");
        assert_eq!(pep503_normalize("Foo__Bar-.baz"), "foo-bar-baz");
    }

    #[test]
    fn pep503_edges() {
        assert_eq!(pep503_normalize(""), "");
        assert_eq!(pep503_normalize("-_."), "-");
        assert_eq!(pep503_normalize("_a_"), "-a-");
        assert_eq!(pep503_normalize(" A "), " a ");
        assert_eq!(pep503_normalize("ÀB"), "àb");
    }
}
