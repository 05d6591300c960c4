//! Advisory file locks (`flock`), so concurrent boulder processes sharing a
//! cache never import, blit or prune the same thing at once.

use std::path::Path;

use moss_core::util::LockKind;

use super::RootError;

/// A lock, released when dropped (or when the process dies).
#[derive(Debug)]
pub struct FileLock {
    _lock: moss_core::util::FileLock,
}

impl FileLock {
    /// Waits until the lock file at `path` can be locked exclusively.
    pub fn exclusive(path: &Path) -> Result<Self, RootError> {
        Self::take(path, LockKind::Exclusive)
    }

    /// Waits for a shared lock (many holders, no exclusive one).
    pub fn shared(path: &Path) -> Result<Self, RootError> {
        Self::take(path, LockKind::Shared)
    }

    /// Takes an exclusive lock only if nobody holds the file.
    pub fn try_exclusive(path: &Path) -> Result<Option<Self>, RootError> {
        create_parent(path)?;
        let lock = moss_core::util::FileLock::try_acquire(path, LockKind::Exclusive)
            .map_err(RootError::io("locking", path))?;
        Ok(lock.map(|lock| FileLock { _lock: lock }))
    }

    fn take(path: &Path, kind: LockKind) -> Result<Self, RootError> {
        create_parent(path)?;
        let lock = moss_core::util::FileLock::acquire(path, kind)
            .map_err(RootError::io("locking", path))?;
        Ok(FileLock { _lock: lock })
    }
}

fn create_parent(path: &Path) -> Result<(), RootError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(RootError::io("creating", parent))?;
    }
    Ok(())
}
