//! Issue 4 acceptance 4: malicious stones crafted with our writer's encoders
//! are refused with a clear error, and nothing is written outside ROOT (nor
//! inside it).

use crate::engine_support;

use std::fs;
use std::path::Path;

use engine_support::*;

/// A root inside an otherwise empty folder, so escapes would be visible.
struct Scene {
    outer: tempfile::TempDir,
}

impl Scene {
    fn new() -> Self {
        let outer = tempfile::tempdir().unwrap();
        fs::create_dir(outer.path().join("root")).unwrap();
        fs::create_dir(outer.path().join("stones")).unwrap();
        fs::write(outer.path().join("host-file"), b"host data").unwrap();
        fs::create_dir(outer.path().join("host-dir")).unwrap();
        Scene { outer }
    }
    fn root(&self) -> std::path::PathBuf {
        self.outer.path().join("root")
    }
    fn stones(&self) -> std::path::PathBuf {
        self.outer.path().join("stones")
    }
    fn outside(&self) -> std::collections::BTreeMap<String, String> {
        let mut s = snapshot(self.outer.path());
        s.retain(|k, _| !k.starts_with("root") && !k.starts_with("stones"));
        s
    }

    /// Installs `stone`, expects a refusal mentioning `needle`, and checks
    /// that neither the root nor anything outside it changed.
    fn refused(&self, stone: &Path, needle: &str) {
        let (root_before, outside_before) = (snapshot(&self.root()), self.outside());
        let out = moss(&self.root(), &["install", stone.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{} was accepted", stone.display());
        assert!(
            mentions(&stderr, needle),
            "expected {needle:?} in: {stderr}"
        );
        assert_eq!(
            self.outside(),
            outside_before,
            "something was written outside ROOT"
        );
        assert_eq!(snapshot(&self.root()), root_before, "the root changed");
    }
}

#[test]
fn dot_dot_paths_are_refused() {
    let scene = Scene::new();
    moss_ok(&scene.root(), &["state", "list"]);
    for (i, path) in [
        "../../escaped",
        "share/../../../escaped",
        "./share/x",
        "share//x",
    ]
    .iter()
    .enumerate()
    {
        let stone = write_raw_stone(
            &scene.stones(),
            &meta(&format!("dotdot{i}")),
            &[Item::File(path, b"owned", 0o644)],
        );
        // Refused with the archive itself (`moss extract` says the same).
        scene.refused(&stone, "unsafe layout path");
    }
    assert!(!scene.outer.path().join("escaped").exists());
}

#[test]
fn files_through_symlinks_leading_outside_are_refused() {
    let scene = Scene::new();
    moss_ok(&scene.root(), &["state", "list"]);
    let host_dir = scene.outer.path().join("host-dir");
    let host_dir = host_dir.to_str().unwrap();
    let cases: Vec<(&str, String)> = vec![
        ("relative", "../../..".to_string()),
        ("relative-deep", "../../../host-dir".to_string()),
        ("absolute-dir", host_dir.to_string()),
        ("absolute-etc", "/etc".to_string()),
    ];
    for (name, target) in &cases {
        let stone = write_raw_stone(
            &scene.stones(),
            &meta(&format!("through-{name}")),
            &[
                Item::Link("share/escape", target),
                Item::File("share/escape/pwned", b"owned", 0o644),
            ],
        );
        // Refused with the archive itself: nothing of a layout lies beneath
        // its own symlinks (`moss extract` says the same).
        scene.refused(&stone, "a parent of a layout entry is not a directory");
    }
    assert_eq!(
        fs::read_dir(scene.outer.path().join("host-dir"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn absolute_symlink_to_a_host_file_then_a_file_beneath_it() {
    let scene = Scene::new();
    let host_file = scene.outer.path().join("host-file");
    let target = host_file.to_str().unwrap();
    // In one stone.
    let stone = write_raw_stone(
        &scene.stones(),
        &meta("hostfile"),
        &[
            Item::Link("share/host", target),
            Item::File("share/host/x", b"owned", 0o644),
        ],
    );
    moss_ok(&scene.root(), &["state", "list"]);
    scene.refused(&stone, "share/host");

    // Across two transactions: the symlink alone is a harmless leaf...
    let link_only = write_stone(
        &scene.stones(),
        &meta("link-only"),
        &[Item::Link("share/host", target)],
    );
    moss_ok(&scene.root(), &["install", link_only.to_str().unwrap()]);
    assert_eq!(
        fs::read_link(scene.root().join("usr/share/host")).unwrap(),
        host_file
    );
    // ...but a later package placing a file beneath it is refused, naming both.
    let beneath = write_stone(
        &scene.stones(),
        &meta("beneath"),
        &[Item::File("share/host/x", b"owned", 0o644)],
    );
    scene.refused(&beneath, "link-only");
    assert_eq!(fs::read(&host_file).unwrap(), b"host data");
    moss_ok(&scene.root(), &["verify"]);
}

#[test]
fn content_that_does_not_match_its_digest_is_refused() {
    let scene = Scene::new();
    moss_ok(&scene.root(), &["state", "list"]);
    let mut stone = write_raw_stone(
        &scene.stones(),
        &meta("liar"),
        &[Item::File("share/liar", b"promised", 0o644)],
    );
    let bytes = fs::read(&stone).unwrap();
    // Flip one content byte ("promised" is the last payload body) and fix
    // nothing else: the content checksum must catch it.
    let mut tampered = bytes.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x20;
    stone.set_file_name("tampered.stone");
    fs::write(&stone, tampered).unwrap();
    let before = snapshot(&scene.root());
    let out = moss(&scene.root(), &["install", stone.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(mentions(&String::from_utf8_lossy(&out.stderr), "checksum"));
    assert_eq!(
        snapshot(&scene.root()),
        before,
        "nothing cached, nothing blitted"
    );
}
