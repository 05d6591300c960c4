//! The 32-byte header in front of every payload body.

/// Size of a payload header in bytes.
pub const PAYLOAD_HEADER_LEN: usize = 32;

/// What a payload holds (payload header byte 30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadKind {
    Meta,
    Content,
    Layout,
    Index,
    Attributes,
    Unknown(u8),
}

impl PayloadKind {
    pub fn from_byte(b: u8) -> Self {
        match b {
            1 => PayloadKind::Meta,
            2 => PayloadKind::Content,
            3 => PayloadKind::Layout,
            4 => PayloadKind::Index,
            5 => PayloadKind::Attributes,
            other => PayloadKind::Unknown(other),
        }
    }

    pub fn to_byte(self) -> u8 {
        match self {
            PayloadKind::Meta => 1,
            PayloadKind::Content => 2,
            PayloadKind::Layout => 3,
            PayloadKind::Index => 4,
            PayloadKind::Attributes => 5,
            PayloadKind::Unknown(b) => b,
        }
    }
}

impl std::fmt::Display for PayloadKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PayloadKind::Meta => f.write_str("Meta"),
            PayloadKind::Content => f.write_str("Content"),
            PayloadKind::Layout => f.write_str("Layout"),
            PayloadKind::Index => f.write_str("Index"),
            PayloadKind::Attributes => f.write_str("Attributes"),
            PayloadKind::Unknown(b) => write!(f, "unknown kind {b}"),
        }
    }
}

/// How a payload body is stored (payload header byte 31).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Zstd,
    Unknown(u8),
}

impl Compression {
    pub fn from_byte(b: u8) -> Self {
        match b {
            1 => Compression::None,
            2 => Compression::Zstd,
            other => Compression::Unknown(other),
        }
    }

    pub fn to_byte(self) -> u8 {
        match self {
            Compression::None => 1,
            Compression::Zstd => 2,
            Compression::Unknown(b) => b,
        }
    }
}

/// A decoded payload header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadHeader {
    /// Bytes of the body as stored in the file (compressed).
    pub stored_size: u64,
    /// Bytes of the body once decompressed.
    pub plain_size: u64,
    /// xxh3-64 of the stored body bytes.
    pub checksum: u64,
    pub num_records: u32,
    pub version: u16,
    pub kind: PayloadKind,
    pub compression: Compression,
}

impl PayloadHeader {
    pub fn decode(b: &[u8; PAYLOAD_HEADER_LEN]) -> Self {
        let u64_at = |i: usize| {
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[i..i + 8]);
            u64::from_be_bytes(x)
        };
        PayloadHeader {
            stored_size: u64_at(0),
            plain_size: u64_at(8),
            checksum: u64_at(16),
            num_records: u32::from_be_bytes([b[24], b[25], b[26], b[27]]),
            version: u16::from_be_bytes([b[28], b[29]]),
            kind: PayloadKind::from_byte(b[30]),
            compression: Compression::from_byte(b[31]),
        }
    }

    pub fn encode(&self) -> [u8; PAYLOAD_HEADER_LEN] {
        let mut out = [0u8; PAYLOAD_HEADER_LEN];
        out[0..8].copy_from_slice(&self.stored_size.to_be_bytes());
        out[8..16].copy_from_slice(&self.plain_size.to_be_bytes());
        out[16..24].copy_from_slice(&self.checksum.to_be_bytes());
        out[24..28].copy_from_slice(&self.num_records.to_be_bytes());
        out[28..30].copy_from_slice(&self.version.to_be_bytes());
        out[30] = self.kind.to_byte();
        out[31] = self.compression.to_byte();
        out
    }
}
