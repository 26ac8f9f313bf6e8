//! Bounds-checked integer reads.
//!
//! Every read of a data-derived offset goes through these helpers, which
//! return `None` instead of panicking when the range leaves the slice.

/// Byte order of the integers in a structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endian {
    /// Least significant byte first (x86, aarch64 rpm databases).
    Little,
    /// Most significant byte first (rpm headers; s390x / ppc64 databases).
    Big,
}

impl Endian {
    /// Reads a `u16` at `off`, or `None` if it does not fit in `data`.
    pub(crate) fn u16(self, data: &[u8], off: usize) -> Option<u16> {
        let raw: [u8; 2] = data.get(off..off.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u16::from_le_bytes(raw),
            Endian::Big => u16::from_be_bytes(raw),
        })
    }

    /// Reads a `u32` at `off`, or `None` if it does not fit in `data`.
    pub(crate) fn u32(self, data: &[u8], off: usize) -> Option<u32> {
        let raw: [u8; 4] = data.get(off..off.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u32::from_le_bytes(raw),
            Endian::Big => u32::from_be_bytes(raw),
        })
    }

    /// Reads a `u64` at `off`, or `None` if it does not fit in `data`.
    pub(crate) fn u64(self, data: &[u8], off: usize) -> Option<u64> {
        let raw: [u8; 8] = data.get(off..off.checked_add(8)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u64::from_le_bytes(raw),
            Endian::Big => u64::from_be_bytes(raw),
        })
    }
}

/// Returns `data[off..off + len]`, or `None` if that range leaves `data`.
pub(crate) fn slice(data: &[u8], off: usize, len: usize) -> Option<&[u8]> {
    data.get(off..off.checked_add(len)?)
}

/// Converts a `u32` taken from a file to `usize` (lossless on every target
/// this crate supports; saturates instead of panicking elsewhere).
pub(crate) fn to_usize(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounds_checked() {
        let d = [1u8, 2, 3, 4, 5];
        assert_eq!(Endian::Big.u32(&d, 0), Some(0x0102_0304));
        assert_eq!(Endian::Little.u32(&d, 1), Some(0x0504_0302));
        assert_eq!(Endian::Little.u32(&d, 2), None);
        assert_eq!(Endian::Big.u16(&d, usize::MAX), None);
        assert_eq!(Endian::Big.u64(&d, 0), None);
        assert_eq!(slice(&d, 4, 1), Some(&[5u8][..]));
        assert_eq!(slice(&d, 4, 2), None);
        assert_eq!(slice(&d, usize::MAX, 2), None);
    }
}
