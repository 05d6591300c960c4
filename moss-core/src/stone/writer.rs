//! Writes stones: Binary packages (Meta, Layout, Index, Content) and
//! Repository / BuildManifest stones made of Meta payloads.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use xxhash_rust::xxh3::{xxh3_128, xxh3_64, Xxh3Default};

use super::error::{Result, StoneError};
use super::header::{FileType, Header};
use super::index::{encode_index, IndexEntry};
use super::layout::{encode_layout, LayoutEntry, LayoutKind};
use super::meta::encode_meta;
use super::once;
use super::package::Meta;
use super::path::check_layout_path;
use super::payload::{Compression, PayloadHeader, PayloadKind, PAYLOAD_HEADER_LEN};
use super::readahead;
use super::writebehind::{self, HandOff};

/// Our default zstd level: fast enough that packing is never the slow part
/// of a local build (the original uses 18 with a 2 GiB window; see the book).
pub const DEFAULT_LEVEL: i32 = 3;

/// zstd level of build manifests (`manifest.*.bin`): at this level our writer
/// reproduces the bytes of the manifests AerynOS's boulder wrote (levels 16
/// to 22 all do for them; checked against the real recipes' manifests in
/// `tests/stone_fixtures.rs`). Manifests are a few kilobytes, so the level
/// costs nothing.
pub const MANIFEST_LEVEL: i32 = 18;

/// How to compress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// zstd level (1..=22; negative levels are zstd's fast modes).
    pub level: i32,
    /// zstd worker threads for the Content payload (0 counts as 1). The
    /// bytes written do not depend on it.
    pub threads: u32,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            level: DEFAULT_LEVEL,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        }
    }
}

/// Where the bytes of one unique file come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentSource {
    Path(PathBuf),
    Bytes(Vec<u8>),
}

/// One file content: its xxh3-128 digest, size and source. The writer
/// re-hashes the source while compressing and fails if it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub digest: u128,
    pub size: u64,
    pub source: ContentSource,
}

impl Content {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Content {
            digest: xxh3_128(&bytes),
            size: bytes.len() as u64,
            source: ContentSource::Bytes(bytes),
        }
    }

    /// Hashes the file at `path` (streaming).
    pub fn from_path(path: PathBuf) -> Result<Self> {
        Self::from_path_with(path, &mut vec![0u8; HASH_BUFFER])
    }

    /// Like [`Content::from_path`], reading through the caller's buffer.
    pub(crate) fn from_path_with(path: PathBuf, buf: &mut [u8]) -> Result<Self> {
        let file = File::open(&path)
            .map_err(|e| StoneError::io(format!("opening {}", path.display()), e))?;
        let mut hasher = Xxh3Default::new();
        let size = hash_stream(file, &mut hasher, buf)
            .map_err(|e| StoneError::io(format!("reading {}", path.display()), e))?;
        Ok(Content {
            digest: hasher.digest128(),
            size,
            source: ContentSource::Path(path),
        })
    }

    pub(crate) fn describe(&self) -> String {
        match &self.source {
            ContentSource::Path(p) => p.display().to_string(),
            ContentSource::Bytes(_) => "memory".to_string(),
        }
    }
}

/// Read size when hashing a file.
pub(crate) const HASH_BUFFER: usize = 256 * 1024;

