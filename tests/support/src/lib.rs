//! Shared by the test code of every crate in the workspace.
//!
//! A test that needs something this machine may lack (`../shared/fixtures`,
//! dpkg, gcc, git, …) is marked `#[cfg_attr(lacks_<name>, ignore = "…")]`
//! (see [`probe`]: the crate's build script sets the cfg when the requirement
//! is absent), so libtest reports it as ignored, never as a silent `ok`. The
//! test still calls [`missing`] when it finds the requirement absent at run
//! time: under CI (`CI` set, as `.ci/run` runs) that fails the test, so a CI
//! run can never be green without the checks it claims.
//!
//! Generated files the repository keeps (reference pages, fuzz seeds) are
//! checked, and rewritten with `BLESS=1`, through [`bless`].

// Test helpers: a failed unwrap or expect is the run failing (the workspace
// denies them in code that runs on a user's input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

pub mod bless;
pub mod fuzz;
pub mod http;
pub mod probe;

/// True when the tests run under CI (`CI` set to anything but `0`/`false`/empty).
pub fn under_ci() -> bool {
    match std::env::var("CI") {
        Ok(value) => !matches!(value.trim(), "" | "0" | "false" | "FALSE" | "False"),
        Err(_) => false,
    }
}

/// A process's output (stdout or stderr) as text, invalid UTF-8 replaced: what
/// assertion messages show.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Reports that `test` cannot run because `what` is missing: a failure under
/// CI, a visible `SKIPPED` line elsewhere. The caller returns after it.
#[track_caller]
pub fn missing(test: &str, what: &str) {
    if under_ci() {
        panic!("{test}: {what}; CI must provide it (tests never pass by skipping under CI)");
    }
    eprintln!("SKIPPED {test}: {what}");
}

/// `../shared/fixtures` beside the workspace whose crate manifest dir is
/// `manifest_dir`, or `None` after reporting it missing for `test`.
pub fn shared_fixtures(manifest_dir: &str, test: &str) -> Option<PathBuf> {
    let fixtures = probe::fixtures_path(std::path::Path::new(manifest_dir));
    if fixtures.is_dir() {
        record_fixture_test(test);
        return Some(fixtures.canonicalize().unwrap_or(fixtures));
    }
    missing(test, "../shared/fixtures is absent");
    None
}

/// Appends `test` to the file named by `FIXTURE_TEST_LOG`, when set: CI counts
/// the tests that ran against the original tools' fixtures from it.
pub fn record_fixture_test(test: &str) {
    let Some(log) = std::env::var_os("FIXTURE_TEST_LOG") else {
        return;
    };
    use std::io::Write;
    // One short line per append: O_APPEND keeps concurrent writers' lines whole.
    let line = format!("{test}\n");
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(e) = written {
        panic!(
            "cannot record the fixture test {test} in {}: {e}",
            PathBuf::from(log).display()
        );
    }
}

/// Whether the dpkg database exists (the host profile imports from it);
/// reports it missing for `test` when it does not.
pub fn have_dpkg(test: &str) -> bool {
    let found = std::path::Path::new("/var/lib/dpkg/status").exists();
    if !found {
        missing(
            test,
            "this host has no dpkg database, so there is no host profile to import",
        );
    }
    found
}
