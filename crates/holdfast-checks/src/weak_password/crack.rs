//! Trying candidates against crypt(3) hashes: parallel, and bounded by a deadline.
//!
//! Slow hashes are slow by design (yescrypt at Debian's default cost takes tens of
//! milliseconds), so this runs once per image in the image-wide step, on rayon, and gives
//! up at the deadline: the account is then reported as not fully checked.

use std::time::Instant;

use rayon::prelude::*;

use super::crypt::Verifier;
use super::dictionary::{Candidates, Source};

/// What trying the candidates on one hash gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A candidate matched; the source says which list it was in.
    Cracked(Source),
    /// Every candidate was tried; none matched.
    Resisted,
    /// The deadline came first.
    Incomplete,
}

/// Tries `candidates` on `hash` until one matches, all fail, or `deadline` passes.
pub fn crack(hash: &str, candidates: &Candidates, deadline: Instant) -> Outcome {
    // A verifier (libxcrypt's work area) per rayon job, not per candidate.
    try_all(candidates, deadline, Verifier::default, |v, password| {
        v.verify(password, hash)
    })
}

/// Tries `candidates` with any verifier (service hashes), until one matches, all fail, or
/// `deadline` passes.
pub fn search(
    candidates: &Candidates,
    deadline: Instant,
    verify: impl Fn(&str) -> bool + Sync,
) -> Outcome {
    try_all(candidates, deadline, || (), |(), password| verify(password))
}

/// The parallel search both share: `verify` gets per-job state made by `init`.
fn try_all<S>(
    candidates: &Candidates,
    deadline: Instant,
    init: impl Fn() -> S + Sync + Send,
    verify: impl Fn(&mut S, &str) -> bool + Sync + Send,
) -> Outcome {
    let list: Vec<(&str, Source)> = candidates.iter().collect();
    let hit = list
        .par_iter()
        .map_init(init, |state, (password, source)| {
            if Instant::now() >= deadline {
                Some(Err(()))
            } else if verify(state, password) {
                Some(Ok(*source))
            } else {
                None
            }
        })
        .find_map_any(|r| r);
    match hit {
        Some(Ok(source)) => Outcome::Cracked(source),
        Some(Err(())) => Outcome::Incomplete,
        None => Outcome::Resisted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weak_password::dictionary::{derived_from, user_dictionary};
    use std::time::Duration;

    // "secret" hashed with MD5-crypt and the salt "saltsalt", as
    // `openssl passwd -1 -salt saltsalt secret` prints it.
    const MD5_SECRET: &str = "$1$saltsalt$9xy1btjgzLYfb7hivXtC//";

    #[test]
    fn finds_the_candidate_and_says_where_it_came_from() {
        let mut c = derived_from(&["alice"]);
        c.extend(&user_dictionary("hunter2\nsecret\n", 10));
        let far = Instant::now() + Duration::from_secs(60);
        assert_eq!(
            crack(MD5_SECRET, &c, far),
            Outcome::Cracked(Source::UserDictionary)
        );
        assert_eq!(
            crack(MD5_SECRET, &derived_from(&["bob"]), far),
            Outcome::Resisted
        );
    }

    #[test]
    fn stops_at_the_deadline() {
        let past = Instant::now();
        assert_eq!(
            crack(MD5_SECRET, &user_dictionary("x\ny\nsecret\n", 10), past),
            Outcome::Incomplete
        );
    }
}
