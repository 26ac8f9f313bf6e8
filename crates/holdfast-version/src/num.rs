//! Helpers shared by the schemes: comparing runs of ASCII digits as
//! unbounded non-negative integers, without parsing them into a machine word
//! (so `99999999999999999999` neither overflows nor panics).

use std::cmp::Ordering;

/// Strips leading `'0'` bytes from a run of ASCII digits.
pub(crate) fn strip_zeros(digits: &str) -> &str {
    digits.trim_start_matches('0')
}

/// Compares two runs of ASCII digits as non-negative integers.
///
/// Leading zeros are ignored and an empty run counts as zero.
pub(crate) fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = strip_zeros(a);
    let b = strip_zeros(b);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// True when `s` is non-empty and made only of ASCII digits.
pub(crate) fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_compare_numerically() {
        assert_eq!(cmp_digits("10", "9"), Ordering::Greater);
        assert_eq!(cmp_digits("007", "7"), Ordering::Equal);
        assert_eq!(cmp_digits("", "0"), Ordering::Equal);
        assert_eq!(
            cmp_digits("99999999999999999999999", "100000000000000000000000"),
            Ordering::Less
        );
    }
}
