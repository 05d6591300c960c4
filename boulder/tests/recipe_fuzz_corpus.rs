//! Replays the committed `recipe_parse` fuzz corpus through the fuzz target body on stable,
//! plus a property test over arbitrary text, so CI catches panics without cargo-fuzz.

use std::path::Path;

use proptest::prelude::*;

#[test]
fn corpus_replays_without_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/recipe_parse");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus directory exists") {
        let path = entry.expect("corpus entry").path();
        let data = std::fs::read(&path).expect("read corpus file");
        boulder::recipe::fuzz_check(&data);
        count += 1;
    }
    assert!(count >= 10, "corpus has only {count} files");
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
