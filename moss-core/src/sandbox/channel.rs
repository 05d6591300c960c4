//! The setup channel: a close-on-exec pipe through which the sandbox's
//! processes tell the caller how setup went. One line per message, each
//! written with a single `write` (shorter than `PIPE_BUF`, hence atomic).
//! The caller sees end-of-file once the command has been executed.

use std::cell::Cell;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;

use super::error::SetupStep;

/// Points in time reported by the sandbox, in `CLOCK_MONOTONIC` nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    /// The id mapping is written and the namespaces exist.
    Mapped,
    /// Every mount is in place (before `pivot_root`).
    Mounted,
    /// `pivot_root` done, hostname and loopback set.
    Pivoted,
    /// The command is about to be executed.
    Exec,
}

impl Mark {
    fn letter(self) -> char {
        match self {
            Mark::Mapped => 'm',
            Mark::Mounted => 's',
            Mark::Pivoted => 'p',
            Mark::Exec => 'x',
        }
    }
    fn from_letter(c: char) -> Option<Self> {
        [Mark::Mapped, Mark::Mounted, Mark::Pivoted, Mark::Exec]
            .into_iter()
            .find(|m| m.letter() == c)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Message {
    /// The setuid helpers failed, so only the caller's own ids are mapped.
    IdMapFellBack,
    /// The id map could not be written: errno and what was being done.
    IdMapFailed(Errno, String),
    /// `unshare(CLONE_NEWUSER)` failed.
    UserNsFailed(Errno),
    /// Creating the other namespaces failed.
    NamespacesFailed(Errno),
    Timing(Mark, u64),
    Failed {
        step: SetupStep,
        errno: Errno,
        detail: String,
    },
}

impl Message {
    fn encode(&self) -> String {
        match self {
            Message::IdMapFellBack => "F\n".to_string(),
            Message::IdMapFailed(e, what) => {
                let what: String = what.replace('\n', "?").chars().take(1000).collect();
                format!("I{} {}\n", *e as i32, what)
            }
            Message::UserNsFailed(e) => format!("U{}\n", *e as i32),
            Message::NamespacesFailed(e) => format!("N{}\n", *e as i32),
            Message::Timing(mark, ns) => format!("T{}{}\n", mark.letter(), ns),
            Message::Failed {
                step,
                errno,
                detail,
            } => {
                // Keep one message on one line and below PIPE_BUF.
                // (Counted in chars: truncating bytes could split one.)
                let detail: String = detail.replace('\n', "?").chars().take(900).collect();
                format!("E{} {} {}\n", step.code(), *errno as i32, detail)
            }
        }
    }

    pub(crate) fn decode(line: &str) -> Option<Self> {
        let mut chars = line.chars();
        let kind = chars.next()?;
        let rest = chars.as_str();
        let errno = |s: &str| s.parse::<i32>().ok().map(Errno::from_raw);
        match kind {
            'F' => Some(Message::IdMapFellBack),
            'I' => {
                let (code, what) = rest.split_once(' ')?;
                Some(Message::IdMapFailed(errno(code)?, what.to_string()))
            }
            'U' => errno(rest).map(Message::UserNsFailed),
            'N' => errno(rest).map(Message::NamespacesFailed),
            'T' => {
                let mut c = rest.chars();
                let mark = Mark::from_letter(c.next()?)?;
                c.as_str().parse().ok().map(|ns| Message::Timing(mark, ns))
            }
            'E' => {
                let mut parts = rest.splitn(3, ' ');
                let step = SetupStep::from_code(parts.next()?.parse().ok()?)?;
                let errno = errno(parts.next()?)?;
                let detail = parts.next().unwrap_or("").to_string();
                Some(Message::Failed {
                    step,
                    errno,
                    detail,
                })
            }
            _ => None,
        }
    }
}

/// The sandbox side of the channel. Timing marks are kept in memory (a
/// `fork` hands them on to the next process) and sent together with the
/// last one, `Exec`, or with a failure: one write wakes the caller once
/// instead of once per mark, which counts on a busy machine.
pub(crate) struct Reporter {
    fd: OwnedFd,
    /// Nanoseconds per mark, in `Mark` order; 0 while not reached.
    marks: Cell<[u64; 4]>,
}

const MARKS: [Mark; 4] = [Mark::Mapped, Mark::Mounted, Mark::Pivoted, Mark::Exec];

impl Reporter {
    pub(crate) fn new(fd: OwnedFd) -> Self {
        Reporter {
            fd,
            marks: Cell::new([0; 4]),
        }
    }

    /// Sends the pending marks, then `message`, in one write (under
    /// `PIPE_BUF` in all, so atomic).
    pub(crate) fn send(&self, message: &Message) {
        let mut bytes = self.pending();
        bytes.push_str(&message.encode());
        self.write(&bytes);
    }

    fn pending(&self) -> String {
        let marks = self.marks.replace([0; 4]);
        MARKS
            .iter()
            .zip(marks)
            .filter(|(_, ns)| *ns != 0)
            .map(|(mark, ns)| Message::Timing(*mark, ns).encode())
            .collect()
    }

    fn write(&self, bytes: &str) {
        // Nothing useful can be done if the caller has gone away.
        let _ = nix::unistd::write(&self.fd, bytes.as_bytes());
    }

    /// Records `mark` now; `Exec` sends every recorded mark.
    pub(crate) fn mark(&self, mark: Mark) {
        let mut marks = self.marks.get();
        if let Some(slot) = MARKS.iter().position(|m| *m == mark) {
            marks[slot] = monotonic_ns();
        }
        self.marks.set(marks);
        if mark == Mark::Exec {
            let bytes = self.pending();
            self.write(&bytes);
        }
    }

    pub(crate) fn fail(&self, step: SetupStep, errno: Errno, detail: impl Into<String>) {
        self.send(&Message::Failed {
            step,
            errno,
            detail: detail.into(),
        });
    }

    pub(crate) fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }
}

/// `CLOCK_MONOTONIC` in nanoseconds; the same clock in and out of the sandbox.
pub(crate) fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32).as_nanos() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let all = [
            Message::IdMapFellBack,
            Message::IdMapFailed(Errno::EPERM, "write \"0 0 1\" to /proc/7/uid_map".into()),
            Message::UserNsFailed(Errno::EPERM),
            Message::NamespacesFailed(Errno::EINVAL),
            Message::Timing(Mark::Pivoted, 123456789),
            Message::Failed {
                step: SetupStep::BindMount,
                errno: Errno::ENOENT,
                detail: "/a b/c".into(),
            },
        ];
        for m in all {
            let line = m.encode();
            assert_eq!(Message::decode(line.trim_end_matches('\n')), Some(m));
        }
    }

    #[test]
    fn garbage_is_rejected() {
        for junk in ["", "Q", "T", "Tz1", "E99 1 x", "Ex", "U", "Tm-1"] {
            assert_eq!(Message::decode(junk), None, "{junk:?}");
        }
    }
}
