//! Putting a finished temporary file under its final name without ever
//! replacing a file that is already there.
//!
//! Two processes sharing a store (two builds filling it at once) may write
//! the same asset or mode variant at the same moment. A plain `rename` of
//! the second copy over the first takes the first inode's last name away;
//! a `linkat` another process is making from that name at that instant then
//! fails with `ENOENT` (the kernel refuses to link an inode whose link count
//! dropped to zero). Both copies hold the same verified content, so the one
//! that arrived first stays and the later one is dropped.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn cpath(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| io::ErrorKind::InvalidInput.into())
}

/// Moves `tmp` to `path` unless `path` exists; then `tmp` is removed.
/// `renameat2(RENAME_NOREPLACE)` where the filesystem has it, else a
/// hardlink (which never replaces either) and an unlink of `tmp`.
pub(crate) fn publish(tmp: &Path, path: &Path) -> io::Result<()> {
    let (from, to) = (cpath(tmp)?, cpath(path)?);
    // SAFETY: raw syscall with valid C strings; works without glibc wrappers.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EEXIST) => fs::remove_file(tmp),
        // No RENAME_NOREPLACE here (old kernel or a filesystem without it).
        Some(libc::EINVAL) | Some(libc::ENOSYS) => {
            match fs::hard_link(tmp, path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            fs::remove_file(tmp)
        }
        _ => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn a_later_copy_never_replaces_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("asset");
        let first = dir.path().join(".first.tmp");
        let later = dir.path().join(".later.tmp");
        fs::write(&first, b"same").unwrap();
        fs::write(&later, b"same").unwrap();
        publish(&first, &path).unwrap();
        let ino = fs::metadata(&path).unwrap().ino();
        publish(&later, &path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().ino(), ino);
        assert!(!first.exists() && !later.exists());
        // A missing temporary is an error, not a silent success.
        assert!(publish(&first, &path).is_err());
    }
}
