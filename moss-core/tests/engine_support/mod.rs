//! Helpers shared by the engine tests: running the real `moss` binary,
//! crafting stones with our writer, and snapshotting whole directories.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::Cursor;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use moss_core::stone::{
    self, Compression, FileType, Header, LayoutEntry, LayoutKind, Meta, PayloadHeader, PayloadKind,
    Provider, StoneWriter, WriteOptions,
};
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

/// The stones made by the original tools, or `None` after reporting them
/// missing for `test`.
pub fn fixtures(test: &str) -> Option<PathBuf> {
    test_support::shared_fixtures(env!("CARGO_MANIFEST_DIR"), test).map(|dir| dir.join("stones"))
}

pub fn moss_command(root: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moss"));
    cmd.arg("-D").arg(root);
    cmd
}

/// Runs moss and returns its output (whatever the exit status).
pub fn moss(root: &Path, args: &[&str]) -> Output {
    moss_command(root)
        .args(args)
        .output()
        .expect("running the moss binary")
}

/// Runs moss and fails the test unless it succeeds; returns stdout.
pub fn moss_ok(root: &Path, args: &[&str]) -> String {
    let out = moss(root, args);
    assert!(
        out.status.success(),
        "moss {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Metadata of a small test package.
pub fn meta(name: &str) -> Meta {
    Meta {
        name: name.into(),
        version: "1.0".into(),
        source_release: 1,
        build_release: 1,
        architecture: "x86_64".into(),
        summary: format!("{name} for tests"),
        description: "test package".into(),
        source_id: name.into(),
        homepage: "https://example.invalid".into(),
        licenses: vec!["MPL-2.0".into()],
        ..Default::default()
    }
}

pub fn conflicting(mut m: Meta, other: &str) -> Meta {
    m.conflicts
        .push(Provider::new(stone::DependencyKind::PackageName, other));
    m
}

/// What goes into a crafted stone.
pub enum Item<'a> {
    File(&'a str, &'a [u8], u32),
    Link(&'a str, &'a str),
    Dir(&'a str, u32),
}

/// The layout entries and contents of `items`, for stones written by hand.
pub fn layout_entries(items: &[Item<'_>]) -> (Vec<LayoutEntry>, Vec<Vec<u8>>) {
    layout_of(items)
}

fn layout_of(items: &[Item<'_>]) -> (Vec<LayoutEntry>, Vec<Vec<u8>>) {
    let mut layout = Vec::new();
    let mut contents = Vec::new();
    for item in items {
        let (mode, kind, path) = match item {
            Item::File(p, body, mode) => {
                contents.push(body.to_vec());
                (
                    0o100000 | mode,
                    LayoutKind::Regular {
                        digest: xxh3_128(body),
                    },
                    p,
                )
            }
            Item::Link(p, t) => (
                0o120777,
                LayoutKind::Symlink {
                    target: t.to_string(),
                },
                p,
            ),
            Item::Dir(p, mode) => (0o040000 | mode, LayoutKind::Directory, p),
        };
        layout.push(LayoutEntry {
            uid: 0,
            gid: 0,
            mode,
            tag: 0,
            kind,
            path: path.to_string(),
        });
    }
    (layout, contents)
}

/// Writes a stone with our writer.
pub fn write_stone(dir: &Path, meta: &Meta, items: &[Item<'_>]) -> PathBuf {
    let (layout, contents) = layout_of(items);
    let path = dir.join(meta.file_name());
    let contents = contents
        .into_iter()
        .map(stone::writer::Content::from_bytes)
        .collect();
    let out = StoneWriter::new(WriteOptions {
        level: 1,
        threads: 1,
    })
    .write_binary(Cursor::new(Vec::new()), meta, &layout, contents)
    .expect("writing a test stone");
    fs::write(&path, out.into_inner()).unwrap();
    path
}

/// Assembles a stone from our writer's encoders without its path checks,
/// the way an attacker could (uncompressed payloads are valid stones).
pub fn write_raw_stone(dir: &Path, meta: &Meta, items: &[Item<'_>]) -> PathBuf {
    let (layout, contents) = layout_of(items);
    let mut unique: Vec<Vec<u8>> = Vec::new();
    for c in contents {
        if !unique.contains(&c) {
            unique.push(c);
        }
    }
    let mut index = Vec::new();
    let mut blob = Vec::new();
    for c in &unique {
        index.push(stone::IndexEntry {
            start: blob.len() as u64,
            end: (blob.len() + c.len()) as u64,
            digest: xxh3_128(c),
        });
        blob.extend_from_slice(c);
    }
    let records = meta.to_records();
    let mut payloads = vec![
        (
            PayloadKind::Meta,
            records.len(),
            stone::encode_meta(&records),
        ),
        (
            PayloadKind::Layout,
            layout.len(),
            stone::encode_layout(&layout).unwrap(),
        ),
    ];
    if !unique.is_empty() {
        payloads.push((PayloadKind::Index, index.len(), stone::encode_index(&index)));
        payloads.push((PayloadKind::Content, 0, blob));
    }
    let mut out = Header {
        num_payloads: payloads.len() as u16,
        file_type: FileType::Binary,
    }
    .encode()
    .to_vec();
    for (kind, records, body) in payloads {
        let header = PayloadHeader {
            stored_size: body.len() as u64,
            plain_size: body.len() as u64,
            checksum: xxh3_64(&body),
            num_records: records as u32,
            version: 1,
            kind,
            compression: Compression::None,
        };
        out.extend_from_slice(&header.encode());
        out.extend_from_slice(&body);
    }
    let path = dir.join(meta.file_name());
    fs::write(&path, out).unwrap();
    path
}

/// Every entry below `dir`: type, permission bits, and content digest or
/// link text. Timestamps are left out; everything else must match.
pub fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return out;
    }
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let meta = entry.path().symlink_metadata().unwrap();
        let mode = meta.permissions().mode() & 0o7777;
        let value = if meta.file_type().is_symlink() {
            format!("link {}", fs::read_link(entry.path()).unwrap().display())
        } else if meta.is_dir() {
            format!("dir {mode:o}")
        } else {
            format!(
                "file {mode:o} {:032x}",
                xxh3_128(&fs::read(entry.path()).unwrap())
            )
        };
        out.insert(rel, value);
    }
    out
}

/// The snapshot of `ROOT/usr` without its state marker.
pub fn usr_snapshot(root: &Path) -> BTreeMap<String, String> {
    let mut s = snapshot(&root.join("usr"));
    // The state's own files, not its packages' (see engine_compat).
    s.remove(".stateID");
    s.remove("lib/os-release");
    s.remove("lib/system-model.kdl");
    s
}

/// Error text with miette's wrapping and frame characters taken out, for
/// matching phrases regardless of where the renderer broke the lines.
pub fn squash(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !"│×╰─╭".contains(*c))
        .collect()
}

/// Whether `haystack` (rendered error output) mentions `needle`.
pub fn mentions(haystack: &str, needle: &str) -> bool {
    squash(haystack).contains(&squash(needle))
}

/// A package of `files` small files in a few directories: the unchanging
/// bulk of a root, next to which a transaction's change is small.
pub fn bulk_stone(dir: &Path, files: usize) -> PathBuf {
    let bodies: Vec<(String, Vec<u8>)> = (0..files)
        .map(|i| {
            (
                format!("share/bulk/d{}/f{i}", i % 7),
                format!("bulk {i}").into_bytes(),
            )
        })
        .collect();
    let items: Vec<Item<'_>> = bodies
        .iter()
        .map(|(path, body)| Item::File(path, body, 0o644))
        .collect();
    write_stone(dir, &meta("bulk"), &items)
}
