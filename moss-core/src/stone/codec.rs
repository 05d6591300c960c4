//! Small helpers to decode big-endian records from a byte slice without
//! panicking on short input.

use super::error::{PayloadId, StoneError};

/// A read position in a decoded payload body. Every read checks bounds.
pub(crate) struct Bytes<'a> {
    buf: &'a [u8],
    pos: usize,
    payload: PayloadId,
    /// Index of the record being decoded, for error messages.
    pub record: usize,
}

impl<'a> Bytes<'a> {
    pub fn new(buf: &'a [u8], payload: PayloadId) -> Self {
        Bytes {
            buf,
            pos: 0,
            payload,
            record: 0,
        }
    }

    pub fn malformed(&self, reason: impl Into<String>) -> StoneError {
        StoneError::Malformed {
            payload: self.payload,
            record: self.record,
            reason: reason.into(),
        }
    }

    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], StoneError> {
        let left = self.buf.len() - self.pos;
        if n > left {
            return Err(self.malformed(format!("{what} needs {n} bytes but only {left} remain")));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], StoneError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub fn u8(&mut self, what: &str) -> Result<u8, StoneError> {
        Ok(self.array::<1>(what)?[0])
    }
    pub fn u16(&mut self, what: &str) -> Result<u16, StoneError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }
    pub fn u32(&mut self, what: &str) -> Result<u32, StoneError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }
    pub fn u64(&mut self, what: &str) -> Result<u64, StoneError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }
    pub fn u128(&mut self, what: &str) -> Result<u128, StoneError> {
        Ok(u128::from_be_bytes(self.array(what)?))
    }
}

/// Strips the trailing NULs that legacy writers put inside string fields.
pub(crate) fn strip_nuls(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    &bytes[..end]
}

/// Decodes a string field: trailing NULs stripped, UTF-8 required.
pub(crate) fn text(bytes: &[u8], cur: &Bytes<'_>, what: &str) -> Result<String, StoneError> {
    String::from_utf8(strip_nuls(bytes).to_vec())
        .map_err(|_| cur.malformed(format!("{what} is not valid UTF-8")))
}
