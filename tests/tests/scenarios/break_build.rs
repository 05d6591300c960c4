//! Breakpoints through `boulder build` itself, in real build roots imported
//! from the host (Debian/Ubuntu with dpkg; skipped elsewhere), with a real
//! pseudo-terminal where a terminal is wanted. No timeouts: a wait ends
//! when the text shows or the terminal closes (the test then fails with the
//! transcript).

#[allow(dead_code)]
#[path = "../break_pty/pty.rs"]
mod pty;

use std::fs;
use std::process::{Command, Stdio};

use crate::common::{cache_dir, have_dpkg};
use moss_core::stone::StoneReader;
use pty::Pty;

const HEADER: &str = "name        : breaktest
version     : 1.0
release     : 1
summary     : Breakpoint test
license     : MPL-2.0
homepage    : https://example.invalid/breaktest
description : |
    Exercises breakpoints.
toolchain   : gnu
";

/// A recipe directory with `HEADER` plus `phases`, and an output directory.
struct Case {
    recipe: tempfile::TempDir,
    out: tempfile::TempDir,
}

impl Case {
    fn new(phases: &str) -> Case {
        let recipe = tempfile::tempdir().expect("tempdir");
        fs::write(
            recipe.path().join("stone.yaml"),
            format!("{HEADER}{phases}"),
        )
        .expect("write the recipe");
        Case {
            recipe,
            out: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn command(&self, extra: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_boulder"));
        command
            .arg("build")
            .arg("--cache-dir")
            .arg(cache_dir())
            .arg(self.recipe.path())
            .arg("-o")
            .arg(self.out.path())
            .args(extra)
            .env("TERM", "xterm-256color")
            .env_remove("SOURCE_DATE_EPOCH");
        command
    }

    /// The files of the `breaktest` stone.
    fn packaged(&self) -> Vec<String> {
        let stone = fs::read_dir(self.out.path())
            .expect("output dir")
            .map(|e| e.expect("entry").path())
            .find(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                name.starts_with("breaktest-1.0") && name.ends_with(".stone")
            })
            .expect("the breaktest stone");
        StoneReader::open_path(&stone)
            .expect("stone")
            .layout()
            .iter()
            .map(|e| e.usr_path())
            .collect()
    }
}

// Line 10 is the first line after HEADER.
const STATEFUL: &str = "install     : |
    mkdir -p %(installroot)/usr/share/doc
    echo partial > f
    x=42
    %break_continue
    echo \"resumed x=$x\" > %(installroot)/usr/share/doc/resumed
";

/// Acceptance 1.
#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn shell_at_break_continue_keeps_state_and_the_build_packages_its_work() {
    if !have_dpkg() {
        return;
    }
    let case = Case::new(STATEFUL);
    let mut pty = Pty::spawn(case.command(&[]), 30, 100);
    pty.expect("%break_continue at ");
    pty.expect("stone.yaml:14 (phase install)");
    let prompt = "recipe line 14) ";
    pty.expect(prompt);
    pty.line("echo $x; cat f");
    pty.expect("\r\n42\r\npartial\r\n");
    pty.expect(prompt);
    pty.line("touch /mason/install/usr/share/marker && echo touched-$((3*3))");
    pty.expect("touched-9");
    pty.expect(prompt);
    pty.line("exit");
    pty.expect(boulder::build::breakpoint::PROMPT);
    pty.line("where");
    pty.expect("stone.yaml:14 (phase install)");
    pty.expect(boulder::build::breakpoint::PROMPT);
    pty.line("continue");
    let transcript = pty.finish_success();
    let files = case.packaged();
    assert!(
        files.iter().any(|f| f == "/usr/share/marker"),
        "{files:?}\n{transcript}"
    );
    assert!(
        files.iter().any(|f| f == "/usr/share/doc/resumed"),
        "{files:?}"
    );
}

/// Acceptance 2.
#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn break_exit_stops_the_build_after_the_shell_and_keeps_the_root() {
    if !have_dpkg() {
        return;
    }
    let case = Case::new(
        "install     : |\n    touch here\n    %break_exit\n    touch %(installroot)/never\n",
    );
    let mut pty = Pty::spawn(case.command(&[]), 30, 100);
    pty.expect("recipe line 12) ");
    pty.line("exit");
    pty.expect("stopped at the %break_exit on line 12 of");
    pty.expect("root is kept");
    let (status, transcript) = pty.finish();
    assert!(!status.success(), "{transcript}");
    assert!(
        fs::read_dir(case.out.path()).expect("out").next().is_none(),
        "nothing is emitted\n{transcript}"
    );
}

