//! PHP extensions installed with `pecl`: PEAR's registry of the `pecl.php.net` channel,
//! `.registry/.channel.pecl.php.net/NAME.reg` (in the official php images under
//! `/usr/local/lib/php/`), one PHP-`serialize()`d array per package.
//!
//! The package's `name`, `version` and `license` are read from either shape PEAR wrote:
//! package.xml 2.0 registries hold `version` as an array (`release`, `api`) and `license`
//! as a string or an array with `_content`; package.xml 1.0 ones hold `version` as a
//! string. Reported as type `pecl` with purl `pkg:pecl/NAME@VERSION`, as Syft does; OSV
//! has no PECL ecosystem, so no `ecosystem` is set.

use holdfast_model::{PackageType, Purl};

use crate::analyzer::{AnalyzeError, FileFact};
use crate::catalog::package::{lang_package, plausible_name, plausible_version};

/// The registry folder of the pecl channel.
const CHANNEL_DIR: &str = "/.registry/.channel.pecl.php.net/";
/// Nesting of serialized arrays followed.
const MAX_DEPTH: usize = 32;
/// Elements per array accepted (a registry entry has a few dozen).
const MAX_ELEMENTS: usize = 100_000;

/// Whether `path` is a pecl registry entry.
pub(super) fn wanted(path: &str) -> bool {
    path.ends_with(".reg") && path.contains(CHANNEL_DIR)
}

/// A PHP value as `serialize()` writes it; only what the registry needs is kept.
#[derive(Debug, Clone, PartialEq)]
enum Php {
    Str(String),
    /// Keys and values of an array (or an object's properties), in order.
    Array(Vec<(Php, Php)>),
    /// null, booleans and numbers: not needed here.
    Other,
}

impl Php {
    /// The value under a string key of an array.
    fn get(&self, key: &str) -> Option<&Php> {
        match self {
            Php::Array(items) => items
                .iter()
                .find(|(k, _)| matches!(k, Php::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Php::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// A cursor over serialized bytes.
struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn err(&self, what: &str) -> String {
        format!("{what} at byte {}", self.i)
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(&format!("expected `{}`", c as char)))
        }
    }

    /// Bytes up to (not including) `end`, which is consumed.
    fn until(&mut self, end: u8) -> Result<&[u8], String> {
        let start = self.i;
        let n = self.b[start..]
            .iter()
            .position(|&c| c == end)
            .ok_or_else(|| self.err(&format!("no `{}`", end as char)))?;
        self.i = start + n + 1;
        Ok(&self.b[start..start + n])
    }

    fn number(&mut self, end: u8) -> Result<usize, String> {
        let digits = self.until(end)?;
        std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| self.err("expected a length"))
    }

    /// `LEN:"BYTES"`.
    fn string(&mut self) -> Result<String, String> {
        let len = self.number(b':')?;
        self.expect(b'"')?;
        let end = self.i.checked_add(len).filter(|&e| e <= self.b.len());
        let end = end.ok_or_else(|| self.err("string longer than the file"))?;
        let s = String::from_utf8_lossy(&self.b[self.i..end]).into_owned();
        self.i = end;
        self.expect(b'"')?;
        Ok(s)
    }

    /// `N:{key value ...}`.
    fn array(&mut self, depth: usize) -> Result<Php, String> {
        let n = self.number(b':')?;
        if n > MAX_ELEMENTS {
            return Err(self.err("array too large"));
        }
        self.expect(b'{')?;
        let mut items = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            let k = self.value(depth + 1)?;
            let v = self.value(depth + 1)?;
            items.push((k, v));
        }
        self.expect(b'}')?;
        Ok(Php::Array(items))
    }

    fn value(&mut self, depth: usize) -> Result<Php, String> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deep"));
        }
        let tag = *self
            .b
            .get(self.i)
            .ok_or_else(|| self.err("unexpected end"))?;
        self.i += 1;
        match tag {
            b'N' => {
                self.expect(b';')?;
                Ok(Php::Other)
            }
            b'b' | b'i' | b'd' => {
                self.expect(b':')?;
                self.until(b';')?;
                Ok(Php::Other)
            }
            b's' => {
                self.expect(b':')?;
                let s = self.string()?;
                self.expect(b';')?;
                Ok(Php::Str(s))
            }
            b'a' => {
                self.expect(b':')?;
                self.array(depth)
            }
            // An object: `O:LEN:"CLASS":N:{...}`, read as its properties.
            b'O' => {
                self.expect(b':')?;
                self.string()?;
                self.expect(b':')?;
                self.array(depth)
            }
            _ => Err(self.err(&format!("unknown type `{}`", tag.escape_ascii()))),
        }
    }
}