fn hash_stream(mut reader: impl Read, hasher: &mut Xxh3Default, buf: &mut [u8]) -> io::Result<u64> {
    let mut total = 0u64;
    loop {
        match reader.read(buf) {
            Ok(0) => return Ok(total),
            Ok(n) => {
                hasher.update(&buf[..n]);
                total += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Writes stones with the given compression options.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoneWriter {
    pub options: WriteOptions,
    /// zstd window log of the Content payload; zstd's default for the
    /// level when `None`.
    window_log: Option<u32>,
}

impl StoneWriter {
    pub fn new(options: WriteOptions) -> Self {
        StoneWriter {
            options,
            window_log: None,
        }
    }

    /// Compresses the Content payload with a `1 << log` byte window (the
    /// original's writer: level 18 with log 31). zstd still shrinks it to
    /// the content's size when that is smaller.
    pub fn window_log(mut self, log: u32) -> Self {
        self.window_log = Some(log);
        self
    }

    /// Writes a Binary stone: Meta, Layout (if any entries), then Index and
    /// Content (if any regular files). Contents are deduplicated by digest and
    /// stored largest first (ties keep their first-seen order); only contents
    /// the layout refers to are stored. Every layout path must pass
    /// [`check_layout_path`]. Returns the output.
    pub fn write_binary<W: Write + Seek + Send>(
        &self,
        mut out: W,
        meta: &Meta,
        layout: &[LayoutEntry],
        contents: Vec<Content>,
    ) -> Result<W> {
        for entry in layout {
            check_layout_path(&entry.path)?;
        }
        let unique = plan_contents(layout, contents)?;
        let (index, total) = index_of(unique.iter().map(|c| (c.digest, c.size)));
        self.write_head(&mut out, meta, layout, &index)?;
        if !unique.is_empty() {
            let hint = size_hint(layout, &unique);
            let (read, plain) = self.write_content(&mut out, hint, |chunks| {
                readahead::read_ahead(&unique, chunks)
            })?;
            if read != unique.len() || plain != total {
                return Err(StoneError::Unpackable {
                    path: PathBuf::new(),
                    reason: "the contents were not all read".into(),
                });
            }
        }
        out.flush()
            .map_err(|e| StoneError::io("flushing the stone", e))?;
        Ok(out)
    }

    /// Writes a Binary stone of the directory `root` (which stands for
    /// `/usr`, as in [`scan_tree`](super::scan_tree)), byte for byte what
    /// [`write_binary`](Self::write_binary) writes for the scanned tree,
    /// reading every file once: digests are learnt while the files are
    /// compressed (see [`once`](super::once)). As the Content payload comes
    /// last but the Layout and Index before it need those digests, the
    /// Content payload is compressed into a scratch file in `scratch_dir`
    /// first (on the output's file system, where copying it over can happen
    /// inside the kernel).
    pub fn pack_tree<W: Write>(
        &self,
        mut out: W,
        meta: &Meta,
        root: &std::path::Path,
        scratch_dir: &std::path::Path,
    ) -> Result<W> {
        let (mut layout, walked) = super::tree::walk_files(root)?;
        // The order `plan_contents` gives: largest first, ties in layout order.
        let mut files: Vec<(usize, once::Planned)> = walked
            .into_iter()
            .map(|(at, path, size)| {
                let planned = once::Planned {
                    path,
                    size,
                    first_of_size: false,
                };
                (at, planned)
            })
            .collect();
        files.sort_by_key(|(_, f)| std::cmp::Reverse(f.size));
        let mut last_size = None;
        for (_, f) in &mut files {
            f.first_of_size = last_size != Some(f.size);
            last_size = Some(f.size);
        }
        let hint = files.iter().map(|(_, f)| f.size).sum();
        let (positions, files): (Vec<usize>, Vec<once::Planned>) = files.into_iter().unzip();
        let mut scratch = super::window::scratch_file(scratch_dir).map_err(|e| {
            StoneError::io(
                format!("making a scratch file in {}", scratch_dir.display()),
                e,
            )
        })?;
        let mut unique = Vec::new();
        if !files.is_empty() {
            let (outcomes, plain) =
                self.write_content(&mut scratch, hint, |chunks| once::read_once(&files, chunks))?;
            if outcomes.len() != files.len() {
                return Err(StoneError::Unpackable {
                    path: root.to_path_buf(),
                    reason: "the files were not all read".into(),
                });
            }
            for ((at, file), (digest, stored)) in positions.iter().zip(&files).zip(outcomes) {
                layout[*at].kind = LayoutKind::Regular { digest };
                if stored {
                    unique.push((digest, file.size));
                }
            }
            debug_assert_eq!(plain, unique.iter().map(|u| u.1).sum::<u64>());
        }
        let (index, _) = index_of(unique.into_iter());
        self.write_head(&mut out, meta, &layout, &index)?;
        scratch
            .seek(SeekFrom::Start(0))
            .map_err(|e| StoneError::io("rewinding the compressed content", e))?;
        io::copy(&mut scratch, &mut out)
            .map_err(|e| StoneError::io("copying the content payload", e))?;
        out.flush()
            .map_err(|e| StoneError::io("flushing the stone", e))?;
        Ok(out)
    }

    /// The header and the Meta, Layout (if any entries) and Index (if any
    /// contents) payloads; the Content payload follows when `index` has entries.
    fn write_head<W: Write>(
        &self,
        mut out: W,
        meta: &Meta,
        layout: &[LayoutEntry],
        index: &[IndexEntry],
    ) -> Result<()> {
        let has_layout = !layout.is_empty();
        let has_content = !index.is_empty();
        let num_payloads = 1 + u16::from(has_layout) + 2 * u16::from(has_content);
        write_all(
            &mut out,
            &Header {
                num_payloads,
                file_type: FileType::Binary,
            }
            .encode(),
        )?;
        let records = meta.to_records();
        self.write_payload(
            &mut out,
            PayloadKind::Meta,
            records.len(),
            &encode_meta(&records),
        )?;
        if has_layout {
            let body = encode_layout(layout).map_err(|path| StoneError::UnsafePath {
                path,
                reason: "a path or link target is longer than 65535 bytes",
            })?;
            self.write_payload(&mut out, PayloadKind::Layout, layout.len(), &body)?;
        }
        if has_content {
            self.write_payload(
                &mut out,
                PayloadKind::Index,
                index.len(),
                &encode_index(index),
            )?;
        }
        Ok(())
    }

    /// Writes a stone of one Meta payload per package: a `Repository` index
    /// or a `BuildManifest`. Packages are written in the given order.
    pub fn write_metas<W: Write>(
        &self,
        mut out: W,
        file_type: FileType,
        metas: &[Meta],
    ) -> Result<W> {
        let num_payloads = u16::try_from(metas.len()).map_err(|_| StoneError::InvalidField {
            field: "packages",
            reason: format!(
                "{} packages do not fit in one stone (max 65535)",
                metas.len()
            ),
        })?;
        write_all(
            &mut out,
            &Header {
                num_payloads,
                file_type,
            }
            .encode(),
        )?;
        for meta in metas {
            let records = meta.to_records();
            self.write_payload(
                &mut out,
                PayloadKind::Meta,
                records.len(),
                &encode_meta(&records),
            )?;
        }
        out.flush()
            .map_err(|e| StoneError::io("flushing the stone", e))?;
        Ok(out)
    }

    /// One in-memory payload as a single zstd frame.
    fn write_payload<W: Write>(
        &self,
        out: &mut W,
        kind: PayloadKind,
        records: usize,
        body: &[u8],
    ) -> Result<()> {
        let stored = zstd::bulk::compress(body, self.options.level)
            .map_err(|e| StoneError::io(format!("compressing the {kind} payload"), e))?;
        let header = PayloadHeader {
            stored_size: stored.len() as u64,
            plain_size: body.len() as u64,
            checksum: xxh3_64(&stored),
            num_records: u32::try_from(records).map_err(|_| StoneError::InvalidField {
                field: "records",
                reason: format!("{records} records do not fit in one payload"),
            })?,
            version: 1,
            kind,
            compression: Compression::Zstd,
        };
        write_all(out, &header.encode())?;
        write_all(out, &stored)
    }

    /// Streams the chunks `read` delivers through one zstd frame (fed on
    /// this thread, compressed by zstd's workers, written by a thread of its
    /// own), then goes back to fill in the payload header (sizes and
    /// checksum are known only then). Returns what `read` returned and the
    /// plain size.
    ///
    /// The frame is always compressed by zstd's worker threads (at least
    /// one), without a pledged size but with `hint` as the size to tune
    /// for: zstd's multithreaded output is the same whatever the number of
    /// workers (its single-threaded mode's is not), so the stone does not
    /// depend on the machine's CPU count; and `hint`, the size of all
    /// regular files duplicates included, is known before reading them,
    /// where the deduplicated total is not.
    fn write_content<W, T, F>(&self, out: &mut W, hint: u64, read: F) -> Result<(T, u64)>
    where
        W: Write + Seek + Send,
        F: FnOnce(readahead::Chunks) -> T,
    {
        let header_at = out
            .stream_position()
            .map_err(|e| StoneError::io("finding the content payload offset", e))?;
        write_all(out, &[0u8; PAYLOAD_HEADER_LEN])?;
        let enc_err = |e| StoneError::io("compressing the content payload", e);
        let (hand_off, behind) = writebehind::channel();
        let mut encoder =
            zstd::stream::write::Encoder::new(hand_off, self.options.level).map_err(enc_err)?;
        encoder
            .multithread(self.options.threads.max(1))
            .map_err(enc_err)?;
        if let Some(log) = self.window_log {
            encoder.window_log(log).map_err(enc_err)?;
        }
        // zstd takes hints up to `i32::MAX`; all sizes beyond 256 KiB tune alike.
        let hint = u32::try_from(hint.min(i32::MAX as u64)).unwrap_or(i32::MAX as u32);
        encoder
            .set_parameter(zstd::zstd_safe::CParameter::SrcSizeHint(hint))
            .map_err(enc_err)?;
        encoder.include_checksum(false).map_err(enc_err)?;
        let body = &mut *out;
        let (outcome, plain, written) = std::thread::scope(|scope| {
            let writer = scope.spawn(move || behind.run(body));
            let mut encoder = encoder;
            let mut plain = 0u64;
            let mut failure = None;
            let mut feed = |chunk: Result<&[u8]>| -> bool {
                let fed = chunk.and_then(|bytes| {
                    encoder.write_all(bytes).map_err(enc_err)?;
                    plain += bytes.len() as u64;
                    Ok(())
                });
                match fed {
                    Ok(()) => true,
                    Err(e) => {
                        failure.get_or_insert(e);
                        false
                    }
                }
            };
            let outcome = read(readahead::Chunks::new(&mut feed));
            let fed = match failure {
                Some(e) => Err(e),
                None => encoder.finish().and_then(HandOff::finish).map_err(enc_err),
            };
            // Without a successful finish the encoder (and the hand-off in
            // it) is dropped here, which ends the writing thread.
            let written = writer.join().map_err(|_| StoneError::Unpackable {
                path: PathBuf::new(),
                reason: "the writing thread panicked".into(),
            })?;
            // A write error stops the compression too: report it, not that.
            let written = written.map_err(|e| StoneError::io("writing the stone", e))?;
            fed?;
            Ok::<_, StoneError>((outcome, plain, written))
        })?;
        let header = PayloadHeader {
            stored_size: written.bytes,
            plain_size: plain,
            checksum: written.checksum,
            num_records: 0,
            version: 1,
            kind: PayloadKind::Content,
            compression: Compression::Zstd,
        };
        let end = header_at + PAYLOAD_HEADER_LEN as u64 + written.bytes;
        let seek_err = |e| StoneError::io("patching the content payload header", e);
        out.seek(SeekFrom::Start(header_at)).map_err(seek_err)?;
        write_all(out, &header.encode())?;
        out.seek(SeekFrom::Start(end)).map_err(seek_err)?;
        Ok((outcome, plain))
    }
}

/// The Index entries of `(digest, size)` contents, back to back, and their
/// total size.
fn index_of(unique: impl Iterator<Item = (u128, u64)>) -> (Vec<IndexEntry>, u64) {
    let mut index = Vec::with_capacity(unique.size_hint().0);
    let mut offset = 0u64;
    for (digest, size) in unique {
        index.push(IndexEntry {
            start: offset,
            end: offset + size,
            digest,
        });
        offset += size;
    }
    (index, offset)
}

/// The size of every regular file of `layout`, duplicates included: the
/// zstd size hint, which [`StoneWriter::pack_tree`] knows before reading
/// any file.
fn size_hint(layout: &[LayoutEntry], unique: &[Content]) -> u64 {
    let sizes: HashMap<u128, u64> = unique.iter().map(|c| (c.digest, c.size)).collect();
    layout
        .iter()
        .filter_map(|e| match e.kind {
            LayoutKind::Regular { digest } => sizes.get(&digest).copied(),
            _ => None,
        })
        .sum()
}

/// Keeps the referenced contents, one per digest, largest first.
fn plan_contents(layout: &[LayoutEntry], contents: Vec<Content>) -> Result<Vec<Content>> {
    let mut by_digest: HashMap<u128, Content> = HashMap::new();
    let mut order = Vec::new();
    for c in contents {
        if let std::collections::hash_map::Entry::Vacant(slot) = by_digest.entry(c.digest) {
            order.push(c.digest);
            slot.insert(c);
        }
    }
    let mut used = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for entry in layout {
        if let LayoutKind::Regular { digest } = entry.kind {
            if !by_digest.contains_key(&digest) {
                return Err(StoneError::MissingContent {
                    path: entry.path.clone(),
                    digest,
                });
            }
            seen.insert(digest);
        }
    }
    for digest in order {
        if seen.contains(&digest) {
            if let Some(c) = by_digest.remove(&digest) {
                used.push(c);
            }
        }
    }
    // Stable: equal sizes keep the order in which contents were supplied.
    used.sort_by_key(|c| std::cmp::Reverse(c.size));
    Ok(used)
}

fn write_all<W: Write>(out: &mut W, bytes: &[u8]) -> Result<()> {
    out.write_all(bytes)
        .map_err(|e| StoneError::io("writing the stone", e))
}
