//! The host end of the channel directory shared with the sandbox: two fifos
//! (`to-host`, `to-script`) carrying one line per message, plus the files the
//! script writes at a stop (`state.bash`, `env`, `script`, `command`).
//!
//! The host opens both fifos read-write: its opens never block, the script's
//! opens never block either (there is always a peer), and a line written
//! before the other side reads it waits in the pipe.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use nix::sys::stat::Mode;

use super::error::BreakError;

/// A message from the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// `boulder_break <kind> <recipe line>` was called at `script_line` of
    /// the session's `phase`-th phase.
    Break {
        exit: bool,
        recipe_line: u32,
        script_line: u32,
        phase: usize,
    },
    /// The ERR trap caught a failing command.
    Failed {
        status: i32,
        script_line: u32,
        phase: usize,
    },
    /// The interactive shell ended with `status`.
    ShellDone { status: i32 },
    /// The host asked the listener to stop (the phase is over).
    Stop,
}

impl Event {
    pub(crate) fn parse(line: &str) -> Option<Event> {
        let mut words = line.split_whitespace();
        let number = |w: Option<&str>| w.and_then(|w| w.parse::<i64>().ok());
        let event = match words.next()? {
            "break" => {
                let exit = match words.next()? {
                    "exit" => true,
                    "continue" => false,
                    _ => return None,
                };
                Event::Break {
                    exit,
                    recipe_line: number(words.next())?.try_into().ok()?,
                    script_line: number(words.next()).unwrap_or(0).try_into().ok()?,
                    phase: number(words.next()).unwrap_or(0).try_into().ok()?,
                }
            }
            "failed" => Event::Failed {
                status: number(words.next())?.try_into().ok()?,
                script_line: number(words.next()).unwrap_or(0).try_into().ok()?,
                phase: number(words.next()).unwrap_or(0).try_into().ok()?,
            },
            "shell-done" => Event::ShellDone {
                status: number(words.next())?.try_into().ok()?,
            },
            "stop" => Event::Stop,
            _ => return None,
        };
        Some(event)
    }
}

/// A reply to the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// Start the interactive shell with this `TERM`.
    Shell(String),
    Continue,
    Exit(i32),
}

impl Reply {
    fn line(&self) -> String {
        match self {
            Reply::Shell(term) => format!("shell {term}\n"),
            Reply::Continue => "continue\n".into(),
            Reply::Exit(status) => format!("exit {status}\n"),
        }
    }
}

/// The channel directory and the host's ends of its fifos.
#[derive(Debug)]
pub(crate) struct Channel {
    dir: tempfile::TempDir,
    to_host: BufReader<File>,
    to_host_writer: File,
    to_script: File,
}

impl Channel {
    /// A fresh channel directory under `parent`.
    pub(crate) fn create(parent: &Path) -> Result<Channel, BreakError> {
        let io = |what: &str, path: &Path, e: std::io::Error| BreakError::Io {
            what: format!("{what} {}", path.display()),
            source: e,
        };
        std::fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
        let dir = tempfile::Builder::new()
            .prefix("break-")
            .tempdir_in(parent)
            .map_err(|e| io("create a directory in", parent, e))?;
        let mut ends = Vec::new();
        for name in ["to-host", "to-script"] {
            let path = dir.path().join(name);
            nix::unistd::mkfifo(&path, Mode::from_bits_truncate(0o600)).map_err(|e| {
                io(
                    "create the fifo",
                    &path,
                    std::io::Error::from_raw_os_error(e as i32),
                )
            })?;
            let file = File::options()
                .read(true)
                .write(true)
                .open(&path)
                .map_err(|e| io("open", &path, e))?;
            ends.push(file);
        }
        let to_script = ends.pop().ok_or(BreakError::Internal)?;
        let to_host = ends.pop().ok_or(BreakError::Internal)?;
        let to_host_writer = to_host
            .try_clone()
            .map_err(|e| io("duplicate", dir.path(), e))?;
        Ok(Channel {
            dir,
            to_host: BufReader::new(to_host),
            to_host_writer,
            to_script,
        })
    }

    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A handle that can ask the listener to stop.
    pub(crate) fn stopper(&self) -> Result<File, BreakError> {
        self.to_host_writer.try_clone().map_err(|e| BreakError::Io {
            what: "duplicate the channel".into(),
            source: e,
        })
    }

    /// The next message from the script (unknown lines are skipped).
    pub(crate) fn next(&mut self) -> Result<Event, BreakError> {
        loop {
            let mut line = String::new();
            let n = self
                .to_host
                .read_line(&mut line)
                .map_err(|e| BreakError::Io {
                    what: "read the breakpoint channel".into(),
                    source: e,
                })?;
            if n == 0 {
                return Ok(Event::Stop);
            }
            if let Some(event) = Event::parse(&line) {
                return Ok(event);
            }
        }
    }

    pub(crate) fn reply(&mut self, reply: &Reply) -> Result<(), BreakError> {
        self.to_script
            .write_all(reply.line().as_bytes())
            .map_err(|e| BreakError::Io {
                what: "write to the breakpoint channel".into(),
                source: e,
            })
    }

    /// A file the script wrote at the current stop ("" when missing). Only a
    /// regular file directly in the channel directory is read: the script
    /// could have put a symlink to a host file or a fifo there.
    pub(crate) fn read(&self, name: &str) -> String {
        crate::build::beneath::Beneath::open(self.dir.path())
            .and_then(|dir| dir.read_file(name))
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    }

    #[cfg(test)]
    pub(crate) fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }
}

/// Ask a listener to stop, through a handle from [`Channel::stopper`].
pub(crate) fn send_stop(mut stopper: &File) -> Result<(), BreakError> {
    stopper.write_all(b"stop\n").map_err(|e| BreakError::Io {
        what: "write to the breakpoint channel".into(),
        source: e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_parse() {
        assert_eq!(
            Event::parse("break exit 12 40\n"),
            Some(Event::Break {
                exit: true,
                recipe_line: 12,
                script_line: 40,
                phase: 0
            })
        );
        assert_eq!(
            Event::parse("break continue 12 40 3\n"),
            Some(Event::Break {
                exit: false,
                recipe_line: 12,
                script_line: 40,
                phase: 3
            })
        );
        assert_eq!(
            Event::parse("failed 2 33"),
            Some(Event::Failed {
                status: 2,
                script_line: 33,
                phase: 0
            })
        );
        assert_eq!(
            Event::parse("failed 2 33 1"),
            Some(Event::Failed {
                status: 2,
                script_line: 33,
                phase: 1
            })
        );
        assert_eq!(Event::parse("failed 2 33 -1"), None);
        assert_eq!(
            Event::parse("shell-done 130"),
            Some(Event::ShellDone { status: 130 })
        );
        assert_eq!(Event::parse("break maybe 1"), None);
        assert_eq!(Event::parse("break continue -3"), None);
        assert_eq!(Event::parse("hello"), None);
    }

    #[test]
    fn lines_wait_in_the_fifo_for_the_reader() {
        let parent = tempfile::tempdir().unwrap();
        let mut channel = Channel::create(parent.path()).unwrap();
        // The script side: opens and writes one line, as `printf > fifo` does.
        std::fs::write(channel.path("to-host"), "shell-done 3\n").unwrap();
        assert_eq!(channel.next().unwrap(), Event::ShellDone { status: 3 });
        channel.reply(&Reply::Exit(86)).unwrap();
        let got = std::fs::File::open(channel.path("to-script")).unwrap();
        let mut line = String::new();
        BufReader::new(got).read_line(&mut line).unwrap();
        assert_eq!(line, "exit 86\n");
    }
}
