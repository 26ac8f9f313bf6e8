//! Maven artifact versions, ordered like Maven 3.8's `ComparableVersion`
//! (`org.apache.maven.artifact.versioning`).
//!
//! Parsing (case-insensitive; the string is lower-cased first):
//!
//! * `.` and `-` separate items; a switch between digits and letters also
//!   separates them (`1.0alpha1` = `1.0-alpha-1`); an empty item is `0`;
//! * `-`, and every digit/letter switch, opens a nested list, so that
//!   `1-1` is `[1, [1]]`; a string item after a `.` also opens one
//!   ("treat `.X` as `-X`");
//! * numbers compare numerically, leading zeros ignored;
//! * strings are qualifiers: `alpha` < `beta` < `milestone` < `rc` = `cr` <
//!   `snapshot` < (`""` = `ga` = `final` = `release`) < `sp` < any other
//!   string (those in lexical order); `a`, `b`, `m` directly followed by a
//!   digit mean `alpha`, `beta`, `milestone`;
//! * trailing "null" items (`0`, the release qualifier, an empty list) are
//!   dropped from each list, so `1.0.0` = `1` and `1-ga` = `1`.
//!
//! Comparison walks the lists item by item, padding the shorter one with
//! "nothing": a number is newer than a list, which is newer than a string
//! (`1.1 > 1-1 > 1-sp`); against nothing, a number is newer unless it is 0,
//! a string is newer only if it ranks above the release qualifier
//! (`1-sp > 1 > 1-rc`), and a list is decided by its first item that is
//! not itself equal to nothing (MNG-6964: `1-0.1 > 1`).
//!
//! Only printable ASCII is accepted (Java would also treat non-ASCII digits
//! as digits).

use std::cmp::Ordering;
use std::fmt;

use crate::error::{check_bounds, VersionError};
use crate::num::{cmp_digits, strip_zeros};
use crate::Scheme;

/// One item of a parsed Maven version.
#[derive(Debug, Clone)]
enum Item {
    /// A number, leading zeros stripped (empty for zero).
    Int(String),
    /// A qualifier, aliases resolved.
    Str(Qualifier),
    /// A nested list (opened by `-` or a digit/letter switch).
    List(Vec<Item>),
}

/// A string item's rank: the well-known qualifiers in order, then any other
/// string, lexically.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Qualifier {
    Alpha,
    Beta,
    Milestone,
    Rc,
    Snapshot,
    /// `""`, `ga`, `final`, `release`.
    Release,
    Sp,
    Other(String),
}

impl Qualifier {
    fn new(s: &str, followed_by_digit: bool) -> Qualifier {
        match s {
            "a" if followed_by_digit => Qualifier::Alpha,
            "b" if followed_by_digit => Qualifier::Beta,
            "m" if followed_by_digit => Qualifier::Milestone,
            "alpha" => Qualifier::Alpha,
            "beta" => Qualifier::Beta,
            "milestone" => Qualifier::Milestone,
            "rc" | "cr" => Qualifier::Rc,
            "snapshot" => Qualifier::Snapshot,
            "" | "ga" | "final" | "release" => Qualifier::Release,
            "sp" => Qualifier::Sp,
            other => Qualifier::Other(other.to_owned()),
        }
    }
}

impl Item {
    fn number(digits: &str) -> Item {
        Item::Int(strip_zeros(digits).to_owned())
    }

    /// "Null" items are dropped from the end of a list.
    fn is_null(&self) -> bool {
        match self {
            Item::Int(n) => n.is_empty(),
            Item::Str(q) => *q == Qualifier::Release,
            Item::List(l) => l.is_empty(),
        }
    }
}

/// Drops trailing null items, looking past non-null nested lists (Maven's
/// `ListItem.normalize`).
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// Compares an item with the absence of an item (Maven's
/// `compareTo(null)`).
fn cmp_with_nothing(item: &Item) -> Ordering {
    match item {
        Item::Int(n) => {
            if n.is_empty() {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        }
        Item::Str(q) => q.cmp(&Qualifier::Release),
        // Every item counts, not just the first (MNG-6964, Maven 3.8).
        Item::List(l) => l
            .iter()
            .map(cmp_with_nothing)
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal),
    }
}

fn cmp_items(a: &Item, b: &Item) -> Ordering {
    match (a, b) {
        (Item::Int(x), Item::Int(y)) => cmp_digits(x, y),
        (Item::Int(_), _) => Ordering::Greater,
        (_, Item::Int(_)) => Ordering::Less,
        (Item::Str(x), Item::Str(y)) => x.cmp(y),
        (Item::Str(_), Item::List(_)) => Ordering::Less,
        (Item::List(_), Item::Str(_)) => Ordering::Greater,
        (Item::List(x), Item::List(y)) => cmp_lists(x, y),
    }
}

fn cmp_lists(a: &[Item], b: &[Item]) -> Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let ord = match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => cmp_items(x, y),
            (Some(x), None) => cmp_with_nothing(x),
            (None, Some(y)) => cmp_with_nothing(y).reverse(),
            (None, None) => Ordering::Equal,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// A parsed Maven version.
#[derive(Debug, Clone)]
pub struct MavenVersion {
    original: String,
    items: Vec<Item>,
}

