//! Roots for the sandbox tests of moss-core's library and of the end-to-end
//! scenarios (`sandbox_seal`): a temporary root whose `/usr` is the host's
//! `/usr` bound read-only (the host has a merged `/usr`).

#![allow(dead_code)] // each test binary uses its own subset

use std::fs;
use std::os::unix::fs::symlink;

use moss_core::sandbox::{Sandbox, SandboxOutput};
use tempfile::TempDir;

/// A root with an empty `/usr` (filled by the bind), an empty `/etc` and the
/// merged-usr links.
pub fn host_usr_root() -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix("sandbox-root")
        .tempdir()
        .expect("create a temporary root");
    fs::create_dir(dir.path().join("usr")).expect("mkdir usr");
    fs::create_dir(dir.path().join("etc")).expect("mkdir etc");
    for link in ["bin", "lib", "lib64", "sbin"] {
        symlink(format!("usr/{link}"), dir.path().join(link)).expect("symlink");
    }
    dir
}

/// A sandbox of `root` with the host's `/usr` and nothing of the caller's
/// environment but a `PATH`.
pub fn sandbox(root: &TempDir) -> Sandbox {
    Sandbox::new(root.path())
        .bind_ro("/usr", "/usr")
        .env_clear()
        .env("PATH", "/usr/bin:/usr/sbin")
}

/// `script` run by `/usr/bin/sh -c` in `sandbox`.
pub fn sh(sandbox: &Sandbox, script: &str) -> SandboxOutput {
    sandbox
        .output(["/usr/bin/sh", "-c", script])
        .unwrap_or_else(|e| panic!("sandbox failed to start: {e}"))
}
