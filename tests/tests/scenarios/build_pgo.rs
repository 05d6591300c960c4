//! Profile-guided optimisation with the real compiler in a real root: a recipe
//! with a `workload` is built in stages (instrumented build, workload, final
//! build with the profile) and the package holds the final binary.
//!
//! The gnu recipe (`tests/pgo/gnu-stone.yaml`) compiles its final stage with
//! `-Werror=missing-profile`, so the build only succeeds when gcc found the
//! profile the workload wrote; the workload records the stage it ran in and the
//! install phase packs that record and the names of the profile files.
//!
//! The LLVM recipe (`tests/pgo/llvm-stone.yaml`) is built the same way with
//! clang, once plainly (stages one and use; the workload ends with
//! `llvm-profdata merge`) and once with `cspgo: true` (a context-sensitive
//! second stage). clang's `-fprofile-use` fails on a missing profile file, so
//! a final build that succeeds was made with the merged profile. The host
//! profile brings clang, lld, llvm-profdata and compiler-rt's profile runtime
//! (`libclang-rt-dev` on Debian) into the root.

use crate::common;

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::stone_common::regular_files as files;
use common::{cache_dir, have_dpkg};
use e2e::scenario_fixture as fixture;

/// A recipe directory with `stone.yaml` from `recipe` and `pkg/main.c`.
fn recipe_dir(recipe: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir(dir.path().join("pkg")).expect("pkg");
    fs::copy(fixture("pgo/main.c"), dir.path().join("pkg/main.c")).expect("main.c");
    fs::write(dir.path().join("stone.yaml"), recipe).expect("recipe");
    dir
}

fn build(recipe: &Path, out: &Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_boulder"))
        .arg("build")
        .arg("--cache-dir")
        .arg(cache_dir())
        .arg(recipe)
        .arg("-o")
        .arg(out)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("boulder runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn a_gnu_recipe_with_a_workload_is_built_in_pgo_stages_with_gcc() {
    if !have_dpkg() {
        return;
    }
    let recipe = fs::read_to_string(fixture("pgo/gnu-stone.yaml")).expect("fixture");
    let dir = recipe_dir(&recipe);
    let out = tempfile::tempdir().expect("out");
    let (code, stdout, stderr) = build(dir.path(), out.path());
    assert_eq!(code, 0, "build failed\n{stdout}\n{stderr}");

    // Each stage ran, in order, with its PGO_STAGE.
    let one = stdout
        .find("PGO stage one of x86_64: instrumented build and workload")
        .expect("stage one announced");
    let workload = stdout
        .find("» Phase workload (x86_64")
        .expect("workload ran");
    let final_stage = stdout
        .find("PGO stage use of x86_64: build with the merged profile")
        .expect("final stage announced");
    let install = stdout.find("» Phase install (x86_64").expect("install ran");
    assert!(
        one < workload && workload < final_stage && final_stage < install,
        "{stdout}"
    );
    assert!(stdout.contains("built in stage ONE"), "{stdout}");
    assert!(stdout.contains("built in stage USE"), "{stdout}");
    // The instrumented build wrote profiles; the final one was compiled with them
    // (-Werror=missing-profile) and with gcc's profile-use flags.
    assert!(
        stdout.contains("-fprofile-generate -fprofile-dir=/mason/build/x86_64-pgo"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-fprofile-use -fprofile-dir=/mason/build/x86_64-pgo -fprofile-correction"),
        "{stdout}"
    );

    let stone = out.path().join("pgo-demo-1.0-1-1-x86_64.stone");
    let files = files(&stone);
    assert!(
        files.contains_key("/usr/bin/pgo-demo"),
        "{:?}",
        files.keys()
    );
    let stages = String::from_utf8_lossy(&files["/usr/share/pgo-demo/stages-run"]).into_owned();
    assert_eq!(stages, "ONE\n", "the workload runs once, in stage one");
    let profiles = String::from_utf8_lossy(&files["/usr/share/pgo-demo/gcda-files"]).into_owned();
    assert!(
        profiles.lines().any(|l| l.ends_with("main.gcda")),
        "profile files: {profiles}"
    );
    // The packaged binary is the final stage's: an instrumented one names the
    // profile file it writes (`…/x86_64-pgo/…main.gcda`).
    let binary = &files["/usr/bin/pgo-demo"];
    let needle = b".gcda";
    assert!(
        !binary.windows(needle.len()).any(|w| w == needle),
        "the packaged binary is instrumented"
    );
}

/// Whether the host can give the root what LLVM PGO needs.
fn host_has_llvm_pgo(test: &str) -> bool {
    let runtime = std::path::Path::new("/usr/lib")
        .read_dir()
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("llvm-"))
        .any(|e| walk_has(&e.path().join("lib/clang"), "libclang_rt.profile-x86_64.a"));
    let tools = [
        "/usr/bin/clang",
        "/usr/bin/llvm-profdata",
        "/usr/bin/ld.lld",
    ]
    .iter()
    .all(|p| Path::new(p).exists());
    if !(runtime && tools) {
        test_support::missing(
            test,
            "the host lacks clang, lld, llvm or compiler-rt's profile runtime \
             (apt install clang lld llvm libclang-rt-dev)",
        );
        return false;
    }
    true
}

fn walk_has(dir: &Path, name: &str) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let path = entry.path();
        if path.is_dir() {
            walk_has(&path, name)
        } else {
            entry.file_name() == name
        }
    })
}

