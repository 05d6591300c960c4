//! Breakpoints: `%break_continue` / `%break_exit` pause a phase and hand the
//! terminal to an interactive bash inside the sandbox that has the script's
//! state; `--break-on-failure` does the same at a failing command. A small
//! console (`shell`, `continue`, `abort`, `env`, `where`, `script`) runs
//! around the shell.
//!
//! How the pieces meet:
//!
//! 1. each phase script defines [`bash_function`] in its prologue and calls
//!    `boulder_break continue|exit <recipe-line>` at each breakpoint;
//! 2. the host starts a [`Session`] for the phases one sandbox runs and
//!    passes that sandbox through [`Session::sandbox`] (a channel directory
//!    bound at [`GUEST_DIR`], two environment variables); each phase runs
//!    with [`ENV_PHASE`] naming its place in the session's list, which its
//!    pause requests carry;
//! 3. at a stop the script writes its state into the channel directory and
//!    waits; the session's listener thread talks to the user on the terminal
//!    and replies; the interactive bash runs as a child of the script on a
//!    pseudo-terminal of boulder's own ([`Relay`]: the sandbox's controlling
//!    terminal, relayed to the user's terminal in raw mode while the shell
//!    runs), with its own process group in the foreground;
//! 4. after the phases, [`Session::finish`] says whether a breakpoint stopped one.
//!
//! Without a terminal a breakpoint never waits: it is reported on stderr and
//! skipped, or (with [`Settings::strict`]) stops the phase.
//!
//! This module writes to the terminal and to stderr itself: it is the
//! interactive part of the library.

mod channel;
mod console;
mod error;
mod lines;
mod relay;
mod shell;
mod sync;
mod terminal;

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use moss_core::sandbox::Sandbox;
use nix::sys::signal::{SigSet, SigmaskHow, Signal};

use channel::{Channel, Event, Reply};
use terminal::Terminal;

pub use console::{history_file, COMMANDS, PROMPT};
pub use error::BreakError;
pub use lines::LineMap;
pub use relay::Relay;
pub use shell::{bash_function, ENV_PHASE, FAILURE_HOOK, GUEST_DIR, STOP_STATUS};
pub use sync::{OutputSync, SYNC_MARKER};

/// How breakpoints behave for a whole build.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Open the console at a failing command (`--break-on-failure`).
    pub on_failure: bool,
    /// Without a terminal, stop at a breakpoint instead of skipping it.
    pub strict: bool,
    /// The console's history file (see [`history_file`]).
    pub history: Option<PathBuf>,
    /// Where channel directories are made (e.g. the build directory).
    pub channel_parent: PathBuf,
}

/// The phase a session serves, for `where` and the messages.
#[derive(Debug, Clone, Default)]
pub struct PhaseInfo {
    /// The recipe file.
    pub recipe: PathBuf,
    /// The phase name (`setup`, `build`, ...).
    pub phase: String,
    /// Script lines to recipe lines, for failing commands.
    pub lines: LineMap,
}

/// Why a phase ended at a breakpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// `%break_exit` was reached (after its shell).
    BreakExit,
    /// The user typed `abort` at the console.
    Aborted,
    /// A breakpoint was reached without a terminal, under [`Settings::strict`].
    NoTerminal,
}

/// A phase stopped at a breakpoint: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    pub reason: StopReason,
    pub recipe: PathBuf,
    pub phase: String,
    /// The recipe line (0 when unknown).
    pub line: u32,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = format!(
            "line {} of {} (phase {})",
            self.line,
            self.recipe.display(),
            self.phase
        );
        match self.reason {
            StopReason::BreakExit => write!(f, "stopped at the %break_exit on {at}"),
            StopReason::Aborted => write!(f, "aborted at the console on {at}"),
            StopReason::NoTerminal => write!(
                f,
                "the breakpoint on {at} was reached without a terminal (strict breakpoints)"
            ),
        }
    }
}

