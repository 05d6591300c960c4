//! How the command line speaks: how much (`-q`, `-v`), in colour or not
//! (`NO_COLOR`, whether the stream is a terminal), and what happens when the
//! reader goes away (`boulder build | head`).

use std::io::IsTerminal;
use std::sync::OnceLock;

/// How much the command prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Verbosity {
    /// Warnings, errors and the summary.
    Quiet,
    /// Steps, phase headers and the recipe's own commands with their output.
    #[default]
    Normal,
    /// Everything, the traced phase prologue included.
    Verbose,
}

static VERBOSITY: OnceLock<Verbosity> = OnceLock::new();

/// Sets the verbosity for the rest of the process (the first call wins).
pub fn set_verbosity(verbosity: Verbosity) {
    let _ = VERBOSITY.set(verbosity);
}

/// The verbosity the command line asked for.
pub fn verbosity() -> Verbosity {
    VERBOSITY.get().copied().unwrap_or_default()
}

/// Whether text for stdout may carry colour: a terminal, `NO_COLOR` unset
/// or empty (<https://no-color.org>), and a terminal that is not `dumb`.
pub fn stdout_colour() -> bool {
    colour_allowed(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
    )
}

fn colour_allowed(
    terminal: bool,
    no_colour: Option<&std::ffi::OsStr>,
    term: Option<&std::ffi::OsStr>,
) -> bool {
    terminal && no_colour.is_none_or(|v| v.is_empty()) && term.is_none_or(|t| t != "dumb")
}

/// A closed output stream ends the process the conventional way, by
/// SIGPIPE (status 141 in a shell), instead of a panic in the middle of a
/// line: Rust ignores SIGPIPE unless told otherwise. Every program boulder
/// starts gets its signals reset anyway.
pub fn die_on_closed_output() {
    // SAFETY: installing the default action runs no handler code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(test)]
mod tests {
    use super::colour_allowed;
    use std::ffi::OsStr;

    #[test]
    fn colour_needs_a_terminal_and_no_no_color() {
        assert!(colour_allowed(true, None, Some(OsStr::new("xterm"))));
        assert!(colour_allowed(true, Some(OsStr::new("")), None));
        assert!(!colour_allowed(true, Some(OsStr::new("1")), None));
        assert!(!colour_allowed(false, None, None));
        assert!(!colour_allowed(true, None, Some(OsStr::new("dumb"))));
    }
}
