//! Layout payload records: one per filesystem entry the package installs.
//!
//! Record: `uid u32 | gid u32 | mode u32 | tag u32 | source_len u16 |
//! target_len u16 | file_type u8 | 11 zero bytes | source | target`.

use super::codec::{strip_nuls, text, Bytes};
use super::error::{PayloadId, Result};

/// Size of the fixed part of a layout record.
pub const LAYOUT_FIXED_LEN: usize = 32;

/// What a layout entry is, with the data each type carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LayoutKind {
    /// A regular file whose bytes are the content with this xxh3-128 digest.
    Regular {
        digest: u128,
    },
    /// A symbolic link pointing at `target` (the link text, verbatim).
    Symlink {
        target: String,
    },
    Directory,
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
    /// A file type byte this version does not know, with its raw source.
    Unknown {
        file_type: u8,
        source: Vec<u8>,
    },
}

impl LayoutKind {
    pub fn file_type_byte(&self) -> u8 {
        match self {
            LayoutKind::Regular { .. } => 1,
            LayoutKind::Symlink { .. } => 2,
            LayoutKind::Directory => 3,
            LayoutKind::CharDevice => 4,
            LayoutKind::BlockDevice => 5,
            LayoutKind::Fifo => 6,
            LayoutKind::Socket => 7,
            LayoutKind::Unknown { file_type, .. } => *file_type,
        }
    }

    /// The word `moss inspect` prints for this kind.
    pub fn name(&self) -> &'static str {
        match self {
            LayoutKind::Regular { .. } => "regular",
            LayoutKind::Symlink { .. } => "symlink",
            LayoutKind::Directory => "directory",
            LayoutKind::CharDevice => "character device",
            LayoutKind::BlockDevice => "block device",
            LayoutKind::Fifo => "fifo",
            LayoutKind::Socket => "socket",
            LayoutKind::Unknown { .. } => "unknown",
        }
    }
}

/// One filesystem entry. `path` is relative to `/usr`, without a leading slash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LayoutEntry {
    pub uid: u32,
    pub gid: u32,
    /// Full `st_mode`, file-type bits included (e.g. `0o100644`).
    pub mode: u32,
    /// Unused by every known tool; always 0.
    pub tag: u32,
    pub kind: LayoutKind,
    pub path: String,
}

impl LayoutEntry {
    /// The installed path: `/usr/` + `path`.
    pub fn usr_path(&self) -> String {
        format!("/usr/{}", self.path)
    }

    /// The entry as one line of a `.layout.tsv` listing:
    /// `/usr/<path>\t<kind>` plus `\t<digest>` (32 hex digits) for regular
    /// files and `\t<link text>` for symlinks.
    pub fn tsv_line(&self) -> String {
        match &self.kind {
            LayoutKind::Regular { digest } => {
                format!("{}\t{}\t{digest:032x}", self.usr_path(), self.kind.name())
            }
            LayoutKind::Symlink { target } => {
                format!("{}\t{}\t{target}", self.usr_path(), self.kind.name())
            }
            other => format!("{}\t{}", self.usr_path(), other.name()),
        }
    }
}

/// Decodes `num_records` layout records.
pub fn decode_layout(
    body: &[u8],
    num_records: u32,
    payload: PayloadId,
) -> Result<Vec<LayoutEntry>> {
    let mut cur = Bytes::new(body, payload);
    // Each record needs at least its fixed part; cap the reservation by the body.
    let mut entries = Vec::with_capacity((num_records as usize).min(body.len() / LAYOUT_FIXED_LEN));
    for record in 0..num_records as usize {
        cur.record = record;
        let uid = cur.u32("uid")?;
        let gid = cur.u32("gid")?;
        let mode = cur.u32("mode")?;
        let tag = cur.u32("tag")?;
        let source_len = cur.u16("source length")? as usize;
        let target_len = cur.u16("target length")? as usize;
        let file_type = cur.u8("file type")?;
        let _padding = cur.take(11, "padding")?;
        let source = cur.take(source_len, "source")?;
        let target = cur.take(target_len, "target")?;
        let path = text(target, &cur, "path")?;
        let kind = match file_type {
            1 => {
                // Digests are 16 raw bytes; legacy writers may add one NUL.
                let digest_bytes = match source.len() {
                    16 => source,
                    17 if source[16] == 0 => &source[..16],
                    n => {
                        return Err(cur.malformed(format!(
                            "regular file source must be a 16-byte digest, found {n} bytes"
                        )))
                    }
                };
                let mut d = [0u8; 16];
                d.copy_from_slice(digest_bytes);
                LayoutKind::Regular {
                    digest: u128::from_be_bytes(d),
                }
            }
            2 => LayoutKind::Symlink {
                target: text(source, &cur, "symlink target")?,
            },
            3 => LayoutKind::Directory,
            4 => LayoutKind::CharDevice,
            5 => LayoutKind::BlockDevice,
            6 => LayoutKind::Fifo,
            7 => LayoutKind::Socket,
            other => LayoutKind::Unknown {
                file_type: other,
                source: strip_nuls(source).to_vec(),
            },
        };
        entries.push(LayoutEntry {
            uid,
            gid,
            mode,
            tag,
            kind,
            path,
        });
    }
    Ok(entries)
}

/// Encodes layout records the way the Rust writer does (no trailing NULs).
/// Fails (returns the offending path) if a source or path exceeds 65535 bytes.
pub fn encode_layout(entries: &[LayoutEntry]) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for e in entries {
        let digest_bytes;
        let source: &[u8] = match &e.kind {
            LayoutKind::Regular { digest } => {
                digest_bytes = digest.to_be_bytes();
                &digest_bytes
            }
            LayoutKind::Symlink { target } => target.as_bytes(),
            LayoutKind::Unknown { source, .. } => source,
            _ => &[],
        };
        let source_len = u16::try_from(source.len()).map_err(|_| e.path.clone())?;
        let target_len = u16::try_from(e.path.len()).map_err(|_| e.path.clone())?;
        out.extend_from_slice(&e.uid.to_be_bytes());
        out.extend_from_slice(&e.gid.to_be_bytes());
        out.extend_from_slice(&e.mode.to_be_bytes());
        out.extend_from_slice(&e.tag.to_be_bytes());
        out.extend_from_slice(&source_len.to_be_bytes());
        out.extend_from_slice(&target_len.to_be_bytes());
        out.push(e.kind.file_type_byte());
        out.extend_from_slice(&[0u8; 11]);
        out.extend_from_slice(source);
        out.extend_from_slice(e.path.as_bytes());
    }
    Ok(out)
}
