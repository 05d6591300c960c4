//! Breakpoints driven through a real pseudo-terminal (and without one).
//!
//! Each case runs a "phase" the way the build does: a bash script with the
//! standard prologue and `boulder_break`, inside a real sandbox over a test
//! root (the host `/usr` bound read-only), with a breakpoint `Session`. The
//! phase runs in a child process (this binary again, see `phase`) whose
//! controlling terminal is the pty's slave; the test types into the master
//! like a user would. No timeouts: a wait ends when the text appears or the
//! child's terminal closes (then the test fails with the transcript).

// Test code: a failed unwrap or expect is the run failing (the workspace
// denies them in code that runs on a user's input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod phase;
mod pty;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pty::Pty;

fn main() {
    if let Ok(dir) = std::env::var(phase::CHILD_VAR) {
        std::process::exit(phase::run(Path::new(&dir)));
    }
    let cases: [(&str, fn()); 5] = [
        (
            "break_continue_keeps_state_on_a_terminal",
            break_continue_keeps_state_on_a_terminal,
        ),
        (
            "break_exit_stops_after_the_shell",
            break_exit_stops_after_the_shell,
        ),
        (
            "without_a_terminal_breakpoints_never_wait",
            without_a_terminal_breakpoints_never_wait,
        ),
        (
            "break_on_failure_opens_the_console_at_make",
            break_on_failure_opens_the_console_at_make,
        ),
        (
            "console_completes_and_keeps_history",
            console_completes_and_keeps_history,
        ),
    ];
    // libtest's options are accepted and mostly ignored; bare words filter.
    let mut only = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--list" => {
                for (name, _) in cases {
                    println!("{name}: test");
                }
                return;
            }
            "--test-threads" | "--skip" | "--format" | "--color" | "--logfile" | "-Z" => {
                args.next();
            }
            _ if arg.starts_with('-') => {}
            _ => only.push(arg),
        }
    }
    for (name, case) in cases {
        if !only.is_empty() && !only.iter().any(|o| name.contains(o.as_str())) {
            continue;
        }
        println!("test {name} ...");
        case();
        println!("test {name} ... ok");
    }
}

/// A scenario directory: the recipe, the test root, the dirs bound into it.
struct Scenario {
    dir: tempfile::TempDir,
}

