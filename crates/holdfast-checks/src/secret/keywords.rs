//! The keyword pass: which rules can match a text at all. Only those rules' regexes run, so
//! this pass reads every byte of every text file and is most of a secret scan's time.
//!
//! Two measured choices (on 414 MiB of text from a 1.6 GiB image):
//! - **Case-insensitive keywords are searched in lower-cased text** by a case-sensitive
//!   automaton. An ASCII case-insensitive automaton cannot use the SIMD (Teddy) prefilter
//!   and stepped through every byte: 0.94 s, against 0.04 s to lower the text plus 0.49 s.
//! - **Keywords shorter than [`SHORT_KEYWORD`] bytes are searched one by one** with
//!   `memmem`, each until its first hit. In the automaton they made the prefilter report a
//!   candidate every few bytes (`://`, `aws`, `SK`): without them the two automata took
//!   0.29 s instead of 0.85 s.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};
use memchr::memmem;

/// Keywords shorter than this are searched alone, not in the automaton.
pub const SHORT_KEYWORD: usize = 4;

/// Bytes of text lowered at a time for the case-insensitive search, so the pass needs no
/// copy of a whole file.
const CHUNK: usize = 64 * 1024;

/// The keywords of one case mode and the rules each enables.
#[derive(Debug)]
pub struct KeywordIndex {
    case_insensitive: bool,
    /// Keywords of [`SHORT_KEYWORD`] bytes or more (lower-cased when case-insensitive).
    automaton: Option<AhoCorasick>,
    /// For each automaton pattern, the rules it enables: its own and those of every
    /// automaton keyword it contains.
    automaton_rules: Vec<Vec<usize>>,
    /// Shorter keywords, each with the rules it enables.
    short: Vec<(memmem::Finder<'static>, Vec<usize>)>,
    /// Length of the longest keyword, the overlap between lowered chunks.
    longest: usize,
}

impl KeywordIndex {
    /// Indexes `keywords` (keyword → rules it enables; lower-cased already when
    /// `case_insensitive`). Sorted, so the index is the same from run to run.
    ///
    /// The automaton finds the longest keyword at each start (leftmost-longest), which lets
    /// the search use its prefilter and skip text no keyword can start in; an overlapping
    /// search cannot. So that no keyword is lost to a longer one found at the same place,
    /// a pattern enables the rules of every keyword it contains too (`_authtoken` enables
    /// the `token` rules); the search restarts one byte after each match start, so
    /// keywords that begin inside a match are still found.
    pub fn build(
        keywords: HashMap<String, Vec<usize>>,
        case_insensitive: bool,
    ) -> Result<KeywordIndex, aho_corasick::BuildError> {
        let longest = keywords.keys().map(String::len).max().unwrap_or(0);
        let mut pairs: Vec<(String, Vec<usize>)> = keywords.into_iter().collect();
        pairs.sort();
        let (long, short): (Vec<_>, Vec<_>) = pairs
            .into_iter()
            .partition(|(k, _)| k.len() >= SHORT_KEYWORD);
        let automaton = if long.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(long.iter().map(|(k, _)| k.as_bytes()))?,
            )
        };
        let automaton_rules = long
            .iter()
            .map(|(outer, _)| {
                let mut rules: Vec<usize> = long
                    .iter()
                    .filter(|(inner, _)| outer.contains(inner.as_str()))
                    .flat_map(|(_, r)| r.iter().copied())
                    .collect();
                rules.sort_unstable();
                rules.dedup();
                rules
            })
            .collect();
        let short = short
            .into_iter()
            .map(|(k, rules)| (memmem::Finder::new(k.as_bytes()).into_owned(), rules))
            .collect();
        Ok(KeywordIndex {
            case_insensitive,
            automaton,
            automaton_rules,
            short,
            longest,
        })
    }

    /// Marks in `candidate` every rule one of whose keywords occurs in `text`.
    pub fn mark(&self, text: &[u8], candidate: &mut [bool]) {
        if self.automaton.is_none() && self.short.is_empty() {
            return;
        }
        let mut short_found = vec![false; self.short.len()];
        if !self.case_insensitive {
            self.mark_window(text, text.len(), &mut short_found, candidate);
            return;
        }
        let overlap = self.longest.saturating_sub(1);
        let mut lowered = Vec::with_capacity(text.len().min(CHUNK + overlap));
        let mut start = 0;
        while start < text.len() {
            let end = (start + CHUNK).min(text.len());
            let window_end = (end + overlap).min(text.len());
            lowered.clear();
            lowered.extend(text[start..window_end].iter().map(u8::to_ascii_lowercase));
            self.mark_window(&lowered, end - start, &mut short_found, candidate);
            start = end;
        }
    }

    /// Marks the rules of the keywords that start in `window[..starts_before]`. The window
    /// runs on far enough past that bound for the longest keyword to end inside it.
    fn mark_window(
        &self,
        window: &[u8],
        starts_before: usize,
        short_found: &mut [bool],
        candidate: &mut [bool],
    ) {
        if let Some(ac) = &self.automaton {
            let mut at = 0;
            while at < starts_before {
                let Some(m) = ac.find(Input::new(window).span(at..window.len())) else {
                    break;
                };
                if m.start() >= starts_before {
                    break;
                }
                for &r in &self.automaton_rules[m.pattern().as_usize()] {
                    candidate[r] = true;
                }
                at = m.start() + 1;
            }
        }
        for ((finder, rules), found) in self.short.iter().zip(short_found.iter_mut()) {
            // A hit past `starts_before` is a real occurrence too: the window holds it whole.
            if !*found && finder.find(window).is_some() {
                *found = true;
                for &r in rules {
                    candidate[r] = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule whose keyword occurs anywhere, the plain way.
    fn reference(keywords: &[(&str, bool)], text: &[u8]) -> Vec<bool> {
        let lowered = text.to_ascii_lowercase();
        keywords
            .iter()
            .map(|(k, ci)| {
                let (hay, k) = if *ci {
                    (&lowered, k.to_ascii_lowercase())
                } else {
                    (&text.to_vec(), k.to_string())
                };
                memmem::find(hay, k.as_bytes()).is_some()
            })
            .collect()
    }

    fn index(keywords: &[(&str, bool)], case_insensitive: bool) -> KeywordIndex {
        let mut map: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, (k, ci)) in keywords.iter().enumerate() {
            if *ci == case_insensitive {
                let k = if *ci {
                    k.to_ascii_lowercase()
                } else {
                    k.to_string()
                };
                map.entry(k).or_default().push(i);
            }
        }
        KeywordIndex::build(map, case_insensitive).unwrap()
    }

    /// Keywords inside, across and at the ends of one another, long and short, in both
    /// case modes; texts built from their pieces and noise, some longer than a chunk so
    /// keywords straddle its bounds. The index must enable exactly the rules the plain
    /// search does.
    #[test]
    fn same_rules_as_a_plain_search() {
        let keywords: &[(&str, bool)] = &[
            ("_authtoken", true),
            ("token", true),
            ("_auth", true),
            ("oken_x", true),
            ("aws", true),
            ("://", true),
            ("Private Key", true),
            ("SK", false),
            ("eyJ", false),
            ("AKIA", false),
            ("ghp_", false),
            ("hp_x", false),
        ];
        let pieces: &[&[u8]] = &[
            b"_AUTH",
            b"token",
            b"TOKEN_X",
            b"oken",
            b"AWs",
            b"://",
            b":/",
            b"private ",
            b"KEY",
            b"SK",
            b"sk",
            b"eyJ",
            b"EYJ",
            b"AKI",
            b"A",
            b"ghp_",
            b"hp_x",
            b"_",
            b"x",
            b" ",
            b"\n",
            b"\xc3\xa9",
        ];
        let (ci, cs) = (index(keywords, true), index(keywords, false));
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut hits = vec![0usize; keywords.len()];
        for round in 0..3000 {
            let mut text = Vec::new();
            // Most texts are short and dense; every 100th runs past two chunks, with
            // pieces set right at the chunk bounds.
            let long = round % 100 == 0;
            let n = if long {
                2 * CHUNK + 300
            } else {
                1 + (next() % 40) as usize
            };
            while text.len() < n {
                if long && (text.len() + 3) % CHUNK < 6 {
                    text.extend_from_slice(b"_authtoken");
                }
                if long && next() % 8 != 0 {
                    text.push(b'.');
                    continue;
                }
                text.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
            }
            let mut got = vec![false; keywords.len()];
            ci.mark(&text, &mut got);
            cs.mark(&text, &mut got);
            let want = reference(keywords, &text);
            assert_eq!(got, want, "text {:?}", String::from_utf8_lossy(&text));
            for (h, w) in hits.iter_mut().zip(&want) {
                *h += usize::from(*w);
            }
        }
        // Every keyword was present in some texts and absent from others.
        assert!(hits.iter().all(|h| *h > 0 && *h < 3000), "{hits:?}");
    }

    #[test]
    fn a_keyword_across_a_chunk_bound_is_found() {
        let ci = index(&[("private key", true)], true);
        for offset in 1..11 {
            let mut text = vec![b'.'; CHUNK - offset];
            text.extend_from_slice(b"PRIVATE KEY");
            text.extend_from_slice(&[b'.'; 100]);
            let mut got = [false];
            ci.mark(&text, &mut got);
            assert!(got[0], "keyword at chunk end minus {offset}");
        }
    }
}
