//! `moss extract -o DIR` turns a stone's name and version into a folder name:
//! a name with `/`, a leading `.`, a newline or a NUL is refused before
//! anything is written, so a stone cannot extract through what another one
//! extracted (or outside DIR).

use std::fs::{self, File};
use std::io::BufWriter;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use moss_core::stone::{scan_tree, Meta, StoneWriter, WriteOptions};

/// Writes a stone of the tree `usr` with `name` and `version`.
fn stone(dir: &Path, file: &str, usr: &Path, name: &str, version: &str) -> PathBuf {
    stone_for(dir, file, usr, name, version, "x86_64")
}

fn stone_for(
    dir: &Path,
    file: &str,
    usr: &Path,
    name: &str,
    version: &str,
    architecture: &str,
) -> PathBuf {
    let meta = Meta {
        name: name.to_string(),
        version: version.to_string(),
        source_release: 1,
        build_release: 1,
        architecture: architecture.to_string(),
        source_id: "test".to_string(),
        ..Meta::default()
    };
    let tree = scan_tree(usr).expect("scan the tree");
    let path = dir.join(file);
    let out = BufWriter::new(File::create(&path).expect("create the stone"));
    StoneWriter::new(WriteOptions::default())
        .write_binary(out, &meta, &tree.layout, tree.contents)
        .expect("write the stone");
    path
}

fn extract(output: &Path, stones: &[&Path]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_moss"))
        .arg("extract")
        .args(stones)
        .arg("-o")
        .arg(output)
        .output()
        .expect("moss runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every file below `dir`, relative.
fn listing(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        let Ok(entries) = fs::read_dir(&next) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            found.push(
                path.strip_prefix(dir)
                    .unwrap_or(&path)
                    .display()
                    .to_string(),
            );
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn a_slash_in_the_name_cannot_reach_through_an_extracted_symlink() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let victim = tmp.path().join("victim");
    fs::create_dir(&victim).expect("victim dir");
    // The first stone is harmless on its own: `usr/lib` is a symlink out.
    let first_tree = tmp.path().join("first");
    fs::create_dir(&first_tree).expect("mkdir");
    symlink(&victim, first_tree.join("lib")).expect("symlink");
    let first = stone(tmp.path(), "first.stone", &first_tree, "x", "1");
    // The second names a folder below the first one's symlink.
    let second_tree = tmp.path().join("second");
    fs::create_dir_all(second_tree.join("bin")).expect("mkdir");
    fs::write(second_tree.join("bin/evil"), b"#!/bin/sh\n").expect("write");
    let second = stone(
        tmp.path(),
        "second.stone",
        &second_tree,
        "x-1-1.x86_64/usr/lib/evil",
        "1",
    );
    let output = tmp.path().join("out");
    let (ok, stderr) = extract(&output, &[&first, &second]);
    assert!(!ok, "the second stone was extracted");
    assert!(
        stderr.contains("package name `x-1-1.x86_64/usr/lib/evil` contains `/`"),
        "{stderr}"
    );
    assert_eq!(listing(&victim), Vec::<String>::new());
}

#[test]
fn names_and_versions_that_are_not_one_path_component_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tree = tmp.path().join("tree");
    fs::create_dir_all(tree.join("bin")).expect("mkdir");
    fs::write(tree.join("bin/tool"), b"#!/bin/sh\n").expect("write");
    let cases = [
        ("../../escape", "1", "starts with `.`"),
        ("a/b", "1", "contains `/`"),
        ("line\nbreak", "1", "U+000A"),
        ("nul\0byte", "1", "NUL"),
        ("ok", "1/../../..", "version `1/../../..` contains `/`"),
        ("ok", "..", "version `..` starts with `.`"),
    ];
    for (i, (name, version, message)) in cases.into_iter().enumerate() {
        let file = stone(tmp.path(), &format!("{i}.stone"), &tree, name, version);
        let output = tmp.path().join(format!("out{i}/inner"));
        let (ok, stderr) = extract(&output, &[&file]);
        assert!(!ok, "{name:?} {version:?} was extracted");
        assert!(stderr.contains(message), "{name:?}: {stderr}");
        assert!(!output.exists(), "{name:?}: something was written");
        assert_eq!(
            listing(tmp.path().join(format!("out{i}")).as_path()),
            Vec::<String>::new()
        );
    }
    // A good name still extracts.
    let good = stone(tmp.path(), "good.stone", &tree, "good", "1.0");
    let output = tmp.path().join("good-out");
    let (ok, stderr) = extract(&output, &[&good]);
    assert!(ok, "{stderr}");
    assert!(output.join("good-1.0-1.x86_64/usr/bin/tool").is_file());
}

/// A repository index entry with a name or hash that could become a path is
/// refused when the index is read, before anything is fetched or cached.
#[test]
fn index_entries_with_unsafe_names_or_hashes_are_refused() {
    use moss_core::repo::{index::write_index_file, read_index, RepoError};
    let tmp = tempfile::tempdir().expect("tempdir");
    let entry = |name: &str, version: &str, hash: &str| Meta {
        name: name.to_string(),
        version: version.to_string(),
        source_release: 1,
        build_release: 1,
        architecture: "x86_64".to_string(),
        source_id: "test".to_string(),
        package_uri: Some("pool/x.stone".to_string()),
        package_hash: Some(hash.to_string()),
        package_size: Some(1),
        ..Meta::default()
    };
    let good_hash = "ab".repeat(32);
    let cases = [
        (
            entry("a/b", "1", &good_hash),
            "package name `a/b` contains `/`",
        ),
        (
            entry("ok", "../1", &good_hash),
            "version `../1` starts with `.`",
        ),
        (
            entry("ok", "1", "../../etc/passwd"),
            "not 64 hexadecimal digits",
        ),
    ];
    for (i, (meta, message)) in cases.into_iter().enumerate() {
        let path = tmp.path().join(format!("{i}.index"));
        write_index_file(&path, &[meta]).expect("write the index");
        let error = read_index(&path).expect_err(message);
        assert!(
            matches!(
                error,
                RepoError::UnsafeName { .. } | RepoError::BadHash { .. }
            ),
            "{error:?}"
        );
        let shown = format!(
            "{error} {}",
            std::error::Error::source(&error)
                .map(|s| s.to_string())
                .unwrap_or_default()
        );
        assert!(shown.contains(message), "{shown}");
    }
    let path = tmp.path().join("good.index");
    write_index_file(&path, &[entry("ok", "1.0", &good_hash)]).expect("write the index");
    assert_eq!(read_index(&path).expect("a good index reads").len(), 1);
}
