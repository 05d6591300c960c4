//! Walks a stone: header, then every payload in file order. Meta, Layout,
//! Index and Attributes bodies are checksummed, decompressed and decoded on
//! open; the Content body is only located (see [`StoneReader::unpack_content`]).

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::attributes::{decode_attributes, Attribute};
use super::content::{unpack_content, ContentSink, UnpackStats};
use super::error::{PayloadId, Result, StoneError};
use super::header::{Header, HEADER_LEN};
use super::index::{decode_index, IndexEntry};
use super::layout::{decode_layout, LayoutEntry};
use super::meta::{decode_meta, MetaRecord};
use super::package::Meta;
use super::payload::{Compression, PayloadHeader, PayloadKind, PAYLOAD_HEADER_LEN};

/// Largest decompressed size accepted for a Meta, Layout, Index or Attributes
/// payload (they are held in memory). Real packages stay far below this.
pub const METADATA_PLAIN_LIMIT: u64 = 256 << 20;

/// zstd cannot expand data more than this factor (an RLE block header of 3
/// bytes yields at most 128 KiB); larger claims are refused before allocating.
const MAX_EXPANSION: u64 = 1 << 16;

/// Where the Content payload lies in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentPayload {
    pub id: PayloadId,
    pub header: PayloadHeader,
    /// File offset of the first stored body byte.
    pub offset: u64,
}

/// One decoded payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Meta(Vec<MetaRecord>),
    Layout(Vec<LayoutEntry>),
    Index(Vec<IndexEntry>),
    Attributes(Vec<Attribute>),
    Content(ContentPayload),
    /// Unknown kind or compression: skipped, header kept for reporting.
    Skipped(PayloadHeader),
}

/// A stone opened for reading.
pub struct StoneReader<R> {
    source: R,
    header: Header,
    payloads: Vec<Payload>,
}

impl StoneReader<BufReader<File>> {
    /// Opens and reads the stone at `path`.
    pub fn open_path(path: &Path) -> Result<Self> {
        let file = File::open(path)
            .map_err(|e| StoneError::io(format!("opening {}", path.display()), e))?;
        Self::new(BufReader::new(file))
    }
}

impl<R: Read + Seek> StoneReader<R> {
    /// Reads the header and every payload except the Content body.
    pub fn new(mut source: R) -> Result<Self> {
        let file_len = source
            .seek(SeekFrom::End(0))
            .map_err(|e| StoneError::io("finding the archive length", e))?;
        source
            .seek(SeekFrom::Start(0))
            .map_err(|e| StoneError::io("seeking to the archive start", e))?;
        let mut head = [0u8; HEADER_LEN];
        read_exact(&mut source, &mut head, "the file header", file_len)?;
        let header = Header::decode(&head)?;
        // First pass: walk the payload headers only, so a truncated or
        // inconsistent file is refused before any body is read or allocated.
        let mut offset = HEADER_LEN as u64;
        let mut located = Vec::with_capacity(usize::from(header.num_payloads));
        for index in 0..usize::from(header.num_payloads) {
            let mut raw = [0u8; PAYLOAD_HEADER_LEN];
            read_exact(
                &mut source,
                &mut raw,
                &format!("the header of payload #{index}"),
                file_len - offset,
            )?;
            offset += PAYLOAD_HEADER_LEN as u64;
            let ph = PayloadHeader::decode(&raw);
            let id = PayloadId {
                kind: ph.kind,
                index,
            };
            let available = file_len - offset;
            if ph.stored_size > available {
                return Err(StoneError::Truncated {
                    what: id.to_string(),
                    needed: ph.stored_size,
                    available,
                });
            }
            skip(&mut source, ph.stored_size)?;
            located.push((id, ph, offset));
            offset += ph.stored_size;
        }
        // Second pass: decode the metadata payloads.
        let mut payloads = Vec::with_capacity(located.len());
        for (id, ph, offset) in located {
            let known_kind = !matches!(ph.kind, PayloadKind::Unknown(_));
            let known_compression = !matches!(ph.compression, Compression::Unknown(_));
            let payload = if !known_kind || !known_compression {
                Payload::Skipped(ph)
            } else if ph.kind == PayloadKind::Content {
                Payload::Content(ContentPayload {
                    id,
                    header: ph,
                    offset,
                })
            } else {
                source
                    .seek(SeekFrom::Start(offset))
                    .map_err(|e| StoneError::io(format!("seeking to the {id}"), e))?;
                let body = read_body(&mut source, &ph, id)?;
                match ph.kind {
                    PayloadKind::Meta => Payload::Meta(decode_meta(&body, ph.num_records, id)?),
                    PayloadKind::Layout => {
                        Payload::Layout(decode_layout(&body, ph.num_records, id)?)
                    }
                    PayloadKind::Index => Payload::Index(decode_index(&body, ph.num_records, id)?),
                    _ => Payload::Attributes(decode_attributes(&body, ph.num_records, id)?),
                }
            };
            payloads.push(payload);
        }
        Ok(StoneReader {
            source,
            header,
            payloads,
        })
    }

    pub fn header(&self) -> Header {
        self.header
    }

    /// Every payload in file order.
    pub fn payloads(&self) -> &[Payload] {
        &self.payloads
    }

    /// The package metadata of the first Meta payload.
    pub fn meta(&self) -> Result<Meta> {
        self.metas()
            .next()
            .unwrap_or(Err(StoneError::MissingPayload("Meta")))
    }

