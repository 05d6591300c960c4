//! Networking inside the sandbox: the loopback interface of a fresh network
//! namespace, or, when the host network is shared, the host's name service
//! files bound over the root's (the root itself is never written).

use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;

use super::error::SetupStep;
use super::mounts;
use super::step::{io_at, Step, StepError};

/// Files taken from the host's `/etc` when networking is on.
pub(crate) const HOST_NET_FILES: [&str; 2] = ["resolv.conf", "hosts"];

/// Set `IFF_UP` on `lo` with `SIOCGIFFLAGS`/`SIOCSIFFLAGS` on a datagram
/// socket: the same effect as `ip link set lo up`, without the host's `ip`.
pub(crate) fn loopback_up() -> Step {
    let fail = |errno| StepError {
        step: SetupStep::LoopbackUp,
        errno,
        detail: "lo".into(),
    };
    // SAFETY: plain socket(2); the result is checked and owned below.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(fail(Errno::last()));
    }
    // SAFETY: `raw` is a fresh descriptor that nothing else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in request.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: the ioctls read and write `request`, a valid ifreq.
    unsafe {
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS, &mut request) < 0 {
            return Err(fail(Errno::last()));
        }
        request.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, &request) < 0 {
            return Err(fail(Errno::last()));
        }
    }
    Ok(())
}

/// Put the host's `resolv.conf` and `hosts` over the root's without changing
/// the root: each is written into `staging` (the sandbox's own tmpfs), bound
/// read-only over the root's file, then unlinked there, so the bind holds the
/// only name for it. Shared roots
/// are used by many sandboxes at once and must never be written.
pub(crate) fn bind_host_files(root: &Path, staging: &Path) -> Step {
    for name in HOST_NET_FILES {
        let host = Path::new("/etc").join(name);
        let Ok(content) = fs::read(&host) else {
            continue;
        };
        // A missing mount point is created (roots made by boulder have both).
        let target = mounts::prepare_target(root, &Path::new("/etc").join(name), false)?;
        let staged = staging.join(format!(".host-{name}"));
        fs::write(&staged, &content).map_err(io_at(SetupStep::CopyHostFile, &staged))?;
        let bound = mounts::bind(&staged, &target, false);
        let _ = fs::remove_file(&staged);
        bound?;
    }
    Ok(())
}
