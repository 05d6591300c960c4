//! End-to-end scenarios: each module (named after the file it lives in) runs
//! the real `moss` and `boulder` binaries, built by
//! `cargo build --workspace --bins` (the README's test command does that
//! first). One test binary for all of them: the workspace links it once.
//!
//! Run one file's scenarios with `cargo test -p e2e --test scenarios build_pgo::`.

// Test code: a failed unwrap or expect is the run failing (the workspace
// denies them in code that runs on a user's input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

// Helpers shared with the crates' own library tests, compiled here too.
#[path = "../../../boulder/tests/common/mod.rs"]
mod common;
#[path = "../../../moss-core/tests/engine_support/mod.rs"]
mod engine_support;
#[path = "../../../moss-core/tests/sandbox_support/mod.rs"]
mod sandbox_support;
#[path = "../../../moss-core/tests/stone_common/mod.rs"]
mod stone_common;

mod book_first_build;
mod boulder_cli_conventions;
mod break_build;
mod build_emul32;
mod build_hostile;
mod build_many;
mod build_output;
mod build_pgo;
mod build_recipes;
mod chroot;
mod codebase;
mod engine_extract_safety;
mod engine_full_disk;
mod error_rendering;
mod extract_names;
mod local_repo_install;
mod macros_cli;
mod macros_upstream_expansions;
mod moss_cli_conventions;
mod real_recipes;
mod recipe_check;
mod recipe_expand_profile;
mod recipe_new;
mod recipe_semantics;
mod recipe_update;
mod root_cli;
mod root_ondemand;
mod sandbox_cli;
mod sandbox_seal;
mod smoke;
mod stone_cli;
mod stone_fixtures;
mod test_layout;
mod upstream_local;
mod upstream_stale_hash;
