//! Replays the committed seeds and crash regressions of `macro_expand` on
//! stable Rust, so CI catches a regression without running the fuzzer.

#[test]
fn macro_expand_seeds_never_panic() {
    test_support::fuzz::replay_seeds(
        env!("CARGO_MANIFEST_DIR"),
        "macro_expand",
        10,
        boulder::macros::fuzz_expand,
    );
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
