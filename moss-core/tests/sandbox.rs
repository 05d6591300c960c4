//! The sandbox against real namespaces. Every test builds a root in a
//! temporary directory whose `/usr` is the host's `/usr` bound read-only (the
//! host has a merged `/usr`), and passes as root and as an unprivileged user.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::symlink;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

use crate::sandbox_support::{host_usr_root, sandbox, sh};
use moss_core::sandbox::{Sandbox, SandboxError, SetupStep, Stdio};
use nix::errno::Errno;
use nix::sys::signal::Signal;
use tempfile::TempDir;
use test_support::text;

#[test]
fn id_u_prints_zero() {
    let root = host_usr_root();
    let out = sandbox(&root).output(["id", "-u"]).expect("run id");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "0\n");
}

#[test]
fn host_home_and_checkout_are_not_visible() {
    let checkout = env!("CARGO_MANIFEST_DIR");
    assert!(
        Path::new(checkout).is_dir(),
        "the checkout must exist on the host"
    );
    let root = host_usr_root();
    let out = sh(
        &sandbox(&root),
        &format!(
            "for p in /home {checkout} /root /work; do test -e $p && echo visible: $p; done; ls /"
        ),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("visible"), "{stdout}");
    assert!(
        stdout.contains("usr") && stdout.contains("proc"),
        "{stdout}"
    );
}

#[test]
fn usr_and_root_are_read_only() {
    let root = host_usr_root();
    let out = sh(
        &sandbox(&root),
        "touch /usr/bin/x; echo usr=$?; touch /new-file; echo root=$?; touch /tmp/ok; echo tmp=$?",
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        stdout.contains("usr=1") && stdout.contains("root=1"),
        "{stdout}"
    );
    assert!(stdout.contains("tmp=0"), "{stdout} {stderr}");
    assert_eq!(
        stderr.matches("Read-only file system").count(),
        2,
        "{stderr}"
    );
    assert!(!Path::new("/usr/bin/x").exists());
    assert!(!root.path().join("new-file").exists());
}

#[test]
fn read_only_usr_applies_to_a_root_with_its_own_usr() {
    let root = host_usr_root();
    fs::create_dir_all(root.path().join("usr/share")).expect("mkdir");
    // /usr is part of the root here: no bind; the root itself is writable.
    let out = Sandbox::new(root.path())
        .bind_ro("/usr/bin", "/usr/bin")
        .bind_ro("/usr/lib", "/usr/lib")
        .bind_ro("/usr/lib64", "/usr/lib64")
        .read_only_root(false)
        .output([
            "/usr/bin/sh",
            "-c",
            "touch /usr/share/x; echo usr=$?; touch /top; echo top=$?",
        ])
        .expect("run");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("usr=1") && stdout.contains("top=0"),
        "{stdout}"
    );
    assert!(!root.path().join("usr/share/x").exists());
    assert!(root.path().join("top").exists());
}

#[test]
fn host_loopback_port_is_unreachable_but_private_loopback_is_up() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen on the host");
    let port = listener.local_addr().expect("address").port();
    let root = host_usr_root();
    let out = sandbox(&root)
        .output([
            "/usr/bin/bash",
            "-c",
            &format!("exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected"),
        ])
        .expect("run bash");
    assert!(!out.status.success());
    assert!(!text(&out.stdout).contains("connected"));

    let host_port = port;
    let status = sandbox(&root)
        .run_fn(move || {
            if TcpStream::connect(("127.0.0.1", host_port)).is_ok() {
                return 10;
            }
            let Ok(inner) = TcpListener::bind("127.0.0.1:0") else {
                return 11;
            };
            let Ok(addr) = inner.local_addr() else {
                return 12;
            };
            match TcpStream::connect(addr) {
                Ok(_) => 0,
                Err(_) => 13,
            }
        })
        .expect("run the closure");
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
fn networking_shares_the_host_network_and_dns_files() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen on the host");
    let port = listener.local_addr().expect("address").port();
    let root = host_usr_root();
    let out = sandbox(&root)
        .networking(true)
        .output([
            "/usr/bin/bash",
            "-c",
            &format!("exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected"),
        ])
        .expect("run bash");
    assert_eq!(text(&out.stdout), "connected\n", "{}", text(&out.stderr));
}

