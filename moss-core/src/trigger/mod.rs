//! Triggers: commands packages ask to run when the tree changes (rebuild a
//! cache, run `depmod` for each kernel, …), in the original moss's YAML
//! format.
//!
//! A trigger file names handlers and path patterns; every path of the new
//! tree is matched against every pattern (honouring its `type` filter), the
//! captures of each hit are substituted into the handlers, and each distinct
//! resulting command runs once. Triggers are ordered by `before`/`after` and
//! skipped when an inhibitor applies.
//!
//! * **Transaction** triggers (`usr/share/moss/triggers/tx.yaml`, `tx.d/*.yaml`)
//!   run in the sandbox over the staging tree before it goes live, with the
//!   root's `/etc` read-only; one failing aborts the transaction.
//! * **System** triggers (`sys.yaml`, `sys.d/*.yaml`) run after the swap over
//!   the live tree: sandboxed with a writable `/etc` when the root is not `/`,
//!   directly otherwise; failures are reported, not fatal (the new state is
//!   already live).
//!
//! The book chapter `book/src/triggers.md` shows the format and the sandbox layout.

mod exec;
pub(crate) use exec::COMPAT_LINKS;
mod format;
mod pattern;
mod plan;
mod privs;

use std::io;
use std::path::{Path, PathBuf};

pub use exec::{Place, Ran, TRIGGER_HOSTNAME};
pub use format::{Handler, Inhibitors, PathRule, PathType, Trigger};
pub use pattern::{substitute, Captures, Pattern};
pub use plan::{
    inhibited, load, order, paths_of, plan, tree_paths, Action, Environment, Job, TreePath,
};

use crate::sandbox::SandboxError;

/// Which trigger files run, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Transaction,
    System,
}

impl Scope {
    /// File stem under `usr/share/moss/triggers`.
    pub fn stem(self) -> &'static str {
        match self {
            Scope::Transaction => "tx",
            Scope::System => "sys",
        }
    }
}

/// Errors of loading and running triggers.
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    #[error("{path}: not a valid trigger file")]
    Parse {
        path: PathBuf,
        source: crate::yaml::Error,
    },
    #[error("{path}: {why}")]
    Invalid { path: PathBuf, why: String },
    #[error("trigger pattern {pattern:?}: {why}")]
    Pattern { pattern: String, why: String },
    #[error("triggers order each other in a cycle: {0}")]
    Cycle(String),
    #[error("{op} {path} failed")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("trigger {trigger} could not run in its sandbox")]
    Sandbox {
        trigger: String,
        source: SandboxError,
    },
    #[error("transaction trigger {trigger} failed: handler {handler} ({command}) exited with {code}{}", tail(.output))]
    Failed {
        trigger: String,
        handler: String,
        command: String,
        code: i32,
        output: String,
    },
}

/// The last lines of a handler's output, for an error message.
fn tail(output: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines.len().saturating_sub(10);
    if lines.is_empty() {
        String::new()
    } else {
        format!(":\n{}", lines[start..].join("\n"))
    }
}

/// What running the triggers of one scope did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Every action run, in order.
    pub ran: Vec<Ran>,
    /// `(trigger, reason)` for each matched trigger an inhibitor skipped.
    pub inhibited: Vec<(String, String)>,
    /// Non-fatal problems (failed system triggers, skipped KDL files).
    pub warnings: Vec<String>,
}

