//! Attributes payload records: `key_len u64 | value_len u64 | key | value`.
//! Defined by the format; no known tool writes them, but we read them.

use super::codec::Bytes;
use super::error::{PayloadId, Result};

/// One opaque key/value attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

pub fn decode_attributes(
    body: &[u8],
    num_records: u32,
    payload: PayloadId,
) -> Result<Vec<Attribute>> {
    let mut cur = Bytes::new(body, payload);
    let mut out = Vec::new();
    for record in 0..num_records as usize {
        cur.record = record;
        let key_len = cur.u64("key length")?;
        let value_len = cur.u64("value length")?;
        // Lengths beyond the body fail in `take`; usize conversion cannot lose them.
        let key = cur.take(usize::try_from(key_len).unwrap_or(usize::MAX), "key")?;
        let value = cur.take(usize::try_from(value_len).unwrap_or(usize::MAX), "value")?;
        out.push(Attribute {
            key: key.to_vec(),
            value: value.to_vec(),
        });
    }
    Ok(out)
}

pub fn encode_attributes(attributes: &[Attribute]) -> Vec<u8> {
    let mut out = Vec::new();
    for a in attributes {
        out.extend_from_slice(&(a.key.len() as u64).to_be_bytes());
        out.extend_from_slice(&(a.value.len() as u64).to_be_bytes());
        out.extend_from_slice(&a.key);
        out.extend_from_slice(&a.value);
    }
    out
}