    /// The package metadata of every Meta payload (repository indexes and
    /// build manifests hold one per package).
    pub fn metas(&self) -> impl Iterator<Item = Result<Meta>> + '_ {
        self.payloads.iter().filter_map(|p| match p {
            Payload::Meta(records) => Some(Meta::from_records(records)),
            _ => None,
        })
    }

    /// The raw records of the first Meta payload (empty if there is none).
    pub fn meta_records(&self) -> &[MetaRecord] {
        self.payloads
            .iter()
            .find_map(|p| match p {
                Payload::Meta(r) => Some(r.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }

    /// The entries of the Layout payload, in archive order (empty if none).
    pub fn layout(&self) -> &[LayoutEntry] {
        self.payloads
            .iter()
            .find_map(|p| match p {
                Payload::Layout(l) => Some(l.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }

    /// The entries of the Index payload, in archive order (empty if none).
    pub fn index(&self) -> &[IndexEntry] {
        self.payloads
            .iter()
            .find_map(|p| match p {
                Payload::Index(i) => Some(i.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }

    /// The Attributes records (empty if none).
    pub fn attributes(&self) -> &[Attribute] {
        self.payloads
            .iter()
            .find_map(|p| match p {
                Payload::Attributes(a) => Some(a.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }

    /// Where the Content payload is, if the stone has one.
    pub fn content(&self) -> Option<ContentPayload> {
        self.payloads.iter().find_map(|p| match p {
            Payload::Content(c) => Some(*c),
            _ => None,
        })
    }

    /// Decompresses the Content payload once and hands every unique file of
    /// the Index to `sink`, verifying checksum and digests. A stone without
    /// Content (and without Index entries) unpacks nothing.
    pub fn unpack_content<S: ContentSink>(&mut self, sink: &mut S) -> Result<UnpackStats> {
        let index = self.index().to_vec();
        match self.content() {
            Some(content) => unpack_content(&mut self.source, &content, &index, sink),
            None if index.iter().all(|e| e.is_empty()) => unpack_content_empty(&index, sink),
            None => Err(StoneError::MissingPayload("Content")),
        }
    }

    pub fn into_inner(self) -> R {
        self.source
    }
}

fn unpack_content_empty<S: ContentSink>(index: &[IndexEntry], sink: &mut S) -> Result<UnpackStats> {
    let mut stats = UnpackStats::default();
    for entry in index {
        super::content::emit_empty(entry, sink)?;
        stats.files += 1;
    }
    Ok(stats)
}

fn read_exact<R: Read>(source: &mut R, buf: &mut [u8], what: &str, available: u64) -> Result<()> {
    source.read_exact(buf).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            StoneError::Truncated {
                what: what.to_string(),
                needed: buf.len() as u64,
                available,
            }
        } else {
            StoneError::io(format!("reading {what}"), e)
        }
    })
}

fn skip<R: Seek>(source: &mut R, bytes: u64) -> Result<()> {
    let delta = i64::try_from(bytes).map_err(|_| {
        StoneError::io(
            "skipping a payload",
            std::io::ErrorKind::InvalidInput.into(),
        )
    })?;
    source
        .seek(SeekFrom::Current(delta))
        .map_err(|e| StoneError::io("skipping a payload body", e))?;
    Ok(())
}

/// Runs `f` with this thread's metadata decompressor, made on first use.
/// A repository index holds one payload per package: creating a zstd
/// context for each of thousands was a visible share of reading one.
fn with_decompressor<T>(
    f: impl FnOnce(&mut zstd::bulk::Decompressor<'static>) -> std::io::Result<T>,
) -> std::io::Result<T> {
    thread_local! {
        static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut d = zstd::bulk::Decompressor::new()?;
            d.set_parameter(zstd::zstd_safe::DParameter::WindowLogMax(31))?;
            *slot = Some(d);
        }
        match slot.as_mut() {
            Some(d) => f(d),
            None => unreachable!("set just above"),
        }
    })
}

/// Reads, checksums and decompresses one metadata payload body.
fn read_body<R: Read>(source: &mut R, ph: &PayloadHeader, id: PayloadId) -> Result<Vec<u8>> {
    let too_large = |what, size, limit| StoneError::TooLarge {
        payload: id,
        what,
        size,
        limit,
    };
    if ph.stored_size > METADATA_PLAIN_LIMIT {
        return Err(too_large(
            "stored size",
            ph.stored_size,
            METADATA_PLAIN_LIMIT,
        ));
    }
    let expansion_limit = ph.stored_size.saturating_mul(MAX_EXPANSION);
    let limit = METADATA_PLAIN_LIMIT.min(expansion_limit);
    if ph.plain_size > limit {
        return Err(too_large("plain size", ph.plain_size, limit));
    }
    // Both sizes are now bounded by the limit and by the real file length.
    let mut stored = vec![0u8; ph.stored_size as usize];
    read_exact(source, &mut stored, &id.to_string(), ph.stored_size)?;
    let actual = xxhash_rust::xxh3::xxh3_64(&stored);
    if actual != ph.checksum {
        return Err(StoneError::ChecksumMismatch {
            payload: id,
            expected: ph.checksum,
            actual,
        });
    }
    let plain = match ph.compression {
        Compression::None => stored,
        _ => {
            let mut out = Vec::with_capacity(ph.plain_size as usize);
            with_decompressor(|d| d.decompress_to_buffer(&stored[..], &mut out)).map_err(|e| {
                StoneError::Decompress {
                    payload: id,
                    source: e,
                }
            })?;
            out
        }
    };
    if plain.len() as u64 != ph.plain_size {
        return Err(StoneError::PlainSizeMismatch {
            payload: id,
            expected: ph.plain_size,
            actual: plain.len() as u64,
        });
    }
    Ok(plain)
}
