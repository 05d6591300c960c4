//! Issue 4 acceptance 3: moss is killed with SIGKILL at every fault-injection
//! point of an install (`MOSS_FAULT_INJECT=n` kills at the n-th checkpoint);
//! after each kill the next moss run leaves `ROOT/usr` exactly the old or the
//! new state, `moss verify` is clean, and the root keeps working.

mod engine_support;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
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

#[test]
fn sigkill_at_every_checkpoint_leaves_old_or_new_state() {
    // tmpfs when there is one: the many short moss runs are dominated by fsync.
    let shm = std::path::Path::new("/dev/shm");
    let work = if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let stones = work.path().join("stones");
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
    let install_args = ["install", base2.to_str().unwrap(), extra.to_str().unwrap()];

    let template = work.path().join("template");
    std::fs::create_dir(&template).unwrap();
    moss_ok(&template, &["install", base.to_str().unwrap()]);
    let old = usr_snapshot(&template);

    let reference = work.path().join("reference");
    copy_root(&template, &reference);
    moss_ok(&reference, &install_args);
    let new = usr_snapshot(&reference);
    assert_ne!(old, new);

    let (mut kills, mut old_seen, mut new_seen) = (0, 0, 0);
    for n in 1.. {
        let root = work.path().join(format!("root-{n}"));
        copy_root(&template, &root);
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
            assert!(active.contains("*    1 "), "checkpoint {n}: {active}");
        } else if now == new {
            new_seen += 1;
            assert!(active.contains("*    2 "), "checkpoint {n}: {active}");
        } else {
            panic!("checkpoint {n}: /usr is neither the old nor the new state: {now:#?}");
        }
        assert!(!root.join(".moss/root/staging").exists(), "checkpoint {n}");

        // The root keeps working: the install (again, if needed) reaches the new tree.
        if now == old {
            moss_ok(&root, &install_args);
        }
        assert_eq!(usr_snapshot(&root), new, "checkpoint {n}");
        assert!(moss_ok(&root, &["verify"]).contains(" 0 issue(s)"));
        std::fs::remove_dir_all(&root).unwrap();
    }
    eprintln!("killed at {kills} checkpoints: {old_seen} left the old state, {new_seen} the new");
    assert!(kills >= 50, "only {kills} fault-injection points were hit");
    assert!(old_seen > 0 && new_seen > 0);
}
