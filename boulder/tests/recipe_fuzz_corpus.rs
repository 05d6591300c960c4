//! Replays the committed `recipe_parse` seeds and crash regressions through the fuzz target body on stable,
//! plus a property test over arbitrary text, so CI catches panics without cargo-fuzz.

use proptest::prelude::*;

#[test]
fn seeds_replay_without_panic() {
    test_support::fuzz::replay_seeds(
        env!("CARGO_MANIFEST_DIR"),
        "recipe_parse",
        10,
        boulder::recipe::fuzz_check,
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "[a-z:%()\\[\\]{}|>\\-\"' \\n#&*!0-9]{0,200}") {
        boulder::recipe::fuzz_check(text.as_bytes());
    }

    #[test]
    fn arbitrary_scripts_map_inside_the_file(script in "[a-z %()_\\n]{0,80}") {
        let indented: String = script.lines().map(|l| format!("    {l}\n")).collect();
        let text = format!("name: a\nversion: 1\nrelease: 1\nhomepage: h\nlicense: l\nbuild: |\n{indented}");
        boulder::recipe::fuzz_check(text.as_bytes());
    }
}
