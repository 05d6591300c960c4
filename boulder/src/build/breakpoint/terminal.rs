//! The controlling terminal: whether boulder has one (breakpoints need it),
//! and taking the foreground back after the sandboxed shell had it.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::os::fd::AsFd;

use nix::sys::signal::{SigSet, SigmaskHow, Signal};

/// boulder's controlling terminal, opened as `/dev/tty`.
#[derive(Debug)]
pub(crate) struct Terminal {
    tty: File,
    /// `TERM` for the interactive shell.
    pub(crate) term: String,
}

impl Terminal {
    /// The terminal, when boulder runs interactively: stdin is a terminal and
    /// the process has a controlling terminal. CI jobs and pipes have neither.
    pub(crate) fn detect() -> Option<Terminal> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        let tty = File::options()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .ok()?;
        let term = std::env::var("TERM")
            .ok()
            .filter(|t| !t.is_empty() && !t.contains(char::is_whitespace))
            .unwrap_or_else(|| "xterm-256color".into());
        Some(Terminal { tty, term })
    }

    /// The terminal itself.
    pub(crate) fn file(&self) -> &File {
        &self.tty
    }

    /// Make boulder's process group the terminal's foreground group again.
    /// The shell in the sandbox took it for its own jobs and cannot hand it
    /// back (boulder's group is invisible in its PID namespace).
    pub(crate) fn reclaim(&self) {
        // From a background group, tcsetpgrp raises SIGTTOU unless blocked.
        let mut ttou = SigSet::empty();
        ttou.add(Signal::SIGTTOU);
        let old = ttou.thread_swap_mask(SigmaskHow::SIG_BLOCK).ok();
        let _ = nix::unistd::tcsetpgrp(self.tty.as_fd(), nix::unistd::getpgrp());
        if let Some(old) = old {
            let _ = old.thread_set_mask();
        }
    }

    /// Whether boulder's process group has the terminal's foreground. A
    /// boulder started in the background must not take the terminal from
    /// the user's shell.
    pub(crate) fn in_foreground(&self) -> bool {
        nix::unistd::tcgetpgrp(self.tty.as_fd()).ok() == Some(nix::unistd::getpgrp())
    }

    /// Write a line on the terminal (not stdout: it may be a log pipe).
    pub(crate) fn say(&self, text: &str) {
        let mut tty = &self.tty;
        let _ = writeln!(tty, "{text}");
    }
}
