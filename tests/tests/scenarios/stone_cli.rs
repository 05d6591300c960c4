//! `moss pack` → `moss inspect` → `moss extract` through the real binary.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::process::Command;

fn moss(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_moss"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "moss {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn pack_inspect_extract() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::create_dir_all(root.join("share/empty")).unwrap();
    fs::write(root.join("bin/hello"), b"#!/bin/sh\necho hello\n").unwrap();
    fs::set_permissions(root.join("bin/hello"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(root.join("share/blank"), b"").unwrap();
    symlink("hello", root.join("bin/hi")).unwrap();
    let stone = tmp.path().join("hello.stone");
    let p = |p: &std::path::Path| p.to_str().unwrap().to_string();
    moss(&[
        "pack",
        &p(&root),
        "-o",
        &p(&stone),
        "--name",
        "hello",
        "--version",
        "1.0",
        "--release",
        "4",
        "--build-release",
        "2",
        "--architecture",
        "x86_64",
        "--summary",
        "Says hello",
        "--description",
        "A greeting.",
        "--license",
        "MPL-2.0",
        "--license",
        "Apache-2.0",
        "--homepage",
        "https://example.org",
        "--depends",
        "soname(libc.so.6(x86_64))",
        "--depends",
        "bash",
        "--provides",
        "binary(hello)",
        "--conflicts",
        "name(goodbye)",
        "--level",
        "5",
    ]);
    let text = moss(&["inspect", &p(&stone)]);
    for fact in [
        "Name          : hello\n",
        "Version       : 1.0\n",
        "Release       : 4\n",
        "Build release : 2\n",
        "Summary       : Says hello\n",
        "Description   : A greeting.\n",
        "Licenses      : Apache-2.0, MPL-2.0\n",
        "Dependencies:\n    name(bash)\n    soname(libc.so.6(x86_64))\n",
        "Providers:\n    binary(hello)\n",
        "Conflicts:\n    name(goodbye)\n",
        "/usr/bin\tdirectory\n",
        "/usr/bin/hi\tsymlink\thello\n",
        "/usr/share/empty\tdirectory\n",
        "/usr/share/blank\tregular\t99aa06d3014798d86001c324468d497f\n",
    ] {
        assert!(text.contains(fact), "missing {fact:?} in\n{text}");
    }
    let out = tmp.path().join("out");
    moss(&["extract", &p(&stone), "-o", &p(&out)]);
    let usr = out.join("hello-1.0-4.x86_64/usr");
    assert_eq!(
        fs::read(usr.join("bin/hello")).unwrap(),
        b"#!/bin/sh\necho hello\n"
    );
    let mode = fs::metadata(usr.join("bin/hello"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o755);
    assert_eq!(
        fs::read_link(usr.join("bin/hi")).unwrap().to_str(),
        Some("hello")
    );
    assert!(usr.join("share/empty").is_dir());
    assert_eq!(fs::read(usr.join("share/blank")).unwrap(), b"");
}

#[test]
fn bad_dependency_text_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_moss"))
        .args([
            "pack",
            ".",
            "-o",
            "/nonexistent/x.stone",
            "--name",
            "x",
            "--depends",
            "bogus(y)",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown kind"));
}
