//! Verifying a candidate password against a crypt(3) hash, through libxcrypt.
//!
//! libxcrypt (Debian's `libcrypt1`, the library `login` and PAM use to check the same
//! hashes) implements every scheme a shadow file holds: yescrypt `$y$`, SHA-512 `$6$`,
//! SHA-256 `$5$`, MD5 `$1$`, bcrypt `$2a$/$2b$/$2y$` and traditional DES. Calling it means
//! the verdict is the one the image's own login would give. `crypt_rn` is the reentrant
//! form that takes a caller-owned work area and returns NULL (never a "*0" string) on
//! failure, so rayon threads can call it at once.

use std::ffi::{c_char, c_int, c_void, CStr, CString};

/// Size of libxcrypt's `struct crypt_data` (`CRYPT_DATA_INTERNAL_SIZE` + the public fields).
const CRYPT_DATA_SIZE: usize = 32768;

#[link(name = "crypt")]
extern "C" {
    fn crypt_rn(
        phrase: *const c_char,
        setting: *const c_char,
        data: *mut c_void,
        size: c_int,
    ) -> *mut c_char;
}

/// The hash schemes a shadow or passwd field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Yescrypt,
    GostYescrypt,
    Scrypt,
    Sha512,
    Sha256,
    Md5,
    Bcrypt,
    Des,
}

impl Scheme {
    /// The scheme of a hash, from its prefix; `None` for locks, placeholders and garbage.
    pub fn of(hash: &str) -> Option<Scheme> {
        let s = match hash {
            h if h.starts_with("$y$") => Scheme::Yescrypt,
            h if h.starts_with("$gy$") => Scheme::GostYescrypt,
            h if h.starts_with("$7$") => Scheme::Scrypt,
            h if h.starts_with("$6$") => Scheme::Sha512,
            h if h.starts_with("$5$") => Scheme::Sha256,
            h if h.starts_with("$1$") => Scheme::Md5,
            h if ["$2a$", "$2b$", "$2y$"].iter().any(|p| h.starts_with(p)) => Scheme::Bcrypt,
            // Traditional DES: 13 characters of the crypt alphabet.
            h if h.len() == 13
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/') =>
            {
                Scheme::Des
            }
            _ => return None,
        };
        Some(s)
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Yescrypt => "yescrypt",
            Scheme::GostYescrypt => "gost-yescrypt",
            Scheme::Scrypt => "scrypt",
            Scheme::Sha512 => "sha512crypt",
            Scheme::Sha256 => "sha256crypt",
            Scheme::Md5 => "md5crypt",
            Scheme::Bcrypt => "bcrypt",
            Scheme::Des => "descrypt",
        }
    }
}

/// A reusable libxcrypt work area; one per thread.
pub struct Verifier {
    data: Vec<u8>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            data: vec![0; CRYPT_DATA_SIZE],
        }
    }
}

impl Verifier {
    /// Whether `password` hashes to `hash`. False for anything libxcrypt rejects.
    pub fn verify(&mut self, password: &str, hash: &str) -> bool {
        let (Ok(phrase), Ok(setting)) = (CString::new(password), CString::new(hash)) else {
            return false;
        };
        // SAFETY: both strings are NUL-terminated and outlive the call; `data` is a
        // writable buffer of exactly the size passed; the returned pointer points into
        // `data` and is read before `data` is touched again.
        let out = unsafe {
            crypt_rn(
                phrase.as_ptr(),
                setting.as_ptr(),
                self.data.as_mut_ptr().cast(),
                CRYPT_DATA_SIZE as c_int,
            )
        };
        if out.is_null() {
            return false;
        }
        // SAFETY: non-NULL results are NUL-terminated strings inside `data`.
        let computed = unsafe { CStr::from_ptr(out) };
        constant_time_eq(computed.to_bytes(), hash.as_bytes())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_from_prefixes() {
        assert_eq!(Scheme::of("$y$j9T$abc$def"), Some(Scheme::Yescrypt));
        assert_eq!(Scheme::of("$6$salt$x"), Some(Scheme::Sha512));
        assert_eq!(Scheme::of("$2b$05$x"), Some(Scheme::Bcrypt));
        assert_eq!(Scheme::of("abJnggxhB/yWI"), Some(Scheme::Des));
        assert_eq!(Scheme::of("*"), None);
        assert_eq!(Scheme::of("!"), None);
        assert_eq!(Scheme::of("!$6$salt$x"), None);
        assert_eq!(Scheme::of(""), None);
    }

    #[test]
    fn rejects_garbage_without_crashing() {
        let mut v = Verifier::default();
        assert!(!v.verify("x", "$6$"));
        assert!(!v.verify("x", "not a hash at all"));
        assert!(!v.verify("a\0b", "$1$salt$x"));
    }
}
