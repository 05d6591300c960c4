//! `boulder recipe expand` against upstream boulder's own phase scripts for the
//! real recipes of `../shared/fixtures/upstream-expansions`, compared by
//! `../shared/tools/expansion-diff` (environment, work directory and body of
//! every section, the prepare step, every PGO stage and the action
//! dependencies). Every recipe must expand exactly as upstream's, as it is and
//! with the `aerynos` profile (which changes nothing upstream would not do).
//!
//! The fixtures were made with `%(jobs)` = 2, so the expansion is asked for two
//! jobs whatever this machine has.

use std::path::{Path, PathBuf};
use std::process::Command;

fn expansion_diff(test: &str) -> Option<(PathBuf, PathBuf)> {
    let fixtures = test_support::shared_fixtures(env!("CARGO_MANIFEST_DIR"), test)?;
    let tool = fixtures.join("../tools/expansion-diff");
    let set = fixtures.join("upstream-expansions");
    if !tool.is_file() || !set.is_dir() {
        test_support::missing(
            test,
            "../shared/tools/expansion-diff or its fixture set is absent",
        );
        return None;
    }
    if Command::new("python3").arg("--version").output().is_err() {
        test_support::missing(test, "python3 (which runs expansion-diff) is not installed");
        return None;
    }
    Some((tool, set))
}

/// Runs the tool over the whole set with the extra `recipe expand` arguments and
/// asserts it found no difference and no failure.
fn assert_identical(test: &str, extra: &[&str]) {
    let Some((tool, set)) = expansion_diff(test) else {
        return;
    };
    let cache =
        std::env::temp_dir().join(format!("boulder-expansions-{}-{test}", std::process::id()));
    let mut command = Command::new("python3");
    command
        .arg(&tool)
        .arg("--boulder")
        .arg(env!("CARGO_BIN_EXE_boulder"))
        .arg("--set")
        .arg(&set)
        .arg("--show")
        .arg("3")
        .arg("--kinds")
        .arg("10")
        .args(["--expand-arg=--jobs", "--expand-arg=2"])
        .arg(format!("--expand-arg=--cache-dir={}", cache.display()));
    for arg in extra {
        command.arg(format!("--expand-arg={arg}"));
    }
    let output = command
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("run expansion-diff");
    let _ = std::fs::remove_dir_all(&cache);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        output.status.success()
            && summary.contains(" 0 differ, 0 failed to expand")
            && !stdout.contains("not shown"),
        "expansion-diff {extra:?} found differences:\n{stdout}\n{stderr}"
    );
    let identical: usize = summary
        .strip_prefix("expansions: ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(identical > 600, "too few recipes compared: {summary}");
}

#[test]
#[cfg_attr(
    any(lacks_python3, lacks_fixtures),
    ignore = "needs python3; needs ../shared/fixtures"
)]
fn every_recipe_expands_as_upstream() {
    assert_identical("every_recipe_expands_as_upstream", &[]);
}

#[test]
#[cfg_attr(
    any(lacks_python3, lacks_fixtures),
    ignore = "needs python3; needs ../shared/fixtures"
)]
fn every_recipe_expands_as_upstream_with_the_aerynos_profile() {
    assert_identical(
        "every_recipe_expands_as_upstream_with_the_aerynos_profile",
        &["--profile", "aerynos"],
    );
}
