//! Starting a sandbox. Three processes:
//!
//! 1. the *helper*, forked from the caller, clones PID 1 into new user, mount,
//!    PID, IPC, UTS (and network) namespaces, writes its id map at once (no
//!    round trip through the caller), and relays signals to
//! 2. *PID 1* of the new PID namespace, which builds the file system,
//!    pivots into it, then reaps orphans and relays signals to
//! 3. the *command*, which drops privileges and executes (or calls a closure).
//!
//! The helper is made with `fork` (not a raw `clone`) so glibc's fork
//! handlers run and the children may allocate even when the caller is
//! multi-threaded; the helper itself is single-threaded, so its raw `clone`
//! of PID 1 is as safe as a fork. Every
//! child dies with its parent (`PR_SET_PDEATHSIG`), and the kernel kills the
//! whole PID namespace when PID 1 ends.

use std::ffi::{CString, OsString};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sched::{unshare, CloneFlags};
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::unistd::{fork, ForkResult, Pid};

use super::channel::{monotonic_ns, Mark, Message, Reporter};
use super::error::{userns_fix, Result, SandboxError, SetupStep};
use super::idmap::IdMapping;
use super::step::{at, Step, StepError};
use super::{
    dev, harden, init, launch, mounts, network, seal, Mount, Sandbox, Stdio, Timings, DEFAULT_PATH,
};

pub(crate) enum Payload<'a> {
    Exec(Vec<OsString>),
    /// Commands run one after another; see [`Sandbox::spawn_sequence`](super::Sandbox::spawn_sequence).
    Sequence {
        steps: Vec<SequenceStep>,
        marker: String,
    },
    Closure(Box<dyn FnOnce() -> i32 + 'a>),
}

/// One command of [`Sandbox::spawn_sequence`](super::Sandbox::spawn_sequence):
/// its argv and the variables it gets on top of the sandbox's environment.
#[derive(Debug, Clone, Default)]
pub struct SequenceStep {
    pub argv: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
}

/// A running sandbox.
#[derive(Debug)]
pub struct SandboxChild {
    pid: Pid,
    result: File,
    start: u64,
    status: Option<ExitStatus>,
    timings: Timings,
    id_mapping: IdMapping,
    pub stdin: Option<File>,
    pub stdout: Option<File>,
    pub stderr: Option<File>,
}

/// The result of [`Sandbox::output`](super::Sandbox::output).
#[derive(Debug, Clone)]
pub struct SandboxOutput {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Everything the three processes need, prepared before the first fork.
struct Plan<'a> {
    sandbox: &'a Sandbox,
    /// The root, canonical (symlink checks compare against it).
    root: std::path::PathBuf,
    /// The commands PID 1 starts in turn (none for a closure).
    commands: Vec<PlannedCommand>,
    /// Written with the command's index on stdout before each command of a
    /// sequence.
    marker: Option<Vec<u8>>,
    search_path: Vec<Vec<u8>>,
}

struct PlannedCommand {
    argv: Vec<CString>,
    envp: Vec<CString>,
}

/// The sandbox ends of the stdio redirections (`None`: inherit), and the
/// terminal that becomes the sandbox's controlling terminal.
struct ChildStdio([Option<OwnedFd>; 3], Option<OwnedFd>);

