//! The book's macro reference is generated from `macros/`; this test fails when
//! the committed chapter is stale. Regenerate it with
//! `cargo run -p boulder -- doc macros -o book/src/reference/macros.md`.

use boulder::macros::{render_reference, MacroLibrary};

#[test]
fn committed_macro_reference_is_up_to_date() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../book/src/reference/macros.md"
    );
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let library = MacroLibrary::embedded().unwrap_or_else(|error| panic!("{error}"));
    let generated = render_reference(&library);
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()))
            + 1;
        panic!(
            "book/src/reference/macros.md is stale (first difference at line {line}); run \
             `cargo run -p boulder -- doc macros -o book/src/reference/macros.md`"
        );
    }
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
