//! The store's fan-out directories (`aa/`, `aa/bb/`, `aa/bb/cc/`), made
//! with `mkdirat` below the store's directory descriptor.
//!
//! With the `2/2/2` naming almost every asset of a large install needs a
//! new third-level directory, and about half of them a new second-level
//! one, so the directories cost as much as the assets. The first two levels
//! (256 + 65,536 names) are remembered in a bitmap once made or found, so
//! each is created once per process; the third is made with one `mkdirat`
//! per asset, whose answer also says whether the asset can already exist.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicU64, Ordering};

/// Bits for the first level (256 names) and then the second (65,536).
const WORDS: usize = (256 + 65_536) / 64;

/// The first two fan-out levels this process knows exist.
#[derive(Debug)]
pub(super) struct FanOut {
    known: Box<[AtomicU64]>,
}

impl Default for FanOut {
    fn default() -> Self {
        Self {
            known: (0..WORDS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

/// `mkdirat`; `Ok(false)` when the name already exists.
fn mkdirat(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<bool> {
    // SAFETY: plain syscall on a valid C string.
    let rc = unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), 0o755) };
    if rc == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    if err.kind() == io::ErrorKind::AlreadyExists {
        Ok(false)
    } else {
        Err(err)
    }
}

impl FanOut {
    fn is_known(&self, bit: usize) -> bool {
        self.known[bit / 64].load(Ordering::Relaxed) & (1 << (bit % 64)) != 0
    }

    fn set_known(&self, bit: usize) {
        self.known[bit / 64].fetch_or(1 << (bit % 64), Ordering::Relaxed);
    }

    fn forget(&self, bit: usize) {
        self.known[bit / 64].fetch_and(!(1 << (bit % 64)), Ordering::Relaxed);
    }

    /// Makes sure the directory of an asset exists below `store`; `dir` is
    /// its relative path, `aa/bb/cc` (8 bytes) or shorter for the rare
    /// unsharded names (the store itself: nothing to make). Returns whether
    /// this call created the asset's own directory: then the asset cannot
    /// be there yet.
    pub(super) fn ensure(&self, store: BorrowedFd<'_>, dir: &str) -> io::Result<bool> {
        let bytes = dir.as_bytes();
        if bytes.len() != 8 {
            return Ok(false);
        }
        let hex = |s: &[u8]| {
            std::str::from_utf8(s)
                .ok()
                .and_then(|s| usize::from_str_radix(s, 16).ok())
                .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))
        };
        let first = hex(&bytes[..2])?;
        let second = 256 + hex(&[&bytes[..2], &bytes[3..5]].concat())?;
        let cstr = |s: &[u8]| {
            std::ffi::CString::new(s).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
        };
        let (middle, leaf) = (cstr(&bytes[..5])?, cstr(bytes)?);
        // Removing a store's last asset of a shard removes its directories
        // too: a remembered level that is gone (`ENOENT` below it) is made again.
        if self.is_known(second) {
            match mkdirat(store, &leaf) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    self.forget(first);
                    self.forget(second);
                }
                other => return other,
            }
        }
        if self.is_known(first) {
            match mkdirat(store, &middle) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => self.forget(first),
                other => {
                    other?;
                    self.set_known(second);
                    return mkdirat(store, &leaf);
                }
            }
        }
        mkdirat(store, &cstr(&bytes[..2])?)?;
        self.set_known(first);
        mkdirat(store, &middle)?;
        self.set_known(second);
        mkdirat(store, &leaf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsFd, OwnedFd};

    #[test]
    fn each_level_is_made_once_and_a_new_leaf_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let fd: OwnedFd = std::fs::File::open(dir.path()).unwrap().into();
        let fanout = FanOut::default();
        assert!(fanout.ensure(fd.as_fd(), "ab/cd/ef").unwrap());
        assert!(dir.path().join("ab/cd/ef").is_dir());
        assert!(!fanout.ensure(fd.as_fd(), "ab/cd/ef").unwrap());
        assert!(fanout.ensure(fd.as_fd(), "ab/cd/00").unwrap());
        // Made by someone else: found, not an error.
        std::fs::create_dir_all(dir.path().join("12/34/56")).unwrap();
        assert!(!FanOut::default().ensure(fd.as_fd(), "12/34/56").unwrap());
        // A remembered level that was removed meanwhile is made again.
        std::fs::remove_dir_all(dir.path().join("ab")).unwrap();
        assert!(fanout.ensure(fd.as_fd(), "ab/cd/11").unwrap());
        assert!(dir.path().join("ab/cd/11").is_dir());
        std::fs::remove_dir_all(dir.path().join("ab")).unwrap();
        assert!(fanout.ensure(fd.as_fd(), "ab/99/00").unwrap());
        assert!(dir.path().join("ab/99/00").is_dir());
        // Unsharded names live in the store itself.
        assert!(!fanout.ensure(fd.as_fd(), "").unwrap());
    }
}