pub(crate) fn spawn(sandbox: &Sandbox, payload: Payload<'_>) -> Result<SandboxChild> {
    sandbox.validate()?;
    let mapping = sandbox.id_mapping.clone().unwrap_or_else(IdMapping::detect);
    let (steps, marker, closure) = match payload {
        Payload::Exec(argv) => (
            vec![SequenceStep {
                argv,
                env: Vec::new(),
            }],
            None,
            None,
        ),
        Payload::Sequence { steps, marker } => (steps, Some(marker), None),
        Payload::Closure(f) => (Vec::new(), None, Some(f)),
    };
    if closure.is_none() && (steps.is_empty() || steps.iter().any(|s| s.argv.is_empty())) {
        return Err(SandboxError::Config("no command given".into()));
    }
    let plan = Plan::new(sandbox, steps, marker)?;
    let (mut parent_stdio, child_stdio) = stdio_pipes(sandbox.stdio, sandbox.terminal.as_deref())?;
    let pipe =
        || nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| SandboxError::io("create a pipe", e));
    let (setup_r, setup_w) = pipe()?;
    let (result_r, result_w) = pipe()?;
    let start = monotonic_ns();
    let caller = Pid::this();

    // SAFETY: the child only runs code prepared for it and never returns.
    match unsafe { fork() }.map_err(|e| SandboxError::io("fork the sandbox helper", e))? {
        ForkResult::Child => {
            drop((setup_r, result_r, parent_stdio));
            let reporter = Reporter::new(setup_w);
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                helper(
                    &plan,
                    caller,
                    &mapping,
                    reporter,
                    result_w,
                    child_stdio,
                    closure,
                )
            }))
            .unwrap_or(101);
            // SAFETY: leave without running the caller's atexit handlers.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop((setup_w, result_w, child_stdio));
            let mut started = SandboxChild {
                pid: child,
                result: File::from(result_r),
                start,
                status: None,
                timings: Timings::default(),
                id_mapping: mapping.clone(),
                stdin: parent_stdio[0].take_file(),
                stdout: parent_stdio[1].take_file(),
                stderr: parent_stdio[2].take_file(),
            };
            started.follow_setup(setup_r, start)?;
            Ok(started)
        }
    }
}

impl<'a> Plan<'a> {
    fn new(sandbox: &'a Sandbox, steps: Vec<SequenceStep>, marker: Option<String>) -> Result<Self> {
        let cstring = |bytes: Vec<u8>| {
            CString::new(bytes).map_err(|_| {
                SandboxError::Config("a NUL byte in the command or environment".into())
            })
        };
        let mut env: Vec<(OsString, OsString)> = if sandbox.env_clear {
            Vec::new()
        } else {
            std::env::vars_os().collect()
        };
        for (key, value) in &sandbox.env {
            env.retain(|(k, _)| k != key);
            if let Some(value) = value {
                env.push((key.clone(), value.clone()));
            }
        }
        let path = env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.as_bytes().to_vec())
            .unwrap_or_else(|| DEFAULT_PATH.as_bytes().to_vec());
        let search_path = path
            .split(|b| *b == b':')
            .filter(|d| !d.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        let commands = steps
            .into_iter()
            .map(|step| {
                let mut env = env.clone();
                for (key, value) in step.env {
                    env.retain(|(k, _)| *k != key);
                    env.push((key, value));
                }
                let envp = env
                    .into_iter()
                    .map(|(k, v)| {
                        let mut kv = k.into_vec();
                        kv.push(b'=');
                        kv.extend(v.into_vec());
                        cstring(kv)
                    })
                    .collect::<Result<_>>()?;
                let argv = step
                    .argv
                    .into_iter()
                    .map(|a| cstring(a.into_vec()))
                    .collect::<Result<_>>()?;
                Ok(PlannedCommand { argv, envp })
            })
            .collect::<Result<_>>()?;
        let root = std::fs::canonicalize(&sandbox.root).map_err(|e| {
            SandboxError::io(format!("resolve the root {}", sandbox.root.display()), e)
        })?;
        Ok(Plan {
            sandbox,
            root,
            commands,
            marker: marker.map(String::into_bytes),
            search_path,
        })
    }
}

/// The caller's end of one stdio redirection.
enum ParentEnd {
    None,
    Fd(OwnedFd),
}

impl ParentEnd {
    fn take_file(&mut self) -> Option<File> {
        match std::mem::replace(self, ParentEnd::None) {
            ParentEnd::Fd(fd) => Some(File::from(fd)),
            ParentEnd::None => None,
        }
    }
}

