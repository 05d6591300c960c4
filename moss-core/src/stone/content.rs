//! Content unpacking: the Content payload is one compressed stream of every
//! unique file back to back. It is decompressed once, front to back, and cut
//! into per-file outputs along the Index ranges; memory stays at one copy
//! buffer plus the zstd window, whatever the package size.

use std::io::{self, Read, Seek, SeekFrom, Write};

use xxhash_rust::xxh3::{xxh3_128, Xxh3Default};

use super::error::{Result, StoneError};
use super::index::IndexEntry;
use super::payload::Compression;
use super::reader::ContentPayload;
use super::window;

/// Receives the unique files of a Content payload.
///
/// `open` is called once per unique digest, in stream order; returning `None`
/// skips that file (e.g. the store already has it). After all its bytes were
/// written and its xxh3-128 digest verified, `commit` is called with the
/// output; on any error the output is dropped without `commit`, so a sink that
/// writes to a temporary file and renames it in `commit` never exposes a bad
/// file.
pub trait ContentSink {
    type Output: Write;
    fn open(&mut self, entry: &IndexEntry) -> io::Result<Option<Self::Output>>;
    fn commit(&mut self, entry: &IndexEntry, output: Self::Output) -> io::Result<()>;
    /// Where a payload with a large zstd window may be decoded to a scratch
    /// file (see `window`); the system's temporary folder when `None`. On
    /// the file system of the outputs, so that the space is there.
    fn scratch_dir(&self) -> Option<std::path::PathBuf> {
        None
    }
}

/// What an unpack did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnpackStats {
    /// Unique files handed to the sink (opened or skipped by it).
    pub files: usize,
    /// Decompressed bytes read from the content stream.
    pub bytes: u64,
}

const COPY_BUFFER: usize = 256 * 1024;
use super::EMPTY_DIGEST;

/// Sorts and validates the index against the content size: ranges must lie
/// inside the stream and must not overlap (identical duplicates are merged).
/// Empty ranges are returned apart: they need no stream bytes.
fn plan(index: &[IndexEntry], plain_size: u64) -> Result<(Vec<IndexEntry>, Vec<IndexEntry>)> {
    let invalid = |reason: String| StoneError::InvalidIndex { reason };
    let (mut empty, mut ranges): (Vec<_>, Vec<_>) =
        index.iter().copied().partition(|e| e.is_empty());
    ranges.sort_by_key(|e| (e.start, e.end));
    ranges.dedup();
    empty.sort_by_key(|e| e.digest);
    empty.dedup_by_key(|e| e.digest);
    for pair in ranges.windows(2) {
        if pair[1].start < pair[0].end {
            return Err(invalid(format!(
                "ranges {}..{} ({:032x}) and {}..{} ({:032x}) overlap",
                pair[0].start,
                pair[0].end,
                pair[0].digest,
                pair[1].start,
                pair[1].end,
                pair[1].digest
            )));
        }
    }
    if let Some(last) = ranges.last() {
        if last.end > plain_size {
            return Err(invalid(format!(
                "range {}..{} ends beyond the {plain_size} bytes of content",
                last.start, last.end
            )));
        }
    }
    Ok((ranges, empty))
}

/// Hands an empty file to the sink.
pub(crate) fn emit_empty<S: ContentSink>(entry: &IndexEntry, sink: &mut S) -> Result<()> {
    let actual = xxh3_128(&[]);
    if entry.digest != actual {
        return Err(StoneError::DigestMismatch {
            expected: entry.digest,
            actual,
        });
    }
    debug_assert_eq!(actual, EMPTY_DIGEST);
    let sink_err = |source| StoneError::Sink {
        digest: entry.digest,
        source,
    };
    if let Some(out) = sink.open(entry).map_err(sink_err)? {
        sink.commit(entry, out).map_err(sink_err)?;
    }
    Ok(())
}

