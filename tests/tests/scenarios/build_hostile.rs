//! Hostile recipes against the real binary in real build roots: each attack
//! on what boulder does on the host for the build is refused or harmless,
//! and the shared roots and the store are bit-for-bit unchanged afterwards.
//! Runs as root and as an unprivileged user.

use crate::common;

use common::{have_dpkg, workspace};

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use test_support::text;

fn boulder(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_boulder"))
        .arg(args[0])
        .arg("--cache-dir")
        .arg(cache_dir())
        .args(&args[1..])
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("boulder runs")
}

/// A cache of this file's own: the attacks compare its roots and store
/// before and after, so no other scenario of the binary may build in it
/// meanwhile.
fn cache_dir() -> PathBuf {
    common::cache_dir().with_file_name("boulder-root-cache-hostile")
}

/// A recipe whose phases are `setup`, `build` and `install` as given.
fn recipe(dir: &Path, name: &str, setup: &str, install: &str) -> PathBuf {
    let recipe_dir = dir.join(name);
    fs::create_dir_all(&recipe_dir).unwrap();
    let indent = |s: &str| s.lines().map(|l| format!("    {l}\n")).collect::<String>();
    let yaml = format!(
        "name: {name}\nversion: 1.0.0\nrelease: 1\nsummary: hostile\nlicense: MPL-2.0\nhomepage: https://example.invalid/\ndescription: hostile\nsetup: |\n{}build: |\n    echo building\ninstall: |\n{}",
        indent(setup),
        indent(install)
    );
    fs::write(recipe_dir.join("stone.yaml"), yaml).unwrap();
    recipe_dir
}

fn build(recipe: &Path, out: &Path) -> Output {
    boulder(&[
        "build",
        recipe.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ])
}

/// Every file below `dir` (not following symlinks): kind, mode, owner,
/// content hash or link target.
fn fingerprint(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut seen = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(false) {
        let Ok(entry) = entry else { continue };
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        let what = if meta.file_type().is_symlink() {
            format!("link {:?}", fs::read_link(entry.path()).ok())
        } else if meta.is_file() {
            let bytes = fs::read(entry.path()).unwrap_or_default();
            format!("file {}", blake3::hash(&bytes).to_hex())
        } else {
            "dir".into()
        };
        seen.insert(
            entry.path().to_path_buf(),
            format!("{what} {:o} {}:{}", meta.mode(), meta.uid(), meta.gid()),
        );
    }
    seen
}

fn shared_state() -> BTreeMap<PathBuf, String> {
    let mut all = fingerprint(&cache_dir().join("roots"));
    all.extend(fingerprint(&cache_dir().join("store")));
    all
}

