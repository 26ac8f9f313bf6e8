//! `s3://BUCKET[/PREFIX]`: which bucket holds the fleet's cache, and under which prefix.
//!
//! Only the bucket and the prefix come from the URL; the endpoint, the region and the
//! credentials come from the environment (see the crate documentation). User information
//! in a URL (`s3://key:secret@bucket`) is refused, and replaced by `***` in the message, so
//! a secret typed into a flag never reaches a log.

use std::fmt;

use crate::Error;

/// A parsed cache URL: a bucket and a key prefix inside it (possibly empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheUrl {
    bucket: String,
    prefix: String,
}

impl CacheUrl {
    /// Parses `s3://BUCKET[/PREFIX]`. The scheme is case-insensitive; slashes around the
    /// prefix are dropped; a bucket must follow S3's naming rules and every prefix segment
    /// must be a plain name (not empty, `.` or `..`, no control character).
    pub fn parse(url: &str) -> Result<Self, Error> {
        let shown = scrub(url);
        let malformed = |reason: &str| Error::Malformed {
            url: shown.clone(),
            reason: reason.to_string(),
        };
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(Error::UnsupportedScheme { url: shown });
        };
        if !scheme.eq_ignore_ascii_case("s3") {
            return Err(Error::UnsupportedScheme { url: shown });
        }
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.contains('@') {
            return Err(malformed(
                "credentials do not belong in the URL; set AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY instead",
            ));
        }
        if prefix.contains(['?', '#']) || bucket.contains(['?', '#']) {
            return Err(malformed("queries and fragments are not supported"));
        }
        if let Some(reason) = bucket_problem(bucket) {
            return Err(malformed(&reason));
        }
        let prefix = prefix.trim_matches('/');
        if !prefix.is_empty() {
            for segment in prefix.split('/') {
                if segment.is_empty() || segment == "." || segment == ".." {
                    return Err(malformed(&format!(
                        "the prefix `{prefix}` has an empty, `.` or `..` segment"
                    )));
                }
                if segment.chars().any(char::is_control) {
                    return Err(malformed("the prefix has a control character"));
                }
            }
            // object_store has rules of its own for a path; say so here, not at first use.
            object_store::path::Path::parse(prefix)
                .map_err(|e| malformed(&format!("the prefix is not an object path: {e}")))?;
        }
        Ok(CacheUrl {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The prefix every object name starts with, without slashes around it; empty for the
    /// bucket's root.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The name of the object that holds the cache entry `key` (a name relative to the
    /// cache directory, such as `layers/SET/sha256-HEX.zst`).
    pub fn object_name(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }
}

/// `s3://BUCKET` or `s3://BUCKET/PREFIX`, normalized; holds no credential.
impl fmt::Display for CacheUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}", self.bucket)?;
        if !self.prefix.is_empty() {
            write!(f, "/{}", self.prefix)?;
        }
        Ok(())
    }
}

/// What is wrong with a bucket name, by S3's rules for general purpose buckets
/// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>):
/// 3 to 63 lowercase letters, digits, dots and hyphens, beginning and ending with a letter
/// or digit.
fn bucket_problem(bucket: &str) -> Option<String> {
    if bucket.is_empty() {
        return Some("no bucket name after s3://".to_string());
    }
    let shape_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    (!shape_ok).then(|| {
        format!(
            "`{}` is not a bucket name (3 to 63 lowercase letters, digits, dots and hyphens, \
             beginning and ending with a letter or digit)",
            bucket.escape_debug()
        )
    })
}

/// The URL for messages: user information (anything before an `@` in the authority)
/// replaced by `***`, control characters escaped.
fn scrub(url: &str) -> String {
    let (head, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => format!("***{}", &authority[at..]),
        None => authority.to_string(),
    };
    format!("{head}{authority}{tail}")
        .escape_debug()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> (String, String, String) {
        let u = CacheUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        (
            u.bucket().to_string(),
            u.prefix().to_string(),
            u.to_string(),
        )
    }

    fn err(url: &str) -> String {
        CacheUrl::parse(url).expect_err(url).to_string()
    }

    #[test]
    fn bucket_and_prefix() {
        assert_eq!(
            ok("s3://fleet-cache"),
            ("fleet-cache".into(), "".into(), "s3://fleet-cache".into())
        );
        assert_eq!(ok("s3://fleet-cache/").1, "");
        assert_eq!(
            ok("S3://fleet.cache-1/holdfast/prod/"),
            (
                "fleet.cache-1".into(),
                "holdfast/prod".into(),
                "s3://fleet.cache-1/holdfast/prod".into()
            )
        );
        let u = CacheUrl::parse("s3://abc/p").unwrap();
        assert_eq!(
            u.object_name("layers/k/sha256-aa.zst"),
            "p/layers/k/sha256-aa.zst"
        );
        let root = CacheUrl::parse("s3://abc").unwrap();
        assert_eq!(
            root.object_name("layers/k/sha256-aa.zst"),
            "layers/k/sha256-aa.zst"
        );
    }

    #[test]
    fn other_schemes_are_refused_naming_the_url() {
        for url in [
            "gs://bucket/x",
            "https://s3.amazonaws.com/bucket",
            "/var/cache",
            "bucket",
        ] {
            let e = err(url);
            assert!(
                e.contains(&format!("`{url}`")) && e.contains("s3://BUCKET"),
                "{e}"
            );
        }
    }

    #[test]
    fn malformed_urls_say_what_is_wrong() {
        for (url, says) in [
            ("s3://", "no bucket name"),
            ("s3:///prefix", "no bucket name"),
            ("s3://ab", "not a bucket name"),
            ("s3://Fleet", "not a bucket name"),
            ("s3://-fleet", "not a bucket name"),
            ("s3://fleet_cache", "not a bucket name"),
            ("s3://fleet/a//b", "empty, `.` or `..` segment"),
            ("s3://fleet/a/../b", "empty, `.` or `..` segment"),
            ("s3://fleet/a?versionId=1", "queries"),
            ("s3://fleet/a\u{7}", "control character"),
        ] {
            let e = err(url);
            assert!(
                e.contains("malformed cache URL") && e.contains(says),
                "{url}: {e}"
            );
        }
    }

    #[test]
    fn credentials_in_the_url_are_refused_and_never_shown() {
        let e = err("s3://AKIAEXAMPLE:s3cr3t@fleet/prefix");
        assert!(e.contains("AWS_ACCESS_KEY_ID"), "{e}");
        assert!(e.contains("`s3://***@fleet/prefix`"), "{e}");
        assert!(!e.contains("s3cr3t") && !e.contains("AKIAEXAMPLE"), "{e}");
        let e = err("gs://user:pw@bucket");
        assert!(!e.contains("pw"), "{e}");
    }
}
