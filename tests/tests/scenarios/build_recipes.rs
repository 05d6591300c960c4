//! `boulder build` end to end, through the real binary, in real build roots
//! imported from the host (Debian/Ubuntu with dpkg; skipped elsewhere):
//! every example recipe builds; the shared-library example splits and
//! relates its packages; `--install` gives a root where the program runs;
//! two builds are byte-identical; a failing build reports the compiler's
//! error and keeps its root for `boulder chroot`.

use crate::common;

use common::{cache_dir, have_dpkg, workspace};

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use moss_core::sandbox::Sandbox;
use moss_core::stone::{LayoutKind, Meta, StoneReader};
use object::Object;
use test_support::text;

fn boulder(args: &[&str], cwd: &Path) -> Output {
    // The cache option goes right after the subcommand, before any `-- COMMAND`.
    Command::new(env!("CARGO_BIN_EXE_boulder"))
        .arg(args[0])
        .arg("--cache-dir")
        .arg(cache_dir())
        .args(&args[1..])
        .current_dir(cwd)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("boulder runs")
}

/// Builds `recipe` into a fresh output directory; panics with the output on failure.
fn build(recipe: &Path, extra: &[&str]) -> (tempfile::TempDir, Output) {
    let out = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["build", recipe.to_str().expect("utf-8 path"), "-o"];
    let out_path = out.path().to_str().expect("utf-8 path").to_string();
    args.push(&out_path);
    args.extend_from_slice(extra);
    let output = boulder(&args, &workspace());
    assert!(
        output.status.success(),
        "building {} failed\nstdout:\n{}\nstderr:\n{}",
        recipe.display(),
        text(&output.stdout),
        text(&output.stderr)
    );
    (out, output)
}

