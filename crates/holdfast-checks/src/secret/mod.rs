//! Secrets in image contents, in the image config's `Env` and in history commands.
//!
//! Files are scanned in the layer walk by [`SecretAnalyzer`] (one pass per file for all
//! rules: keyword automata first, then only the regexes whose keywords occur); the config
//! and history are scanned in the image-wide step. Findings carry the secret redacted
//! ([`redact::redact`]) and hashed ([`redact::fingerprint`]), never in clear.
//!
//! Archives (jar, war, ear, whl, egg, zip, tar, tar.gz, tgz; see
//! [`holdfast_analyze::archive`]) are opened, nested ones too, within the archive bounds;
//! their text members are scanned like files and their findings carry the nested path
//! (`/opt/app.tar.gz!/lib/app.jar!/conf/app.properties`).

pub mod keywords;
pub mod matcher;
pub mod redact;
pub mod rules;

use std::sync::{Arc, OnceLock};

use holdfast_analyze::analyzer::{
    AnalyzeError, AnalyzerGroup, EntryKind, EntryMeta, FileFact, FileInput, Want, HEAD_BYTES,
};
use holdfast_analyze::archive::{self, ArchiveLimits};
use holdfast_analyze::Analyzer;
use holdfast_model::{Finding, FindingKind};
use holdfast_source::path::file_name;
use sha2::{Digest, Sha256};

use crate::{CheckContext, Checked, Checker};
use matcher::SecretMatch;
pub use rules::{RuleError, RuleSet, SecretRule};

/// Files larger than this are not scanned for secrets unless the user raises the bound.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 << 20;

/// Bumped when the analyzer's output for the same rules and input changes.
/// 2: a binary file over the size bound is skipped silently, like a small one; only a
/// text file over the bound gets a warning (now of kind `BoundReached`).
/// 3: archives (jar, war, ear, whl, egg, zip, tar, tar.gz, tgz) are opened and their text
/// members scanned, with findings at the nested path.
/// 4: allow rules no longer read long base64 runs, so a private key whose body happens to
/// contain a placeholder word (`your`, `fake`) is reported.
const ANALYZER_REVISION: u32 = 4;

/// Most findings reported for one archive, all its members together.
const MAX_ARCHIVE_FINDINGS: usize = 1000;

/// How many leading bytes decide whether a file is text: the head the walker hands over
/// for a file over the bound.
const SNIFF_BYTES: usize = HEAD_BYTES;

/// The secret checker's options.
#[derive(Debug, Clone)]
pub struct SecretConfig {
    /// Built-in rules plus the user's rule files, compiled once.
    pub rules: Arc<RuleSet>,
    /// Text files over this size are skipped with a warning (binary ones are skipped
    /// silently, whatever their size).
    pub max_file_size: u64,
}