impl Scenario {
    fn new(build_phase: &str, flags: &[&str]) -> Scenario {
        let dir = tempfile::Builder::new()
            .prefix("break-pty")
            .tempdir()
            .expect("temp dir");
        let mut recipe =
            String::from("name: break-test\nversion: 1.0\nrelease: 1\nbuilder:\n    build: |\n");
        for line in build_phase.lines() {
            recipe.push_str("        ");
            recipe.push_str(line);
            recipe.push('\n');
        }
        fs::write(dir.path().join("stone.yaml"), recipe).expect("write recipe");
        fs::write(dir.path().join("flags"), flags.join("\n")).expect("write flags");
        phase::make_root(dir.path());
        Scenario { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn install(&self) -> PathBuf {
        self.path().join("install")
    }

    fn command(&self) -> Command {
        let mut command = Command::new(std::env::current_exe().expect("current exe"));
        command
            .env(phase::CHILD_VAR, self.path())
            .env("TERM", "xterm-256color");
        command
    }
}

/// Acceptance 1 plus the terminal: state, job control, Ctrl-C, Ctrl-Z,
/// window size, the console's commands, and the marker in the output.
fn break_continue_keeps_state_on_a_terminal() {
    let scenario = Scenario::new(
        "x=42; echo partial > f\nexport LATE_VAR=exported-late\ngreet() { echo \"hello $1\"; }\narr=(a \"b c\"); shopt -s extglob; umask 027\ncd sub\n%break_continue\necho \"after-break x=$x in $(pwd)\"\ntest -e /mason/install/usr/share/marker",
        &[],
    );
    fs::create_dir_all(scenario.path().join("build/sub")).expect("mkdir sub");
    let mut pty = Pty::spawn(scenario.command(), 33, 120);
    pty.expect("%break_continue at ");
    pty.expect("stone.yaml:11 (phase build)");
    let prompt = "recipe line 11) ";
    pty.expect(prompt);
    pty.line("echo $x; cat /mason/build/sub/../f; greet you; pwd");
    pty.expect("\r\n42\r\npartial\r\nhello you\r\n/mason/build/sub\r\n");
    pty.expect(prompt);
    pty.line("echo \"${arr[1]}\"; shopt -q extglob && echo extglob-on; [[ -o pipefail ]] && echo pipefail-on; umask");
    pty.expect("\r\nb c\r\nextglob-on\r\npipefail-on\r\n0027\r\n");
    pty.expect(prompt);
    pty.line("touch /mason/install/usr/share/marker && echo touched-$((2*3))");
    pty.expect("touched-6");
    pty.expect(prompt);
    // The window size is the real terminal's and follows it.
    pty.line("stty size");
    pty.expect("\r\n33 120\r\n");
    pty.expect(prompt);
    pty.resize(40, 100);
    pty.line("stty size");
    pty.expect("\r\n40 100\r\n");
    pty.expect(prompt);
    // Ctrl-C reaches the shell's foreground job, not boulder.
    pty.line("sh -c 'echo ready-$((6*7)); exec sleep 1000'");
    pty.expect("ready-42");
    pty.send("\x03");
    pty.expect(prompt);
    pty.line("echo status=$?");
    pty.expect("status=130");
    pty.expect(prompt);
    // Ctrl-Z stops it: job control works.
    pty.line("sh -c 'echo ready-$((7*7)); exec sleep 1000'");
    pty.expect("ready-49");
    pty.send("\x1a");
    pty.expect("Stopped");
    pty.expect(prompt);
    // `wait` returns at once for a stopped job, before bash has seen the
    // kill; loop until the job is gone, or `exit` finds it still stopped.
    pty.line(
        "kill -KILL %1; while kill -0 %1 2>/dev/null; do sleep 0.05; done; echo killed-$((1+1))",
    );
    pty.expect("killed-2");
    pty.expect(prompt);
    pty.line("exit");
    pty.expect(console_prompt());
    pty.line("where");
    pty.expect("stone.yaml:11 (phase build)");
    pty.expect("  11 |         %break_continue");
    pty.expect(console_prompt());
    pty.line("env");
    pty.expect("LATE_VAR=exported-late");
    pty.expect(console_prompt());
    pty.line("script");
    pty.expect("echo \"after-break x=$x in $(pwd)\"");
    pty.expect(console_prompt());
    pty.line("continue");
    pty.expect("after-break x=42 in /mason/build/sub");
    let transcript = pty.finish_success();
    assert!(
        scenario.install().join("usr/share/marker").is_file(),
        "the marker made in the shell is in the install dir\n{transcript}"
    );
    assert!(
        !scenario.path().join("build/.bash_history").exists(),
        "the shell's history stays out of the build tree"
    );
    assert!(
        !transcript.contains("cannot set terminal process group"),
        "{transcript}"
    );
}

/// Acceptance 2: `%break_exit` stops after the shell, non-zero, with a
/// clear message; the rest of the phase does not run.
fn break_exit_stops_after_the_shell() {
    let scenario = Scenario::new("touch kept\n%break_exit\necho should-not-run > ran", &[]);
    let mut pty = Pty::spawn(scenario.command(), 24, 80);
    pty.expect("%break_exit at ");
    pty.expect("recipe line 7) ");
    pty.line("ls kept && echo listed");
    pty.expect("\r\nkept\r\nlisted");
    pty.line("exit");
    pty.expect("%break_exit: stopping the build");
    pty.expect("stopped at the %break_exit on line 7 of");
    let (status, transcript) = pty.finish();
    assert_eq!(status.code(), Some(phase::STOPPED_EXIT), "{transcript}");
    assert!(scenario.path().join("build/kept").exists());
    assert!(!scenario.path().join("build/ran").exists(), "{transcript}");
}

/// Acceptance 3: no terminal (a new session, pipes): reported and skipped,
/// or a failure under the strict flag; never waiting.
fn without_a_terminal_breakpoints_never_wait() {
    let phase = "x=42\n%break_continue\n%break_exit\necho \"finished x=$x\" > finished";
    for (flags, finishes) in [(&[][..], true), (&["strict"][..], false)] {
        let scenario = Scenario::new(phase, flags);
        let mut command = scenario.command();
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        pty::detach_from_terminal(&mut command);
        let out = command.output().expect("run the phase");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let finished = scenario.path().join("build/finished");
        if finishes {
            assert!(out.status.success(), "{stderr}");
            assert_eq!(
                fs::read_to_string(&finished).expect("the phase ran to its end"),
                "finished x=42\n"
            );
            assert!(stderr.contains("%break_continue at "), "{stderr}");
            assert!(stderr.contains("no terminal, skipped"), "{stderr}");
            assert!(stderr.contains("%break_exit at "), "{stderr}");
        } else {
            assert_eq!(
                out.status.code(),
                Some(phase::STOPPED_NO_TERMINAL),
                "{stderr}"
            );
            assert!(!finished.exists(), "{stderr}");
            assert!(stderr.contains("reached without a terminal"), "{stderr}");
        }
    }
}

/// Acceptance 4: a failing `make` opens the console; `where` names the
/// recipe line; the shell there has the script's state.
fn break_on_failure_opens_the_console_at_make() {
    let scenario = Scenario::new(
        "x=7\nprintf 'all:\\n\\t@echo compiling; exit 3\\n' > Makefile\n\nmake\necho never > never",
        &["on-failure"],
    );
    let mut pty = Pty::spawn(scenario.command(), 24, 80);
    pty.expect("compiling");
    pty.expect("`make` failed with status 2 at ");
    pty.expect(console_prompt());
    pty.line("where");
    pty.expect("stone.yaml:9 (phase build)");
    pty.expect("   9 |         make");
    pty.expect(console_prompt());
    pty.line("script");
    pty.expect("| make\r\n");
    pty.expect(console_prompt());
    pty.line("shell");
    let prompt = "(failed, script line ";
    pty.expect(prompt);
    pty.line("echo x=$x; make; echo make=$?");
    pty.expect("x=7\r\n");
    pty.expect("make=2");
    pty.line("exit");
    pty.expect(console_prompt());
    pty.line("abort");
    let (status, transcript) = pty.finish();
    assert_eq!(status.code(), Some(2), "{transcript}");
    assert!(
        !scenario.path().join("build/never").exists(),
        "{transcript}"
    );
}

/// The console: Tab completion of its commands, unknown commands, and the
/// history file in the cache directory.
fn console_completes_and_keeps_history() {
    let scenario = Scenario::new("%break_continue\necho done > done", &[]);
    let mut pty = Pty::spawn(scenario.command(), 24, 80);
    pty.expect("recipe line 6) ");
    pty.line("exit");
    pty.expect(console_prompt());
    pty.send("wh\t\r");
    pty.expect("stone.yaml:6 (phase build)");
    pty.expect(console_prompt());
    pty.line("frobnicate");
    pty.expect("unknown command `frobnicate`");
    pty.expect(console_prompt());
    pty.send("con\t\r");
    let transcript = pty.finish_success();
    assert!(scenario.path().join("build/done").exists(), "{transcript}");
    let history = fs::read_to_string(scenario.path().join("cache/break-history"))
        .expect("the console's history file");
    assert!(history.contains("where"), "{history}");
    assert!(history.contains("continue"), "{history}");
}

fn console_prompt() -> &'static str {
    boulder::build::breakpoint::PROMPT
}
