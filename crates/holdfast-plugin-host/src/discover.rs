//! Where plugins are found, and what they say they are.
//!
//! Every regular executable file under a plugin root (searched recursively, hidden
//! entries and symlinked directories skipped) is a candidate; it is a plugin when
//! `CANDIDATE info` prints one valid manifest. Answers are cached by path, size and
//! mtime, failures too, so a hanging candidate costs its timeout once, not every run.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use holdfast_plugin::Manifest;
use serde::{Deserialize, Serialize};

use crate::run::{capture, Capture};

/// How long `info` may take.
pub const INFO_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest `info` answer read.
pub const INFO_MAX_BYTES: u64 = 1 << 20;
/// Deepest directory searched below a root.
const MAX_DEPTH: usize = 8;
/// Most candidates looked at in all roots.
const MAX_CANDIDATES: usize = 2_000;

/// A usable plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct Plugin {
    /// The executable.
    pub path: PathBuf,
    pub manifest: Manifest,
}

impl Plugin {
    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.manifest.name
    }
}

/// A candidate that is not a usable plugin, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Broken {
    pub path: PathBuf,
    pub reason: String,
}

/// What a search found.
#[derive(Debug, Clone, Default)]
pub struct Discovered {
    /// Usable plugins, by name (the first found of a name wins).
    pub plugins: Vec<Plugin>,
    pub broken: Vec<Broken>,
}

impl Discovered {
    /// The plugin of that name.
    pub fn get(&self, name: &str) -> Option<&Plugin> {
        self.plugins.iter().find(|p| p.name() == name)
    }
}

/// The user's plugin directory: `holdfast/plugins` in the data directory.
pub fn default_plugin_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("holdfast").join("plugins"))
}

/// The roots searched, in order: the `--plugin-dir`s, then `HOLDFAST_PLUGIN_PATH`
/// (colon-separated), then the user's plugin directory.
pub fn plugin_roots(flag_dirs: &[PathBuf], env_path: Option<&str>) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = flag_dirs.to_vec();
    if let Some(p) = env_path {
        roots.extend(p.split(':').filter(|s| !s.is_empty()).map(PathBuf::from));
    }
    roots.extend(default_plugin_dir());
    let mut seen = std::collections::HashSet::new();
    roots.retain(|r| seen.insert(r.clone()));
    roots
}

/// Searches the roots for plugins. `cache` is the manifest cache file (read, then
/// rewritten when something changed); `None` asks every candidate.
pub fn discover(roots: &[PathBuf], cache: Option<&Path>) -> Discovered {
    let mut candidates = Vec::new();
    for root in roots {
        // A root that does not exist is normal (no plugins installed).
        if root.is_dir() {
            collect(root, 0, &mut candidates);
        } else if root.is_file() {
            candidates.push(root.clone());
        }
    }
    candidates.truncate(MAX_CANDIDATES);
    let mut store = cache.map(ManifestCache::load).unwrap_or_default();
    let mut dirty = false;
    let mut out = Discovered::default();
    for path in candidates {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let key = path.to_string_lossy().into_owned();
        let stamp = Stamp {
            size: meta.len(),
            mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
        };
        let answer = match store.entries.get(&key) {
            Some(e) if e.stamp == stamp => e.answer.clone(),
            _ => {
                let answer = ask_info(&path);
                store.entries.insert(
                    key,
                    CacheEntry {
                        stamp,
                        answer: answer.clone(),
                    },
                );
                dirty = true;
                answer
            }
        };
        match answer {
            Answer::Manifest(manifest) => {
                if let Some(first) = out.get(&manifest.name) {
                    out.broken.push(Broken {
                        reason: format!(
                            "the name `{}` is taken by {}",
                            manifest.name,
                            first.path.display()
                        ),
                        path,
                    });
                } else {
                    out.plugins.push(Plugin { path, manifest });
                }
            }
            Answer::Broken(reason) => out.broken.push(Broken { path, reason }),
        }
    }
    if dirty {
        if let Some(file) = cache {
            if let Err(e) = store.save(file) {
                tracing::debug!("plugin manifest cache {}: {e}", file.display());
            }
        }
    }
    out
}

fn collect(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > MAX_DEPTH || out.len() >= MAX_CANDIDATES {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let Ok(kind) = e.file_type() else { continue };
        let path = e.path();
        if kind.is_dir() {
            collect(&path, depth + 1, out);
        } else if let Ok(meta) = std::fs::metadata(&path) {
            // A symlink to an executable file counts; a symlink to a directory does not
            // (it could loop).
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                out.push(path);
            }
        }
    }
}

/// Runs `PATH info` and checks its answer.
pub fn ask_info(path: &Path) -> Answer {
    let captured = match capture(path, &["info"], INFO_TIMEOUT, INFO_MAX_BYTES) {
        Ok(c) => c,
        Err(e) => return Answer::Broken(format!("could not run `info`: {e}")),
    };
    match captured {
        Capture::TimedOut => Answer::Broken(format!(
            "`info` did not answer within {}s",
            INFO_TIMEOUT.as_secs()
        )),
        Capture::TooLarge => {
            Answer::Broken(format!("`info` printed more than {} bytes", INFO_MAX_BYTES))
        }
        Capture::Exited { status, stdout, .. } if !status.success() => Answer::Broken(format!(
            "`info` {}{}",
            crate::run::describe_status(status),
            first_line(&stdout)
                .map(|l| format!(" (printed: {l})"))
                .unwrap_or_default()
        )),
        Capture::Exited { stdout, .. } => match serde_json::from_slice::<Manifest>(&stdout) {
            Ok(m) => match m.problem() {
                None => Answer::Manifest(m),
                Some(p) => Answer::Broken(format!("manifest: {p}")),
            },
            Err(e) => Answer::Broken(format!(
                "`info` did not print a plugin manifest: {e}{}",
                first_line(&stdout)
                    .map(|l| format!(" (printed: {l})"))
                    .unwrap_or_default()
            )),
        },
    }
}

