//! Writes unique contents straight to their final paths while the content
//! stream is decompressed: the decompressing thread gathers small verified
//! files into batches and streams large files in chunks, and writer threads
//! create and fill the files, as `tar -I zstd` splits decompression and file
//! writing over two processes. The channels are bounded, so at most a few
//! MiB are in flight whatever the package size.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::mem;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use super::super::content::ContentSink;
use super::super::error::Result;
use super::super::index::IndexEntry;
use super::super::layout::LayoutKind;
use super::fsops::{create_file, fail, make_node, make_symlink, write_file};

/// Files up to this size are collected whole and written by a writer in one go.
const SMALL_FILE: u64 = 1 << 20;
/// A batch is handed over once it holds this many bytes or items.
const BATCH_BYTES: usize = 1 << 20;
const BATCH_ITEMS: usize = 256;
/// Batches waiting for each writer.
const QUEUE: usize = 4;

/// Where a content goes and the permission bits to create it with.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub path: PathBuf,
    pub mode: u32,
}

/// Work for a writer thread.
pub(super) enum Item {
    /// A whole verified file.
    Whole(Target, Vec<u8>),
    /// The start of a large file; its chunks go to the same writer.
    Begin(Target),
    Chunk(Vec<u8>),
    /// The large file is complete and verified.
    End,
    Symlink(PathBuf, String),
    Node(PathBuf, LayoutKind, u32),
}

type Batch = Vec<Item>;

/// Starts `count` writer threads in `scope`; returns their queues and handles.
pub(super) fn spawn<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    count: usize,
) -> (
    Vec<SyncSender<Batch>>,
    Vec<std::thread::ScopedJoinHandle<'scope, Result<()>>>,
) {
    (0..count.max(1))
        .map(|_| {
            let (tx, rx) = sync_channel(QUEUE);
            (tx, scope.spawn(move || run(rx)))
        })
        .unzip()
}

/// A large file being written; removed unless it was completed.
struct Partial(Option<(PathBuf, File)>);

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some((path, file)) = self.0.take() {
            drop(file);
            let _ = fs::remove_file(path);
        }
    }
}

/// A writer thread: stops at the first error and returns it.
fn run(batches: Receiver<Batch>) -> Result<()> {
    let mut partial = Partial(None);
    for batch in batches {
        for item in batch {
            match item {
                Item::Whole(target, bytes) => write_file(&target.path, target.mode, &bytes)?,
                Item::Begin(target) => {
                    let file = create_file(&target.path, target.mode)?;
                    partial = Partial(Some((target.path, file)));
                }
                Item::Chunk(bytes) => {
                    if let Some((path, file)) = partial.0.as_mut() {
                        file.write_all(&bytes).map_err(|e| fail(path, e))?;
                    }
                }
                Item::End => {
                    // Complete: closed and kept.
                    partial.0 = None;
                }
                Item::Symlink(path, target) => make_symlink(&target, &path)?,
                Item::Node(path, kind, mode) => make_node(&path, &kind, mode)?,
            }
        }
    }
    Ok(())
}

fn writers_gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the file writers stopped")
}

/// Hands work to the writers round robin, a batch at a time.
pub(super) struct Dispatch {
    writers: Vec<SyncSender<Batch>>,
    next: usize,
    batch: Batch,
    bytes: usize,
}

impl Dispatch {
    pub fn new(writers: Vec<SyncSender<Batch>>) -> Self {
        Dispatch {
            writers,
            next: 0,
            batch: Vec::new(),
            bytes: 0,
        }
    }

    /// The writer for the next batch or stream.
    fn take_writer(&mut self) -> SyncSender<Batch> {
        let writer = self.writers[self.next % self.writers.len()].clone();
        self.next += 1;
        writer
    }

    pub fn push(&mut self, item: Item, bytes: usize) -> io::Result<()> {
        self.batch.push(item);
        self.bytes += bytes;
        if self.bytes >= BATCH_BYTES || self.batch.len() >= BATCH_ITEMS {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands over the current batch, if any.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = mem::take(&mut self.batch);
        self.bytes = 0;
        self.take_writer().send(batch).map_err(|_| writers_gone())
    }
}

/// The content sink: the first surviving path of each digest gets the file;
/// digests no surviving entry uses are verified and dropped.
pub(super) struct DirectSink<'a> {
    pub targets: &'a HashMap<u128, Target>,
    pub dispatch: Dispatch,
}

/// The write side of one content.
pub(super) enum Output {
    Small(Vec<u8>),
    Large(SyncSender<Batch>),
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Small(bytes) => bytes.extend_from_slice(buf),
            Output::Large(writer) => writer
                .send(vec![Item::Chunk(buf.to_vec())])
                .map_err(|_| writers_gone())?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl ContentSink for DirectSink<'_> {
    type Output = Output;

    fn open(&mut self, entry: &IndexEntry) -> io::Result<Option<Output>> {
        let Some(target) = self.targets.get(&entry.digest) else {
            return Ok(None);
        };
        if entry.len() <= SMALL_FILE {
            return Ok(Some(Output::Small(
                Vec::with_capacity(entry.len() as usize),
            )));
        }
        let writer = self.dispatch.take_writer();
        writer
            .send(vec![Item::Begin(target.clone())])
            .map_err(|_| writers_gone())?;
        Ok(Some(Output::Large(writer)))
    }

    fn commit(&mut self, entry: &IndexEntry, output: Output) -> io::Result<()> {
        match output {
            Output::Small(bytes) => {
                let target = self
                    .targets
                    .get(&entry.digest)
                    .ok_or(io::ErrorKind::NotFound)?
                    .clone();
                let len = bytes.len();
                self.dispatch.push(Item::Whole(target, bytes), len)
            }
            Output::Large(writer) => writer.send(vec![Item::End]).map_err(|_| writers_gone()),
        }
    }
}
