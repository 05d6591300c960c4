use super::build::join_for_tests;
use super::*;
use crate::stone::{LayoutKind, Provider};

fn meta(name: &str) -> Meta {
    Meta {
        name: name.into(),
        version: "1".into(),
        architecture: "x86_64".into(),
        ..Default::default()
    }
}

fn file(path: &str, digest: u128, mode: u32) -> LayoutEntry {
    LayoutEntry {
        uid: 0,
        gid: 0,
        mode: 0o100000 | mode,
        tag: 0,
        kind: LayoutKind::Regular { digest },
        path: path.into(),
    }
}

fn link(path: &str, target: &str) -> LayoutEntry {
    LayoutEntry {
        uid: 0,
        gid: 0,
        mode: 0o120777,
        tag: 0,
        kind: LayoutKind::Symlink {
            target: target.into(),
        },
        path: path.into(),
    }
}

fn paths(tree: &Tree) -> Vec<&str> {
    tree.nodes().iter().map(|n| &*n.path).collect()
}

#[test]
fn implies_parents_and_orders_parents_first() {
    let a = meta("a");
    let layouts = [file("share/a/x", 1, 0o644), file("bin/a", 2, 0o755)];
    let tree = Tree::build(&[PackageLayouts::from_stone(&a, &layouts)]).unwrap();
    assert_eq!(
        paths(&tree),
        ["", "bin", "share", "bin/a", "share/a", "share/a/x"]
    );
    let NodeKind::Directory { children, .. } = &tree.root().kind else {
        panic!()
    };
    assert_eq!(children, &[1, 2]);
}

#[test]
fn symlinked_directory_redirects_entries() {
    let (a, b) = (meta("a"), meta("b"));
    let la = [link("lib64", "lib"), file("lib/libc.so", 1, 0o755)];
    let lb = [file("lib64/libz.so", 2, 0o755)];
    let tree = Tree::build(&[
        PackageLayouts::from_stone(&a, &la),
        PackageLayouts::from_stone(&b, &lb),
    ])
    .unwrap();
    assert_eq!(
        paths(&tree),
        ["", "lib", "lib64", "lib/libc.so", "lib/libz.so"]
    );
}

#[test]
fn every_conflict_is_reported_with_both_packages() {
    let (mut a, b) = (meta("a"), meta("b"));
    a.conflicts.push("name(b)".parse::<Provider>().unwrap());
    let la = [
        file("share/same", 1, 0o644),
        file("share/content", 1, 0o644),
        file("share/mode", 1, 0o644),
        link("share/evil", "/etc"),
        file("share/f", 1, 0o644),
    ];
    let lb = [
        file("share/same", 1, 0o644),
        file("share/content", 2, 0o644),
        file("share/mode", 1, 0o755),
        file("share/evil/passwd", 3, 0o644),
        file("share/f/under", 3, 0o644),
        file("../escape", 3, 0o644),
    ];
    let err = Tree::build(&[
        PackageLayouts::from_stone(&a, &la),
        PackageLayouts::from_stone(&b, &lb),
    ])
    .unwrap_err();
    let text = err.to_string();
    assert_eq!(err.problems.len(), 6, "{text}");
    for needle in [
        "share/content",
        "share/mode",
        "share/evil/passwd",
        "share/f/under",
        "\"../escape\"",
        "conflicts with name(b)",
    ] {
        assert!(text.contains(needle), "{needle} missing in {text}");
    }
    assert!(!text.contains("share/same"));
}

#[test]
fn symlink_to_a_file_is_not_a_directory() {
    let a = meta("a");
    let la = [
        file("bin/sh", 1, 0o755),
        link("share/x", "../bin/sh"),
        file("share/x/y", 2, 0o644),
    ];
    let err = Tree::build(&[PackageLayouts::from_stone(&a, &la)]).unwrap_err();
    assert!(err.to_string().contains("share/x/y"), "{err}");
}

#[test]
fn lexical_join_stays_inside_usr() {
    assert_eq!(
        join_for_tests("share/a", "../b").as_deref(),
        Some("share/b")
    );
    assert_eq!(
        join_for_tests("lib", "/usr/lib64").as_deref(),
        Some("lib64")
    );
    assert_eq!(join_for_tests("", "../../etc"), None);
    assert_eq!(join_for_tests("a", "/etc"), None);
    assert_eq!(join_for_tests("a", "/usrx"), None);
}
