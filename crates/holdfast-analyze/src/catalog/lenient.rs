//! Lenient leaves for the catalogers that deserialize JSON and TOML (`package.json`,
//! `package-lock.json`, `Pipfile.lock`, `composer.lock`, `installed.json`, `poetry.lock`,
//! `uv.lock`, `pdm.lock`).
//!
//! The structure of a manifest (an object of objects) is deserialized with serde into small
//! structs, so only the fields used are kept in memory. Leaves, though, come in whatever
//! type the author wrote: a `version` that is a number, a `license` that is an object. These
//! wrappers take the expected type and drain anything else into nothing, so one odd field
//! does not make the whole file unreadable. Draining goes through the deserializer, so its
//! nesting limit applies (serde_json's 128 levels; the toml parser's own bound), and
//! hostile nesting cannot overflow the stack.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Visitor methods that turn the listed JSON value kinds into `$none`, draining arrays and
/// objects through serde_json (so its recursion limit applies).
macro_rules! other_kinds_are {
    ($t:ty, $none:expr; $($kind:ident)*) => {
        $(other_kinds_are!(@one $t, $none, $kind);)*
    };
    (@one $t:ty, $none:expr, scalars) => {
        other_kinds_are!(@one $t, $none, bool);
        other_kinds_are!(@one $t, $none, numbers);
    };
    (@one $t:ty, $none:expr, bool) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<$t, E> {
            Ok($none)
        }
    };
    (@one $t:ty, $none:expr, numbers) => {
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<$t, E> {
            Ok($none)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<$t, E> {
            Ok($none)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<$t, E> {
            Ok($none)
        }
        fn visit_unit<E: de::Error>(self) -> Result<$t, E> {
            Ok($none)
        }
        fn visit_none<E: de::Error>(self) -> Result<$t, E> {
            Ok($none)
        }
    };
    (@one $t:ty, $none:expr, str) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<$t, E> {
            Ok($none)
        }
    };
    (@one $t:ty, $none:expr, seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<$t, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($none)
        }
    };
    (@one $t:ty, $none:expr, map) => {
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$t, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok($none)
        }
    };
}

/// A string when the JSON value is one; `None` for anything else.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct JStr(pub Option<String>);

impl JStr {
    /// The string, if the value was one.
    pub(crate) fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

struct JStrVisitor;

impl<'de> Visitor<'de> for JStrVisitor {
    type Value = JStr;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<JStr, E> {
        Ok(JStr(Some(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<JStr, E> {
        Ok(JStr(Some(v)))
    }
    other_kinds_are!(JStr, JStr(None); scalars seq map);
}

impl<'de> Deserialize<'de> for JStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JStrVisitor)
    }
}

/// `true` only when the JSON value is the literal `true`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JBool(pub bool);

impl<'de> Deserialize<'de> for JBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JBool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<JBool, E> {
                Ok(JBool(v))
            }
            other_kinds_are!(JBool, JBool(false); numbers str seq map);
        }
        d.deserialize_any(V)
    }
}

/// The keys of a JSON object (`"dependencies": {"a": "^1"}` → `["a"]`); empty for
/// anything else. Values are not kept.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct JKeys(pub Vec<String>);

impl<'de> Deserialize<'de> for JKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JKeys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JKeys, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, IgnoredAny)) = map.next_entry::<JStr, IgnoredAny>()? {
                    if let Some(k) = k.0 {
                        keys.push(k);
                    }
                }
                Ok(JKeys(keys))
            }
            other_kinds_are!(JKeys, JKeys::default(); scalars str seq);
        }
        d.deserialize_any(V)
    }
}

/// Strings from a value that is a string or an array of strings (other items dropped).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct JStrs(pub Vec<String>);

impl<'de> Deserialize<'de> for JStrs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JStrs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<JStrs, E> {
                Ok(JStrs(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JStrs, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<JStr>()? {
                    if let Some(s) = s.0 {
                        out.push(s);
                    }
                }
                Ok(JStrs(out))
            }
            other_kinds_are!(JStrs, JStrs::default(); scalars map);
        }
        d.deserialize_any(V)
    }
}

