//! A minimal `/dev`: a directory on the sandbox's own tmpfs holding bind
//! mounts of a few harmless host devices, a private devpts instance, a
//! world-writable `/dev/shm` directory and the usual symlinks.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use nix::mount::{mount, MsFlags};

use super::error::SetupStep;
use super::mounts::{bind, ensure_mount_point};
use super::step::{at, io_at, Step};

const DEVICES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

const LINKS: [(&str, &str); 5] = [
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
];

/// Fill the sandbox's `/dev` at `dev` (a path before the pivot: an empty,
/// writable directory on a tmpfs private to this sandbox).
pub(crate) fn populate(dev: &Path) -> Step {
    for name in DEVICES {
        let target = dev.join(name);
        ensure_mount_point(&target, false)?;
        bind(&Path::new("/dev").join(name), &target, true)?;
    }
    let pts = dev.join("pts");
    ensure_mount_point(&pts, true)?;
    // No `gid=5`: the tty group is usually not mapped into the namespace.
    mount(
        Some("devpts"),
        &pts,
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620"),
    )
    .map_err(at(SetupStep::MountDevpts, &pts))?;
    // A directory, as bubblewrap makes it: one superblock fewer to create
    // and tear down than a tmpfs of its own.
    let shm = dev.join("shm");
    ensure_mount_point(&shm, true)?;
    fs::set_permissions(&shm, fs::Permissions::from_mode(0o1777))
        .map_err(io_at(SetupStep::CreateMountPoint, &shm))?;
    for (name, target) in LINKS {
        let link = dev.join(name);
        symlink(target, &link).map_err(io_at(SetupStep::CreateDevLink, &link))?;
    }
    Ok(())
}
