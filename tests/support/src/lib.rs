//! Shared by the test code of every crate in the workspace.
//!
//! A test that needs something this machine may lack (`../shared/fixtures`,
//! dpkg, gcc, git, …) calls [`missing`] when it is absent. Outside CI that
//! prints a `SKIPPED` line and the test returns; under CI (`CI` set, as
//! `.ci/run` runs) it fails the test, so a CI run can never be green without
//! the checks it claims.

use std::path::PathBuf;

pub mod http;

/// True when the tests run under CI (`CI` set to anything but `0`/`false`/empty).
pub fn under_ci() -> bool {
    match std::env::var("CI") {
        Ok(value) => !matches!(value.trim(), "" | "0" | "false" | "FALSE" | "False"),
        Err(_) => false,
    }
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
    let start = PathBuf::from(manifest_dir);
    // Crates live one or two levels below the workspace root.
    for up in [1usize, 2] {
        let mut dir = start.clone();
        for _ in 0..up {
            dir.pop();
        }
        if dir.join("Cargo.lock").is_file() {
            let fixtures = dir.join("../shared/fixtures");
            if fixtures.is_dir() {
                return Some(fixtures.canonicalize().unwrap_or(fixtures));
            }
            break;
        }
    }
    missing(test, "../shared/fixtures is absent");
    None
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
