//! Running planned jobs: inside the moss sandbox rooted at the isolation
//! directory, or directly for system triggers of the host's own root.

use std::fs;
use std::io;
use std::os::unix::fs::symlink;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use super::plan::{Action, Job};
use super::privs::Prepared;
use super::TriggerError;
use crate::sandbox::{Sandbox, Stdio, DEFAULT_PATH};

/// The environment of a handler.
const HANDLER_ENV: [(&str, &str); 2] = [("PATH", DEFAULT_PATH), ("LANG", "C.UTF-8")];

/// Hostname handlers see inside the sandbox.
pub const TRIGGER_HOSTNAME: &str = "moss-trigger";

/// Links every isolation root carries so `/bin/sh`, `/lib64/ld-…` resolve into `/usr`.
pub(crate) const COMPAT_LINKS: [(&str, &str); 5] = [
    ("bin", "usr/bin"),
    ("sbin", "usr/sbin"),
    ("lib", "usr/lib"),
    ("lib64", "usr/lib"),
    ("lib32", "usr/lib32"),
];

/// Where handlers run.
#[derive(Debug, Clone)]
pub enum Place {
    /// In a sandbox whose `/` is `isolation`, `/usr` is `usr` (writable) and
    /// `/etc` is `etc` (writable only when `etc_writable`).
    Contained {
        isolation: PathBuf,
        usr: PathBuf,
        etc: PathBuf,
        etc_writable: bool,
    },
    /// On the host, for system triggers when the root is `/`.
    Direct,
}

/// What one action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub trigger: String,
    pub handler: String,
    pub action: Action,
    /// Exit code (or 128 + signal).
    pub code: i32,
    /// Standard error then standard output, lossily decoded.
    pub output: String,
}

impl Ran {
    pub fn success(&self) -> bool {
        self.code == 0
    }
}

impl Place {
    /// Where a guest path of `/usr` or `/etc` lives on the host; other paths
    /// of the minimal root do not exist.
    pub fn host_path(&self, guest: &str) -> Option<PathBuf> {
        match self {
            Place::Direct => Some(PathBuf::from(guest)),
            Place::Contained { usr, etc, .. } => {
                let rel = guest.trim_start_matches('/');
                let (first, rest) = rel.split_once('/').unwrap_or((rel, ""));
                match first {
                    "usr" => Some(usr.join(rest)),
                    "etc" => Some(etc.join(rest)),
                    _ => None,
                }
            }
        }
    }

    /// Creates the isolation root (mount points and compatibility links).
    pub fn prepare(&self) -> Result<(), TriggerError> {
        let Place::Contained { isolation, etc, .. } = self else {
            return Ok(());
        };
        for dir in [isolation.join("usr"), isolation.join("etc"), etc.clone()] {
            fs::create_dir_all(&dir).map_err(|source| TriggerError::Io {
                op: "creating",
                path: dir.clone(),
                source,
            })?;
        }
        for (name, target) in COMPAT_LINKS {
            let link = isolation.join(name);
            if fs::symlink_metadata(&link).is_err() {
                symlink(target, &link).map_err(|source| TriggerError::Io {
                    op: "linking",
                    path: link.clone(),
                    source,
                })?;
            }
        }
        Ok(())
    }

    fn sandbox(&self) -> Option<Sandbox> {
        let Place::Contained {
            isolation,
            usr,
            etc,
            etc_writable,
        } = self
        else {
            return None;
        };
        let sandbox = Sandbox::new(isolation)
            .hostname(TRIGGER_HOSTNAME)
            .read_only_usr(false)
            .bind_rw(usr, "/usr");
        let sandbox = if *etc_writable {
            sandbox.bind_rw(etc, "/etc")
        } else {
            sandbox.bind_ro(etc, "/etc")
        };
        Some(
            sandbox
                .workdir("/")
                .env_clear()
                .env("PATH", DEFAULT_PATH)
                .env("LANG", "C.UTF-8"),
        )
    }

