//! The root lock: an exclusive `flock` on `.moss/.moss-lockfile`, released when dropped.

use std::io;
use std::path::Path;

use crate::util::{FileLock, LockKind};

/// Holds the exclusive lock of one installation root.
#[derive(Debug)]
pub struct RootLock {
    _lock: FileLock,
}

impl RootLock {
    /// Blocks until the lock is ours. The kernel drops it when the process
    /// dies, so a killed moss never leaves a stale lock behind.
    pub(super) fn acquire(path: &Path) -> io::Result<Self> {
        Ok(Self {
            _lock: FileLock::acquire(path, LockKind::Exclusive)?,
        })
    }
}