fn stdio_pipes(
    stdio: [Stdio; 3],
    terminal: Option<&OwnedFd>,
) -> Result<([ParentEnd; 3], ChildStdio)> {
    let dup_terminal = || -> Result<Option<OwnedFd>> {
        terminal
            .map(|tty| {
                tty.try_clone()
                    .map_err(|e| SandboxError::io("duplicate the terminal", e))
            })
            .transpose()
    };
    let mut parent = [ParentEnd::None, ParentEnd::None, ParentEnd::None];
    let mut child: [Option<OwnedFd>; 3] = [None, None, None];
    for (n, how) in stdio.into_iter().enumerate() {
        match how {
            Stdio::Inherit => {}
            Stdio::Null => {
                let null = File::options()
                    .read(n == 0)
                    .write(n != 0)
                    .open("/dev/null")
                    .map_err(|e| SandboxError::io("open /dev/null", e))?;
                child[n] = Some(null.into());
            }
            Stdio::Piped => {
                let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
                    .map_err(|e| SandboxError::io("create a pipe", e))?;
                let (mine, theirs) = if n == 0 { (w, r) } else { (r, w) };
                parent[n] = ParentEnd::Fd(mine);
                child[n] = Some(theirs);
            }
            Stdio::Terminal => child[n] = dup_terminal()?,
            Stdio::SameAsStdout => {
                let dup = |fd: std::os::fd::BorrowedFd<'_>| {
                    fd.try_clone_to_owned()
                        .map_err(|e| SandboxError::io("duplicate stdout for stderr", e))
                };
                child[n] = Some(match &child[1] {
                    Some(stdout) => dup(stdout.as_fd())?,
                    // stdout is inherited: stderr gets our own stdout.
                    None => dup(std::io::stdout().as_fd())?,
                });
            }
        }
    }
    Ok((parent, ChildStdio(child, dup_terminal()?)))
}

impl SandboxChild {
    /// Read the setup channel until the command runs.
    fn follow_setup(&mut self, setup: OwnedFd, start: u64) -> Result<()> {
        let mut failure: Option<SandboxError> = None;
        let mut executed = false;
        let since = |ns: u64| Duration::from_nanos(ns.saturating_sub(start));
        for line in BufReader::new(File::from(setup)).lines() {
            let line = line.map_err(|e| SandboxError::io("read the sandbox setup channel", e))?;
            match Message::decode(&line) {
                Some(Message::IdMapFellBack) => {
                    self.id_mapping = self.id_mapping.fallback();
                }
                Some(Message::IdMapFailed(errno, what)) => {
                    failure.get_or_insert(SandboxError::IdMap {
                        what,
                        source: std::io::Error::from_raw_os_error(errno as i32),
                    });
                }
                Some(Message::UserNsFailed(errno)) => {
                    failure.get_or_insert(SandboxError::UserNamespacesUnavailable {
                        errno,
                        fix: userns_fix(errno),
                    });
                }
                Some(Message::NamespacesFailed(errno)) => {
                    failure.get_or_insert(SandboxError::Namespaces { errno });
                }
                Some(Message::Timing(mark, ns)) => {
                    let t = since(ns);
                    match mark {
                        Mark::Mapped => self.timings.mapped = t,
                        Mark::Mounted => self.timings.mounted = t,
                        Mark::Pivoted => self.timings.pivoted = t,
                        Mark::Exec => {
                            self.timings.exec = t;
                            executed = true;
                        }
                    }
                }
                Some(Message::Failed {
                    step,
                    errno,
                    detail,
                }) => {
                    failure.get_or_insert(SandboxError::Setup {
                        step,
                        detail,
                        errno,
                    });
                }
                None => {}
            }
        }
        if let Some(failure) = failure {
            let _ = kill(self.pid, Signal::SIGKILL);
            let _ = self.wait();
            return Err(failure);
        }
        if !executed {
            let status = self.wait()?;
            return Err(SandboxError::DiedDuringSetup {
                status: status.to_string(),
            });
        }
        Ok(())
    }