/// The host's DNS files are seen inside, but the root (shared by boulder's
/// builds) is left exactly as it was.
#[test]
fn networking_leaves_the_root_unchanged() {
    let root = host_usr_root();
    let etc = root.path().join("etc");
    fs::write(etc.join("hosts"), "127.0.0.1 root-own\n").expect("write hosts");
    fs::write(etc.join("resolv.conf"), "").expect("write resolv.conf");
    let listing = |dir: &Path| {
        let mut names: Vec<_> = fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        names.sort();
        names
    };
    let before = listing(&etc);
    let out = sh(
        &sandbox(&root).networking(true),
        "cat /etc/hosts; echo; echo ---; cat /etc/resolv.conf; echo; echo ---; ls -A /tmp",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let parts: Vec<&str> = stdout.split("---\n").collect();
    assert_eq!(parts.len(), 3, "{stdout}");
    if let Ok(hosts) = fs::read_to_string("/etc/hosts") {
        assert_eq!(parts[0], format!("{hosts}\n"));
    }
    if let Ok(resolv) = fs::read_to_string("/etc/resolv.conf") {
        assert_eq!(parts[1], format!("{resolv}\n"));
    }
    assert_eq!(parts[2], "", "the staged copies are left in /tmp");
    assert_eq!(
        fs::read_to_string(etc.join("hosts")).expect("read"),
        "127.0.0.1 root-own\n"
    );
    assert_eq!(fs::read(etc.join("resolv.conf")).expect("read"), b"");
    assert_eq!(listing(&etc), before);
    // Read-only inside, like the rest of the root.
    let out = sh(&sandbox(&root).networking(true), "echo x >> /etc/hosts");
    assert!(!out.status.success());
    assert_eq!(
        fs::read_to_string(etc.join("hosts")).expect("read"),
        "127.0.0.1 root-own\n"
    );
}

#[test]
fn only_the_sandbox_processes_are_visible() {
    let root = host_usr_root();
    let out = sh(
        &sandbox(&root),
        "ps -e -o pid=; echo; ls /proc | grep -c '^[0-9]*$'",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let (ps, count) = stdout.split_once("\n\n").expect("two sections");
    let pids: Vec<u32> = ps
        .split_whitespace()
        .map(|p| p.parse().expect("a pid"))
        .collect();
    // PID 1 (the sandbox's init), the shell and ps: nothing from the host.
    assert!(pids.contains(&1), "{pids:?}");
    assert!(pids.len() <= 4 && pids.iter().all(|p| *p < 20), "{pids:?}");
    let in_proc: usize = count.trim().parse().expect("a count");
    assert!((2..=4).contains(&in_proc), "{in_proc}");
}

/// An orphan (a process whose parent exited) is adopted by the sandbox's
/// PID 1, which must reap it when it exits; otherwise it stays a zombie.
/// Proven by events, not sleeps: the orphan blocks on a fifo until its
/// parent has exited and the script has seen PID 1 adopt it; only then is it
/// released, and its `/proc` entry, which a zombie keeps, must then vanish.
/// The bounded wait only turns a broken reaper into a failure (with the
/// process list) instead of a hang.
#[test]
fn pid_one_reaps_orphans() {
    let root = host_usr_root();
    let gate = tempfile::tempdir().expect("tempdir");
    let script = r#"
set -eu
mkfifo /gate/pid /gate/release
# The middle shell starts the orphan and exits at once; the script waits for
# it, so the orphan has lost its parent when its pid arrives.
sh -c 'sh -c "echo \$\$ > /gate/pid; read _ < /gate/release" & exit 0'
read pid < /gate/pid
set -- $(cat /proc/$pid/stat)
echo "script $$, orphan $pid, adopted by $4"
echo release > /gate/release
n=0
while [ -e /proc/$pid ]; do
  n=$((n + 1))
  if [ $n -gt 12000 ]; then
    echo "orphan $pid was never reaped:"; ps -e -o pid=,ppid=,stat=,comm=; exit 3
  fi
  sleep 0.01
done
echo reaped
"#;
    let out = sh(&sandbox(&root).bind_rw(gate.path(), "/gate"), script);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let adopted = stdout
        .lines()
        .find_map(|l| l.strip_prefix("script "))
        .expect("the script names the orphan's parent");
    let words: Vec<&str> = adopted.split_whitespace().collect();
    // "script S, orphan O, adopted by P": the orphan's parent is PID 1 (the
    // sandbox's init), not the script's shell.
    assert_eq!(words.last(), Some(&"1"), "{stdout}");
    assert_ne!(
        words.first(),
        Some(&"1,"),
        "the script must not be PID 1: {stdout}"
    );
    assert!(stdout.ends_with("reaped\n"), "{stdout}");
}

#[test]
fn writable_bind_is_writable_and_its_files_reach_the_host() {
    let root = host_usr_root();
    let build = tempfile::tempdir().expect("tempdir");
    let out = sh(
        &sandbox(&root)
            .bind_rw(build.path(), "/mason/build")
            .workdir("/mason/build"),
        "echo payload > out && pwd",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "/mason/build\n");
    assert_eq!(
        fs::read_to_string(build.path().join("out")).expect("read"),
        "payload\n"
    );
}

#[test]
fn exit_status_and_signals_are_propagated() {
    let root = host_usr_root();
    let sb = sandbox(&root);
    assert_eq!(sb.run(["sh", "-c", "exit 7"]).expect("run").code(), Some(7));
    assert_eq!(sb.run(["true"]).expect("run").code(), Some(0));
    let killed = sb.run(["sh", "-c", "kill -TERM $$"]).expect("run");
    assert_eq!(killed.signal(), Some(libc::SIGTERM), "{killed}");
    assert_eq!(sb.run_fn(|| 5).expect("closure").code(), Some(5));
}

#[test]
fn signals_sent_to_the_sandbox_reach_the_command() {
    let root = host_usr_root();
    let mut child = sandbox(&root)
        .stdout(Stdio::Piped)
        .spawn([
            "/usr/bin/bash",
            "-c",
            "trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done",
        ])
        .expect("spawn");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped stdout");
    BufReader::new(stdout).read_line(&mut line).expect("read");
    assert_eq!(line, "ready\n");
    child.signal(Signal::SIGTERM).expect("signal");
    assert_eq!(child.wait().expect("wait").code(), Some(42));
}

/// stderr sent where stdout goes: both streams in one pipe, in the order
/// written, with no shell redirecting them; asking it of stdout is refused.
#[test]
fn stderr_can_share_the_stdout_pipe() {
    let root = host_usr_root();
    let child = sandbox(&root)
        .stdout(Stdio::Piped)
        .stderr(Stdio::SameAsStdout)
        .spawn([
            "/usr/bin/bash",
            "-c",
            "echo one; echo two >&2; echo three; echo four >&2",
        ])
        .expect("spawn");
    let output = child.wait_with_output().expect("wait");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "one\ntwo\nthree\nfour\n"
    );
    assert!(sandbox(&root)
        .stdout(Stdio::SameAsStdout)
        .spawn(["true"])
        .is_err());
}

#[test]
fn two_sandboxes_run_at_the_same_time() {
    let root = host_usr_root();
    let sb = sandbox(&root).stdin(Stdio::Piped).stdout(Stdio::Piped);
    // Both are started before either gets its input, so both run at once.
    let script = "read word; echo $word $(cat /proc/sys/kernel/hostname) $$";
    let mut a = sb
        .clone()
        .hostname("a")
        .spawn(["sh", "-c", script])
        .expect("spawn a");
    let mut b = sb
        .clone()
        .hostname("b")
        .spawn(["sh", "-c", script])
        .expect("spawn b");
    for (child, word) in [(&mut b, "bee"), (&mut a, "ay")] {
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{word}").expect("write");
    }
    let out_a = a.wait_with_output().expect("a");
    let out_b = b.wait_with_output().expect("b");
    assert_eq!(text(&out_a.stdout), "ay a 2\n");
    assert_eq!(text(&out_b.stdout), "bee b 2\n");
}

#[test]
fn setup_failures_name_the_step_path_and_errno() {
    let root = host_usr_root();
    match sandbox(&root).run(["no-such-command-here"]) {
        Err(SandboxError::Setup {
            step: SetupStep::Execute,
            errno: Errno::ENOENT,
            detail,
        }) => assert_eq!(detail, "no-such-command-here"),
        other => panic!("unexpected {other:?}"),
    }
    match sandbox(&root)
        .bind_ro("/no/such/host/dir", "/x")
        .run(["true"])
    {
        Err(SandboxError::Setup {
            step: SetupStep::BindMount,
            errno: Errno::ENOENT,
            detail,
        }) => assert!(detail.contains("/no/such/host/dir"), "{detail}"),
        other => panic!("unexpected {other:?}"),
    }
    match sandbox(&root).workdir("/missing").run(["true"]) {
        Err(
            e @ SandboxError::Setup {
                step: SetupStep::ChangeDirectory,
                ..
            },
        ) => assert!(e.to_string().contains("/missing"), "{e}"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(
        sandbox(&root).bind_ro("/usr", "../escape").run(["true"]),
        Err(SandboxError::Config(_))
    ));
    assert!(matches!(
        Sandbox::new(root.path().join("absent")).run(["true"]),
        Err(SandboxError::Config(_))
    ));
}

#[test]
fn the_command_runs_with_reduced_privileges() {
    let root = host_usr_root();
    let out = sh(
        &sandbox(&root).hostname("builder"),
        "cat /proc/sys/kernel/hostname; grep -E '^(NoNewPrivs|CapBnd)' /proc/self/status; \
         mount -t tmpfs none /tmp 2>/dev/null; echo mount=$?",
    );
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("builder\n"), "{stdout}");
    assert!(stdout.contains("NoNewPrivs:\t1"), "{stdout}");
    let bounding = stdout
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:\t"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .expect("CapBnd line");
    assert_eq!(
        bounding & (1u64 << 21),
        0,
        "CAP_SYS_ADMIN (21) must be dropped: {stdout}"
    );
    assert!(
        stdout.contains("mount=") && !stdout.contains("mount=0"),
        "{stdout}"
    );
}

#[test]
fn a_symlink_cannot_lead_a_mount_out_of_the_root() {
    let root = host_usr_root();
    let outside = tempfile::tempdir().expect("tempdir");
    symlink(outside.path(), root.path().join("mason")).expect("symlink");
    let build = tempfile::tempdir().expect("tempdir");
    match sandbox(&root)
        .bind_rw(build.path(), "/mason/build")
        .run(["true"])
    {
        Err(SandboxError::Setup {
            step: SetupStep::StayInsideRoot,
            detail,
            ..
        }) => assert!(detail.contains("outside the root"), "{detail}"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(!outside.path().join("build").exists());
}

#[test]
fn chown_to_other_ids_works_exactly_when_the_mapping_allows_it() {
    let root = host_usr_root();
    let sb = sandbox(&root);
    let out = sh(
        &sb,
        "touch /tmp/f && chown 1000:1000 /tmp/f && stat -c %u:%g /tmp/f",
    );
    let mapping = moss_core::sandbox::IdMapping::detect();
    match mapping.limitation() {
        None => assert_eq!(text(&out.stdout), "1000:1000\n", "{}", text(&out.stderr)),
        Some(_) => {
            assert!(!out.status.success());
            assert!(
                text(&out.stderr).contains("Invalid argument"),
                "{}",
                text(&out.stderr)
            );
        }
    }
}

#[test]
fn tmpfs_mounts_are_writable_and_private() {
    let root = host_usr_root();
    let sb = sandbox(&root).tmpfs("/mason/scratch");
    let out = sh(
        &sb,
        "echo hi > /mason/scratch/f && cat /mason/scratch/f && ls /mason/scratch",
    );
    assert_eq!(text(&out.stdout), "hi\nf\n", "{}", text(&out.stderr));
    // Nothing reached the root directory on the host; a second sandbox starts empty.
    assert!(!root.path().join("mason/scratch/f").exists());
    let again = sh(&sb, "ls -A /mason/scratch | wc -l");
    assert_eq!(text(&again.stdout).trim(), "0");
}

/// Runs `scripts` as one sequence (`sh -c`, each with `STEP=<n>`) and
/// returns the status and the merged output.
fn sequence(root: &TempDir, scripts: &[&str], marker: &str) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    let steps = scripts
        .iter()
        .enumerate()
        .map(|(i, script)| moss_core::sandbox::SequenceStep {
            argv: vec!["/usr/bin/sh".into(), "-c".into(), (*script).into()],
            env: vec![("STEP".into(), i.to_string().into())],
        })
        .collect();
    let mut child = sandbox(root)
        .stdin(Stdio::Null)
        .stdout(Stdio::Piped)
        .stderr(Stdio::SameAsStdout)
        .spawn_sequence(steps, marker)
        .expect("start the sequence");
    let mut output = String::new();
    child
        .stdout
        .take()
        .expect("stdout pipe")
        .read_to_string(&mut output)
        .expect("read the output");
    (child.wait().expect("wait"), output)
}

#[test]
fn a_sequence_marks_each_step_and_gives_each_its_own_variables() {
    let root = host_usr_root();
    let (status, output) = sequence(
        &root,
        &[
            "echo one $STEP; echo err >&2",
            "echo two $STEP",
            "echo three $STEP",
        ],
        "##mark",
    );
    assert!(status.success(), "{output}");
    assert_eq!(
        output,
        "##mark 0\none 0\nerr\n##mark 1\ntwo 1\n##mark 2\nthree 2\n"
    );
}

#[test]
fn a_sequence_stops_at_the_first_failing_step_with_its_status() {
    let root = host_usr_root();
    let (status, output) = sequence(&root, &["true", "exit 7", "echo never"], "##mark");
    assert_eq!(status.code(), Some(7), "{output}");
    assert_eq!(output, "##mark 0\n##mark 1\n");
    // A signal that ends a step ends the sequence with that signal.
    let (status, output) = sequence(&root, &["kill -TERM $$", "echo never"], "##mark");
    assert_eq!(status.signal(), Some(Signal::SIGTERM as i32), "{output}");
    assert!(!output.contains("never"), "{output}");
}

#[test]
fn what_a_step_leaves_running_does_not_outlive_it() {
    let root = host_usr_root();
    // The first step leaves a process behind that would print later; the
    // second waits long enough to see it, and lists what else runs.
    let (status, output) = sequence(
        &root,
        &[
            "(sleep 1; echo leftover) >/dev/null 2>&1 & (sleep 1; echo leftover) & echo started",
            "sleep 2; echo listed $(ls /proc | grep -c '^[0-9]')",
        ],
        "##mark",
    );
    assert!(status.success(), "{output}");
    assert!(!output.contains("leftover"), "{output}");
    // PID 1, the step's shell, its `ls` and `grep` (the command substitution's subshell may add one).
    let listed: usize = output
        .lines()
        .find_map(|l| l.strip_prefix("listed "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{output}"));
    assert!(listed <= 5, "{listed} processes: {output}");
}
