//! Reads the contents of a stone being written, in archive order, checking
//! each against its announced size and digest, and hands them to the
//! compressor in large chunks. zstd's worker threads compress while the
//! next files are read, as `tar | zstd` reads and compresses at once.

use std::cell::RefCell;
use std::fs::File;
use std::io::Read;

use xxhash_rust::xxh3::{xxh3_128, Xxh3Default};

use super::error::{Result, StoneError};
use super::writer::{Content, ContentSource};

/// Size of the chunks handed over; many small files share one.
pub(crate) const CHUNK: usize = 1 << 20;

/// Where full chunks go: straight into the compressor, on the reading
/// thread (one hand-over less than a queue to another thread, each of which
/// costs a wake-up on a busy machine). A failure is delivered as the last
/// message; the sink answers `false` when it wants no more.
pub(crate) struct Chunks<'a> {
    sink: RefCell<&'a mut Sink<'a>>,
}

/// Takes a chunk (or the failure that ends the stream); `false`: no more.
pub(crate) type Sink<'a> = dyn FnMut(Result<&[u8]>) -> bool + 'a;

impl<'a> Chunks<'a> {
    pub(crate) fn new(sink: &'a mut Sink<'a>) -> Self {
        Chunks {
            sink: RefCell::new(sink),
        }
    }

    /// Hands over the chunk and empties it; `false` if no more is wanted.
    fn deliver(&self, chunk: &mut Vec<u8>) -> bool {
        let wanted = (self.sink.borrow_mut())(Ok(chunk));
        chunk.clear();
        wanted
    }

    pub(crate) fn fail(&self, e: StoneError) {
        (self.sink.borrow_mut())(Err(e));
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
                chunks.fail(e);
                return done;
            }
        }
    }
    finish(chunk, &chunks);
    contents.len()
}

/// Hands over the last, partly filled chunk.
pub(crate) fn finish(mut chunk: Vec<u8>, chunks: &Chunks) {
    if !chunk.is_empty() {
        chunks.deliver(&mut chunk);
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
    chunks.deliver(chunk)
}

/// Hands over the chunk if it is full. `false` if the receiver is gone.
pub(crate) fn flush_full(chunk: &mut Vec<u8>, chunks: &Chunks) -> bool {
    if chunk.len() < CHUNK {
        return true;
    }
    chunks.deliver(chunk)
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
