//! Starting the command from PID 1 with `posix_spawn`.
//!
//! PID 1 is a copy of the caller's address space. A `fork` for the command
//! would copy its page tables again and then fault in copied pages until
//! `execve` throws them away; `posix_spawn` shares the memory
//! (`CLONE_VM | CLONE_VFORK`) and only sets signals and descriptors before it
//! executes. Everything else the command inherits (working directory, umask,
//! capability sets, `no_new_privs`) PID 1 sets on itself first: it needs none
//! of its privileges once the root is pivoted.

use std::ffi::CString;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::ptr;

use nix::errno::Errno;
use nix::unistd::Pid;

use super::error::SetupStep;
use super::harden;
use super::step::{at, Step, StepError};

/// Give PID 1 the state its command must inherit. Runs after the pivot.
pub(crate) fn prepare(workdir: &Path) -> Step {
    nix::unistd::chdir(workdir).map_err(at(SetupStep::ChangeDirectory, workdir))?;
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    harden::drop_capabilities()?;
    harden::no_new_privileges()
}

/// The command's argv/envp and the directories searched for a bare name.
pub(crate) struct Command<'a> {
    pub argv: &'a [CString],
    pub envp: &'a [CString],
    pub search_path: &'a [Vec<u8>],
}

/// `posix_spawn` attributes and file actions, destroyed on drop.
struct SpawnSetup {
    attr: libc::posix_spawnattr_t,
    actions: libc::posix_spawn_file_actions_t,
}

impl SpawnSetup {
    /// Signals: nothing blocked, every disposition back to default (PID 1
    /// blocks the signals it relays, and ignored signals survive `execve`).
    /// Descriptors: each redirection moved to 0, 1 or 2.
    fn new(stdio: &[Option<OwnedFd>; 3]) -> Result<Self, Errno> {
        let mut attr = MaybeUninit::<libc::posix_spawnattr_t>::uninit();
        let mut actions = MaybeUninit::<libc::posix_spawn_file_actions_t>::uninit();
        // SAFETY: the init functions fill the structures they are given;
        // each is destroyed exactly once, in Drop, after a successful init.
        unsafe {
            check(libc::posix_spawnattr_init(attr.as_mut_ptr()))?;
            if let Err(e) = check(libc::posix_spawn_file_actions_init(actions.as_mut_ptr())) {
                libc::posix_spawnattr_destroy(attr.as_mut_ptr());
                return Err(e);
            }
        }
        // SAFETY: both were initialised above.
        let mut setup = unsafe {
            SpawnSetup {
                attr: attr.assume_init(),
                actions: actions.assume_init(),
            }
        };
        let mut empty = MaybeUninit::<libc::sigset_t>::uninit();
        let mut all = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: the sets are initialised by sigemptyset/sigfillset before
        // use; the attribute calls copy them.
        unsafe {
            libc::sigemptyset(empty.as_mut_ptr());
            libc::sigfillset(all.as_mut_ptr());
            check(libc::posix_spawnattr_setsigmask(
                &mut setup.attr,
                empty.as_ptr(),
            ))?;
            check(libc::posix_spawnattr_setsigdefault(
                &mut setup.attr,
                all.as_ptr(),
            ))?;
            let flags = libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF;
            check(libc::posix_spawnattr_setflags(
                &mut setup.attr,
                flags as libc::c_short,
            ))?;
        }
        for (n, fd) in stdio.iter().enumerate() {
            let Some(fd) = fd else { continue };
            let (fd, n) = (fd.as_raw_fd(), n as RawFd);
            if fd == n {
                // Already in place: only keep it open across execve (PID 1
                // itself never executes anything).
                // SAFETY: fcntl on a descriptor this process owns.
                if unsafe { libc::fcntl(fd, libc::F_SETFD, 0) } < 0 {
                    return Err(Errno::last());
                }
            } else {
                // SAFETY: the file actions were initialised above.
                check(unsafe {
                    libc::posix_spawn_file_actions_adddup2(&mut setup.actions, fd, n)
                })?;
            }
        }
        Ok(setup)
    }
}

impl Drop for SpawnSetup {
    fn drop(&mut self) {
        // SAFETY: both were initialised in `new` and are destroyed once.
        unsafe {
            libc::posix_spawn_file_actions_destroy(&mut self.actions);
            libc::posix_spawnattr_destroy(&mut self.attr);
        }
    }
}

fn check(rc: libc::c_int) -> Result<(), Errno> {
    if rc == 0 {
        Ok(())
    } else {
        Err(Errno::from_raw(rc))
    }
}

/// A NULL-terminated array of pointers into `strings`.
fn pointers(strings: &[CString]) -> Vec<*mut libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr() as *mut libc::c_char)
        .chain(std::iter::once(ptr::null_mut()))
        .collect()
}

/// Start the command with its redirections; a bare name is searched in the
/// sandbox's PATH like `execvp` does ("permission denied" wins over "not
/// found").
pub(crate) fn spawn(command: &Command<'_>, stdio: &[Option<OwnedFd>; 3]) -> Step<Pid> {
    let name = command.argv.first().map(|a| a.as_bytes()).unwrap_or(b"");
    let failed = |step, errno| StepError {
        step,
        errno,
        detail: String::from_utf8_lossy(name).into_owned(),
    };
    let setup = SpawnSetup::new(stdio).map_err(|e| failed(SetupStep::RedirectStdio, e))?;
    let argv = pointers(command.argv);
    let envp = pointers(command.envp);
    let attempt = |path: &CString| -> Result<Pid, Errno> {
        let mut pid: libc::pid_t = 0;
        // SAFETY: every pointer refers to data that outlives the call; the
        // arrays are NULL-terminated.
        let rc = unsafe {
            libc::posix_spawn(
                &mut pid,
                path.as_ptr(),
                &setup.actions,
                &setup.attr,
                argv.as_ptr(),
                envp.as_ptr(),
            )
        };
        check(rc).map(|()| Pid::from_raw(pid))
    };
    if name.contains(&b'/') {
        let path = &command.argv[0];
        return attempt(path).map_err(|e| failed(SetupStep::Execute, e));
    }
    let mut best = Errno::ENOENT;
    for dir in command.search_path {
        let mut full = dir.clone();
        full.push(b'/');
        full.extend_from_slice(name);
        let Ok(full) = CString::new(full) else {
            continue;
        };
        match attempt(&full) {
            Ok(pid) => return Ok(pid),
            Err(Errno::ENOENT | Errno::ENOTDIR) => {}
            Err(errno) => best = errno,
        }
    }
    Err(failed(SetupStep::Execute, best))
}
