//! The command-line conventions of `boulder`, through the real binary:
//! completions and man pages generated from the CLI definition, the commit
//! in `--version`, `-j 0` refused, `-q` and `-v` exclusive.

use std::fs;
use std::process::{Command, Output};

fn boulder(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_boulder"))
        .args(args)
        .output()
        .expect("run boulder")
}

fn ok(args: &[&str]) -> String {
    let out = boulder(args);
    assert!(
        out.status.success(),
        "boulder {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn completions_for_bash_zsh_and_fish_know_the_subcommands() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef boulder"),
        ("fish", "complete -c boulder"),
    ] {
        let script = ok(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: {marker}");
        for word in ["build", "chroot", "recipe", "break-on-failure", "quiet"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    assert!(!boulder(&["completions", "tcsh"]).status.success());
}

#[test]
fn man_pages_cover_every_subcommand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let said = ok(&["man", dir.path().to_str().expect("utf-8")]);
    assert!(said.contains("man page(s)"), "{said}");
    let top = fs::read_to_string(dir.path().join("boulder.1")).expect("boulder.1");
    assert!(top.contains(".TH boulder 1"), "{top}");
    let build = fs::read_to_string(dir.path().join("boulder-build.1")).expect("boulder-build.1");
    assert!(build.contains(".TH boulder-build 1"), "{build}");
    assert!(build.contains("verify"), "{build}");
    for page in [
        "boulder-recipe-check.1",
        "boulder-cache-prune.1",
        "boulder-man.1",
    ] {
        assert!(dir.path().join(page).is_file(), "{page}");
    }
}

#[test]
fn version_names_the_commit_when_built_from_git() {
    let shown = ok(&["--version"]);
    e2e::assert_version_line("boulder", &shown);
    assert_eq!(ok(&["version"]).trim(), shown.trim());
}

#[test]
fn zero_jobs_and_quiet_with_verbose_are_refused() {
    let out = boulder(&["build", "-j", "0", "."]);
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("at least 1"), "{said}");
    let out = boulder(&["-q", "-v", "macros"]);
    assert_eq!(out.status.code(), Some(2));
    // Both are global: they may follow the subcommand too.
    assert!(boulder(&["macros", "-q"]).status.success());
}
