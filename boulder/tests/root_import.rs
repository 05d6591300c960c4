//! The host import again: nothing changed means nothing is packed; a stone
//! that went missing is packed again, alone. Works on a copy of the shared
//! test cache's host repository, so other tests keep theirs.

use crate::common;

use common::{cache_dir, have_dpkg};

use std::process::Command;

use boulder::root::{import, Cache};

/// A cache of its own holding a copy of the shared test cache's host
/// repository (imported first if no other test did yet, under its lock).
fn copy_of_the_shared_import() -> (tempfile::TempDir, Cache) {
    let shared = Cache::open(Some(&cache_dir())).expect("shared cache");
    import::import_host(&shared, false).expect("import");
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache = Cache::open(Some(tmp.path())).expect("cache");
    let repos = cache.repos_dir();
    std::fs::create_dir_all(&repos).expect("repos dir");
    let status = Command::new("cp")
        .arg("-a")
        .arg(import::host_repo_dir(&shared))
        .arg(&repos)
        .status()
        .expect("cp");
    assert!(status.success());
    (tmp, cache)
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn a_second_import_packs_only_what_changed() {
    if !have_dpkg() {
        return;
    }
    let (_tmp, cache) = copy_of_the_shared_import();
    let again = import::import_host(&cache, true).expect("re-import");
    assert!(again.packages > 50, "{again:?}");
    assert!(again.repacked.is_empty(), "{:?}", again.repacked);

    let stones = import::host_repo_dir(&cache).join("stones");
    let victim = std::fs::read_dir(&stones)
        .expect("stones")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            // `make-<32 hex digits>.stone`, not another package starting with make-.
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name.strip_prefix("make-")
                .and_then(|rest| rest.strip_suffix(".stone"))
                .is_some_and(|print| {
                    print.len() == 32 && print.bytes().all(|b| b.is_ascii_hexdigit())
                })
        })
        .expect("the make stone");
    std::fs::remove_file(&victim).expect("remove");
    let third = import::import_host(&cache, true).expect("third import");
    assert_eq!(third.repacked, vec!["make".to_string()]);
    assert!(
        victim.is_file(),
        "the same fingerprint gives the same file name"
    );
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn an_import_made_from_other_seeds_is_made_again_when_needed() {
    if !have_dpkg() {
        return;
    }
    let (_tmp, cache) = copy_of_the_shared_import();

    // Up to date: nothing is done.
    let unchanged = import::import_host(&cache, false).expect("import");
    assert_eq!(unchanged.packages, 0, "{unchanged:?}");

    // As an older boulder left it: a state file without the seeds.
    let state_path = import::host_repo_dir(&cache).join("import-state.json");
    let text = std::fs::read_to_string(&state_path).expect("state");
    let mut state: serde_json::Value = serde_json::from_str(&text).expect("json");
    state
        .as_object_mut()
        .expect("object")
        .remove("seeds")
        .expect("the state names its seeds");
    std::fs::write(&state_path, state.to_string()).expect("write");
    let again = import::import_host(&cache, false).expect("re-import");
    assert!(again.packages > 50, "{again:?}");
    assert!(again.repacked.is_empty(), "{:?}", again.repacked);
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_path).expect("state")).expect("json");
    assert!(after["seeds"].as_array().is_some_and(|s| !s.is_empty()));
}