/// Verifies the payload checksum, then streams the content into `sink`.
pub fn unpack_content<R: Read + Seek, S: ContentSink>(
    source: &mut R,
    content: &ContentPayload,
    index: &[IndexEntry],
    sink: &mut S,
) -> Result<UnpackStats> {
    let ph = &content.header;
    let (ranges, empty) = plan(index, ph.plain_size)?;
    let mut buf = vec![0u8; COPY_BUFFER];

    // First pass: checksum the stored bytes, so that nothing from a corrupt
    // payload reaches the sink. xxh3 is far faster than zstd; this costs little.
    seek(source, content.offset)?;
    let mut hasher = Xxh3Default::new();
    let mut left = ph.stored_size;
    while left > 0 {
        let n = (left.min(buf.len() as u64)) as usize;
        source
            .read_exact(&mut buf[..n])
            .map_err(|e| StoneError::io(format!("reading the {}", content.id), e))?;
        hasher.update(&buf[..n]);
        left -= n as u64;
    }
    let actual = hasher.digest();
    if actual != ph.checksum {
        return Err(StoneError::ChecksumMismatch {
            payload: content.id,
            expected: ph.checksum,
            actual,
        });
    }

    let mut stats = UnpackStats::default();
    for entry in &empty {
        emit_empty(entry, sink)?;
        stats.files += 1;
    }

    // How much window the frame needs: a large one is decoded through a file.
    let mut frame_start = [0u8; window::HEADER_MAX];
    let head = frame_start.len().min(ph.stored_size as usize);
    let large_window =
        !window::streaming_only() && ph.compression != Compression::None && head >= 6 && {
            seek(source, content.offset)?;
            source
                .read_exact(&mut frame_start[..head])
                .map_err(|e| StoneError::io(format!("reading the {}", content.id), e))?;
            window::window_need(&frame_start[..head], ph.plain_size)
                .is_some_and(|need| need > window::LARGE_WINDOW)
        };
    seek(source, content.offset)?;
    let mut stored = io::Read::take(&mut *source, ph.stored_size);
    let decompress_err = |e| StoneError::Decompress {
        payload: content.id,
        source: e,
    };
    let mut stream: Box<dyn Read + '_> = match ph.compression {
        Compression::None => Box::new(stored),
        _ if large_window => {
            let dir = sink.scratch_dir().unwrap_or_else(std::env::temp_dir);
            let mut file = window::scratch_file(&dir).map_err(|e| {
                StoneError::io(format!("making a scratch file in {}", dir.display()), e)
            })?;
            window::decode_into_file(&mut stored, content, &file)?;
            file.seek(SeekFrom::Start(0))
                .map_err(|e| StoneError::io("rewinding the decoded content", e))?;
            Box::new(io::Read::take(file, ph.plain_size))
        }
        _ => {
            let mut decoder = zstd::stream::read::Decoder::new(stored).map_err(decompress_err)?;
            decoder.window_log_max(31).map_err(decompress_err)?;
            Box::new(decoder)
        }
    };

    let mut position = 0u64;
    for entry in &ranges {
        // Bytes between ranges belong to no file; read past them.
        let gap = entry.start - position;
        discard(&mut stream, gap, &mut buf, content, position)?;
        position = entry.start;
        let sink_err = |source| StoneError::Sink {
            digest: entry.digest,
            source,
        };
        let mut output = sink.open(entry).map_err(sink_err)?;
        let mut digest = Xxh3Default::new();
        let mut left = entry.len();
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            fill(&mut stream, &mut buf[..n], content, position)?;
            digest.update(&buf[..n]);
            if let Some(out) = output.as_mut() {
                out.write_all(&buf[..n]).map_err(sink_err)?;
            }
            left -= n as u64;
            position += n as u64;
        }
        let actual = digest.digest128();
        if actual != entry.digest {
            return Err(StoneError::DigestMismatch {
                expected: entry.digest,
                actual,
            });
        }
        if let Some(out) = output {
            sink.commit(entry, out).map_err(sink_err)?;
        }
        stats.files += 1;
    }
    // The rest of the stream must exist and end exactly at plain_size.
    discard(
        &mut stream,
        ph.plain_size - position,
        &mut buf,
        content,
        position,
    )?;
    let extra = stream.read(&mut buf[..1]).map_err(decompress_err)?;
    if extra != 0 {
        return Err(StoneError::PlainSizeMismatch {
            payload: content.id,
            expected: ph.plain_size,
            actual: ph.plain_size + 1,
        });
    }
    stats.bytes = ph.plain_size;
    Ok(stats)
}

fn seek<R: Seek>(source: &mut R, offset: u64) -> Result<()> {
    source
        .seek(SeekFrom::Start(offset))
        .map(|_| ())
        .map_err(|e| StoneError::io("seeking to the content payload", e))
}

/// Fills `buf` from the decompressed stream; a short stream is a size error.
fn fill(
    stream: &mut dyn Read,
    buf: &mut [u8],
    content: &ContentPayload,
    position: u64,
) -> Result<()> {
    let mut done = 0;
    while done < buf.len() {
        match stream.read(&mut buf[done..]) {
            Ok(0) => {
                return Err(StoneError::PlainSizeMismatch {
                    payload: content.id,
                    expected: content.header.plain_size,
                    actual: position + done as u64,
                })
            }
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(StoneError::Decompress {
                    payload: content.id,
                    source: e,
                })
            }
        }
    }
    Ok(())
}

/// Reads and drops `bytes` bytes of the stream starting at `position`.
fn discard(
    stream: &mut dyn Read,
    mut bytes: u64,
    buf: &mut [u8],
    content: &ContentPayload,
    mut position: u64,
) -> Result<()> {
    while bytes > 0 {
        let n = bytes.min(buf.len() as u64) as usize;
        fill(stream, &mut buf[..n], content, position)?;
        bytes -= n as u64;
        position += n as u64;
    }
    Ok(())
}
