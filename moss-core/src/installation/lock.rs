//! The root lock: `flock(LOCK_EX)` on `.moss/.moss-lockfile`, released when dropped.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Holds the exclusive lock of one installation root.
#[derive(Debug)]
pub struct RootLock {
    _file: File,
}

impl RootLock {
    /// Blocks until the lock is ours. The kernel drops it when the process
    /// dies, so a killed moss never leaves a stale lock behind.
    pub(super) fn acquire(path: &Path) -> io::Result<Self> {
        let file = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)?;
        loop {
            // SAFETY: flock on a descriptor we own.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
            if rc == 0 {
                return Ok(Self { _file: file });
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}
