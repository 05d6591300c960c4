//! The build log: every phase line with its tag, written to a file and
//! handed to the caller's reporter as it arrives.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use crate::recipe::Phase;

/// What the build tells its caller while it runs. The library never prints;
/// the CLI renders these.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A step starts (`Fetching upstreams`, `Preparing the build root`, …).
    Step(&'a str),
    /// The upstreams are being unpacked into the build directories (it
    /// lasts until the next event; large archives take a while).
    Unpacking { upstreams: usize, targets: usize },
    /// A phase starts.
    Phase {
        target: &'a str,
        phase: Phase,
        /// The recipe line of the phase.
        line: usize,
    },
    /// One line of a phase's output.
    Output { phase: Phase, line: &'a str },
    /// Something the user should know that does not stop the build.
    Warning(&'a str),
    /// A file was written (stone, manifest).
    Wrote { path: &'a Path, size: u64 },
}

/// `line` as it may be shown on a terminal: control characters other than
/// tab (escape sequences that could drive the terminal, carriage returns
/// that hide text) become `^X` / `\u{..}` notation.
pub fn printable(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.chars().any(|c| c.is_control() && c != '\t') {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + 8);
    for c in line.chars() {
        match c {
            '\t' => out.push(c),
            c if (c as u32) < 0x20 => {
                out.push('^');
                out.push(char::from(b'@' + c as u8));
            }
            '\u{7f}' => out.push_str("^?"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The caller's handler for [`Event`]s; called from several threads.
pub type Reporter<'r> = &'r (dyn Fn(Event<'_>) + Sync);

/// A reporter that drops everything.
pub fn quiet(_: Event<'_>) {}

/// The log file of one build.
pub struct BuildLog {
    path: PathBuf,
    file: Mutex<Option<BufWriter<File>>>,
}

impl BuildLog {
    /// Creates (truncates) the log at `path`. A log that cannot be written
    /// does not stop the build: lines are then only reported.
    pub fn create(path: &Path) -> Self {
        let file = File::create(path).ok().map(BufWriter::new);
        Self {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `line` with `tag`.
    pub fn line(&self, tag: &str, line: &str) {
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(file) = guard.as_mut() {
            let _ = writeln!(file, "[{tag}] {line}");
        }
    }

    pub fn flush(&self) {
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(file) = guard.as_mut() {
            let _ = file.flush();
        }
    }
}

/// Named durations, in the order they happened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timings {
    pub entries: Vec<(String, Duration)>,
}

impl Timings {
    pub fn add(&mut self, name: impl Into<String>, elapsed: Duration) {
        self.entries.push((name.into(), elapsed));
    }

    pub fn total(&self) -> Duration {
        self.entries.iter().map(|(_, d)| *d).sum()
    }

    /// The duration of the entry called `name`, if any.
    pub fn get(&self, name: &str) -> Option<Duration> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| *d)
    }

    /// A plain-text table: one line per step, then the total.
    pub fn table(&self) -> String {
        let width = self
            .entries
            .iter()
            .map(|(n, _)| n.chars().count())
            .max()
            .unwrap_or(0)
            .max(5);
        let total = self.total();
        let mut out = String::new();
        for (name, elapsed) in &self.entries {
            let share = if total.is_zero() {
                0.0
            } else {
                elapsed.as_secs_f64() * 100.0 / total.as_secs_f64()
            };
            out.push_str(&format!(
                "{name:<width$}  {:>10}  {share:>5.1}%\n",
                format_duration(*elapsed)
            ));
        }
        out.push_str(&format!(
            "{:<width$}  {:>10}\n",
            "total",
            format_duration(total)
        ));
        out
    }
}

/// `1.234 s` or `56.7 ms`.
pub fn format_duration(d: Duration) -> String {
    if d.as_secs() >= 1 {
        format!("{:.3} s", d.as_secs_f64())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_every_step_and_the_total() {
        let mut timings = Timings::default();
        timings.add("validate", Duration::from_millis(2));
        timings.add("phase build", Duration::from_millis(1500));
        let table = timings.table();
        assert!(table.contains("validate"), "{table}");
        assert!(table.contains("1.500 s"), "{table}");
        assert!(table.lines().last().unwrap().starts_with("total"));
        assert!(table.lines().last().unwrap().contains("1.502 s"));
    }
}

#[cfg(test)]
mod printable_tests {
    use super::printable;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(printable("plain\ttext é"), "plain\ttext é");
        assert_eq!(
            printable("\x1b]0;title\x07red\x1b[31m"),
            "^[]0;title^Gred^[[31m"
        );
        assert_eq!(printable("hidden\rshown"), "hidden^Mshown");
        assert_eq!(printable("del\x7f c1\u{9b}"), "del^? c1\\u{9b}");
    }
}
