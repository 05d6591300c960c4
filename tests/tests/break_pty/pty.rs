//! A pseudo-terminal with a child on its slave side, read by a thread.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nix::pty::{openpty, Winsize};

#[derive(Default)]
struct Screen {
    bytes: Vec<u8>,
    closed: bool,
}

/// A hang detector, not a timing assertion: a wait this long means the
/// console is stuck, so the test fails with the transcript instead of
/// holding CI until its own timeout.
const WATCHDOG: Duration = Duration::from_secs(300);

pub struct Pty {
    master: File,
    child: Child,
    screen: Arc<(Mutex<Screen>, Condvar)>,
    seen: usize,
}

fn winsize(rows: u16, cols: u16) -> Winsize {
    Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

/// Make `command` start a new session without a controlling terminal.
pub fn detach_from_terminal(command: &mut Command) {
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            nix::unistd::setsid()?;
            Ok(())
        });
    }
}

impl Pty {
    /// Start `command` in a new session whose controlling terminal is a new
    /// pty of `rows` x `cols`.
    pub fn spawn(mut command: Command, rows: u16, cols: u16) -> Pty {
        let pair = openpty(Some(&winsize(rows, cols)), None).expect("openpty");
        let slave = File::from(pair.slave);
        let master = File::from(pair.master);
        command
            .stdin(slave.try_clone().expect("dup"))
            .stdout(slave.try_clone().expect("dup"))
            .stderr(slave);
        // SAFETY: setsid and ioctl are async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                nix::unistd::setsid()?;
                if libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("spawn the phase runner");
        // Close our copies of the slave, so the master reads EOF at the end.
        drop(command);
        let screen = Arc::new((Mutex::new(Screen::default()), Condvar::new()));
        let reader = master.try_clone().expect("dup master");
        let answer = master.try_clone().expect("dup master");
        let shared = Arc::clone(&screen);
        std::thread::spawn(move || read_loop(reader, answer, shared));
        Pty {
            master,
            child,
            screen,
            seen: 0,
        }
    }

    /// Wait until `needle` appears after what earlier waits consumed.
    pub fn expect(&mut self, needle: &str) {
        let deadline = Instant::now() + WATCHDOG;
        let screen = Arc::clone(&self.screen);
        let (lock, changed) = &*screen;
        let mut screen = lock.lock().expect("lock");
        loop {
            let text = String::from_utf8_lossy(&screen.bytes[self.seen..]).into_owned();
            if let Some(at) = text.find(needle) {
                // Byte offsets of the lossy text match the raw ones for ASCII needles.
                self.seen += at + needle.len();
                return;
            }
            if screen.closed {
                panic!(
                    "the terminal closed without showing {needle:?}; transcript:\n{}",
                    String::from_utf8_lossy(&screen.bytes)
                );
            }
            screen = self.wait_or_fail(changed, screen, deadline, needle);
        }
    }

    /// Wait for the reader's next change; past `deadline`, kill the child and
    /// fail with everything the terminal showed so far.
    fn wait_or_fail<'a>(
        &mut self,
        changed: &Condvar,
        screen: MutexGuard<'a, Screen>,
        deadline: Instant,
        waiting_for: &str,
    ) -> MutexGuard<'a, Screen> {
        let left = deadline.saturating_duration_since(Instant::now());
        let (screen, timeout) = changed.wait_timeout(screen, left).expect("wait");
        if timeout.timed_out() && !screen.closed {
            let transcript = String::from_utf8_lossy(&screen.bytes).into_owned();
            // Release the lock first, so the reader thread is not poisoned too.
            drop(screen);
            let _ = self.child.kill();
            panic!(
                "watchdog: still waiting for {waiting_for:?} after {WATCHDOG:?}; transcript so far:\n{transcript}"
            );
        }
        screen
    }

    pub fn send(&mut self, text: &str) {
        self.master
            .write_all(text.as_bytes())
            .expect("write to the pty");
    }

    /// Type a line and press Enter.
    pub fn line(&mut self, text: &str) {
        self.send(&format!("{text}\r"));
    }

    /// Resize the terminal (the kernel signals the foreground group).
    pub fn resize(&mut self, rows: u16, cols: u16) {
        let size = winsize(rows, cols);
        // SAFETY: TIOCSWINSZ reads a valid winsize.
        let rc = unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &size) };
        assert_eq!(rc, 0, "TIOCSWINSZ");
    }

    /// Wait for the child and the end of its output.
    pub fn finish(mut self) -> (ExitStatus, String) {
        // The terminal closes once every process holding it has exited, so
        // waiting for that (under the watchdog) first keeps `wait` from hanging.
        let deadline = Instant::now() + WATCHDOG;
        let shared = Arc::clone(&self.screen);
        let (lock, changed) = &*shared;
        let mut screen = lock.lock().expect("lock");
        while !screen.closed {
            screen = self.wait_or_fail(changed, screen, deadline, "the end of the output");
        }
        let transcript = String::from_utf8_lossy(&screen.bytes).into_owned();
        drop(screen);
        let status = self.child.wait().expect("wait for the phase runner");
        (status, transcript)
    }

    pub fn finish_success(self) -> String {
        let (status, transcript) = self.finish();
        assert!(status.success(), "{status}; transcript:\n{transcript}");
        transcript
    }
}

/// Collect the output; answer cursor-position queries as a terminal does.
fn read_loop(mut master: File, mut answer: File, screen: Arc<(Mutex<Screen>, Condvar)>) {
    let mut buf = [0u8; 4096];
    loop {
        let n = master.read(&mut buf).unwrap_or(0);
        let (lock, changed) = &*screen;
        let mut screen = lock.lock().expect("lock");
        if n == 0 {
            screen.closed = true;
            changed.notify_all();
            return;
        }
        screen.bytes.extend_from_slice(&buf[..n]);
        if buf[..n].windows(4).any(|w| w == b"\x1b[6n") {
            let _ = answer.write_all(b"\x1b[1;1R");
        }
        changed.notify_all();
    }
}
