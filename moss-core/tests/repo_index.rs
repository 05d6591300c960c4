//! Issue 5 acceptance 4 (first half): `moss index` output is read back
//! identically, follows the original's rules, and indexes the original
//! tools' fixtures.

use crate::engine_support;

use std::fs;
use std::path::Path;

use engine_support::*;
use moss_core::repo::{self, index::write_index_file, RepoError};
use moss_core::stone::{Dependency, DependencyKind, Provider, StoneReader};
use sha2::{Digest, Sha256};

fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(fs::read(path).unwrap()))
}

fn rich(name: &str, release: u64) -> moss_core::stone::Meta {
    let mut m = meta(name);
    m.source_release = release;
    m.provides = vec![
        Provider::new(
            DependencyKind::SharedLibrary,
            format!("lib{name}.so.1(x86_64)"),
        ),
        Provider::new(DependencyKind::PkgConfig, name),
    ];
    m.depends = vec![Dependency::new(
        DependencyKind::SharedLibrary,
        "libc.so.6(x86_64)",
    )];
    m
}

#[test]
fn index_round_trips_and_keeps_the_highest_release() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("repo");
    fs::create_dir_all(dir.join("sub")).unwrap();
    let foo1 = write_stone(
        &dir,
        &rich("foo", 1),
        &[Item::File("lib/libfoo.so.1", b"one", 0o755)],
    );
    let foo2 = write_stone(
        &dir.join("sub"),
        &rich("foo", 2),
        &[Item::File("lib/libfoo.so.1", b"two", 0o755)],
    );
    let bar = write_stone(
        &dir,
        &conflicting(rich("bar", 4), "baz"),
        &[Item::Dir("share/bar", 0o755)],
    );

    let report = repo::write_index(&dir).unwrap();
    assert_eq!(
        report.path,
        fs::canonicalize(&dir).unwrap().join("stone.index")
    );
    assert_eq!(report.superseded, vec![fs::canonicalize(&foo1).unwrap()]);

    let entries = repo::read_index(&report.path).unwrap();
    assert_eq!(entries, report.entries);
    let names: Vec<_> = entries.iter().map(|e| e.meta.name.as_str()).collect();
    assert_eq!(names, ["bar", "foo"], "name order");

    let (bar_e, foo_e) = (&entries[0], &entries[1]);
    assert_eq!(bar_e.uri, "bar-1.0-4-1-x86_64.stone");
    assert_eq!(foo_e.uri, "sub/foo-1.0-2-1-x86_64.stone");
    assert_eq!(bar_e.hash, sha256(&bar));
    assert_eq!(foo_e.hash, sha256(&foo2));
    assert_eq!(foo_e.size, fs::metadata(&foo2).unwrap().len());
    assert_eq!(foo_e.meta.source_release, 2);
    assert_eq!(
        bar_e.meta.conflicts,
        vec![Provider::new(DependencyKind::PackageName, "baz")]
    );
    let mut expected = rich("foo", 2);
    expected.package_uri = Some(foo_e.uri.clone());
    expected.package_hash = Some(foo_e.hash.clone());
    expected.package_size = Some(foo_e.size);
    expected.provides.sort(); // written in `kind(name)` order
    assert_eq!(foo_e.meta, expected, "every field survives");

    // Writing what was read gives the same bytes: nothing is lost or reordered.
    let again = tmp.path().join("again.index");
    let metas: Vec<_> = entries.iter().map(|e| e.meta.clone()).collect();
    write_index_file(&again, &metas).unwrap();
    assert_eq!(fs::read(&again).unwrap(), fs::read(&report.path).unwrap());

    // Record order inside each Meta payload follows the original writer.
    let reader = StoneReader::open_path(&report.path).unwrap();
    let tags: Vec<u16> = reader
        .meta_records()
        .iter()
        .map(|r| r.tag.to_u16())
        .collect();
    assert_eq!(&tags[..12], &[1, 3, 11, 13, 2, 4, 5, 7, 6, 14, 15, 16]);
}

#[test]
fn equal_releases_of_one_name_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("a")).unwrap();
    write_stone(tmp.path(), &meta("foo"), &[Item::Dir("share/a", 0o755)]);
    let mut other = meta("foo");
    other.build_release = 7; // not compared, as in the original
    write_stone(
        &tmp.path().join("a"),
        &other,
        &[Item::Dir("share/b", 0o755)],
    );
    match repo::write_index(tmp.path()) {
        Err(RepoError::DuplicateRelease { name, release, .. }) => {
            assert_eq!((name.as_str(), release), ("foo", 1));
        }
        other => panic!("expected a duplicate release error, got {other:?}"),
    }
    assert!(!tmp.path().join("stone.index").exists());
}

#[test]
fn cli_writes_to_another_folder_with_relative_uris() {
    let tmp = tempfile::tempdir().unwrap();
    let stones = tmp.path().join("stones");
    fs::create_dir_all(&stones).unwrap();
    let path = write_stone(
        &stones,
        &meta("solo"),
        &[Item::File("bin/solo", b"#!/bin/sh\n", 0o755)],
    );
    let out = tmp.path().join("out/x86_64");
    let root = tmp.path().join("root");
    let stdout = moss_ok(
        &root,
        &[
            "index",
            stones.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(stdout.contains("with 1 packages"), "{stdout}");
    let entries = repo::read_index(&out.join("stone.index")).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].uri, "../../stones/solo-1.0-1-1-x86_64.stone");
    assert_eq!(entries[0].hash, sha256(&path));
}

#[test]
#[cfg_attr(lacks_fixtures, ignore = "needs ../shared/fixtures")]
fn fixtures_of_the_original_tools_are_indexed() {
    let Some(fixtures) = fixtures("fixtures_of_the_original_tools_are_indexed") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let report = repo::write_index_to(&fixtures, tmp.path()).unwrap();
    let entries = repo::read_index(&report.path).unwrap();
    let names: Vec<_> = entries.iter().map(|e| e.meta.name.as_str()).collect();
    assert_eq!(names, ["bash-completion", "italian-pizza", "pineapple"]);
    for e in &entries {
        let file = fixtures.join(format!(
            "{}-{}-{}-{}-{}.stone",
            e.meta.name,
            e.meta.version,
            e.meta.source_release,
            e.meta.build_release,
            e.meta.architecture
        ));
        assert_eq!(e.hash, sha256(&file), "{}", e.meta.name);
        assert_eq!(e.size, fs::metadata(&file).unwrap().len());
        assert!(
            e.uri.starts_with("../") && e.uri.ends_with(".stone"),
            "{}",
            e.uri
        );
        let resolved = fs::canonicalize(tmp.path().join(&e.uri)).unwrap();
        assert_eq!(resolved, fs::canonicalize(&file).unwrap());
    }
    assert_eq!(
        entries[0].meta.provides,
        vec![Provider::new(DependencyKind::CMake, "bash-completion")]
    );
    assert_eq!(
        entries[1].meta.conflicts,
        vec![Provider::new(DependencyKind::PackageName, "pineapple")]
    );
}
