//! Modes and inodes: regular files are blitted without write bits (the
//! original's rule: 0644 → 0444, 0755 → 0555, setuid and setgid kept), the
//! same content at two modes comes out right, store inodes are never
//! chmod-ed through a tree, read-only directories work for
//! unprivileged users, symlinked directories merge, and `verify --repair`
//! puts a tampered tree back.

use crate::engine_support;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use engine_support::*;
use xxhash_rust::xxh3::xxh3_128;

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

/// No regular file of the tree (packaged or generated) has a write bit.
fn assert_no_write_bits(usr: &Path) {
    let mut files = 0;
    for entry in walkdir::WalkDir::new(usr) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            files += 1;
            let m = mode(entry.path());
            assert_eq!(m & 0o222, 0, "{} has mode {m:o}", entry.path().display());
        }
    }
    assert!(files > 0);
}

fn asset(root: &Path, body: &[u8]) -> std::path::PathBuf {
    let name = format!("{:x}", xxh3_128(body));
    root.join(".moss/assets/v2")
        .join(&name[0..2])
        .join(&name[2..4])
        .join(&name[4..6])
        .join(&name)
}

#[test]
fn same_content_with_different_modes() {
    let dir = tempfile::tempdir().unwrap();
    let (root, stones) = (dir.path().join("root"), dir.path());
    fs::create_dir(&root).unwrap();
    let body: &[u8] = b"#!/bin/sh\necho same bytes\n";
    let a = write_stone(
        stones,
        &meta("modes-a"),
        &[
            Item::File("share/plain", body, 0o644),
            Item::File("bin/tool", body, 0o755),
            Item::File("libexec/secret", body, 0o600),
            Item::File("bin/setuid", body, 0o4755),
            Item::File("bin/setgid", body, 0o2775),
        ],
    );
    let b = write_stone(
        stones,
        &meta("modes-b"),
        &[Item::File("bin/other-tool", body, 0o755)],
    );
    moss_ok(
        &root,
        &["install", a.to_str().unwrap(), b.to_str().unwrap()],
    );
    let usr = root.join("usr");
    assert_eq!(mode(&usr.join("share/plain")), 0o444);
    assert_eq!(mode(&usr.join("bin/tool")), 0o555);
    assert_eq!(mode(&usr.join("bin/other-tool")), 0o555);
    assert_eq!(mode(&usr.join("libexec/secret")), 0o400);
    assert_eq!(mode(&usr.join("bin/setuid")), 0o4555);
    assert_eq!(mode(&usr.join("bin/setgid")), 0o2555);
    assert_no_write_bits(&usr);
    for f in ["share/plain", "bin/tool", "libexec/secret", "bin/setuid"] {
        assert_eq!(fs::read(usr.join(f)).unwrap(), body, "{f}");
    }
    // The store inode keeps its canonical mode, and only the 0644 file shares it.
    let store = asset(&root, body);
    assert_eq!(mode(&store), 0o444);
    let ino = |p: &Path| fs::metadata(p).unwrap().ino();
    assert_eq!(ino(&usr.join("share/plain")), ino(&store));
    assert_ne!(ino(&usr.join("bin/tool")), ino(&store));
    // Both 0755 copies share one materialised variant, not the store inode.
    assert_eq!(ino(&usr.join("bin/tool")), ino(&usr.join("bin/other-tool")));

    // Removing and re-adding across states never touches the store's mode.
    moss_ok(&root, &["remove", "modes-a"]);
    assert_eq!(mode(&store), 0o444);
    assert_eq!(mode(&usr.join("bin/other-tool")), 0o555);
    assert_no_write_bits(&usr);
    moss_ok(&root, &["state", "activate", "1"]);
    assert_eq!(mode(&usr.join("libexec/secret")), 0o400);
    assert_no_write_bits(&usr);
    moss_ok(&root, &["verify"]);
    let out = moss_ok(&root, &["state", "prune", "--keep", "1"]);
    assert!(out.contains("removed 1 state(s)"), "{out}");
    moss_ok(&root, &["verify"]);
}

