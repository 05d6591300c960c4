//! Advisory whole-file locks (`flock`): how moss keeps two processes from
//! changing one installation, and boulder keeps builds sharing a cache apart.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// A lock on a file, released when dropped or when the process dies (so a
/// killed process never leaves a stale lock behind).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

/// What a lock shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    /// One holder.
    Exclusive,
    /// Many holders, no exclusive one.
    Shared,
}

impl LockKind {
    fn operation(self) -> libc::c_int {
        match self {
            LockKind::Exclusive => libc::LOCK_EX,
            LockKind::Shared => libc::LOCK_SH,
        }
    }
}

fn open(path: &Path) -> io::Result<File> {
    File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

fn flock(file: &File, operation: libc::c_int) -> io::Result<()> {
    loop {
        // SAFETY: flock on a descriptor we own.
        let rc = unsafe { libc::flock(file.as_raw_fd(), operation) };
        if rc == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

impl FileLock {
    /// Waits until the lock file at `path` (created when missing) is locked.
    pub fn acquire(path: &Path, kind: LockKind) -> io::Result<Self> {
        let file = open(path)?;
        flock(&file, kind.operation())?;
        Ok(FileLock { _file: file })
    }

    /// The lock, or `None` at once when another holder stands in the way.
    pub fn try_acquire(path: &Path, kind: LockKind) -> io::Result<Option<Self>> {
        let file = open(path)?;
        match flock(&file, kind.operation() | libc::LOCK_NB) {
            Ok(()) => Ok(Some(FileLock { _file: file })),
            Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exclusive_lock_keeps_others_out_until_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("lock");
        let held = FileLock::acquire(&path, LockKind::Exclusive).expect("lock");
        // A second open file description conflicts even in the same process.
        assert!(FileLock::try_acquire(&path, LockKind::Shared)
            .expect("try")
            .is_none());
        drop(held);
        let shared = FileLock::try_acquire(&path, LockKind::Shared).expect("try");
        assert!(shared.is_some());
        assert!(FileLock::try_acquire(&path, LockKind::Shared)
            .expect("try")
            .is_some());
        assert!(FileLock::try_acquire(&path, LockKind::Exclusive)
            .expect("try")
            .is_none());
    }
}
