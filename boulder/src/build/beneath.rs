//! Host-side file work below a directory the build could write, that what
//! the build planted cannot redirect.
//!
//! A directory is opened once ([`Beneath::open`], which refuses a symlink
//! in its place) and everything below it is reached with
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)`
//! relative to that descriptor: a symlink anywhere on the way, `..`, or an
//! absolute path is refused by the kernel instead of followed. Kernels
//! without `openat2` (before 5.6) get the same rule from a walk of one
//! `openat(O_NOFOLLOW)` per component.
//!
//! Paths handed to other programs (strip, objcopy) or to path-taking code
//! are [`Beneath::pinned_for_children`]: `/proc/<pid>/fd/N/...`, which names the opened
//! directory itself, not whatever the original path points at later.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;

/// Why a path below a build directory was not used.
#[derive(Debug, thiserror::Error)]
pub enum BeneathError {
    #[error("{} is a symlink or leads through one (the build put it there); boulder does not follow it", path.display())]
    Symlink { path: PathBuf },
    #[error("{} is not a plain path below {}", path.display(), below.display())]
    NotBelow { path: PathBuf, below: PathBuf },
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A directory opened once; every path below it is resolved beneath it.
#[derive(Debug)]
pub struct Beneath {
    dir: OwnedFd,
    path: PathBuf,
}

fn errno_error(action: &'static str, path: &Path, errno: Errno) -> BeneathError {
    match errno {
        // ELOOP: a symlink on the way; EXDEV: resolution would leave the
        // directory (an absolute or `..` symlink target).
        Errno::ELOOP | Errno::EXDEV => BeneathError::Symlink {
            path: path.to_path_buf(),
        },
        _ => BeneathError::Io {
            action,
            path: path.to_path_buf(),
            source: std::io::Error::from_raw_os_error(errno as i32),
        },
    }
}

fn cstring(path: &Path) -> Result<CString, BeneathError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| BeneathError::Io {
        action: "use",
        path: path.to_path_buf(),
        source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
    })
}

/// A relative path of plain components only.
fn plain(relative: &Path) -> bool {
    relative
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

impl Beneath {
    /// Opens the directory `path`; a symlink at its last component is
    /// refused. The components before it must be trusted (boulder's cache).
    pub fn open(path: &Path) -> Result<Beneath, BeneathError> {
        let c_path = cstring(path)?;
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        // SAFETY: open with a valid C string; the result is checked.
        let fd = unsafe { libc::open(c_path.as_ptr(), flags.bits()) };
        if fd < 0 {
            let errno = Errno::last();
            // O_NOFOLLOW | O_DIRECTORY on a symlink fails with ELOOP or ENOTDIR.
            let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            return Err(if is_link {
                BeneathError::Symlink {
                    path: path.to_path_buf(),
                }
            } else {
                errno_error("open", path, errno)
            });
        }
        Ok(Beneath {
            // SAFETY: a fresh descriptor owned from here on.
            dir: unsafe { OwnedFd::from_raw_fd(fd) },
            path: path.to_path_buf(),
        })
    }

    /// The path this directory was opened at (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `relative` as a path for messages.
    pub fn display_path(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.path.join(relative)
    }

    /// A path that names this very directory as long as `self` lives:
    /// `/proc/<pid>/fd/N`, through this process's id rather than
    /// `/proc/self`, so programs this process starts resolve it to the same
    /// directory.
    pub fn pinned_for_children(&self) -> PathBuf {
        PathBuf::from(format!(
            "/proc/{}/fd/{}",
            std::process::id(),
            self.dir.as_raw_fd()
        ))
    }

    /// Opens `relative` below this directory with `flags`, never through a
    /// symlink.
    pub fn open_at(
        &self,
        relative: &Path,
        flags: OFlag,
        mode: u32,
    ) -> Result<OwnedFd, BeneathError> {
        let shown = self.display_path(relative);
        if !plain(relative) {
            return Err(BeneathError::NotBelow {
                path: shown,
                below: self.path.clone(),
            });
        }
        let relative = if relative.as_os_str().is_empty() {
            Path::new(".")
        } else {
            relative
        };
        // RESOLVE_NO_SYMLINKS refuses a final symlink with ELOOP; O_NOFOLLOW
        // would turn that into ENOTDIR for directories, so it is only added
        // for the others (and for the walk below).
        let flags = if flags.contains(OFlag::O_DIRECTORY) {
            flags | OFlag::O_CLOEXEC
        } else {
            flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW
        };
        let how = OpenHow::new()
            .flags(flags)
            .mode(Mode::from_bits_truncate(mode))
            .resolve(
                ResolveFlag::RESOLVE_BENEATH
                    | ResolveFlag::RESOLVE_NO_SYMLINKS
                    | ResolveFlag::RESOLVE_NO_MAGICLINKS,
            );
        match nix::fcntl::openat2(self.dir.as_raw_fd(), relative, how) {
            // SAFETY: a fresh descriptor owned from here on.
            Ok(fd) => Ok(unsafe { OwnedFd::from_raw_fd(fd) }),
            Err(Errno::ENOSYS) => self.open_walking(relative, flags, mode),
            Err(errno) => Err(errno_error("open", &shown, errno)),
        }
    }

    /// The same as `openat2` with the flags above, one component at a time
    /// (for kernels before 5.6).
    fn open_walking(
        &self,
        relative: &Path,
        flags: OFlag,
        mode: u32,
    ) -> Result<OwnedFd, BeneathError> {
        let shown = self.display_path(relative);
        let parts: Vec<&OsStr> = relative
            .components()
            .filter_map(|c| match c {
                Component::Normal(part) => Some(part),
                _ => None,
            })
            .collect();
        let mut current: Option<OwnedFd> = None;
        for (n, part) in parts.iter().enumerate() {
            let at: RawFd = current
                .as_ref()
                .map_or(self.dir.as_raw_fd(), AsRawFd::as_raw_fd);
            let last = n + 1 == parts.len();
            let step_flags = if last {
                flags | OFlag::O_NOFOLLOW
            } else {
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
            };
            let fd =
                nix::fcntl::openat(Some(at), *part, step_flags, Mode::from_bits_truncate(mode))
                    .map_err(|errno| {
                        // O_NOFOLLOW | O_DIRECTORY on a symlink: ENOTDIR.
                        let is_link = nix::sys::stat::fstatat(
                            Some(at),
                            *part,
                            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
                        )
                        .is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFLNK);
                        errno_error("open", &shown, if is_link { Errno::ELOOP } else { errno })
                    })?;
            // SAFETY: a fresh descriptor owned from here on.
            current = Some(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        match current {
            Some(fd) => Ok(fd),
            None => {
                let fd = nix::fcntl::openat(
                    Some(self.dir.as_raw_fd()),
                    ".",
                    flags & !OFlag::O_NOFOLLOW,
                    Mode::empty(),
                )
                .map_err(|errno| errno_error("open", &shown, errno))?;
                // SAFETY: as above.
                Ok(unsafe { OwnedFd::from_raw_fd(fd) })
            }
        }
    }

    /// The directory `relative` below this one, opened beneath it.
    pub fn dir(&self, relative: impl AsRef<Path>) -> Result<Beneath, BeneathError> {
        let relative = relative.as_ref();
        let fd = self.open_at(relative, OFlag::O_RDONLY | OFlag::O_DIRECTORY, 0)?;
        Ok(Beneath {
            dir: fd,
            path: self.display_path(relative),
        })
    }

    /// The directory `relative` below this one, created (with its parents)
    /// where missing. A symlink or a file in the way is an error.
    pub fn ensure_dir(&self, relative: impl AsRef<Path>) -> Result<Beneath, BeneathError> {
        let relative = relative.as_ref();
        let mut here = Beneath {
            dir: self.dir.try_clone().map_err(|source| BeneathError::Io {
                action: "duplicate",
                path: self.path.clone(),
                source,
            })?,
            path: self.path.clone(),
        };
        if !plain(relative) {
            return Err(BeneathError::NotBelow {
                path: self.display_path(relative),
                below: self.path.clone(),
            });
        }
        for part in relative.components() {
            let Component::Normal(part) = part else {
                continue;
            };
            match nix::sys::stat::mkdirat(
                Some(here.dir.as_raw_fd()),
                part,
                Mode::from_bits_truncate(0o755),
            ) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(errno) => return Err(errno_error("create", &here.display_path(part), errno)),
            }
            here = here.dir(part)?;
        }
        Ok(here)
    }

    /// Creates the directory `name` in this one and opens it; fails when
    /// anything is there already, so the result is boulder's own.
    pub fn create_dir(&self, name: &str) -> Result<Beneath, BeneathError> {
        let shown = self.display_path(name);
        if name.contains('/') || name.is_empty() || name == "." || name == ".." {
            return Err(BeneathError::NotBelow {
                path: shown,
                below: self.path.clone(),
            });
        }
        nix::sys::stat::mkdirat(
            Some(self.dir.as_raw_fd()),
            name,
            Mode::from_bits_truncate(0o755),
        )
        .map_err(|errno| errno_error("create", &shown, errno))?;
        self.dir(name)
    }

    /// Writes `bytes` to a new file `name` in this directory with `mode`,
    /// replacing what is there (a symlink in its place is replaced, not
    /// followed): written to a fresh temporary name, then renamed.
    pub fn write_file(&self, name: &str, bytes: &[u8], mode: u32) -> Result<(), BeneathError> {
        let shown = self.display_path(name);
        if name.contains('/') || name.is_empty() || name == "." || name == ".." {
            return Err(BeneathError::NotBelow {
                path: shown,
                below: self.path.clone(),
            });
        }
        let partial = format!(".{name}.{}.partial", std::process::id());
        let _ = nix::unistd::unlinkat(
            Some(self.dir.as_raw_fd()),
            partial.as_str(),
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        );
        let fd = self.open_at(
            Path::new(&partial),
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL,
            mode,
        )?;
        let mut file = File::from(fd);
        let io = |action, source| BeneathError::Io {
            action,
            path: shown.clone(),
            source,
        };
        file.write_all(bytes).map_err(|e| io("write", e))?;
        // The mode exactly, whatever the umask.
        nix::sys::stat::fchmod(file.as_raw_fd(), Mode::from_bits_truncate(mode))
            .map_err(|e| io("set the mode of", e.into()))?;
        drop(file);
        nix::fcntl::renameat(
            Some(self.dir.as_raw_fd()),
            partial.as_str(),
            Some(self.dir.as_raw_fd()),
            name,
        )
        .map_err(|e| io("rename into place", e.into()))
    }

    /// Opens the regular file `relative` for reading (nothing else: a fifo
    /// the build left would block, a device would read the host's).
    pub fn read_file(&self, relative: impl AsRef<Path>) -> Result<Vec<u8>, BeneathError> {
        use std::io::Read;
        let relative = relative.as_ref();
        let shown = self.display_path(relative);
        let fd = self.open_at(relative, OFlag::O_RDONLY | OFlag::O_NONBLOCK, 0)?;
        let mut file = File::from(fd);
        let io = |source| BeneathError::Io {
            action: "read",
            path: shown.clone(),
            source,
        };
        if !file.metadata().map_err(io)?.is_file() {
            return Err(io(std::io::Error::from(std::io::ErrorKind::InvalidInput)));
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        Ok(bytes)
    }
}

impl AsFd for Beneath {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.dir.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn a_symlinked_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = tempfile::tempdir().unwrap();
        symlink(target.path(), dir.path().join("install")).unwrap();
        let err = Beneath::open(&dir.path().join("install")).unwrap_err();
        assert!(matches!(err, BeneathError::Symlink { .. }), "{err}");
        let top = Beneath::open(dir.path()).unwrap();
        let err = top.dir("install").unwrap_err();
        assert!(matches!(err, BeneathError::Symlink { .. }), "{err}");
        // The walk for kernels without openat2 refuses it the same way.
        let err = top
            .open_walking(
                Path::new("install"),
                OFlag::O_RDONLY | OFlag::O_DIRECTORY,
                0,
            )
            .unwrap_err();
        assert!(matches!(err, BeneathError::Symlink { .. }), "{err}");
        std::fs::create_dir(dir.path().join("real")).unwrap();
        symlink(target.path(), dir.path().join("real/link")).unwrap();
        let err = top
            .open_walking(Path::new("real/link/x"), OFlag::O_RDONLY, 0)
            .unwrap_err();
        assert!(matches!(err, BeneathError::Symlink { .. }), "{err}");
        assert!(top
            .open_walking(Path::new("real"), OFlag::O_RDONLY | OFlag::O_DIRECTORY, 0)
            .is_ok());
    }

    #[test]
    fn writes_replace_a_planted_symlink_instead_of_following_it() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        std::fs::create_dir(dir.path().join("scripts")).unwrap();
        symlink(&victim, dir.path().join("scripts/build.sh")).unwrap();
        let scripts = Beneath::open(&dir.path().join("scripts")).unwrap();
        scripts.write_file("build.sh", b"echo hi\n", 0o755).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        let written = dir.path().join("scripts/build.sh");
        assert!(!written.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&written).unwrap(), "echo hi\n");
    }

    #[test]
    fn directories_are_made_below_and_never_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("build")).unwrap();
        symlink(outside.path(), dir.path().join("build/x86_64")).unwrap();
        let top = Beneath::open(dir.path()).unwrap();
        assert!(top.ensure_dir("build/x86_64/deeper").is_err());
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
        let made = top.ensure_dir("build/emul32/a").unwrap();
        assert!(dir.path().join("build/emul32/a").is_dir());
        assert!(made.pinned_for_children().is_dir());
        assert!(top.dir("../").is_err());
        assert!(top.dir("/etc").is_err());
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let top = Beneath::open(dir.path()).unwrap();
        nix::unistd::mkfifo(&dir.path().join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();
        assert!(top.read_file("fifo").is_err());
        symlink("/etc/hostname", dir.path().join("link")).unwrap();
        assert!(matches!(
            top.read_file("link").unwrap_err(),
            BeneathError::Symlink { .. }
        ));
        std::fs::write(dir.path().join("plain"), "ok").unwrap();
        assert_eq!(top.read_file("plain").unwrap(), b"ok");
    }
}