/// Acceptance 3: no terminal (new session, pipes); never waits.
#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn without_a_terminal_the_same_recipes_finish_or_fail_under_the_flag() {
    if !have_dpkg() {
        return;
    }
    for (flags, succeeds) in [(&[][..], true), (&["--break-strict"][..], false)] {
        let case = Case::new(STATEFUL);
        let mut command = case.command(flags);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        pty::detach_from_terminal(&mut command);
        let out = command.output().expect("boulder runs");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.success(), succeeds, "{flags:?}\n{all}");
        if succeeds {
            assert!(all.contains("no terminal, skipped"), "{all}");
            assert!(case
                .packaged()
                .iter()
                .any(|f| f == "/usr/share/doc/resumed"));
        } else {
            assert!(all.contains("reached without a terminal"), "{all}");
        }
    }
}

/// Acceptance 4.
#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn break_on_failure_opens_the_console_at_a_failing_make() {
    if !have_dpkg() {
        return;
    }
    let case = Case::new(
        "builddeps   :
    - binary(make)
setup       : |
    printf 'all:\\n\\t@echo compiling; exit 3\\n' > Makefile
build       : |
    x=5
    %make
",
    );
    let mut pty = Pty::spawn(case.command(&["--break-on-failure"]), 30, 100);
    pty.expect("compiling");
    pty.expect("failed with status 2 at ");
    pty.expect(boulder::build::breakpoint::PROMPT);
    pty.line("where");
    pty.expect("stone.yaml:16 (phase build)");
    pty.expect("  16 |     %make");
    pty.expect(boulder::build::breakpoint::PROMPT);
    pty.line("shell");
    pty.expect("(failed, script line ");
    pty.line("echo x=$x; ls Makefile");
    pty.expect("x=5\r\nMakefile\r\n");
    pty.line("exit");
    pty.expect(boulder::build::breakpoint::PROMPT);
    pty.line("abort");
    let (status, transcript) = pty.finish();
    assert!(!status.success(), "{transcript}");
    assert!(transcript.contains("stone.yaml:16"), "{transcript}");
}

/// A breakpoint inside an action's expansion pauses at that exact point;
/// `where` names the line of the action call.
#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn breakpoint_inside_a_macro_pauses_at_that_point() {
    if !have_dpkg() {
        return;
    }
    let case = Case::new(
        "install     : |
    y=7
    %pause_here
    mkdir -p %(installroot)/usr/share/doc
    echo \"y=$y\" > %(installroot)/usr/share/doc/after
",
    );
    let data = tempfile::tempdir().expect("tempdir");
    let actions = data.path().join("macros/actions");
    fs::create_dir_all(&actions).expect("mkdir actions");
    fs::write(
        actions.join("pause.yaml"),
        "actions:
    - pause_here:
        description: Says so, pauses the phase for a look, then says so again
        example: |
            %pause_here
        command: |
            echo before-$((20+1))
            %break_continue
            echo after-$((20+2))
",
    )
    .expect("write the action");
    let data_dir = data.path().to_str().expect("utf-8 path").to_string();
    let mut pty = Pty::spawn(case.command(&["--data-dir", &data_dir]), 30, 100);
    pty.expect("before-21");
    pty.expect("%break_continue at ");
    pty.expect("stone.yaml:12 (phase install)");
    let prompt = "recipe line 12) ";
    pty.expect(prompt);
    pty.line("echo y=$y");
    pty.expect("\r\ny=7\r\n");
    pty.expect(prompt);
    pty.line("exit");
    pty.expect(boulder::build::breakpoint::PROMPT);
    pty.line("continue");
    pty.expect("after-22");
    let transcript = pty.finish_success();
    let before = transcript.find("before-21").expect("before");
    let paused = transcript.find("%break_continue at ").expect("paused");
    let after = transcript.rfind("after-22").expect("after");
    assert!(before < paused && paused < after, "{transcript}");
    assert!(case.packaged().iter().any(|f| f == "/usr/share/doc/after"));
}