fn stone_files(dir: &Path) -> BTreeMap<String, PathBuf> {
    fs::read_dir(dir)
        .expect("output dir")
        .map(|e| e.expect("entry").path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect()
}

fn meta_of(path: &Path) -> Meta {
    StoneReader::open_path(path)
        .expect("stone")
        .meta()
        .expect("meta")
}

fn strings<T: ToString>(items: &[T]) -> BTreeSet<String> {
    items.iter().map(ToString::to_string).collect()
}

fn layout_paths(path: &Path) -> Vec<(String, LayoutKind)> {
    StoneReader::open_path(path)
        .expect("stone")
        .layout()
        .iter()
        .map(|e| (e.usr_path(), e.kind.clone()))
        .collect()
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn every_example_recipe_builds() {
    if !have_dpkg() {
        return;
    }
    let examples = workspace().join("recipes-example");
    let mut names: Vec<String> = fs::read_dir(&examples)
        .expect("recipes-example")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("stone.yaml").exists())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 6, "{names:?}");
    // One run: `welcome` needs `libgreet` from the local repository.
    let repo = tempfile::tempdir().expect("tempdir");
    let repo_arg = repo.path().to_str().expect("utf-8 path");
    let examples_arg = examples.to_str().expect("utf-8 path");
    let output = boulder(&["build", examples_arg, "--repo", repo_arg], &workspace());
    assert!(
        output.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    for name in names {
        let files = stone_files(&repo.path().join("packages").join(&name));
        assert!(
            files.keys().any(|f| f.starts_with(&format!("{name}-"))),
            "{name}: {files:?}"
        );
        assert!(files.contains_key("manifest.x86_64.bin"), "{files:?}");
        assert!(files.contains_key("manifest.x86_64.jsonc"), "{files:?}");
    }
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn the_shared_library_example_is_split_related_and_stripped() {
    if !have_dpkg() {
        return;
    }
    let (out, _) = build(&workspace().join("recipes-example/libgreet"), &[]);
    let files = stone_files(out.path());
    let stone = |name: &str| {
        files
            .get(&format!("{name}-1.2.0-1-1-x86_64.stone"))
            .unwrap_or_else(|| panic!("no stone for {name}: {files:?}"))
    };

    // -devel: header, .so link, .pc; depends on the main package.
    let devel = layout_paths(stone("libgreet-devel"));
    let devel_paths: BTreeSet<&str> = devel.iter().map(|(p, _)| p.as_str()).collect();
    for wanted in [
        "/usr/include/greet.h",
        "/usr/lib/libgreet.so",
        "/usr/lib/pkgconfig/libgreet.pc",
    ] {
        assert!(
            devel_paths.contains(wanted),
            "{wanted} not in {devel_paths:?}"
        );
    }
    assert!(devel
        .iter()
        .any(|(p, k)| p == "/usr/lib/libgreet.so" && matches!(k, LayoutKind::Symlink { .. })));
    let devel_meta = meta_of(stone("libgreet-devel"));
    assert!(
        strings(&devel_meta.depends).contains("name(libgreet)"),
        "{:?}",
        devel_meta.depends
    );
    assert!(strings(&devel_meta.provides).contains("pkgconfig(libgreet)"));

    // The main package provides the soname; the program depends on it.
    let soname = "soname(libgreet.so.1(x86_64))";
    let main = meta_of(stone("libgreet"));
    assert!(
        strings(&main.provides).contains(soname),
        "{:?}",
        main.provides
    );
    let utils = meta_of(stone("libgreet-utils"));
    assert!(
        strings(&utils.depends).contains(soname),
        "{:?}",
        utils.depends
    );
    assert!(strings(&utils.depends).contains("soname(libc.so.6(x86_64))"));

    // -dbginfo holds the split debug info; the shipped ELF files are stripped.
    let dbginfo = layout_paths(stone("libgreet-dbginfo"));
    assert!(dbginfo.len() >= 2, "{dbginfo:?}");
    assert!(dbginfo
        .iter()
        .all(|(p, _)| p.starts_with("/usr/lib/debug/.build-id/") && p.ends_with(".debug")));
    let extracted = tempfile::tempdir().expect("tempdir");
    for name in ["libgreet", "libgreet-utils", "libgreet-dbginfo"] {
        let mut reader = StoneReader::open_path(stone(name)).expect("stone");
        moss_core::stone::extract(&mut reader, extracted.path()).expect("extract");
    }
    for shipped in ["bin/greet", "lib/libgreet.so.1.2.0"] {
        let bytes = fs::read(extracted.path().join(shipped)).expect("shipped file");
        let elf = object::File::parse(&*bytes).expect("ELF");
        assert!(
            elf.section_by_name(".symtab").is_none(),
            "{shipped} still has a symbol table"
        );
        assert!(
            elf.section_by_name(".debug_info").is_none(),
            "{shipped} still has debug info"
        );
        assert!(
            elf.section_by_name(".gnu_debuglink").is_some(),
            "{shipped} has no debug link"
        );
    }
    for (path, _) in &dbginfo {
        let relative = path.trim_start_matches("/usr/");
        let bytes = fs::read(extracted.path().join(relative)).expect("debug file");
        let elf = object::File::parse(&*bytes).expect("ELF debug file");
        assert!(
            elf.section_by_name(".debug_info").is_some(),
            "{path} holds no debug info"
        );
    }
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn building_twice_gives_identical_stones_and_manifests() {
    if !have_dpkg() {
        return;
    }
    let recipe = workspace().join("recipes-example/hello");
    let (first, _) = build(&recipe, &[]);
    let (second, _) = build(&recipe, &[]);
    let a = stone_files(first.path());
    let b = stone_files(second.path());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    assert!(a.len() >= 4, "{a:?}");
    for (name, path) in &a {
        assert_eq!(
            fs::read(path).expect("first"),
            fs::read(&b[name]).expect("second"),
            "{name} differs between two builds"
        );
    }
    // The fresh manifest verifies against the first one.
    let manifest = a["manifest.x86_64.bin"].to_str().unwrap().to_string();
    let (third, output) = build(&recipe, &["--verify", &manifest]);
    assert!(text(&output.stdout).contains("verified"), "{output:?}");
    assert!(!third.path().join("manifest.x86_64.bin").exists());
}

/// The stones of the host repository that provide everything `wanted`
/// needs, transitively.
fn host_closure(wanted: &[String]) -> Vec<PathBuf> {
    let repo = cache_dir().join("repos/host");
    let index = StoneReader::open_path(&repo.join("stone.index")).expect("host index");
    let metas: Vec<Meta> = index.metas().collect::<Result<_, _>>().expect("metas");
    let mut providers: BTreeMap<String, usize> = BTreeMap::new();
    for (i, meta) in metas.iter().enumerate() {
        for provider in meta.all_providers() {
            providers.entry(provider.to_string()).or_insert(i);
        }
    }
    let mut picked = BTreeSet::new();
    let mut queue: Vec<String> = wanted.to_vec();
    while let Some(dependency) = queue.pop() {
        let Some(&i) = providers.get(&dependency) else {
            continue;
        };
        if picked.insert(i) {
            queue.extend(metas[i].depends.iter().map(ToString::to_string));
        }
    }
    picked
        .into_iter()
        .map(|i| repo.join(metas[i].package_uri.as_deref().expect("package uri")))
        .collect()
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn installed_hello_runs_in_a_sandbox_over_the_root() {
    if !have_dpkg() {
        return;
    }
    let target = tempfile::tempdir().expect("tempdir");
    let root = target.path().join("root");
    fs::create_dir_all(&root).expect("root");
    // A merged-/usr system: the links a base layout package would ship.
    for (link, to) in [
        ("bin", "usr/bin"),
        ("lib", "usr/lib"),
        ("lib64", "usr/lib64"),
    ] {
        symlink(to, root.join(link)).expect("link");
    }
    // First build (warms the cache and imports the host), then install the
    // C library the program needs from the host repository...
    let recipe = workspace().join("recipes-example/hello");
    let (out, _) = build(&recipe, &[]);
    let hello = meta_of(&stone_files(out.path())["hello-1.0.0-1-1-x86_64.stone"]);
    let base = host_closure(&strings(&hello.depends).into_iter().collect::<Vec<_>>());
    assert!(
        !base.is_empty(),
        "nothing in the host repository provides libc"
    );
    moss_core::transaction::Engine::open(&root)
        .expect("engine")
        .install(&base)
        .expect("install the C library");
    // ...then build again with --install.
    let root_arg = root.to_str().unwrap().to_string();
    let (_out, output) = build(&recipe, &["--install", &root_arg]);
    assert!(text(&output.stdout).contains("installed"), "{output:?}");
    let ran = Sandbox::new(&root)
        .env_clear()
        .env("PATH", "/usr/bin")
        .output(["/usr/bin/hello"])
        .expect("sandbox");
    assert!(ran.status.success(), "{ran:?}");
    assert!(
        text(&ran.stdout).contains("Hello, world"),
        "{}",
        text(&ran.stdout)
    );
}

const BROKEN: &str = "name        : broken
version     : 1
release     : 1
summary     : Does not compile
license     : MPL-2.0
homepage    : https://example.invalid/broken
description : |
    A program with a type error.
toolchain   : gnu
tuning      :
    - compress-debug: zlib
setup       : |
    printf 'int main(void) { return undeclared_name; }\\n' > broken.c
build       : |
    echo before
    %(cc) %(cflags) -c broken.c -o broken.o
    echo after
install     : |
    true
";

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn a_failing_build_reports_the_error_and_keeps_its_root() {
    if !have_dpkg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let recipe = dir.path().join("stone.yaml");
    fs::write(&recipe, BROKEN).expect("recipe");
    let recipe_arg = recipe.to_str().unwrap();
    let out_arg = dir.path().to_str().unwrap();
    let output = boulder(&["build", recipe_arg, "-o", out_arg], dir.path());
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("phase `build`"), "{stderr}");
    assert!(
        stderr.contains("error:") && stderr.contains("undeclared_name"),
        "{stderr}"
    );
    // The recipe line of the compiler call, not of the phase.
    assert!(stderr.contains("stone.yaml:16"), "{stderr}");
    assert!(!stderr.contains("echo after"), "{stderr}");
    let log = stderr
        .lines()
        .find_map(|l| l.strip_prefix("full log: "))
        .expect("log path");
    assert!(Path::new(log).exists(), "{log}");
    // The root is still there: chroot enters it, the sources in place.
    let chroot = boulder(
        &[
            "chroot",
            recipe_arg,
            "--",
            "test",
            "-f",
            "/mason/build/x86_64/broken.c",
        ],
        dir.path(),
    );
    assert!(
        chroot.status.success(),
        "{}\n{}",
        text(&chroot.stdout),
        text(&chroot.stderr)
    );
}

#[test]
fn a_wrong_upstream_hash_stops_before_the_root() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("src.tar.gz"), b"not really an archive").expect("source");
    let recipe = dir.path().join("stone.yaml");
    let url = format!("file://{}/src.tar.gz", dir.path().display());
    fs::write(
        &recipe,
        format!("name: badhash\nversion: 1\nrelease: 1\nsummary: s\nlicense: MIT\nhomepage: https://example.invalid\ndescription: d\nupstreams:\n    - {url}: 0000000000000000000000000000000000000000000000000000000000000000\nbuild: |\n    true\n"),
    )
    .expect("recipe");
    let cache = tempfile::tempdir().expect("cache");
    let output = Command::new(env!("CARGO_BIN_EXE_boulder"))
        .args(["build", recipe.to_str().unwrap(), "--cache-dir"])
        .arg(cache.path())
        .current_dir(dir.path())
        .output()
        .expect("boulder runs");
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("hash mismatch"), "{stderr}");
    assert!(stderr.contains("src.tar.gz"), "{stderr}");
    assert!(!cache.path().join("roots").exists(), "a root was made");
    assert!(
        !cache.path().join("builds").exists(),
        "build dirs were made"
    );
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn a_missing_command_suggests_a_builddep() {
    if !have_dpkg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let recipe = dir.path().join("stone.yaml");
    fs::write(
        &recipe,
        "name: needs-tool\nversion: 1\nrelease: 1\nsummary: s\nlicense: MIT\nhomepage: https://example.invalid\ndescription: d\ntoolchain: gnu\nbuild: |\n    frobnicate-sources --all\n",
    )
    .expect("recipe");
    let out_arg = dir.path().to_str().unwrap();
    let output = boulder(
        &["build", recipe.to_str().unwrap(), "-o", out_arg],
        dir.path(),
    );
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("command not found"), "{stderr}");
    assert!(stderr.contains("binary(frobnicate-sources)"), "{stderr}");
    assert!(stderr.contains("stone.yaml:10"), "{stderr}");
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn an_archive_upstream_is_fetched_unpacked_and_built() {
    if !have_dpkg() {
        return;
    }
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("tree/tiny-2.0");
    fs::create_dir_all(&src).expect("src");
    fs::write(
        src.join("tiny.c"),
        "#include <stdio.h>\nint main(void) { puts(\"tiny\"); return 0; }\n",
    )
    .expect("tiny.c");
    let archive = dir.path().join("tiny-2.0.tar.gz");
    let tar = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(dir.path().join("tree"))
        .arg("tiny-2.0")
        .status()
        .expect("tar runs");
    assert!(tar.success());
    let hash = hex::encode(Sha256::digest(fs::read(&archive).expect("archive")));
    let recipe = dir.path().join("stone.yaml");
    fs::write(
        &recipe,
        format!(
            "name: tiny\nversion: 2.0\nrelease: 1\nsummary: s\nlicense: MIT\nhomepage: https://example.invalid\ndescription: d\ntoolchain: gnu\ntuning:\n    - compress-debug: zlib\nupstreams:\n    - file://{}: {hash}\nbuild: |\n    test \"$PWD\" = /mason/build/x86_64/tiny-2.0.tar.gz\n    %(cc) %(cflags) %(ldflags) -o tiny tiny.c\ninstall: |\n    %install_bin tiny\n",
            archive.display()
        ),
    )
    .expect("recipe");
    let (out, _) = build(&recipe, &[]);
    let files = stone_files(out.path());
    let stone = files
        .get("tiny-2.0-1-1-x86_64.stone")
        .unwrap_or_else(|| panic!("{files:?}"));
    let paths: Vec<String> = layout_paths(stone).into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, vec!["/usr/bin/tiny"]);
}
