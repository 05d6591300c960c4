//! Every test file is part of a test binary. The crates' tests are modules of
//! one binary each (`autotests = false` in boulder and moss-core), so a file
//! added beside the others without its `mod` line would never be compiled,
//! and its tests would silently never run.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// The modules a test binary's root file declares (`mod name;`).
fn declared_modules(root_file: &Path) -> BTreeSet<String> {
    let source = fs::read_to_string(root_file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root_file.display()));
    source
        .lines()
        .filter_map(|line| line.trim().strip_prefix("mod "))
        .filter_map(|rest| rest.strip_suffix(';'))
        .map(str::to_string)
        .collect()
}

/// The modules the files of `dir` would make: `name.rs` and `name/mod.rs`,
/// leaving out the binary's root file.
fn module_files(dir: &Path, root_name: &str) -> BTreeSet<String> {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut modules = BTreeSet::new();
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if path.is_dir() {
            if path.join("mod.rs").is_file() {
                modules.insert(name.to_string());
            }
        } else if let Some(stem) = name.strip_suffix(".rs") {
            if name != root_name {
                modules.insert(stem.to_string());
            }
        }
    }
    modules
}

#[test]
fn every_test_file_is_a_module_of_its_test_binary() {
    let root = e2e::workspace_root();
    let binaries = [
        ("boulder/tests", "api.rs"),
        ("moss-core/tests", "api.rs"),
        ("tests/tests/scenarios", "main.rs"),
        ("tests/tests/host_packages", "main.rs"),
    ];
    for (dir, root_name) in binaries {
        let dir = root.join(dir);
        let declared = declared_modules(&dir.join(root_name));
        let files = module_files(&dir, root_name);
        let missing: Vec<&String> = files.difference(&declared).collect();
        assert!(
            missing.is_empty(),
            "{}: these files are not declared in {root_name}, so their tests never run: {missing:?}",
            dir.display()
        );
        assert!(!files.is_empty(), "{}: found no test file", dir.display());
    }
}

#[test]
fn module_lines_are_read_from_a_root_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("api.rs"),
        "//! x\nmod kept;\n#[path = \"a\"]\nmod other;\n",
    )
    .unwrap();
    fs::write(dir.path().join("kept.rs"), "").unwrap();
    fs::write(dir.path().join("forgotten.rs"), "").unwrap();
    fs::create_dir(dir.path().join("helpers")).unwrap();
    fs::write(dir.path().join("helpers/mod.rs"), "").unwrap();
    fs::create_dir(dir.path().join("data")).unwrap();
    let declared = declared_modules(&dir.path().join("api.rs"));
    let files = module_files(dir.path(), "api.rs");
    let missing: Vec<&String> = files.difference(&declared).collect();
    assert_eq!(missing, ["forgotten", "helpers"]);
}
