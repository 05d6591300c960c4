//! sha256 of what is written, and the check against the recipe's hash.

use std::io::{self, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::UpstreamError;

/// A writer that hashes everything passing through it.
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// The writer back and the hex digest of all bytes written.
    pub(crate) fn finish(self) -> (W, String) {
        (self.inner, hex::encode(self.hasher.finalize()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Hex sha256 of a file's content.
pub(crate) fn hash_file(path: &Path) -> io::Result<String> {
    moss_core::util::sha256_file(path).map(|(hash, _)| hash)
}

/// The recipe's hash in canonical form (64 lowercase hex digits).
pub(crate) fn expected_hash(url: &str, hash: &str) -> Result<String, UpstreamError> {
    let hash = hash.trim().to_ascii_lowercase();
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(UpstreamError::Invalid {
            url: url.to_string(),
            reason: format!("`{hash}` is not a sha256 (64 hex digits)"),
        });
    }
    Ok(hash)
}

/// Fail with a mismatch naming the upstream unless the hashes agree.
pub(crate) fn check(url: &str, expected: &str, actual: &str) -> Result<(), UpstreamError> {
    if expected == actual {
        Ok(())
    } else {
        Err(UpstreamError::HashMismatch {
            url: url.to_string(),
            expected: expected.to_string(),
            actual: actual.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_writer_matches_known_digest() {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"abc").unwrap();
        let (bytes, digest) = w.finish();
        assert_eq!(bytes, b"abc");
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hashes_are_canonicalised_and_checked() {
        let upper = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
        assert_eq!(expected_hash("u", upper).unwrap(), upper.to_lowercase());
        assert!(expected_hash("u", "abc12").is_err());
        let err = check("https://h/x", "aa", "bb").unwrap_err().to_string();
        assert!(err.contains("https://h/x") && err.contains("aa") && err.contains("bb"));
    }
}
