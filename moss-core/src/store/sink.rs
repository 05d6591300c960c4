//! Streaming assets into the store: the sink the stone content unpacker
//! writes into. Each asset is written to a file without a name first and
//! gets its digest name only after the unpacker verified it, so a crash
//! never leaves a half-written asset under a digest name.
//!
//! That file is an `O_TMPFILE` inode in the asset's fan-out directory,
//! named at the commit with one `linkat` (which, like
//! `renameat2(RENAME_NOREPLACE)`, never replaces a copy another writer put
//! there first). It saves a directory entry made and removed per asset, and
//! a crash leaves nothing behind to clean. Where the file system or the
//! kernel lacks `O_TMPFILE`, or `/proc` (the way to name such a file
//! without privileges) is not mounted, the asset goes to a named temporary
//! file that is renamed into place, and a dropped writer deletes it.

use std::ffi::CString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::fcntl::AtFlags;
use nix::sys::stat::{fstatat, SFlag};

use super::{relative_path, Digest, Store, STORE_MODE, TMP_COUNTER};
use crate::fault::checkpoint;
use crate::stone::{ContentSink, IndexEntry};

/// How this process makes temporary files for new assets.
#[derive(Debug)]
pub(super) struct Temporaries {
    /// `O_TMPFILE` files, until one could not be made.
    anonymous: AtomicBool,
    /// Whether `open` with [`STORE_MODE`] can leave bits out (the umask
    /// takes read bits away): then every new asset gets its mode set.
    fix_mode: bool,
}

impl Temporaries {
    /// Anonymous files when `/proc/self/fd` is there to name them.
    pub(super) fn probe() -> Self {
        let umask = crate::util::process_umask().unwrap_or(0o777);
        Self {
            anonymous: AtomicBool::new(Path::new("/proc/self/fd").is_dir()),
            fix_mode: STORE_MODE & umask != 0,
        }
    }

    /// Named temporaries only (the fallback; tests use it to leave one behind).
    #[cfg(test)]
    pub(super) fn named() -> Self {
        Self {
            anonymous: AtomicBool::new(false),
            fix_mode: true,
        }
    }
}

/// The temporary file of an asset being written.
#[derive(Debug)]
enum Temporary {
    /// An `O_TMPFILE` inode: nothing to delete when dropped.
    Anonymous,
    /// A named file next to the asset, deleted when dropped uncommitted.
    Named(PathBuf),
}

/// An asset being written.
#[derive(Debug)]
pub struct AssetWriter {
    file: Option<File>,
    temporary: Temporary,
    store: Store,
    digest: Digest,
}

impl Write for AssetWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => f.write(buf),
            None => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.write_all(buf),
            None => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn cstring(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| io::ErrorKind::InvalidInput.into())
}

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// Names the open anonymous `file` `name` below `dir`; `Ok(false)` when
/// that name is taken (the asset is there already).
fn link_anonymous(file: &File, dir: BorrowedFd<'_>, name: &CString) -> io::Result<bool> {
    let proc_path = CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: plain syscall on valid C strings and descriptors we hold.
    let rc = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            proc_path.as_ptr(),
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    match check(rc) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

impl AssetWriter {
    /// Puts the finished asset under its digest name (a copy another
    /// writer put there first stays).
    pub fn commit(mut self) -> io::Result<()> {
        checkpoint();
        match &self.temporary {
            Temporary::Anonymous => {
                let file = self.file.take().ok_or(io::ErrorKind::BrokenPipe)?;
                let rel = relative_path(self.digest);
                let name = cstring(&rel)?;
                let dir = self.store.dir_fd()?;
                match link_anonymous(&file, dir, &name) {
                    // Another process removed the (then empty) fan-out
                    // directory meanwhile: made again, linked again.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        let shard = rel.parent().unwrap_or(Path::new(""));
                        self.store.fanout.ensure(dir, &shard.to_string_lossy())?;
                        link_anonymous(&file, dir, &name)?;
                    }
                    other => {
                        other?;
                    }
                }
            }
            Temporary::Named(tmp) => {
                drop(self.file.take());
                super::publish::publish(tmp, &self.store.path(self.digest))?;
            }
        }
        checkpoint();
        Ok(())
    }
}

