//! Scenarios that install and purge packages on the host (as root): a test
//! binary of their own, so that no other scenario imports from the host's
//! package database while it changes.

// Test code: a failed unwrap or expect is the run failing (the workspace
// denies them in code that runs on a user's input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../boulder/tests/common/mod.rs"]
mod common;

mod build_missing_builddeps;
