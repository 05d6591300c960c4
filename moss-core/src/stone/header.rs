//! The 32-byte file header at the start of every stone.

use super::error::{Result, StoneError};

/// `"\0mos"`.
pub const MAGIC: [u8; 4] = [0x00, 0x6d, 0x6f, 0x73];
/// Fixed bytes 6..27 of a v1 header; a mismatch means the file is corrupt.
pub const INTEGRITY: [u8; 21] = [
    0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 0, 5, 0, 0, 6, 0, 0, 7,
];
/// Size of the header in bytes.
pub const HEADER_LEN: usize = 32;

/// What kind of stone a file is (header byte 27).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Binary,
    Delta,
    Repository,
    BuildManifest,
    Unknown(u8),
}

impl FileType {
    pub fn from_byte(b: u8) -> Self {
        match b {
            1 => FileType::Binary,
            2 => FileType::Delta,
            3 => FileType::Repository,
            4 => FileType::BuildManifest,
            other => FileType::Unknown(other),
        }
    }

    pub fn to_byte(self) -> u8 {
        match self {
            FileType::Binary => 1,
            FileType::Delta => 2,
            FileType::Repository => 3,
            FileType::BuildManifest => 4,
            FileType::Unknown(b) => b,
        }
    }
}

impl std::fmt::Display for FileType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileType::Binary => f.write_str("binary"),
            FileType::Delta => f.write_str("delta"),
            FileType::Repository => f.write_str("repository"),
            FileType::BuildManifest => f.write_str("build manifest"),
            FileType::Unknown(b) => write!(f, "unknown ({b})"),
        }
    }
}

/// The decoded v1 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Number of payloads that follow the header.
    pub num_payloads: u16,
    pub file_type: FileType,
}

impl Header {
    /// Decodes and validates the 32 header bytes.
    pub fn decode(bytes: &[u8; HEADER_LEN]) -> Result<Self> {
        let mut magic = [0u8; 4];
        magic.copy_from_slice(&bytes[0..4]);
        if magic != MAGIC {
            return Err(StoneError::BadMagic { found: magic });
        }
        // The version decides how bytes 4..28 are read, so it comes first.
        let version = u32::from_be_bytes([bytes[28], bytes[29], bytes[30], bytes[31]]);
        if version != 1 {
            return Err(StoneError::UnsupportedVersion(version));
        }
        if bytes[6..27] != INTEGRITY {
            return Err(StoneError::CorruptHeader);
        }
        Ok(Header {
            num_payloads: u16::from_be_bytes([bytes[4], bytes[5]]),
            file_type: FileType::from_byte(bytes[27]),
        })
    }

    /// Encodes the header as a v1 header.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&MAGIC);
        out[4..6].copy_from_slice(&self.num_payloads.to_be_bytes());
        out[6..27].copy_from_slice(&INTEGRITY);
        out[27] = self.file_type.to_byte();
        out[28..32].copy_from_slice(&1u32.to_be_bytes());
        out
    }
}
