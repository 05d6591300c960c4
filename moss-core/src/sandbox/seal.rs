//! What PID 1 does to itself once the root is pivoted, so the command it
//! starts finds nothing of the caller's in it.
//!
//! PID 1 is a forked copy of the caller (boulder or moss): its memory holds
//! the caller's environment and whatever else the caller had. It is
//! therefore made non-dumpable (no `ptrace`, no `/proc/1/mem`, `environ`,
//! `fd/`: the kernel then asks for `CAP_SYS_PTRACE` in the caller's user
//! namespace, which nothing in the sandbox has), the environment block is
//! wiped, it leaves the caller's session (no controlling terminal, so
//! `TIOCSTI` cannot reach the caller's terminal and `/dev/tty` does not
//! open), and after starting the command its own stdio is `/dev/null`.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;

use super::error::SetupStep;
use super::step::{Step, StepError};

fn fail(step: SetupStep, detail: &str) -> StepError {
    StepError {
        step,
        errno: Errno::last(),
        detail: detail.to_string(),
    }
}

/// Not dumpable, not traceable, environment gone, a session of its own;
/// with `terminal`, that terminal (a pseudo-terminal the caller owns)
/// becomes the session's controlling terminal.
pub(crate) fn seal(terminal: Option<OwnedFd>) -> Step {
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        return Err(fail(SetupStep::Seal, "PR_SET_DUMPABLE"));
    }
    wipe_environment();
    nix::unistd::setsid().map_err(|errno| StepError {
        step: SetupStep::Seal,
        errno,
        detail: "setsid".into(),
    })?;
    if let Some(tty) = terminal {
        // SAFETY: an ioctl with an integer argument on a descriptor we own.
        if unsafe { libc::ioctl(tty.as_raw_fd(), libc::TIOCSCTTY, 0) } != 0 {
            return Err(fail(SetupStep::Seal, "TIOCSCTTY on the sandbox's terminal"));
        }
    }
    Ok(())
}

/// Zero the environment block the kernel set up for the caller (what
/// `/proc/PID/environ` shows) and empty `environ`.
fn wipe_environment() {
    if let Some((start, end)) = environment_block() {
        if end > start {
            let start = start as *mut u8;
            for offset in 0..(end - start as usize) {
                // SAFETY: [env_start, env_end) is this process's own mapped,
                // writable environment area (on the initial stack); nothing
                // reads it after `clearenv` below.
                unsafe { std::ptr::write_volatile(start.add(offset), 0) };
            }
        }
    }
    // SAFETY: PID 1 is single-threaded here.
    unsafe { libc::clearenv() };
}

/// `env_start` and `env_end` from `/proc/self/stat` (fields 50 and 51).
fn environment_block() -> Option<(usize, usize)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces and parentheses: count from the last `)`.
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state).
    let start = fields.get(50 - 3)?.parse().ok()?;
    let end = fields.get(51 - 3)?.parse().ok()?;
    Some((start, end))
}

/// After the command started: PID 1's own stdio becomes `/dev/null`, so
/// nothing of the caller's terminal or pipes stays open in the sandbox.
pub(crate) fn release_stdio() {
    let Ok(null) = std::fs::File::options()
        .read(true)
        .write(true)
        .open(Path::new("/dev/null"))
    else {
        return;
    };
    for n in 0..3 {
        // SAFETY: dup2 onto the standard descriptors of this process.
        unsafe { libc::dup2(null.as_raw_fd(), n) };
    }
}
