//! Acceptance of the local repository with moss: a program built by
//! `boulder build` against a library of the same run installs with
//! `moss install ./program.stone` into a fresh root whose repositories are
//! the local one (the library) and the host import (the C library), and
//! runs there.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shown(output: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn ok(command: &mut Command) -> String {
    let output = command.output().expect("runs");
    assert!(output.status.success(), "{command:?}\n{}", shown(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stone(dir: &Path, name: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .expect("package dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{name}-1")) && n.ends_with(".stone"))
        })
        .unwrap_or_else(|| panic!("no {name} stone in {}", dir.display()))
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn a_program_from_the_local_repository_installs_with_its_library_and_runs() {
    if !test_support::have_dpkg("local_repo_install") {
        return;
    }
    // The cache the boulder tests share (the host import is slow).
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("boulder-root-cache");
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let examples = e2e::workspace_root().join("recipes-example");
    ok(e2e::command("boulder")
        .args(["build", "--cache-dir"])
        .arg(&cache)
        .arg(examples.join("libgreet"))
        .arg(examples.join("welcome"))
        .arg("--repo")
        .arg(&repo)
        .env_remove("SOURCE_DATE_EPOCH"));

    let root = work.path().join("root");
    std::fs::create_dir_all(&root).expect("root");
    for (name, index, priority) in [
        ("local", repo.join("stone.index"), "10"),
        ("host", cache.join("repos/host/stone.index"), "0"),
    ] {
        ok(e2e::command("moss")
            .args(["repo", "add", "-D"])
            .arg(&root)
            .arg(name)
            .arg(&index)
            .args(["-p", priority]));
    }
    let welcome = stone(&repo.join("packages/welcome"), "welcome");
    let said = ok(e2e::command("moss")
        .args(["install", "-D"])
        .arg(&root)
        .arg(&welcome));
    assert!(said.contains("install libgreet "), "{said}");
    assert!(said.contains("install libc6 "), "{said}");
    // The usr-merge links a loader path needs.
    assert_eq!(
        std::fs::read_link(root.join("bin")).expect("/bin link"),
        Path::new("usr/bin")
    );
    assert!(std::fs::symlink_metadata(root.join("lib64")).is_ok_and(|m| m.is_symlink()));
    let ran = ok(e2e::command("moss")
        .arg("sandbox")
        .arg(&root)
        .args(["--", "welcome", "packager"]));
    assert_eq!(ran.trim(), "Hello from libgreet, packager!");
}
