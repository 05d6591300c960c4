//! One installation, either moss: the files our moss writes into a root are
//! the original moss's form byte for byte (state id, repository
//! configuration in KDL where the root uses KDL, os-release, system model,
//! database schema), and a root in the original's form is read back: its
//! repositories configured in `repo.d/*.kdl` are listed and used, its
//! databases without our own tables (and its state id with or without a
//! newline) are read, listed, verified and changed.

use crate::engine_support;

use std::fs;
use std::path::Path;

use engine_support::*;
use rusqlite::Connection;
use xxhash_rust::xxh3::xxh3_128;

const OS_INFO: &str = r#"{
  "metadata": {
    "identity": {"name": "AerynOS", "id": "aerynos", "display": "AerynOS 2026.01", "id_like": "linux"},
    "version": {"short": "2026.01", "full": "2026.01 (test)"}
  },
  "resources": {
    "websites": {
      "home": {"url": "https://example.invalid/", "display_name": "Home", "scope": "home"},
      "issues": {"url": "https://example.invalid/issues", "display_name": "Issues", "scope": "bug-tracker"}
    },
    "social": {},
    "funding": {}
  }
}"#;

/// A local repository of two packages, indexed by our moss.
fn repository(dir: &Path) -> std::path::PathBuf {
    let repo = dir.join("repo");
    fs::create_dir_all(&repo).unwrap();
    write_stone(
        &repo,
        &meta("compat-a"),
        &[
            Item::File("bin/compat-a", b"#!/bin/sh\necho a\n", 0o755),
            Item::File("lib/os-info.json", OS_INFO.as_bytes(), 0o644),
        ],
    );
    write_stone(
        &repo,
        &meta("compat-b"),
        &[Item::File("share/compat-b/data", b"b data", 0o644)],
    );
    moss_ok(dir, &["index", repo.to_str().unwrap()]);
    repo.join("stone.index")
}

fn columns(db: &Path, table: &str) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(&format!("PRAGMA table_info({table})"))
        .unwrap();
    let names = stmt
        .query_map([], |r| r.get::<_, String>(1))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    names
}

