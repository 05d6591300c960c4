//! A minimal `/dev`: a tmpfs holding bind mounts of a few harmless host
//! devices, a private devpts instance, `/dev/shm` and the usual symlinks.

use std::os::unix::fs::symlink;
use std::path::Path;

use nix::mount::{mount, MsFlags};

use super::error::SetupStep;
use super::mounts::{bind, ensure_mount_point, tmpfs};
use super::step::{at, io_at, Step};

const DEVICES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

const LINKS: [(&str, &str); 5] = [
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
];

/// Build the sandbox's `/dev` at `dev` (a path before the pivot).
pub(crate) fn populate(dev: &Path) -> Step {
    tmpfs(dev, "mode=0755")?;
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
    let shm = dev.join("shm");
    ensure_mount_point(&shm, true)?;
    tmpfs(&shm, "mode=1777")?;
    for (name, target) in LINKS {
        let link = dev.join(name);
        symlink(target, &link).map_err(io_at(SetupStep::CreateDevLink, &link))?;
    }
    Ok(())
}
