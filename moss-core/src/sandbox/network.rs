//! Networking inside the sandbox: the loopback interface of a fresh network
//! namespace, or, when the host network is shared, the host's name service
//! files copied into the root.

use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;

use super::error::SetupStep;
use super::step::{io_at, Step, StepError};

/// Files copied from the host's `/etc` when networking is on.
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

/// Writes `content` to a new file beside `name` in `etc`. The name carries
/// the time, not the pid: every sandbox's setup runs as pid 1.
fn write_aside(etc: &Path, name: &str, content: &[u8]) -> Step<std::path::PathBuf> {
    use std::io::Write;
    loop {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let tmp = etc.join(format!(".{name}.{nanos}"));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(mut file) => {
                file.write_all(content)
                    .map_err(io_at(SetupStep::CopyHostFile, &tmp))?;
                return Ok(tmp);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_at(SetupStep::CopyHostFile, &tmp)(e)),
        }
    }
}

/// Copy the host's `resolv.conf` and `hosts` into `etc` (the root's `/etc`
/// before the pivot), replacing what is there (a symlink is replaced, not followed).
pub(crate) fn copy_host_files(etc: &Path) -> Step {
    for name in HOST_NET_FILES {
        let host = Path::new("/etc").join(name);
        let Ok(content) = fs::read(&host) else {
            continue;
        };
        let target = etc.join(name);
        fs::create_dir_all(etc).map_err(io_at(SetupStep::CopyHostFile, etc))?;
        // Written aside and renamed over the target: a symlink there is
        // replaced, not followed, and sandboxes sharing one root (boulder's
        // cached build roots) never see a missing or half-written file.
        let tmp = write_aside(etc, name, &content)?;
        fs::rename(&tmp, &target).map_err(io_at(SetupStep::CopyHostFile, &target))?;
    }
    Ok(())
}
