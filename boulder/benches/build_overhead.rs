//! Overhead of `boulder build` (issue 7, acceptance 5). Run with
//!
//! ```text
//! cargo bench -p boulder --bench build_overhead
//! BUILD_BENCH_RUNS=5 cargo bench -p boulder --bench build_overhead   # quick run
//! ```
//!
//! Builds `recipes-example/hello` with warm caches (the host import and the
//! root exist after a first, untimed build) through the library, the way
//! `boulder build` does, several times, and reports the medians of every
//! step. The baseline, measured in the same run, is the bare commands of
//! the four phases (copy the sources, make, make install, the check) run in
//! one shell on the host with the same CFLAGS/LDFLAGS the build exports,
//! alternately with the builds. Overhead = build total −
//! baseline: validation, the root, the sandbox and bash of every phase,
//! packaging and emission. Goal: ≤ 20 ms.
//! For scale, the original boulder needs 3.4–3.8 s for a trivial recipe on
//! these machines (issue 7), mostly re-checking and re-decompressing the
//! cached root packages.

// Benchmark code: a failed unwrap or expect is the run failing (the workspace
// denies them in code that runs on a user's input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use boulder::build::log::{format_duration, quiet};
use boulder::build::script::{RecipeScripts, ScriptOptions};
use boulder::build::{build, BuildRequest};
use boulder::recipe::check::Engine;
use boulder::recipe::HOST_ARCH;
use boulder::root::Cache;

const GOAL: Duration = Duration::from_millis(20);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// CFLAGS and LDFLAGS exactly as the build's prologue exports them.
fn build_flags(recipe: &Path) -> Vec<(String, String)> {
    let engine = Engine::embedded().expect("macros");
    let report = engine.check_file(recipe).expect("recipe");
    let scripts = RecipeScripts::new(
        engine.library(),
        &report.recipe,
        &report.text,
        HOST_ARCH,
        ScriptOptions::default(),
    )
    .expect("scripts");
    let exports = scripts
        .main_target()
        .context()
        .environment_exports()
        .expect("flags");
    exports
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
}

/// The bare commands of the hello recipe's four phases on the host, in one
/// shell: copy the sources, make, make install into a scratch root, run the
/// check.
const BARE_COMMANDS: &str = r#"cp -a "$1/." "$2" && cd "$2" && make && make install PREFIX=/usr DESTDIR="$2/install" && ./hello | grep -q "Hello, world""#;

/// One run of the bare commands on the host, in a fresh directory.
fn compile_on_host(pkg: &Path, flags: &[(String, String)]) -> Duration {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let status = Command::new("sh")
        .args(["-c", BARE_COMMANDS, "sh"])
        .arg(pkg)
        .arg(dir.path())
        .envs(flags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("CC", "gcc")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("the bare commands run");
    let elapsed = started.elapsed();
    assert!(status.success(), "the host compile failed");
    elapsed
}

fn main() {
    if !Path::new("/var/lib/dpkg/status").exists() {
        println!("SKIP: no dpkg database; the host profile cannot be imported here");
        return;
    }
    let runs: usize = std::env::var("BUILD_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15)
        .max(1);
    let recipe = workspace().join("recipes-example/hello");
    let cache_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("boulder-root-cache");
    let cache = Cache::open(Some(&cache_dir)).expect("cache");
    let out = tempfile::tempdir().expect("output");
    let request = BuildRequest {
        output_dir: out.path().to_path_buf(),
        ..BuildRequest::new(&recipe)
    };

    // Warm up: host import, root blit, page cache.
    let started = Instant::now();
    build(&request, &cache, &quiet).expect("warm-up build");
    println!(
        "warm-up build (import and blit when cold): {}",
        format_duration(started.elapsed())
    );

    let flags = build_flags(&recipe.join("stone.yaml"));
    let pkg = recipe.join("pkg");
    let mut totals = Vec::new();
    let mut compiles = Vec::new();
    let mut steps: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    // Alternating: a build, then the bare compile, so both see the same load.
    for _ in 0..runs {
        compiles.push(compile_on_host(&pkg, &flags));
        let started = Instant::now();
        let outcome = build(&request, &cache, &quiet).expect("build");
        totals.push(started.elapsed());
        for (name, elapsed) in outcome.timings.entries {
            if !order.contains(&name) {
                order.push(name.clone());
            }
            steps.entry(name).or_default().push(elapsed);
        }
        // Each build keeps its directories for `boulder chroot`; drop them here.
        let _ = std::fs::remove_dir_all(&outcome.build_dirs);
    }

    let total = median(totals);
    let compile = median(compiles);
    let overhead = total.saturating_sub(compile);
    println!(
        "\nboulder build recipes-example/hello, warm caches, medians of {runs} alternating runs, load {}",
        std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    );
    println!("{:<22} {:>10}", "step", "median");
    for name in &order {
        println!(
            "{name:<22} {:>10}",
            format_duration(median(steps[name].clone()))
        );
    }
    println!("{:<22} {:>10}", "build total", format_duration(total));
    println!(
        "{:<22} {:>10}   (baseline: the phases' bare commands on the host, same flags)",
        "bare commands",
        format_duration(compile)
    );
    println!(
        "{:<22} {:>10}   goal ≤ {} → {}",
        "overhead",
        format_duration(overhead),
        format_duration(GOAL),
        if overhead <= GOAL { "met" } else { "MISSED" }
    );
    println!(
        "ratio build/bare commands: {:.2}×; overhead/bare commands: {:.2}×; original boulder ≈ 3.4–3.8 s → {:.1}× less overhead",
        total.as_secs_f64() / compile.as_secs_f64().max(1e-9),
        overhead.as_secs_f64() / compile.as_secs_f64().max(1e-9),
        3.4 / overhead.as_secs_f64().max(1e-9)
    );
}
