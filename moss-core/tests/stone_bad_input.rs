//! Acceptance 4 of issue 2: corrupt, truncated and malicious stones give
//! clear errors, never panics, and extraction never escapes its folder.

use crate::stone_common;

use std::fs;
use std::io::Cursor;
use std::path::Path;

use moss_core::stone::{
    encode_index, encode_layout, encode_meta, extract, Compression, FileType, Header, IndexEntry,
    LayoutEntry, LayoutKind, Meta, MetaRecord, Payload, PayloadHeader, PayloadKind, StoneError,
    StoneReader, StoneWriter, PAYLOAD_HEADER_LEN,
};
use stone_common::{stones_dir, MemorySink, FIXTURES};
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

fn meta() -> Meta {
    Meta {
        name: "evil".into(),
        version: "1".into(),
        source_release: 1,
        build_release: 1,
        architecture: "x86_64".into(),
        ..Meta::default()
    }
}

/// One payload, zstd-compressed, with a correct checksum.
fn payload(kind: PayloadKind, records: usize, plain: &[u8]) -> Vec<u8> {
    let stored = zstd::bulk::compress(plain, 3).unwrap();
    let header = PayloadHeader {
        stored_size: stored.len() as u64,
        plain_size: plain.len() as u64,
        checksum: xxh3_64(&stored),
        num_records: records as u32,
        version: 1,
        kind,
        compression: Compression::Zstd,
    };
    let mut out = header.encode().to_vec();
    out.extend_from_slice(&stored);
    out
}

fn stone(payloads: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Header {
        num_payloads: payloads.len() as u16,
        file_type: FileType::Binary,
    }
    .encode()
    .to_vec();
    for p in payloads {
        out.extend_from_slice(p);
    }
    out
}

/// A Binary stone with any layout, bypassing the writer's path checks.
fn crafted(layout: &[LayoutEntry], files: &[&[u8]]) -> Vec<u8> {
    let records = meta().to_records();
    let mut index = Vec::new();
    let mut blob = Vec::new();
    for f in files {
        index.push(IndexEntry {
            start: blob.len() as u64,
            end: (blob.len() + f.len()) as u64,
            digest: xxh3_128(f),
        });
        blob.extend_from_slice(f);
    }
    stone(&[
        payload(PayloadKind::Meta, records.len(), &encode_meta(&records)),
        payload(
            PayloadKind::Layout,
            layout.len(),
            &encode_layout(layout).unwrap(),
        ),
        payload(PayloadKind::Index, index.len(), &encode_index(&index)),
        payload(PayloadKind::Content, 0, &blob),
    ])
}

