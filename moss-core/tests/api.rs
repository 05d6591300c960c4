//! Tests of moss-core's library API, one module per file beside this one. One
//! test binary for all of them: the crate links it once. The scenarios that
//! run the `moss` binary live in the workspace's `tests/` crate.
//!
//! Run one file's tests with `cargo test -p moss-core --test api stone_roundtrip::`.

// Test code: a failed unwrap or expect is the run failing (the workspace
// denies them in code that runs on a user's input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod engine_support;
mod repo_support;
mod sandbox_support;
mod stone_common;

mod cli_reference;
mod engine_compat;
mod engine_crash;
mod engine_fixtures;
mod engine_malicious;
mod engine_modes;
mod engine_patch;
mod repo_http;
mod repo_index;
mod repo_resolve;
mod sandbox;
mod stone_bad_input;
mod stone_fuzz_corpus;
mod stone_roundtrip;
mod trigger_engine;
mod trigger_fixture;
