//! `boulder profile` and `boulder cache` on an empty cache.

use std::process::Command;

fn boulder(args: &[&str], cache: &std::path::Path, profiles: &std::path::Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_boulder"))
        .args(args)
        .arg("--cache-dir")
        .arg(cache)
        .arg("--profiles-dir")
        .arg(profiles)
        .output()
        .expect("run boulder");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn profiles_are_listed_and_shown_and_a_file_adds_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (cache, profiles) = (tmp.path().join("cache"), tmp.path().join("profiles"));
    std::fs::create_dir_all(&profiles).expect("mkdir");
    std::fs::write(
        profiles.join("mine.yaml"),
        "repositories:\n  - name: local\n    uri: file:///nowhere/stone.index\n    priority: 3\npackages: [bash]\n",
    )
    .expect("profile");
    let (ok, out) = boulder(&["profile", "list"], &cache, &profiles);
    assert!(ok, "{out}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        vec!["aerynos", "host", "mine"]
    );
    let (ok, out) = boulder(&["profile", "show", "aerynos"], &cache, &profiles);
    assert!(ok, "{out}");
    assert!(out.contains("https://cdn.aerynos.dev/"), "{out}");
    let (ok, out) = boulder(&["profile", "show", "mine"], &cache, &profiles);
    assert!(ok, "{out}");
    assert!(out.contains("local (priority 3)"), "{out}");
    let (ok, out) = boulder(&["profile", "show", "nope"], &cache, &profiles);
    assert!(!ok);
    assert!(out.contains("no profile `nope`"), "{out}");
}

#[test]
fn prune_and_info_work_on_an_empty_cache() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (cache, profiles) = (tmp.path().join("cache"), tmp.path().join("profiles"));
    let (ok, out) = boulder(&["cache", "prune", "--days", "0"], &cache, &profiles);
    assert!(ok, "{out}");
    assert!(out.contains("Removed 0 root(s)"), "{out}");
    let (ok, out) = boulder(&["cache", "info"], &cache, &profiles);
    assert!(ok, "{out}");
    assert!(out.contains("roots:  0"), "{out}");
}
