//! Thin wrappers over the `*at` syscalls the blit uses.

use std::ffi::{CStr, CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Paths and names here never hold NUL (the tree refuses them); an empty
/// string makes the syscall fail cleanly instead of panicking.
pub(super) fn cstring(s: &OsStr) -> CString {
    CString::new(s.as_bytes()).unwrap_or_default()
}

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn raw(dir: Option<BorrowedFd<'_>>) -> libc::c_int {
    dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd())
}

/// Opens a directory without following a final symlink.
pub(super) fn open_dir(dir: Option<BorrowedFd<'_>>, name: &CStr) -> io::Result<OwnedFd> {
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: plain syscall; on success we own the returned descriptor.
    let fd = check(unsafe { libc::openat(raw(dir), name.as_ptr(), flags) })?;
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub(super) fn mkdirat(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> io::Result<()> {
    // SAFETY: plain syscall on valid C strings.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode as libc::mode_t) }).map(drop)
}

pub(super) fn fchmodat(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> io::Result<()> {
    // SAFETY: plain syscall on valid C strings.
    check(unsafe { libc::fchmodat(dir.as_raw_fd(), name.as_ptr(), mode as libc::mode_t, 0) })
        .map(drop)
}

/// `fchmod` on an open directory (one of our own tree's).
pub(super) fn fchmod(dir: BorrowedFd<'_>, mode: u32) -> io::Result<()> {
    // SAFETY: plain syscall on a descriptor we hold.
    check(unsafe { libc::fchmod(dir.as_raw_fd(), mode as libc::mode_t) }).map(drop)
}

pub(super) fn symlinkat(target: &CStr, dir: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    // SAFETY: plain syscall on valid C strings.
    check(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) }).map(drop)
}

/// Hardlinks `from` (relative to `from_dir`, or the cwd) as `name` in `dir`.
pub(super) fn linkat(
    from_dir: Option<BorrowedFd<'_>>,
    from: &CStr,
    dir: BorrowedFd<'_>,
    name: &CStr,
) -> io::Result<()> {
    // SAFETY: plain syscall on valid C strings.
    check(unsafe {
        libc::linkat(
            raw(from_dir),
            from.as_ptr(),
            dir.as_raw_fd(),
            name.as_ptr(),
            0,
        )
    })
    .map(drop)
}

fn create(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> io::Result<File> {
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: plain syscall; on success we own the returned descriptor.
    let fd = check(unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags,
            (mode & 0o777) as libc::c_uint,
        )
    })?;
    Ok(unsafe { File::from_raw_fd(fd) })
}

fn fix_mode(file: &File, mode: u32, umask: u32) -> io::Result<()> {
    if mode & umask != 0 || mode & 0o7000 != 0 {
        // SAFETY: fchmod on a descriptor we own (a fresh inode of our own).
        check(unsafe { libc::fchmod(file.as_raw_fd(), mode as libc::mode_t) })?;
    }
    Ok(())
}

/// A fresh empty file (never a shared inode).
pub(super) fn create_empty(
    dir: BorrowedFd<'_>,
    name: &CStr,
    mode: u32,
    umask: u32,
) -> io::Result<()> {
    let file = create(dir, name, mode)?;
    fix_mode(&file, mode, umask)
}

/// A private copy of `source` as `name` in `dir`: reflink when possible.
pub(super) fn copy_into(
    source: &Path,
    dir: BorrowedFd<'_>,
    name: &CStr,
    mode: u32,
) -> io::Result<()> {
    let mut src = File::open(source)?;
    let mut dst = create(dir, name, 0o600)?;
    crate::util::reflink_or_copy(&mut src, &mut dst)?;
    // SAFETY: fchmod on our own fresh inode.
    check(unsafe { libc::fchmod(dst.as_raw_fd(), mode as libc::mode_t) }).map(drop)
}

/// The process umask; when it cannot be read, every bit counts as cleared,
/// so every mode is applied with `fchmod`.
pub(super) fn current_umask() -> u32 {
    crate::util::process_umask().unwrap_or(0o777)
}

/// `unlinkat`; `dir_flag` removes an (empty) directory instead of a file.
pub(super) fn unlinkat(dir: BorrowedFd<'_>, name: &CStr, dir_flag: bool) -> io::Result<()> {
    let flags = if dir_flag { libc::AT_REMOVEDIR } else { 0 };
    // SAFETY: plain syscall on valid C strings.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) }).map(drop)
}

/// What a directory entry is, as far as the tree cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EntryType {
    Directory,
    Regular,
    Symlink,
    Other,
}

/// The entries of an open directory (without `.` and `..`) with their
/// types, from `d_type` (or `fstatat` where the file system leaves it unknown).
pub(super) fn list_dir(dir: BorrowedFd<'_>) -> io::Result<Vec<(CString, EntryType)>> {
    // SAFETY: fdopendir takes ownership of the duplicate, closedir releases it.
    let dup = check(unsafe { libc::fcntl(dir.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) })?;
    let stream = unsafe { libc::fdopendir(dup) };
    if stream.is_null() {
        let err = io::Error::last_os_error();
        unsafe { libc::close(dup) };
        return Err(err);
    }
    let mut names = Vec::new();
    loop {
        // SAFETY: readdir on the stream we opened; the entry lives until the next call.
        let entry = unsafe { libc::readdir(stream) };
        if entry.is_null() {
            break;
        }
        let name = unsafe { CStr::from_ptr((*entry).d_name.as_ptr()) };
        if name.to_bytes() != b"." && name.to_bytes() != b".." {
            let kind = match unsafe { (*entry).d_type } {
                libc::DT_DIR => EntryType::Directory,
                libc::DT_REG => EntryType::Regular,
                libc::DT_LNK => EntryType::Symlink,
                libc::DT_UNKNOWN => stat_type(dir, name),
                _ => EntryType::Other,
            };
            names.push((name.to_owned(), kind));
        }
    }
    unsafe { libc::closedir(stream) };
    Ok(names)
}

fn stat_type(dir: BorrowedFd<'_>, name: &CStr) -> EntryType {
    // SAFETY: fstatat into a zeroed plain-data struct, not following symlinks.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let rc = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    match (rc, st.st_mode & libc::S_IFMT) {
        (0, libc::S_IFDIR) => EntryType::Directory,
        (0, libc::S_IFREG) => EntryType::Regular,
        (0, libc::S_IFLNK) => EntryType::Symlink,
        _ => EntryType::Other,
    }
}

/// Removes `name` in `dir`, whatever it is: a directory with everything in
/// it (opened without following symlinks, given owner access first so a
/// read-only directory can be emptied), anything else unlinked. Absent is fine.
pub(super) fn remove_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    match unlinkat(dir, name, false) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EISDIR) | Some(libc::EPERM)) => {}
        Err(e) => return Err(e),
    }
    let _ = fchmodat(dir, name, 0o700);
    let fd = open_dir(Some(dir), name)?;
    for (child, _) in list_dir(std::os::fd::AsFd::as_fd(&fd))? {
        remove_at(std::os::fd::AsFd::as_fd(&fd), &child)?;
    }
    drop(fd);
    unlinkat(dir, name, true)
}
