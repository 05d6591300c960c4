//! The real AerynOS recipes of `../shared/fixtures/real-recipes` build as
//! written on the host profile, offline, with their upstream tarballs given
//! by `--sources`; each build's manifest lists the same packages holding the
//! same files as the manifest AerynOS's own build committed.
//!
//! The built aha then installs with moss, with its dependencies, into a
//! fresh root and runs there.
//!
//! Needs the recipes' Debian build dependencies (`apt-get build-dep`, clang,
//! lld, llvm: `.ci/run` installs them). Dependencies and providers are not
//! compared: sonames, versions and the loader's path are the host's.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Package → files of a `manifest.x86_64.jsonc`.
fn packages(manifest: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(manifest).expect("read manifest");
    // The first line is a `/** … */` comment.
    let json = text
        .split_once("*/")
        .map_or(text.as_str(), |(_, rest)| rest);
    let value: serde_json::Value = serde_json::from_str(json).expect("manifest is JSON");
    let mut out = BTreeMap::new();
    for (name, package) in value["packages"].as_object().expect("packages") {
        let files = package["files"]
            .as_array()
            .map(|files| {
                files
                    .iter()
                    .filter_map(|f| f.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        out.insert(name.clone(), files);
    }
    out
}

/// Differences that come from the host, not from boulder: (recipe, file
/// prefix, why). The book's build-roots chapter explains them.
const HOST_DIFFERENCES: [(&str, &str, &str); 1] = [
    (
        "python-ply",
        "/usr/lib/python3",
        "Debian's python3 installs into /usr/lib/python3/dist-packages, AerynOS's into /usr/lib/python3.x/site-packages; with Debian's layout setuptools names the egg-info without the python version and leaves out its SOURCES.txt",
    ),
];

/// The recipes whose builds took longest (measured: lzo runs an exhaustive
/// test suite in its check phase and took about 40% of all fourteen builds'
/// time; then dosfstools and playerctl, then libdaemon, soxr and bzip2, the
/// rest a few seconds each). Only the order of the builds depends on it.
const LONGEST_FIRST: [&str; 6] = [
    "lzo",
    "dosfstools",
    "playerctl",
    "libdaemon",
    "soxr",
    "bzip2",
];

fn host_caused(recipe: &str, file: &str) -> Option<&'static str> {
    HOST_DIFFERENCES
        .iter()
        .find(|(r, prefix, _)| *r == recipe && file.starts_with(prefix))
        .map(|(_, _, why)| *why)
}

#[test]
#[cfg_attr(
    any(lacks_fixtures, lacks_dpkg),
    ignore = "needs ../shared/fixtures; needs dpkg (the host profile)"
)]
fn real_recipes_build_as_written_with_the_files_aerynos_made() {
    let Some(fixtures) = test_support::shared_fixtures(env!("CARGO_MANIFEST_DIR"), "real_recipes")
    else {
        return;
    };
    if !test_support::have_dpkg("real_recipes") {
        return;
    }
    let corpus = fixtures.join("real-recipes");
    let list = std::fs::read_to_string(corpus.join("RECIPES.tsv")).expect("RECIPES.tsv");
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("real-recipes");
    let cache = work.join("cache");
    let mut recipes: Vec<&str> = list
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| line.split('\t').next().expect("recipe path"))
        .collect();
    // Longest builds first, so that the last ones to finish are short and
    // neither worker waits alone for a long one started late.
    recipes.sort_by_key(|path| {
        let name = path.rsplit('/').next().unwrap_or(path);
        LONGEST_FIRST
            .iter()
            .position(|long| *long == name)
            .unwrap_or(LONGEST_FIRST.len())
    });
    // Two builds at a time: much of a build (configure scripts, packaging) runs
    // on one core, so a second build keeps the other busy. They share the
    // cache as concurrent builds of one packager do.
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, Vec<String>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (next, recipes, corpus, work, cache) =
                    (&next, &recipes, &corpus, &work, &cache);
                s.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let at = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = recipes.get(at) else {
                            return done;
                        };
                        done.push((at, build_and_compare(path, corpus, work, cache)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("build worker"))
            .collect()
    });
    results.sort_by_key(|(at, _)| *at);
    let failures: Vec<String> = results.into_iter().flat_map(|(_, f)| f).collect();
    if failures.iter().all(|f| !f.starts_with("aha:")) {
        installed_aha_runs(&cache, &work.join("out/aha"), &work.join("installed-root"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Builds the recipe at `path` (relative to the corpus's `recipes/`) and
/// compares its manifest with AerynOS's; returns what differs.
fn build_and_compare(path: &str, corpus: &Path, work: &Path, cache: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    let name = path.rsplit('/').next().expect("recipe name");
    let recipe = corpus.join("recipes").join(path);
    let out = work.join("out").join(name);
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("output dir");
    let run = Command::new(e2e::binary("boulder"))
        .arg("build")
        .arg("--cache-dir")
        .arg(cache)
        .arg("--sources")
        .arg(corpus.join("sources"))
        .arg("-o")
        .arg(&out)
        .arg(&recipe)
        .output()
        .expect("run boulder");
    if !run.status.success() {
        let stderr = String::from_utf8_lossy(&run.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(25).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        failures.push(format!("{name}: the build failed:\n{}", tail.join("\n")));
        return failures;
    }
    let ours = packages(&out.join("manifest.x86_64.jsonc"));
    let theirs = packages(&recipe.join("manifest.x86_64.jsonc"));
    let names: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    for package in names {
        let empty = BTreeSet::new();
        let a = ours.get(package).unwrap_or(&empty);
        let b = theirs.get(package).unwrap_or(&empty);
        for file in a.symmetric_difference(b) {
            let side = if a.contains(file) {
                "only ours"
            } else {
                "only AerynOS's"
            };
            match host_caused(name, file) {
                Some(why) => {
                    eprintln!("{name}/{package}: {file} ({side}): host difference: {why}")
                }
                None => failures.push(format!("{name}/{package}: {file} is {side}")),
            }
        }
    }
    failures
}

/// The built aha installs with moss into a fresh root, its dependencies
/// (the C library) coming from the host repository the builds imported,
/// and converts a colour escape there.
fn installed_aha_runs(cache: &Path, out: &Path, root: &Path) {
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(root).expect("root dir");
    let moss = e2e::binary("moss");
    let index = cache.join("repos/host/stone.index");
    let added = Command::new(&moss)
        .args(["repo", "add", "-D"])
        .arg(root)
        .arg("host")
        .arg(&index)
        .output()
        .expect("moss repo add");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let stone = std::fs::read_dir(out)
        .expect("output dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("aha-"))
                // The program's stone, not aha-dbginfo's (the directory's
                // order differs between file systems).
                .is_some_and(|n| {
                    n.starts_with(|c: char| c.is_ascii_digit()) && n.ends_with(".stone")
                })
        })
        .expect("the aha stone");
    let install = Command::new(&moss)
        .args(["install", "-D"])
        .arg(root)
        .arg(&stone)
        .output()
        .expect("moss install");
    let said = String::from_utf8_lossy(&install.stdout);
    assert!(
        install.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&install.stderr)
    );
    assert!(
        said.contains("install libc6 "),
        "the C library comes along:\n{said}"
    );
    let mut run = Command::new(&moss)
        .args(["sandbox"])
        .arg(root)
        .args(["--", "/usr/bin/aha", "--no-header"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("moss sandbox");
    use std::io::Write;
    run.stdin
        .take()
        .expect("stdin")
        .write_all(b"\x1b[31mred\x1b[0m\n")
        .expect("write");
    let output = run.wait_with_output().expect("aha runs");
    let html = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && html.contains("<span style=\"color:red;\">red</span>"),
        "{html}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
