//! The compressed Content payload goes to the output on a thread of its own:
//! the compressing thread hands over blocks of compressed bytes and goes
//! back to feeding zstd, while this thread writes, counts and checksums
//! them (as the zstd command line writes on an I/O thread of its own). The
//! channel is bounded, so a few MiB at most are in flight.

use std::io::{self, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use xxhash_rust::xxh3::Xxh3Default;

/// Size of the blocks handed over.
const BLOCK: usize = 1 << 20;
/// Blocks waiting to be written.
const QUEUE: usize = 4;

/// What the writing thread did: bytes written and their xxh3-64.
pub(crate) struct Written {
    pub bytes: u64,
    pub checksum: u64,
}

/// The compressing side: a [`Write`] that collects blocks and hands them over.
pub(crate) struct HandOff {
    block: Vec<u8>,
    to_writer: SyncSender<Vec<u8>>,
    spare: Receiver<Vec<u8>>,
}

/// The writing side, to run on its own thread with [`Behind::run`].
pub(crate) struct Behind {
    blocks: Receiver<Vec<u8>>,
    back: SyncSender<Vec<u8>>,
}

/// A connected pair.
pub(crate) fn channel() -> (HandOff, Behind) {
    let (to_writer, blocks) = sync_channel(QUEUE);
    let (back, spare) = sync_channel(QUEUE);
    (
        HandOff {
            block: Vec::with_capacity(BLOCK),
            to_writer,
            spare,
        },
        Behind { blocks, back },
    )
}

impl HandOff {
    fn hand_over(&mut self) -> io::Result<()> {
        let fresh = match self.spare.try_recv() {
            Ok(mut block) => {
                block.clear();
                block
            }
            Err(_) => Vec::with_capacity(BLOCK),
        };
        let full = std::mem::replace(&mut self.block, fresh);
        self.to_writer
            .send(full)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the writing thread stopped"))
    }

    /// Hands over what is left; the writing thread ends once this is dropped.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        if !self.block.is_empty() {
            self.hand_over()?;
        }
        Ok(())
    }
}

impl Write for HandOff {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(BLOCK - self.block.len());
        self.block.extend_from_slice(&buf[..n]);
        if self.block.len() == BLOCK {
            self.hand_over()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Behind {
    /// Writes every block to `out` until the [`HandOff`] is gone.
    pub(crate) fn run<W: Write>(self, out: &mut W) -> io::Result<Written> {
        let mut hasher = Xxh3Default::new();
        let mut bytes = 0u64;
        for block in self.blocks.iter() {
            out.write_all(&block)?;
            hasher.update(&block);
            bytes += block.len() as u64;
            let _ = self.back.try_send(block);
        }
        Ok(Written {
            bytes,
            checksum: hasher.digest(),
        })
    }
}
