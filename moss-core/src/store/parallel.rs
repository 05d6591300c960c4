//! Unpacking a stone into the store with the file system work spread over
//! threads.
//!
//! Decompression is one stream and stays on the calling thread, but for the
//! typical package of many small files the time goes into creating shard
//! directories, temporary files and renames, not into zstd. Small verified
//! assets are therefore handed, in memory, to a few writer threads; large ones
//! are streamed straight to their temporary file as before. The queue is
//! bounded, so memory stays at most `QUEUE * SMALL_ASSET` bytes whatever the
//! package size.

use std::io::{self, Read, Seek, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use super::{AssetWriter, Digest, Store};
use crate::stone::{ContentSink, IndexEntry, StoneError, StoneReader};

/// Assets up to this size are written by the worker threads.
const SMALL_ASSET: u64 = 256 * 1024;
/// Assets waiting for a worker.
const QUEUE: usize = 64;

/// Counts of what an unpack wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnpackCounts {
    pub assets: u64,
    pub bytes: u64,
}

/// Where the bytes of one asset go while it is being decompressed.
pub enum Pending {
    /// A large asset, written as it arrives.
    Direct(AssetWriter),
    /// A small asset, collected and written by a worker once verified.
    Buffered(Vec<u8>),
}

impl Write for Pending {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Pending::Direct(w) => w.write(buf),
            Pending::Buffered(v) => v.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// State shared with the workers.
#[derive(Default)]
struct Shared {
    failed: AtomicBool,
    error: Mutex<Option<(Digest, io::Error)>>,
    assets: AtomicU64,
    bytes: AtomicU64,
}

impl Shared {
    fn fail(&self, digest: Digest, error: io::Error) {
        if let Ok(mut slot) = self.error.lock() {
            slot.get_or_insert((digest, error));
        }
        self.failed.store(true, Ordering::Release);
    }
}

fn write_asset(store: &Store, digest: Digest, bytes: &[u8]) -> io::Result<bool> {
    match store.begin(digest)? {
        Some(mut out) => {
            out.write_all(bytes)?;
            out.commit()?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// One verified small asset, waiting to be written.
type Job = (Digest, Vec<u8>);

fn worker(store: &Store, jobs: Arc<Mutex<Receiver<Job>>>, shared: &Shared) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((digest, bytes)) = job else { return };
        if shared.failed.load(Ordering::Acquire) {
            continue; // drain the queue so the producer never blocks
        }
        match write_asset(store, digest, &bytes) {
            Ok(true) => {
                shared.assets.fetch_add(1, Ordering::Relaxed);
                shared
                    .bytes
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
            }
            Ok(false) => {}
            Err(e) => shared.fail(digest, e),
        }
    }
}

struct ParallelSink<'a> {
    store: &'a Store,
    jobs: Option<SyncSender<Job>>,
    shared: &'a Shared,
}

impl ParallelSink<'_> {
    fn check(&self) -> io::Result<()> {
        if self.shared.failed.load(Ordering::Acquire) {
            return Err(io::Error::other("a store writer failed"));
        }
        Ok(())
    }
}

impl ContentSink for ParallelSink<'_> {
    type Output = Pending;

    fn scratch_dir(&self) -> Option<std::path::PathBuf> {
        Some(self.store.dir().to_path_buf())
    }

    fn open(&mut self, entry: &IndexEntry) -> io::Result<Option<Pending>> {
        self.check()?;
        if entry.len() <= SMALL_ASSET {
            // The worker checks whether the store already has it.
            return Ok(Some(Pending::Buffered(Vec::with_capacity(
                entry.len() as usize
            ))));
        }
        Ok(self.store.begin(entry.digest)?.map(Pending::Direct))
    }

    fn commit(&mut self, entry: &IndexEntry, output: Pending) -> io::Result<()> {
        match output {
            Pending::Direct(w) => {
                w.commit()?;
                self.shared.assets.fetch_add(1, Ordering::Relaxed);
                self.shared.bytes.fetch_add(entry.len(), Ordering::Relaxed);
                Ok(())
            }
            Pending::Buffered(bytes) => {
                self.check()?;
                let jobs = self.jobs.as_ref().ok_or(io::ErrorKind::BrokenPipe)?;
                jobs.send((entry.digest, bytes))
                    .map_err(|_| io::Error::other("the store writers stopped"))
            }
        }
    }
}

