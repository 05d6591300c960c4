//! Issue 4 acceptance 1 and 2 on the real fixtures made by the original tools.

use crate::engine_support;

use std::collections::BTreeMap;
use std::fs;

use engine_support::*;

const BASH: &str = "bash-completion-2.11-1-1-x86_64.stone";

/// The layout as the original `moss inspect` lists it: path → kind + value.
fn expected_layout(tsv: &str) -> BTreeMap<String, (String, String)> {
    tsv.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            let path = cols.next().unwrap().trim_start_matches("/usr/").to_string();
            let kind = cols.next().unwrap().to_string();
            let value = cols.next().unwrap_or("").to_string();
            (path, (kind, value))
        })
        .collect()
}

#[test]
#[cfg_attr(lacks_fixtures, ignore = "needs ../shared/fixtures")]
fn install_remove_activate_prune_bash_completion() {
    let Some(fixtures) = fixtures("install_remove_activate_prune_bash_completion") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let stone = fixtures.join(BASH);
    moss_ok(root, &["install", stone.to_str().unwrap()]);

    // The tree matches the layout: every entry, its kind, content and link text.
    let tsv = fs::read_to_string(fixtures.join(BASH.replace(".stone", ".layout.tsv"))).unwrap();
    let expected = expected_layout(&tsv);
    let tree = usr_snapshot(root);
    for (path, (kind, value)) in &expected {
        let got = tree
            .get(path)
            .unwrap_or_else(|| panic!("/usr/{path} missing"));
        match kind.as_str() {
            "regular" => assert!(
                got.starts_with("file ") && got.ends_with(value),
                "{path}: {got}"
            ),
            "symlink" => assert_eq!(got, &format!("link {value}"), "{path}"),
            other => panic!("unexpected kind {other}"),
        }
    }
    let non_dirs = tree.values().filter(|v| !v.starts_with("dir")).count();
    assert_eq!(non_dirs, expected.len(), "no files beyond the layout");
    assert!(moss_ok(root, &["list", "installed"]).contains("bash-completion"));
    assert!(moss_ok(root, &["info", "bash-completion"]).contains("cmake(bash-completion)"));
    moss_ok(root, &["verify"]);

    // Remove: gone.
    moss_ok(root, &["remove", "bash-completion"]);
    assert!(
        // `lib` holds the state's os-release and system model.
        usr_snapshot(root)
            .keys()
            .all(|p| p.is_empty() || p == "lib"),
        "{:?}",
        usr_snapshot(root)
    );
    assert!(!moss_ok(root, &["list", "installed"]).contains("bash-completion"));

    // Both states are listed; activating the first brings the files back.
    let list = moss_ok(root, &["state", "list"]);
    assert!(list.contains("   1 ") && list.contains("*    2 "), "{list}");
    moss_ok(root, &["state", "activate", "1"]);
    assert_eq!(usr_snapshot(root), tree);
    moss_ok(root, &["verify"]);

    // Prune to one state: state 2's archived tree goes. The assets stay (state 1 uses them).
    let assets_before = snapshot(&root.join(".moss/assets/v2"));
    let out = moss_ok(root, &["state", "prune", "--keep", "1"]);
    assert!(
        out.contains("removed 1 state(s) (2), 1 archived tree(s)"),
        "{out}"
    );
    assert!(!root.join(".moss/root/2").exists());
    assert_eq!(snapshot(&root.join(".moss/assets/v2")), assets_before);

    // Remove again, prune: the archived tree of state 1 and every asset go, sizes shown.
    moss_ok(root, &["remove", "bash-completion"]);
    assert!(root.join(".moss/root/1/usr").is_dir());
    let out = moss_ok(root, &["state", "prune", "--keep", "1"]);
    assert!(
        out.contains("1 archived tree(s)") && out.contains("474 asset(s) (872279 bytes)"),
        "{out}"
    );
    assert!(!root.join(".moss/root/1").exists());
    let left: Vec<_> = snapshot(&root.join(".moss/assets/v2"))
        .into_iter()
        .filter(|(_, v)| v.starts_with("file"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    moss_ok(root, &["verify"]);
}

#[test]
#[cfg_attr(lacks_fixtures, ignore = "needs ../shared/fixtures")]
fn conflicting_fixtures_are_refused_and_nothing_changes() {
    let Some(fixtures) = fixtures("conflicting_fixtures_are_refused_and_nothing_changes") else {
        return;
    };
    let pizza = fixtures.join("italian-pizza-1-1-1-x86_64.stone");
    let pineapple = fixtures.join("pineapple-1-1-1-x86_64.stone");
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    // A root with history: one state holding bash-completion.
    moss_ok(root, &["install", fixtures.join(BASH).to_str().unwrap()]);
    let before = snapshot(root);

    let out = moss(
        root,
        &[
            "install",
            pizza.to_str().unwrap(),
            pineapple.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        mentions(&stderr, "italian-pizza") && mentions(&stderr, "pineapple"),
        "{stderr}"
    );
    assert_eq!(snapshot(root), before, "root, database and store unchanged");

    // One at a time is refused too, once the other is installed.
    moss_ok(root, &["install", pizza.to_str().unwrap()]);
    let before = snapshot(root);
    let out = moss(root, &["install", pineapple.to_str().unwrap()]);
    assert!(!out.status.success());
    assert_eq!(snapshot(root), before);
}
