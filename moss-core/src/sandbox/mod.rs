//! A rootless sandbox: runs a command (or a Rust closure) in new user, mount,
//! PID, IPC, UTS and (unless networking is asked for) network namespaces,
//! inside a root directory with a read-only `/usr`, a minimal `/dev`, its own
//! `/proc` and `/tmp`, reduced capabilities and no way to gain privileges.
//!
//! ```no_run
//! use moss_core::sandbox::Sandbox;
//! let status = Sandbox::new("/var/cache/boulder/root/abc")
//!     .hostname("boulder")
//!     .bind_rw("/home/me/build", "/mason/build")
//!     .workdir("/mason/build")
//!     .env_clear()
//!     .env("PATH", "/usr/bin:/usr/sbin")
//!     .run(["/usr/bin/make"])?;
//! # Ok::<(), moss_core::sandbox::SandboxError>(())
//! ```
//!
//! How it works, step by step, is in `book/src/sandbox.md`.

mod channel;
mod dev;
mod error;
mod harden;
mod idmap;
mod init;
mod launch;
mod mounts;
mod network;
mod seal;
mod spawn;
mod step;

use std::ffi::{OsStr, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

pub use error::{HostFix, Result, SandboxError, SetupStep};
pub use harden::KEPT_CAPABILITIES;
pub use idmap::{subordinate_range, IdMapping, SubIdRange, SINGLE_ID_LIMITATION};
pub use spawn::{SandboxChild, SandboxOutput, SequenceStep};

/// What a standard stream of the sandboxed command is connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stdio {
    /// The caller's own stream (the default).
    #[default]
    Inherit,
    /// `/dev/null`.
    Null,
    /// A pipe; the other end is in [`SandboxChild`].
    Piped,
    /// The terminal given with [`Sandbox::controlling_terminal`].
    Terminal,
    /// For stderr only: wherever stdout goes, so that both streams reach
    /// one pipe in the order they were written (what `2>&1` does, without
    /// a shell to do it).
    SameAsStdout,
}

/// An extra mount inside the sandbox, applied in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mount {
    Bind {
        host: PathBuf,
        guest: PathBuf,
        writable: bool,
    },
    Tmpfs {
        guest: PathBuf,
    },
}

/// Time from the start of `spawn` to each milestone (zero until reached).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// Namespaces created and ids mapped.
    pub mapped: Duration,
    /// Every mount in place (just before `pivot_root`).
    pub mounted: Duration,
    /// `pivot_root` done; the sandbox is ready.
    pub pivoted: Duration,
    /// The command is being executed (or the closure called).
    pub exec: Duration,
    /// PID 1 saw the command exit (set by `wait`).
    pub exited: Duration,
    /// `wait` returned: the sandbox's processes are gone and its namespaces
    /// torn down.
    pub reaped: Duration,
}

/// The PATH used to find the command when the environment has none.
pub const DEFAULT_PATH: &str = "/usr/bin:/usr/sbin:/bin:/sbin";

/// Configuration of a sandbox; build it with the chained methods, then
/// [`run`](Sandbox::run), [`spawn`](Sandbox::spawn), [`output`](Sandbox::output)
/// or [`run_fn`](Sandbox::run_fn). One configuration can start many sandboxes.
#[derive(Debug, Clone)]
pub struct Sandbox {
    root: PathBuf,
    hostname: String,
    networking: bool,
    mounts: Vec<Mount>,
    workdir: PathBuf,
    env_clear: bool,
    env: Vec<(OsString, Option<OsString>)>,
    read_only_usr: bool,
    read_only_root: bool,
    stdio: [Stdio; 3],
    id_mapping: Option<IdMapping>,
    terminal: Option<Arc<OwnedFd>>,
    max_processes: Option<u64>,
    tmp_size: Option<u64>,
}

