//! Issue 4 acceptance 3: moss is killed with SIGKILL at every fault-injection
//! point of an install (`MOSS_FAULT_INJECT=n` kills at the n-th checkpoint);
//! after each kill the next moss run leaves `ROOT/usr` exactly the old or the
//! new state, `moss verify` is clean, and the root keeps working.

use crate::engine_support;

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use engine_support::*;

fn copy_root(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

/// A scratch directory, on tmpfs when there is one: the many short moss runs
/// are dominated by fsync.
fn work_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    }
}

/// `base` 1.0, `base` 2.0 (changed contents, a new file at mode 0600, a
/// retargeted link, removed entries) and `extra`.
fn stones(work: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let stones = work.join("stones");
    std::fs::create_dir(&stones).unwrap();
    let base = write_stone(
        &stones,
        &meta("base"),
        &[
            Item::File("bin/base", b"#!/bin/sh\necho base\n", 0o755),
            Item::File("share/base/a", b"alpha", 0o644),
            Item::File("share/base/b", b"beta", 0o644),
            Item::Link("share/base/c", "a"),
            Item::Dir("share/base/empty", 0o755),
        ],
    );
    let mut upgraded = meta("base");
    upgraded.version = "2.0".into();
    let base2 = write_stone(
        &stones,
        &upgraded,
        &[
            Item::File("bin/base", b"#!/bin/sh\necho base 2\n", 0o755),
            Item::File("share/base/a", b"alpha 2", 0o644),
            Item::File("share/base/d", b"delta", 0o600),
            Item::Link("share/base/c", "d"),
        ],
    );
    let extra = write_stone(
        &stones,
        &meta("extra"),
        &[
            Item::File("bin/extra", b"#!/bin/sh\necho extra\n", 0o755),
            Item::File("lib/libextra.so.1", b"\x7fELF not really", 0o644),
            Item::Link("lib/libextra.so", "libextra.so.1"),
            Item::File("share/extra/one", b"one", 0o644),
            Item::File("share/extra/two", b"two", 0o644),
            Item::File("share/extra/same-as-a", b"alpha 2", 0o644),
            Item::File("share/extra/empty", b"", 0o644),
            Item::File("share/doc/extra/README", b"read me", 0o644),
        ],
    );
    (base, base2, extra)
}

fn inode(path: &Path) -> u64 {
    std::fs::symlink_metadata(path).unwrap().ino()
}

#[test]
fn sigkill_at_every_checkpoint_leaves_old_or_new_state() {
    let work = work_dir();
    let (base, base2, extra) = stones(work.path());
    let install_args = ["install", base2.to_str().unwrap(), extra.to_str().unwrap()];
    let template = work.path().join("template");
    std::fs::create_dir(&template).unwrap();
    moss_ok(&template, &["install", base.to_str().unwrap()]);
    let (kills, old_seen, new_seen) = kill_everywhere(work.path(), &template, &install_args, 1, 2);
    eprintln!("killed at {kills} checkpoints: {old_seen} left the old state, {new_seen} the new");
    assert!(kills >= 50, "only {kills} fault-injection points were hit");
    assert!(old_seen > 0 && new_seen > 0);
}

/// The same while the transaction patches an archived tree (double
/// buffering) instead of blitting: a kill in the middle of the patch leaves
/// the old state live and `verify` clean.
#[test]
fn sigkill_while_patching_an_archived_tree() {
    kill_while_patching(false);
}

/// The same with a state that ships trigger files, whose archived tree holds
/// files a handler wrote: they are removed before the patch.
#[test]
fn sigkill_while_reconciling_an_archived_tree() {
    kill_while_patching(true);
}