impl Default for SecretConfig {
    fn default() -> Self {
        SecretConfig {
            rules: builtin_rules(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

impl SecretConfig {
    /// The built-in rules with user rule files (`(name, TOML text)`) applied in order.
    pub fn with_rule_files(
        files: &[(String, String)],
        max_file_size: u64,
    ) -> Result<Self, RuleError> {
        let rules = if files.is_empty() {
            builtin_rules()
        } else {
            Arc::new(RuleSet::compile(files)?)
        };
        Ok(SecretConfig {
            rules,
            max_file_size,
        })
    }
}

/// The built-in rules, compiled once per process.
fn builtin_rules() -> Arc<RuleSet> {
    static BUILTIN: OnceLock<Arc<RuleSet>> = OnceLock::new();
    BUILTIN
        .get_or_init(|| {
            // The built-in rules are data compiled into the binary; a unit test proves
            // they compile.
            Arc::new(RuleSet::builtin().expect("built-in secret rules compile"))
        })
        .clone()
}

/// The secret checker: files in the walk, Env and history in the image-wide step.
pub struct SecretChecker {
    config: SecretConfig,
}

impl SecretChecker {
    pub fn new(config: SecretConfig) -> Self {
        SecretChecker { config }
    }
}

impl Checker for SecretChecker {
    fn kinds(&self) -> &'static [FindingKind] {
        &[FindingKind::Secret]
    }

    fn analyzers(&self) -> Vec<Box<dyn Analyzer>> {
        vec![Box::new(SecretAnalyzer::new(self.config.clone()))]
    }

    fn check(&self, ctx: &CheckContext<'_>) -> Checked {
        let rules = &self.config.rules;
        let mut out = Vec::new();
        let config = &ctx.metadata.config;
        for entry in &config.config.env {
            let name = entry.split_once('=').map_or(entry.as_str(), |(n, _)| n);
            let found = rules.scan_text(None, entry.as_bytes());
            for m in found.matches {
                let mut f = finding(rules, &m);
                f.title = format!("{} in the image config's Env ({name})", f.title);
                f.description = format!(
                    "The image config sets the environment variable `{name}` to a value that matches this rule; every container from the image gets it, and `docker inspect` shows it."
                );
                out.push(f);
            }
        }
        // Layers are counted by the history entries that made one.
        let mut layer = 0usize;
        for (step, h) in config.history.iter().enumerate() {
            let this_layer = (!h.empty_layer).then_some(layer);
            if !h.empty_layer {
                layer += 1;
            }
            let Some(cmd) = h.created_by.as_deref() else {
                continue;
            };
            for m in rules.scan_text(None, cmd.as_bytes()).matches {
                let mut f = finding(rules, &m);
                f.title = format!("{} in image history (step {})", f.title, step + 1);
                f.description = format!(
                    "The command of history step {} (`created_by` in the image config) holds a value that matches this rule; the history is part of the image and shown by `docker history`.",
                    step + 1
                );
                f.layer = this_layer.and_then(|i| ctx.layer_id(i));
                out.push(f);
            }
        }
        out.into()
    }
}

impl SecretConfig {
    /// `text` with every secret the rules find replaced by its redacted form, for image
    /// data a report echoes (history commands in the layer list).
    pub fn redact_text(&self, text: &str) -> String {
        let found = self.rules.scan_text(None, text.as_bytes());
        if found.matches.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for m in &found.matches {
            if m.start < pos || !text.is_char_boundary(m.start) || !text.is_char_boundary(m.end) {
                continue;
            }
            out.push_str(&text[pos..m.start]);
            out.push_str(&redact::redact(&m.secret));
            pos = m.end;
        }
        out.push_str(&text[pos..]);
        out
    }
}

/// A finding for one match, without path or layer (the caller knows where it was).
fn finding(rules: &RuleSet, m: &SecretMatch) -> Finding {
    let rule = &rules.rules[m.rule];
    let mut f = Finding::new(
        FindingKind::Secret,
        rule.id.clone(),
        rule.severity,
        rule.title.clone(),
    );
    f.evidence = Some(redact::redact(&m.secret));
    f.fingerprint = Some(redact::fingerprint(&m.secret));
    f.remediation = rule.remediation.clone();
    f
}

/// The file-level secret scan.
pub struct SecretAnalyzer {
    config: SecretConfig,
    version: u32,
}

impl SecretAnalyzer {
    /// The analyzer's cache version folds in a hash of every rule source (built-in and
    /// user files) and the size bound, so changing a rule file misses old cache entries.
    pub fn new(config: SecretConfig) -> Self {
        let mut h = Sha256::new();
        h.update(ANALYZER_REVISION.to_le_bytes());
        h.update(config.rules.digest);
        h.update(config.max_file_size.to_le_bytes());
        let d = h.finalize();
        let version = u32::from_le_bytes([d[0], d[1], d[2], d[3]]);
        SecretAnalyzer { config, version }
    }
}

/// File name endings of formats that are binary or compressed: never text worth reading.
const BINARY_SUFFIXES: &[&str] = &[
    ".so", ".a", ".o", ".ko", ".gz", ".xz", ".bz2", ".zst", ".lz4", ".zip", ".jar", ".war", ".ear",
    ".whl", ".egg", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".webp", ".bmp", ".tif", ".tiff",
    ".mo", ".pyc", ".pyo", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".pdf", ".mp3", ".mp4",
    ".ogg", ".wav", ".deb", ".rpm", ".apk", ".class", ".wasm", ".exe", ".dll", ".gpg", ".kbx",
    ".db", ".sqlite", ".cache", ".tar", ".tgz",
];

/// Compared without regard to ASCII case and without allocating: `wants` runs for every
/// entry of every layer.
fn binary_by_name(path: &str) -> bool {
    let name = file_name(path).as_bytes();
    let ends_with = |suffix: &str| {
        name.len() >= suffix.len()
            && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
    };
    BINARY_SUFFIXES.iter().any(|s| ends_with(s))
        || name.windows(4).any(|w| w.eq_ignore_ascii_case(b".so."))
}

/// A text sniff over the first bytes: no NUL, and valid UTF-8 apart from a character cut
/// at the end of the sample.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    if head.contains(&0) {
        return true;
    }
    match std::str::from_utf8(head) {
        Ok(_) => false,
        // `error_len() == None`: the sample ends inside a character; that is fine.
        Err(e) => e.error_len().is_some(),
    }
}

impl Analyzer for SecretAnalyzer {
    fn name(&self) -> &'static str {
        "secret"
    }

