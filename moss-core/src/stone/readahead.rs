//! Reads the contents of a stone being written on a thread of its own, in
//! archive order, checking each against its announced size and digest, and
//! hands them over in large chunks: the compressing thread then never waits
//! on a file system call, as `tar | zstd` reads and compresses in two
//! processes. The channel is bounded, so a few MiB at most are in flight.

use std::fs::File;
use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender};

use xxhash_rust::xxh3::{xxh3_128, Xxh3Default};

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

/// Reads `contents` back to back into chunks sent on `chunks`, verifying
/// each against its size and digest; a failure is sent as the last message.
/// Stops early if the receiver is gone. Returns how many were read whole.
pub(crate) fn read_ahead(contents: &[Content], chunks: Chunks) -> usize {
    let mut chunk = Vec::with_capacity(CHUNK);
    for (done, content) in contents.iter().enumerate() {
        match read_one(content, &mut chunk, &chunks) {
            Ok(true) => {}
            Ok(false) => return done,
            Err(e) => {
                let _ = chunks.full.send(Err(e));
                return done;
            }
        }
    }
    finish(chunk, &chunks);
    contents.len()
}

/// Hands over the last, partly filled chunk.
pub(crate) fn finish(chunk: Vec<u8>, chunks: &Chunks) {
    if !chunk.is_empty() {
        let _ = chunks.full.send(Ok(chunk));
    }
}

/// Appends `bytes` to the chunk stream. `false` if the receiver is gone.
pub(crate) fn push_bytes(mut bytes: &[u8], chunk: &mut Vec<u8>, chunks: &Chunks) -> bool {
    while !bytes.is_empty() {
        let n = bytes.len().min(CHUNK - chunk.len());
        chunk.extend_from_slice(&bytes[..n]);
        bytes = &bytes[n..];
        if !flush_full(chunk, chunks) {
            return false;
        }
    }
    true
}

/// Makes room for `n` more bytes in the chunk (`n` at most [`CHUNK`]),
/// handing it over early if need be. `false` if the receiver is gone.
pub(crate) fn make_room(n: usize, chunk: &mut Vec<u8>, chunks: &Chunks) -> bool {
    if chunk.len() + n <= CHUNK {
        return true;
    }
    let full = std::mem::replace(chunk, chunks.fresh());
    chunks.full.send(Ok(full)).is_ok()
}

/// Hands over the chunk if it is full. `false` if the receiver is gone.
pub(crate) fn flush_full(chunk: &mut Vec<u8>, chunks: &Chunks) -> bool {
    if chunk.len() < CHUNK {
        return true;
    }
    let full = std::mem::replace(chunk, chunks.fresh());
    chunks.full.send(Ok(full)).is_ok()
}

/// Appends one content to the chunk stream, verifying it; `false` if the
/// receiver is gone.
fn read_one(content: &Content, chunk: &mut Vec<u8>, chunks: &Chunks) -> Result<bool> {
    let changed = |reason: String| StoneError::ContentChanged {
        digest: content.digest,
        source_desc: content.describe(),
        reason,
    };
    let (total, digest) = match &content.source {
        ContentSource::Bytes(bytes) => {
            if !push_bytes(bytes, chunk, chunks) {
                return Ok(false);
            }
            (bytes.len() as u64, xxh3_128(bytes))
        }
        ContentSource::Path(path) => {
            let file = File::open(path)
                .map_err(|e| StoneError::io(format!("opening {}", path.display()), e))?;
            match stream_file(file, content.size, chunk, chunks) {
                Ok(Some(read)) => read,
                Ok(None) => return Ok(false),
                Err(Streamed::Read(e)) => {
                    return Err(StoneError::io(format!("reading {}", path.display()), e))
                }
                Err(Streamed::Grew) => return Err(changed("it grew".into())),
            }
        }
    };
    if total != content.size {
        return Err(changed(format!(
            "expected {} bytes, read {total}",
            content.size
        )));
    }
    if digest != content.digest {
        return Err(changed("its digest differs".into()));
    }
    Ok(true)
}

/// Why [`stream_file`] stopped.
pub(crate) enum Streamed {
    Read(std::io::Error),
    /// There was more to read than the announced size.
    Grew,
}

/// Appends up to `size` bytes of `file` to the chunk stream, hashing them;
/// returns how many were read (fewer if it shrank) and their xxh3-128
/// digest, `None` if the receiver is gone.
pub(crate) fn stream_file(
    mut file: File,
    size: u64,
    chunk: &mut Vec<u8>,
    chunks: &Chunks,
) -> std::result::Result<Option<(u64, u128)>, Streamed> {
    let mut hasher = Xxh3Default::new();
    let mut total = 0u64;
    loop {
        // Never read past the announced size: the plain size must hold.
        let room = (CHUNK - chunk.len()) as u64;
        let want = room.min(size - total);
        if want == 0 {
            break;
        }
        let start = chunk.len();
        // Reads into the spare capacity: no zeroing, no reallocation.
        let n = (&mut file)
            .take(want)
            .read_to_end(chunk)
            .map_err(Streamed::Read)?;
        if n == 0 {
            break; // it shrank: the caller compares the sizes
        }
        hasher.update(&chunk[start..]);
        total += n as u64;
        if !flush_full(chunk, chunks) {
            return Ok(None);
        }
    }
    let mut probe = [0u8; 1];
    if total == size && file.read(&mut probe).is_ok_and(|n| n > 0) {
        return Err(Streamed::Grew);
    }
    Ok(Some((total, hasher.digest128())))
}
