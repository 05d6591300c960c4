//! Double buffering: a transaction that patches an archived tree into the
//! new state gives exactly the tree a full blit gives (modes, kinds, links,
//! removed packages), and an archived tree that cannot be trusted is not
//! reused.

use crate::engine_support;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use engine_support::*;

fn inode(path: &Path) -> u64 {
    fs::symlink_metadata(path).unwrap().ino()
}

struct Stones {
    bulk: PathBuf,
    a1: PathBuf,
    a2: PathBuf,
    b: PathBuf,
    c: PathBuf,
}

fn stones(dir: &Path) -> Stones {
    let a1 = write_stone(
        dir,
        &meta("a"),
        &[
            Item::File("bin/a", b"#!/bin/sh\necho a\n", 0o755),
            Item::File("share/a/mode", b"mode", 0o644),
            Item::File("share/a/to-link", b"becomes a link", 0o644),
            Item::Link("share/a/to-file", "mode"),
            Item::Dir("share/a/to-file-dir", 0o755),
            Item::File("share/a/to-file-dir/inner", b"inner", 0o644),
            Item::Dir("share/a/sub", 0o755),
            Item::File("share/a/sub/deep", b"deep", 0o644),
            Item::Dir("share/a/ro", 0o555),
            Item::File("share/a/ro/kept", b"kept", 0o644),
            Item::File("share/a/ro/gone", b"gone", 0o644),
            Item::File("share/a/content", b"content 1", 0o644),
            Item::File("share/a/to-dir", b"becomes a directory", 0o644),
            Item::File("share/a/only-in-1", b"only in 1", 0o600),
        ],
    );
    let mut v2 = meta("a");
    v2.version = "2.0".into();
    let a2_dir = dir.join("v2");
    fs::create_dir_all(&a2_dir).unwrap();
    let a2 = write_stone(
        &a2_dir,
        &v2,
        &[
            Item::File("bin/a", b"#!/bin/sh\necho a\n", 0o700),
            Item::File("share/a/mode", b"mode", 0o755),
            Item::Link("share/a/to-link", "mode"),
            Item::File("share/a/to-file", b"was a link", 0o644),
            Item::File("share/a/to-file-dir", b"was a directory", 0o644),
            Item::Dir("share/a/sub", 0o750),
            Item::File("share/a/sub/deep", b"deep", 0o644),
            Item::File("share/a/sub/new", b"new", 0o644),
            Item::Dir("share/a/ro", 0o555),
            Item::File("share/a/ro/kept", b"kept", 0o644),
            Item::File("share/a/ro/added", b"added", 0o644),
            Item::File("share/a/content", b"content 2", 0o644),
            Item::Dir("share/a/to-dir", 0o755),
            Item::Dir("share/a/to-dir/nested", 0o500),
            Item::File("share/a/to-dir/nested/file", b"nested", 0o644),
            Item::File("share/a/empty", b"", 0o644),
        ],
    );
    let b = write_stone(
        dir,
        &meta("b"),
        &[
            Item::File("bin/b", b"#!/bin/sh\necho b\n", 0o755),
            Item::File("share/a/from-b", b"b puts one into a's directory", 0o644),
            Item::Link("lib/libb.so", "libb.so.1"),
            Item::File("lib/libb.so.1", b"\x7fELF b", 0o644),
        ],
    );
    let c = write_stone(
        dir,
        &meta("c"),
        &[
            Item::Dir("share/c", 0o755),
            Item::Dir("share/c/tree", 0o755),
            Item::File("share/c/tree/leaf", b"leaf", 0o644),
            Item::Link("share/c/link", "tree/leaf"),
            Item::File("lib/libc-pkg.so.1", b"\x7fELF c", 0o644),
        ],
    );
    let bulk = bulk_stone(dir, 80);
    Stones { bulk, a1, a2, b, c }
}

/// The `/usr` snapshot of a fresh root holding exactly `stones`.
fn fresh(work: &Path, name: &str, stones: &[&Path]) -> std::collections::BTreeMap<String, String> {
    let root = work.join(name);
    fs::create_dir(&root).unwrap();
    let mut args = vec!["install"];
    args.extend(stones.iter().map(|s| s.to_str().unwrap()));
    moss_ok(&root, &args);
    usr_snapshot(&root)
}

