//! Typed errors of the sandbox. Every failing step names itself, the path it
//! worked on and the errno, so a report needs no backtrace.

use std::fmt;
use std::io;

use nix::errno::Errno;

/// One step of sandbox setup; carried by [`SandboxError::Setup`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SetupStep {
    Fork = 1,
    MakeMountsPrivate,
    CreateMountPoint,
    StayInsideRoot,
    BindMount,
    RemountReadOnly,
    MountTmpfs,
    MountProc,
    MountDevpts,
    CreateDevLink,
    CopyHostFile,
    LoopbackUp,
    SetHostname,
    PivotRoot,
    DetachOldRoot,
    ChangeDirectory,
    RedirectStdio,
    DropCapabilities,
    NoNewPrivileges,
    Execute,
    Seal,
    SetLimit,
}

impl SetupStep {
    const ALL: [SetupStep; 22] = [
        SetupStep::Fork,
        SetupStep::MakeMountsPrivate,
        SetupStep::CreateMountPoint,
        SetupStep::StayInsideRoot,
        SetupStep::BindMount,
        SetupStep::RemountReadOnly,
        SetupStep::MountTmpfs,
        SetupStep::MountProc,
        SetupStep::MountDevpts,
        SetupStep::CreateDevLink,
        SetupStep::CopyHostFile,
        SetupStep::LoopbackUp,
        SetupStep::SetHostname,
        SetupStep::PivotRoot,
        SetupStep::DetachOldRoot,
        SetupStep::ChangeDirectory,
        SetupStep::RedirectStdio,
        SetupStep::DropCapabilities,
        SetupStep::NoNewPrivileges,
        SetupStep::Execute,
        SetupStep::Seal,
        SetupStep::SetLimit,
    ];

    pub(crate) fn code(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_code(code: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.code() == code)
    }
}

impl fmt::Display for SetupStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            SetupStep::Fork => "fork a sandbox process",
            SetupStep::MakeMountsPrivate => "make the mount tree private",
            SetupStep::CreateMountPoint => "create the mount point",
            SetupStep::StayInsideRoot => "stay inside the root with",
            SetupStep::BindMount => "bind-mount",
            SetupStep::RemountReadOnly => "remount read-only",
            SetupStep::MountTmpfs => "mount a tmpfs on",
            SetupStep::MountProc => "mount /proc on",
            SetupStep::MountDevpts => "mount a private devpts on",
            SetupStep::CreateDevLink => "create the /dev symlink",
            SetupStep::CopyHostFile => "copy the host file",
            SetupStep::LoopbackUp => "bring the loopback interface up",
            SetupStep::SetHostname => "set the hostname",
            SetupStep::PivotRoot => "pivot_root into",
            SetupStep::DetachOldRoot => "detach the old root",
            SetupStep::ChangeDirectory => "change directory to",
            SetupStep::RedirectStdio => "redirect standard input/output",
            SetupStep::DropCapabilities => "drop capabilities",
            SetupStep::NoNewPrivileges => "set PR_SET_NO_NEW_PRIVS",
            SetupStep::Execute => "execute",
            SetupStep::Seal => "seal PID 1 (not dumpable, own session)",
            SetupStep::SetLimit => "set the resource limit",
        };
        f.write_str(text)
    }
}

/// Why `unshare(CLONE_NEWUSER)` failed, with how to fix the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFix(pub String);

impl fmt::Display for HostFix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The kernel refused to create a user namespace for this user.
    #[error("cannot create a user namespace ({errno}); {fix}")]
    UserNamespacesUnavailable { errno: Errno, fix: HostFix },

    /// Another namespace (mount, PID, IPC, UTS, network) could not be created.
    #[error("cannot create the sandbox namespaces: {errno}")]
    Namespaces { errno: Errno },

    /// A setup step inside the sandbox failed.
    #[error("sandbox setup failed: could not {step} {detail}: {errno}")]
    Setup {
        step: SetupStep,
        detail: String,
        errno: Errno,
    },

    /// Writing `/proc/PID/{uid_map,gid_map,setgroups}` or running newuidmap failed.
    #[error("cannot map user ids into the sandbox: {what}")]
    IdMap {
        what: String,
        #[source]
        source: io::Error,
    },

    /// The builder was given something that cannot work.
    #[error("invalid sandbox configuration: {0}")]
    Config(String),

    /// A host-side operation (pipes, waiting, reading) failed.
    #[error("cannot {what}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },

    /// The sandbox's processes died before setup finished, without a message.
    #[error("the sandbox exited during setup without reporting why ({status})")]
    DiedDuringSetup { status: String },
}

impl SandboxError {
    pub(crate) fn io(what: impl Into<String>, source: impl Into<io::Error>) -> Self {
        SandboxError::Io {
            what: what.into(),
            source: source.into(),
        }
    }
}

pub type Result<T, E = SandboxError> = std::result::Result<T, E>;

/// Explain, from the host's sysctls, why user namespaces are refused.
pub(crate) fn userns_fix(errno: Errno) -> HostFix {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    let mut fixes = Vec::new();
    if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        fixes.push("enable them with `sysctl -w kernel.unprivileged_userns_clone=1`");
    }
    if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        fixes.push("allow some with `sysctl -w user.max_user_namespaces=15000`");
    }
    if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        fixes.push(
            "Ubuntu's AppArmor restricts them: `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` \
             (or add an AppArmor profile with `userns,` for this binary)",
        );
    }
    if errno == Errno::ENOSPC && fixes.is_empty() {
        fixes.push("the limit of user namespaces is reached: raise `user.max_user_namespaces`");
    }
    if fixes.is_empty() {
        fixes.push(
            "check `kernel.unprivileged_userns_clone`, `user.max_user_namespaces` and, on Ubuntu, \
             `kernel.apparmor_restrict_unprivileged_userns`; inside a container, the outer runtime must \
             allow nested user namespaces (seccomp/AppArmor)",
        );
    }
    HostFix(fixes.join("; "))
}
