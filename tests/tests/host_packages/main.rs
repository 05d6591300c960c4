//! Scenarios that install and purge packages on the host (as root): a test
//! binary of their own, so that no other scenario imports from the host's
//! package database while it changes.

#[path = "../../../boulder/tests/common/mod.rs"]
mod common;

mod build_missing_builddeps;
