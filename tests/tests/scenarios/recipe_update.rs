//! `boulder recipe update` and `boulder recipe bump` on copies of real
//! AerynOS recipes: only the version, release, upstream and hash lines
//! change (checked on the diff and on the file), the new hash is the one of
//! what a real loopback HTTP server (or a local file) served, and the result
//! still passes `recipe check`.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use test_support::http::Server;

/// Runs boulder; `recipe update` gets `cache` as its cache directory.
fn boulder(args: &[&str], cache: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_boulder"));
    command.args(args);
    if args.get(1) == Some(&"update") {
        command.arg("--cache-dir").arg(cache);
    }
    command.output().expect("boulder runs")
}

use e2e::sha256_hex as sha256;

/// A copy of the real recipe directory `rel` (e.g. `t/tini`) in `into`.
fn copy_recipe(test: &str, rel: &str, into: &Path) -> Option<PathBuf> {
    let fixtures = test_support::shared_fixtures(env!("CARGO_MANIFEST_DIR"), test)?;
    let from = fixtures.join("real-recipes/recipes").join(rel);
    let to = into.join(rel.rsplit('/').next().unwrap_or(rel));
    fs::create_dir_all(&to).expect("mkdir");
    // The contents only: the fixtures are read-only, and a packager's copy is
    // theirs to edit (root could write a 0444 file, anyone else could not).
    let text = fs::read(from.join("stone.yaml")).expect("read recipe");
    fs::write(to.join("stone.yaml"), text).expect("copy recipe");
    Some(to)
}

/// The 1-based numbers of the lines that differ (same line count expected).
fn changed_lines(old: &str, new: &str) -> Vec<usize> {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    assert_eq!(a.len(), b.len(), "the line count changed");
    (0..a.len())
        .filter(|&i| a[i] != b[i])
        .map(|i| i + 1)
        .collect()
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line holds {needle}"))
        + 1
}

#[test]
fn update_over_http_changes_only_version_release_url_and_hash() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some(dir) = copy_recipe("update_over_http", "t/tini", tmp.path()) else {
        return;
    };
    let recipe = dir.join("stone.yaml");
    let old = fs::read_to_string(&recipe).expect("read");
    let tarball = b"pretend this is tini 0.19.1".to_vec();
    let server = Server::start(HashMap::from([(
        "v0.19.1.tar.gz".to_string(),
        tarball.clone(),
    )]))
    .expect("server");
    let url = server.url("v0.19.1.tar.gz");
    let cache = tmp.path().join("cache");

    let out = boulder(
        &[
            "recipe",
            "update",
            "--version",
            "0.19.1",
            "--upstream",
            &url,
            dir.to_str().unwrap(),
        ],
        &cache,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new = fs::read_to_string(&recipe).expect("read");
    let hash = sha256(&tarball);

    // The file: exactly those three lines differ, with the expected values.
    assert_eq!(
        changed_lines(&old, &new),
        [
            line_of(&old, "version"),
            line_of(&old, "release"),
            line_of(&old, "0fd35a70")
        ]
    );
    assert!(new.contains("version     : \"0.19.1\"\n"), "{new}");
    assert!(new.contains("release     : 5\n"), "{new}");
    assert!(new.contains(&format!("    - {url} : {hash}\n")), "{new}");
    // Comments and everything else are kept byte for byte.
    assert!(new.starts_with("# SPDX-FileCopyrightText: 2024 AerynOS Developers\n"));
    assert!(new.contains("    # Note that this build needs static libraries\n"));

    // The diff shows the same three changes, each old line and its new one.
    let removed: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("-") && !l.starts_with("---"))
        .collect();
    let added: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("+") && !l.starts_with("+++"))
        .collect();
    assert_eq!(removed.len(), 3, "{stdout}");
    assert_eq!(added.len(), 3, "{stdout}");
    assert!(
        added.contains(&format!("+    - {url} : {hash}").as_str()),
        "{stdout}"
    );
    assert!(removed.contains(&"-release     : 4"), "{stdout}");

    // It is still a valid recipe, and the next build finds the file cached.
    let check = boulder(&["recipe", "check", recipe.to_str().unwrap()], &cache);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(cache
        .join("upstreams/fetched")
        .join(&hash)
        .join("v0.19.1.tar.gz")
        .is_file());
}

#[test]
fn update_from_a_local_file_follows_the_version_and_bump_raises_release() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some(dir) = copy_recipe("update_from_a_local_file", "l/libdaemon", tmp.path()) else {
        return;
    };
    let recipe = dir.join("stone.yaml");
    let old = fs::read_to_string(&recipe).expect("read");
    let tarball = b"pretend this is libdaemon 0.15".to_vec();
    let file = tmp.path().join("libdaemon-0.15.tar.gz");
    fs::write(&file, &tarball).expect("write");
    let url = format!("file://{}", file.display());
    let cache = tmp.path().join("cache");

    let out = boulder(
        &[
            "recipe",
            "update",
            "--ver",
            "0.15",
            "-u",
            &url,
            "--dry-run",
            dir.to_str().unwrap(),
        ],
        &cache,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        fs::read_to_string(&recipe).expect("read"),
        old,
        "--dry-run wrote"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&sha256(&tarball)), "{stdout}");

    let out = boulder(
        &[
            "recipe",
            "update",
            "--version",
            "0.15",
            "-u",
            &url,
            "--no-bump",
            dir.to_str().unwrap(),
        ],
        &cache,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new = fs::read_to_string(&recipe).expect("read");
    assert_eq!(
        changed_lines(&old, &new),
        [line_of(&old, "version"), line_of(&old, "    - ")]
    );
    assert!(
        new.contains(&format!("{url} : {}", sha256(&tarball))),
        "{new}"
    );

    let out = boulder(&["recipe", "bump", recipe.to_str().unwrap()], &cache);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bumped = fs::read_to_string(&recipe).expect("read");
    assert_eq!(changed_lines(&new, &bumped), [line_of(&new, "release")]);
    assert!(bumped.contains("release     : 3\n"), "{bumped}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("-release     : 2\n+release     : 3\n"),
        "{stdout}"
    );
}

#[test]
fn update_of_a_missing_url_fails_and_leaves_the_recipe() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some(dir) = copy_recipe("update_of_a_missing_url", "t/tini", tmp.path()) else {
        return;
    };
    let old = fs::read_to_string(dir.join("stone.yaml")).expect("read");
    let server = Server::start(HashMap::new()).expect("server");
    let url = server.url("v9.tar.gz");
    let out = boulder(
        &[
            "recipe",
            "update",
            "--version",
            "9",
            "-u",
            &url,
            dir.to_str().unwrap(),
        ],
        &tmp.path().join("cache"),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("404"));
    assert_eq!(
        fs::read_to_string(dir.join("stone.yaml")).expect("read"),
        old
    );
}
