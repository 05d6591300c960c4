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
}
