//! Emission: stones and manifests written from a real install tree, read
//! back with moss-core's reader; byte-identical when written twice.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use boulder::package::emit::manifest::{self, Verification};
use boulder::package::emit::{emit, EmitOptions, PackageInfo, SourceInfo};
use boulder::package::{
    analyse, collect, default_templates, AnalysedPackage, AnalysisOptions, PackagePaths,
    PackageSettings, Rules,
};
use moss_core::stone::{FileType, LayoutKind, Payload, StoneReader, WriteOptions};

fn write(path: &Path, text: &str, mode: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// An install tree with a program, data, a header, a link and a duplicate.
fn install_tree(root: &Path) {
    write(&root.join("usr/bin/demo"), "#!/bin/sh\necho demo\n", 0o755);
    write(&root.join("usr/share/demo/a.txt"), "same bytes\n", 0o644);
    write(&root.join("usr/share/demo/b.txt"), "same bytes\n", 0o644);
    write(&root.join("usr/share/demo/empty"), "", 0o644);
    write(&root.join("usr/include/demo.h"), "int demo(void);\n", 0o644);
    symlink("demo", root.join("usr/bin/demo-link")).unwrap();
    fs::create_dir_all(root.join("usr/share/demo/emptydir")).unwrap();
}

fn analysed(root: &Path) -> Vec<AnalysedPackage> {
    let templates = default_templates("demo");
    let template_paths: Vec<PackagePaths> = templates.iter().map(|t| t.paths.clone()).collect();
    let main = PackagePaths::new("demo", &[]);
    let rules = Rules::in_recipe_order(&template_paths, &main, &[]).unwrap();
    let collection = collect(root, rules).unwrap();
    let mut options = AnalysisOptions::default();
    for template in &templates {
        options
            .packages
            .insert(template.paths.name.clone(), template.settings.clone());
    }
    options.packages.insert(
        "demo".into(),
        PackageSettings {
            rundeps: vec!["demo-data".into(), "binary(sh)".into()],
            ..PackageSettings::default()
        },
    );
    analyse(collection, &options).unwrap().packages
}

fn source() -> SourceInfo {
    SourceInfo {
        name: "demo".into(),
        version: "1.2".into(),
        release: 3,
        homepage: "https://example.invalid/demo".into(),
        licenses: vec!["MPL-2.0".into(), "CC0-1.0".into()],
        build_deps: vec!["binary(make)".into(), "gcc".into()],
    }
}

fn info() -> BTreeMap<String, PackageInfo> {
    let mut info = BTreeMap::new();
    info.insert(
        "demo".to_string(),
        PackageInfo {
            summary: "A demo".into(),
            description: "Demonstrates emission".into(),
            rundeps: vec!["demo-data".into(), "binary(sh)".into()],
            rundeps_exclude: vec![],
        },
    );
    info.insert(
        "demo-devel".to_string(),
        PackageInfo {
            rundeps: vec!["demo".into()],
            ..PackageInfo::default()
        },
    );
    info
}

fn options(install: &Path, out: &Path) -> EmitOptions {
    EmitOptions {
        output_dir: out.to_path_buf(),
        install_root: install.to_path_buf(),
        build_release: 1,
        architecture: "x86_64".into(),
        source_date_epoch: 1_600_000_000,
        write: WriteOptions::default(),
        manifests: true,
    }
}

#[test]
fn stones_hold_the_layout_and_contents_of_each_package() {
    let dir = tempfile::tempdir().unwrap();
    let install = dir.path().join("install");
    install_tree(&install);
    let packages = analysed(&install);
    let out = dir.path().join("out");
    let emitted = emit(&source(), &packages, &info(), &options(&install, &out)).unwrap();
    let names: Vec<String> = emitted
        .stones
        .iter()
        .map(|s| s.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec![
            "demo-1.2-3-1-x86_64.stone".to_string(),
            "demo-devel-1.2-3-1-x86_64.stone".to_string()
        ]
    );

    let mut reader = StoneReader::open_path(&emitted.stones[0].path).unwrap();
    assert_eq!(reader.header().file_type, FileType::Binary);
    let meta = reader.meta().unwrap();
    assert_eq!(meta.name, "demo");
    assert_eq!(meta.summary, "A demo");
    assert_eq!(meta.source_release, 3);
    assert_eq!(meta.build_release, 1);
    assert_eq!(meta.licenses, vec!["CC0-1.0", "MPL-2.0"]);
    let depends: Vec<String> = meta.depends.iter().map(ToString::to_string).collect();
    assert_eq!(depends, vec!["binary(sh)", "name(demo-data)"]);
    let provides: Vec<String> = meta.provides.iter().map(ToString::to_string).collect();
    assert_eq!(provides, vec!["binary(demo)", "binary(demo-link)"]);

    let layout: Vec<_> = reader
        .payloads()
        .iter()
        .filter_map(|p| match p {
            Payload::Layout(entries) => Some(entries.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let paths: Vec<&str> = layout.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "bin/demo",
            "bin/demo-link",
            "share/demo/a.txt",
            "share/demo/b.txt",
            "share/demo/empty",
            "share/demo/emptydir",
        ]
    );
    assert!(matches!(&layout[1].kind, LayoutKind::Symlink { target } if target == "demo"));
    assert_eq!(layout[0].mode, 0o100755);
    assert!(matches!(layout[5].kind, LayoutKind::Directory));

    // Unpacked contents match the files, deduplicated.
    let extract = dir.path().join("extract");
    let stats = moss_core::stone::extract(&mut reader, &extract);
    assert!(stats.is_ok(), "{stats:?}");
    assert_eq!(
        fs::read_to_string(extract.join("share/demo/b.txt")).unwrap(),
        "same bytes\n"
    );
    let mtime = fs::metadata(&emitted.stones[0].path)
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        mtime,
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000)
    );
}

