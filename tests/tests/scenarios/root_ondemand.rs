//! On-demand host import: a request the host repository lacks imports the
//! installed Debian package that provides it, incrementally; two builds
//! needing different new packages at once both get theirs; a killed import
//! leaves a cache the next root repairs; the index and the import state
//! always agree. Works on copies of the shared test cache's host repository.

use crate::common;

use common::{cache_dir, have_dpkg};

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Barrier;
use std::time::SystemTime;

use boulder::root::{self, import, Cache, RootRequest};

fn copy_of_the_shared_import() -> (tempfile::TempDir, Cache) {
    let shared = Cache::open(Some(&cache_dir())).expect("shared cache");
    import::import_host(&shared, false).expect("import");
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache = Cache::open(Some(tmp.path())).expect("cache");
    std::fs::create_dir_all(cache.repos_dir()).expect("repos dir");
    let status = Command::new("cp")
        .arg("-a")
        .arg(import::host_repo_dir(&shared))
        .arg(cache.repos_dir())
        .status()
        .expect("cp");
    assert!(status.success());
    (tmp, cache)
}

fn request(packages: &[&str]) -> RootRequest {
    RootRequest {
        profile: "host".into(),
        packages: packages.iter().map(|p| p.to_string()).collect(),
        networking: false,
    }
}

/// The import state names the index it was written with, every package it
/// wanted is in the index providing what it was wanted for, and the stones
/// directory holds exactly the stones the index names.
fn assert_state_and_index_agree(cache: &Cache) -> serde_json::Value {
    let dir = import::host_repo_dir(cache);
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("import-state.json")).expect("state"),
    )
    .expect("json");
    let index = dir.join("stone.index");
    assert_eq!(
        state["index_sha256"].as_str(),
        Some(e2e::sha256_hex(&std::fs::read(&index).expect("read the index")).as_str())
    );
    let metas = boulder::root::repo::read_index(&index).expect("index");
    for (package, wanted) in state["wanted"].as_object().expect("wanted") {
        let meta = metas
            .iter()
            .find(|m| &m.name == package)
            .unwrap_or_else(|| panic!("{package} is wanted but not in the index"));
        let provides: BTreeSet<String> = meta.provides.iter().map(|p| p.to_string()).collect();
        for reason in wanted["reasons"].as_array().expect("reasons") {
            let reason = reason.as_str().expect("text");
            // Requests by name are renamed to the package, not provided.
            let by_name = !reason.contains('(') || reason.starts_with("name(");
            assert!(
                by_name || provides.contains(reason),
                "{package} does not provide {reason}"
            );
        }
    }
    let named: BTreeSet<String> = metas
        .iter()
        .filter_map(|m| m.package_uri.as_deref())
        .filter_map(|u| u.strip_prefix("stones/"))
        .map(str::to_string)
        .collect();
    let present: BTreeSet<String> = std::fs::read_dir(dir.join("stones"))
        .expect("stones")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    // Stones only the previous index named stay until the next import, for
    // a build that read that index just before.
    let previous: BTreeSet<String> = state["previous"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert!(named.is_disjoint(&previous), "{previous:?}");
    let expected: BTreeSet<String> = named.union(&previous).cloned().collect();
    assert_eq!(
        expected, present,
        "stones on disk are the stones the index (or the previous one) names"
    );
    state
}

/// Whether the Debian package a stone was packed from (`NAME-HASH.stone`) is
/// still installed on this host.
fn still_installed(stone: &str) -> bool {
    let Some((package, _)) = stone.rsplit_once('-') else {
        return true;
    };
    let info = Path::new("/var/lib/dpkg/info");
    ["", ":amd64", ":i386"]
        .iter()
        .any(|arch| info.join(format!("{package}{arch}.list")).exists())
}

fn stones(cache: &Cache) -> Vec<(String, SystemTime)> {
    let mut out: Vec<(String, SystemTime)> =
        std::fs::read_dir(import::host_repo_dir(cache).join("stones"))
            .expect("stones")
            .flatten()
            .map(|e| {
                let modified = e.metadata().and_then(|m| m.modified()).expect("mtime");
                (e.file_name().to_string_lossy().into_owned(), modified)
            })
            .collect();
    out.sort();
    out
}

