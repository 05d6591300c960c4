//! Helpers shared by the end-to-end scenarios in `tests/tests/scenarios/`.
//!
//! The scenarios run the real `moss` and `boulder` binaries, built by
//! `cargo build --workspace --bins` (the README's test command does that first).

// Test helpers: a failed unwrap or expect is the run failing (the workspace
// denies them in code that runs on a user's input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

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

/// A file the scenarios keep beside their sources (`tests/tests/scenarios/NAME`).
pub fn scenario_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(name)
}

/// A `Command` for one of the workspace's binaries.
pub fn command(name: &str) -> Command {
    Command::new(binary(name))
}

/// The sha256 of `bytes` in lowercase hex, as recipes write upstream hashes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// A gzip-compressed tarball of `files` (path inside the archive, content),
/// each a regular file of mode 0644 with a fixed time, as upstream release
/// archives are laid out (`NAME-VERSION/…`).
pub fn tar_gz(top: &str, files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_600_000_000);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("{top}/{name}"), text.as_bytes())
            .expect("tar entry");
    }
    let tar = builder.into_inner().expect("tar");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar).expect("gzip");
    gz.finish().expect("gzip")
}

/// Print why a test is skipped, in a form that stands out in `cargo test` output.
pub fn skip(test: &str, why: &str) {
    test_support::missing(test, why);
}

/// Checks a `--version` line of `program`: `PROGRAM VERSION (COMMIT)` with
/// the checkout's commit. Without git at test time (or a repository git will
/// not read as this user) the build may still have recorded a commit: only
/// the form is checked then.
pub fn assert_version_line(program: &str, shown: &str) {
    let commit = Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR")])
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let version = env!("CARGO_PKG_VERSION");
    let shown = shown.trim();
    match commit {
        Some(commit) => assert_eq!(shown, format!("{program} {version} ({commit})")),
        None => {
            let rest = shown
                .strip_prefix(&format!("{program} {version}"))
                .unwrap_or_else(|| panic!("{shown}"));
            let hex = rest.strip_prefix(" (").and_then(|r| r.strip_suffix(')'));
            assert!(
                rest.is_empty()
                    || hex
                        .is_some_and(|h| h.len() == 12 && h.bytes().all(|b| b.is_ascii_hexdigit())),
                "{shown}"
            );
        }
    }
}
