//! Advisory file locks (`flock`), so concurrent boulder processes sharing a
//! cache never import, blit or prune the same thing at once.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::Path;

use super::RootError;

/// An exclusive lock, released when dropped (or when the process dies).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Waits until the lock file at `path` can be locked exclusively.
    pub fn exclusive(path: &Path) -> Result<Self, RootError> {
        Self::take(path, libc::LOCK_EX)
    }

    /// Waits for a shared lock (many holders, no exclusive one).
    pub fn shared(path: &Path) -> Result<Self, RootError> {
        Self::take(path, libc::LOCK_SH)
    }

    /// Takes an exclusive lock only if nobody holds the file.
    pub fn try_exclusive(path: &Path) -> Result<Option<Self>, RootError> {
        match Self::take(path, libc::LOCK_EX | libc::LOCK_NB) {
            Ok(lock) => Ok(Some(lock)),
            Err(RootError::Io { source, .. })
                if source.raw_os_error() == Some(libc::EWOULDBLOCK) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn take(path: &Path, op: libc::c_int) -> Result<Self, RootError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(RootError::io("creating", parent))?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(RootError::io("opening the lock", path))?;
        loop {
            // SAFETY: flock on a descriptor we own.
            let rc = unsafe { libc::flock(file.as_raw_fd(), op) };
            if rc == 0 {
                return Ok(FileLock { _file: file });
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(RootError::Io {
                    op: "locking",
                    path: path.to_path_buf(),
                    source: err,
                });
            }
        }
    }
}