    /// Runs every action of `job`, in order; stops at the first failure
    /// when `stop_on_failure`.
    pub fn run(&self, job: &Job, stop_on_failure: bool) -> Result<Vec<Ran>, TriggerError> {
        let sandbox = self.sandbox();
        let mut out = Vec::new();
        for (handler, action) in &job.actions {
            let (status, output) = match (&sandbox, action) {
                (Some(sb), Action::Run(argv)) => {
                    let Some(command) = Prepared::new(argv, &HANDLER_ENV, DEFAULT_PATH) else {
                        let why = "an empty command or a NUL byte in it".to_string();
                        out.push(Ran {
                            trigger: job.trigger.clone(),
                            handler: handler.clone(),
                            action: action.clone(),
                            code: 127,
                            output: why,
                        });
                        if stop_on_failure {
                            break;
                        }
                        continue;
                    };
                    // Executed from a closure so that it runs without
                    // CAP_DAC_OVERRIDE (see `privs`).
                    let o = sb
                        .clone()
                        .stdin(Stdio::Null)
                        .stdout(Stdio::Piped)
                        .stderr(Stdio::Piped)
                        .spawn_fn(|| command.exec_without_dac_override())
                        .and_then(|child| child.wait_with_output())
                        .map_err(|source| TriggerError::Sandbox {
                            trigger: job.trigger.clone(),
                            source,
                        })?;
                    (o.status, joined(&o.stderr, &o.stdout))
                }
                (Some(sb), Action::Delete(paths)) => {
                    let status =
                        sb.run_fn(|| delete_all(paths).map_or(1, |()| 0))
                            .map_err(|source| TriggerError::Sandbox {
                                trigger: job.trigger.clone(),
                                source,
                            })?;
                    (status, String::new())
                }
                (None, Action::Run(argv)) => direct(argv, &job.trigger)?,
                (None, Action::Delete(paths)) => match delete_all(paths) {
                    Ok(()) => (ExitStatus::from_raw(0), String::new()),
                    Err(e) => (ExitStatus::from_raw(1 << 8), e.to_string()),
                },
            };
            let code = status
                .code()
                .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
            let ran = Ran {
                trigger: job.trigger.clone(),
                handler: handler.clone(),
                action: action.clone(),
                code,
                output,
            };
            let failed = !ran.success();
            out.push(ran);
            if failed && stop_on_failure {
                break;
            }
        }
        Ok(out)
    }
}

fn joined(stderr: &[u8], stdout: &[u8]) -> String {
    let mut s = String::from_utf8_lossy(stderr).into_owned();
    s.push_str(&String::from_utf8_lossy(stdout));
    s
}

fn direct(argv: &[String], trigger: &str) -> Result<(ExitStatus, String), TriggerError> {
    let Some((program, args)) = argv.split_first() else {
        return Ok((ExitStatus::from_raw(1 << 8), "empty command".into()));
    };
    let mut command = Command::new(program);
    // SAFETY: the hook makes raw system calls only (see `privs`).
    unsafe {
        command.pre_exec(super::privs::drop_dac_override);
    }
    let out = command
        .args(args)
        .current_dir("/")
        .env_clear()
        .env("PATH", DEFAULT_PATH)
        .env("LANG", "C.UTF-8")
        .output()
        .map_err(|source| TriggerError::Io {
            op: "running",
            path: PathBuf::from(format!("{program} (trigger {trigger})")),
            source,
        })?;
    Ok((out.status, joined(&out.stderr, &out.stdout)))
}

/// Deletes each path (a directory with its contents); absent paths are fine.
fn delete_all(paths: &[String]) -> io::Result<()> {
    for p in paths {
        let path = Path::new(p);
        let result = match fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(path),
            Ok(_) => fs::remove_file(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        };
        result?;
    }
    Ok(())
}
