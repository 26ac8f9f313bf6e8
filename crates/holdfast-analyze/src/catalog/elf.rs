//! The little of ELF that the start of a file tells: its class and byte order, and the
//! program headers' mapping of virtual addresses to file offsets.
//!
//! The program header table normally follows the ELF header directly (System V gABI,
//! "ELF Header" and "Program Header" chapters), so a forward-only reader can learn the
//! load segments before it reads anything else. Section headers, by contrast, usually sit
//! at the end of the file; readers that need them must hold the whole file.

use object::elf::{FileHeader32, FileHeader64, PT_LOAD};
use object::read::elf::{FileHeader, ProgramHeader};
use object::Endianness;

/// The ELF magic, `e_ident[EI_MAG0..=EI_MAG3]`.
pub(crate) const MAGIC: &[u8; 4] = b"\x7fELF";

/// Size of the 64-bit ELF header, which is larger than the 32-bit one (52 bytes).
pub(crate) const HEADER_BYTES: usize = 64;

/// The program header table is only read when it ends within this many bytes from the
/// start of the file; real tables are a few hundred bytes right after the header.
pub(crate) const MAX_PROGRAM_TABLE_END: u64 = 64 << 10;

/// One `PT_LOAD` segment: `filesz` bytes at file `offset` are mapped at `vaddr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    /// `p_vaddr`.
    pub vaddr: u64,
    /// `p_offset`.
    pub offset: u64,
    /// `p_filesz`.
    pub filesz: u64,
}

/// Whether the bytes start with the ELF magic.
pub(crate) fn is_elf(prefix: &[u8]) -> bool {
    prefix.starts_with(MAGIC)
}

/// Where the program header table ends, from the ELF header alone (`e_phoff` plus
/// `e_phnum * e_phentsize`); `None` when the header is not a valid ELF header.
pub(crate) fn program_table_end(header: &[u8]) -> Option<u64> {
    fn end<H: FileHeader<Endian = Endianness>>(data: &[u8]) -> Option<u64> {
        let h = H::parse(data).ok()?;
        let e = h.endian().ok()?;
        let off: u64 = h.e_phoff(e).into();
        let size = u64::from(h.e_phnum(e)) * u64::from(h.e_phentsize(e));
        off.checked_add(size)
    }
    match header.get(4) {
        Some(1) => end::<FileHeader32<Endianness>>(header),
        Some(2) => end::<FileHeader64<Endianness>>(header),
        _ => None,
    }
}

/// The `PT_LOAD` segments described by the program header table, given the file's first
/// bytes up to at least [`program_table_end`]. Empty when the table cannot be read.
pub(crate) fn load_segments(prefix: &[u8]) -> Vec<Segment> {
    fn segments<H: FileHeader<Endian = Endianness>>(data: &[u8]) -> Option<Vec<Segment>> {
        let h = H::parse(data).ok()?;
        let e = h.endian().ok()?;
        let table = h.program_headers(e, data).ok()?;
        Some(
            table
                .iter()
                .filter(|p| p.p_type(e) == PT_LOAD)
                .map(|p| Segment {
                    vaddr: p.p_vaddr(e).into(),
                    offset: p.p_offset(e).into(),
                    filesz: p.p_filesz(e).into(),
                })
                .collect(),
        )
    }
    let found = match prefix.get(4) {
        Some(1) => segments::<FileHeader32<Endianness>>(prefix),
        Some(2) => segments::<FileHeader64<Endianness>>(prefix),
        _ => None,
    };
    found.unwrap_or_default()
}

/// The file offset of virtual address `addr` and how many bytes from there the same
/// segment holds in the file (`debug/buildinfo`'s `elfExe.ReadData` rule: the first
/// segment with `vaddr <= addr < vaddr + filesz`).
pub(crate) fn file_offset(segments: &[Segment], addr: u64) -> Option<(u64, u64)> {
    segments.iter().find_map(|s| {
        let end = s.vaddr.checked_add(s.filesz)?;
        if s.vaddr <= addr && addr < end {
            let delta = addr - s.vaddr;
            Some((s.offset.checked_add(delta)?, end - addr))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian ELF64 header followed by one PT_LOAD program header.
    fn elf64(phoff: u64, phnum: u16) -> Vec<u8> {
        let mut b = vec![0u8; 64];
        b[..4].copy_from_slice(MAGIC);
        b[4] = 2; // ELFCLASS64
        b[5] = 1; // ELFDATA2LSB
        b[6] = 1; // EV_CURRENT
        b[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        b[20..24].copy_from_slice(&1u32.to_le_bytes());
        b[32..40].copy_from_slice(&phoff.to_le_bytes());
        b[52..54].copy_from_slice(&64u16.to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&phnum.to_le_bytes());
        let mut ph = vec![0u8; 56];
        ph[..4].copy_from_slice(&PT_LOAD.to_le_bytes());
        ph[8..16].copy_from_slice(&0x1000u64.to_le_bytes()); // p_offset
        ph[16..24].copy_from_slice(&0x401000u64.to_le_bytes()); // p_vaddr
        ph[32..40].copy_from_slice(&0x200u64.to_le_bytes()); // p_filesz
        b.extend_from_slice(&ph);
        b
    }

    #[test]
    fn maps_addresses_through_load_segments() {
        let b = elf64(64, 1);
        assert!(is_elf(&b));
        assert_eq!(program_table_end(&b[..64]), Some(120));
        let segs = load_segments(&b);
        assert_eq!(
            segs,
            vec![Segment {
                vaddr: 0x401000,
                offset: 0x1000,
                filesz: 0x200
            }]
        );
        assert_eq!(file_offset(&segs, 0x401010), Some((0x1010, 0x1f0)));
        assert_eq!(file_offset(&segs, 0x401200), None);
        assert_eq!(file_offset(&segs, 0x400fff), None);
    }

    #[test]
    fn forged_tables_give_nothing() {
        // Table claimed far past the bytes we have.
        let b = elf64(1 << 40, 1);
        assert_eq!(load_segments(&b), Vec::new());
        // Table end overflows.
        let b = elf64(u64::MAX - 10, 0xffff);
        assert!(program_table_end(&b[..64]).is_none_or(|e| e > MAX_PROGRAM_TABLE_END));
        assert!(load_segments(&b).is_empty());
        // Not ELF at all, or truncated.
        assert!(load_segments(b"\x7fELF\x02").is_empty());
        assert!(program_table_end(b"MZ").is_none());
        // Segment whose end overflows is never matched.
        let segs = [Segment {
            vaddr: u64::MAX - 1,
            offset: 5,
            filesz: 10,
        }];
        assert_eq!(file_offset(&segs, u64::MAX - 1), None);
    }
}
