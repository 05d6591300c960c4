//! The book's `moss` command-line reference is generated from the clap
//! definitions; this test fails when the committed page is stale.
//! Regenerate with `BLESS=1 cargo test -p moss-core --test api cli_reference`.

use clap::CommandFactory;

#[test]
fn moss_cli_reference_is_current() {
    let page = moss_core::cli::reference::render_markdown(
        "moss command-line reference",
        moss_core::cli::Cli::command(),
    );
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../book/src/reference/cli-moss.md"
    );
    test_support::bless::check_generated(std::path::Path::new(path), page);
}