#[test]
fn emitting_twice_gives_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let install = dir.path().join("install");
    install_tree(&install);
    let packages = analysed(&install);
    let first = emit(
        &source(),
        &packages,
        &info(),
        &options(&install, &dir.path().join("a")),
    )
    .unwrap();
    let second = emit(
        &source(),
        &packages,
        &info(),
        &options(&install, &dir.path().join("b")),
    )
    .unwrap();
    let mut files_a: Vec<_> = first.stones.iter().map(|s| s.path.clone()).collect();
    let mut files_b: Vec<_> = second.stones.iter().map(|s| s.path.clone()).collect();
    let (ma, mb) = (first.manifests.unwrap(), second.manifests.unwrap());
    files_a.extend([ma.0, ma.1]);
    files_b.extend([mb.0, mb.1]);
    for (a, b) in files_a.iter().zip(&files_b) {
        assert_eq!(
            fs::read(a).unwrap(),
            fs::read(b).unwrap(),
            "{}",
            a.display()
        );
    }
}

#[test]
fn jsonc_manifest_matches_the_original_layout() {
    let dir = tempfile::tempdir().unwrap();
    let install = dir.path().join("install");
    install_tree(&install);
    let packages = analysed(&install);
    let refs: Vec<&AnalysedPackage> = packages.iter().collect();
    let text = manifest::encode_json(&source(), &refs, &info());
    let expected = "/** Human readable report. This is not consumed by boulder */
{
\t\"manifest-version\": \"0.2\",
\t\"packages\": {
\t\t\"demo\": {
\t\t\t\"build-depends\": [
\t\t\t\t\"binary(make)\",
\t\t\t\t\"gcc\"
\t\t\t],
\t\t\t\"depends\": [
\t\t\t\t\"binary(sh)\",
\t\t\t\t\"demo-data\"
\t\t\t],
\t\t\t\"files\": [
\t\t\t\t\"/usr/bin/demo\",
\t\t\t\t\"/usr/bin/demo-link\",
\t\t\t\t\"/usr/share/demo/a.txt\",
\t\t\t\t\"/usr/share/demo/b.txt\",
\t\t\t\t\"/usr/share/demo/empty\",
\t\t\t\t\"/usr/share/demo/emptydir\"
\t\t\t],
\t\t\t\"name\": \"demo\",
\t\t\t\"provides\": [
\t\t\t\t\"binary(demo)\",
\t\t\t\t\"binary(demo-link)\"
\t\t\t]
\t\t},
\t\t\"demo-devel\": {
\t\t\t\"build-depends\": [
\t\t\t\t\"binary(make)\",
\t\t\t\t\"gcc\"
\t\t\t],
\t\t\t\"depends\": [
\t\t\t\t\"demo\"
\t\t\t],
\t\t\t\"files\": [
\t\t\t\t\"/usr/include/demo.h\"
\t\t\t],
\t\t\t\"name\": \"demo-devel\"
\t\t}
\t},
\t\"source-name\": \"demo\",
\t\"source-release\": \"3\",
\t\"source-version\": \"1.2\"
}
";
    assert_eq!(text, expected);
}

#[test]
fn binary_manifest_has_build_release_zero_and_build_depends() {
    let dir = tempfile::tempdir().unwrap();
    let install = dir.path().join("install");
    install_tree(&install);
    let packages = analysed(&install);
    let out = dir.path().join("out");
    let emitted = emit(&source(), &packages, &info(), &options(&install, &out)).unwrap();
    let (bin, _) = emitted.manifests.unwrap();
    let reader = StoneReader::open_path(&bin).unwrap();
    assert_eq!(reader.header().file_type, FileType::BuildManifest);
    let metas: Vec<_> = reader.metas().collect::<Result<_, _>>().unwrap();
    let names: Vec<&str> = metas.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, vec!["demo", "demo-devel"]);
    for meta in &metas {
        assert_eq!(meta.build_release, 0);
        let deps: Vec<String> = meta.build_depends.iter().map(ToString::to_string).collect();
        assert_eq!(deps, vec!["binary(make)", "name(gcc)"]);
    }

    // Verification: the same manifest matches by hash; a changed one is named.
    let refs: Vec<&AnalysedPackage> = packages.iter().collect();
    let opts = options(&install, &out);
    let fresh = manifest::encode_binary(&source(), &refs, &info(), &opts).unwrap();
    assert!(matches!(
        manifest::verify(&fresh, &bin).unwrap(),
        Verification::HashMatch { .. }
    ));
    let mut changed = info();
    changed.get_mut("demo").unwrap().summary = "Another summary".into();
    let other = manifest::encode_binary(&source(), &refs, &changed, &opts).unwrap();
    assert_eq!(
        manifest::verify(&other, &bin).unwrap(),
        Verification::Mismatch {
            differing: vec!["demo".into()]
        }
    );
    // Different compression, same packages: a content match.
    let mut fast = opts.clone();
    fast.write.level = 1;
    let recompressed = manifest::encode_binary(&source(), &refs, &info(), &fast).unwrap();
    if recompressed != fresh {
        assert_eq!(
            manifest::verify(&recompressed, &bin).unwrap(),
            Verification::ContentMatch
        );
    }
}