/// Runs a transaction that must patch the archived tree of `spare`.
fn patched(root: &Path, spare: i64, args: &[&str]) {
    let archived = root.join(format!(".moss/root/{spare}/usr"));
    let before = inode(&archived);
    moss_ok(root, args);
    assert_eq!(
        inode(&root.join("usr")),
        before,
        "state {spare}'s tree was patched"
    );
    assert!(!archived.exists());
    assert!(moss_ok(root, &["verify"]).contains(" 0 issue(s)"));
}

#[test]
fn patched_trees_equal_full_blits() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let s = stones(work);
    let (a1, a2, b, c) = (
        s.a1.to_str().unwrap(),
        s.a2.to_str().unwrap(),
        s.b.to_str().unwrap(),
        s.c.to_str().unwrap(),
    );
    let root = work.join("root");
    fs::create_dir(&root).unwrap();
    let bulk = s.bulk.to_str().unwrap();
    moss_ok(&root, &["install", bulk, a1, b, c]); // state 1
    moss_ok(&root, &["remove", "c"]); // state 2, state 1 archived
    assert!(root.join(".moss/root/1/usr").is_dir());

    // {a1, b, c} → {a2, b}: every kind of change, and a removed package.
    patched(&root, 1, &["install", a2]); // state 3
    assert_eq!(
        usr_snapshot(&root),
        fresh(work, "r3", &[&s.bulk, &s.a2, &s.b])
    );

    // {a1, b} → {a1, b, c}: back again, and an added package.
    patched(&root, 2, &["install", a1, c]); // state 4
    assert_eq!(
        usr_snapshot(&root),
        fresh(work, "r4", &[&s.bulk, &s.a1, &s.b, &s.c])
    );

    // State 3's tree {a2, b} → {a1, c}.
    patched(&root, 3, &["remove", "b"]); // state 5
    assert_eq!(
        usr_snapshot(&root),
        fresh(work, "r5", &[&s.bulk, &s.a1, &s.c])
    );

    // Activating a state whose tree was consumed builds it again.
    moss_ok(&root, &["state", "activate", "3"]);
    assert_eq!(
        usr_snapshot(&root),
        fresh(work, "r6", &[&s.bulk, &s.a2, &s.b])
    );
    assert!(moss_ok(&root, &["verify"]).contains(" 0 issue(s)"));
}

/// A fresh install leaves a copy of its tree archived (hard links, no
/// content copied), so the first transaction after it patches that copy
/// instead of blitting every entry; the state's archive then holds the tree
/// that was live.
#[test]
fn first_transaction_after_a_fresh_install_patches() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let s = stones(work);
    let root = work.join("root");
    fs::create_dir(&root).unwrap();
    let (bulk, a1, a2) = (
        s.bulk.to_str().unwrap(),
        s.a1.to_str().unwrap(),
        s.a2.to_str().unwrap(),
    );
    moss_ok(&root, &["install", bulk, a1]); // state 1
    let archived = root.join(".moss/root/1/usr");
    assert_eq!(
        fs::read_to_string(archived.join(".stateID")).unwrap(),
        "1",
        "the fresh install archived a copy of its tree"
    );
    let copy = inode(&archived);
    let live = inode(&root.join("usr"));
    assert_ne!(copy, live);
    let fresh_snapshot = usr_snapshot(&root);

    moss_ok(&root, &["install", a2]); // state 2
    assert_eq!(inode(&root.join("usr")), copy, "the copy was patched");
    assert_eq!(inode(&archived), live, "state 1's live tree is archived");
    assert_eq!(usr_snapshot(&root), fresh(work, "r2", &[&s.bulk, &s.a2]));
    // The archived state 1 is exactly the tree the fresh install made.
    moss_ok(&root, &["state", "activate", "1"]);
    assert_eq!(usr_snapshot(&root), fresh_snapshot);
    assert!(moss_ok(&root, &["verify"]).contains(" 0 issue(s)"));
}

