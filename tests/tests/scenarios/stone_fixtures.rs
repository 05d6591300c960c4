//! Acceptance 1 and 2 of issue 2 on the library level: the reader reports the
//! documented facts of the real AerynOS fixtures.

use crate::stone_common;

use moss_core::stone::{
    Dependency, DependencyKind, FileType, LayoutKind, PayloadKind, Provider, StoneReader,
    StoneWriter, WriteOptions, MANIFEST_LEVEL,
};
use stone_common::{stones_dir, MemorySink, FIXTURES};
use xxhash_rust::xxh3::xxh3_128;

#[test]
#[cfg_attr(lacks_fixtures, ignore = "needs ../shared/fixtures")]
fn layout_matches_tsv_exactly() {
    let Some(dir) = stones_dir("layout_matches_tsv_exactly") else {
        return;
    };
    for stem in FIXTURES {
        let reader = StoneReader::open_path(&dir.join(format!("{stem}.stone"))).unwrap();
        let tsv = std::fs::read_to_string(dir.join(format!("{stem}.layout.tsv"))).unwrap();
        let expected: Vec<&str> = tsv.lines().collect();
        let actual: Vec<String> = reader.layout().iter().map(|e| e.tsv_line()).collect();
        assert_eq!(actual, expected, "{stem}");
    }
}

#[test]
#[cfg_attr(lacks_fixtures, ignore = "needs ../shared/fixtures")]
fn bash_completion_facts() {
    let Some(dir) = stones_dir("bash_completion_facts") else {
        return;
    };
    let mut reader =
        StoneReader::open_path(&dir.join("bash-completion-2.11-1-1-x86_64.stone")).unwrap();
    assert_eq!(reader.header().file_type, FileType::Binary);
    assert_eq!(reader.header().num_payloads, 4);
    let kinds: Vec<PayloadKind> = reader
        .payloads()
        .iter()
        .map(|p| match p {
            moss_core::stone::Payload::Meta(_) => PayloadKind::Meta,
            moss_core::stone::Payload::Layout(_) => PayloadKind::Layout,
            moss_core::stone::Payload::Index(_) => PayloadKind::Index,
            moss_core::stone::Payload::Content(_) => PayloadKind::Content,
            _ => PayloadKind::Unknown(0),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            PayloadKind::Meta,
            PayloadKind::Layout,
            PayloadKind::Index,
            PayloadKind::Content
        ]
    );
    let meta = reader.meta().unwrap();
    assert_eq!(meta.name, "bash-completion");
    assert_eq!(meta.version, "2.11");
    assert_eq!(meta.source_release, 1);
    assert_eq!(meta.build_release, 1);
    assert_eq!(meta.architecture, "x86_64");
    assert_eq!(meta.licenses, ["GPL-2.0-or-later"]);
    assert_eq!(meta.homepage, "https://github.com/scop/bash-completion");
    assert_eq!(meta.source_id, "bash-completion");
    assert_eq!(meta.summary, "Programmable completion functions for bash");
    assert_eq!(
        meta.provides,
        [Provider::new(DependencyKind::CMake, "bash-completion")]
    );
    let layout = reader.layout();
    assert_eq!(layout.len(), 745);
    let regular = layout
        .iter()
        .filter(|e| matches!(e.kind, LayoutKind::Regular { .. }))
        .count();
    let symlinks = layout
        .iter()
        .filter(|e| matches!(e.kind, LayoutKind::Symlink { .. }))
        .count();
    assert_eq!((regular, symlinks), (474, 271));
    assert_eq!(reader.index().len(), 474);

    let mut sink = MemorySink::default();
    let stats = reader.unpack_content(&mut sink).unwrap();
    assert_eq!(stats.files, 474);
    assert_eq!(sink.files.len(), 474);
    for (digest, bytes) in &sink.files {
        assert_eq!(xxh3_128(bytes), *digest);
    }
}

#[test]
#[cfg_attr(lacks_fixtures, ignore = "needs ../shared/fixtures")]
fn small_fixture_facts() {
    let Some(dir) = stones_dir("small_fixture_facts") else {
        return;
    };
    let mut pizza = StoneReader::open_path(&dir.join("italian-pizza-1-1-1-x86_64.stone")).unwrap();
    let meta = pizza.meta().unwrap();
    assert_eq!(meta.name, "italian-pizza");
    assert_eq!(meta.version, "1");
    assert_eq!(meta.licenses, ["Zlib"]);
    assert_eq!(meta.homepage, "https://github.com/serpent-os");
    assert_eq!(
        meta.summary,
        "A certain Italian pizza that hates pineapples"
    );
    assert_eq!(meta.description, "Me no like pineapples.");
    assert_eq!(
        meta.conflicts,
        ["name(pineapple)".parse::<Provider>().unwrap()]
    );
    assert!(meta.depends.iter().all(|d: &Dependency| !d.name.is_empty()));
    let layout = pizza.layout();
    assert_eq!(layout.len(), 1);
    assert_eq!(layout[0].usr_path(), "/usr/share/defaults/italian-pizza");
    assert_eq!(
        layout[0].kind,
        LayoutKind::Regular {
            digest: moss_core::stone::EMPTY_DIGEST
        }
    );
    let mut sink = MemorySink::default();
    pizza.unpack_content(&mut sink).unwrap();
    assert_eq!(
        sink.files.get(&moss_core::stone::EMPTY_DIGEST),
        Some(&Vec::new())
    );

    let pineapple = StoneReader::open_path(&dir.join("pineapple-1-1-1-x86_64.stone")).unwrap();
    assert_eq!(pineapple.meta().unwrap().name, "pineapple");
    assert_eq!(
        pineapple.layout()[0].usr_path(),
        "/usr/share/defaults/pienapple"
    );
}