/// Builds the LLVM fixture (with `extra` keys) and checks the stages it ran.
fn build_llvm(test: &str, extra: &str, stages: &[&str]) {
    if !have_dpkg() || !host_has_llvm_pgo(test) {
        return;
    }
    let recipe = fs::read_to_string(fixture("pgo/llvm-stone.yaml"))
        .expect("fixture")
        .replace(
            "toolchain   : llvm\n",
            &format!("toolchain   : llvm\n{extra}"),
        );
    let dir = recipe_dir(&recipe);
    let out = tempfile::tempdir().expect("out");
    let (code, stdout, stderr) = build(dir.path(), out.path());
    assert_eq!(code, 0, "build failed\n{stdout}\n{stderr}");
    let mut at = 0;
    for stage in stages {
        let found = stdout[at..]
            .find(&format!("PGO stage {stage} of x86_64"))
            .unwrap_or_else(|| panic!("stage {stage} missing or out of order:\n{stdout}"));
        at += found;
    }
    assert!(
        stdout.contains("-fprofile-generate=/mason/build/x86_64-pgo/IR"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "llvm-profdata merge --failure-mode=all -output=/mason/build/x86_64-pgo/ir.profdata"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("-fprofile-use=/mason/build/x86_64-pgo/combined.profdata"),
        "{stdout}"
    );

    let files = files(&out.path().join("pgo-demo-1.0-1-1-x86_64.stone"));
    let ran = String::from_utf8_lossy(&files["/usr/share/pgo-demo/stages-run"]).into_owned();
    let expected: String = stages
        .iter()
        .filter(|s| **s != "use")
        .map(|s| format!("{}\n", s.to_uppercase()))
        .collect();
    assert_eq!(
        ran, expected,
        "the workload runs once per instrumented stage"
    );
    let profiles =
        String::from_utf8_lossy(&files["/usr/share/pgo-demo/profile-files"]).into_owned();
    assert!(
        profiles
            .lines()
            .any(|l| l.starts_with("./IR/") && l.ends_with(".profraw")),
        "{profiles}"
    );
    assert!(profiles.lines().any(|l| l == "./ir.profdata"), "{profiles}");
    assert!(
        profiles.lines().any(|l| l == "./combined.profdata"),
        "{profiles}"
    );
    if stages.contains(&"two") {
        assert!(
            stdout.contains("-fcs-profile-generate=/mason/build/x86_64-pgo/CS"),
            "{stdout}"
        );
        assert!(
            profiles
                .lines()
                .any(|l| l.starts_with("./CS/") && l.ends_with(".profraw")),
            "{profiles}"
        );
    }
    // The packaged binary is the final stage's: an instrumented one names the
    // directory it writes its profile to.
    let binary = &files["/usr/bin/pgo-demo"];
    let needle = b"x86_64-pgo";
    assert!(
        !binary.windows(needle.len()).any(|w| w == needle),
        "the packaged binary is instrumented"
    );
}

#[test]
#[cfg_attr(
    any(lacks_llvm, lacks_dpkg),
    ignore = "needs clang, lld and llvm; needs dpkg (the host profile)"
)]
fn an_llvm_recipe_with_a_workload_is_built_in_pgo_stages_with_clang() {
    build_llvm(
        "an_llvm_recipe_with_a_workload_is_built_in_pgo_stages_with_clang",
        "",
        &["one", "use"],
    );
}

#[test]
#[cfg_attr(
    any(lacks_llvm, lacks_dpkg),
    ignore = "needs clang, lld and llvm; needs dpkg (the host profile)"
)]
fn cspgo_adds_a_context_sensitive_stage_on_llvm() {
    build_llvm(
        "cspgo_adds_a_context_sensitive_stage_on_llvm",
        "cspgo       : true\n",
        &["one", "two", "use"],
    );
}
