//! The book's macro reference is generated from `macros/`; this test fails when
//! the committed chapter is stale. Regenerate it with
//! `BLESS=1 cargo test -p boulder --test macros_book` (or
//! `cargo run -p boulder -- doc macros -o book/src/reference/macros.md`).

use boulder::macros::{render_reference, MacroLibrary};

#[test]
fn committed_macro_reference_is_up_to_date() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../book/src/reference/macros.md"
    );
    let library = MacroLibrary::embedded().unwrap_or_else(|error| panic!("{error}"));
    test_support::bless::check_generated(std::path::Path::new(path), render_reference(&library));
}

#[test]
fn reference_documents_every_action_and_tuning_group() {
    let library = MacroLibrary::embedded().unwrap();
    let text = render_reference(&library);
    let target = library.target("x86_64").unwrap();
    for action in target.actions() {
        assert!(
            text.contains(&format!("#### `%{}`", action.name)),
            "{}",
            action.name
        );
    }
    for group in target.tuning_groups() {
        assert!(
            text.contains(&format!("| `{}` |", group.name)),
            "{}",
            group.name
        );
    }
    assert!(text.contains("| `%(libdir)` | `%(prefix)/lib%(libsuffix)` |"));
}
