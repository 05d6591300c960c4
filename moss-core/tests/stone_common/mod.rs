//! Helpers shared by the stone test files.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use moss_core::stone::{ContentSink, IndexEntry, LayoutKind, StoneReader};

/// `../shared/fixtures/stones` beside the workspace, or `None` (after saying
/// the test is skipped) when it is absent.
pub fn stones_dir(test: &str) -> Option<PathBuf> {
    test_support::shared_fixtures(env!("CARGO_MANIFEST_DIR"), test).map(|dir| dir.join("stones"))
}

/// The three fixture stones, by file stem.
pub const FIXTURES: [&str; 3] = [
    "bash-completion-2.11-1-1-x86_64",
    "italian-pizza-1-1-1-x86_64",
    "pineapple-1-1-1-x86_64",
];

/// Collects unpacked contents in memory, keyed by digest.
#[derive(Default)]
pub struct MemorySink {
    pub files: BTreeMap<u128, Vec<u8>>,
}

impl ContentSink for MemorySink {
    type Output = Vec<u8>;
    fn open(&mut self, _entry: &IndexEntry) -> io::Result<Option<Vec<u8>>> {
        Ok(Some(Vec::new()))
    }
    fn commit(&mut self, entry: &IndexEntry, output: Vec<u8>) -> io::Result<()> {
        self.files.insert(entry.digest, output);
        Ok(())
    }
}

/// The regular files of a stone: installed path → bytes.
pub fn regular_files(stone: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut reader = StoneReader::open_path(stone).expect("stone");
    let mut contents = MemorySink::default();
    reader.unpack_content(&mut contents).expect("content");
    reader
        .layout()
        .iter()
        .filter_map(|entry| match entry.kind {
            LayoutKind::Regular { digest } => {
                Some((entry.usr_path(), contents.files.get(&digest)?.clone()))
            }
            _ => None,
        })
        .collect()
}