    /// The host PID of the sandbox's outer helper; signals sent to it reach the command.
    pub fn id(&self) -> u32 {
        self.pid.as_raw() as u32
    }

    /// Send `signal` to the command (through the helper and PID 1).
    pub fn signal(&self, signal: Signal) -> Result<()> {
        kill(self.pid, signal).map_err(|e| SandboxError::io("signal the sandbox", e))
    }

    pub fn timings(&self) -> &Timings {
        &self.timings
    }

    /// The id mapping actually in effect.
    pub fn id_mapping(&self) -> &IdMapping {
        &self.id_mapping
    }

    /// Wait for the command to end; returns its exit status.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        drop(self.stdin.take());
        // PID 1 sends the command's own status and when it ended; without
        // it (PID 1 was killed) the helper's status tells.
        let mut word = [0u8; 12];
        let reported = self.result.read_exact(&mut word).is_ok();
        if reported {
            let ns = u64::from_ne_bytes(word[4..].try_into().unwrap_or_default());
            self.timings.exited = Duration::from_nanos(ns.saturating_sub(self.start));
        }
        let mut raw = 0;
        loop {
            // SAFETY: waitpid writes into a valid int.
            let rc = unsafe { libc::waitpid(self.pid.as_raw(), &mut raw, 0) };
            if rc >= 0 {
                break;
            }
            let errno = Errno::last();
            if errno != Errno::EINTR {
                return Err(SandboxError::io("wait for the sandbox", errno));
            }
        }
        self.timings.reaped = Duration::from_nanos(monotonic_ns().saturating_sub(self.start));
        let status = if reported {
            let mut status = [0u8; 4];
            status.copy_from_slice(&word[..4]);
            ExitStatus::from_raw(i32::from_ne_bytes(status))
        } else {
            ExitStatus::from_raw(raw)
        };
        self.status = Some(status);
        Ok(status)
    }

    /// Wait, passing SIGINT, SIGTERM, SIGHUP and SIGQUIT that reach the
    /// calling thread on to the command (they are blocked in this thread
    /// meanwhile, so they do not end the caller).
    pub fn wait_forwarding_signals(&mut self) -> Result<ExitStatus> {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        use nix::sys::signalfd::{SfdFlags, SignalFd};
        let mut set = SigSet::empty();
        for s in [
            Signal::SIGINT,
            Signal::SIGTERM,
            Signal::SIGHUP,
            Signal::SIGQUIT,
        ] {
            set.add(s);
        }
        // SAFETY: pidfd_open takes a pid and flags; the result is checked.
        let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, self.pid.as_raw(), 0) } as RawFd;
        if raw < 0 {
            return self.wait();
        }
        // SAFETY: a fresh descriptor owned from here on.
        let pidfd = unsafe { OwnedFd::from_raw_fd(raw) };
        let old = set
            .thread_swap_mask(SigmaskHow::SIG_BLOCK)
            .map_err(|e| SandboxError::io("block signals", e))?;
        let forwarded = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK);
        if let Ok(signals) = &forwarded {
            loop {
                let mut fds = [
                    PollFd::new(pidfd.as_fd(), PollFlags::POLLIN),
                    PollFd::new(signals.as_fd(), PollFlags::POLLIN),
                ];
                match poll(&mut fds, PollTimeout::NONE) {
                    Err(Errno::EINTR) => continue,
                    Err(_) => break,
                    Ok(_) => {}
                }
                if fds[0].any().unwrap_or(true) {
                    break;
                }
                while let Ok(Some(info)) = signals.read_signal() {
                    if let Ok(signal) = Signal::try_from(info.ssi_signo as i32) {
                        let _ = kill(self.pid, signal);
                    }
                }
            }
        }
        let _ = old.thread_set_mask();
        self.wait()
    }

    /// Wait, collecting the piped stdout and stderr.
    pub fn wait_with_output(mut self) -> Result<SandboxOutput> {
        drop(self.stdin.take());
        let stderr = self.stderr.take().map(|mut e| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = e.read_to_end(&mut buf);
                buf
            })
        });
        let mut stdout = Vec::new();
        if let Some(mut out) = self.stdout.take() {
            out.read_to_end(&mut stdout)
                .map_err(|e| SandboxError::io("read the sandbox's stdout", e))?;
        }
        let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
        let status = self.wait()?;
        Ok(SandboxOutput {
            status,
            stdout,
            stderr,
        })
    }
}

