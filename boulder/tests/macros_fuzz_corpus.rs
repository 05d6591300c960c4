//! Replays the committed fuzz corpus of `macro_expand` on stable Rust, so CI
//! catches a regression without running the fuzzer.

use std::path::Path;

#[test]
fn macro_expand_corpus_never_panics() {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/corpus/macro_expand"
    ));
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    assert!(entries.len() >= 10, "corpus too small: {}", entries.len());
    for path in entries {
        let data = std::fs::read(&path).unwrap();
        boulder::macros::fuzz_expand(&data);
    }
}

/// Random byte strings built from the macro alphabet, as a cheap stable-Rust
/// complement to the fuzzer.
#[test]
fn random_macro_soup_never_panics() {
    use proptest::prelude::*;
    let alphabet = prop::sample::select(vec![
        "%",
        "%%",
        "(",
        ")",
        "_",
        "make",
        "cmake",
        "libdir",
        "name",
        "break_exit",
        "break_continue",
        "\n",
        " ",
        "x",
        "é",
        "%(",
        "%(_",
        "jobs",
        "cflags",
    ]);
    proptest!(ProptestConfig::with_cases(300), |(parts in prop::collection::vec(alphabet, 0..40))| {
        boulder::macros::fuzz_expand(parts.concat().as_bytes());
    });
}
