//! PID 1 of the sandbox holds nothing worth stealing and the sandbox cannot
//! reach the caller's terminal: real namespaces, real attacks from inside
//! (perl's `ioctl` and `syscall`), as root and as an unprivileged user.
//!
//! * the caller's environment (a secret in it) is not in `/proc/1/environ`,
//!   and `/proc/1/environ`, `/proc/1/mem` and `/proc/1/fd` do not open;
//! * `ptrace(PTRACE_ATTACH, 1)` is refused;
//! * `TIOCSTI` on an inherited terminal that is the caller's controlling
//!   terminal pushes nothing into it (the sandbox has a session of its own);
//! * with a terminal of the caller's own (`controlling_terminal`), `/dev/tty`
//!   is that terminal and job control works on it;
//! * `max_processes` and `tmp_size` hold.

use std::fs;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio as ProcessStdio};

use crate::sandbox_support::{host_usr_root, sandbox, sh};
use moss_core::sandbox::Stdio;
use test_support::text;

fn have_perl(test: &str) -> bool {
    let ok = std::path::Path::new("/usr/bin/perl").exists();
    if !ok {
        test_support::missing(test, "perl in /usr/bin");
    }
    ok
}

const SECRET_NAME: &str = "MOSS_SEAL_TEST_SECRET";
const SECRET: &str = "hunter2-the-packagers-token";

#[test]
#[cfg_attr(lacks_perl, ignore = "needs /usr/bin/perl")]
fn pid_one_keeps_no_environment_and_cannot_be_read_or_traced() {
    if !have_perl("pid_one_keeps_no_environment_and_cannot_be_read_or_traced") {
        return;
    }
    // The caller's environment holds a secret; the command's is cleared.
    std::env::set_var(SECRET_NAME, SECRET);
    let root = host_usr_root();
    let out = sh(
        &sandbox(&root),
        r#"
        for f in environ mem cmdline; do
            if cat /proc/1/$f > /tmp/out 2>/dev/null; then
                echo "$f: readable: $(tr '\0' ' ' < /tmp/out | head -c 4000)"
            else
                echo "$f: refused"
            fi
        done
        if readlink /proc/1/fd/0 >/dev/null 2>&1 || cat /proc/1/fd/0 </dev/null >/dev/null 2>&1; then
            echo "fd: opened"
        else
            echo "fd: refused"
        fi
        grep -a "$MOSS_SEAL_TEST_SECRET_PROBE" /proc/1/environ 2>/dev/null && echo "secret found"
        perl -e 'my $r = syscall(101, 16, 1, 0, 0); print $r == 0 ? "ptrace: attached\n" : "ptrace: refused ($!)\n"'
        grep -E '^(Uid|CapEff|NoNewPrivs)' /proc/self/status
        "#,
    );
    std::env::remove_var(SECRET_NAME);
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}{}", text(&out.stderr));
    assert!(!shown.contains(SECRET), "the secret leaked:\n{shown}");
    assert!(shown.contains("environ: refused"), "{shown}");
    assert!(shown.contains("mem: refused"), "{shown}");
    assert!(shown.contains("fd: refused"), "{shown}");
    assert!(shown.contains("ptrace: refused"), "{shown}");
}

/// A pseudo-terminal: (master, slave).
fn pty() -> (OwnedFd, OwnedFd) {
    let pair = nix::pty::openpty(None, None).expect("openpty");
    (pair.master, pair.slave)
}

