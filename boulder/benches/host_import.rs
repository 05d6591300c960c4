//! The host profile with real recipes, as ratios printed in one run:
//!
//! 1. Root ready, warm cache: a real recipe with a dozen build dependencies
//!    (`playerctl` of `../shared/fixtures/real-recipes`: meson, ninja, clang,
//!    lld, glib, gobject-introspection, gtk-doc, docbook…) against
//!    `recipes-example/hello`. Each: resolve the request, reuse the root,
//!    make the build's directories, start the sandbox and see `true` exit.
//!    Goal: ≤ 2.
//! 2. An on-demand import of one new package with its missing closure
//!    (`binary(cmake)`: cmake, cmake-data and the libraries the host import
//!    does not have yet; else git, bwrap or zstd, the first the warm
//!    repository lacks) into a copy of a warm host repository, against
//!    `dpkg -L` of the same packages piped to `tar --zstd` of their files.
//!    Goal: ≤ 1.
//!
//! Run: `cargo bench -p boulder --bench host_import` (`HOST_BENCH_RUNS`,
//! default 5 alternating runs of each). Needs dpkg, the real recipes'
//! build dependencies (see `.ci/run`) and cmake installed.

// Benchmark code: a failed unwrap or expect is the run failing (the workspace
// denies them in code that runs on a user's input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use boulder::build::script::{root_packages, RecipeScripts, ScriptOptions};
use boulder::recipe::check::Engine;
use boulder::root::{self, import, BuildDirs, Cache, Profile, RootRequest};

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:9.1} ms", d.as_secs_f64() * 1000.0)
}

/// The root request a build of `recipe` makes with the host profile.
fn request_for(cache: &Cache, recipe: &Path) -> RootRequest {
    let engine = Engine::with_data_dirs(&[]).expect("macros");
    let checked = engine
        .check_file(&recipe.join("stone.yaml"))
        .expect("recipe");
    let profile = Profile::load(cache, root::DEFAULT_PROFILE).expect("profile");
    let options = ScriptOptions {
        base_tuning: profile.tuning_requests(),
        ..ScriptOptions::default()
    };
    let scripts = RecipeScripts::new(
        engine.library(),
        &checked.recipe,
        &checked.text,
        boulder::recipe::HOST_ARCH,
        options,
    )
    .expect("scripts");
    let mut packages = root_packages(&checked.recipe, &scripts.phases().expect("phases"));
    packages.extend(profile.recipe_toolchain(&checked.recipe.options));
    RootRequest {
        profile: root::DEFAULT_PROFILE.into(),
        packages,
        networking: false,
    }
}

/// Root ready once: prepare (reused), build directories, `true` in the sandbox.
fn root_ready(cache: &Cache, request: &RootRequest) -> Duration {
    let start = Instant::now();
    let prepared = root::prepare(cache, request).expect("prepare");
    let dirs = BuildDirs::create(cache, "bench").expect("dirs");
    let status = root::sandbox(&prepared, &dirs, false)
        .run(["/usr/bin/true"])
        .expect("sandbox");
    let took = start.elapsed();
    assert!(status.success());
    let _ = std::fs::remove_dir_all(&dirs.base);
    took
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(status.success());
}