impl MavenVersion {
    /// Parses a Maven version string.
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        check_bounds(Scheme::Maven, s)?;
        if let Some(b) = s.bytes().find(|b| !b.is_ascii_graphic()) {
            return Err(VersionError::malformed(
                Scheme::Maven,
                s,
                format!("character {:?} is not allowed in a version", b as char),
            ));
        }
        let lower = s.to_ascii_lowercase();
        let items = parse_items(&lower);
        Ok(MavenVersion {
            original: s.to_owned(),
            items,
        })
    }

    /// The string this version was parsed from.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Maven's canonical form (`ComparableVersion.getCanonical()`), e.g.
    /// `1-alpha-1` for `1.0.0-ALPHA1`.
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        write_list(&self.items, &mut out);
        out
    }
}

fn write_list(items: &[Item], out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(if matches!(item, Item::List(_)) {
                '-'
            } else {
                '.'
            });
        }
        match item {
            Item::Int(n) if n.is_empty() => out.push('0'),
            Item::Int(n) => out.push_str(n),
            Item::Str(q) => out.push_str(match q {
                Qualifier::Alpha => "alpha",
                Qualifier::Beta => "beta",
                Qualifier::Milestone => "milestone",
                Qualifier::Rc => "rc",
                Qualifier::Snapshot => "snapshot",
                Qualifier::Release => "",
                Qualifier::Sp => "sp",
                Qualifier::Other(s) => s,
            }),
            Item::List(l) => write_list(l, out),
        }
    }
}

/// Builds Maven's item tree. Each new list is the last item of the list
/// before it, so the tree is a chain, kept here as a stack of levels and
/// folded (innermost first, normalising each level) at the end.
fn parse_items(v: &str) -> Vec<Item> {
    let b = v.as_bytes();
    let mut levels: Vec<Vec<Item>> = vec![Vec::new()];
    let mut is_digit = false;
    let mut start = 0;

    // Helpers over the current (innermost) level.
    fn current(levels: &mut [Vec<Item>]) -> &mut Vec<Item> {
        let last = levels.len() - 1;
        &mut levels[last]
    }
    let item_of = |is_digit: bool, text: &str| {
        if is_digit {
            Item::number(text)
        } else {
            Item::Str(Qualifier::new(text, false))
        }
    };

    for (i, &c) in b.iter().enumerate() {
        match c {
            b'.' | b'-' => {
                let item = if i == start {
                    Item::Int(String::new())
                } else {
                    item_of(is_digit, &v[start..i])
                };
                current(&mut levels).push(item);
                start = i + 1;
                if c == b'-' {
                    levels.push(Vec::new());
                }
            }
            b'0'..=b'9' => {
                if !is_digit && i > start {
                    // A qualifier right before a digit: "treat .X as -X".
                    if !current(&mut levels).is_empty() {
                        levels.push(Vec::new());
                    }
                    current(&mut levels).push(Item::Str(Qualifier::new(&v[start..i], true)));
                    start = i;
                    levels.push(Vec::new());
                }
                is_digit = true;
            }
            _ => {
                if is_digit && i > start {
                    current(&mut levels).push(Item::number(&v[start..i]));
                    start = i;
                    levels.push(Vec::new());
                }
                is_digit = false;
            }
        }
    }
    if v.len() > start {
        if !is_digit && !current(&mut levels).is_empty() {
            levels.push(Vec::new());
        }
        let item = item_of(is_digit, &v[start..]);
        current(&mut levels).push(item);
    }

    // Fold the chain: normalise the innermost list, append it to its
    // parent, normalise the parent, and so on.
    let mut inner = levels.pop().unwrap_or_default();
    normalize(&mut inner);
    while let Some(mut parent) = levels.pop() {
        parent.push(Item::List(inner));
        normalize(&mut parent);
        inner = parent;
    }
    inner
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_lists(&self.items, &other.items)
    }
}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MavenVersion {}

impl fmt::Display for MavenVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Compares two Maven version strings.
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(MavenVersion::parse(a)?.cmp(&MavenVersion::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn maven_ordering() {
        // Qualifier order from ComparableVersion's documentation.
        let ordered = [
            "1-alpha",
            "1-beta",
            "1-milestone",
            "1-rc",
            "1-snapshot",
            "1",
            "1-sp",
            "1-abc",
            "1-1",
            "1.1",
        ];
        for w in ordered.windows(2) {
            assert_eq!(compare(w[0], w[1]).unwrap(), Less, "{} < {}", w[0], w[1]);
        }
        for (a, b) in [
            ("1", "1.0.0"),
            ("1-ga", "1"),
            ("1-final", "1-release"),
            ("1-cr1", "1-rc-1"),
            ("1a1", "1-alpha-1"),
            ("1.0ALPHA1", "1-alpha-1"),
            ("1.x", "1-x"),
        ] {
            assert_eq!(compare(a, b).unwrap(), Equal, "{a} == {b}");
        }
    }

    #[test]
    fn canonical_forms() {
        let canon = |s: &str| MavenVersion::parse(s).unwrap().canonical();
        assert_eq!(canon("1.0.0"), "1");
        assert_eq!(canon("1.0-SNAPSHOT"), "1-snapshot");
        assert_eq!(canon("1.0.0-ALPHA1"), "1-alpha-1");
    }
}
