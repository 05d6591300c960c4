//! The book's `boulder` command-line reference is generated from the clap
//! definitions; this test fails when the committed page is stale.
//! Regenerate with `BLESS=1 cargo test -p boulder --test api cli_reference`.

use clap::CommandFactory;

#[test]
fn boulder_cli_reference_is_current() {
    let page = moss_core::cli::reference::render_markdown(
        "boulder command-line reference",
        boulder::cli::Cli::command(),
    );
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../book/src/reference/cli-boulder.md"
    );
    test_support::bless::check_generated(std::path::Path::new(path), page);
}
