//! Streaming assets into the store: the sink the stone content unpacker
//! writes into. Each asset goes to a temporary file that is renamed into
//! place only after the unpacker verified its digest; a dropped, uncommitted
//! writer deletes its temporary file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use super::{Digest, Store, STORE_MODE, TMP_COUNTER};
use crate::fault::checkpoint;
use crate::stone::{ContentSink, IndexEntry};

/// An asset being written.
#[derive(Debug)]
pub struct AssetWriter {
    file: Option<File>,
    tmp: PathBuf,
    path: PathBuf,
}

impl Write for AssetWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => f.write(buf),
            None => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AssetWriter {
    /// Moves the finished asset under its digest name (a copy another
    /// writer put there first stays).
    pub fn commit(mut self) -> io::Result<()> {
        drop(self.file.take());
        checkpoint();
        super::publish::publish(&self.tmp, &self.path)?;
        checkpoint();
        Ok(())
    }
}

impl Drop for AssetWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

impl Store {
    /// Starts writing `digest`; `None` when the store already has it.
    ///
    /// The temporary file is created in the asset's shard directory first and
    /// the directories are made only when that fails: with the `2/2/2`
    /// sharding most assets need a new directory, but a repeated `stat` +
    /// `mkdir -p` walk per asset was a large share of an install.
    pub fn begin(&self, digest: Digest) -> io::Result<Option<AssetWriter>> {
        let path = self.path(digest);
        if path.is_file() {
            return Ok(None);
        }
        self.mark_writing()?;
        let parent = path.parent().unwrap_or(self.dir()).to_path_buf();
        let tmp = parent.join(format!(
            ".{digest:x}.{}.{}.tmp",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        checkpoint();
        let create = || {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(STORE_MODE)
                .open(&tmp)
        };
        let file = match create() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(&parent)?;
                create()?
            }
            other => other?,
        };
        // The umask may have narrowed the mode given to open.
        file.set_permissions(fs::Permissions::from_mode(STORE_MODE))?;
        Ok(Some(AssetWriter {
            file: Some(file),
            tmp,
            path,
        }))
    }
}

/// Unpacks stone content into the store, counting what it wrote.
#[derive(Debug)]
pub struct StoreSink<'a> {
    pub store: &'a Store,
    pub written: u64,
    pub bytes: u64,
}

impl ContentSink for StoreSink<'_> {
    type Output = AssetWriter;

    fn open(&mut self, entry: &IndexEntry) -> io::Result<Option<AssetWriter>> {
        self.store.begin(entry.digest)
    }

    fn commit(&mut self, entry: &IndexEntry, output: AssetWriter) -> io::Result<()> {
        output.commit()?;
        self.written += 1;
        self.bytes += entry.len();
        Ok(())
    }
}
