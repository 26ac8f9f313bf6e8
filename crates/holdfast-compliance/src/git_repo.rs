//! `scan config URL`: a git repository cloned with `gix` (depth 1, the default branch, or
//! the branch or tag after `#`) into a temporary directory that lives as long as the scan.

use std::path::Path;
use std::sync::atomic::AtomicBool;

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
pub fn clone(arg: &str) -> Result<ClonedRepo, CloneError> {
    let (url, reference) = match arg.rsplit_once('#') {
        Some((url, r)) if !r.is_empty() => (url, Some(r)),
        _ => (arg, None),
    };
    let fail = |e: &dyn std::error::Error| CloneError {
        url: url.to_string(),
        message: holdfast_model::error_chain(e),
    };
    let dir = tempfile::Builder::new()
        .prefix("holdfast-repo-")
        .tempdir()
        .map_err(|e| fail(&e))?;
    let interrupt = AtomicBool::new(false);
    let mut prepare = gix::prepare_clone(url, dir.path())
        .map_err(|e| fail(&e))?
        .with_shallow(gix::remote::fetch::Shallow::DepthAtRemote(
            std::num::NonZeroU32::MIN,
        ));
    if let Some(r) = reference {
        prepare = prepare.with_ref_name(Some(r)).map_err(|e| fail(&e))?;
    }
    let (mut checkout, _) = prepare
        .fetch_then_checkout(gix::progress::Discard, &interrupt)
        .map_err(|e| fail(&e))?;
    checkout
        .main_worktree(gix::progress::Discard, &interrupt)
        .map_err(|e| fail(&e))?;
    Ok(ClonedRepo {
        url: url.trim_end_matches('/').to_string(),
        dir,
    })
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
}