impl Sandbox {
    /// A sandbox whose `/` is `root`. Defaults: hostname `moss`, no network,
    /// read-only root and `/usr`, workdir `/`, the caller's environment and stdio.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Sandbox {
            root: root.into(),
            hostname: "moss".into(),
            networking: false,
            mounts: Vec::new(),
            workdir: PathBuf::from("/"),
            env_clear: false,
            env: Vec::new(),
            read_only_usr: true,
            read_only_root: true,
            stdio: [Stdio::Inherit; 3],
            id_mapping: None,
            terminal: None,
            max_processes: None,
            tmp_size: None,
        }
    }

    pub fn hostname(mut self, name: impl Into<String>) -> Self {
        self.hostname = name.into();
        self
    }

    /// Share the host's network (and bind copies of its `resolv.conf` and
    /// `hosts` over the root's `/etc` files, leaving the root unchanged)
    /// instead of a private network with only loopback.
    pub fn networking(mut self, on: bool) -> Self {
        self.networking = on;
        self
    }

    pub fn bind_ro(mut self, host: impl Into<PathBuf>, guest: impl Into<PathBuf>) -> Self {
        self.mounts.push(Mount::Bind {
            host: host.into(),
            guest: guest.into(),
            writable: false,
        });
        self
    }

    pub fn bind_rw(mut self, host: impl Into<PathBuf>, guest: impl Into<PathBuf>) -> Self {
        self.mounts.push(Mount::Bind {
            host: host.into(),
            guest: guest.into(),
            writable: true,
        });
        self
    }

    /// A fresh, empty, writable tmpfs at `guest`.
    pub fn tmpfs(mut self, guest: impl Into<PathBuf>) -> Self {
        self.mounts.push(Mount::Tmpfs {
            guest: guest.into(),
        });
        self
    }

    pub fn workdir(mut self, guest: impl Into<PathBuf>) -> Self {
        self.workdir = guest.into();
        self
    }

    /// Start from an empty environment instead of the caller's.
    pub fn env_clear(mut self) -> Self {
        self.env_clear = true;
        self.env.clear();
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), Some(value.into())));
        self
    }

    pub fn env_remove(mut self, key: impl Into<OsString>) -> Self {
        self.env.push((key.into(), None));
        self
    }

    /// Keep the root's `/usr` read-only (default true).
    pub fn read_only_usr(mut self, on: bool) -> Self {
        self.read_only_usr = on;
        self
    }

    /// Keep the root itself read-only (default true); only binds made with
    /// [`bind_rw`](Sandbox::bind_rw), tmpfs mounts, `/tmp` and `/dev/shm` are writable.
    pub fn read_only_root(mut self, on: bool) -> Self {
        self.read_only_root = on;
        self
    }

    pub fn stdin(mut self, s: Stdio) -> Self {
        self.stdio[0] = s;
        self
    }

    pub fn stdout(mut self, s: Stdio) -> Self {
        self.stdio[1] = s;
        self
    }

    pub fn stderr(mut self, s: Stdio) -> Self {
        self.stdio[2] = s;
        self
    }

    /// Make `tty` (the slave side of a pseudo-terminal the caller owns) the
    /// controlling terminal of the sandbox's session. Without it the
    /// sandbox has none: it always runs in a session of its own, so nothing
    /// in it can push input into the caller's terminal (`TIOCSTI`).
    pub fn controlling_terminal(mut self, tty: OwnedFd) -> Self {
        self.terminal = Some(Arc::new(tty));
        self
    }

    /// At most this many processes (and threads) for the sandbox's user
    /// (`RLIMIT_NPROC`, counted per user namespace); unlimited by default.
    pub fn max_processes(mut self, limit: u64) -> Self {
        self.max_processes = Some(limit);
        self
    }

    /// The size of the sandbox's `/tmp` (and `/dev`) tmpfs in bytes; half
    /// the memory (the kernel's default) when not given.
    pub fn tmp_size(mut self, bytes: u64) -> Self {
        self.tmp_size = Some(bytes);
        self
    }

    /// Use this id mapping instead of [`IdMapping::detect`]'s.
    pub fn id_mapping(mut self, mapping: IdMapping) -> Self {
        self.id_mapping = Some(mapping);
        self
    }

    /// Run `argv` and wait for it, forwarding SIGINT, SIGTERM, SIGHUP and
    /// SIGQUIT that reach the calling thread; returns its exit status.
    pub fn run<I, S>(&self, argv: I) -> Result<ExitStatus>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.spawn(argv)?.wait_forwarding_signals()
    }

    /// Start `argv`; returns once the command has been executed (or setup failed).
    pub fn spawn<I, S>(&self, argv: I) -> Result<SandboxChild>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let argv: Vec<OsString> = argv.into_iter().map(|a| a.as_ref().to_owned()).collect();
        spawn::spawn(self, spawn::Payload::Exec(argv))
    }

    /// Start `steps` one after another in this one sandbox: one setup for
    /// all, each with the sandbox's environment plus its own variables.
    /// Before each, PID 1 writes the line `<marker> <index>` on the
    /// sandbox's stdout, so a reader knows where each step's output starts
    /// (a marker the steps cannot guess cannot be forged by them); after
    /// each, every process it left running is killed. The sequence stops at
    /// the first step that fails; the child's status is that step's, or the
    /// last one's.
    pub fn spawn_sequence(&self, steps: Vec<SequenceStep>, marker: &str) -> Result<SandboxChild> {
        spawn::spawn(
            self,
            spawn::Payload::Sequence {
                steps,
                marker: marker.to_string(),
            },
        )
    }

    /// Run `argv` with stdout and stderr captured (stdin is `/dev/null` unless set).
    pub fn output<I, S>(&self, argv: I) -> Result<SandboxOutput>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut sandbox = self.clone().stdout(Stdio::Piped).stderr(Stdio::Piped);
        if sandbox.stdio[0] == Stdio::Inherit {
            sandbox.stdio[0] = Stdio::Null;
        }
        sandbox.spawn(argv)?.wait_with_output()
    }

    /// Run `f` inside the sandbox (in a forked copy of this process) and wait;
    /// its return value is the exit code. `f` runs in a child forked from a
    /// possibly multi-threaded process: it must not rely on locks other threads
    /// may have held (e.g. Rust's stdout); writing to raw fds is fine.
    pub fn run_fn<F>(&self, f: F) -> Result<ExitStatus>
    where
        F: FnOnce() -> i32,
    {
        self.spawn_fn(f)?.wait_forwarding_signals()
    }

    /// Start `f` inside the sandbox; see [`run_fn`](Sandbox::run_fn).
    pub fn spawn_fn<F>(&self, f: F) -> Result<SandboxChild>
    where
        F: FnOnce() -> i32,
    {
        spawn::spawn(self, spawn::Payload::Closure(Box::new(f)))
    }

    /// Check the configuration before any process is started.
    fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(SandboxError::Config(what));
        if !self.root.is_dir() {
            return bad(format!(
                "the root {} is not a directory",
                self.root.display()
            ));
        }
        if self.hostname.is_empty() || self.hostname.len() > 64 {
            return bad(format!(
                "hostname {:?} must have 1 to 64 bytes",
                self.hostname
            ));
        }
        let guests = self.mounts.iter().map(|m| match m {
            Mount::Bind { guest, .. } | Mount::Tmpfs { guest } => guest,
        });
        for guest in guests.chain([&self.workdir]) {
            if !mounts::valid_guest(guest) {
                return bad(format!(
                    "{} must be an absolute path inside the sandbox, without `..`",
                    guest.display()
                ));
            }
        }
        if self.stdio[..2].contains(&Stdio::SameAsStdout) {
            return bad("Stdio::SameAsStdout is for stderr only".into());
        }
        if self.terminal.is_none() && self.stdio.contains(&Stdio::Terminal) {
            return bad("Stdio::Terminal needs a controlling_terminal".into());
        }
        for key in self.env.iter().map(|(k, _)| k) {
            let bytes = key.as_bytes();
            if bytes.is_empty() || bytes.contains(&b'=') || bytes.contains(&0) {
                return bad(format!("invalid environment variable name {key:?}"));
            }
        }
        Ok(())
    }
}
