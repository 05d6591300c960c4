//! Reads the regular files of a walked tree once each, in archive order
//! (largest first): digests are learnt while the
//! bytes go to the compressor, and duplicates are dropped on the way.
//!
//! Two files can only be equal if their sizes are, so the first file of
//! each size is streamed straight into the chunks. A later file of a size
//! already seen is read whole into memory first (up to [`HOLD_MAX`]) and
//! passed on only if its digest is new; a larger one is hashed, then read
//! again if it turns out not to be a duplicate (large files of one size and
//! different contents are rare).

use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::error::{Result, StoneError};
use super::readahead::{
    finish, flush_full, make_room, push_bytes, stream_file, Chunks, Streamed, CHUNK,
};

/// A later file of a size already seen is held in memory up to this size.
pub(crate) const HOLD_MAX: u64 = 8 << 20;

/// One regular file, in archive order.
pub(crate) struct Planned {
    pub path: PathBuf,
    pub size: u64,
    /// The first file of its size in archive order.
    pub first_of_size: bool,
}

/// What became of a file: its digest, and whether its bytes went into the
/// stream (`false`: an earlier file had the same content).
pub(crate) type Outcome = (u128, bool);

/// Reads `files` in order into chunks sent on `chunks`; a failure is sent
/// as the last message. Stops early if the receiver is gone. Returns one
/// outcome per file read; the list is complete only when every file was.
pub(crate) fn read_once(files: &[Planned], chunks: Chunks) -> Vec<Outcome> {
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut outcomes = Vec::with_capacity(files.len());
    // Digests stored of the current size (equal contents have equal sizes).
    let mut stored: HashSet<u128> = HashSet::new();
    let mut held = Vec::new();
    for file in files {
        if file.first_of_size {
            stored.clear();
        }
        let outcome = if file.first_of_size {
            stream_new(file, &mut chunk, &chunks)
        } else if file.size <= HOLD_MAX {
            hold_and_compare(file, &stored, &mut held, &mut chunk, &chunks)
        } else {
            hash_and_compare(file, &stored, &mut chunk, &chunks)
        };
        match outcome {
            Ok(Some(outcome)) => {
                if outcome.1 {
                    stored.insert(outcome.0);
                }
                outcomes.push(outcome);
            }
            Ok(None) => return outcomes,
            Err(e) => {
                chunks.fail(e);
                return outcomes;
            }
        }
    }
    finish(chunk, &chunks);
    outcomes
}

/// Opens a walked file for reading. The walk saw a regular file here; a
/// symlink put in its place since then is refused, not followed.
fn open(path: &Path) -> Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| StoneError::io(format!("opening {}", path.display()), e))
}

/// The file changed between the walk and now.
fn changed(file: &Planned, digest: u128, reason: String) -> StoneError {
    StoneError::ContentChanged {
        digest,
        source_desc: file.path.display().to_string(),
        reason,
    }
}

/// Streams the file into the chunks; its size must be the walked one.
fn stream_new(file: &Planned, chunk: &mut Vec<u8>, chunks: &Chunks) -> Result<Option<Outcome>> {
    let read = stream_file(open(&file.path)?, file.size, chunk, chunks);
    match read {
        Ok(Some((total, digest))) if total == file.size => Ok(Some((digest, true))),
        Ok(Some((total, digest))) => Err(changed(
            file,
            digest,
            format!("expected {} bytes, read {total}", file.size),
        )),
        Ok(None) => Ok(None),
        Err(Streamed::Read(e)) => Err(StoneError::io(
            format!("reading {}", file.path.display()),
            e,
        )),
        Err(Streamed::Grew) => Err(changed(file, 0, "it grew".into())),
    }
}

/// Appends exactly the walked size of the file to `into`, checking that
/// it neither shrank nor grew; returns the digest of what was appended.
fn read_exact_size(file: &Planned, into: &mut Vec<u8>) -> Result<u128> {
    let start = into.len();
    let mut f = open(&file.path)?;
    let read_err = |e| StoneError::io(format!("reading {}", file.path.display()), e);
    let n = (&mut f)
        .take(file.size)
        .read_to_end(into)
        .map_err(read_err)?;
    let digest = xxhash_rust::xxh3::xxh3_128(&into[start..]);
    if n as u64 != file.size {
        return Err(changed(
            file,
            digest,
            format!("expected {} bytes, read {n}", file.size),
        ));
    }
    let mut probe = [0u8; 1];
    if f.read(&mut probe).map_err(read_err)? > 0 {
        return Err(changed(file, digest, "it grew".into()));
    }
    Ok(digest)
}

/// A file of a size already seen, small enough to hold: read whole, then
/// passed on unless its content was stored already. One that fits in a
/// chunk is read straight into it and cut off again if it was stored.
fn hold_and_compare(
    file: &Planned,
    stored: &HashSet<u128>,
    held: &mut Vec<u8>,
    chunk: &mut Vec<u8>,
    chunks: &Chunks,
) -> Result<Option<Outcome>> {
    if file.size <= CHUNK as u64 {
        if !make_room(file.size as usize, chunk, chunks) {
            return Ok(None);
        }
        let start = chunk.len();
        let digest = read_exact_size(file, chunk)?;
        let new = !stored.contains(&digest);
        if !new {
            chunk.truncate(start);
        } else if !flush_full(chunk, chunks) {
            return Ok(None);
        }
        return Ok(Some((digest, new)));
    }
    held.clear();
    let digest = read_exact_size(file, held)?;
    if stored.contains(&digest) {
        return Ok(Some((digest, false)));
    }
    if !push_bytes(held, chunk, chunks) {
        return Ok(None);
    }
    Ok(Some((digest, true)))
}

/// A large file of a size already seen: hashed first, and read again into
/// the chunks only if its content is new (and then must not have changed).
fn hash_and_compare(
    file: &Planned,
    stored: &HashSet<u128>,
    chunk: &mut Vec<u8>,
    chunks: &Chunks,
) -> Result<Option<Outcome>> {
    let content = super::writer::Content::from_path(file.path.clone())?;
    if content.size != file.size {
        return Err(changed(
            file,
            content.digest,
            format!("expected {} bytes, read {}", file.size, content.size),
        ));
    }
    if stored.contains(&content.digest) {
        return Ok(Some((content.digest, false)));
    }
    match stream_new(file, chunk, chunks)? {
        Some((digest, _)) if digest != content.digest => Err(changed(
            file,
            content.digest,
            "it changed while it was read".into(),
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlink_in_place_of_a_walked_file_is_not_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outside = dir.path().join("outside");
        std::fs::write(&outside, b"secret").expect("write");
        let swapped = dir.path().join("file");
        std::os::unix::fs::symlink(&outside, &swapped).expect("symlink");
        let planned = Planned {
            path: swapped,
            size: 6,
            first_of_size: true,
        };
        let mut read = Vec::new();
        assert!(read_exact_size(&planned, &mut read).is_err());
        assert!(read.is_empty());
    }
}