/// Parses one registry entry.
pub(super) fn parse(bytes: &[u8], path: &str) -> Result<Vec<FileFact>, AnalyzeError> {
    let mut r = Reader { b: bytes, i: 0 };
    let root = r
        .value(0)
        .map_err(|e| AnalyzeError::Malformed(format!("not a PEAR registry entry: {e}")))?;
    let name = root.get("name").and_then(Php::as_str);
    // package.xml 2.0: `version => [release => ..., api => ...]`; 1.0: a string.
    let version = match root.get("version") {
        Some(Php::Str(v)) => Some(v.as_str()),
        Some(v @ Php::Array(_)) => v.get("release").and_then(Php::as_str),
        _ => None,
    };
    let (Some(name), Some(version)) = (name, version) else {
        return Err(AnalyzeError::Malformed(
            "PEAR registry entry without a name or version".into(),
        ));
    };
    if !plausible_name(name) || !plausible_version(version) {
        return Err(AnalyzeError::Malformed(format!(
            "PEAR registry entry with unusable name or version `{}` `{}`",
            crate::catalog::shorten(name, 64),
            crate::catalog::shorten(version, 64)
        )));
    }
    let license = match root.get("license") {
        Some(Php::Str(l)) => Some(l.clone()),
        Some(l @ Php::Array(_)) => l.get("_content").and_then(Php::as_str).map(str::to_string),
        _ => None,
    };
    let purl = Purl::new("pecl", name).version(version).to_string();
    let mut p = lang_package(PackageType::Pecl, name, version, purl, None, None, path);
    p.licenses = license
        .filter(|l| !l.is_empty() && l.len() <= 256)
        .into_iter()
        .collect();
    Ok(vec![FileFact::Packages(vec![p])])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ser(s: &str) -> String {
        format!("s:{}:\"{s}\";", s.len())
    }

    #[test]
    fn both_registry_shapes() {
        // package.xml 2.0, as `pecl install redis` writes it.
        let v2 = format!(
            "a:5:{{{}a:1:{{{}{}}}{}{}{}{}{}a:2:{{{}{}{}{}}}{}a:2:{{{}{}{}{}}}}}",
            ser("attribs"),
            ser("version"),
            ser("2.0"),
            ser("name"),
            ser("redis"),
            ser("channel"),
            ser("pecl.php.net"),
            ser("version"),
            ser("release"),
            ser("6.0.2"),
            ser("api"),
            ser("6.0.0"),
            ser("license"),
            ser("attribs"),
            "a:1:{s:3:\"uri\";N;}",
            ser("_content"),
            ser("PHP"),
        );
        let facts = parse(
            v2.as_bytes(),
            "/usr/local/lib/php/.registry/.channel.pecl.php.net/redis.reg",
        )
        .unwrap();
        let FileFact::Packages(p) = &facts[0] else {
            panic!()
        };
        assert_eq!(
            (
                p[0].name.as_str(),
                p[0].version.as_str(),
                p[0].purl.as_str()
            ),
            ("redis", "6.0.2", "pkg:pecl/redis@6.0.2")
        );
        assert_eq!(p[0].licenses, vec!["PHP"]);
        assert_eq!(p[0].package_type, PackageType::Pecl);

        // package.xml 1.0: the version is a string; integers and booleans are skipped.
        let v1 = format!(
            "a:4:{{{}{}{}{}{}i:3;{}b:1;}}",
            ser("name"),
            ser("xdebug"),
            ser("version"),
            ser("2.2.7"),
            ser("xsdversion"),
            ser("dirtree"),
        );
        let facts = parse(
            v1.as_bytes(),
            "/x/.registry/.channel.pecl.php.net/xdebug.reg",
        )
        .unwrap();
        let FileFact::Packages(p) = &facts[0] else {
            panic!()
        };
        assert_eq!(p[0].version, "2.2.7");
    }

    #[test]
    fn paths_and_malformed_entries() {
        assert!(wanted(
            "/usr/local/lib/php/.registry/.channel.pecl.php.net/redis.reg"
        ));
        assert!(!wanted("/usr/local/lib/php/.registry/archive_tar.reg"));
        for bad in [
            &b"not serialized"[..],
            b"a:1:{s:4:\"name\";s:99:\"short\";}",
            b"a:99999999:{",
            b"a:1:{s:4:\"name\";s:5:\"redis\";}",
            &"a:1:{".repeat(100).into_bytes(),
        ] {
            assert!(
                matches!(parse(bad, "/r.reg"), Err(AnalyzeError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