/// Unpacks the Content payload of `reader` into `store` with `threads`
/// writer threads. Every asset is verified before it is stored, and all
/// writes have finished (or failed) when this returns.
pub fn unpack_into<R: Read + Seek>(
    reader: &mut StoneReader<R>,
    store: &Store,
    threads: usize,
) -> Result<UnpackCounts, StoneError> {
    // Before any worker can make a temporary file.
    store
        .begin_writing()
        .map_err(|e| StoneError::io("marking the store as being written", e))?;
    let shared = Shared::default();
    let (tx, rx) = sync_channel(QUEUE);
    let rx = Arc::new(Mutex::new(rx));
    let unpacked = std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            let rx = Arc::clone(&rx);
            let shared = &shared;
            scope.spawn(move || worker(store, rx, shared));
        }
        let mut sink = ParallelSink {
            store,
            jobs: Some(tx),
            shared: &shared,
        };
        let result = reader.unpack_content(&mut sink);
        // Closing the queue lets the workers finish; the scope joins them.
        sink.jobs = None;
        result
    });
    // The workers are joined and every uncommitted writer dropped its
    // temporary file, whether the unpack worked or not.
    let finished = store
        .finish_writing()
        .map_err(|e| StoneError::io("unmarking the store", e));
    let worker_error = shared.error.lock().ok().and_then(|mut e| e.take());
    if let Some((digest, source)) = worker_error {
        // The writer's error explains a failed hand-over better than the hand-over does.
        return Err(StoneError::Sink { digest, source });
    }
    unpacked?;
    finished?;
    Ok(UnpackCounts {
        assets: shared.assets.load(Ordering::Relaxed),
        bytes: shared.bytes.load(Ordering::Relaxed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stone::{Content, LayoutEntry, LayoutKind, Meta, StoneWriter, WriteOptions};
    use crate::store::digest_of;

    fn binary_stone(contents: &[Vec<u8>]) -> Vec<u8> {
        let layout: Vec<LayoutEntry> = contents
            .iter()
            .enumerate()
            .map(|(i, c)| LayoutEntry {
                uid: 0,
                gid: 0,
                mode: 0o100644,
                tag: 0,
                kind: LayoutKind::Regular {
                    digest: digest_of(c),
                },
                path: format!("share/f{i}"),
            })
            .collect();
        let meta = Meta {
            name: "t".into(),
            version: "1".into(),
            ..Meta::default()
        };
        let body = contents.iter().cloned().map(Content::from_bytes).collect();
        StoneWriter::new(WriteOptions::default())
            .write_binary(std::io::Cursor::new(Vec::new()), &meta, &layout, body)
            .unwrap()
            .into_inner()
    }

    #[test]
    fn small_and_large_assets_are_stored_verified() {
        let dir = tempfile::tempdir().unwrap();
        let small: Vec<Vec<u8>> = (0..300u32)
            .map(|i| {
                format!("file {i}\n")
                    .repeat(i as usize % 7 + 1)
                    .into_bytes()
            })
            .collect();
        let large: Vec<u8> = (0..(SMALL_ASSET as usize * 3))
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let mut contents: Vec<Vec<u8>> = small.clone();
        contents.push(large.clone());
        contents.push(Vec::new());
        let stone = binary_stone(&contents);
        let store = Store::new(dir.path().join("store"));
        let mut reader = StoneReader::new(std::io::Cursor::new(stone.clone())).unwrap();
        let counts = unpack_into(&mut reader, &store, 3).unwrap();
        let unique: std::collections::HashSet<_> = contents.iter().map(|c| digest_of(c)).collect();
        assert_eq!(counts.assets as usize, unique.len());
        for c in &contents {
            assert_eq!(std::fs::read(store.path(digest_of(c))).unwrap(), *c);
        }
        // A second unpack finds everything present.
        let mut reader = StoneReader::new(std::io::Cursor::new(stone)).unwrap();
        assert_eq!(unpack_into(&mut reader, &store, 2).unwrap().assets, 0);
        assert_eq!(store.clean_temporaries().unwrap(), 0);
    }
}
