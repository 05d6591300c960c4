//! Collection of an install tree into packages: rule priority, what is
//! recorded, and the metadata of each entry.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use boulder::package::entry::digest_file;
use boulder::package::{collect, default_templates, CollectError, Collection, PackagePaths, Rules};
use moss_core::stone::LayoutKind;

fn write(root: &Path, path: &str, text: &str) {
    let on_disk = root.join(path.trim_start_matches('/'));
    fs::create_dir_all(on_disk.parent().expect("has a parent")).expect("mkdir");
    fs::write(on_disk, text).expect("write");
}

fn set_mode(root: &Path, path: &str, mode: u32) {
    fs::set_permissions(
        root.join(path.trim_start_matches('/')),
        fs::Permissions::from_mode(mode),
    )
    .expect("chmod");
}

fn paths_of<'a>(collection: &'a Collection, package: &str) -> Vec<&'a str> {
    collection
        .packages()
        .get(package)
        .map(|entries| entries.iter().map(|e| e.path.as_str()).collect())
        .unwrap_or_default()
}

fn template_paths(name: &str) -> Vec<PackagePaths> {
    default_templates(name)
        .into_iter()
        .map(|t| t.paths)
        .collect()
}

#[test]
fn subpackages_beat_main_paths_which_beat_templates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for path in [
        "/usr/include/foo/public.h",
        "/usr/include/foo/internal/private.h",
        "/usr/include/other.h",
        "/usr/lib/libfoo.so.1",
        "/usr/lib/libfoo-extra.so.1",
        "/usr/lib/libfoo.a",
        "/usr/share/man/man3/foo.3",
        "/usr/share/man/man1/foo.1",
        "/usr/lib32/libfoo.so.1",
        "/usr/lib32/libfoo.so",
        "/usr/lib32/debug/.build-id/aa/bb.debug",
        "/usr/lib/debug/.build-id/cc/dd.debug",
    ] {
        write(root, path, path);
    }
    symlink("libfoo.so.1", root.join("usr/lib/libfoo.so")).expect("symlink");
    // The main package claims one header back from -devel; a subpackage
    // claims one library and the whole internal header directory.
    let main = PackagePaths::new(
        "foo",
        &["/usr/include/foo/public.h", "/usr/include/foo/internal"],
    );
    let subpackages = [PackagePaths::new(
        "foo-extra",
        &["/usr/lib/libfoo-extra.so*", "/usr/include/foo/internal/"],
    )];
    let rules = Rules::in_recipe_order(&template_paths("foo"), &main, &subpackages).expect("rules");
    let collection = collect(root, rules).expect("collect");

    assert_eq!(
        paths_of(&collection, "foo"),
        [
            "/usr/include/foo/public.h",
            "/usr/lib/libfoo.so.1",
            "/usr/share/man/man1/foo.1"
        ]
    );
    assert_eq!(
        paths_of(&collection, "foo-extra"),
        [
            "/usr/include/foo/internal/private.h",
            "/usr/lib/libfoo-extra.so.1"
        ]
    );
    assert_eq!(
        paths_of(&collection, "foo-devel"),
        [
            "/usr/include/other.h",
            "/usr/lib/libfoo.a",
            "/usr/lib/libfoo.so",
            "/usr/share/man/man3/foo.3"
        ]
    );
    assert_eq!(
        paths_of(&collection, "foo-dbginfo"),
        ["/usr/lib/debug/.build-id/cc/dd.debug"]
    );
    assert_eq!(
        paths_of(&collection, "foo-32bit"),
        ["/usr/lib32/libfoo.so.1"]
    );
    assert_eq!(
        paths_of(&collection, "foo-32bit-devel"),
        ["/usr/lib32/libfoo.so"]
    );
    assert_eq!(
        paths_of(&collection, "foo-32bit-dbginfo"),
        ["/usr/lib32/debug/.build-id/aa/bb.debug"]
    );
    assert!(!collection.packages().contains_key("foo-libs"));
}

#[test]
fn only_empty_or_unusual_directories_are_recorded_after_their_contents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "/usr/share/foo/b.txt", "b");
    write(root, "/usr/share/foo/a.txt", "a");
    write(root, "/usr/share/private/key", "k");
    fs::create_dir_all(root.join("usr/share/empty")).expect("mkdir");
    for d in ["/usr", "/usr/share", "/usr/share/foo", "/usr/share/empty"] {
        set_mode(root, d, 0o755);
    }
    set_mode(root, "/usr/share/private", 0o700);
    let mut rules = Rules::new();
    rules.add("foo", "*").expect("rule");
    let collection = collect(root, rules).expect("collect");
    assert_eq!(
        paths_of(&collection, "foo"),
        [
            "/usr/share/empty",
            "/usr/share/foo/a.txt",
            "/usr/share/foo/b.txt",
            "/usr/share/private/key",
            "/usr/share/private",
        ]
    );
    let entries = &collection.packages()["foo"];
    assert_eq!(entries[0].kind, LayoutKind::Directory);
    assert_eq!(entries[0].mode, 0o40755);
    assert_eq!(entries[4].mode, 0o40700);
}

#[test]
fn entries_carry_lstat_metadata_and_content_digests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "/usr/bin/tool", "#!/bin/sh\necho hi\n");
    set_mode(root, "/usr/bin/tool", 0o755);
    write(root, "/usr/share/defaults/empty", "");
    set_mode(root, "/usr/share/defaults/empty", 0o644);
    symlink("../share/defaults/empty", root.join("usr/bin/dangling-ok")).expect("symlink");
    let mut rules = Rules::new();
    rules.add("x", "*").expect("rule");
    let collection = collect(root, rules).expect("collect");
    let entries = &collection.packages()["x"];
    let by_path = |p: &str| entries.iter().find(|e| e.path == p).expect("collected");

    let tool = by_path("/usr/bin/tool");
    assert_eq!(tool.mode, 0o100755);
    assert_eq!(
        tool.kind,
        LayoutKind::Regular {
            digest: digest_file(&root.join("usr/bin/tool")).expect("digest")
        }
    );
    assert_eq!(tool.size, 18);
    let empty = by_path("/usr/share/defaults/empty");
    assert_eq!(
        empty.kind,
        LayoutKind::Regular {
            digest: 0x99aa06d3014798d86001c324468d497f
        }
    );
    assert_eq!(empty.size, 0);
    let link = by_path("/usr/bin/dangling-ok");
    assert_eq!(link.mode & 0o170000, 0o120000);
    assert_eq!(
        link.kind,
        LayoutKind::Symlink {
            target: "../share/defaults/empty".into()
        }
    );
}

#[test]
fn a_path_no_rule_matches_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "/usr/share/stray", "x");
    let mut rules = Rules::new();
    rules.add("foo", "/usr/bin").expect("rule");
    match collect(dir.path(), rules) {
        Err(CollectError::Unmatched { path }) => assert_eq!(path, "/usr/share/stray"),
        other => panic!("expected an unmatched-path error, got {other:?}"),
    }
}

#[test]
fn a_missing_install_root_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope");
    let mut rules = Rules::new();
    rules.add("foo", "*").expect("rule");
    match collect(&missing, rules) {
        Err(error @ CollectError::Walk { .. }) => {
            assert!(error.to_string().contains("nope"), "{error}")
        }
        other => panic!("expected a walk error, got {other:?}"),
    }
}
