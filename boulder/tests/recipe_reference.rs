//! The book's recipe reference is generated from the schema the validator uses; this test
//! fails when the committed page is stale. Regenerate with
//! `BLESS=1 cargo test -p boulder --test recipe_reference` (or
//! `cargo run -p boulder -- recipe reference > book/src/reference/recipe.md`).

use std::path::Path;

#[test]
fn committed_recipe_reference_is_current() {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src/reference/recipe.md");
    let generated = boulder::recipe::reference::markdown();
    test_support::bless::check_generated(&page, generated);
}

#[test]
fn every_schema_key_is_documented() {
    let generated = boulder::recipe::reference::markdown();
    for key in boulder::recipe::schema::top_level_keys()
        .chain(boulder::recipe::schema::ARCHIVE_KEYS)
        .chain(boulder::recipe::schema::GIT_KEYS)
    {
        assert!(
            generated.contains(&format!("| `{}` |", key.name)),
            "{} missing",
            key.name
        );
    }
}
