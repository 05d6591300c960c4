//! Replays the committed seeds and crash regressions of the `stone_reader`
//! fuzz target on stable, among them the seeds our writer generates, which
//! must be committed as generated: `BLESS=1` (re)writes them into
//! `fuzz/seeds/stone_reader/`.

use std::io::Cursor;
use std::path::PathBuf;

use moss_core::stone::fuzz::fuzz_reader;
use moss_core::stone::{
    Content, FileType, LayoutEntry, LayoutKind, Meta, StoneWriter, WriteOptions,
};

fn seeds_dir() -> PathBuf {
    test_support::fuzz::seeds_dir(env!("CARGO_MANIFEST_DIR"), "stone_reader")
}

fn meta(name: &str) -> Meta {
    Meta {
        name: name.into(),
        version: "1".into(),
        source_release: 2,
        build_release: 1,
        architecture: "x86_64".into(),
        summary: "seed".into(),
        licenses: vec!["MPL-2.0".into()],
        depends: vec!["soname(libc.so.6(x86_64))".parse().unwrap()],
        provides: vec!["pkgconfig(seed)".parse().unwrap()],
        conflicts: vec!["name(other)".parse().unwrap()],
        ..Meta::default()
    }
}

fn entry(path: &str, mode: u32, kind: LayoutKind) -> LayoutEntry {
    LayoutEntry {
        uid: 0,
        gid: 0,
        mode,
        tag: 0,
        kind,
        path: path.into(),
    }
}

/// Small stones written by our writer, named by what they exercise.
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let writer = |level| StoneWriter::new(WriteOptions { level, threads: 1 });
    let a = Content::from_bytes(b"#!/bin/sh\necho seed\n".to_vec());
    let b = Content::from_bytes(Vec::new());
    let c = Content::from_bytes((0..600u32).map(|i| (i % 13) as u8).collect());
    let layout = vec![
        entry("bin", 0o40755, LayoutKind::Directory),
        entry("bin/a", 0o100755, LayoutKind::Regular { digest: a.digest }),
        entry("bin/b", 0o100644, LayoutKind::Regular { digest: b.digest }),
        entry(
            "bin/c",
            0o120777,
            LayoutKind::Symlink { target: "a".into() },
        ),
        entry(
            "lib/data",
            0o100600,
            LayoutKind::Regular { digest: c.digest },
        ),
        entry(
            "lib/dup",
            0o104755,
            LayoutKind::Regular { digest: a.digest },
        ),
        entry("share/empty", 0o41777, LayoutKind::Directory),
        entry("share/fifo", 0o10644, LayoutKind::Fifo),
    ];
    let contents = vec![a, b, c];
    let binary = |level, layout: &[LayoutEntry], contents: Vec<Content>| {
        writer(level)
            .write_binary(Cursor::new(Vec::new()), &meta("seed"), layout, contents)
            .unwrap()
            .into_inner()
    };
    let full = binary(3, &layout, contents.clone());
    let mut seeds = vec![
        ("binary-full.stone", full.clone()),
        (
            "binary-level19.stone",
            binary(19, &layout, contents.clone()),
        ),
        ("binary-meta-only.stone", binary(3, &[], Vec::new())),
        (
            "binary-links-only.stone",
            binary(3, &layout[3..4], Vec::new()),
        ),
        (
            "binary-empty-file.stone",
            binary(1, &layout[2..3], contents[1..2].to_vec()),
        ),
        (
            "repository.index",
            writer(3)
                .write_metas(Vec::new(), FileType::Repository, &[meta("a"), meta("b")])
                .unwrap(),
        ),
        (
            "manifest.x86_64.bin",
            writer(3)
                .write_metas(Vec::new(), FileType::BuildManifest, &[meta("m")])
                .unwrap(),
        ),
    ];
    let mut truncated = full.clone();
    truncated.truncate(full.len() - 7);
    seeds.push(("binary-truncated.stone", truncated));
    let mut flipped = full;
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    seeds.push(("binary-flipped.stone", flipped));
    seeds
}

#[test]
fn generated_seeds_do_not_panic_and_are_committed() {
    for (name, bytes) in seeds() {
        fuzz_reader(&bytes);
        test_support::bless::check_generated(&seeds_dir().join(name), bytes);
    }
}

#[test]
fn committed_seeds_do_not_panic() {
    test_support::fuzz::replay_seeds(env!("CARGO_MANIFEST_DIR"), "stone_reader", 9, fuzz_reader);
}