fn kill_while_patching(with_triggers: bool) {
    let work = work_dir();
    let (base, base2, extra) = stones(work.path());
    let template = work.path().join("template");
    std::fs::create_dir(&template).unwrap();
    let bulk = bulk_stone(work.path(), 60);
    let trigger = write_stone(
        work.path(),
        &meta("t"),
        &[Item::File(
            "share/moss/triggers/tx.d/never.yaml",
            b"name: never\nhandlers:\n  h:\n    run: /usr/bin/true\npaths:\n  \"/usr/nowhere/*\":\n    handlers: [h]\n",
            0o644,
        )],
    );
    let mut first = vec!["install", base.to_str().unwrap(), bulk.to_str().unwrap()];
    if with_triggers {
        first.push(trigger.to_str().unwrap());
    }
    moss_ok(&template, &first);
    moss_ok(&template, &["install", extra.to_str().unwrap()]);
    // State 1's tree is archived: the next transaction patches it into state 3.
    let archived = template.join(".moss/root/1/usr");
    assert!(archived.is_dir());
    if with_triggers {
        for i in 0..10 {
            std::fs::write(archived.join(format!("share/base/out{i}")), "output").unwrap();
        }
    }
    let install_args = ["install", base2.to_str().unwrap()];

    let probe = work.path().join("probe");
    copy_root(&template, &probe);
    let spare = inode(&probe.join(".moss/root/1/usr"));
    moss_ok(&probe, &install_args);
    assert_eq!(
        inode(&probe.join("usr")),
        spare,
        "the archived tree was patched"
    );
    assert!(!probe.join(".moss/root/1").exists());
    assert!(!probe.join("usr/share/base/out0").exists());
    std::fs::remove_dir_all(&probe).unwrap();

    let (kills, old_seen, new_seen) = kill_everywhere(work.path(), &template, &install_args, 2, 3);
    eprintln!("killed at {kills} checkpoints: {old_seen} left the old state, {new_seen} the new");
    assert!(kills >= 20, "only {kills} fault-injection points were hit");
    assert!(old_seen > 0 && new_seen > 0);
}

/// Runs `args` on copies of `template` killed at checkpoint 1, 2, … until
/// one run succeeds; checks every crash. Returns (kills, old seen, new seen).
fn kill_everywhere(
    work: &Path,
    template: &Path,
    install_args: &[&str],
    old_id: i64,
    new_id: i64,
) -> (usize, usize, usize) {
    let old = usr_snapshot(template);
    let reference = work.join("reference");
    copy_root(template, &reference);
    moss_ok(&reference, install_args);
    let new = usr_snapshot(&reference);
    assert_ne!(old, new);

    let (mut kills, mut old_seen, mut new_seen) = (0, 0, 0);
    for n in 1.. {
        let root = work.join(format!("root-{n}"));
        copy_root(template, &root);
        let out = moss_command(&root)
            .args(install_args)
            .env("MOSS_FAULT_INJECT", n.to_string())
            .output()
            .unwrap();
        if out.status.success() {
            assert_eq!(usr_snapshot(&root), new);
            std::fs::remove_dir_all(&root).unwrap();
            break;
        }
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGKILL),
            "checkpoint {n}: moss failed without being killed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        kills += 1;

        // The next moss run recovers; verify must then be clean.
        let verify = moss_ok(&root, &["verify"]);
        assert!(verify.contains(" 0 issue(s)"), "checkpoint {n}: {verify}");
        let now = usr_snapshot(&root);
        let active = moss_ok(&root, &["state", "list"]);
        if now == old {
            old_seen += 1;
            assert!(
                active.contains(&format!("*    {old_id} ")),
                "checkpoint {n}: {active}"
            );
        } else if now == new {
            new_seen += 1;
            assert!(
                active.contains(&format!("*    {new_id} ")),
                "checkpoint {n}: {active}"
            );
        } else {
            panic!("checkpoint {n}: /usr is neither the old nor the new state: {now:#?}");
        }
        assert!(!root.join(".moss/root/staging").exists(), "checkpoint {n}");

        // The root keeps working: the install (again, if needed) reaches the new tree.
        if now == old {
            moss_ok(&root, install_args);
        }
        assert_eq!(usr_snapshot(&root), new, "checkpoint {n}");
        assert!(moss_ok(&root, &["verify"]).contains(" 0 issue(s)"));
        std::fs::remove_dir_all(&root).unwrap();
    }
    (kills, old_seen, new_seen)
}
