//! Index payload records: where each unique file lies in the decompressed
//! content stream. Record: `start u64 | end u64 | digest u128`, 32 bytes.

use super::codec::Bytes;
use super::error::{PayloadId, Result};

/// Size of one index record.
pub const INDEX_RECORD_LEN: usize = 32;

/// The bytes `start..end` of the decompressed content hash (xxh3-128) to `digest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IndexEntry {
    pub start: u64,
    pub end: u64,
    pub digest: u128,
}

impl IndexEntry {
    /// Length of the file in bytes (0 if the range is inverted).
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub fn decode_index(body: &[u8], num_records: u32, payload: PayloadId) -> Result<Vec<IndexEntry>> {
    let mut cur = Bytes::new(body, payload);
    let mut entries = Vec::with_capacity((num_records as usize).min(body.len() / INDEX_RECORD_LEN));
    for record in 0..num_records as usize {
        cur.record = record;
        let start = cur.u64("start")?;
        let end = cur.u64("end")?;
        let digest = cur.u128("digest")?;
        if end < start {
            return Err(cur.malformed(format!("range end {end} is before its start {start}")));
        }
        entries.push(IndexEntry { start, end, digest });
    }
    Ok(entries)
}

pub fn encode_index(entries: &[IndexEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * INDEX_RECORD_LEN);
    for e in entries {
        out.extend_from_slice(&e.start.to_be_bytes());
        out.extend_from_slice(&e.end.to_be_bytes());
        out.extend_from_slice(&e.digest.to_be_bytes());
    }
    out
}