impl Drop for SandboxChild {
    /// A sandbox nobody waits for is killed, not left behind.
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = kill(self.pid, Signal::SIGKILL);
            let _ = self.wait();
        }
    }
}

/// Close every descriptor except stdio and `keep`, so no host file leaks in.
fn close_other_fds(keep: &mut [RawFd]) {
    keep.sort_unstable();
    let mut from: u32 = 3;
    for &fd in keep.iter().filter(|fd| **fd >= 3) {
        if (fd as u32) > from {
            // SAFETY: closing descriptors this process no longer needs.
            unsafe { libc::syscall(libc::SYS_close_range, from, fd as u32 - 1, 0) };
        }
        from = fd as u32 + 1;
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, from, u32::MAX, 0) };
}

fn die_with_parent() {
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
}

/// Process 1 of 3: the helper outside the new namespaces. Returns its exit
/// code (PID 1, cloned from it, returns its own through the same frames).
fn helper(
    plan: &Plan<'_>,
    caller: Pid,
    mapping: &IdMapping,
    reporter: Reporter,
    result: OwnedFd,
    stdio: ChildStdio,
    closure: Option<Box<dyn FnOnce() -> i32 + '_>>,
) -> i32 {
    let mut keep: Vec<RawFd> = vec![reporter.raw_fd(), result.as_raw_fd()];
    keep.extend(stdio.0.iter().flatten().map(|fd| fd.as_raw_fd()));
    keep.extend(stdio.1.iter().map(|fd| fd.as_raw_fd()));
    close_other_fds(&mut keep);
    die_with_parent();
    if nix::unistd::getppid() != caller {
        return 1;
    }
    let Ok((go_r, go_w)) = nix::unistd::pipe2(OFlag::O_CLOEXEC) else {
        return 1;
    };
    let mut flags = CloneFlags::CLONE_NEWUSER
        | CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWUTS;
    if !plan.sandbox.networking {
        flags |= CloneFlags::CLONE_NEWNET;
    }
    init::block_relayed_signals();
    // SAFETY: a fork-like clone (no new stack: the child continues on a
    // copy of this one) of a single-threaded process; the child never
    // returns past `spawn`'s `_exit`.
    let raw = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags.bits() as libc::c_long | libc::SIGCHLD as libc::c_long,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    if raw < 0 {
        let errno = Errno::last();
        // Tell a missing user namespace (with its fix) from the others.
        let message = match unshare(CloneFlags::CLONE_NEWUSER) {
            Err(userns) => Message::UserNsFailed(userns),
            Ok(()) => Message::NamespacesFailed(errno),
        };
        reporter.send(&message);
        return 1;
    }
    if raw == 0 {
        drop(go_w);
        // Mount and file work needs the id map in place.
        let mut byte = [0u8];
        if File::from(go_r).read_exact(&mut byte).is_err() {
            return 1;
        }
        reporter.mark(Mark::Mapped);
        return pid_one(plan, reporter, result, stdio, closure);
    }
    drop(go_r);
    let child = Pid::from_raw(raw as libc::pid_t);
    match mapping.apply(child) {
        Ok(applied) => {
            if applied != *mapping {
                reporter.send(&Message::IdMapFellBack);
            }
        }
        Err(e) => {
            let (errno, what) = match e {
                SandboxError::IdMap { what, source } => (
                    Errno::from_raw(source.raw_os_error().unwrap_or(libc::EIO)),
                    what,
                ),
                other => (Errno::EIO, crate::util::with_causes(&other)),
            };
            reporter.send(&Message::IdMapFailed(errno, what));
            let _ = kill(child, Signal::SIGKILL);
            return 1;
        }
    }
    if File::from(go_w).write_all(&[1]).is_err() {
        return 1;
    }
    drop((reporter, result, stdio));
    init::exit_code_of(init::relay_until_exit(child, false))
}