/// npm's license fields: `"license": "MIT"`, the deprecated `"license": {"type": "MIT"}`,
/// and `"licenses": [{"type": "MIT"}, "ISC"]`; composer's `"license": ["MIT"]`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct JLicenses(pub Vec<String>);

impl<'de> Deserialize<'de> for JLicenses {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JLicenses;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<JLicenses, E> {
                Ok(JLicenses(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JLicenses, A::Error> {
                let mut out = Vec::new();
                // Items are strings or `{type}` objects; each item is itself a JLicenses
                // of at most one entry, which keeps the nesting bounded by serde_json.
                while let Some(item) = seq.next_element::<JLicenseItem>()? {
                    if let Some(s) = item.0 {
                        out.push(s);
                    }
                }
                Ok(JLicenses(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<JLicenses, A::Error> {
                Ok(JLicenses(license_type(map)?.into_iter().collect()))
            }
            other_kinds_are!(JLicenses, JLicenses::default(); scalars);
        }
        d.deserialize_any(V)
    }
}

/// One item of a license array: a string, or an object's `type`.
struct JLicenseItem(Option<String>);

impl<'de> Deserialize<'de> for JLicenseItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JLicenseItem;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<JLicenseItem, E> {
                Ok(JLicenseItem(Some(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<JLicenseItem, A::Error> {
                Ok(JLicenseItem(license_type(map)?))
            }
            other_kinds_are!(JLicenseItem, JLicenseItem(None); scalars seq);
        }
        d.deserialize_any(V)
    }
}

/// The `type` member of a license object, draining the rest.
fn license_type<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<String>, A::Error> {
    let mut found = None;
    while let Some(key) = map.next_key::<JStr>()? {
        if key.as_deref() == Some("type") {
            let v: JStr = map.next_value()?;
            if found.is_none() {
                found = v.0;
            }
        } else {
            map.next_value::<IgnoredAny>()?;
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        a: JStr,
        #[serde(default)]
        b: JBool,
        #[serde(default)]
        c: JKeys,
        #[serde(default)]
        d: JLicenses,
        #[serde(default)]
        e: JStrs,
    }

    #[test]
    fn leaves_of_the_wrong_type_are_dropped() {
        let p: Probe =
            serde_json::from_str(r#"{"a": 5, "b": "yes", "c": [1], "d": 3, "e": {}}"#).unwrap();
        assert_eq!(p.a, JStr(None));
        assert!(!p.b.0);
        assert!(p.c.0.is_empty() && p.d.0.is_empty() && p.e.0.is_empty());
        let p: Probe = serde_json::from_str(
            r#"{"a": "x", "b": true, "c": {"k": {"deep": [1]}, "l": 2},
                "d": [{"type": "MIT", "url": "u"}, "ISC", 7], "e": ["p", 1, "q"]}"#,
        )
        .unwrap();
        assert_eq!(p.a.as_deref(), Some("x"));
        assert!(p.b.0);
        assert_eq!(p.c.0, vec!["k", "l"]);
        assert_eq!(p.d.0, vec!["MIT", "ISC"]);
        assert_eq!(p.e.0, vec!["p", "q"]);
        let p: Probe = serde_json::from_str(r#"{"d": {"type": "BSD"}}"#).unwrap();
        assert_eq!(p.d.0, vec!["BSD"]);
    }

    #[test]
    fn deep_nesting_is_drained_without_recursion() {
        // serde_json skips ignored values with a loop, not recursion: no stack overflow.
        let deep = format!(r#"{{"a": {}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
        let p: Probe = serde_json::from_str(&deep).unwrap();
        assert_eq!(p.a, JStr(None));
        let deep = format!(
            r#"{{"d": {}1{}}}"#,
            r#"{"x": "#.repeat(100_000),
            "}".repeat(100_000)
        );
        let p: Probe = serde_json::from_str(&deep).unwrap();
        assert!(p.d.0.is_empty());
    }
}