fn regular(path: &str, bytes: &[u8]) -> LayoutEntry {
    LayoutEntry {
        uid: 0,
        gid: 0,
        mode: 0o100644,
        tag: 0,
        kind: LayoutKind::Regular {
            digest: xxh3_128(bytes),
        },
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

/// Opens and unpacks; returns the first error.
fn read_fully(bytes: &[u8]) -> Result<(), StoneError> {
    let mut reader = StoneReader::new(Cursor::new(bytes))?;
    for meta in reader.metas() {
        meta?;
    }
    reader.unpack_content(&mut MemorySink::default())?;
    Ok(())
}

fn our_stone() -> Vec<u8> {
    let layout = vec![
        regular("bin/a", b"alpha"),
        regular("bin/b", b""),
        link("bin/c", "a"),
    ];
    let contents = vec![
        moss_core::stone::Content::from_bytes(b"alpha".to_vec()),
        moss_core::stone::Content::from_bytes(Vec::new()),
    ];
    StoneWriter::default()
        .write_binary(Cursor::new(Vec::new()), &meta(), &layout, contents)
        .unwrap()
        .into_inner()
}

#[test]
fn every_truncation_is_an_error() {
    let mut samples = vec![("ours".to_string(), our_stone())];
    if let Some(dir) = stones_dir("every_truncation_is_an_error (fixtures part)") {
        for stem in FIXTURES {
            samples.push((
                stem.to_string(),
                fs::read(dir.join(format!("{stem}.stone"))).unwrap(),
            ));
        }
    }
    for (name, bytes) in samples {
        read_fully(&bytes).unwrap();
        for len in 0..bytes.len() {
            assert!(
                read_fully(&bytes[..len]).is_err(),
                "{name} cut at {len} was accepted"
            );
        }
    }
}

/// (kind, index, body range) of every payload.
fn payload_bodies(bytes: &[u8]) -> Vec<(PayloadKind, usize, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut at = 32;
    let mut i = 0;
    while at + PAYLOAD_HEADER_LEN <= bytes.len() {
        let ph = PayloadHeader::decode(bytes[at..at + PAYLOAD_HEADER_LEN].try_into().unwrap());
        let start = at + PAYLOAD_HEADER_LEN;
        let end = start + ph.stored_size as usize;
        out.push((ph.kind, i, start..end));
        at = end;
        i += 1;
    }
    out
}

#[test]
fn flipped_byte_is_a_checksum_error_naming_the_payload() {
    let mut samples = vec![our_stone()];
    if let Some(dir) =
        stones_dir("flipped_byte_is_a_checksum_error_naming_the_payload (fixtures part)")
    {
        for stem in FIXTURES {
            samples.push(fs::read(dir.join(format!("{stem}.stone"))).unwrap());
        }
    }
    for bytes in samples {
        let bodies = payload_bodies(&bytes);
        assert!(bodies.len() >= 3);
        for (kind, index, range) in bodies {
            if range.is_empty() {
                continue;
            }
            for at in [range.start, range.start + range.len() / 2, range.end - 1] {
                let mut bad = bytes.clone();
                bad[at] ^= 0x20;
                match read_fully(&bad) {
                    Err(StoneError::ChecksumMismatch { payload, .. }) => {
                        assert_eq!((payload.kind, payload.index), (kind, index));
                        let message = StoneError::ChecksumMismatch {
                            payload,
                            expected: 0,
                            actual: 1,
                        }
                        .to_string();
                        assert!(
                            message.contains(&format!("{kind} payload (#{index})")),
                            "{message}"
                        );
                    }
                    other => panic!("flip in {kind} at {at}: {other:?}"),
                }
            }
        }
    }
}

#[test]
fn any_flipped_byte_of_small_stones_never_panics() {
    let mut samples = vec![our_stone()];
    if let Some(dir) = stones_dir("any_flipped_byte_of_small_stones_never_panics (fixtures part)") {
        samples.push(fs::read(dir.join("italian-pizza-1-1-1-x86_64.stone")).unwrap());
    }
    for bytes in samples {
        for at in 0..bytes.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut bad = bytes.clone();
                bad[at] ^= mask;
                let _ = read_fully(&bad);
            }
        }
    }
}

/// Lists everything below `dir`.
fn everything(dir: &Path) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .map(|e| {
            e.unwrap()
                .path()
                .strip_prefix(dir)
                .unwrap()
                .display()
                .to_string()
        })
        .collect()
}

#[test]
fn unsafe_paths_are_refused_before_writing() {
    for bad in [
        "../escape",
        "/tmp/absolute",
        "a/../../escape",
        "nul\0byte",
        "a//b",
        "",
        "./a",
        "a/.",
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let bytes = crafted(
            &[regular("ok", b"fine"), regular(bad, b"x")],
            &[b"fine", b"x"],
        );
        let mut reader = StoneReader::new(Cursor::new(bytes)).unwrap();
        let err = extract(&mut reader, &tmp.path().join("out/usr")).unwrap_err();
        assert!(
            matches!(err, StoneError::UnsafePath { .. }),
            "{bad:?}: {err}"
        );
        assert!(
            everything(tmp.path()).is_empty(),
            "{bad:?}: wrote {:?}",
            everything(tmp.path())
        );
    }
    // The writer refuses them too.
    let err = StoneWriter::default()
        .write_binary(
            Cursor::new(Vec::new()),
            &meta(),
            &[link("../x", "y")],
            Vec::new(),
        )
        .unwrap_err();
    assert!(matches!(err, StoneError::UnsafePath { .. }));
}