/// The host path of the build root, as a build finds it in mountinfo.
const SHARED_ROOT: &str = "$(awk '$5 == \"/\" { print $4; exit }' /proc/self/mountinfo)";

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn attacking_builds_leave_the_host_the_store_and_the_roots_unchanged() {
    if !have_dpkg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let victim_dir = dir.path().join("victim");
    fs::create_dir(&victim_dir).unwrap();
    let victim = victim_dir.join("precious");
    fs::write(&victim, "the user's file\n").unwrap();
    let victim_path = victim.display().to_string();
    let victim_dir_path = victim_dir.display().to_string();

    // A first, harmless build makes the root the attacks share.
    let warm = recipe(
        dir.path(),
        "warm",
        "true",
        "mkdir -p %(installroot)/usr/share/warm\necho ok > %(installroot)/usr/share/warm/ok",
    );
    let out = dir.path().join("out-warm");
    let o = build(&warm, &out);
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    let before = shared_state();
    assert!(!before.is_empty());

    // 1. The install root replaced by a symlink to the shared root: refused.
    let attack = recipe(
        dir.path(),
        "install-root-link",
        "true",
        &format!("rm -rf /mason/install\nln -s {SHARED_ROOT} /mason/install"),
    );
    let o = build(&attack, &dir.path().join("out-1"));
    let shown = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(!o.status.success(), "{shown}");
    assert!(shown.contains("symlink"), "{shown}");

    // 2. Symlinks where boulder used to write phase scripts, and a try at
    // the new (read-only) place: later phases run boulder's own scripts.
    let attack = recipe(
        dir.path(),
        "script-link",
        &format!(
            "mkdir -p /mason/build/.boulder-scripts\nfor p in setup build install check; do ln -sf {victim_path} /mason/build/.boulder-scripts/x86_64-$p.sh; done\nln -sf {victim_path} /mason/.boulder-scripts/x86_64-build.sh || true\nrm -rf /mason/.boulder-scripts 2>/dev/null || true"
        ),
        "mkdir -p %(installroot)/usr/share/x\necho ok > %(installroot)/usr/share/x/ok",
    );
    let o = build(&attack, &dir.path().join("out-2"));
    let shown = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "{shown}");
    assert!(shown.contains("building"), "{shown}");

    // 3. Symlinks in and in place of /mason/artefacts: stones go to a
    // directory of boulder's own; the output holds real files.
    let attack = recipe(
        dir.path(),
        "artefacts-link",
        "true",
        &format!(
            "mkdir -p %(installroot)/usr/share/y\necho ok > %(installroot)/usr/share/y/ok\nfor f in artefacts-link-1.0.0-1-1-x86_64.stone manifest.x86_64.bin manifest.x86_64.jsonc; do ln -sf {victim_path} /mason/artefacts/$f; done\nmv /mason/artefacts /mason/artefacts.old\nln -s {victim_dir_path} /mason/artefacts"
        ),
    );
    let out3 = dir.path().join("out-3");
    let o = build(&attack, &out3);
    let shown = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "{shown}");
    for entry in fs::read_dir(&out3).unwrap() {
        let entry = entry.unwrap();
        assert!(
            entry.file_type().unwrap().is_file(),
            "{:?} is not a regular file",
            entry.path()
        );
    }

    // 4. A write to the shared root through its host path: read-only.
    let attack = recipe(
        dir.path(),
        "shared-root",
        &format!("root={SHARED_ROOT}\necho pwned > \"$root/usr/bin/make\" || true\necho pwned > /usr/bin/make || true\ntouch /usr/pwned || true"),
        "mkdir -p %(installroot)/usr/share/z\necho ok > %(installroot)/usr/share/z/ok",
    );
    let o = build(&attack, &dir.path().join("out-4"));
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));

    // 5. Typing into the packager's terminal (TIOCSTI on every descriptor
    // and on /dev/tty), escape sequences and a 1 MB line in the output:
    // boulder runs in a real terminal; nothing reaches its input queue and
    // the output shows the escapes instead of obeying them.
    let attack = recipe(
        dir.path(),
        "terminal",
        "for fd in 0 1 2; do perl -e 'my $c; for $c (split //, \"touch /tmp/typed\\n\") { ioctl(STDIN, 0x5412, $c) }' <&$fd || true; done\nperl -e 'open(my $t, \"+<\", \"/dev/tty\") or exit 0; my $c; for $c (split //, \"touch /tmp/typed\\n\") { ioctl($t, 0x5412, $c) }' || true\nprintf 'esc-\\033]0;pwned\\007-\\033[2J-end\\n'\nhead -c 1048576 /dev/zero | tr '\\0' a; echo",
        "mkdir -p %(installroot)/usr/share/t\necho ok > %(installroot)/usr/share/t/ok",
    );
    let (status, terminal_output, typed) = build_in_a_terminal(&attack, &dir.path().join("out-5"));
    assert!(
        status.success(),
        "{}",
        text(&terminal_output[..terminal_output.len().min(4000)])
    );
    assert!(
        typed.is_empty(),
        "the build typed into the terminal: {:?}",
        text(&typed)
    );
    let shown = text(&terminal_output);
    assert!(
        shown.contains("esc-^[]0;pwned^G-^[[2J-end"),
        "escapes not made printable"
    );
    assert!(
        !shown.contains("\x1b]0;pwned"),
        "a raw escape sequence reached the terminal"
    );
    assert!(
        shown.contains(&"a".repeat(1 << 20)),
        "the 1 MB line is missing"
    );

    // 6. A full /tmp and a fork bomb stop at their limits with a clear message.
    let attack = recipe(
        dir.path(),
        "full-tmp",
        "dd if=/dev/zero of=/tmp/fill bs=1M count=64",
        "true",
    );
    let o = boulder(&[
        "build",
        attack.to_str().unwrap(),
        "-o",
        dir.path().join("out-6").to_str().unwrap(),
        "--tmp-size",
        "8M",
    ]);
    let shown = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(!o.status.success(), "{shown}");
    assert!(shown.contains("--tmp-size"), "{shown}");
    if !nix::unistd::Uid::effective().is_root() {
        // The kernel does not count the host root's processes.
        let attack = recipe(
            dir.path(),
            "fork-bomb",
            "for i in $(seq 300); do sleep 30 & done",
            "true",
        );
        let o = boulder(&[
            "build",
            attack.to_str().unwrap(),
            "-o",
            dir.path().join("out-7").to_str().unwrap(),
            "--max-processes",
            "64",
        ]);
        let shown = format!("{}{}", text(&o.stdout), text(&o.stderr));
        assert!(!o.status.success(), "{shown}");
        assert!(shown.contains("--max-processes"), "{shown}");
    }

    assert_eq!(
        fs::read_to_string(&victim).unwrap(),
        "the user's file\n",
        "a build wrote through a symlink into the user's file"
    );
    let names: Vec<_> = fs::read_dir(&victim_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("precious")]);
    let after = shared_state();
    let changed: Vec<_> = before
        .iter()
        .filter(|(path, what)| after.get(*path) != Some(*what))
        .map(|(path, _)| path)
        .chain(after.keys().filter(|path| !before.contains_key(*path)))
        .collect();
    assert!(
        changed.is_empty(),
        "the store or a shared root changed: {changed:?}"
    );
}