impl Outcome {
    /// Human-readable lines for a command's output (nothing when no
    /// trigger matched).
    pub fn report_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.ran.is_empty() {
            // `trigger/handler ×count`, in the order they first ran.
            let mut counts: Vec<(String, usize)> = Vec::new();
            for r in &self.ran {
                let name = format!("{}/{}", r.trigger, r.handler);
                match counts.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, c)) => *c += 1,
                    None => counts.push((name, 1)),
                }
            }
            let names: Vec<String> = counts.iter().map(|(n, c)| format!("{n} ×{c}")).collect();
            lines.push(format!(
                "{} trigger handler run(s): {}",
                self.ran.len(),
                names.join(", ")
            ));
        }
        for (trigger, why) in &self.inhibited {
            lines.push(format!("trigger {trigger} inhibited: {why}"));
        }
        lines.extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        lines
    }

    /// Appends another scope's outcome.
    pub fn extend(&mut self, other: Outcome) {
        self.ran.extend(other.ran);
        self.inhibited.extend(other.inhibited);
        self.warnings.extend(other.warnings);
    }
}

fn describe(action: &Action) -> String {
    match action {
        Action::Run(argv) => argv.join(" "),
        Action::Delete(paths) => format!("delete {}", paths.join(" ")),
    }
}

/// Runs the triggers of `scope` found in the tree `usr` of the installation
/// at `root`; `isolation` is the (possibly empty) directory used as the
/// sandbox's root. Nothing is started when no trigger matches.
pub fn run(
    scope: Scope,
    root: &Path,
    usr: &Path,
    isolation: &Path,
) -> Result<Outcome, TriggerError> {
    run_with(scope, root, usr, isolation, || tree_paths(usr))
}

/// [`run`] for a `usr` that holds exactly `tree` (just staged from it):
/// the paths are taken from the tree in memory instead of walking the disk.
pub fn run_for_tree(
    scope: Scope,
    root: &Path,
    usr: &Path,
    isolation: &Path,
    tree: &crate::tree::Tree,
) -> Result<Outcome, TriggerError> {
    run_with(scope, root, usr, isolation, || Ok(plan::paths_of(tree)))
}

fn run_with(
    scope: Scope,
    root: &Path,
    usr: &Path,
    isolation: &Path,
    paths: impl FnOnce() -> Result<Vec<TreePath>, TriggerError>,
) -> Result<Outcome, TriggerError> {
    let (triggers, warnings) = load(usr, scope)?;
    let mut outcome = Outcome {
        warnings,
        ..Outcome::default()
    };
    if triggers.is_empty() {
        return Ok(outcome);
    }
    let jobs = plan(&triggers, &paths()?)?;
    if jobs.is_empty() {
        return Ok(outcome);
    }
    let host_root = std::fs::canonicalize(root).is_ok_and(|r| r == Path::new("/"));
    let place = if scope == Scope::System && host_root {
        Place::Direct
    } else {
        Place::Contained {
            isolation: isolation.to_path_buf(),
            usr: usr.to_path_buf(),
            etc: root.join("etc"),
            etc_writable: scope == Scope::System,
        }
    };
    let env = Environment::detect(root);
    let mut prepared = false;
    for job in jobs {
        // Jobs are made from these triggers, so the lookup always succeeds.
        let Some(trigger) = triggers.iter().find(|t| t.name == job.trigger) else {
            continue;
        };
        let exists = |guest: &str| {
            place
                .host_path(guest)
                .is_some_and(|p| p.symlink_metadata().is_ok())
        };
        if let Some(reason) = inhibited(trigger, &env, &exists) {
            outcome.inhibited.push((job.trigger.clone(), reason));
            continue;
        }
        if !prepared {
            place.prepare()?;
            prepared = true;
        }
        let fatal = scope == Scope::Transaction;
        for ran in place.run(&job, fatal)? {
            if !ran.success() {
                if fatal {
                    return Err(TriggerError::Failed {
                        trigger: ran.trigger,
                        handler: ran.handler,
                        command: describe(&ran.action),
                        code: ran.code,
                        output: ran.output,
                    });
                }
                outcome.warnings.push(format!(
                    "system trigger {} failed: handler {} ({}) exited with {}{}",
                    ran.trigger,
                    ran.handler,
                    describe(&ran.action),
                    ran.code,
                    tail(&ran.output)
                ));
            }
            outcome.ran.push(ran);
        }
    }
    Ok(outcome)
}
