//! A recipe whose build dependency the host has not installed fails before
//! any phase, naming every missing request and the apt package to install;
//! once the package is installed the same build succeeds, importing it on
//! demand, with no manual step.
//!
//! As root the test installs and removes Debian's `hello` with apt-get (the
//! Debian archive is reachable in CI); once purged, the next build fails
//! again (the import follows what the host has installed now). As another user it cannot install
//! anything: it checks the failure, then the success half with a package
//! that is installed but not yet imported (`zstd`).

use crate::common;

use common::{cache_dir, have_dpkg};

use std::path::Path;
use std::process::{Command, Output};

fn recipe(dir: &Path, tool: &str, extra_dep: &str) -> std::path::PathBuf {
    let recipe = dir.join(format!("needs-{tool}"));
    std::fs::create_dir_all(&recipe).expect("recipe dir");
    std::fs::write(
        recipe.join("stone.yaml"),
        format!(
            "name: needs-{tool}\nversion: 1.0\nrelease: 1\nsummary: s\ndescription: d\nlicense: MIT\n\
             homepage: https://example.invalid\ntoolchain: gnu\nbuilddeps:\n    - binary({tool})\n    - {extra_dep}\n\
             install: |\n    mkdir -p %(installroot)/usr/share/needs\n    {tool} --version > %(installroot)/usr/share/needs/version\n"
        ),
    )
    .expect("recipe");
    recipe
}

fn build(recipe: &Path, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_boulder"))
        .arg("build")
        .arg("--cache-dir")
        .arg(cache_dir())
        .arg("-o")
        .arg(out)
        .arg(recipe)
        .output()
        .expect("boulder build")
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Abbrev}", package])
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"ii"))
}

fn apt_get(args: &[&str]) {
    let status = Command::new("apt-get")
        .args(["-y", "-qq"])
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .expect("apt-get");
    assert!(status.success(), "apt-get {args:?} failed");
}

/// The build fails before its first phase, naming `missing` with `apt`.
fn assert_fails_naming(output: &Output, missing: &[(&str, &str)]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the build succeeded:\n{stderr}");
    // Long lines are wrapped by the renderer: compare without line breaks.
    let flat: String = stderr
        .lines()
        .map(|l| l.trim_start_matches([' ', '│']).trim_end())
        .collect::<Vec<_>>()
        .join(" ");
    for (request, apt) in missing {
        let line = format!("{request} is not installed on this host: apt install {apt}");
        assert!(flat.contains(&line), "`{line}` is not in:\n{stderr}");
    }
    assert!(
        !stderr.contains("install │"),
        "a phase ran before the error:\n{stderr}"
    );
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn a_missing_build_dependency_is_named_and_imported_once_installed() {
    if !have_dpkg() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let is_root = real_uid() == 0;
    // `figlet` (its /usr/bin/figlet is an alternatives link) is an apt package no CI image installs.
    if installed("figlet") {
        test_support::missing(
            "build_missing_builddeps",
            "`figlet` is installed, it must not be",
        );
        return;
    }
    if is_root {
        if installed("hello") {
            apt_get(&["purge", "hello"]);
        }
        let recipe = recipe(tmp.path(), "hello", "binary(figlet)");
        let failed = build(&recipe, &tmp.path().join("out-1"));
        assert_fails_naming(
            &failed,
            &[("binary(hello)", "hello"), ("binary(figlet)", "figlet")],
        );

        apt_get(&["install", "--no-install-recommends", "hello", "figlet"]);
        let built = build(&recipe, &tmp.path().join("out-2"));
        apt_get(&["purge", "hello", "figlet"]);
        let stderr = String::from_utf8_lossy(&built.stderr);
        assert!(built.status.success(), "{stderr}");
        assert!(
            stderr.contains("Importing hello from the host for binary(hello)"),
            "{stderr}"
        );
        let manifest = std::fs::read_to_string(tmp.path().join("out-2/manifest.x86_64.jsonc"))
            .expect("manifest");
        assert!(manifest.contains("/usr/share/needs/version"), "{manifest}");

        // Purged from the host, they are no longer in a root: the import
        // follows dpkg's database, says what left, and the build fails as
        // before instead of using the stones imported earlier.
        let purged = build(&recipe, &tmp.path().join("out-3"));
        assert_fails_naming(
            &purged,
            &[("binary(hello)", "hello"), ("binary(figlet)", "figlet")],
        );
        let stderr = String::from_utf8_lossy(&purged.stderr);
        let left = stderr
            .lines()
            .find(|l| l.contains("no longer installed on this host"))
            .unwrap_or_else(|| panic!("nothing says what left:\n{stderr}"));
        assert!(left.contains("hello") && left.contains("figlet"), "{left}");
    } else {
        eprintln!(
            "build_missing_builddeps: not root, so apt-get cannot install; the installed half uses zstd"
        );
        if !installed("zstd") {
            test_support::missing("build_missing_builddeps", "zstd is not installed");
            return;
        }
        let missing = recipe(tmp.path(), "figlet", "binary(figlet)");
        let failed = build(&missing, &tmp.path().join("out-1"));
        assert_fails_naming(&failed, &[("binary(figlet)", "figlet")]);
        let present = recipe(tmp.path(), "zstd", "binary(zstd)");
        let built = build(&present, &tmp.path().join("out-2"));
        assert!(
            built.status.success(),
            "{}",
            String::from_utf8_lossy(&built.stderr)
        );
    }
}

/// The real user id, from /proc (no libc call needed).
fn real_uid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().next())
                .and_then(|u| u.parse().ok())
        })
        .unwrap_or(u32::MAX)
}
