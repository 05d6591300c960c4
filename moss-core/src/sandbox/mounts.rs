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

/// The pre-pivot path of `guest`, checked to stay inside `root`, with an empty
/// directory (or file) created there to mount onto.
pub(crate) fn prepare_target(root: &Path, guest: &Path, directory: bool) -> Step<PathBuf> {
    let target = guest_path(root, guest);
    check_inside(root, &target)?;
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