#[test]
#[cfg_attr(lacks_perl, ignore = "needs /usr/bin/perl")]
fn tiocsti_cannot_reach_the_callers_terminal() {
    if !have_perl("tiocsti_cannot_reach_the_callers_terminal") {
        return;
    }
    let root = host_usr_root();
    let (master, slave) = pty();
    let out_dir = tempfile::tempdir().expect("tempdir");
    let report = out_dir.path().join("report");
    // `moss sandbox` runs with the pty as its controlling terminal and its
    // stdio, as boulder does in the packager's terminal; the command tries
    // to push a command line into that terminal's input.
    let slave_fd = slave.as_raw_fd();
    let mut command = Command::new(env!("CARGO_BIN_EXE_moss"));
    command
        .arg("sandbox")
        .arg(root.path())
        .args(["--bind-ro", "/usr", "--bind-rw"])
        .arg(format!("{}:/report", out_dir.path().display()))
        .args(["--env-clear", "--"])
        .args([
            "perl",
            "-e",
            r#"open(my $r, '>', '/report/report') or die;
               my $ok = 0;
               for my $c (split //, "touch /tmp/pwned\n") {
                   $ok++ if ioctl(STDIN, 0x5412, $c);
               }
               print $r "pushed $ok: $!\n";
               print $r (open(my $t, '+<', '/dev/tty') ? "tty: opened\n" : "tty: $!\n");"#,
        ])
        .stdin(ProcessStdio::from(slave.try_clone().expect("dup")))
        .stdout(ProcessStdio::from(slave.try_clone().expect("dup")))
        .stderr(ProcessStdio::from(slave.try_clone().expect("dup")));
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(move || {
            if libc::setsid() < 0 || libc::ioctl(slave_fd, libc::TIOCSCTTY, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let status = command.status().expect("moss sandbox runs");
    let shown = fs::read_to_string(&report).unwrap_or_default();
    assert!(status.success(), "{status}: {shown}");
    // Whatever is in the terminal's input queue now would be read by the
    // packager's shell: there must be nothing.
    nix::fcntl::fcntl(
        slave.as_raw_fd(),
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .expect("nonblocking");
    let mut pending = Vec::new();
    let _ = fs::File::from(slave).read_to_end(&mut pending);
    assert!(
        !text(&pending).contains("pwned"),
        "the sandbox typed into the caller's terminal: {:?} ({shown})",
        text(&pending)
    );
    assert!(shown.starts_with("pushed 0"), "{shown}");
    assert!(shown.contains("tty: No such device"), "{shown}");
    drop(master);
}

#[test]
#[cfg_attr(lacks_perl, ignore = "needs /usr/bin/perl")]
fn a_terminal_of_the_callers_own_is_the_sandboxs_controlling_terminal() {
    if !have_perl("a_terminal_of_the_callers_own_is_the_sandboxs_controlling_terminal") {
        return;
    }
    let root = host_usr_root();
    let (master, slave) = pty();
    let out = sandbox(&root)
        .controlling_terminal(slave)
        .stdin(Stdio::Terminal)
        .stdout(Stdio::Piped)
        .stderr(Stdio::Piped)
        .output([
            "perl",
            "-e",
            r#"print((-t STDIN) ? "stdin: tty\n" : "stdin: no\n");
               print(open(my $t, '+<', '/dev/tty') ? "tty: opened\n" : "tty: $!\n");
               my $c = "x";
               print(ioctl(STDIN, 0x5412, $c) ? "pushed: yes\n" : "pushed: $!\n");"#,
        ])
        .expect("sandbox runs");
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}{}", text(&out.stderr));
    assert!(shown.contains("stdin: tty"), "{shown}");
    assert!(shown.contains("tty: opened"), "{shown}");
    // It may type into its own terminal, which only boulder reads.
    assert!(shown.contains("pushed: yes"), "{shown}");
    drop(master);
}

const LIMIT: &str = "grep '^Max processes' /proc/self/limits | tr -s ' ' | cut -d' ' -f3";

#[test]
fn the_process_limit_holds() {
    let root = host_usr_root();
    if nix::unistd::Uid::effective().is_root() {
        // As root the sandbox's root is the host's root, whose processes the
        // kernel does not count: the limit is set, and holds for every other
        // user (the unprivileged pass of the suite checks that).
        let out = sh(&sandbox(&root).max_processes(64), LIMIT);
        assert_eq!(text(&out.stdout).trim(), "64", "{}", text(&out.stderr));
        return;
    }
    let out = sh(
        &sandbox(&root).max_processes(64),
        "grep '^Max processes' /proc/self/limits | tr -s ' ' | cut -d' ' -f3; n=0; while [ $n -lt 200 ]; do sleep 5 & n=$((n+1)); done 2>/dev/null; echo started; kill $(jobs -p) 2>/dev/null; wait",
    );
    let shown = text(&out.stdout);
    assert!(shown.starts_with("64\n"), "{shown}");
    assert!(
        text(&out.stderr).to_lowercase().contains("fork") || !out.status.success(),
        "200 processes started under a limit of 64: {shown}{}",
        text(&out.stderr)
    );
}

#[test]
fn the_tmp_size_holds() {
    let root = host_usr_root();
    let out = sh(
        &sandbox(&root).tmp_size(4 << 20),
        "dd if=/dev/zero of=/tmp/fill bs=1M count=16 2>&1; echo size $(stat -c %s /tmp/fill)",
    );
    let shown = text(&out.stdout);
    assert!(shown.contains("No space left on device"), "{shown}");
    let size: u64 = shown
        .rsplit("size ")
        .next()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(u64::MAX);
    assert!(size <= 4 << 20, "{shown}");
}
