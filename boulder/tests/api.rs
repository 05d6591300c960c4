//! Tests of boulder's library API, one module per file beside this one. One
//! test binary for all of them: the crate links it once. The scenarios that
//! run the `boulder` binary live in the workspace's `tests/` crate.
//!
//! Run one file's tests with `cargo test -p boulder --test api macros_library::`.

// Test code: a failed unwrap or expect is the run failing (the workspace
// denies them in code that runs on a user's input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod build_emit;
mod cli_reference;
mod macros_book;
mod macros_fuzz_corpus;
mod macros_library;
mod package_collect;
mod package_elf;
mod package_relations;
mod recipe_errors;
mod recipe_fuzz_corpus;
mod recipe_reference;
mod root_concurrent;
mod root_import;
mod root_repository;
mod upstream_archives;
mod upstream_extract_props;
mod upstream_git;
mod yaml_file_kinds;
