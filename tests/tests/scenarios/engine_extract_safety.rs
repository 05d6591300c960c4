//! `moss extract` against what it finds on disk and against `moss install`:
//! below the output folder the caller names, it never follows a symlink it
//! did not create in this run (a planted package folder, `usr`, directory
//! or file of the tree), and it accepts exactly the archives `moss install`
//! accepts (one validity check for both).

use crate::engine_support;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use engine_support::*;

fn extract(out: &Path, stone: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_moss"))
        .arg("extract")
        .arg(stone)
        .arg("-o")
        .arg(out)
        .output()
        .expect("running moss extract")
}

/// Every file below `dir`, with its content, not following symlinks.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().display().to_string(),
                fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Puts a symlink somewhere below an output folder.
type Plant<'a> = Box<dyn Fn(&Path) + 'a>;

#[test]
fn planted_symlinks_are_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let stones = dir.path().join("stones");
    fs::create_dir_all(&stones).unwrap();
    let m = meta("planted");
    let stone = write_stone(
        &stones,
        &m,
        &[
            Item::File("bin/tool", b"#!/bin/sh\n", 0o755),
            Item::File("share/planted/data", b"data", 0o644),
        ],
    );
    let victim = dir.path().join("victim");
    fs::create_dir_all(victim.join("share/planted")).unwrap();
    fs::write(victim.join("share/planted/data"), b"victim's own").unwrap();
    let before = contents(&victim);
    let id = "planted-1.0-1.x86_64";

    // The package folder, its `usr`, a directory inside, and the output
    // folder itself replaced by symlinks to the victim.
    let cases: Vec<(&str, Plant<'_>)> = vec![
        (
            "package folder",
            Box::new(|out: &Path| {
                fs::create_dir_all(out).unwrap();
                symlink(&victim, out.join(id)).unwrap();
            }),
        ),
        (
            "usr",
            Box::new(|out: &Path| {
                fs::create_dir_all(out.join(id)).unwrap();
                symlink(&victim, out.join(id).join("usr")).unwrap();
            }),
        ),
        (
            "a directory of the tree",
            Box::new(|out: &Path| {
                fs::create_dir_all(out.join(id).join("usr")).unwrap();
                symlink(victim.join("share"), out.join(id).join("usr/share")).unwrap();
            }),
        ),
        (
            "a file of the tree",
            Box::new(|out: &Path| {
                fs::create_dir_all(out.join(id).join("usr/share/planted")).unwrap();
                symlink(
                    victim.join("share/planted/data"),
                    out.join(id).join("usr/share/planted/data"),
                )
                .unwrap();
            }),
        ),
    ];
    for (what, plant) in cases {
        let out = dir.path().join(format!("out-{}", what.replace(' ', "-")));
        plant(&out);
        let result = extract(&out, &stone);
        assert_eq!(contents(&victim), before, "{what}: the victim changed");
        // Refused, or the planted link replaced (not followed).
        let stderr = String::from_utf8_lossy(&result.stderr);
        if result.status.success() {
            let data = out.join(id).join("usr/share/planted/data");
            let meta = fs::symlink_metadata(&data).unwrap();
            assert!(meta.is_file(), "{what}: {} is not a file", data.display());
            assert_eq!(fs::read(&data).unwrap(), b"data", "{what}");
        } else {
            assert!(mentions(&stderr, "symlink"), "{what}: {stderr}");
        }
    }

    // A clean folder works, and so does extracting again over what this
    // moss extracted before (its own directories are reused).
    let out = dir.path().join("out-clean");
    assert!(extract(&out, &stone).status.success());
    let again = extract(&out, &stone);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(
        fs::read(out.join(id).join("usr/share/planted/data")).unwrap(),
        b"data"
    );
}

/// Archives both commands must judge alike: each is written without our
/// writer's checks, then extracted and installed into fresh folders.
#[test]
fn extract_and_install_agree_on_validity() {
    let dir = tempfile::tempdir().unwrap();
    let stones = dir.path().join("stones");
    fs::create_dir_all(&stones).unwrap();
    let cases: Vec<(&str, Vec<Item<'_>>)> = vec![
        (
            "plain",
            vec![
                Item::Dir("share/p", 0o755),
                Item::File("share/p/a", b"a", 0o644),
                Item::Link("share/p/b", "a"),
            ],
        ),
        (
            "dotdot",
            vec![Item::File("share/../../escape", b"x", 0o644)],
        ),
        ("absolute", vec![Item::File("/etc/passwd", b"x", 0o644)]),
        (
            "beneath-a-file",
            vec![
                Item::File("share/f", b"f", 0o644),
                Item::File("share/f/under", b"u", 0o644),
            ],
        ),
        (
            "beneath-own-symlink",
            vec![
                Item::Link("lib64", "lib"),
                Item::File("lib/libc.so", b"c", 0o755),
                Item::File("lib64/libz.so", b"z", 0o755),
            ],
        ),
        (
            "beneath-outward-symlink",
            vec![
                Item::Link("share/out", "/etc"),
                Item::File("share/out/passwd", b"x", 0o644),
            ],
        ),
        (
            "twice-same",
            vec![
                Item::File("share/t/x", b"same", 0o644),
                Item::File("share/t/x", b"same", 0o644),
            ],
        ),
        (
            "twice-different",
            vec![
                Item::File("share/t/x", b"one", 0o644),
                Item::File("share/t/x", b"two", 0o644),
            ],
        ),
        (
            "dir-then-file",
            vec![
                Item::Dir("share/d", 0o755),
                Item::File("share/d", b"file", 0o644),
            ],
        ),
    ];
    let mut verdicts = Vec::new();
    for (name, items) in &cases {
        let mut m = meta(&format!("agree-{name}"));
        m.source_id = m.name.clone();
        let stone = write_raw_stone(&stones, &m, items);
        let out = dir.path().join(format!("x-{name}"));
        let extracted = extract(&out, &stone);
        let root = dir.path().join(format!("r-{name}"));
        fs::create_dir_all(&root).unwrap();
        let installed = moss(&root, &["install", stone.to_str().unwrap()]);
        verdicts.push(format!(
            "{name}: extract {} install {}\n  extract: {}\n  install: {}",
            extracted.status.success(),
            installed.status.success(),
            String::from_utf8_lossy(&extracted.stderr).trim(),
            String::from_utf8_lossy(&installed.stderr).trim()
        ));
        assert_eq!(
            extracted.status.success(),
            installed.status.success(),
            "{}",
            verdicts.last().unwrap()
        );
    }
    // The plain archive is valid, and the clearly hostile ones are not.
    let ok = |name: &str| {
        verdicts
            .iter()
            .find(|v| v.starts_with(&format!("{name}:")))
            .is_some_and(|v| v.contains("extract true"))
    };
    assert!(ok("plain"));
    for bad in [
        "dotdot",
        "absolute",
        "beneath-a-file",
        "beneath-outward-symlink",
    ] {
        assert!(!ok(bad), "{bad} was accepted");
    }
}
