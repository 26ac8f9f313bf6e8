//! Deterministic identifiers: a scan of the same input renders the same document.

use holdfast_model::ScanResult;
use sha2::{Digest, Sha256};

/// A UUID-shaped identifier (version 5 layout, variant RFC 4122) derived from `seed`.
pub fn uuid_from(seed: &str) -> String {
    let h = Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// The id of a document rendered from `result` (CycloneDX serial number, SPDX
/// namespace): derived from its creation time and its targets.
pub fn document_uuid(result: &ScanResult) -> String {
    let seed = serde_json::to_string(&result.targets).unwrap_or_default();
    uuid_from(&format!("{}{seed}", result.created_at))
}

/// A short hex digest, for element ids that must be unique but need not be read.
pub fn short_hash(seed: &str) -> String {
    hex::encode(&Sha256::digest(seed.as_bytes())[..8])
}