/// The breakpoint machinery of the phases one sandbox runs; see the module docs.
#[derive(Debug)]
pub struct Session {
    dir: PathBuf,
    console: bool,
    on_failure: bool,
    stopper: File,
    listener: Option<JoinHandle<Result<Option<Stop>, BreakError>>>,
    relay: Option<Arc<Relay>>,
    output: OutputSync,
}

impl Session {
    /// [`Session::start_phases`] for a single phase.
    pub fn start(settings: &Settings, phase: PhaseInfo) -> Result<Session, BreakError> {
        Session::start_phases(settings, vec![phase])
    }

    /// Make the channel and start listening for `phases` (in the order of
    /// their [`ENV_PHASE`] numbers). Whether a console is possible (a
    /// terminal is there) is decided now.
    pub fn start_phases(
        settings: &Settings,
        mut phases: Vec<PhaseInfo>,
    ) -> Result<Session, BreakError> {
        if phases.is_empty() {
            phases.push(PhaseInfo::default());
        }
        let channel = Channel::create(&settings.channel_parent)?;
        let dir = channel.dir().to_path_buf();
        let stopper = channel.stopper()?;
        let tty = Terminal::detect();
        // The sandbox gets a pty of boulder's own, never the user's terminal.
        let relay = tty
            .as_ref()
            .and_then(|tty| Relay::start(tty.file()).ok())
            .map(Arc::new);
        let tty = tty.filter(|_| relay.is_some());
        let console = tty.is_some();
        let output = OutputSync::default();
        let listener = Listener {
            channel,
            tty,
            relay: relay.clone(),
            output: output.clone(),
            markers: 0,
            strict: settings.strict,
            history: settings.history.clone(),
            phases,
            current: 0,
            stop: None,
        };
        let listener = std::thread::Builder::new()
            .name("breakpoints".into())
            .spawn(move || listener.run())
            .map_err(|e| BreakError::Io {
                what: "start the breakpoint listener".into(),
                source: e,
            })?;
        Ok(Session {
            dir,
            console,
            on_failure: settings.on_failure,
            stopper,
            listener: Some(listener),
            relay,
            output,
        })
    }

    /// What the phase's output reader calls on each [`SYNC_MARKER`] line.
    pub fn output_sync(&self) -> &OutputSync {
        &self.output
    }

    /// Whether a terminal is there for shells and the console.
    pub fn interactive(&self) -> bool {
        self.console
    }

    /// The host side of the channel directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `sandbox` with the channel bound in and announced to the script. Call
    /// it after `env_clear`, which would drop the variables.
    pub fn sandbox(&self, sandbox: Sandbox) -> Sandbox {
        let mut sandbox = sandbox
            .bind_rw(&self.dir, GUEST_DIR)
            .env(shell::ENV_DIR, GUEST_DIR);
        let terminal = self.relay.as_ref().and_then(|relay| relay.slave().ok());
        let console = self.console && terminal.is_some();
        if let Some(terminal) = terminal {
            sandbox = sandbox.controlling_terminal(terminal);
        }
        match (console, self.on_failure) {
            (false, _) => sandbox,
            (true, false) => sandbox.env(shell::ENV_SHELL, "1"),
            (true, true) => sandbox
                .env(shell::ENV_SHELL, "1")
                .env(shell::ENV_ON_FAILURE, "1"),
        }
    }

    /// After the phase: stop listening; `Some` when a breakpoint stopped it.
    pub fn finish(mut self) -> Result<Option<Stop>, BreakError> {
        channel::send_stop(&self.stopper)?;
        match self.listener.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(BreakError::Internal),
            None => Ok(None),
        }
    }
}

impl Drop for Session {
    /// A session dropped without `finish` still ends its listener.
    fn drop(&mut self) {
        if self.listener.is_some() {
            let _ = channel::send_stop(&self.stopper);
        }
    }
}

/// The listener thread's state.
struct Listener {
    channel: Channel,
    tty: Option<Terminal>,
    relay: Option<Arc<Relay>>,
    /// Markers on the phase's output, and how many pauses expected one.
    output: OutputSync,
    markers: u64,
    strict: bool,
    history: Option<PathBuf>,
    phases: Vec<PhaseInfo>,
    /// The phase of the current pause.
    current: usize,
    stop: Option<Stop>,
}