#[test]
fn read_only_directories_and_symlinked_directories() {
    let dir = tempfile::tempdir().unwrap();
    let (root, stones) = (dir.path().join("root"), dir.path());
    fs::create_dir(&root).unwrap();
    let a = write_stone(
        stones,
        &meta("layout-a"),
        &[
            Item::Dir("share/locked", 0o555),
            Item::File("share/locked/inside", b"inside", 0o444),
            Item::Link("lib64", "lib"),
            Item::File("lib/libc.so", b"libc", 0o755),
        ],
    );
    let b = write_stone(
        stones,
        &meta("layout-b"),
        &[Item::File("lib64/libz.so", b"libz", 0o755)],
    );
    moss_ok(
        &root,
        &["install", a.to_str().unwrap(), b.to_str().unwrap()],
    );
    let usr = root.join("usr");
    assert_eq!(mode(&usr.join("share/locked")), 0o555);
    assert_eq!(
        fs::read(usr.join("share/locked/inside")).unwrap(),
        b"inside"
    );
    assert_eq!(fs::read_link(usr.join("lib64")).unwrap(), Path::new("lib"));
    assert_eq!(fs::read(usr.join("lib/libz.so")).unwrap(), b"libz");
    moss_ok(&root, &["verify"]);
    // Read-only directories can be archived, swapped and pruned.
    // Without the package that made lib64 a symlink, lib64 is a real directory.
    moss_ok(&root, &["remove", "layout-a"]);
    assert!(usr.join("lib64").is_dir() && usr.join("lib64/libz.so").is_file());
    moss_ok(&root, &["state", "prune", "--keep", "1"]);
    assert!(!root.join(".moss/root/1").exists());
    moss_ok(&root, &["verify"]);
}

#[test]
fn verify_reports_and_repairs_a_tampered_tree() {
    let dir = tempfile::tempdir().unwrap();
    let (root, stones) = (dir.path().join("root"), dir.path());
    fs::create_dir(&root).unwrap();
    let a = write_stone(
        stones,
        &meta("victim"),
        &[
            Item::File("share/victim/a", b"aaa", 0o644),
            Item::File("share/victim/b", b"bbb", 0o644),
            Item::Link("share/victim/c", "a"),
            Item::File("bin/victim", b"run", 0o755),
        ],
    );
    moss_ok(&root, &["install", a.to_str().unwrap()]);
    let good = usr_snapshot(&root);
    let usr = root.join("usr");
    fs::remove_file(usr.join("share/victim/a")).unwrap();
    fs::write(usr.join("share/victim/a"), b"evil").unwrap();
    fs::remove_file(usr.join("share/victim/b")).unwrap();
    fs::remove_file(usr.join("share/victim/c")).unwrap();
    std::os::unix::fs::symlink("b", usr.join("share/victim/c")).unwrap();
    fs::set_permissions(usr.join("bin/victim"), fs::Permissions::from_mode(0o777)).unwrap();
    fs::write(usr.join("share/stray"), b"stray").unwrap();

    let out = moss(&root, &["verify"]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "/usr/share/victim/a has the wrong content",
        "/usr/share/victim/b is missing",
        "/usr/share/victim/c points to the wrong target",
        "/usr/share/stray belongs to no package",
        "/usr/bin/victim has mode",
        "mode variant",
    ] {
        assert!(text.contains(needle), "{needle} not in {text}");
    }
    // The store was never touched: chmod of a hardlinked 0755 file hit a variant.
    assert_eq!(mode(&asset(&root, b"aaa")), 0o444);

    moss_ok(&root, &["verify", "--repair"]);
    assert_eq!(usr_snapshot(&root), good);
    assert!(moss_ok(&root, &["verify"]).contains(" 0 issue(s)"));
}

#[test]
fn corrupt_store_asset_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (root, stones) = (dir.path().join("root"), dir.path());
    fs::create_dir(&root).unwrap();
    let a = write_stone(
        stones,
        &meta("rot"),
        &[Item::File("share/rot", b"fresh", 0o644)],
    );
    moss_ok(&root, &["install", a.to_str().unwrap()]);
    // Bit rot through the shared inode shows in the store and the tree (it
    // takes a chmod first: neither the tree nor the store is writable).
    let rot = root.join("usr/share/rot");
    fs::set_permissions(&rot, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&rot, b"rotten").unwrap();
    let out = moss(&root, &["verify"]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("does not match its digest"), "{text}");
}