/// `dpkg -L` of `packages`, their regular files packed with `tar --zstd`.
fn dpkg_tar(packages: &[String], out: &Path) -> Duration {
    let start = Instant::now();
    let list = Command::new("dpkg")
        .arg("-L")
        .args(packages)
        .output()
        .expect("dpkg -L");
    let files: String = String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter(|p| Path::new(p).is_file())
        .map(|p| format!("{p}\n"))
        .collect();
    let mut tar = Command::new("tar")
        .args(["--zstd", "-cf"])
        .arg(out)
        .args(["-P", "-T", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tar");
    use std::io::Write;
    tar.stdin
        .take()
        .expect("stdin")
        .write_all(files.as_bytes())
        .expect("file list");
    assert!(tar.wait().expect("tar").success());
    start.elapsed()
}

fn main() {
    let runs: usize = std::env::var("HOST_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf();
    let real = workspace.join("../shared/fixtures/real-recipes/recipes/p/playerctl");
    if !real.is_dir() || !Path::new("/var/lib/dpkg/status").exists() {
        eprintln!("needs ../shared/fixtures and dpkg");
        std::process::exit(1);
    }
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("host-import-bench");
    let cache = Cache::open(Some(&scratch.join("cache"))).expect("cache");
    let hello = request_for(&cache, &workspace.join("recipes-example/hello"));
    let playerctl = request_for(&cache, &real);
    // Warm up, untimed: import, import on demand, blit both roots.
    for request in [&hello, &playerctl] {
        let prepared = root::prepare(&cache, request).expect("warm-up");
        eprintln!(
            "warm-up: {} requests, {} packages in the root",
            request.packages.len(),
            prepared.packages.len()
        );
    }

    // The first of these the warm repository does not have yet.
    let warm = boulder::root::repo::open_all(
        &cache,
        &Profile::load(&cache, root::DEFAULT_PROFILE).expect("profile"),
    )
    .expect("repositories");
    let provided = |binary: &str| {
        warm.iter().flat_map(|r| &r.packages).any(|m| {
            m.provides
                .iter()
                .any(|p| p.to_string() == format!("binary({binary})"))
        })
    };
    let new = ["cmake", "git", "bwrap", "zstd"]
        .into_iter()
        .find(|b| !provided(b) && Path::new(&format!("/usr/bin/{b}")).exists())
        .expect("one of cmake, git, bwrap, zstd is installed and not imported yet");
    let wanted = format!("binary({new})");
    let mut hello_times = Vec::new();
    let mut real_times = Vec::new();
    let mut import_times = Vec::new();
    let mut tar_times = Vec::new();
    let warm_repo = import::host_repo_dir(&cache);
    let mut packed = Vec::new();
    for run in 0..runs {
        let mut h: Vec<Duration> = (0..10).map(|_| root_ready(&cache, &hello)).collect();
        let mut r: Vec<Duration> = (0..10).map(|_| root_ready(&cache, &playerctl)).collect();
        hello_times.push(median(&mut h));
        real_times.push(median(&mut r));

        // A copy of the warm repository without cmake, then cmake on demand.
        let copy = Cache::open(Some(&scratch.join(format!("import-{run}")))).expect("cache");
        copy_dir(&warm_repo, &import::host_repo_dir(&copy));
        let repos = boulder::root::repo::open_all(
            &copy,
            &Profile::load(&copy, root::DEFAULT_PROFILE).expect("profile"),
        )
        .expect("repositories");
        let start = Instant::now();
        let done = import::ondemand::import_missing(&copy, &repos, std::slice::from_ref(&wanted))
            .expect("import")
            .expect("the package is new");
        import_times.push(start.elapsed());
        packed = done.report.repacked.clone();
        let _ = std::fs::remove_dir_all(scratch.join(format!("import-{run}")));

        let tarball = scratch.join("baseline.tar.zst");
        tar_times.push(dpkg_tar(&packed, &tarball));
        let _ = std::fs::remove_file(&tarball);
        eprintln!(
            "run {run}: root ready hello {} real {}; import {} dpkg+tar {}",
            ms(hello_times[run]),
            ms(real_times[run]),
            ms(import_times[run]),
            ms(tar_times[run])
        );
    }
    let (h, r) = (median(&mut hello_times), median(&mut real_times));
    let (i, t) = (median(&mut import_times), median(&mut tar_times));
    println!("root ready, warm (median of {runs} runs, each the median of 10):");
    println!(
        "  recipes-example/hello ({} requests)  {}",
        hello.packages.len(),
        ms(h)
    );
    println!(
        "  playerctl ({} requests)            {}",
        playerctl.packages.len(),
        ms(r)
    );
    println!(
        "  ratio real / hello: {:.2} (goal <= 2)",
        r.as_secs_f64() / h.as_secs_f64()
    );
    println!("on-demand import of {wanted}: packed {}", packed.join(", "));
    println!("  boulder import  {}", ms(i));
    println!("  dpkg -L + tar --zstd {}", ms(t));
    println!(
        "  ratio import / (dpkg -L + tar --zstd): {:.2} (goal <= 1)",
        i.as_secs_f64() / t.as_secs_f64()
    );
}
