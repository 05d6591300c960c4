//! A pseudo-terminal of boulder's own between the sandbox and the user's
//! terminal.
//!
//! The sandbox never gets the user's terminal: it runs in a session of its
//! own whose controlling terminal is the slave side of this pty. What the
//! build writes to `/dev/tty`, or pushes with `TIOCSTI`, lands in this pty,
//! which only boulder reads. While an interactive shell runs
//! ([`Relay::attach`] .. [`Relay::detach`]) the user's terminal is in raw
//! mode and bytes are copied both ways, so the shell sees a real terminal
//! (job control, Ctrl-C, line editing). Outside that, what the sandbox
//! writes to the pty is read and dropped (a build writing to `/dev/tty`
//! must not block, and must not reach the user's terminal unseen).

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Mutex;
use std::thread::JoinHandle;

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg, Termios};

/// Messages to the relay thread.
const ATTACH: u8 = b'a';
const DETACH: u8 = b'd';
const QUIT: u8 = b'q';

/// The pty and the thread serving its master side.
#[derive(Debug)]
pub struct Relay {
    slave: OwnedFd,
    master: OwnedFd,
    tty: File,
    control: File,
    acks: Mutex<Receiver<()>>,
    saved: Mutex<Option<Termios>>,
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    /// A fresh pty relayed to `tty` (the user's terminal) on demand.
    pub fn start(tty: &File) -> std::io::Result<Relay> {
        let pair = nix::pty::openpty(None, None).map_err(std::io::Error::from)?;
        fcntl(
            pair.master.as_raw_fd(),
            FcntlArg::F_SETFL(OFlag::O_NONBLOCK),
        )
        .map_err(std::io::Error::from)?;
        for fd in [&pair.master, &pair.slave] {
            fcntl(
                fd.as_raw_fd(),
                FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
            )
            .map_err(std::io::Error::from)?;
        }
        let (control_r, control_w) =
            nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(std::io::Error::from)?;
        let (ack_w, ack_r) = channel();
        let master = pair.master.try_clone()?;
        let user = tty.try_clone()?;
        let thread = std::thread::Builder::new()
            .name("terminal relay".into())
            .spawn(move || serve(master, user, File::from(control_r), &ack_w))?;
        Ok(Relay {
            slave: pair.slave,
            master: pair.master,
            tty: tty.try_clone()?,
            control: File::from(control_w),
            acks: Mutex::new(ack_r),
            saved: Mutex::new(None),
            thread: Some(thread),
        })
    }

    /// A descriptor of the slave side, for the sandbox.
    pub fn slave(&self) -> std::io::Result<OwnedFd> {
        self.slave.try_clone()
    }

    fn send(&self, message: u8) {
        let mut control = &self.control;
        if control.write_all(&[message]).is_ok() {
            if let Ok(acks) = self.acks.lock() {
                let _ = acks.recv();
            }
        }
    }

    /// The user's terminal goes raw and is connected to the pty (with the
    /// user's window size).
    pub fn attach(&self) {
        copy_window_size(&self.tty, &self.master);
        if let Ok(current) = tcgetattr(self.tty.as_fd()) {
            let mut raw = current.clone();
            cfmakeraw(&mut raw);
            if tcsetattr(self.tty.as_fd(), SetArg::TCSANOW, &raw).is_ok() {
                if let Ok(mut saved) = self.saved.lock() {
                    *saved = Some(current);
                }
            }
        }
        self.send(ATTACH);
    }