/// Process 2 of 3: PID 1 of the sandbox. Returns its exit code.
fn pid_one(
    plan: &Plan<'_>,
    reporter: Reporter,
    result: OwnedFd,
    mut stdio: ChildStdio,
    closure: Option<Box<dyn FnOnce() -> i32 + '_>>,
) -> i32 {
    die_with_parent();
    if let Err(e) = build_root(plan.sandbox, &plan.root, &reporter) {
        reporter.fail(e.step, e.errno, e.detail);
        return 1;
    }
    reporter.mark(Mark::Pivoted);
    let sealed = seal::seal(stdio.1.take()).and_then(|()| limit_processes(plan.sandbox));
    if let Err(e) = sealed {
        reporter.fail(e.step, e.errno, e.detail);
        return 1;
    }
    let Some(closure) = closure else {
        return run_command(plan, reporter, result, stdio);
    };
    // A closure runs Rust code in the child: it needs a real fork.
    // SAFETY: single-threaded; the child never returns.
    match unsafe { fork() } {
        Err(errno) => {
            reporter.fail(SetupStep::Fork, errno, "the command");
            1
        }
        Ok(ForkResult::Child) => {
            drop(result);
            let e = call_closure(plan, &reporter, stdio, closure);
            reporter.fail(e.step, e.errno, e.detail);
            127
        }
        Ok(ForkResult::Parent { child }) => {
            drop((reporter, stdio));
            seal::release_stdio();
            reap_and_report(child, result)
        }
    }
}

/// PID 1 starts the executable commands with `posix_spawn` (see `launch`),
/// one after another: the next once the previous one succeeded and
/// everything it left running was killed. The status reported is the
/// first failing command's, or the last one's.
fn run_command(plan: &Plan<'_>, reporter: Reporter, result: OwnedFd, stdio: ChildStdio) -> i32 {
    if let Err(e) = launch::prepare(&plan.sandbox.workdir) {
        reporter.fail(e.step, e.errno, e.detail);
        return 127;
    }
    let mut reporter = Some(reporter);
    let last = plan.commands.len().saturating_sub(1);
    for (index, planned) in plan.commands.iter().enumerate() {
        if let Some(marker) = &plan.marker {
            write_marker(&stdio, marker, index);
        }
        let command = launch::Command {
            argv: &planned.argv,
            envp: &planned.envp,
            search_path: &plan.search_path,
        };
        let child = match launch::spawn(&command, &stdio.0) {
            Ok(child) => child,
            // The first command is the sandbox's: the caller hears why.
            Err(e) => match reporter.take() {
                Some(reporter) => {
                    reporter.fail(e.step, e.errno, e.detail);
                    return 127;
                }
                // A later one fails as a shell's command would.
                None => {
                    let text = format!("sandbox: cannot run {}: {}\n", e.detail, e.errno.desc());
                    write_stdout(&stdio, text.as_bytes());
                    drop(stdio);
                    seal::release_stdio();
                    return report_status(127 << 8, result);
                }
            },
        };
        if let Some(reporter) = reporter.take() {
            reporter.mark(Mark::Exec);
        }
        if index == last {
            drop(stdio);
            seal::release_stdio();
            return reap_and_report(child, result);
        }
        let status = init::relay_until_exit(child, true);
        if status != 0 {
            drop(stdio);
            seal::release_stdio();
            return report_status(status, result);
        }
        end_leftovers();
    }
    0
}