    fn version(&self) -> u32 {
        self.version
    }

    fn group(&self) -> AnalyzerGroup {
        AnalyzerGroup::Check(FindingKind::Secret)
    }

    fn wants(&self, path: &str, meta: &EntryMeta) -> Want {
        if meta.kind != EntryKind::File || meta.size == 0 {
            return Want::No;
        }
        if archive::is_archive_name(path) {
            // Whole, whatever its size: one over the walker's bound (--max-file-size) is
            // skipped by the walker with a warning naming it.
            return if self.config.rules.path_allowed(path) {
                Want::No
            } else {
                Want::Bytes
            };
        }
        if binary_by_name(path) {
            return Want::No;
        }
        if self.config.rules.path_allowed(path) {
            return Want::No;
        }
        if meta.size > self.config.max_file_size {
            // Only the head, to tell a binary (skipped silently) from a text file (whose
            // skip is reported); it never takes the stream from a streaming analyzer.
            return Want::Head;
        }
        Want::Bytes
    }

    fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
        if archive::is_archive_name(input.path) {
            return self.analyze_archive(input);
        }
        let max = self.config.max_file_size;
        if input.meta.size > max {
            // Binary first, then size: a binary is not scanned whatever its size, so only
            // a text file over the bound is worth a warning.
            if looks_binary(&input.content.bytes_up_to(SNIFF_BYTES as u64)?) {
                return Ok(Vec::new());
            }
            return Ok(vec![FileFact::bound(format!(
                "file is {} bytes, over the secret scanner's {max}-byte bound (--secret-max-file-size); not scanned for secrets",
                input.meta.size
            ))]);
        }
        let bytes = &*input.content.bytes_up_to(max)?;
        if looks_binary(bytes) {
            return Ok(Vec::new());
        }
        Ok(self.scan_text_file(input.path, bytes, None))
    }
}

impl SecretAnalyzer {
    /// The findings in a text file at `path`, with a warning when there were too many.
    /// `member`: for a member of an archive, its nested path, set on each finding and
    /// named in the warning (a file's findings get their path from the pipeline).
    fn scan_text_file(&self, path: &str, bytes: &[u8], member: Option<&str>) -> Vec<FileFact> {
        let rules = &self.config.rules;
        let found = rules.scan_text(Some(path), bytes);
        let mut facts: Vec<FileFact> = found
            .matches
            .iter()
            .map(|m| {
                let mut f = finding(rules, m);
                f.line = Some(m.line);
                f.path = member.map(str::to_string);
                FileFact::Finding(Box::new(f))
            })
            .collect();
        if found.truncated {
            let what = member.map_or_else(|| "one file".to_string(), |m| m.to_string());
            facts.push(FileFact::bound(format!(
                "more than {} secrets in {what}; the rest were not reported",
                matcher::MAX_MATCHES_PER_TEXT
            )));
        }
        facts
    }

    /// Opens an archive and scans its text members (nested archives' too) as files, with
    /// findings at their nested paths; the bounds that stopped part of the reading become
    /// warnings naming the archive.
    fn analyze_archive(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
        let bytes = &*input.content.bytes_up_to(archive::MAX_ARCHIVE_BYTES)?;
        Ok(archive::scan_members(
            input.path,
            bytes,
            &ArchiveLimits::default(),
            MAX_ARCHIVE_FINDINGS,
            "secrets",
            // Binaries by name (class files, images, shared objects) are never scanned:
            // not inflating them is most of the cost of a jar.
            &|member| binary_by_name(member) || self.config.rules.path_allowed(member),
            &mut |member, data| self.scan_member(member, data),
        ))
    }

    /// One archive member, at nested path `member`: the per-file logic (binaries by name
    /// and content skipped, text over the bound reported, text scanned).
    fn scan_member(&self, member: &str, data: &[u8]) -> Vec<FileFact> {
        if data.is_empty() || binary_by_name(member) || self.config.rules.path_allowed(member) {
            return Vec::new();
        }
        if looks_binary(data) {
            return Vec::new();
        }
        let max = self.config.max_file_size;
        if data.len() as u64 > max {
            return vec![FileFact::bound(format!(
                "{member}: member is {} bytes, over the secret scanner's {max}-byte bound (--secret-max-file-size); not scanned for secrets",
                data.len()
            ))];
        }
        self.scan_text_file(member, data, Some(member))
    }
}

#[cfg(test)]
mod tests;