fn first_line(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().find(|l| !l.trim().is_empty())?;
    let clean: String = line.chars().filter(|c| !c.is_control()).take(120).collect();
    Some(clean)
}

/// What a candidate answered to `info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Answer {
    Manifest(Manifest),
    Broken(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    mtime_ns: i128,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CacheEntry {
    stamp: Stamp,
    answer: Answer,
}

/// The manifest cache file: path → stamp and answer.
#[derive(Debug, Default, Serialize, Deserialize)]
struct ManifestCache {
    version: u32,
    entries: BTreeMap<String, CacheEntry>,
}

const CACHE_VERSION: u32 = 1;

impl ManifestCache {
    fn load(file: &Path) -> ManifestCache {
        std::fs::read(file)
            .ok()
            .and_then(|b| serde_json::from_slice::<ManifestCache>(&b).ok())
            .filter(|c| c.version == CACHE_VERSION)
            .unwrap_or_default()
    }

    fn save(&mut self, file: &Path) -> std::io::Result<()> {
        self.version = CACHE_VERSION;
        // Forget candidates that are gone.
        self.entries.retain(|p, _| Path::new(p).exists());
        let dir = file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        serde_json::to_writer(&mut tmp, self)?;
        tmp.flush()?;
        tmp.persist(file).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    pub(crate) fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn manifest(name: &str) -> String {
        format!(r#"{{"protocol":1,"name":"{name}","version":"1.0","commands":["scan/image"]}}"#)
    }

    #[test]
    fn finds_plugins_and_lists_broken_ones_with_reasons() {
        let root = tempfile::tempdir().unwrap();
        let nested = root.path().join("team/checks");
        std::fs::create_dir_all(&nested).unwrap();
        script(
            &nested,
            "good",
            &format!("[ \"$1\" = info ] && echo '{}'", manifest("good")),
        );
        script(root.path(), "garbage", "echo 'hello there'");
        script(root.path(), "fails", "echo oops; exit 3");
        script(root.path(), "hangs", "sleep 30");
        script(root.path(), "dup", &format!("echo '{}'", manifest("good")));
        script(
            root.path(),
            "v2",
            r#"echo '{"protocol":2,"name":"v2","version":"1","commands":["scan/image"]}'"#,
        );
        std::fs::write(root.path().join("not-executable"), "x").unwrap();
        let hidden = root.path().join(".hidden-dir-is-skipped");
        std::fs::create_dir(&hidden).unwrap();
        script(&hidden, "x", "exit 0");

        let started = std::time::Instant::now();
        let found = discover(&[root.path().to_path_buf()], None);
        assert!(started.elapsed() < Duration::from_secs(15));
        assert_eq!(found.plugins.len(), 1, "{found:?}");
        assert_eq!(found.plugins[0].name(), "good");
        // Candidates are taken in path order: `dup` comes first and keeps the name.
        assert!(found.plugins[0].path.ends_with("dup"));
        let reason = |n: &str| {
            found
                .broken
                .iter()
                .find(|b| b.path.ends_with(n))
                .map(|b| b.reason.clone())
                .unwrap_or_else(|| panic!("{n} not listed as broken: {found:?}"))
        };
        assert!(reason("garbage").contains("did not print a plugin manifest"));
        assert!(reason("garbage").contains("hello there"));
        assert!(reason("fails").contains("exited with code 3"));
        assert!(reason("hangs").contains("did not answer within"));
        assert!(reason("v2").contains("protocol 2"));
        assert!(reason("team/checks/good").contains("is taken by"));
        assert_eq!(found.broken.len(), 5);
    }

    #[test]
    fn manifests_are_cached_until_the_file_changes() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache/manifests.json");
        let dir = root.path().join("plugins");
        std::fs::create_dir_all(&dir).unwrap();
        let counter = root.path().join("count");
        let body = format!(
            "echo x >> {}; echo '{}'",
            counter.display(),
            manifest("counted")
        );
        let p = script(&dir, "counted", &body);
        let calls = || std::fs::read_to_string(&counter).unwrap().lines().count();
        assert_eq!(
            discover(std::slice::from_ref(&dir), Some(&cache))
                .plugins
                .len(),
            1
        );
        assert_eq!(
            discover(std::slice::from_ref(&dir), Some(&cache))
                .plugins
                .len(),
            1
        );
        assert_eq!(calls(), 1, "the second search used the cache");
        // A changed file (size) is asked again.
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n# v2\n")).unwrap();
        let again = discover(&[dir], Some(&cache));
        assert_eq!(again.plugins.len(), 1, "asked again: {:?}", again.broken);
        assert_eq!(calls(), 2);
    }

    #[test]
    fn roots_in_order_without_duplicates() {
        let roots = plugin_roots(&[PathBuf::from("/a"), PathBuf::from("/b")], Some("/b::/c"));
        assert_eq!(
            &roots[..3],
            &[
                PathBuf::from("/a"),
                PathBuf::from("/b"),
                PathBuf::from("/c")
            ]
        );
    }
}