#[test]
#[cfg_attr(
    any(lacks_zstd, lacks_dpkg, lacks_bwrap),
    ignore = "needs /usr/bin/zstd; needs dpkg (the host profile); needs /usr/bin/bwrap"
)]
fn two_roots_needing_different_new_packages_both_get_them_incrementally() {
    if !have_dpkg() {
        return;
    }
    if !Path::new("/usr/bin/zstd").exists() || !Path::new("/usr/bin/bwrap").exists() {
        test_support::missing("root_ondemand", "zstd and bubblewrap are not installed");
        return;
    }
    // A fresh cache: its store is empty, so both roots also fill the store
    // at once with the base set they share (the same assets and mode
    // variants written by both, each linked while the other writes it).
    let (_tmp, cache) = copy_of_the_shared_import();
    assert!(
        !cache.dir().join("store").exists(),
        "the store starts empty"
    );
    let before = stones(&cache);
    let barrier = Barrier::new(2);
    let roots: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = [["binary(zstd)"], ["binary(bwrap)"]]
            .into_iter()
            .map(|wanted| {
                let (cache, barrier) = (&cache, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    root::prepare(cache, &request(&wanted)).expect("prepare")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert!(roots[0].path.join("usr/bin/zstd").exists());
    assert!(roots[1].path.join("usr/bin/bwrap").exists());
    assert!(roots[0].packages.iter().any(|p| p.starts_with("zstd-")));
    assert!(roots[1]
        .packages
        .iter()
        .any(|p| p.starts_with("bubblewrap-")));

    let state = assert_state_and_index_agree(&cache);
    let wanted = state["wanted"].as_object().expect("wanted");
    assert_eq!(wanted["zstd"]["reasons"][0], "binary(zstd)");
    assert_eq!(wanted["bubblewrap"]["reasons"][0], "binary(bwrap)");

    // Incremental: every stone of the earlier import is still there, untouched,
    // and only the new packages' closures were added.
    let after = stones(&cache);
    // A package removed from the host since (another test purges what it
    // installed) is rightly dropped by the next import.
    for stone in before.iter().filter(|(name, _)| still_installed(name)) {
        assert!(after.contains(stone), "{} was repacked or removed", stone.0);
    }
    // Only the new packages' closures (none where an earlier run of the
    // shared import already holds them).
    let added = after.len().saturating_sub(before.len());
    assert!(added < 20, "{added} stones were added");

    // Asked again, nothing is imported.
    let again =
        root::prepare(&cache, &request(&["binary(zstd)", "binary(bwrap)"])).expect("prepare again");
    assert_eq!(stones(&cache), after);
    assert!(again.packages.iter().any(|p| p.starts_with("bubblewrap-")));
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn a_state_that_does_not_match_its_index_is_imported_again() {
    if !have_dpkg() {
        return;
    }
    let (_tmp, cache) = copy_of_the_shared_import();
    let state_path = import::host_repo_dir(&cache).join("import-state.json");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_path).expect("state")).expect("json");
    // As an import killed after writing the index and before the state leaves it.
    state["index_sha256"] = serde_json::Value::String("0".repeat(64));
    std::fs::write(&state_path, state.to_string()).expect("write");
    let repaired = import::import_host(&cache, false).expect("import");
    assert!(repaired.packages > 50, "{repaired:?}");
    assert!(repaired.repacked.is_empty(), "{:?}", repaired.repacked);
    assert_state_and_index_agree(&cache);
}

#[test]
#[cfg_attr(
    any(lacks_git, lacks_dpkg),
    ignore = "needs git; needs dpkg (the host profile)"
)]
fn a_killed_import_leaves_a_cache_the_next_root_repairs() {
    if !have_dpkg() {
        return;
    }
    if !Path::new("/usr/bin/git").exists() {
        test_support::missing("root_ondemand", "git is not installed");
        return;
    }
    let (tmp, cache) = copy_of_the_shared_import();
    // A build whose root needs git (and its closure) imports it on demand;
    // it is killed as soon as packing has begun.
    let recipe = tmp.path().join("recipe");
    std::fs::create_dir_all(&recipe).expect("recipe dir");
    std::fs::write(
        recipe.join("stone.yaml"),
        "name: needs-git\nversion: 1\nrelease: 1\nsummary: s\ndescription: d\nlicense: MIT\nhomepage: https://example.invalid\ntoolchain: gnu\nbuilddeps:\n    - binary(git)\ninstall: |\n    git --version\n",
    )
    .expect("recipe");
    let mut child = Command::new(env!("CARGO_BIN_EXE_boulder"))
        .arg("build")
        .arg("--cache-dir")
        .arg(tmp.path())
        .arg("-o")
        .arg(tmp.path().join("out"))
        .arg(&recipe)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("boulder build");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    let began = lines.by_ref().map_while(Result::ok).any(|line| {
        seen.push(line.clone());
        line.contains(": packed")
    });
    assert!(began, "the import did not start:\n{}", seen.join("\n"));
    child.kill().expect("kill");
    let _ = child.wait();

    let prepared = root::prepare(&cache, &request(&["binary(git)"])).expect("repaired");
    assert!(prepared.path.join("usr/bin/git").exists());
    let state = assert_state_and_index_agree(&cache);
    assert_eq!(state["wanted"]["git"]["reasons"][0], "binary(git)");
}
