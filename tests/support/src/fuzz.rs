//! Replaying a fuzz target's committed seeds and crash regressions in an
//! ordinary `cargo test`, so CI checks them without cargo-fuzz.
//!
//! Each fuzz crate keeps them in `fuzz/seeds/<target>/`, named by what they
//! test (crash regressions start with `regression-`); the bulk corpus a
//! fuzzing run grows (`fuzz/corpus/`) stays out of git.

use std::path::{Path, PathBuf};

/// `<manifest_dir>/fuzz/seeds/<target>`.
pub fn seeds_dir(manifest_dir: &str, target: &str) -> PathBuf {
    Path::new(manifest_dir).join("fuzz/seeds").join(target)
}

/// Feeds every seed of `target` (sorted by name) to `body`, the function the
/// fuzz target calls, and returns how many there were. Panics when the folder
/// is missing or holds fewer than `at_least` seeds, so a lost corpus fails.
#[track_caller]
pub fn replay_seeds(manifest_dir: &str, target: &str, at_least: usize, body: fn(&[u8])) -> usize {
    let dir = seeds_dir(manifest_dir, target);
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display()));
    let mut paths: Vec<PathBuf> = entries
        .map(|entry| {
            entry
                .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
                .path()
        })
        .collect();
    paths.sort();
    assert!(
        paths.len() >= at_least,
        "{}: {} seeds, expected at least {at_least}",
        dir.display(),
        paths.len()
    );
    for path in &paths {
        let data =
            std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        // Name the seed if the body panics: libtest shows this line with the panic.
        eprintln!("fuzz seed {}", path.display());
        body(&data);
    }
    paths.len()
}
