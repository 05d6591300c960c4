//! What this machine lacks, decided when a test crate is built, so that a
//! test whose requirement is absent shows as `ignored` (with the reason) in
//! libtest's result instead of passing as `ok` without checking anything.
//!
//! A crate's `build.rs` calls [`declare`]; each requirement found absent
//! becomes a `lacks_<name>` cfg, and the tests that need it carry
//! `#[cfg_attr(lacks_<name>, ignore = "…")]`. Under CI nothing is ever
//! ignored: the tests run, and [`crate::missing`] fails them naming what is
//! absent. The test bodies keep their own checks, so a requirement that
//! disappears after the build is still reported at run time.

use std::path::{Path, PathBuf};

/// One thing some tests need from the machine.
pub struct Requirement {
    /// The cfg suffix: `lacks_<name>`.
    pub name: &'static str,
    /// How to tell it is present.
    pub check: Check,
}

/// How a requirement is found.
pub enum Check {
    /// `../shared/fixtures` beside the workspace.
    SharedFixtures,
    /// Every one of these files exists.
    Files(&'static [&'static str]),
    /// Every one of these programs is on `PATH`.
    Programs(&'static [&'static str]),
}

/// Every requirement the workspace's tests name.
pub const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        name: "fixtures",
        check: Check::SharedFixtures,
    },
    // The host profile imports from the dpkg database.
    Requirement {
        name: "dpkg",
        check: Check::Files(&["/var/lib/dpkg/status"]),
    },
    Requirement {
        name: "git",
        check: Check::Programs(&["git"]),
    },
    Requirement {
        name: "bash",
        check: Check::Programs(&["bash"]),
    },
    Requirement {
        name: "perl",
        check: Check::Files(&["/usr/bin/perl"]),
    },
    Requirement {
        name: "python3",
        check: Check::Programs(&["python3"]),
    },
    // A C compiler and the binutils that split debug information.
    Requirement {
        name: "gcc",
        check: Check::Programs(&["gcc", "objcopy", "strip"]),
    },
    Requirement {
        name: "zstd",
        check: Check::Files(&["/usr/bin/zstd"]),
    },
    Requirement {
        name: "bwrap",
        check: Check::Files(&["/usr/bin/bwrap"]),
    },
    Requirement {
        name: "unshare",
        check: Check::Files(&["/usr/bin/unshare"]),
    },
    Requirement {
        name: "apt_helper",
        check: Check::Files(&["/usr/lib/apt/apt-helper"]),
    },
    // LLVM PGO builds: clang, lld, llvm-profdata (the profile runtime is
    // checked by the test itself).
    Requirement {
        name: "llvm",
        check: Check::Files(&[
            "/usr/bin/clang",
            "/usr/bin/llvm-profdata",
            "/usr/bin/ld.lld",
        ]),
    },
];

/// `../shared/fixtures` for the crate at `manifest_dir` (one or two levels
/// below the workspace root), whether or not it exists.
pub fn fixtures_path(manifest_dir: &Path) -> PathBuf {
    for up in [1usize, 2] {
        let mut dir = manifest_dir.to_path_buf();
        for _ in 0..up {
            dir.pop();
        }
        if dir.join("Cargo.lock").is_file() {
            return dir.join("../shared/fixtures");
        }
    }
    manifest_dir.join("../../shared/fixtures")
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

/// Whether `requirement` is met on this machine, for the crate at `manifest_dir`.
pub fn present(requirement: &Requirement, manifest_dir: &Path) -> bool {
    match requirement.check {
        Check::SharedFixtures => fixtures_path(manifest_dir).is_dir(),
        Check::Files(files) => files.iter().all(|f| Path::new(f).exists()),
        Check::Programs(programs) => programs.iter().all(|p| on_path(p)),
    }
}

/// For a build script: declares every `lacks_<name>` cfg, sets those whose
/// requirement is absent (never under CI), and asks cargo to probe again
/// when what they depend on changes.
pub fn declare() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo:rerun-if-env-changed=CI");
    println!("cargo:rerun-if-env-changed=PATH");
    let ci = crate::under_ci();
    // Under CI no cfg is set whatever the machine has, so nothing on disk is
    // watched: cargo scans a watched directory recursively and reruns this
    // script (and rebuilds its crate) when any file below it is newer. The
    // workspace's parent holds `target/`, and the host-package test changes
    // `/var/lib/dpkg`, so each cargo command after a build or a test rebuilt
    // moss-core, boulder, e2e and both binaries.
    if !ci {
        // A directory's modification time changes when an entry is added or
        // removed: moving `../shared` in or out, installing a program. With
        // `../shared` present, only it is watched (moving it away counts:
        // cargo reruns this when a watched path disappears); without it, the
        // workspace's parent, where it would appear.
        let fixtures = fixtures_path(&manifest_dir);
        if let Some(shared) = fixtures.parent() {
            let watched = match shared.parent() {
                Some(parent) if !shared.is_dir() => parent,
                _ => shared,
            };
            println!("cargo:rerun-if-changed={}", watched.display());
        }
        for dir in ["/usr/bin", "/var/lib/dpkg"] {
            if Path::new(dir).is_dir() {
                println!("cargo:rerun-if-changed={dir}");
            }
        }
    }
    // `TEST_SUPPORT_ASSUME_LACKING=fixtures,dpkg` treats those as absent:
    // how to see what a machine without them reports, without removing them.
    println!("cargo:rerun-if-env-changed=TEST_SUPPORT_ASSUME_LACKING");
    let assumed = std::env::var("TEST_SUPPORT_ASSUME_LACKING").unwrap_or_default();
    let assumed: Vec<&str> = assumed.split(',').map(str::trim).collect();
    for requirement in REQUIREMENTS {
        let cfg = format!("lacks_{}", requirement.name);
        println!("cargo:rustc-check-cfg=cfg({cfg})");
        let absent = assumed.contains(&requirement.name) || !present(requirement, &manifest_dir);
        if !ci && absent {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_programs_are_found_or_not() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        let absent = Requirement {
            name: "nothing",
            check: Check::Files(&["/nonexistent/test-support/probe"]),
        };
        assert!(!present(&absent, here));
        let shell = Requirement {
            name: "sh",
            check: Check::Programs(&["sh"]),
        };
        assert!(present(&shell, here));
        let no_program = Requirement {
            name: "none",
            check: Check::Programs(&["no-such-program-test-support"]),
        };
        assert!(!present(&no_program, here));
    }

    #[test]
    fn every_requirement_has_a_distinct_name() {
        let mut names: Vec<&str> = REQUIREMENTS.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REQUIREMENTS.len());
    }
}