impl Drop for AssetWriter {
    fn drop(&mut self) {
        if let (Some(_), Temporary::Named(tmp)) = (self.file.take(), &self.temporary) {
            let _ = fs::remove_file(tmp);
        }
    }
}

impl Store {
    /// Starts writing `digest`; `None` when the store already has it.
    ///
    /// The asset's fan-out directories are made first (each level once per
    /// process, see `fanout`); when its last level is new, the asset
    /// cannot be there, and it is not looked up.
    pub fn begin(&self, digest: Digest) -> io::Result<Option<AssetWriter>> {
        self.mark_writing()?;
        let dir = self.dir_fd()?;
        let rel = relative_path(digest);
        let shard = rel.parent().unwrap_or(Path::new(""));
        let new_shard = self.fanout.ensure(dir, &shard.to_string_lossy())?;
        if !new_shard && is_file_at(dir, &cstring(&rel)?) {
            return Ok(None);
        }
        checkpoint();
        let temporaries = &self.temporaries;
        if temporaries.anonymous.load(Ordering::Relaxed) {
            match open_anonymous(dir, shard) {
                Ok(file) => {
                    return self.writer(file, Temporary::Anonymous, digest).map(Some);
                }
                // The file system (or kernel) has no O_TMPFILE: named files from now on.
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::EOPNOTSUPP) | Some(libc::EISDIR) | Some(libc::EINVAL)
                    ) =>
                {
                    temporaries.anonymous.store(false, Ordering::Relaxed);
                }
                Err(e) => return Err(e),
            }
        }
        let tmp = shard.join(format!(
            ".{digest:x}.{}.{}.tmp",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let file = open_at(
            dir,
            &cstring(&tmp)?,
            libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW,
        )?;
        let named = Temporary::Named(self.dir().join(&tmp));
        self.writer(file, named, digest).map(Some)
    }

    fn writer(&self, file: File, temporary: Temporary, digest: Digest) -> io::Result<AssetWriter> {
        let writer = AssetWriter {
            file: Some(file),
            temporary,
            store: self.clone(),
            digest,
        };
        if self.temporaries.fix_mode {
            if let Some(file) = &writer.file {
                // SAFETY: fchmod on the fresh inode we own.
                check(unsafe { libc::fchmod(file.as_raw_fd(), STORE_MODE as libc::mode_t) })?;
            }
        }
        Ok(writer)
    }
}

/// Opens `name` below `dir` for writing, created at [`STORE_MODE`].
fn open_at(dir: BorrowedFd<'_>, name: &CString, flags: libc::c_int) -> io::Result<File> {
    let flags = flags | libc::O_WRONLY | libc::O_CLOEXEC;
    // SAFETY: plain syscall; on success we own the returned descriptor.
    let fd = check(unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags,
            STORE_MODE as libc::c_uint,
        )
    })?;
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// An unnamed file in the fan-out directory `shard` below `dir`.
fn open_anonymous(dir: BorrowedFd<'_>, shard: &Path) -> io::Result<File> {
    let shard = if shard.as_os_str().is_empty() {
        Path::new(".")
    } else {
        shard
    };
    open_at(dir, &cstring(shard)?, libc::O_TMPFILE)
}

/// Whether `name` below `dir` is a regular file (not following symlinks).
fn is_file_at(dir: BorrowedFd<'_>, name: &CString) -> bool {
    fstatat(
        Some(dir.as_raw_fd()),
        name.as_c_str(),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .is_ok_and(|st| st.st_mode & SFlag::S_IFMT.bits() == SFlag::S_IFREG.bits())
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