/// Kills and reaps every process of the sandbox but PID 1: what one command
/// of a sequence left running does not outlive it (as when its own sandbox
/// ends).
fn end_leftovers() {
    // SAFETY: plain syscalls; PID 1 of the namespace is spared by kill(-1).
    unsafe { libc::kill(-1, libc::SIGKILL) };
    let mut status = 0;
    while unsafe { libc::waitpid(-1, &mut status, 0) } > 0 {}
}

/// Writes `<marker> <index>` as one line on the sandbox's stdout.
fn write_marker(stdio: &ChildStdio, marker: &[u8], index: usize) {
    let mut line = marker.to_vec();
    line.extend_from_slice(format!(" {index}\n").as_bytes());
    write_stdout(stdio, &line);
}

/// Writes `bytes` on the sandbox's stdout (PID 1's own when inherited).
fn write_stdout(stdio: &ChildStdio, bytes: &[u8]) {
    let fd = stdio.0[1].as_ref().map_or(1, |fd| fd.as_raw_fd());
    let mut done = 0;
    while done < bytes.len() {
        // SAFETY: writing from a live buffer to a descriptor PID 1 holds.
        let n = unsafe { libc::write(fd, bytes[done..].as_ptr().cast(), bytes.len() - done) };
        match n {
            n if n > 0 => done += n as usize,
            _ if Errno::last() == Errno::EINTR => {}
            _ => return,
        }
    }
}

/// `RLIMIT_NPROC` for PID 1 and everything it starts. The kernel counts
/// the processes of the user the sandbox's ids map to; it does not limit
/// the host's root user (a caller running as root).
fn limit_processes(sandbox: &Sandbox) -> Step {
    let Some(limit) = sandbox.max_processes else {
        return Ok(());
    };
    let value = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: setrlimit reads the struct it is given.
    if unsafe { libc::setrlimit(libc::RLIMIT_NPROC, &value) } != 0 {
        return Err(StepError {
            step: SetupStep::SetLimit,
            errno: Errno::last(),
            detail: format!("RLIMIT_NPROC {limit}"),
        });
    }
    Ok(())
}

/// PID 1's duty until the command ends: relay signals, reap every process,
/// then send the command's status and when it ended to the caller.
fn reap_and_report(child: Pid, result: OwnedFd) -> i32 {
    report_status(init::relay_until_exit(child, true), result)
}

/// Sends the raw wait `status` and the time to the caller.
fn report_status(status: i32, result: OwnedFd) -> i32 {
    let mut word = [0u8; 12];
    word[..4].copy_from_slice(&status.to_ne_bytes());
    word[4..].copy_from_slice(&monotonic_ns().to_ne_bytes());
    let _ = File::from(result).write_all(&word);
    0
}

