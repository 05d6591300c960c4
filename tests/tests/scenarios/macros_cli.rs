//! `boulder macros` end to end, through the real binary.

use std::process::Command;

fn boulder(args: &[&str]) -> (bool, String, String) {
    // An empty XDG data home keeps a developer's own macro files out of the test.
    let data_home = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_boulder"))
        .args(args)
        .env("XDG_DATA_HOME", data_home.path())
        .output()
        .unwrap_or_else(|error| panic!("cannot run boulder: {error}"));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn lists_actions_definitions_and_tuning_groups() {
    let (ok, out, err) = boulder(&["macros", "--target", "x86_64"]);
    assert!(ok, "{err}");
    assert!(out.contains("\n  %cmake_build "), "{out}");
    assert!(out.contains("\n  %(libdir) "), "{out}");
    assert!(
        out.contains("options: fast, generic*, size, speed"),
        "{out}"
    );
}

#[test]
fn shows_one_macro_with_its_example() {
    let (ok, out, err) = boulder(&["macros", "%install_bin"]);
    assert!(ok, "{err}");
    assert!(out.contains("Example:"), "{out}");
    assert!(out.contains("install -Dm00755 -t"), "{out}");
    let (ok, out, _) = boulder(&["macros", "%(libdir)", "--target", "emul32/x86_64"]);
    assert!(ok);
    assert!(out.contains("%(prefix)/lib%(libsuffix)"), "{out}");
}

#[test]
fn unknown_names_fail_with_a_suggestion() {
    let (ok, _, err) = boulder(&["macros", "cmake_instal"]);
    assert!(!ok);
    assert!(err.contains("cmake_install"), "{err}");
    let (ok, _, err) = boulder(&["macros", "--target", "x86-64"]);
    assert!(!ok);
    assert!(err.contains("x86_64"), "{err}");
}

#[test]
fn extra_data_dir_overrides_an_action() {
    let dir = tempfile::tempdir().unwrap();
    let actions = dir.path().join("macros/actions");
    std::fs::create_dir_all(&actions).unwrap();
    std::fs::write(
        actions.join("local.yaml"),
        "actions:\n    - make:\n        description: local make\n        command: bmake\n",
    )
    .unwrap();
    let dir_arg = dir.path().to_string_lossy().into_owned();
    let (ok, out, err) = boulder(&["macros", "make", "--data-dir", &dir_arg]);
    assert!(ok, "{err}");
    assert!(out.contains("local make") && out.contains("bmake"), "{out}");
}

#[test]
fn doc_macros_prints_the_reference() {
    let (ok, out, err) = boulder(&["doc", "macros"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("# Macro reference\n"), "{out}");
}