#[test]
fn our_files_are_the_original_form_and_kdl_repositories_are_used() {
    let dir = tempfile::tempdir().unwrap();
    let index = repository(dir.path());
    let root = dir.path().join("root");
    let repo_d = root.join("etc/moss/repo.d");
    fs::create_dir_all(&repo_d).unwrap();
    let uri = format!("file://{}", index.display());
    // The form the original writes and reads.
    fs::write(
        repo_d.join("local.kdl"),
        format!("local {{\n    description \"Local test repository\"\n    uri \"{uri}\"\n    priority 5\n}}\n"),
    )
    .unwrap();

    // Listed and used.
    let list = moss_ok(&root, &["repo", "list"]);
    assert!(list.contains("local") && list.contains(&uri), "{list}");
    moss_ok(&root, &["install", "compat-a"]);
    let usr = root.join("usr");
    assert_eq!(
        fs::read(usr.join("bin/compat-a")).unwrap(),
        b"#!/bin/sh\necho a\n"
    );

    // The state id: the bare number.
    assert_eq!(fs::read(usr.join(".stateID")).unwrap(), b"1");
    // os-release from the tree's os-info.json, in the original's field order.
    assert_eq!(
        fs::read_to_string(usr.join("lib/os-release")).unwrap(),
        "NAME=\"AerynOS\"\nID=\"aerynos\"\nVERSION_ID=\"2026.01\"\nVERSION=\"2026.01 (test)\"\n\
         PRETTY_NAME=\"AerynOS 2026.01\"\nID_LIKE=\"linux\"\nHOME_URL=\"https://example.invalid/\"\n\
         BUG_REPORT_URL=\"https://example.invalid/issues\"\n"
    );
    // The system model: active repositories and explicit packages.
    let model = format!(
        "repositories {{\n    local {{\n        description \"Local test repository\"\n        uri \"{uri}\"\n        priority 5\n    }}\n}}\npackages {{\n    compat-a\n}}\n"
    );
    assert_eq!(
        fs::read_to_string(usr.join("lib/system-model.kdl")).unwrap(),
        model
    );

    // A second repository is written as KDL, as the root already uses it.
    let other = dir.path().join("repo");
    moss_ok(
        &root,
        &["repo", "add", "other", other.to_str().unwrap(), "-p", "1"],
    );
    assert!(!repo_d.join("other.yaml").exists());
    assert_eq!(
        fs::read_to_string(repo_d.join("other.kdl")).unwrap(),
        format!("other {{\n    description \"\"\n    uri \"{uri}\"\n    priority 1\n}}\n")
    );
    moss_ok(&root, &["install", "compat-b"]);
    assert_eq!(fs::read(usr.join(".stateID")).unwrap(), b"2");
    let model = fs::read_to_string(usr.join("lib/system-model.kdl")).unwrap();
    assert!(
        model.ends_with("packages {\n    compat-a\n    compat-b\n}\n"),
        "{model}"
    );
    // Each archived state keeps its own.
    assert_eq!(
        fs::read(root.join(".moss/root/1/usr/.stateID")).unwrap(),
        b"1"
    );
    assert!(
        fs::read_to_string(root.join(".moss/root/1/usr/lib/system-model.kdl"))
            .unwrap()
            .ends_with("packages {\n    compat-a\n}\n")
    );
    moss_ok(&root, &["verify"]);

    // The databases have the original's tables and columns.
    let db = root.join(".moss/db");
    let want = |cols: &[&str]| cols.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    assert_eq!(
        columns(&db.join("layout"), "layout"),
        want(&[
            "id",
            "package_id",
            "uid",
            "gid",
            "mode",
            "tag",
            "entry_type",
            "entry_value1",
            "entry_value2"
        ])
    );
    assert_eq!(
        columns(&db.join("state"), "state"),
        want(&["id", "type", "created", "summary", "description"])
    );
    assert_eq!(
        columns(&db.join("state"), "state_selections"),
        want(&["state_id", "package_id", "explicit", "reason"])
    );
    assert_eq!(
        columns(&db.join("install"), "meta"),
        want(&[
            "package",
            "name",
            "version_identifier",
            "source_release",
            "build_release",
            "architecture",
            "summary",
            "description",
            "source_id",
            "homepage",
            "uri",
            "hash",
            "download_size"
        ])
    );
    // Regular entries carry the digest in decimal, as the original's do.
    let conn = Connection::open(db.join("layout")).unwrap();
    let value: String = conn
        .query_row(
            "SELECT entry_value1 FROM layout WHERE entry_type = 'regular' AND entry_value2 = 'bin/compat-a'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(value, xxh3_128(b"#!/bin/sh\necho a\n").to_string());
}

/// Rewrites a root our moss made into the original's form where the two
/// differ: no tables or indexes of ours in the databases (and their
/// schema version the original's), repositories in KDL.
fn to_original_form(root: &Path, uri: &str) {
    let db = root.join(".moss/db");
    let state = Connection::open(db.join("state")).unwrap();
    state
        .execute_batch(
            "DROP TABLE moss_active_state; DROP TABLE moss_journal;
             DROP INDEX state_selections_package; PRAGMA user_version = 1;",
        )
        .unwrap();
    let layout = Connection::open(db.join("layout")).unwrap();
    layout
        .execute_batch("DROP INDEX layout_package; PRAGMA user_version = 1;")
        .unwrap();
    let install = Connection::open(db.join("install")).unwrap();
    install
        .execute_batch("DROP INDEX meta_name; PRAGMA user_version = 1;")
        .unwrap();
    let repo_d = root.join("etc/moss/repo.d");
    for entry in fs::read_dir(&repo_d).unwrap() {
        fs::remove_file(entry.unwrap().path()).unwrap();
    }
    fs::write(
        repo_d.join("volatile.kdl"),
        format!(
            "volatile {{\n    description \"Upstream\"\n    uri \"{uri}\"\n    priority 0\n}}\n"
        ),
    )
    .unwrap();
}

#[test]
fn a_root_in_the_original_form_is_read_back() {
    for newline in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let index = repository(dir.path());
        let uri = format!("file://{}", index.display());
        let root = dir.path().join("root");
        fs::create_dir_all(&root).unwrap();
        moss_ok(&root, &["repo", "add", "volatile", index.to_str().unwrap()]);
        assert!(root.join("etc/moss/repo.d/volatile.yaml").is_file());
        moss_ok(&root, &["install", "compat-a"]);
        to_original_form(&root, &uri);
        if newline {
            // Our earlier writer's form: read the same.
            // (The marker is read-only: replaced, not written through.)
            fs::remove_file(root.join("usr/.stateID")).unwrap();
            fs::write(root.join("usr/.stateID"), "1\n").unwrap();
        }

        // Read-only commands read the original's databases as they are.
        let installed = moss_ok(&root, &["list", "installed"]);
        assert!(installed.contains("compat-a"), "{installed}");
        assert!(moss_ok(&root, &["repo", "list"]).contains("Upstream"));
        moss_ok(&root, &["verify"]);
        let conn = Connection::open(root.join(".moss/db/state")).unwrap();
        let user_version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(user_version, 1, "a read-only command changed the schema");
        drop(conn);

        // A transaction takes the live state from `usr/.stateID` and goes on.
        moss_ok(&root, &["install", "compat-b"]);
        assert_eq!(fs::read(root.join("usr/.stateID")).unwrap(), b"2");
        let installed = moss_ok(&root, &["list", "installed"]);
        assert!(installed.contains("compat-a") && installed.contains("compat-b"));
        assert!(root.join(".moss/root/1/usr/bin/compat-a").is_file());
        moss_ok(&root, &["state", "activate", "1"]);
        assert!(!root.join("usr/share/compat-b").exists());
        moss_ok(&root, &["verify"]);
    }
}

