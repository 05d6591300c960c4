//! The command-line conventions of `moss`, through the real binary:
//! completions and man pages generated from the CLI definition, the commit
//! in `--version`, people's times and wording in `state`, `-y` accepted,
//! a missing `-D` root created by `install`, the `pack` of a whole root
//! warned about, the id-mapping warning shown once per user, and a closed
//! output pipe ending moss by SIGPIPE.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn moss(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_moss"))
        .args(args)
        .output()
        .expect("run moss")
}

fn ok(args: &[&str]) -> String {
    let out = moss(args);
    assert!(
        out.status.success(),
        "moss {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[test]
fn completions_for_bash_zsh_and_fish_know_the_subcommands() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef moss"),
        ("fish", "complete -c moss"),
    ] {
        let script = ok(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: {marker}");
        for word in ["install", "sandbox", "directory", "yes-all"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let bad = moss(&["completions", "tcsh"]);
    assert!(!bad.status.success());
}

#[test]
fn man_pages_cover_every_subcommand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let said = ok(&["man", p(dir.path())]);
    assert!(said.contains("man page(s)"), "{said}");
    let top = fs::read_to_string(dir.path().join("moss.1")).expect("moss.1");
    assert!(top.contains(".TH moss 1"), "{top}");
    let install = fs::read_to_string(dir.path().join("moss-install.1")).expect("moss-install.1");
    assert!(install.contains(".TH moss-install 1"), "{install}");
    assert!(dir.path().join("moss-state-activate.1").is_file());
    assert!(dir.path().join("moss-repo-add.1").is_file());
    // `man` itself reads them when the host has it.
    if Command::new("man").arg("--version").output().is_ok() {
        let shown = Command::new("man")
            .arg("-l")
            .arg(dir.path().join("moss-install.1"))
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .output()
            .expect("man");
        if shown.status.success() {
            let text = String::from_utf8_lossy(&shown.stdout);
            assert!(text.contains("moss-install"), "{text}");
        }
    }
}

#[test]
fn version_names_the_commit_when_built_from_git() {
    let shown = ok(&["--version"]);
    e2e::assert_version_line("moss", &shown);
    assert_eq!(ok(&["version"]).trim(), shown.trim());
}

fn pack(tree: &Path, stone: &Path, name: &str) -> Output {
    moss(&[
        "pack",
        p(tree),
        "-o",
        p(stone),
        "--name",
        name,
        "--architecture",
        "x86_64",
    ])
}

#[test]
fn install_creates_a_missing_root_and_state_speaks_plainly() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut stones = Vec::new();
    for name in ["alpha", "beta"] {
        let tree = tmp.path().join(name);
        fs::create_dir_all(tree.join("share").join(name)).expect("tree");
        fs::write(tree.join("share").join(name).join("file"), name).expect("file");
        let stone = tmp.path().join(format!("{name}.stone"));
        let packed = pack(&tree, &stone, name);
        assert!(packed.status.success());
        stones.push(stone);
    }
    // Nested, not there yet: created as `boulder build --install` does.
    let root = tmp.path().join("roots/new");
    ok(&["-D", p(&root), "install", "-y", p(&stones[0])]);
    ok(&["install", "--directory", p(&root), "--yes", p(&stones[1])]);
    assert!(root.join("usr/share/beta/file").is_file());

    let listed = ok(&["-D", p(&root), "state", "list"]);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    for line in listed.lines() {
        assert!(
            line.contains(" UTC (just now)") || line.contains(" seconds ago)"),
            "a date and an age, not an epoch: {listed}"
        );
    }
    let shown = ok(&["-D", p(&root), "state", "show", "1"]);
    assert!(shown.contains(" UTC ("), "{shown}");
    let activated = ok(&["-D", p(&root), "state", "activate", "1"]);
    assert!(
        activated.contains("state 1 is active (was 2)"),
        "{activated}"
    );
    assert!(!activated.contains("Some("), "{activated}");

    // Reading commands do not create a root.
    let missing = tmp.path().join("roots/never");
    let _ = moss(&["-D", p(&missing), "list", "installed"]);
    assert!(!missing.exists(), "a read must not create the root");
}

#[test]
fn packing_a_whole_root_instead_of_its_usr_is_warned_about() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tree = tmp.path().join("root");
    fs::create_dir_all(tree.join("usr/bin")).expect("tree");
    fs::write(tree.join("usr/bin/tool"), "#!/bin/sh\n").expect("file");
    let out = pack(&tree, &tmp.path().join("a.stone"), "tool");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("holds nothing but a usr/ folder") && said.contains("/usr/usr/"),
        "{said}"
    );
    let out = pack(&tree.join("usr"), &tmp.path().join("b.stone"), "tool");
    assert!(String::from_utf8_lossy(&out.stderr).is_empty());
}

#[test]
fn the_id_mapping_warning_is_shown_once_per_user() {
    let root = tempfile::tempdir().expect("tempdir");
    fs::create_dir(root.path().join("usr")).expect("usr");
    for link in ["bin", "lib", "lib64", "sbin"] {
        std::os::unix::fs::symlink(format!("usr/{link}"), root.path().join(link)).expect("symlink");
    }
    let cache = tempfile::tempdir().expect("cache");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_moss"))
            .arg("sandbox")
            .arg(root.path())
            .args(["--bind-ro", "/usr", "--", "true"])
            .env("XDG_CACHE_HOME", cache.path())
            .output()
            .expect("moss sandbox")
    };
    let first = run();
    assert!(first.status.success());
    let first = String::from_utf8_lossy(&first.stderr).into_owned();
    let second = String::from_utf8_lossy(&run().stderr).into_owned();
    assert!(!second.contains("warning:"), "shown again:\n{second}");
    // Where the caller has a subordinate id range (or is root) there is
    // nothing to warn about; otherwise the first run warned and said so.
    if first.contains("warning:") {
        assert!(first.contains("uidmap"), "{first}");
        assert!(
            cache.path().join("moss/uidmap-warning-shown").is_file(),
            "{first}"
        );
    }
}

#[test]
fn a_closed_output_pipe_ends_moss_by_sigpipe_not_a_panic() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let mut child = Command::new(env!("CARGO_BIN_EXE_moss"))
        .args(["completions", "zsh"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("moss");
    // The reader goes away before moss has started writing, as
    // `moss … | head -0` does.
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr");
    let status = child.wait().expect("wait");
    assert_eq!(status.signal(), Some(libc::SIGPIPE), "{status:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