#[test]
fn symlinks_from_the_archive_are_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("victim"), b"untouched").unwrap();
    let outside_str = outside.to_str().unwrap();

    // A file below a symlinked directory.
    let bytes = crafted(
        &[link("dir", outside_str), regular("dir/pwned", b"x")],
        &[b"x"],
    );
    let mut reader = StoneReader::new(Cursor::new(bytes)).unwrap();
    let err = extract(&mut reader, &tmp.path().join("out1/usr")).unwrap_err();
    assert!(matches!(err, StoneError::BadLayout { .. }), "{err}");
    assert_eq!(everything(&outside), ["victim"]);

    // A symlink pointing outside and a file at the same path disagree: the
    // layout is refused before anything is written.
    let victim = format!("{outside_str}/victim");
    let bytes = crafted(&[link("file", &victim), regular("file", b"x")], &[b"x"]);
    let mut reader = StoneReader::new(Cursor::new(bytes)).unwrap();
    let err = extract(&mut reader, &tmp.path().join("out2/usr")).unwrap_err();
    assert!(matches!(err, StoneError::BadLayout { .. }), "{err}");
    assert_eq!(fs::read(outside.join("victim")).unwrap(), b"untouched");
    assert!(!tmp.path().join("out2").exists());

    // Same with a duplicate digest (copied, not moved).
    let bytes = crafted(
        &[
            regular("a", b"x"),
            link("file", &victim),
            regular("file", b"x"),
        ],
        &[b"x"],
    );
    let mut reader = StoneReader::new(Cursor::new(bytes)).unwrap();
    assert!(extract(&mut reader, &tmp.path().join("out3/usr")).is_err());
    assert_eq!(fs::read(outside.join("victim")).unwrap(), b"untouched");
}

#[test]
fn absurd_sizes_are_refused_before_allocating() {
    let records = meta().to_records();
    let good = payload(PayloadKind::Meta, records.len(), &encode_meta(&records));
    let set_u64 =
        |p: &mut Vec<u8>, at: usize, v: u64| p[at..at + 8].copy_from_slice(&v.to_be_bytes());

    // Stored size beyond the file.
    let mut p = good.clone();
    set_u64(&mut p, 0, u64::MAX);
    let err = StoneReader::new(Cursor::new(stone(&[p]))).err().unwrap();
    assert!(matches!(err, StoneError::Truncated { .. }), "{err}");

    // Plain size of an exabyte for a few hundred stored bytes.
    let mut p = good.clone();
    set_u64(&mut p, 8, 1 << 60);
    let err = StoneReader::new(Cursor::new(stone(&[p]))).err().unwrap();
    assert!(matches!(err, StoneError::TooLarge { .. }), "{err}");
    assert!(err.to_string().contains("Meta payload (#0)"), "{err}");

    // Four billion records in a tiny body.
    let mut p = good.clone();
    p[24..28].copy_from_slice(&u32::MAX.to_be_bytes());
    let err = StoneReader::new(Cursor::new(stone(&[p]))).err().unwrap();
    assert!(matches!(err, StoneError::Malformed { .. }), "{err}");

    // A content payload claiming more plain bytes than it has.
    let index = [IndexEntry {
        start: 0,
        end: 1 << 60,
        digest: 1,
    }];
    let mut content = payload(PayloadKind::Content, 0, b"tiny");
    set_u64(&mut content, 8, 1 << 60);
    let bytes = stone(&[
        good,
        payload(PayloadKind::Index, 1, &encode_index(&index)),
        content,
    ]);
    let mut reader = StoneReader::new(Cursor::new(bytes)).unwrap();
    let err = reader
        .unpack_content(&mut MemorySink::default())
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoneError::PlainSizeMismatch { .. } | StoneError::DigestMismatch { .. }
        ),
        "{err}"
    );
}

#[test]
fn unknown_payloads_are_skipped_and_meta_order_is_free() {
    let mut records: Vec<MetaRecord> = meta().to_records();
    records.reverse();
    let mut plain = encode_meta(&records);
    // An extra record with an unknown tag and primitive.
    plain.extend_from_slice(&[0, 0, 0, 2, 0x12, 0x34, 0x77, 0, 0xab, 0xcd]);
    let mut unknown = payload(PayloadKind::Unknown(42), 0, b"future");
    let mut odd_compression = payload(PayloadKind::Layout, 0, b"");
    odd_compression[31] = 9;
    unknown[30] = 42;
    let bytes = stone(&[
        payload(PayloadKind::Meta, records.len() + 1, &plain),
        unknown,
        odd_compression,
    ]);
    let reader = StoneReader::new(Cursor::new(bytes)).unwrap();
    assert_eq!(reader.meta().unwrap(), meta());
    let skipped = reader
        .payloads()
        .iter()
        .filter(|p| matches!(p, Payload::Skipped(_)))
        .count();
    assert_eq!(skipped, 2);
}
