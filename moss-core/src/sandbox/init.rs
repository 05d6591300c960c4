//! Signal handling and reaping for the sandbox's helper processes: the
//! outer helper relays signals to PID 1, PID 1 relays them to the command
//! and reaps every orphan until the command exits.

use nix::sys::signal::{
    kill, sigaction, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal,
};
use nix::unistd::Pid;

/// Signals passed on to the command.
pub(crate) const FORWARDED: [Signal; 6] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

fn relay_set() -> SigSet {
    let mut set = SigSet::empty();
    for s in FORWARDED {
        set.add(s);
    }
    set.add(Signal::SIGCHLD);
    set
}

/// Block the relayed signals so they queue for `sigwait` (call before forking
/// the next process, so no SIGCHLD is lost).
pub(crate) fn block_relayed_signals() {
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&relay_set()), None);
}

/// `waitpid` returning the raw status word, without blocking.
fn try_wait(pid: libc::pid_t) -> Option<(libc::pid_t, i32)> {
    let mut status = 0;
    // SAFETY: waitpid writes into a valid int.
    let reaped = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    (reaped > 0).then_some((reaped, status))
}

/// Relay signals to `child` until it ends; returns its raw wait status.
/// With `reap_all`, also reap every other process that ends (PID 1's duty).
pub(crate) fn relay_until_exit(child: Pid, reap_all: bool) -> i32 {
    let set = relay_set();
    loop {
        let target = if reap_all { -1 } else { child.as_raw() };
        while let Some((pid, status)) = try_wait(target) {
            if pid == child.as_raw() {
                return status;
            }
        }
        match set.wait() {
            Ok(Signal::SIGCHLD) | Err(_) => continue,
            Ok(signal) => {
                let _ = kill(child, signal);
            }
        }
    }
}

/// Turn a raw wait status into an exit code for a helper process.
pub(crate) fn exit_code_of(status: i32) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        1
    }
}

/// Give the command a clean signal state: nothing blocked, default actions
/// (Rust ignores SIGPIPE, and ignored signals survive `execve`).
pub(crate) fn reset_signals() {
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for signal in Signal::iterator() {
        if signal != Signal::SIGKILL && signal != Signal::SIGSTOP {
            // SAFETY: installing SIG_DFL has no handler code to be unsafe.
            let _ = unsafe { sigaction(signal, &default) };
        }
    }
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
}
