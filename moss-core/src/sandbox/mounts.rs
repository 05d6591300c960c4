//! Mount operations used while building the sandbox's file system, before
//! `pivot_root`. All of them run inside the new user and mount namespaces.

use std::fs;
use std::path::{Component, Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::statvfs::{statvfs, FsFlags};

use super::error::SetupStep;
use super::step::{at, io_at, Step};

const NONE: Option<&str> = None;

/// Stop mount events from propagating back to the host.
pub(crate) fn make_private() -> Step {
    mount(NONE, "/", NONE, MsFlags::MS_REC | MsFlags::MS_PRIVATE, NONE)
        .map_err(at(SetupStep::MakeMountsPrivate, Path::new("/")))
}

/// Where `guest` (an absolute path inside the sandbox) lives before the pivot.
pub(crate) fn guest_path(root: &Path, guest: &Path) -> PathBuf {
    let relative: PathBuf = guest
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect();
    root.join(relative)
}

/// A guest path must be absolute and free of `..`, so it cannot leave the root.
pub(crate) fn valid_guest(guest: &Path) -> bool {
    guest.is_absolute() && !guest.components().any(|c| c == Component::ParentDir)
}

/// Refuse a path that leaves `root` (canonical) through a symlink: the
/// deepest part of `target` that exists must resolve inside `root`. Mount
/// points are created and host files copied before the pivot, where an
/// escaping symlink would reach the host.
pub(crate) fn check_inside(root: &Path, target: &Path) -> Step {
    let mut existing = target;
    while existing.symlink_metadata().is_err() {
        match existing.parent() {
            Some(parent) => existing = parent,
            None => break,
        }
    }
    let real = fs::canonicalize(existing).map_err(io_at(SetupStep::StayInsideRoot, target))?;
    if real.starts_with(root) {
        Ok(())
    } else {
        Err(super::step::StepError {
            step: SetupStep::StayInsideRoot,
            errno: nix::errno::Errno::EXDEV,
            detail: format!(
                "{} (it resolves to {}, outside the root)",
                target.display(),
                real.display()
            ),
        })
    }
}

/// What the components of a path below the root are, found without
/// resolving the root's own (long) prefix again.
enum Walk {
    /// No symlink on the way; the last component exists (and is a directory or not).
    Exists { directory: bool },
    /// No symlink on the way, but the path does not exist (yet).
    Missing,
    /// A symlink somewhere: only a full resolution can tell where it leads.
    Symlink,
}

/// `root` is canonical and `relative` has no `..` (see [`valid_guest`]), so
/// the path can only leave the root through a symlink below it: look at each
/// component below the root with one `lstat`.
fn walk_below(root: &Path, relative: &Path) -> Walk {
    let mut path = root.to_path_buf();
    let mut directory = true;
    for component in relative.components() {
        path.push(component);
        match path.symlink_metadata() {
            Ok(meta) if meta.file_type().is_symlink() => return Walk::Symlink,
            Ok(meta) => directory = meta.is_dir(),
            Err(_) => return Walk::Missing,
        }
    }
    Walk::Exists { directory }
}

/// The pre-pivot path of `guest`, checked to stay inside `root`, with an empty
/// directory (or file) created there to mount onto.
pub(crate) fn prepare_target(root: &Path, guest: &Path, directory: bool) -> Step<PathBuf> {
    let target = guest_path(root, guest);
    let relative = target.strip_prefix(root).unwrap_or(Path::new(""));
    match walk_below(root, relative) {
        // Already there and of the right kind: nothing to check or create.
        Walk::Exists { directory: is_dir } if is_dir == directory || !directory => {
            return Ok(target)
        }
        Walk::Exists { .. } | Walk::Missing => {}
        Walk::Symlink => check_inside(root, &target)?,
    }
    ensure_mount_point(&target, directory)?;
    Ok(target)
}

/// Create an empty directory or file to mount onto, unless one is there.
pub(crate) fn ensure_mount_point(target: &Path, directory: bool) -> Step {
    let result = if directory {
        fs::create_dir_all(target)
    } else if target.symlink_metadata().is_ok() {
        Ok(())
    } else {
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(io_at(SetupStep::CreateMountPoint, target))?;
        }
        fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(target)
            .map(drop)
    };
    result.map_err(io_at(SetupStep::CreateMountPoint, target))
}

/// Create the directory `path` with exactly `mode` (no umask).
pub(crate) fn private_dir(path: &Path, mode: u32) -> Step {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir(path).map_err(io_at(SetupStep::CreateMountPoint, path))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(io_at(SetupStep::CreateMountPoint, path))
}

/// Bind `source` onto `target` (recursively), read-only unless `writable`.
pub(crate) fn bind(source: &Path, target: &Path, writable: bool) -> Step {
    mount(
        Some(source),
        target,
        NONE,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        NONE,
    )
    .map_err(|errno| super::step::StepError {
        step: SetupStep::BindMount,
        errno,
        detail: format!("{} onto {}", source.display(), target.display()),
    })?;
    if writable {
        Ok(())
    } else {
        remount_read_only(target)
    }
}

