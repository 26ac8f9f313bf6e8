//! File capabilities: the `security.capability` extended attribute, decoded.
//!
//! The attribute holds a little-endian `vfs_cap_data` structure (Linux
//! `include/uapi/linux/capability.h`): a `magic_etc` word whose top byte is the revision
//! and whose bit 0 is the "effective" flag, then (permitted, inheritable) 32-bit pairs:
//! one pair for revision 1, two for revisions 2 and 3 (64-bit sets), and for revision 3 a
//! trailing `rootid` (the user namespace root the capabilities apply to). Written by hand:
//! the format is three fixed layouts, and the crates that read it do so from live files.

/// Capability names by bit number, as `capabilities(7)` lists them.
const NAMES: [&str; 41] = [
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

const REVISION_MASK: u32 = 0xFF00_0000;
const REVISION_1: u32 = 0x0100_0000;
const REVISION_2: u32 = 0x0200_0000;
const REVISION_3: u32 = 0x0300_0000;
const EFFECTIVE: u32 = 0x0000_0001;

/// Why a `security.capability` value could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileCapsError {
    #[error("security.capability is {0} bytes, too short for its revision")]
    Truncated(usize),
    #[error("security.capability has unknown revision 0x{0:08x}")]
    UnknownRevision(u32),
}

/// A file's capability sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCaps {
    /// 1, 2 or 3.
    pub revision: u8,
    /// Capabilities granted on exec when the bounding set allows.
    pub permitted: u64,
    /// Capabilities kept from the caller's inheritable set.
    pub inheritable: u64,
    /// Whether the permitted set becomes effective at once (`+ep` rather than `+p`).
    pub effective: bool,
    /// Revision 3 only: the namespace root uid the capabilities are scoped to.
    pub root_id: Option<u32>,
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

impl FileCaps {
    /// Decodes a raw `vfs_cap_data` value. Longer values are accepted (trailing bytes
    /// ignored), as the kernel does.
    pub fn parse(raw: &[u8]) -> Result<Self, FileCapsError> {
        let short = || FileCapsError::Truncated(raw.len());
        let magic = le32(raw, 0).ok_or_else(short)?;
        let (revision, pairs, has_root) = match magic & REVISION_MASK {
            REVISION_1 => (1, 1, false),
            REVISION_2 => (2, 2, false),
            REVISION_3 => (3, 2, true),
            other => return Err(FileCapsError::UnknownRevision(other)),
        };
        let mut permitted = 0u64;
        let mut inheritable = 0u64;
        for i in 0..pairs {
            let p = le32(raw, 4 + i * 8).ok_or_else(short)?;
            let inh = le32(raw, 8 + i * 8).ok_or_else(short)?;
            permitted |= u64::from(p) << (32 * i);
            inheritable |= u64::from(inh) << (32 * i);
        }
        let root_id = if has_root {
            Some(le32(raw, 4 + pairs * 8).ok_or_else(short)?)
        } else {
            None
        };
        Ok(FileCaps {
            revision,
            permitted,
            inheritable,
            effective: magic & EFFECTIVE != 0,
            root_id,
        })
    }

    /// Names (`sys_admin`, ...) of the capabilities in the permitted or inheritable set,
    /// lowest bit first; unknown bits are named `cap_N`.
    pub fn names(&self) -> Vec<String> {
        let all = self.permitted | self.inheritable;
        (0..64)
            .filter(|bit| all & (1u64 << bit) != 0)
            .map(|bit| match NAMES.get(bit) {
                Some(n) => (*n).to_string(),
                None => format!("cap_{bit}"),
            })
            .collect()
    }

    /// The `getcap`-style text: `cap_net_raw,cap_sys_admin=ep`.
    pub fn display(&self) -> String {
        let names: Vec<String> = self.names().iter().map(|n| format!("cap_{n}")).collect();
        let mut flags = String::new();
        if self.effective {
            flags.push('e');
        }
        if self.inheritable != 0 {
            flags.push('i');
        }
        if self.permitted != 0 {
            flags.push('p');
        }
        format!("{}={flags}", names.join(","))
    }
}

/// Encodes capability sets as a revision-2 `vfs_cap_data` value (what `setcap` writes
/// outside user namespaces); for test fixtures and round trips.
pub fn encode_v2(permitted: u64, inheritable: u64, effective: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(20);
    let magic = REVISION_2 | if effective { EFFECTIVE } else { 0 };
    out.extend_from_slice(&magic.to_le_bytes());
    for half in 0..2 {
        out.extend_from_slice(&((permitted >> (32 * half)) as u32).to_le_bytes());
        out.extend_from_slice(&((inheritable >> (32 * half)) as u32).to_le_bytes());
    }
    out
}

/// The bit of a capability name (`sys_admin` or `CAP_SYS_ADMIN`, any case).
pub fn bit_of(name: &str) -> Option<u32> {
    let lower = name.to_ascii_lowercase();
    let bare = lower.strip_prefix("cap_").unwrap_or(&lower);
    NAMES.iter().position(|n| *n == bare).map(|i| i as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_2_round_trip() {
        let raw = encode_v2(1 << 21 | 1 << 13, 0, true);
        let caps = FileCaps::parse(&raw).unwrap();
        assert_eq!(caps.revision, 2);
        assert_eq!(caps.names(), vec!["net_raw", "sys_admin"]);
        assert_eq!(caps.display(), "cap_net_raw,cap_sys_admin=ep");
    }

    #[test]
    fn revision_3_and_high_bits() {
        // cap_bpf is bit 39: in the second 32-bit word.
        let mut raw = 0x0300_0000u32.to_le_bytes().to_vec();
        for w in [0u32, 0, 1 << (39 - 32), 0, 1000] {
            raw.extend_from_slice(&w.to_le_bytes());
        }
        let caps = FileCaps::parse(&raw).unwrap();
        assert_eq!(caps.names(), vec!["bpf"]);
        assert_eq!(caps.root_id, Some(1000));
        assert!(!caps.effective);
    }

    #[test]
    fn revision_1_and_errors() {
        let mut raw = 0x0100_0001u32.to_le_bytes().to_vec();
        raw.extend_from_slice(&(1u32 << 7).to_le_bytes());
        raw.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(FileCaps::parse(&raw).unwrap().names(), vec!["setuid"]);
        assert_eq!(FileCaps::parse(&raw[..6]), Err(FileCapsError::Truncated(6)));
        assert_eq!(FileCaps::parse(&[]), Err(FileCapsError::Truncated(0)));
        assert!(matches!(
            FileCaps::parse(&0x0900_0000u32.to_le_bytes()),
            Err(FileCapsError::UnknownRevision(_))
        ));
        assert_eq!(bit_of("CAP_SYS_ADMIN"), Some(21));
        assert_eq!(bit_of("net_admin"), Some(12));
        assert_eq!(bit_of("nope"), None);
    }
}
