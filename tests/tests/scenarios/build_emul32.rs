//! `emul32: true` with the real compiler in a real root: both x86 targets are
//! built (the 32-bit one first, with `-m32`, i686 flags and /usr/lib32), and the
//! 32-bit binary lands in the `-32bit` package. Where the host has no 32-bit
//! toolchain the build stops before any phase and says what to install.

use crate::common;

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::stone_common::regular_files as files;
use common::{cache_dir, have_dpkg};
use e2e::scenario_fixture as fixture;

/// Whether the host has the 32-bit C runtime the host profile imports.
fn host_has_multilib() -> bool {
    Path::new("/usr/lib32/crt1.o").exists()
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn an_emul32_recipe_builds_both_x86_targets() {
    if !have_dpkg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir(dir.path().join("pkg")).expect("pkg");
    fs::copy(fixture("pgo/main.c"), dir.path().join("pkg/main.c")).expect("main.c");
    fs::copy(fixture("emul32/stone.yaml"), dir.path().join("stone.yaml")).expect("recipe");
    let out = tempfile::tempdir().expect("out");
    let output = Command::new(env!("CARGO_BIN_EXE_boulder"))
        .arg("build")
        .arg("--cache-dir")
        .arg(cache_dir())
        .arg(dir.path())
        .arg("-o")
        .arg(out.path())
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("boulder runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !host_has_multilib() {
        test_support::missing(
            "an_emul32_recipe_builds_both_x86_targets",
            "the host has no 32-bit toolchain (apt install gcc-multilib g++-multilib)",
        );
        // Without it the build must say so before running anything.
        assert!(!output.status.success());
        assert!(stderr.contains("gcc-multilib"), "{stderr}");
        assert!(!stdout.contains("» Phase build"), "{stdout}");
        return;
    }
    assert!(output.status.success(), "build failed\n{stdout}\n{stderr}");
    let emul32 = stdout
        .find("» Phase build (emul32/x86_64")
        .expect("emul32 built");
    let native = stdout.find("» Phase build (x86_64").expect("x86_64 built");
    assert!(emul32 < native, "emul32 is built first: {stdout}");
    assert!(stdout.contains("gcc -m32 "), "{stdout}");
    assert!(stdout.contains("-march=i686"), "{stdout}");

    let main = files(&out.path().join("emul32-demo-1.0-1-1-x86_64.stone"));
    let bit32 = files(&out.path().join("emul32-demo-32bit-1.0-1-1-x86_64.stone"));
    let elf_class = |bytes: &[u8]| {
        assert_eq!(&bytes[..4], b"\x7fELF");
        bytes[4]
    };
    assert_eq!(elf_class(&main["/usr/lib/emul32-demo/primes"]), 2, "64-bit");
    assert_eq!(
        elf_class(&bit32["/usr/lib32/emul32-demo/primes"]),
        1,
        "32-bit"
    );
}