/// The files each tree gets of its own when its state is recorded.
fn state_file(rel: &Path) -> bool {
    [".stateID", "lib/os-release", "lib/system-model.kdl"]
        .iter()
        .any(|f| rel == Path::new(f))
}

/// The copy a fresh install archives is written in the same walk as the
/// live tree: the same entries, its own directories, and the live tree's
/// symlinks and non-empty files hard-linked (no inode of its own).
#[test]
fn a_fresh_install_archives_a_twin_of_its_tree() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let s = stones(work);
    let root = work.join("root");
    fs::create_dir(&root).unwrap();
    let stones = [&s.bulk, &s.a1, &s.b, &s.c].map(|p| p.to_str().unwrap());
    moss_ok(&root, &[&["install"][..], &stones].concat());
    let live = root.join("usr");
    let archived = root.join(".moss/root/1/usr");
    assert_eq!(snapshot(&archived), snapshot(&live));
    assert!(!root.join(".moss/root/staging").exists());
    let (mut links, mut dirs) = (0, 0);
    for entry in walkdir::WalkDir::new(&live).min_depth(1) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(&live).unwrap();
        let twin = archived.join(rel);
        let kind = entry.file_type();
        if kind.is_symlink() {
            assert_eq!(inode(&twin), inode(entry.path()), "{}", rel.display());
            links += 1;
        } else if kind.is_dir() {
            assert_ne!(inode(&twin), inode(entry.path()), "{}", rel.display());
            dirs += 1;
        } else if entry.metadata().unwrap().len() > 0 && !state_file(rel) {
            assert_eq!(inode(&twin), inode(entry.path()), "{}", rel.display());
        }
    }
    assert!(
        links >= 3 && dirs >= 5,
        "{links} symlinks, {dirs} directories"
    );
    // The shared symlinks survive the patch of the copy and the archiving of the live tree.
    moss_ok(&root, &["install", s.a2.to_str().unwrap()]);
    assert!(moss_ok(&root, &["verify"]).contains(" 0 issue(s)"));
    moss_ok(&root, &["state", "activate", "1"]);
    assert!(moss_ok(&root, &["verify"]).contains(" 0 issue(s)"));
}

#[test]
fn untrusted_archived_trees_are_not_patched() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let s = stones(work);
    let (a1, a2, b) = (
        s.a1.to_str().unwrap(),
        s.a2.to_str().unwrap(),
        s.b.to_str().unwrap(),
    );
    let root = work.join("root");
    fs::create_dir(&root).unwrap();
    let bulk = s.bulk.to_str().unwrap();
    moss_ok(&root, &["install", bulk, a1]); // state 1
    moss_ok(&root, &["install", b]); // state 2, state 1 archived

    // A tree whose marker names no known state is left alone: full blit.
    let archived = root.join(".moss/root/1/usr");
    // (The marker is read-only: replaced, not written through.)
    fs::remove_file(archived.join(".stateID")).unwrap();
    fs::write(archived.join(".stateID"), "99\n").unwrap();
    let spare = inode(&archived);
    moss_ok(&root, &["install", a2]); // state 3
    assert_ne!(inode(&root.join("usr")), spare);
    assert!(archived.exists(), "the untrusted tree stays for prune");
    assert_eq!(
        usr_snapshot(&root),
        fresh(work, "r3", &[&s.bulk, &s.a2, &s.b])
    );
    assert!(moss_ok(&root, &["verify"]).contains(" 0 issue(s)"));

    // A crash while patching leaves the spare in staging; recovery deletes
    // it and the next transaction blits in full (engine_crash covers every
    // point of the patch).
    let spare = root.join(".moss/root/2/usr");
    for n in 1.. {
        let out = moss_command(&root)
            .args(["remove", "b"])
            .env("MOSS_FAULT_INJECT", n.to_string())
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "the kill comes before the patch ends"
        );
        assert!(moss_ok(&root, &["verify"]).contains(" 0 issue(s)"));
        assert!(!root.join(".moss/root/staging").exists());
        assert_eq!(
            usr_snapshot(&root),
            fresh(work, &format!("r3-{n}"), &[&s.bulk, &s.a2, &s.b])
        );
        if !spare.exists() {
            break;
        }
    }
    moss_ok(&root, &["remove", "b"]);
    assert_eq!(usr_snapshot(&root), fresh(work, "r4", &[&s.bulk, &s.a2]));
    assert!(moss_ok(&root, &["verify"]).contains(" 0 issue(s)"));
}

