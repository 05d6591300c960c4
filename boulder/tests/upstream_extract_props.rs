//! Property: whatever tar entries an archive holds, extraction returns
//! (success or a typed error), never panics, and never touches anything
//! outside its target directory.

use std::fs;
use std::io::Write;
use std::path::Path;

use boulder::upstream::{Upstream, UpstreamCache};
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use tar::EntryType;

/// Path pieces that make both ordinary and hostile names likely.
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["a", "b", "..", ".", "", "outside", "x"])
}

fn name() -> impl Strategy<Value = String> {
    (any::<bool>(), prop::collection::vec(piece(), 1..5)).prop_map(|(absolute, parts)| {
        let joined = parts.join("/");
        if absolute {
            format!("/{joined}")
        } else {
            joined
        }
    })
}

fn kind() -> impl Strategy<Value = EntryType> {
    prop::sample::select(vec![
        EntryType::Regular,
        EntryType::Directory,
        EntryType::Symlink,
        EntryType::Link,
    ])
}

fn tar_of(entries: &[(String, EntryType, String)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, link) in entries {
        let mut h = tar::Header::new_gnu();
        {
            let gnu = h.as_gnu_mut().unwrap();
            gnu.name[..name.len()].copy_from_slice(name.as_bytes());
            gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        let data: &[u8] = if *kind == EntryType::Regular {
            b"data"
        } else {
            b""
        };
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

/// Every path below `dir` with its kind, sorted (a snapshot to compare).
fn snapshot(dir: &Path) -> Vec<(String, bool)> {
    let mut all: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| (e.path().display().to_string(), e.file_type().is_dir()))
        .collect();
    all.sort();
    all
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn extraction_stays_inside(entries in prop::collection::vec((name(), kind(), name()), 1..8), strip in 0u8..3) {
        let tmp = tempfile::tempdir().unwrap();
        // The target sits three levels down so `..` chains have room to climb.
        let outside = tmp.path().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("victim"), b"keep").unwrap();
        let archive = tar_of(&entries);
        let path = tmp.path().join("in.tar");
        fs::File::create(&path).unwrap().write_all(&archive).unwrap();
        let hash = hex::encode(Sha256::digest(&archive));
        let cache = UpstreamCache::new(tmp.path().join("cache"));
        let up = Upstream::Archive {
            url: path.display().to_string(),
            hash,
            rename: None,
            unpack: true,
            unpackdir: Some("build/deep".into()),
            stripdirs: Some(strip),
        };
        let before_outside = snapshot(&outside);
        let fetched = cache.fetch(&up).unwrap();
        let work = tmp.path().join("work");
        let _ = fetched.extract_into(&work);

        prop_assert_eq!(snapshot(&outside), before_outside);
        prop_assert_eq!(fs::read(outside.join("victim")).unwrap(), b"keep");
        let mut top: Vec<_> = fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        top.sort();
        prop_assert_eq!(top, ["cache", "in.tar", "outside", "work"]);
        let work_top: Vec<_> = fs::read_dir(&work).unwrap().map(|e| e.unwrap().file_name()).collect();
        prop_assert_eq!(work_top, ["build"]);
        // Every symlink that resolves leads inside the target directory.
        let target = work.join("build/deep").canonicalize().unwrap();
        for entry in walkdir::WalkDir::new(&target).into_iter().filter_map(Result::ok) {
            if entry.path_is_symlink() {
                if let Ok(resolved) = entry.path().canonicalize() {
                    prop_assert!(resolved.starts_with(&target), "{} -> {}", entry.path().display(), resolved.display());
                }
            }
        }
    }
}
