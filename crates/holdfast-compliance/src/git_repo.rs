//! `scan config URL`: a git repository cloned with `gix` (depth 1, the default branch, or
//! the branch or tag after `#`) into a temporary directory that lives as long as the scan,
//! within a time and a size limit.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// How long a clone may take and how much it may write, so a huge or stalled repository
/// cannot hold a scan (or fill a CI runner's disk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloneLimits {
    /// Wall-clock time for the fetch and the checkout together.
    pub timeout: Duration,
    /// Bytes the clone's directory may hold (pack and checked-out files).
    pub max_bytes: u64,
}

impl Default for CloneLimits {
    /// Ten minutes and 2 GiB.
    fn default() -> Self {
        CloneLimits {
            timeout: Duration::from_secs(600),
            max_bytes: 2 << 30,
        }
    }
}

/// How often a running clone's time and size are looked at.
const WATCH_EVERY: Duration = Duration::from_millis(250);
/// How long a clone told to stop is given to end before its directory is removed.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// A repository cloned for one scan; its directory is removed when this is dropped.
#[derive(Debug)]
pub struct ClonedRepo {
    /// The URL as given, without the `#ref`: what target names start with.
    pub url: String,
    dir: tempfile::TempDir,
}

impl ClonedRepo {
    /// The checked-out tree.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Whether a scan argument names a git repository rather than a local path: a URL with a
/// scheme git speaks (`https://`, `http://`, `git://`, `ssh://`, `file://`) or the scp-like
/// `user@host:path`.
pub fn is_git_url(arg: &str) -> bool {
    const SCHEMES: [&str; 5] = ["https://", "http://", "git://", "ssh://", "file://"];
    if SCHEMES.iter().any(|s| arg.starts_with(s)) {
        return true;
    }
    // `git@github.com:org/repo.git`; a local path that merely holds `@` and `:` also has
    // a `/` before them, or exists.
    match (arg.find('@'), arg.find(':')) {
        (Some(at), Some(colon)) => {
            at < colon && !arg[..colon].contains('/') && !Path::new(arg).exists()
        }
        _ => false,
    }
}

/// Why a repository could not be cloned.
#[derive(Debug, thiserror::Error)]
#[error("cannot clone {url}: {message}")]
pub struct CloneError {
    /// The URL as given.
    pub url: String,
    /// What went wrong, with gix's causes.
    pub message: String,
}

/// Clones `arg` (`URL` or `URL#branch-or-tag`), one commit deep, and checks it out.
///
/// The clone runs on a thread of its own, watched from here: past `limits`, it is told to
/// stop and its directory is removed at once. A transfer blocked on a silent server may
/// only notice later, so the error does not wait for it.
pub fn clone(arg: &str, limits: &CloneLimits) -> Result<ClonedRepo, CloneError> {
    let (url, reference) = match arg.rsplit_once('#') {
        Some((url, r)) if !r.is_empty() => (url, Some(r.to_string())),
        _ => (arg, None),
    };
    let fail = |message: String| CloneError {
        url: url.to_string(),
        message,
    };
    let dir = tempfile::Builder::new()
        .prefix("holdfast-repo-")
        .tempdir()
        .map_err(|e| fail(holdfast_model::error_chain(&e)))?;
    let interrupt = Arc::new(AtomicBool::new(false));
    let (done_tx, done) = mpsc::channel();
    {
        let (url, path, interrupt) = (url.to_string(), dir.path().to_path_buf(), interrupt.clone());
        std::thread::Builder::new()
            .name("git-clone".into())
            .spawn(move || {
                let _ = done_tx.send(fetch_and_check_out(
                    &url,
                    reference.as_deref(),
                    &path,
                    &interrupt,
                ));
            })
            .map_err(|e| fail(holdfast_model::error_chain(&e)))?;
    }
    let started = Instant::now();
    // Counting a large checkout's files takes time of its own: the next count waits at
    // least ten times as long as the last took, so watching costs the clone at most a
    // tenth of a core.
    let mut next_count = started;
    let mut counted_over = |dir: &Path| {
        let now = Instant::now();
        if now < next_count {
            return false;
        }
        let over = size_over(dir, limits.max_bytes);
        next_count = Instant::now() + (now.elapsed() * 10).max(WATCH_EVERY);
        over
    };
    loop {
        let too_large = || {
            format!(
                "stopped past {} bytes: the clone size limit (--clone-max-size)",
                limits.max_bytes
            )
        };
        let over = match done.recv_timeout(WATCH_EVERY) {
            // A clone that finished between two looks is held to the same limit.
            Ok(Ok(())) if size_over(dir.path(), limits.max_bytes) => Some(too_large()),
            Ok(Ok(())) => {
                return Ok(ClonedRepo {
                    url: url.trim_end_matches('/').to_string(),
                    dir,
                })
            }
            Ok(Err(message)) => return Err(fail(message)),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(fail("the clone ended without a result".into()))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if started.elapsed() > limits.timeout {
                    Some(format!(
                        "stopped after {}: the clone time limit (--clone-timeout)",
                        humantime::format_duration(limits.timeout)
                    ))
                } else if counted_over(dir.path()) {
                    Some(too_large())
                } else {
                    None
                }
            }
        };
        if let Some(reason) = over {
            interrupt.store(true, Ordering::Relaxed);
            // A clone that heeds the flag ends before its directory is removed, so it
            // cannot write it anew; one blocked on a silent server is not waited for.
            let _ = done.recv_timeout(STOP_GRACE);
            // Dropping `dir` removes what was written so far.
            return Err(fail(reason));
        }
    }
}

fn fetch_and_check_out(
    url: &str,
    reference: Option<&str>,
    path: &Path,
    interrupt: &AtomicBool,
) -> Result<(), String> {
    let fail = |e: &dyn std::error::Error| holdfast_model::error_chain(e);
    let mut prepare = gix::prepare_clone(url, path)
        .map_err(|e| fail(&e))?
        .with_shallow(gix::remote::fetch::Shallow::DepthAtRemote(
            std::num::NonZeroU32::MIN,
        ));
    if let Some(r) = reference {
        prepare = prepare.with_ref_name(Some(r)).map_err(|e| fail(&e))?;
    }
    let (mut checkout, _) = prepare
        .fetch_then_checkout(gix::progress::Discard, interrupt)
        .map_err(|e| fail(&e))?;
    checkout
        .main_worktree(gix::progress::Discard, interrupt)
        .map_err(|e| fail(&e))?;
    Ok(())
}

/// Whether the files under `dir` (not following links) add up to more than `max` bytes;
/// stops counting once they do.
fn size_over(dir: &Path, max: u64) -> bool {
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                total += meta.len();
                if total > max {
                    return true;
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_urls_and_local_paths() {
        for url in [
            "https://github.com/org/repo",
            "http://127.0.0.1:8080/repo.git",
            "git://127.0.0.1/repo",
            "ssh://git@host/repo",
            "file:///srv/repo",
            "git@github.com:org/repo.git",
        ] {
            assert!(is_git_url(url), "{url}");
        }
        for path in ["deploy/", "./a@b:c", "/srv/k8s/app.yaml", "Dockerfile"] {
            assert!(!is_git_url(path), "{path}");
        }
    }

    #[test]
    fn size_is_counted_through_subdirectories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/f"), vec![0u8; 600]).unwrap();
        std::fs::write(dir.path().join("g"), vec![0u8; 500]).unwrap();
        assert!(!size_over(dir.path(), 1100));
        assert!(size_over(dir.path(), 1099));
    }
}