/// Make the mount at `target` read-only. Flags the mount already has
/// (nosuid, nodev, noexec, atime) are locked inside a user namespace and
/// must be repeated, or the kernel refuses the remount with EPERM.
pub(crate) fn remount_read_only(target: &Path) -> Step {
    let current = statvfs(target).map_err(at(SetupStep::RemountReadOnly, target))?;
    let mut flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY;
    let locked = [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ];
    for (have, keep) in locked {
        if current.flags().contains(have) {
            flags |= keep;
        }
    }
    mount(NONE, target, NONE, flags, NONE).map_err(at(SetupStep::RemountReadOnly, target))
}

/// Whether `path` is the root of a mount (a host mount under the root, or a
/// mount the sandbox placed there). When the kernel cannot tell (no
/// `statx` mount-root attribute), assume it is, which only costs a mount.
pub(crate) fn is_mount_root(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return true;
    };
    // SAFETY: statx fills the zeroed buffer it is given; the path is a valid C string.
    let mut buf: libc::statx = unsafe { std::mem::zeroed() };
    let rc = unsafe {
        libc::statx(
            libc::AT_FDCWD,
            c_path.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
            0,
            &mut buf,
        )
    };
    let known = buf.stx_attributes_mask & libc::STATX_ATTR_MOUNT_ROOT as u64 != 0;
    rc != 0 || !known || buf.stx_attributes & libc::STATX_ATTR_MOUNT_ROOT as u64 != 0
}

/// Mount a fresh tmpfs with the given options.
pub(crate) fn tmpfs(target: &Path, options: &str) -> Step {
    mount(
        Some("tmpfs"),
        target,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(options),
    )
    .map_err(at(SetupStep::MountTmpfs, target))
}

/// Mount a `proc` for the sandbox's own PID namespace.
pub(crate) fn proc(target: &Path) -> Step {
    mount(
        Some("proc"),
        target,
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        NONE,
    )
    .map_err(at(SetupStep::MountProc, target))
}

/// Make `root` the new `/` and detach the old root. `pivot_root(".", ".")`
/// stacks the old root on top of the new one, so no directory for it is
/// needed inside a root that may be read-only.
pub(crate) fn pivot(root: &Path) -> Step {
    nix::unistd::chdir(root).map_err(at(SetupStep::PivotRoot, root))?;
    nix::unistd::pivot_root(".", ".").map_err(at(SetupStep::PivotRoot, root))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(at(SetupStep::DetachOldRoot, root))?;
    nix::unistd::chdir("/").map_err(at(SetupStep::ChangeDirectory, Path::new("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_paths_stay_inside_the_root() {
        let root = Path::new("/r");
        assert_eq!(
            guest_path(root, Path::new("/usr/bin")),
            Path::new("/r/usr/bin")
        );
        assert_eq!(guest_path(root, Path::new("/")), Path::new("/r"));
        assert!(valid_guest(Path::new("/mason/build")));
        assert!(!valid_guest(Path::new("mason")));
        assert!(!valid_guest(Path::new("/mason/../../etc")));
    }

    #[test]
    fn targets_below_the_root_are_made_and_escapes_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = fs::canonicalize(dir.path()).expect("canonical");
        fs::create_dir(root.join("real")).expect("mkdir");
        std::os::unix::fs::symlink("/etc", root.join("escape")).expect("symlink");
        std::os::unix::fs::symlink("real", root.join("inner")).expect("symlink");
        let made = prepare_target(&root, Path::new("/mason/build"), true).expect("made");
        assert!(made.is_dir());
        let file = prepare_target(&root, Path::new("/etc/resolv.conf"), false).expect("file");
        assert!(file.is_file());
        // Existing targets are taken as they are.
        assert_eq!(
            prepare_target(&root, Path::new("/mason/build"), true).expect("again"),
            made
        );
        assert!(prepare_target(&root, Path::new("/inner/x"), true).is_ok());
        assert!(root.join("real/x").is_dir());
        let err = prepare_target(&root, Path::new("/escape/x"), true).expect_err("escapes");
        assert_eq!(err.step, SetupStep::StayInsideRoot);
        std::os::unix::fs::symlink("/etc/hostname", root.join("hostfile")).expect("symlink");
        let err = prepare_target(&root, Path::new("/hostfile"), false).expect_err("escapes");
        assert_eq!(err.step, SetupStep::StayInsideRoot);
    }

    #[test]
    fn mount_roots_are_told_from_plain_directories() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(is_mount_root(Path::new("/")));
        assert!(is_mount_root(Path::new("/proc")));
        fs::create_dir(dir.path().join("usr")).expect("mkdir");
        assert!(!is_mount_root(&dir.path().join("usr")));
    }

    #[test]
    fn symlinks_out_of_the_root_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = fs::canonicalize(dir.path()).expect("canonical");
        fs::create_dir(root.join("real")).expect("mkdir");
        std::os::unix::fs::symlink("/etc", root.join("escape")).expect("symlink");
        std::os::unix::fs::symlink("real", root.join("inner")).expect("symlink");
        assert!(check_inside(&root, &root.join("real/new/deeper")).is_ok());
        assert!(check_inside(&root, &root.join("inner/x")).is_ok());
        let err = check_inside(&root, &root.join("escape/build")).expect_err("escapes");
        assert_eq!(err.step, SetupStep::StayInsideRoot);
        assert!(err.detail.contains("/etc"), "{}", err.detail);
    }
}