/// What the script is paused at.
struct Pause {
    kind: PauseKind,
    recipe_line: Option<u32>,
    script_line: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PauseKind {
    Break { exit: bool },
    Failed { status: i32 },
}

impl Listener {
    fn run(mut self) -> Result<Option<Stop>, BreakError> {
        block_terminating_signals();
        loop {
            let pause = match self.channel.next()? {
                Event::Stop => return Ok(self.stop),
                Event::ShellDone { .. } => continue,
                Event::Break {
                    exit,
                    recipe_line,
                    script_line,
                    phase,
                } => {
                    self.current = phase;
                    Pause {
                        kind: PauseKind::Break { exit },
                        recipe_line: Some(recipe_line),
                        script_line,
                    }
                }
                Event::Failed {
                    status,
                    script_line,
                    phase,
                } => {
                    self.current = phase;
                    Pause {
                        kind: PauseKind::Failed { status },
                        recipe_line: self.phase().lines.recipe_line(script_line),
                        script_line,
                    }
                }
            };
            // The lines the script printed before pausing are shown first.
            self.markers = self.output.wait_until(self.markers + 1);
            // Whatever happens, the script gets an answer: it must not wait
            // for a listener that is gone.
            let reply = match self.serve(&pause) {
                Ok(Some(reply)) => reply,
                Ok(None) => return Ok(self.stop),
                Err(e) => {
                    let _ = self.channel.reply(&Reply::Exit(STOP_STATUS));
                    return Err(e);
                }
            };
            self.channel.reply(&reply)?;
        }
    }

    /// The phase of the current pause (the last one for a number out of
    /// range: the script's environment is the build's to change).
    fn phase(&self) -> &PhaseInfo {
        // Never empty: `start_phases` sees to it.
        &self.phases[self.current.min(self.phases.len().saturating_sub(1))]
    }

    /// Handle one pause; `None` when the phase ended meanwhile.
    fn serve(&mut self, pause: &Pause) -> Result<Option<Reply>, BreakError> {
        let Some(tty) = self.tty.as_ref().filter(|tty| tty.in_foreground()) else {
            return Ok(Some(self.without_terminal(pause)));
        };
        tty.say(&format!("boulder: {}", self.describe(pause)));
        let mut shell_first = matches!(pause.kind, PauseKind::Break { .. });
        loop {
            if shell_first {
                if !self.shell(pause)? {
                    return Ok(None);
                }
                if let PauseKind::Break { exit: true } = pause.kind {
                    self.stop = Some(self.stop_at(StopReason::BreakExit, pause));
                    let tty = self.tty.as_ref().ok_or(BreakError::Internal)?;
                    tty.say("boulder: %break_exit: stopping the build");
                    return Ok(Some(Reply::Exit(STOP_STATUS)));
                }
            }
            let tty = self.tty.as_ref().ok_or(BreakError::Internal)?;
            let facts = StopFacts {
                listener: self,
                pause,
            };
            match console::ask(tty, self.history.as_deref(), &facts)? {
                console::Choice::Shell => shell_first = true,
                console::Choice::Continue => {
                    return Ok(Some(match pause.kind {
                        PauseKind::Break { .. } => Reply::Continue,
                        PauseKind::Failed { status } => Reply::Exit(status),
                    }))
                }
                console::Choice::Abort => {
                    return Ok(Some(match pause.kind {
                        PauseKind::Break { .. } => {
                            self.stop = Some(self.stop_at(StopReason::Aborted, pause));
                            Reply::Exit(STOP_STATUS)
                        }
                        // The phase fails as it would have; the usual failure report follows.
                        PauseKind::Failed { status } => Reply::Exit(status),
                    }));
                }
            }
        }
    }

    /// Run the interactive shell and wait for it; `false` when the phase
    /// ended instead.
    fn shell(&mut self, _pause: &Pause) -> Result<bool, BreakError> {
        let tty = self.tty.as_ref().ok_or(BreakError::Internal)?;
        let relay = self.relay.clone().ok_or(BreakError::Internal)?;
        relay.attach();
        let done = self
            .channel
            .reply(&Reply::Shell(tty.term.clone()))
            .and_then(|()| loop {
                match self.channel.next()? {
                    Event::ShellDone { .. } => break Ok(true),
                    Event::Stop => break Ok(false),
                    _ => continue,
                }
            });
        relay.detach();
        tty.reclaim();
        done
    }

