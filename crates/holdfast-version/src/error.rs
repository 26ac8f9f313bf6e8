//! The one error type of this crate: a version string that a scheme rejects.
//!
//! Inputs come from container images and advisory feeds, so the error keeps
//! only a bounded preview of the offending string (see [`VersionError::input`]).

use crate::Scheme;

/// Longest version string, in bytes, that any scheme accepts.
///
/// Real versions are far shorter (the longest seen in Debian or PyPI are well
/// under 200 bytes); the cap bounds the work done on hostile input.
pub const MAX_VERSION_LEN: usize = 1024;

/// How many characters of the offending input an error keeps.
const PREVIEW_CHARS: usize = 128;

/// Why a version string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VersionErrorKind {
    /// The string is empty (or only whitespace, for schemes that trim).
    Empty,
    /// The string is longer than [`MAX_VERSION_LEN`] bytes.
    TooLong {
        /// Length of the rejected string, in bytes.
        len: usize,
    },
    /// The string does not follow the scheme's syntax.
    Malformed {
        /// What is wrong with it, in words.
        reason: String,
    },
}

/// A version string that a [`Scheme`] cannot parse.
///
/// Names the scheme and (a preview of) the offending string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {scheme} version {input:?}: {kind}")]
pub struct VersionError {
    scheme: Scheme,
    input: String,
    kind: VersionErrorKind,
}

impl std::fmt::Display for VersionErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VersionErrorKind::Empty => f.write_str("empty version string"),
            VersionErrorKind::TooLong { len } => write!(
                f,
                "version string is {len} bytes long, longer than the limit of {MAX_VERSION_LEN}"
            ),
            VersionErrorKind::Malformed { reason } => f.write_str(reason),
        }
    }
}

impl VersionError {
    /// Builds an error for `input`, keeping at most a short preview of it.
    pub(crate) fn new(scheme: Scheme, input: &str, kind: VersionErrorKind) -> Self {
        let input = if input.chars().count() > PREVIEW_CHARS {
            let mut s: String = input.chars().take(PREVIEW_CHARS).collect();
            s.push('…');
            s
        } else {
            input.to_owned()
        };
        VersionError {
            scheme,
            input,
            kind,
        }
    }

    /// A [`VersionErrorKind::Malformed`] error with the given reason.
    pub(crate) fn malformed(scheme: Scheme, input: &str, reason: impl Into<String>) -> Self {
        Self::new(
            scheme,
            input,
            VersionErrorKind::Malformed {
                reason: reason.into(),
            },
        )
    }

    /// The scheme that rejected the string.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The offending string; cut to its first 128 characters (followed by
    /// `…`) when it was longer.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// Why the string was rejected.
    pub fn kind(&self) -> &VersionErrorKind {
        &self.kind
    }
}

/// The checks every scheme does first: not empty, not over
/// [`MAX_VERSION_LEN`] bytes.
pub(crate) fn check_bounds(scheme: Scheme, input: &str) -> Result<(), VersionError> {
    if input.len() > MAX_VERSION_LEN {
        return Err(VersionError::new(
            scheme,
            input,
            VersionErrorKind::TooLong { len: input.len() },
        ));
    }
    if input.is_empty() {
        return Err(VersionError::new(scheme, input, VersionErrorKind::Empty));
    }
    Ok(())
}
