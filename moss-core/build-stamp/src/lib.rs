//! Called from a build script: sets the environment variable a binary reads
//! with `env!` for its `--version` line, and tells cargo when to recompute it.
//!
//! A crate of its own (rather than a file both build scripts `include!`) so
//! that moss-core and boulder share one implementation and one place to test.

use std::path::{Path, PathBuf};

/// Sets `VAR` (through `cargo:rustc-env`) to the package version and the
/// short commit of the checkout (`0.1.0 (0123456789ab)`); without git or
/// outside a checkout (a source tarball) to the version alone. Reruns the
/// build script when HEAD moves.
pub fn record_version_text(var: &str) {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let Some(commit) = git(&manifest, &["rev-parse", "--short=12", "HEAD"]) else {
        println!("cargo:rustc-env={var}={version}");
        return;
    };
    println!("cargo:rustc-env={var}={version} ({commit})");
    for path in head_files(&manifest) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// The files that change when HEAD moves: HEAD itself, the branch it names,
/// packed refs (those that exist).
fn head_files(manifest: &Path) -> Vec<PathBuf> {
    let resolve = |args: &[&str]| git(manifest, args).map(|p| manifest.join(p));
    let mut watched = Vec::new();
    if let Some(git_dir) = resolve(&["rev-parse", "--git-dir"]) {
        watched.push(git_dir.join("HEAD"));
    }
    if let Some(common) = resolve(&["rev-parse", "--git-common-dir"]) {
        watched.push(common.join("packed-refs"));
        if let Some(branch) = git(manifest, &["symbolic-ref", "-q", "HEAD"]) {
            watched.push(common.join(branch));
        }
    }
    watched.retain(|p| p.exists());
    watched
}

/// Runs `git ARGS` in `dir`; its trimmed output when it succeeds.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}
