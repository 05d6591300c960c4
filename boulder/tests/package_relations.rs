//! Analysis handlers that read text files (pkg-config, CMake, Python), the
//! path rules of the chain, and bad input that must not stop a build.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use boulder::package::{
    analyse, collect, AnalysedPackage, Analysis, AnalysisOptions, PackageSettings, Rules,
};

fn write(root: &Path, path: &str, text: &[u8]) {
    let on_disk = root.join(path.trim_start_matches('/'));
    fs::create_dir_all(on_disk.parent().expect("has a parent")).expect("mkdir");
    fs::write(on_disk, text).expect("write");
}

/// Everything in one package `x`, except `/usr/lib32` in `x-32bit`.
fn analyse_tree(install: &Path, system_root: &Path) -> Analysis {
    let mut rules = Rules::new();
    rules.add("x", "*").expect("rule");
    rules.add("x-32bit", "/usr/lib32").expect("rule");
    let options = AnalysisOptions {
        system_root: system_root.to_path_buf(),
        packages: BTreeMap::from([("x".to_string(), PackageSettings::default())]),
        ..AnalysisOptions::default()
    };
    analyse(collect(install, rules).expect("collect"), &options).expect("analyse")
}

fn package<'a>(analysis: &'a Analysis, name: &str) -> &'a AnalysedPackage {
    analysis
        .packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no package {name}"))
}

fn list(set: &std::collections::BTreeSet<String>) -> Vec<&str> {
    set.iter().map(String::as_str).collect()
}

#[test]
fn pkgconfig_cmake_and_python_relations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let install = dir.path().join("install");
    let sysroot = dir.path().join("sysroot");
    write(
        &install,
        "/usr/share/pkgconfig/greet-data.pc",
        b"Name: greet-data\nVersion: 1\n",
    );
    write(
        &install,
        "/usr/lib/pkgconfig/greet.pc",
        b"Name: greet\nRequires: greet-data, glib-2.0 >= 2.80\nRequires.private: zlib\n",
    );
    // 32-bit: `local32` exists next to it, `sys32` in the build root, `other` nowhere.
    write(
        &install,
        "/usr/lib32/pkgconfig/greet.pc",
        b"Requires: local32 sys32 other\n",
    );
    write(
        &install,
        "/usr/lib32/pkgconfig/local32.pc",
        b"Name: local32\n",
    );
    write(&sysroot, "/usr/lib32/pkgconfig/sys32.pc", b"Name: sys32\n");
    write(&install, "/usr/share/cmake/greet-config.cmake", b"");
    write(&install, "/usr/lib/cmake/Greet/GreetConfig.cmake", b"");
    write(
        &install,
        "/usr/lib/cmake/Greet/GreetConfigVersion.cmake",
        b"",
    );
    write(&install, "/usr/lib/cmake/Greet/Greet-Config.cmake", b"");
    write(
        &install,
        "/usr/lib/python3.12/site-packages/Greet_Lib-1.0.dist-info/METADATA",
        b"Metadata-Version: 2.1\nName: Greet_Lib\nVersion: 1.0\n\nName: not-a-header\n",
    );
    write(
        &install,
        "/usr/lib/python3.12/site-packages/old.egg-info/PKG-INFO",
        b"Metadata-Version: 1.0\nName: zope.Interface\n",
    );

    let analysis = analyse_tree(&install, &sysroot);
    assert_eq!(analysis.warnings, vec![]);
    let x = package(&analysis, "x");
    assert_eq!(
        list(&x.provides),
        [
            "cmake(Greet)",
            "cmake(greet)",
            "pkgconfig(greet)",
            "pkgconfig(greet-data)",
            "python(greet-lib)",
            "python(zope-interface)"
        ]
    );
    // greet-data is provided by the same package, so it is no dependency.
    assert_eq!(list(&x.depends), ["pkgconfig(glib-2.0)", "pkgconfig(zlib)"]);

    let x32 = package(&analysis, "x-32bit");
    assert_eq!(
        list(&x32.provides),
        ["pkgconfig32(greet)", "pkgconfig32(local32)"]
    );
    assert_eq!(
        list(&x32.depends),
        ["pkgconfig(other)", "pkgconfig32(sys32)"]
    );
}

#[test]
fn paths_outside_usr_and_libtool_archives_are_not_shipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let install = dir.path().join("install");
    write(&install, "/etc/greet.conf", b"x");
    write(&install, "/usr/lib/libgreet.la", b"x");
    write(&install, "/usr/lib32/libgreet.la", b"x");
    write(&install, "/usr/share/greet/notes.la", b"x");
    write(&install, "/usr/bin/greet", b"#!/bin/sh\n");
    write(&install, "/usr/sbin/greetd", b"#!/bin/sh\n");
    write(&install, "/usr/bin/nested/not-on-path", b"#!/bin/sh\n");
    symlink("greet", install.join("usr/bin/hi")).expect("symlink");
    let analysis = analyse_tree(&install, dir.path());
    let names: Vec<&str> = analysis.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["x"], "the 32-bit package lost its only file");
    let x = package(&analysis, "x");
    let paths: Vec<&str> = x.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/usr/bin/greet",
            "/usr/bin/hi",
            "/usr/bin/nested/not-on-path",
            "/usr/sbin/greetd",
            "/usr/share/greet/notes.la"
        ]
    );
    assert_eq!(
        list(&x.provides),
        ["binary(greet)", "binary(hi)", "sysbinary(greetd)"]
    );
}

#[test]
fn broken_inputs_warn_or_pass_through_without_stopping() {
    let dir = tempfile::tempdir().expect("tempdir");
    let install = dir.path().join("install");
    // ELF magic with garbage after it: not ELF, shipped as data.
    write(
        &install,
        "/usr/lib/libbroken.so.1",
        b"\x7fELF\x02\x01\x01garbage",
    );
    write(&install, "/usr/lib/tiny.so", b"\x7fEL");
    // A .pc with an undefined variable and a METADATA without Name.
    write(
        &install,
        "/usr/lib/pkgconfig/bad.pc",
        b"Requires: ${nope}\n",
    );
    write(
        &install,
        "/usr/lib/python3.12/site-packages/nameless-1.0.dist-info/METADATA",
        b"Metadata-Version: 2.1\nVersion: 1.0\n",
    );
    let analysis = analyse_tree(&install, dir.path());
    let x = package(&analysis, "x");
    assert_eq!(x.files.len(), 4);
    assert_eq!(list(&x.provides), ["pkgconfig(bad)"]);
    assert!(x.depends.is_empty());
    let warned: Vec<&str> = analysis.warnings.iter().map(|w| w.path.as_str()).collect();
    assert_eq!(
        warned,
        [
            "/usr/lib/pkgconfig/bad.pc",
            "/usr/lib/python3.12/site-packages/nameless-1.0.dist-info/METADATA"
        ]
    );
    assert!(analysis.warnings[0].message.contains("nope"));
    assert!(analysis.warnings[1].message.contains("Name"));
}
