//! Lists: filters, sorting and pages from the query string, so every view is a URL that
//! can be shared; tables sort and page on the server, which is what lets a list of 10,000
//! rows send 50.

use serde::{Deserialize, Serialize};

/// Rows per page.
pub const PER_PAGE: usize = 50;

/// The query string every list understands.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    /// Free text: names, ids, packages.
    #[serde(default)]
    pub q: String,
    /// The lowest severity shown (`CRITICAL`, `HIGH`, ...), empty for all.
    #[serde(default)]
    pub severity: String,
    /// `1`: only what has a fix.
    #[serde(default)]
    pub fixable: String,
    /// Narrows to one kind of target or one namespace, where a list has them.
    #[serde(default)]
    pub kind: String,
    /// The column sorted on.
    #[serde(default)]
    pub sort: String,
    /// `asc` or `desc`.
    #[serde(default)]
    pub dir: String,
    /// 1-based.
    #[serde(default)]
    pub page: Option<usize>,
}

impl ListQuery {
    /// The free text, lower-cased, when there is some.
    pub fn needle(&self) -> Option<String> {
        let q = self.q.trim();
        (!q.is_empty()).then(|| q.to_lowercase())
    }

    /// The lowest severity asked for, as a rank (0 = all).
    pub fn min_rank(&self) -> u8 {
        holdfast_store::severity_rank(&self.severity.to_ascii_uppercase())
    }

    /// Whether only fixable rows are asked for.
    pub fn fixable_only(&self) -> bool {
        self.fixable == "1"
    }

    /// Whether the sort is descending (`default_desc` when the URL does not say).
    pub fn descending(&self, default_desc: bool) -> bool {
        match self.dir.as_str() {
            "asc" => false,
            "desc" => true,
            _ => default_desc,
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut v = Vec::new();
        for (k, val) in [
            ("q", &self.q),
            ("severity", &self.severity),
            ("fixable", &self.fixable),
            ("kind", &self.kind),
            ("sort", &self.sort),
            ("dir", &self.dir),
        ] {
            if !val.is_empty() {
                v.push((k, val.clone()));
            }
        }
        v
    }

    /// This list's URL with `key` set to `value` (removed when empty). The page number
    /// is never carried over: a changed filter or sort starts again at page 1.
    pub fn url_with(&self, path: &str, key: &str, value: &str) -> String {
        let mut pairs: Vec<(&str, String)> = self
            .pairs()
            .into_iter()
            .filter(|(k, _)| *k != key)
            .collect();
        if !value.is_empty() {
            pairs.push((key, value.to_string()));
        }
        let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if qs.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{qs}")
        }
    }
}

/// A column header: its label, the link that sorts on it, and its ARIA sort state.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    /// What the header says.
    pub label: &'static str,
    /// The link that sorts on it (none for unsortable columns).
    pub href: Option<String>,
    /// `ascending`, `descending` or `none`.
    pub aria_sort: &'static str,
    /// Numbers are right-aligned.
    pub numeric: bool,
}

/// Headers for `columns` (`(key, label, numeric)`; an empty key is not sortable), with
/// `current` the key sorted on now.
pub fn columns(
    query: &ListQuery,
    path: &str,
    current: &str,
    desc: bool,
    columns: &[(&'static str, &'static str, bool)],
) -> Vec<Column> {
    columns
        .iter()
        .map(|(key, label, numeric)| {
            if key.is_empty() {
                return Column {
                    label,
                    href: None,
                    aria_sort: "none",
                    numeric: *numeric,
                };
            }
            let here = *key == current;
            // Clicking the sorted column flips it; another column starts at its natural
            // order (numbers high first, text A first).
            let next_dir = match (here, desc) {
                (true, true) => "asc",
                (true, false) => "desc",
                (false, _) if *numeric => "desc",
                (false, _) => "asc",
            };
            let mut q = query.clone();
            q.sort = key.to_string();
            q.dir = next_dir.to_string();
            Column {
                label,
                href: Some(q.url_with(path, "page", "")),
                aria_sort: match (here, desc) {
                    (true, true) => "descending",
                    (true, false) => "ascending",
                    _ => "none",
                },
                numeric: *numeric,
            }
        })
        .collect()
}

/// One page of a list, and the links around it.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The rows on this page.
    pub rows: Vec<T>,
    /// Rows in the whole list.
    pub total: usize,
    /// 1-based.
    pub number: usize,
    /// How many pages.
    pub pages: usize,
    /// The first row's position (1-based; 0 when empty).
    pub first: usize,
    /// The last row's position.
    pub last: usize,
    /// The previous page's URL.
    pub prev: Option<String>,
    /// The next page's URL.
    pub next: Option<String>,
}

/// Cuts `rows` to the page the query asks for.
pub fn paginate<T>(rows: Vec<T>, query: &ListQuery, path: &str) -> Page<T> {
    let total = rows.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let number = query.page.unwrap_or(1).clamp(1, pages);
    let start = (number - 1) * PER_PAGE;
    let rows: Vec<T> = rows.into_iter().skip(start).take(PER_PAGE).collect();
    let link = |n: usize| query.url_with(path, "page", &n.to_string());
    Page {
        first: if rows.is_empty() { 0 } else { start + 1 },
        last: start + rows.len(),
        rows,
        total,
        number,
        pages,
        prev: (number > 1).then(|| link(number - 1)),
        next: (number < pages).then(|| link(number + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_cut_and_linked() {
        let q = ListQuery {
            q: "open ssl".into(),
            page: Some(2),
            ..Default::default()
        };
        let page = paginate((0..120).collect::<Vec<_>>(), &q, "/images");
        assert_eq!(page.rows.first(), Some(&50));
        assert_eq!((page.first, page.last, page.pages), (51, 100, 3));
        assert_eq!(page.prev.as_deref(), Some("/images?q=open+ssl&page=1"));
        assert_eq!(page.next.as_deref(), Some("/images?q=open+ssl&page=3"));
        let past = paginate(
            vec![1, 2],
            &ListQuery {
                page: Some(9),
                ..Default::default()
            },
            "/x",
        );
        assert_eq!(
            (past.number, past.rows.len()),
            (1, 2),
            "a page past the end shows the last"
        );
    }

    #[test]
    fn sorting_links_flip_the_sorted_column() {
        let q = ListQuery {
            sort: "critical".into(),
            dir: "desc".into(),
            page: Some(3),
            ..Default::default()
        };
        let cols = columns(
            &q,
            "/images",
            "critical",
            true,
            &[
                ("name", "Name", false),
                ("critical", "Critical", true),
                ("", "OS", false),
            ],
        );
        assert_eq!(cols[0].href.as_deref(), Some("/images?sort=name&dir=asc"));
        assert_eq!(
            cols[1].href.as_deref(),
            Some("/images?sort=critical&dir=asc")
        );
        assert_eq!(cols[1].aria_sort, "descending");
        assert!(cols[2].href.is_none());
    }
}