/// Runs the real `moss` binary.
fn moss(args: &[&std::ffi::OsStr]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_moss"))
        .args(args)
        .output()
        .expect("the moss binary runs")
}

#[test]
#[cfg_attr(lacks_fixtures, ignore = "needs ../shared/fixtures")]
fn cli_inspect_reports_facts_and_layout_lines() {
    let Some(dir) = stones_dir("cli_inspect_reports_facts_and_layout_lines") else {
        return;
    };
    for stem in FIXTURES {
        let stone = dir.join(format!("{stem}.stone"));
        let out = moss(&["inspect".as_ref(), stone.as_os_str()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let tsv = std::fs::read_to_string(dir.join(format!("{stem}.layout.tsv"))).unwrap();
        // The layout section is the tail after the "Layout: N entries" line.
        let (head, layout) = text.split_once(" entries\n").unwrap();
        assert_eq!(layout, tsv, "{stem}");
        let expected_count = tsv.lines().count();
        assert!(
            head.ends_with(&format!("Layout: {expected_count}")),
            "{stem}"
        );

        let only = moss(&[
            "inspect".as_ref(),
            "--layout-tsv".as_ref(),
            stone.as_os_str(),
        ]);
        assert_eq!(String::from_utf8(only.stdout).unwrap(), tsv, "{stem}");
    }
    let stone = dir.join("bash-completion-2.11-1-1-x86_64.stone");
    let text = String::from_utf8(moss(&["inspect".as_ref(), stone.as_os_str()]).stdout).unwrap();
    for fact in [
        "Name          : bash-completion\n",
        "Version       : 2.11\n",
        "Release       : 1\n",
        "Build release : 1\n",
        "Architecture  : x86_64\n",
        "Licenses      : GPL-2.0-or-later\n",
        "Homepage      : https://github.com/scop/bash-completion\n",
        "Source ID     : bash-completion\n",
        "Summary       : Programmable completion functions for bash\n",
        "Providers:\n    cmake(bash-completion)\n",
        "Type: binary stone, 4 payloads\n",
    ] {
        assert!(text.contains(fact), "missing {fact:?} in\n{text}");
    }
    let stone = dir.join("italian-pizza-1-1-1-x86_64.stone");
    let text = String::from_utf8(moss(&["inspect".as_ref(), stone.as_os_str()]).stdout).unwrap();
    for fact in [
        "Name          : italian-pizza\n",
        "Version       : 1\n",
        "Licenses      : Zlib\n",
        "Homepage      : https://github.com/serpent-os\n",
        "Summary       : A certain Italian pizza that hates pineapples\n",
        "Description   : Me no like pineapples.\n",
        "Conflicts:\n    name(pineapple)\n",
    ] {
        assert!(text.contains(fact), "missing {fact:?} in\n{text}");
    }
}

#[test]
#[cfg_attr(lacks_fixtures, ignore = "needs ../shared/fixtures")]
fn cli_extract_bash_completion() {
    let Some(dir) = stones_dir("cli_extract_bash_completion") else {
        return;
    };
    let stone = dir.join("bash-completion-2.11-1-1-x86_64.stone");
    let out_dir = tempfile::tempdir().unwrap();
    let out = moss(&[
        "extract".as_ref(),
        stone.as_os_str(),
        "-o".as_ref(),
        out_dir.path().as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let usr = out_dir.path().join("bash-completion-2.11-1.x86_64/usr");
    let reader = StoneReader::open_path(&stone).unwrap();
    let (mut files, mut links) = (0, 0);
    for entry in walkdir::WalkDir::new(&usr).min_depth(1) {
        let entry = entry.unwrap();
        let ft = entry.path_is_symlink();
        if ft {
            links += 1;
        } else if entry.file_type().is_file() {
            files += 1;
        }
    }
    assert_eq!((files, links), (474, 271));
    for entry in reader.layout() {
        let path = usr.join(&entry.path);
        match &entry.kind {
            LayoutKind::Regular { digest } => {
                assert_eq!(
                    xxh3_128(&std::fs::read(&path).unwrap()),
                    *digest,
                    "{}",
                    entry.path
                );
                let mode = std::os::unix::fs::PermissionsExt::mode(
                    &std::fs::symlink_metadata(&path).unwrap().permissions(),
                );
                assert_eq!(mode, entry.mode, "{}", entry.path);
            }
            LayoutKind::Symlink { target } => {
                assert_eq!(
                    std::fs::read_link(&path).unwrap().to_str(),
                    Some(target.as_str())
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // Nothing but the package folder was written.
    let names: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["bash-completion-2.11-1.x86_64"]);
}

/// The `.jsonc` manifest's list `key` of one package, as written.
fn json_list(package: &serde_json::Value, key: &str) -> Vec<String> {
    package
        .get(key)
        .and_then(|v| v.as_array())
        .map(|items| {
            items
                .iter()
                .map(|v| v.as_str().expect("a string").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A relation as the binary manifest holds it: a bare name in the `.jsonc`
/// (a recipe's rundep as written) is `name(…)` there.
fn as_relation(text: &str) -> String {
    let relation: Dependency = text.parse().expect("a relation");
    relation.to_string()
}

/// The `manifest.x86_64.bin` files AerynOS's boulder wrote for the real
/// recipes: our reader reads each one into exactly what its `.jsonc` says
/// (packages, provides, depends, build dependencies, source), and our writer,
/// given what was read, writes the same bytes back.
#[test]
#[cfg_attr(lacks_fixtures, ignore = "needs ../shared/fixtures")]
fn original_build_manifests_read_as_their_jsonc_and_write_back_byte_identical() {
    let Some(fixtures) = test_support::shared_fixtures(
        env!("CARGO_MANIFEST_DIR"),
        "original_build_manifests_read_as_their_jsonc_and_write_back_byte_identical",
    ) else {
        return;
    };
    let mut manifests = Vec::new();
    let mut pending = vec![fixtures.join("real-recipes/recipes")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read recipes") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|n| n == "manifest.x86_64.bin") {
                manifests.push(path);
            }
        }
    }
    manifests.sort();
    assert_eq!(manifests.len(), 14, "the real recipes' manifests");
    let mut rewritten_identical = 0;
    for bin in &manifests {
        let reader = StoneReader::open_path(bin).expect("our reader reads the original manifest");
        assert_eq!(
            reader.header().file_type,
            FileType::BuildManifest,
            "{}",
            bin.display()
        );
        let metas: Vec<moss_core::stone::Meta> = reader
            .metas()
            .collect::<Result<_, _>>()
            .expect("every package's metadata");

        let jsonc = std::fs::read_to_string(bin.with_extension("jsonc")).expect("the jsonc");
        let json_text = jsonc.split_once('\n').expect("a header line").1;
        let json: serde_json::Value = serde_json::from_str(json_text).expect("the jsonc parses");
        let packages = json["packages"].as_object().expect("packages");
        let names: Vec<&str> = metas.iter().map(|m| m.name.as_str()).collect();
        let json_names: Vec<&str> = packages.keys().map(String::as_str).collect();
        assert_eq!(names, json_names, "{}: packages", bin.display());
        for meta in &metas {
            let package = &packages[&meta.name];
            let what = format!("{} {}", bin.display(), meta.name);
            assert_eq!(meta.source_id, json["source-name"], "{what}: source");
            assert_eq!(meta.version, json["source-version"], "{what}: version");
            assert_eq!(
                meta.source_release.to_string(),
                json["source-release"],
                "{what}: release"
            );
            let mut provides: Vec<String> = meta.provides.iter().map(ToString::to_string).collect();
            provides.sort();
            assert_eq!(provides, json_list(package, "provides"), "{what}: provides");
            let mut depends: Vec<String> = meta.depends.iter().map(ToString::to_string).collect();
            depends.sort();
            let mut json_depends: Vec<String> = json_list(package, "depends")
                .iter()
                .map(|d| as_relation(d))
                .collect();
            json_depends.sort();
            json_depends.dedup();
            assert_eq!(depends, json_depends, "{what}: depends");
            let mut build_depends: Vec<String> =
                meta.build_depends.iter().map(ToString::to_string).collect();
            build_depends.sort();
            let mut json_build: Vec<String> = json_list(package, "build-depends")
                .iter()
                .map(|d| as_relation(d))
                .collect();
            json_build.sort();
            assert_eq!(build_depends, json_build, "{what}: build dependencies");
        }

        let original = std::fs::read(bin).expect("read the manifest");
        let written = StoneWriter::new(WriteOptions {
            level: MANIFEST_LEVEL,
            threads: 1,
        })
        .write_metas(Vec::new(), FileType::BuildManifest, &metas)
        .expect("our writer writes the manifest");
        if written == original {
            rewritten_identical += 1;
        } else {
            eprintln!(
                "{}: {} bytes written, {} original",
                bin.display(),
                written.len(),
                original.len()
            );
        }
    }
    assert_eq!(
        rewritten_identical,
        manifests.len(),
        "manifests our writer rewrites byte for byte"
    );
}
