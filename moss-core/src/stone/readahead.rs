//! Reads the contents of a stone being written on a thread of its own, in
//! archive order, checking each against its announced size and digest (or
//! learning the digest of a content read here for the first time), and
//! hands them over in large chunks: the compressing thread then never waits
//! on a file system call, as `tar | zstd` reads and compresses in two
//! processes. The channel is bounded, so a few MiB at most are in flight.

use std::fs::File;
use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender};

use xxhash_rust::xxh3::Xxh3Default;

use super::error::{Result, StoneError};
use super::writer::{Content, ContentSource};

/// Size of the chunks handed over; many small files share one.
pub(crate) const CHUNK: usize = 1 << 20;
/// Chunks waiting for the compressor.
pub(crate) const QUEUE: usize = 8;

/// The sending side: full chunks go out, used ones come back to be refilled
/// (fresh buffers would cost page faults on every chunk).
pub(crate) struct Chunks {
    pub full: SyncSender<Result<Vec<u8>>>,
    pub spare: Receiver<Vec<u8>>,
}

impl Chunks {
    fn fresh(&self) -> Vec<u8> {
        match self.spare.try_recv() {
            Ok(mut chunk) => {
                chunk.clear();
                chunk
            }
            Err(_) => Vec::with_capacity(CHUNK),
        }
    }
}

/// Reads `contents` back to back into chunks sent on `chunks`; a failure is
/// sent as the last message. Stops early if the receiver is gone. A content
/// whose `learn` flag is set has no digest yet: it is not checked, and its
/// digest as read is returned in its place (the others' are returned as
/// given); the list is complete only when everything was read.
pub(crate) fn read_ahead(contents: &[Content], learn: &[bool], chunks: Chunks) -> Vec<u128> {
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut digests = Vec::with_capacity(contents.len());
    for (i, content) in contents.iter().enumerate() {
        let learning = learn.get(i).copied().unwrap_or(false);
        match read_one(content, learning, &mut chunk, &chunks) {
            Ok(Some(digest)) => digests.push(digest),
            Ok(None) => return digests,
            Err(e) => {
                let _ = chunks.full.send(Err(e));
                return digests;
            }
        }
    }
    if !chunk.is_empty() {
        let _ = chunks.full.send(Ok(chunk));
    }
    digests
}

/// Hands over the chunk if it is full. `false` if the receiver is gone.
fn flush_full(chunk: &mut Vec<u8>, chunks: &Chunks) -> bool {
    if chunk.len() < CHUNK {
        return true;
    }
    let full = std::mem::replace(chunk, chunks.fresh());
    chunks.full.send(Ok(full)).is_ok()
}

/// Appends one content to the chunk stream, verifying it (unless
/// `learning`); returns its digest, `None` if the receiver is gone.
fn read_one(
    content: &Content,
    learning: bool,
    chunk: &mut Vec<u8>,
    chunks: &Chunks,
) -> Result<Option<u128>> {
    let changed = |reason: String| StoneError::ContentChanged {
        digest: content.digest,
        source_desc: content.describe(),
        reason,
    };
    let mut hasher = Xxh3Default::new();
    let mut total = 0u64;
    match &content.source {
        ContentSource::Bytes(bytes) => {
            hasher.update(bytes);
            total = bytes.len() as u64;
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                let n = rest.len().min(CHUNK - chunk.len());
                chunk.extend_from_slice(&rest[..n]);
                rest = &rest[n..];
                if !flush_full(chunk, chunks) {
                    return Ok(None);
                }
            }
        }
        ContentSource::Path(path) => {
            let mut file = File::open(path)
                .map_err(|e| StoneError::io(format!("opening {}", path.display()), e))?;
            loop {
                // Never read past the announced size: the pledged total must hold.
                let room = (CHUNK - chunk.len()) as u64;
                let want = room.min(content.size - total);
                if want == 0 {
                    break;
                }
                let start = chunk.len();
                // Reads into the spare capacity: no zeroing, no reallocation.
                let n = match (&mut file).take(want).read_to_end(chunk) {
                    Ok(n) => n,
                    Err(e) => return Err(StoneError::io(format!("reading {}", path.display()), e)),
                };
                if n == 0 {
                    break; // it shrank: reported below
                }
                hasher.update(&chunk[start..]);
                total += n as u64;
                if !flush_full(chunk, chunks) {
                    return Ok(None);
                }
            }
            let mut probe = [0u8; 1];
            if total == content.size && file.read(&mut probe).is_ok_and(|n| n > 0) {
                return Err(changed("it grew".into()));
            }
        }
    }
    if total != content.size {
        return Err(changed(format!(
            "expected {} bytes, read {total}",
            content.size
        )));
    }
    let digest = hasher.digest128();
    if !learning && digest != content.digest {
        return Err(changed("its digest differs".into()));
    }
    Ok(Some(digest))
}
