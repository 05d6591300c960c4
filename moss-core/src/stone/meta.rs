//! Meta payload records: `length u32 | tag u16 | primitive u8 | pad u8 | value`.

use super::codec::{text, Bytes};
use super::dependency::{Dependency, DependencyKind, Provider};
use super::error::{PayloadId, Result};

/// What a Meta record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaTag {
    Name,
    Architecture,
    Version,
    Summary,
    Description,
    Homepage,
    SourceId,
    Depends,
    Provides,
    Conflicts,
    Release,
    License,
    BuildRelease,
    PackageUri,
    PackageHash,
    PackageSize,
    BuildDepends,
    SourceUri,
    SourcePath,
    SourceRef,
    Unknown(u16),
}

const TAGS: [MetaTag; 20] = [
    MetaTag::Name,
    MetaTag::Architecture,
    MetaTag::Version,
    MetaTag::Summary,
    MetaTag::Description,
    MetaTag::Homepage,
    MetaTag::SourceId,
    MetaTag::Depends,
    MetaTag::Provides,
    MetaTag::Conflicts,
    MetaTag::Release,
    MetaTag::License,
    MetaTag::BuildRelease,
    MetaTag::PackageUri,
    MetaTag::PackageHash,
    MetaTag::PackageSize,
    MetaTag::BuildDepends,
    MetaTag::SourceUri,
    MetaTag::SourcePath,
    MetaTag::SourceRef,
];

impl MetaTag {
    /// Tags are numbered from 1 in the order of `TAGS`.
    pub fn from_u16(v: u16) -> Self {
        match v {
            1..=20 => TAGS[usize::from(v) - 1],
            other => MetaTag::Unknown(other),
        }
    }

    pub fn to_u16(self) -> u16 {
        match self {
            MetaTag::Unknown(v) => v,
            known => TAGS
                .iter()
                .position(|t| *t == known)
                .map_or(0xffff, |i| i as u16 + 1),
        }
    }
}

/// The typed value of a Meta record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaValue {
    I8(i8),
    U8(u8),
    I16(i16),
    U16(u16),
    I32(i32),
    U32(u32),
    I64(i64),
    U64(u64),
    String(String),
    Dependency(Dependency),
    Provider(Provider),
    /// A primitive kind this version does not know, kept as raw bytes.
    Unknown {
        primitive: u8,
        bytes: Vec<u8>,
    },
}

impl MetaValue {
    /// The value as an unsigned integer if it is any non-negative integer primitive.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            MetaValue::I8(v) => u64::try_from(v).ok(),
            MetaValue::U8(v) => Some(v.into()),
            MetaValue::I16(v) => u64::try_from(v).ok(),
            MetaValue::U16(v) => Some(v.into()),
            MetaValue::I32(v) => u64::try_from(v).ok(),
            MetaValue::U32(v) => Some(v.into()),
            MetaValue::I64(v) => u64::try_from(v).ok(),
            MetaValue::U64(v) => Some(v),
            _ => None,
        }
    }

    fn primitive(&self) -> u8 {
        match self {
            MetaValue::I8(_) => 1,
            MetaValue::U8(_) => 2,
            MetaValue::I16(_) => 3,
            MetaValue::U16(_) => 4,
            MetaValue::I32(_) => 5,
            MetaValue::U32(_) => 6,
            MetaValue::I64(_) => 7,
            MetaValue::U64(_) => 8,
            MetaValue::String(_) => 9,
            MetaValue::Dependency(_) => 10,
            MetaValue::Provider(_) => 11,
            MetaValue::Unknown { primitive, .. } => *primitive,
        }
    }

    fn encode_value(&self, out: &mut Vec<u8>) {
        match self {
            MetaValue::I8(v) => out.extend_from_slice(&v.to_be_bytes()),
            MetaValue::U8(v) => out.extend_from_slice(&v.to_be_bytes()),
            MetaValue::I16(v) => out.extend_from_slice(&v.to_be_bytes()),
            MetaValue::U16(v) => out.extend_from_slice(&v.to_be_bytes()),
            MetaValue::I32(v) => out.extend_from_slice(&v.to_be_bytes()),
            MetaValue::U32(v) => out.extend_from_slice(&v.to_be_bytes()),
            MetaValue::I64(v) => out.extend_from_slice(&v.to_be_bytes()),
            MetaValue::U64(v) => out.extend_from_slice(&v.to_be_bytes()),
            MetaValue::String(s) => {
                out.extend_from_slice(s.as_bytes());
                out.push(0);
            }
            MetaValue::Dependency(Dependency { kind, name })
            | MetaValue::Provider(Provider { kind, name }) => {
                out.push(kind.to_byte());
                out.extend_from_slice(name.as_bytes());
                out.push(0);
            }
            MetaValue::Unknown { bytes, .. } => out.extend_from_slice(bytes),
        }
    }
}