/// Build the sandbox's file system and pivot into it (runs as PID 1).
fn build_root(sandbox: &Sandbox, root: &Path, reporter: &Reporter) -> Step {
    let inside = |guest: &str| mounts::guest_path(root, Path::new(guest));
    mounts::make_private()?;
    mounts::bind(root, root, true)?;
    let proc = mounts::prepare_target(root, Path::new("/proc"), true)?;
    mounts::proc(&proc)?;
    // One tmpfs serves /dev and /tmp: it is mounted at /tmp, its two
    // directories are bound to /dev and over /tmp itself (hiding its top).
    // Each superblock costs time to make and to tear down.
    let tmp = mounts::prepare_target(root, Path::new("/tmp"), true)?;
    let options = match sandbox.tmp_size {
        Some(bytes) => format!("mode=0755,size={bytes}"),
        None => "mode=0755".to_string(),
    };
    mounts::tmpfs(&tmp, &options)?;
    let (dev_dir, tmp_dir) = (tmp.join("dev"), tmp.join("tmp"));
    mounts::private_dir(&dev_dir, 0o755)?;
    mounts::private_dir(&tmp_dir, 0o1777)?;
    let dev = mounts::prepare_target(root, Path::new("/dev"), true)?;
    mounts::bind(&dev_dir, &dev, true)?;
    mounts::bind(&tmp_dir, &tmp, true)?;
    dev::populate(&dev)?;
    if sandbox.networking {
        // Staged in the sandbox's own /tmp, before any user mount covers it.
        network::bind_host_files(root, &inside("/tmp"))?;
    }
    for mount in &sandbox.mounts {
        match mount {
            Mount::Bind {
                host,
                guest,
                writable,
            } => {
                let meta = std::fs::metadata(host).map_err(|e| StepError {
                    step: SetupStep::BindMount,
                    errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
                    detail: format!("{} (host side of {})", host.display(), guest.display()),
                })?;
                let target = mounts::prepare_target(root, guest, meta.is_dir())?;
                mounts::bind(host, &target, *writable)?;
            }
            Mount::Tmpfs { guest } => {
                let target = mounts::prepare_target(root, guest, true)?;
                mounts::tmpfs(&target, "mode=0755")?;
            }
        }
    }
    // Last, so the bind of /usr onto itself carries the user's mounts under it.
    let usr_bound_read_only = sandbox.mounts.iter().any(
        |m| matches!(m, Mount::Bind { guest, writable: false, .. } if guest == Path::new("/usr")),
    );
    let usr = inside("/usr");
    // A /usr that is part of the root's own mount turns read-only with the
    // root below: a bind of its own would only cost a mount and its teardown.
    let covered_by_root = sandbox.read_only_root && !mounts::is_mount_root(&usr);
    if sandbox.read_only_usr && !usr_bound_read_only && !covered_by_root && usr.is_dir() {
        mounts::bind(&usr, &usr, false)?;
    }
    if !sandbox.networking {
        network::loopback_up()?;
    }
    nix::unistd::sethostname(&sandbox.hostname)
        .map_err(at(SetupStep::SetHostname, Path::new(&sandbox.hostname)))?;
    reporter.mark(Mark::Mounted);
    if sandbox.read_only_root {
        mounts::remount_read_only(root)?;
    }
    mounts::pivot(root)
}

/// Process 3 of 3 for a closure: a forked child that calls it. Returns only on failure.
fn call_closure(
    plan: &Plan<'_>,
    reporter: &Reporter,
    stdio: ChildStdio,
    closure: Box<dyn FnOnce() -> i32 + '_>,
) -> StepError {
    init::reset_signals();
    for (n, fd) in stdio.0.into_iter().enumerate() {
        let Some(fd) = fd else { continue };
        let n = n as RawFd;
        // SAFETY: dup2/fcntl on descriptors this process owns.
        let rc = unsafe {
            if fd.as_raw_fd() == n {
                // Already in place: only keep it open across execve.
                libc::fcntl(
                    std::mem::ManuallyDrop::new(fd).as_raw_fd(),
                    libc::F_SETFD,
                    0,
                )
            } else {
                libc::dup2(fd.as_raw_fd(), n)
            }
        };
        if rc < 0 {
            return at(SetupStep::RedirectStdio, Path::new("/dev/stdin"))(Errno::last());
        }
    }
    if let Err(e) = nix::unistd::chdir(&plan.sandbox.workdir) {
        return at(SetupStep::ChangeDirectory, &plan.sandbox.workdir)(e);
    }
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    if let Err(e) = harden::drop_capabilities().and_then(|()| harden::no_new_privileges()) {
        return e;
    }
    reporter.mark(Mark::Exec);
    let fd = reporter.raw_fd();
    // SAFETY: the reporter is not used after this point.
    unsafe { libc::close(fd) };
    let code = closure();
    // SAFETY: leave without unwinding into the caller's copy of the stack.
    unsafe { libc::_exit(code) }
}
