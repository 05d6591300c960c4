//! Helpers shared by the end-to-end scenarios in `tests/tests/scenarios/`.
//!
//! The scenarios run the real `moss` and `boulder` binaries, built by
//! `cargo build --workspace --bins` (the README's test command does that first).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives inside the workspace")
        .to_path_buf()
}

/// Path of a binary built from this workspace (`moss` or `boulder`).
pub fn binary(name: &str) -> PathBuf {
    // Test executables live in target/<profile>/deps; binaries one level up.
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary sits in target/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace --bins` before the end-to-end tests",
        path.display()
    );
    path
}

/// A `Command` for one of the workspace's binaries.
pub fn command(name: &str) -> Command {
    Command::new(binary(name))
}

/// Print why a test is skipped, in a form that stands out in `cargo test` output.
pub fn skip(test: &str, why: &str) {
    test_support::missing(test, why);
}
