//! Typed errors of the stone reader and writer. Every variant carries enough
//! context (which payload, which record, which path) to be shown on its own.

use std::io;
use std::path::PathBuf;

use super::payload::PayloadKind;

/// Identifies one payload of an archive in error messages: its kind and its
/// position (0-based) among the payloads of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadId {
    pub kind: PayloadKind,
    pub index: usize,
}

impl std::fmt::Display for PayloadId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} payload (#{})", self.kind, self.index)
    }
}

/// Everything that can go wrong reading, writing or extracting a stone.
#[derive(Debug, thiserror::Error)]
pub enum StoneError {
    #[error("I/O error while {context}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error("not a stone archive: magic bytes are {found:02x?}, expected 00 6d 6f 73")]
    BadMagic { found: [u8; 4] },
    #[error("corrupt stone header: the integrity bytes do not match")]
    CorruptHeader,
    #[error("unsupported stone format version {0} (only version 1 exists)")]
    UnsupportedVersion(u32),
    #[error("truncated archive: {what} ends early (needs {needed} bytes, {available} available)")]
    Truncated {
        what: String,
        needed: u64,
        available: u64,
    },
    #[error("{payload}: checksum mismatch (header says {expected:016x}, stored bytes hash to {actual:016x})")]
    ChecksumMismatch {
        payload: PayloadId,
        expected: u64,
        actual: u64,
    },
    #[error("{payload}: declared {what} of {size} bytes is refused (limit {limit} bytes)")]
    TooLarge {
        payload: PayloadId,
        what: &'static str,
        size: u64,
        limit: u64,
    },
    #[error("{payload}: unsupported compression {compression}")]
    UnsupportedCompression { payload: PayloadId, compression: u8 },
    #[error("{payload}: zstd decompression failed")]
    Decompress {
        payload: PayloadId,
        #[source]
        source: io::Error,
    },
    #[error("{payload}: decompressed to {actual} bytes but the header says {expected}")]
    PlainSizeMismatch {
        payload: PayloadId,
        expected: u64,
        actual: u64,
    },
    #[error("{payload}: record {record} is malformed: {reason}")]
    Malformed {
        payload: PayloadId,
        record: usize,
        reason: String,
    },
    #[error("content {expected:032x}: the unpacked bytes hash to {actual:032x}")]
    DigestMismatch { expected: u128, actual: u128 },
    #[error("invalid index: {reason}")]
    InvalidIndex { reason: String },
    #[error("the archive has no {0} payload")]
    MissingPayload(&'static str),
    #[error("metadata is missing the required field {0}")]
    MissingField(&'static str),
    #[error("metadata field {field} has an unusable value: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("invalid dependency or provider {text:?}: {reason}")]
    InvalidDependency { text: String, reason: String },
    #[error("unsafe layout path {path:?}: {reason}")]
    UnsafePath { path: String, reason: &'static str },
    #[error("content sink failed for {digest:032x}")]
    Sink {
        digest: u128,
        #[source]
        source: io::Error,
    },
    #[error("cannot pack {path}: {reason}")]
    Unpackable { path: PathBuf, reason: String },
    #[error("layout entry {path:?} refers to content {digest:032x} that was not supplied")]
    MissingContent { path: String, digest: u128 },
    #[error("content {digest:032x} from {source_desc} changed while packing: {reason}")]
    ContentChanged {
        digest: u128,
        source_desc: String,
        reason: String,
    },
    #[error("cannot extract {path}: {reason}")]
    Extract { path: PathBuf, reason: String },
    /// The layout as a whole is not one a package may carry (see
    /// `check_layout`).
    #[error("invalid layout: {path}: {reason}")]
    BadLayout { path: PathBuf, reason: String },
}

impl StoneError {
    /// Wraps an I/O error with a short description of what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        StoneError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result alias of the stone module.
pub type Result<T, E = StoneError> = std::result::Result<T, E>;
