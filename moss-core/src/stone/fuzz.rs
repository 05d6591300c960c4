//! The body of the `stone_reader` fuzz target, kept here so that a plain
//! unit test can replay the committed corpus on stable Rust.

use std::io::{self, Cursor};

use super::content::ContentSink;
use super::index::IndexEntry;
use super::path::check_layout_path;
use super::reader::StoneReader;

/// Reads `data` as a stone through every decoding path: header, payloads,
/// package metadata, layout, and content unpacking into a discarding sink.
/// Any outcome but a panic (or an abort) is fine.
pub fn fuzz_reader(data: &[u8]) {
    let Ok(mut reader) = StoneReader::new(Cursor::new(data)) else {
        return;
    };
    for meta in reader.metas().flatten() {
        let _ = (meta.id(), meta.to_records());
    }
    for entry in reader.layout() {
        let _ = (entry.tsv_line(), check_layout_path(&entry.path));
    }
    let _ = reader.unpack_content(&mut Discard);
}

struct Discard;

impl ContentSink for Discard {
    type Output = io::Sink;
    fn open(&mut self, _entry: &IndexEntry) -> io::Result<Option<io::Sink>> {
        Ok(Some(io::sink()))
    }
    fn commit(&mut self, _entry: &IndexEntry, _output: io::Sink) -> io::Result<()> {
        Ok(())
    }
}