/// Builds `recipe` with boulder's stdio and controlling terminal a fresh
/// pty, as in the packager's terminal. Returns the status, what boulder
/// printed, and what sits in the terminal's input queue afterwards (what
/// the packager's shell would read).
fn build_in_a_terminal(recipe: &Path, out: &Path) -> (std::process::ExitStatus, Vec<u8>, Vec<u8>) {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let pair = nix::pty::openpty(None, None).expect("openpty");
    let slave_fd = pair.slave.as_raw_fd();
    let mut command = Command::new(env!("CARGO_BIN_EXE_boulder"));
    command
        .args(["build", "--cache-dir"])
        .arg(cache_dir())
        .arg(recipe)
        .arg("-o")
        .arg(out)
        .env_remove("SOURCE_DATE_EPOCH")
        .stdin(std::process::Stdio::from(pair.slave.try_clone().unwrap()))
        .stdout(std::process::Stdio::from(pair.slave.try_clone().unwrap()))
        .stderr(std::process::Stdio::from(pair.slave.try_clone().unwrap()));
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(move || {
            if libc::setsid() < 0 || libc::ioctl(slave_fd, libc::TIOCSCTTY, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("boulder runs");
    // The command holds copies of the slave until dropped.
    drop(command);
    let mut master = fs::File::from(pair.master);
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 65536];
        // EIO once every slave descriptor is closed.
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        all
    });
    let status = child.wait().expect("wait for boulder");
    nix::fcntl::fcntl(
        pair.slave.as_raw_fd(),
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .expect("nonblocking");
    // Canonical mode: input waits for a newline; a pushed line has one.
    let mut typed = Vec::new();
    let mut slave = fs::File::from(pair.slave);
    let _ = slave.read_to_end(&mut typed);
    drop(slave);
    let printed = reader.join().expect("reader");
    (status, printed, typed)
}

#[test]
#[cfg_attr(lacks_git, ignore = "needs git")]
fn a_hostile_git_config_in_the_recipe_directory_runs_nothing() {
    if Command::new("git").arg("--version").output().is_err() {
        test_support::missing(
            "a_hostile_git_config_in_the_recipe_directory_runs_nothing",
            "git",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("recipe");
    fs::create_dir(&repo).unwrap();
    let marker = dir.path().join("ran");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    git(&["init", "-q"]);
    fs::write(repo.join("stone.yaml"), "name: x\n").unwrap();
    git(&["add", "stone.yaml"]);
    let tree = git(&["write-tree"]);
    // A commit with a signature block: `log.showSignature` hands it to
    // `gpg.program`, which the recipe directory's config names.
    let commit = format!(
        "tree {}\nauthor a <a@b> 1700000000 +0000\ncommitter a <a@b> 1700000000 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\nsigned\n",
        tree.trim()
    );
    fs::write(dir.path().join("commit"), commit).unwrap();
    let id = git(&[
        "hash-object",
        "-t",
        "commit",
        "-w",
        dir.path().join("commit").to_str().unwrap(),
    ]);
    git(&["update-ref", "HEAD", id.trim()]);
    let evil = repo.join("evil.sh");
    fs::write(&evil, format!("#!/bin/sh\ntouch {}\n", marker.display())).unwrap();
    fs::set_permissions(&evil, fs::Permissions::from_mode(0o755)).unwrap();
    for (key, value) in [
        ("log.showSignature", "true".to_string()),
        ("gpg.program", evil.display().to_string()),
        ("core.fsmonitor", evil.display().to_string()),
        ("core.pager", evil.display().to_string()),
        ("core.hooksPath", repo.display().to_string()),
    ] {
        git(&["config", key, &value]);
    }
    // The attack is real: plain git runs the program.
    let _ = Command::new("git")
        .arg("-C")
        .arg(&repo)
        .args(["log", "-1", "--format=%ct", "--", "stone.yaml"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output();
    assert!(
        marker.exists(),
        "plain git did not run gpg.program: the test proves nothing"
    );
    fs::remove_file(&marker).unwrap();
    let time = boulder::package::emit::epoch::git_commit_time(&repo.join("stone.yaml"));
    assert_eq!(time, Some(1_700_000_000));
    assert!(
        !marker.exists(),
        "boulder's git ran the recipe directory's program"
    );
}

#[test]
fn cache_prune_removes_a_build_directory_left_mode_000() {
    let dir = tempfile::tempdir().unwrap();
    let cache = boulder::root::Cache::open(Some(dir.path())).unwrap();
    let base = cache.builds_dir().join("hostile-00000000000000000001-1-0");
    let locked = base.join("mason/build/x86_64/locked");
    fs::create_dir_all(locked.join("inner/deeper")).unwrap();
    fs::write(locked.join("inner/file"), "x").unwrap();
    fs::set_permissions(locked.join("inner"), fs::Permissions::from_mode(0o000)).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    // Old enough for any age limit.
    let options = boulder::root::prune::PruneOptions {
        max_age: std::time::Duration::ZERO,
        max_bytes: None,
    };
    std::thread::sleep(std::time::Duration::from_millis(10));
    let report = boulder::root::prune::prune(&cache, &options).expect("prune");
    assert_eq!(report.builds, 1);
    assert!(!base.exists());
    let _ = workspace();
}