    fn without_terminal(&mut self, pause: &Pause) -> Reply {
        match pause.kind {
            PauseKind::Failed { status } => Reply::Exit(status),
            PauseKind::Break { .. } if self.strict => {
                eprintln!(
                    "boulder: {}: no terminal, stopping (strict breakpoints)",
                    self.describe(pause)
                );
                self.stop = Some(self.stop_at(StopReason::NoTerminal, pause));
                Reply::Exit(STOP_STATUS)
            }
            PauseKind::Break { .. } => {
                eprintln!("boulder: {}: no terminal, skipped", self.describe(pause));
                Reply::Continue
            }
        }
    }

    fn stop_at(&self, reason: StopReason, pause: &Pause) -> Stop {
        Stop {
            reason,
            recipe: self.phase().recipe.clone(),
            phase: self.phase().phase.clone(),
            line: pause.recipe_line.unwrap_or(0),
        }
    }

    fn describe(&self, pause: &Pause) -> String {
        let at = self.place(pause);
        match pause.kind {
            PauseKind::Break { exit } => {
                format!("%break_{} at {at}", if exit { "exit" } else { "continue" })
            }
            PauseKind::Failed { status } => {
                let command = self.channel.read("command");
                format!(
                    "`{}` failed with status {status} at {at}",
                    command.trim_end()
                )
            }
        }
    }

    fn place(&self, pause: &Pause) -> String {
        let info = self.phase();
        let phase = &info.phase;
        match pause.recipe_line {
            Some(line) => format!("{}:{line} (phase {phase})", info.recipe.display()),
            None => format!(
                "{} (phase {phase}, script line {})",
                info.recipe.display(),
                pause.script_line
            ),
        }
    }
}

/// What `env`, `where` and `script` show at a pause.
struct StopFacts<'a> {
    listener: &'a Listener,
    pause: &'a Pause,
}

impl console::Facts for StopFacts<'_> {
    fn env(&self) -> String {
        let env = self.listener.channel.read("env");
        let mut lines: Vec<&str> = env.lines().collect();
        lines.sort_unstable();
        lines.join("\n")
    }

    fn location(&self) -> String {
        let mut text = self.listener.describe(self.pause);
        let source = std::fs::read_to_string(&self.listener.phase().recipe).ok();
        let line = self.pause.recipe_line.and_then(|n| {
            let text = source.as_deref()?.lines().nth(n.checked_sub(1)? as usize)?;
            Some((n, text.to_owned()))
        });
        if let Some((n, source_line)) = line {
            text.push_str(&format!("\n  {n:>4} | {source_line}"));
        }
        text
    }

    fn next_lines(&self) -> String {
        let script = self.listener.channel.read("script");
        if script.is_empty() {
            return "(the phase script is not available)".into();
        }
        // At a breakpoint the call itself is done; at a failure the failing
        // command is the one that would run again.
        let first = match self.pause.kind {
            PauseKind::Break { .. } => self.pause.script_line + 1,
            PauseKind::Failed { .. } => self.pause.script_line,
        };
        let next: Vec<String> = script
            .lines()
            .enumerate()
            .skip(first.saturating_sub(1) as usize)
            .take(12)
            .map(|(i, line)| format!("  {:>4} | {line}", i + 1))
            .collect();
        if next.is_empty() {
            "(nothing: the phase ends here)".into()
        } else {
            next.join("\n")
        }
    }
}

/// The listener must not take the signals meant for the sandbox (or end
/// boulder on them); the thread that waits for the sandbox forwards them.
fn block_terminating_signals() {
    let mut set = SigSet::empty();
    for signal in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
    ] {
        set.add(signal);
    }
    let _ = set.thread_swap_mask(SigmaskHow::SIG_BLOCK);
}