/// One Meta record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaRecord {
    pub tag: MetaTag,
    pub value: MetaValue,
}

impl MetaRecord {
    pub fn new(tag: MetaTag, value: MetaValue) -> Self {
        MetaRecord { tag, value }
    }
}

/// Decodes `num_records` Meta records from a decompressed body.
pub fn decode_meta(body: &[u8], num_records: u32, payload: PayloadId) -> Result<Vec<MetaRecord>> {
    let mut cur = Bytes::new(body, payload);
    let mut records = Vec::new();
    for record in 0..num_records as usize {
        cur.record = record;
        let length = cur.u32("record length")? as usize;
        let tag = MetaTag::from_u16(cur.u16("tag")?);
        let primitive = cur.u8("primitive kind")?;
        let _padding = cur.u8("padding")?;
        let raw = cur.take(length, "record value")?;
        let mut v = Bytes::new(raw, payload);
        v.record = record;
        // Fixed-width integers read their own width; the length only frames.
        let value = match primitive {
            1 => MetaValue::I8(i8::from_be_bytes(v.array("i8")?)),
            2 => MetaValue::U8(v.u8("u8")?),
            3 => MetaValue::I16(i16::from_be_bytes(v.array("i16")?)),
            4 => MetaValue::U16(v.u16("u16")?),
            5 => MetaValue::I32(i32::from_be_bytes(v.array("i32")?)),
            6 => MetaValue::U32(v.u32("u32")?),
            7 => MetaValue::I64(i64::from_be_bytes(v.array("i64")?)),
            8 => MetaValue::U64(v.u64("u64")?),
            9 => MetaValue::String(text(raw, &v, "string value")?),
            10 | 11 => {
                let kind = DependencyKind::from_byte(v.u8("dependency kind")?);
                let name = text(&raw[1..], &v, "dependency name")?;
                if primitive == 10 {
                    MetaValue::Dependency(Dependency { kind, name })
                } else {
                    MetaValue::Provider(Provider { kind, name })
                }
            }
            other => MetaValue::Unknown {
                primitive: other,
                bytes: raw.to_vec(),
            },
        };
        records.push(MetaRecord { tag, value });
    }
    Ok(records)
}

/// Encodes records in the given order. Strings and names must not contain NUL
/// (the reader would cut them there); callers validate text they accept.
pub fn encode_meta(records: &[MetaRecord]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut value = Vec::new();
    for record in records {
        value.clear();
        record.value.encode_value(&mut value);
        out.extend_from_slice(&(value.len() as u32).to_be_bytes());
        out.extend_from_slice(&record.tag.to_u16().to_be_bytes());
        out.push(record.value.primitive());
        out.push(0);
        out.extend_from_slice(&value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stone::payload::PayloadKind;

    const ID: PayloadId = PayloadId {
        kind: PayloadKind::Meta,
        index: 0,
    };

    #[test]
    fn encodes_reference_examples() {
        let name = MetaRecord::new(MetaTag::Name, MetaValue::String("nano".into()));
        assert_eq!(
            encode_meta(&[name]),
            [0, 0, 0, 5, 0, 1, 9, 0, b'n', b'a', b'n', b'o', 0]
        );
        let dep = MetaRecord::new(
            MetaTag::Depends,
            MetaValue::Dependency("soname(libc.so.6(x86_64))".parse().unwrap()),
        );
        let bytes = encode_meta(std::slice::from_ref(&dep));
        assert_eq!(&bytes[..8], &[0, 0, 0, 0x13, 0, 8, 0x0a, 0]);
        assert_eq!(bytes[8], 1);
        assert_eq!(&bytes[9..], b"libc.so.6(x86_64)\0");
        assert_eq!(decode_meta(&bytes, 1, ID).unwrap(), vec![dep]);
    }

    #[test]
    fn strips_trailing_nuls_and_rejects_short_records() {
        let body = [0, 0, 0, 6, 0, 1, 9, 0, b'n', b'a', b'n', b'o', 0, 0];
        let recs = decode_meta(&body, 1, ID).unwrap();
        assert_eq!(recs[0].value, MetaValue::String("nano".into()));
        assert!(decode_meta(&body[..10], 1, ID).is_err());
        assert!(decode_meta(&[0, 0, 0, 0, 0, 1, 8, 0], 1, ID).is_err());
    }
}
