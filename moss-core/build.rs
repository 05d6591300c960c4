//! Records the git commit for `moss --version` (`MOSS_VERSION_TEXT`), when
//! built from a checkout, and marks the tests whose requirement (the original
//! tools' fixtures, a host tool) this machine lacks, so that they show as
//! ignored rather than passing.

use std::path::{Path, PathBuf};

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

/// Sets `MOSS_VERSION_TEXT` for `--version`: the package version and the
/// short commit of the checkout (`0.1.0 (0123456789ab)`); without git or
/// outside a checkout (a source tarball) the version alone.
fn record_commit(manifest: &Path) {
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let Some(commit) = git(manifest, &["rev-parse", "--short=12", "HEAD"]) else {
        println!("cargo:rustc-env=MOSS_VERSION_TEXT={version}");
        return;
    };
    println!("cargo:rustc-env=MOSS_VERSION_TEXT={version} ({commit})");
    // Rerun when HEAD moves: HEAD itself, the branch it names, packed refs.
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
    for path in watched.into_iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    record_commit(&manifest);
    test_support::probe::declare();
}
