//! File system steps of an extraction. Nothing here follows a symlink at the
//! final component: files are created with `O_EXCL`, and anything already at
//! a path is removed (never a directory) before the entry is written again.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::super::error::{Result, StoneError};
use super::super::layout::LayoutKind;

pub(super) fn fail(path: &Path, e: io::Error) -> StoneError {
    StoneError::Extract {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

pub(super) use crate::util::process_umask;

/// The permission bits a new file or directory gets when it is created with
/// `mode` (the umask clears some), so no `chmod` is needed afterwards; `None`
/// when that is not exact: special bits, or bits the umask would clear.
pub(super) fn creation_mode(mode: u32, umask: Option<u32>) -> Option<u32> {
    let mode = mode & 0o7777;
    let umask = umask?;
    (mode & 0o7000 == 0 && mode & umask == 0).then_some(mode)
}

/// Makes a directory created with `mode`; one already there is kept, a
/// non-directory is replaced (`lstat` tells, so a symlink is never kept).
/// Returns whether the directory is new (and so has `mode` already).
pub(super) fn make_dir(path: &Path, mode: u32) -> Result<bool> {
    let mut builder = fs::DirBuilder::new();
    builder.mode(mode);
    match builder.create(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let md = fs::symlink_metadata(path).map_err(|e| fail(path, e))?;
            if md.file_type().is_dir() {
                return Ok(false);
            }
            fs::remove_file(path).map_err(|e| fail(path, e))?;
            builder.create(path).map_err(|e| fail(path, e))?;
            Ok(true)
        }
        Err(e) => Err(fail(path, e)),
    }
}

/// Makes a missing parent directory; an existing one must be a real
/// directory (never a symlink).
pub(super) fn make_parent(path: &Path) -> Result<()> {
    match fs::DirBuilder::new().mode(0o777).create(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let md = fs::symlink_metadata(path).map_err(|e| fail(path, e))?;
            if md.file_type().is_dir() {
                Ok(())
            } else {
                Err(StoneError::Extract {
                    path: path.to_path_buf(),
                    reason: "a parent of a layout entry is not a directory (symlinks are never followed)"
                        .into(),
                })
            }
        }
        Err(e) => Err(fail(path, e)),
    }
}

/// Removes a non-directory at `path` so an entry can take its place.
fn clear_slot(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(md) if md.file_type().is_dir() => Err(StoneError::Extract {
            path: path.to_path_buf(),
            reason: "a directory is in the way".into(),
        }),
        Ok(_) => fs::remove_file(path).map_err(|e| fail(path, e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(fail(path, e)),
    }
}

/// Runs `create`, and once more after clearing the slot if something was
/// already at `path`.
fn create_or_replace<T>(path: &Path, mut create: impl FnMut() -> io::Result<T>) -> Result<T> {
    match create() {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            clear_slot(path)?;
            create().map_err(|e| fail(path, e))
        }
        other => other.map_err(|e| fail(path, e)),
    }
}

/// Creates a new regular file with permission bits `mode` (as left by the
/// umask; see [`creation_mode`]), replacing any non-directory at `path`.
pub(super) fn create_file(path: &Path, mode: u32) -> Result<File> {
    create_or_replace(path, || {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)
    })
}

/// Writes a whole new file.
pub(super) fn write_file(path: &Path, mode: u32, bytes: &[u8]) -> Result<()> {
    let mut file = create_file(path, mode)?;
    file.write_all(bytes).map_err(|e| fail(path, e))
}

/// Copies `from` (a file this extraction wrote) to a new file at `to`.
pub(super) fn copy_file(from: &Path, to: &Path, mode: u32) -> Result<()> {
    let mut src = File::open(from).map_err(|e| fail(from, e))?;
    let mut dst = create_file(to, mode)?;
    io::copy(&mut src, &mut dst).map_err(|e| fail(to, e))?;
    Ok(())
}

pub(super) fn set_mode(path: &Path, mode: u32) -> Result<()> {
    fs::set_permissions(path, Permissions::from_mode(mode & 0o7777)).map_err(|e| fail(path, e))
}

pub(super) fn make_symlink(target: &str, path: &Path) -> Result<()> {
    create_or_replace(path, || std::os::unix::fs::symlink(target, path))
}

/// Makes a device, fifo or socket node with its full mode.
pub(super) fn make_node(path: &Path, kind: &LayoutKind, mode: u32) -> Result<()> {
    use nix::sys::stat::{mknod, Mode, SFlag};
    let flag = match kind {
        LayoutKind::CharDevice => SFlag::S_IFCHR,
        LayoutKind::BlockDevice => SFlag::S_IFBLK,
        LayoutKind::Fifo => SFlag::S_IFIFO,
        _ => SFlag::S_IFSOCK,
    };
    // The layout carries no device numbers; devices get 0:0.
    create_or_replace(path, || {
        mknod(path, flag, Mode::from_bits_truncate(mode & 0o7777), 0).map_err(io::Error::from)
    })?;
    set_mode(path, mode)
}