    /// What the pty still holds is shown, then the user's terminal gets its
    /// modes back.
    pub fn detach(&self) {
        self.send(DETACH);
        if let Some(saved) = self.saved.lock().ok().and_then(|mut s| s.take()) {
            let _ = tcsetattr(self.tty.as_fd(), SetArg::TCSADRAIN, &saved);
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.detach();
        let mut control = &self.control;
        let _ = control.write_all(&[QUIT]);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The window size of `tty` as (rows, columns).
fn window_size(tty: &impl AsRawFd) -> Option<(u16, u16)> {
    // SAFETY: TIOCGWINSZ writes a winsize struct.
    unsafe {
        let mut size: libc::winsize = std::mem::zeroed();
        (libc::ioctl(tty.as_raw_fd(), libc::TIOCGWINSZ, &mut size) == 0)
            .then_some((size.ws_row, size.ws_col))
    }
}

/// Give the pty the user's window size (the pty's foreground job gets a
/// SIGWINCH when it changes).
fn copy_window_size(from: &impl AsRawFd, to: &impl AsRawFd) {
    // SAFETY: TIOCGWINSZ/TIOCSWINSZ read and write a winsize struct.
    unsafe {
        let mut size: libc::winsize = std::mem::zeroed();
        if libc::ioctl(from.as_raw_fd(), libc::TIOCGWINSZ, &mut size) == 0 {
            libc::ioctl(to.as_raw_fd(), libc::TIOCSWINSZ, &size);
        }
    }
}

/// How often an attached relay looks at the user's window size (a
/// SIGWINCH goes to boulder's process group, not to this thread).
const RESIZE_CHECK_MS: u8 = 100;

/// Read what the master has; `Some(bytes)` (possibly empty when nothing
/// is pending).
fn read_master(master: &mut File, buf: &mut [u8]) -> usize {
    match master.read(buf) {
        Ok(n) => n,
        Err(e) if e.raw_os_error() == Some(Errno::EAGAIN as i32) => 0,
        // EIO: no slave open at the moment (boulder keeps one, so rare).
        Err(_) => 0,
    }
}

/// The relay thread: serves the master until told to quit.
fn serve(master: OwnedFd, tty: File, mut control: File, acks: &std::sync::mpsc::Sender<()>) {
    let mut master = File::from(master);
    let mut tty = tty;
    let mut attached = false;
    let mut buf = [0u8; 8192];
    let mut size = None;
    loop {
        if attached {
            let now = window_size(&tty);
            if now != size {
                copy_window_size(&tty, &master);
                size = now;
            }
        }
        let (master_ready, control_ready, tty_ready) = {
            let mut fds = vec![
                PollFd::new(master.as_fd(), PollFlags::POLLIN),
                PollFd::new(control.as_fd(), PollFlags::POLLIN),
            ];
            if attached {
                fds.push(PollFd::new(tty.as_fd(), PollFlags::POLLIN));
            }
            let timeout = if attached {
                PollTimeout::from(RESIZE_CHECK_MS)
            } else {
                PollTimeout::NONE
            };
            match poll(&mut fds, timeout) {
                Err(Errno::EINTR) => continue,
                Err(_) => return,
                Ok(_) => {}
            }
            let ready = |fd: &PollFd| fd.any().unwrap_or(false);
            (
                ready(&fds[0]),
                ready(&fds[1]),
                fds.get(2).is_some_and(ready),
            )
        };
        if master_ready {
            let n = read_master(&mut master, &mut buf);
            if attached && n > 0 {
                let _ = tty.write_all(&buf[..n]);
            }
            if n == 0 {
                // A hang-up with nothing to read: wait for the next message
                // instead of spinning on it.
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        if tty_ready {
            match tty.read(&mut buf) {
                Ok(n) if n > 0 => {
                    let _ = write_all_nonblocking(&mut master, &buf[..n]);
                }
                _ => attached = false,
            }
        }
        if control_ready {
            let mut message = [0u8];
            if control.read(&mut message).unwrap_or(0) == 0 {
                return;
            }
            match message[0] {
                ATTACH => {
                    attached = true;
                    size = window_size(&tty);
                }
                DETACH => {
                    // The shell's last words before it exited.
                    loop {
                        let n = read_master(&mut master, &mut buf);
                        if n == 0 {
                            break;
                        }
                        if attached {
                            let _ = tty.write_all(&buf[..n]);
                        }
                    }
                    attached = false;
                }
                _ => return,
            }
            let _ = acks.send(());
        }
    }
}

/// The master is non-blocking: a full input queue is retried shortly.
fn write_all_nonblocking(master: &mut File, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        match master.write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.raw_os_error() == Some(Errno::EAGAIN as i32) => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
