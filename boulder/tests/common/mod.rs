//! Helpers shared by the tests that need a build root from the host profile.

#![allow(dead_code)] // each test crate uses its own subset

use std::path::{Path, PathBuf};

/// One boulder cache per target directory, shared by every root test: the
/// host import is slow, and boulder's own lock keeps concurrent users apart.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("boulder-root-cache")
}

/// The workspace root (recipes-example/ lives there).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The host import needs dpkg; elsewhere the tests say so and pass.
pub fn have_dpkg() -> bool {
    test_support::have_dpkg("a host-profile test")
}