/// Triggers of a transaction are planned from the tree in memory: it lists
/// exactly the paths a walk of the tree on disk finds.
#[test]
fn trigger_paths_from_memory_match_the_disk() {
    use moss_core::transaction::{package_layouts, Engine};
    use moss_core::tree::{PackageLayouts, Tree};
    use moss_core::trigger;

    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let s = stones(work);
    let root = work.join("root");
    fs::create_dir(&root).unwrap();
    let all = [&s.bulk, &s.a2, &s.b, &s.c].map(|p| p.to_str().unwrap());
    moss_ok(&root, &[&["install"][..], &all[..]].concat());

    let engine = Engine::open(&root).unwrap();
    let installed = engine.installed().unwrap();
    let layouts: Vec<_> = installed
        .iter()
        .map(|(meta, _)| engine.files(&meta.id).unwrap())
        .collect();
    let packages: Vec<PackageLayouts<'_>> = installed
        .iter()
        .zip(&layouts)
        .map(|((meta, _), layouts)| package_layouts(meta, layouts))
        .collect();
    let tree = Tree::build(&packages).unwrap();
    let mut memory = trigger::paths_of(&tree);
    let mut disk = trigger::tree_paths(&root.join("usr")).unwrap();
    memory.sort_by(|a, b| a.path.cmp(&b.path));
    disk.sort_by(|a, b| a.path.cmp(&b.path));
    assert!(memory.len() > 100);
    assert_eq!(memory, disk);
}

/// A state that ships trigger files may have had its tree changed by their
/// handlers: the archived tree is read once before it is patched, and what
/// no layout lists goes, what is missing or of the wrong type comes back.
#[test]
fn archived_trees_changed_by_triggers_are_reconciled() {
    use std::os::unix::fs::PermissionsExt;

    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let s = stones(work);
    // A trigger that matches nothing: its file alone marks the state.
    let trigger = write_stone(
        work,
        &meta("t"),
        &[Item::File(
            "share/moss/triggers/tx.d/never.yaml",
            b"name: never\nhandlers:\n  h:\n    run: /usr/bin/true\npaths:\n  \"/usr/nowhere/*\":\n    handlers: [h]\n",
            0o644,
        )],
    );
    let (bulk, a1, a2, b, t) = (
        s.bulk.to_str().unwrap(),
        s.a1.to_str().unwrap(),
        s.a2.to_str().unwrap(),
        s.b.to_str().unwrap(),
        trigger.to_str().unwrap(),
    );
    let root = work.join("root");
    fs::create_dir(&root).unwrap();
    moss_ok(&root, &["install", bulk, a1, t]); // state 1
    moss_ok(&root, &["install", b]); // state 2, state 1 archived

    // What handlers might have done to state 1's tree while it was live.
    let usr = root.join(".moss/root/1/usr");
    fs::write(usr.join("share/a/output"), "written by a handler").unwrap();
    fs::create_dir_all(usr.join("share/generated/cache")).unwrap();
    fs::write(usr.join("share/generated/cache/data"), "cache").unwrap();
    fs::remove_file(usr.join("share/a/mode")).unwrap();
    fs::remove_file(usr.join("share/a/sub/deep")).unwrap();
    fs::create_dir(usr.join("share/a/sub/deep")).unwrap();
    fs::remove_file(usr.join("share/bulk/d3/f3")).unwrap();
    std::os::unix::fs::symlink("elsewhere", usr.join("share/bulk/d3/f3")).unwrap();
    let ro = usr.join("share/a/ro");
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(ro.join("stray"), "stray").unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();

    patched(&root, 1, &["install", a2]); // state 3
    assert_eq!(
        usr_snapshot(&root),
        fresh(work, "r3", &[&s.bulk, &s.a2, &trigger, &s.b])
    );
}
