//! The book's recipe reference is generated from the schema the validator uses; this test
//! fails when the committed page is stale. Regenerate with
//! `cargo run -p boulder -- recipe reference > book/src/reference/recipe.md`
//! (or run this test with `BOULDER_BLESS=1`).

use std::path::Path;

#[test]
fn committed_recipe_reference_is_current() {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src/reference/recipe.md");
    let generated = boulder::recipe::reference::markdown();
    if std::env::var_os("BOULDER_BLESS").is_some() {
        std::fs::write(&page, &generated).expect("write the reference page");
    }
    let committed = std::fs::read_to_string(&page).unwrap_or_default();
    assert!(
        committed == generated,
        "book/src/reference/recipe.md is stale; regenerate it with \
         `cargo run -p boulder -- recipe reference > book/src/reference/recipe.md`"
    );
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