/// A stone written as the original's writer does (level 18 would be slow
/// here: the window is what matters): a frame whose window is larger than
/// the streaming decoder's limit is decoded through a scratch file, and
/// the result is byte for byte the content.
#[test]
fn a_large_window_stone_installs_through_the_file_backed_window() {
    use moss_core::stone::{writer::Content, StoneWriter, WriteOptions};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    fs::create_dir_all(&root).unwrap();
    // 48 MiB that compresses (text-like) with long-distance repeats.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut block = Vec::with_capacity(4 << 20);
    while block.len() < (4 << 20) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        block.extend_from_slice(format!("word{} ", state % 5000).as_bytes());
    }
    let mut big = Vec::with_capacity(48 << 20);
    for i in 0..12u8 {
        big.extend_from_slice(&block);
        big.push(i);
    }
    let small = b"small file".to_vec();
    let items = [
        Item::File("share/big/blob", &big, 0o644),
        Item::File("share/big/small", &small, 0o644),
    ];
    let (layout, _) = layout_entries(&items);
    let writer = StoneWriter::new(WriteOptions {
        level: 3,
        threads: 2,
    })
    .window_log(31);
    let out = writer
        .write_binary(
            std::io::Cursor::new(Vec::new()),
            &meta("large-window"),
            &layout,
            vec![Content::from_bytes(big.clone()), Content::from_bytes(small)],
        )
        .unwrap();
    let stone = dir.path().join("large-window.stone");
    fs::write(&stone, out.into_inner()).unwrap();
    moss_ok(&root, &["install", stone.to_str().unwrap()]);
    assert!(fs::read(root.join("usr/share/big/blob")).unwrap() == big);
    assert_eq!(
        fs::read(root.join("usr/share/big/small")).unwrap(),
        b"small file"
    );
    // No scratch file is left in the store.
    let leftovers: Vec<_> = walkdir::WalkDir::new(root.join(".moss/assets/v2"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    moss_ok(&root, &["verify"]);
}
