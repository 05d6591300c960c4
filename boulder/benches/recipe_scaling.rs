//! Scaling benchmark (issue 14): time for 10× the input against 1× for
//!
//! * `recipe check` of a recipe with N unknown keys, every diagnostic rendered
//!   as the command renders it (N = 10,000 and 100,000), and
//! * the build's script stage for a phase of N lines: check, render the phase
//!   script of every target and write it to a file (N = 100,000 and 1,000,000),
//! * `boulder build` itself (the real binary, a real root imported from the
//!   host with dpkg; skipped elsewhere) of a recipe whose install phase has N
//!   lines, each printing a line (N = 100,000 and 1,000,000): check, scripts,
//!   the sandboxed phases with every output line logged and reported,
//!   analysis and stones. A warm-up build makes the root first.
//!
//! Linear code gives a ratio near 10; the goal is under 15. Run with
//!
//! ```text
//! cargo bench -p boulder --bench recipe_scaling
//! SCALING_BENCH_RUNS=1 cargo bench -p boulder --bench recipe_scaling   # quick
//! ```
//!
//! Each size is measured `SCALING_BENCH_RUNS` times (default 3) and the median
//! is used. The process exits with status 1 when a ratio is 15 or more.

// Benchmark code: a failed unwrap or expect is the run failing (the workspace
// denies them in code that runs on a user's input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use boulder::build::script::{RecipeScripts, ScriptOptions};
use boulder::recipe::check::Engine;
use boulder::recipe::HOST_ARCH;

const GOAL: f64 = 15.0;

const HEADER: &str = "name        : scaling
version     : 1.0
release     : 1
summary     : Scaling benchmark
license     : MPL-2.0
homepage    : https://example.invalid
";

fn unknown_keys(n: usize) -> String {
    let mut text = String::from(HEADER);
    for i in 0..n {
        text.push_str(&format!("unknown{i}: value {i}\n"));
    }
    text
}

fn long_phase(n: usize) -> String {
    let mut text = format!("{HEADER}install     : |\n");
    for i in 0..n {
        text.push_str(&format!("    echo line {i} %(libdir)\n"));
    }
    text
}

/// `recipe check` with every diagnostic rendered (to memory, as miette renders it).
fn check_and_render(engine: &Engine, text: &Arc<String>) -> usize {
    let report = engine.check_text(Path::new("stone.yaml"), text.clone());
    let mut rendered = 0;
    for diagnostic in report.diagnostics() {
        rendered += format!("{:?}", miette::Report::new(diagnostic)).len();
    }
    rendered
}

/// The build's recipe and script stages: check, render every phase, write it.
fn script_stage(engine: &Engine, text: &Arc<String>, out: &Path) -> usize {
    let report = engine.check_text(Path::new("stone.yaml"), text.clone());
    assert!(report.problems.is_empty(), "{:?}", report.problems.first());
    let scripts = RecipeScripts::new(
        engine.library(),
        &report.recipe,
        &report.text,
        HOST_ARCH,
        ScriptOptions::default(),
    )
    .expect("scripts");
    let mut written = 0;
    for phase in scripts.phases().expect("phases") {
        let mut file = std::io::BufWriter::new(std::fs::File::create(out).expect("script file"));
        file.write_all(phase.text.as_bytes()).expect("write");
        file.flush().expect("flush");
        written += phase.text.len();
    }
    written
}

fn median(runs: usize, mut f: impl FnMut() -> usize) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(f());
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let runs: usize = std::env::var("SCALING_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let engine = match Engine::embedded() {
        Ok(engine) => engine,
        Err(error) => {
            eprintln!("cannot load the embedded macros: {error}");
            std::process::exit(1);
        }
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("phase.sh");
    let mut failed = false;

    let mut report = |what: &str, small: usize, one: Duration, ten: Duration| {
        let ratio = ten.as_secs_f64() / one.as_secs_f64().max(1e-9);
        let verdict = if ratio < GOAL { "ok" } else { "TOO HIGH" };
        println!(
            "{what}: {small} -> {}: {:.3} s -> {:.3} s, ratio {ratio:.2} (goal < {GOAL}): {verdict}",
            small * 10,
            one.as_secs_f64(),
            ten.as_secs_f64()
        );
        failed |= ratio >= GOAL;
    };

    let (small, large) = (
        Arc::new(unknown_keys(10_000)),
        Arc::new(unknown_keys(100_000)),
    );
    let one = median(runs, || check_and_render(&engine, &small));
    let ten = median(runs, || check_and_render(&engine, &large));
    report("recipe check, unknown keys", 10_000, one, ten);

    let (small, large) = (
        Arc::new(long_phase(100_000)),
        Arc::new(long_phase(1_000_000)),
    );
    let one = median(runs, || script_stage(&engine, &small, &out));
    let ten = median(runs, || script_stage(&engine, &large, &out));
    report("phase lines, check + render + write", 100_000, one, ten);

    if let Some((one, ten)) = full_builds(runs, dir.path()) {
        report("boulder build, phase lines", 100_000, one, ten);
    }

    if failed {
        std::process::exit(1);
    }
}

/// A recipe whose install phase has `n` lines printing a line each.
fn build_recipe(n: usize) -> String {
    let mut text = format!("{HEADER}description : scaling\ninstall     : |\n");
    text.push_str("    mkdir -p %(installroot)/usr/share/scaling\n");
    text.push_str("    echo ok > %(installroot)/usr/share/scaling/ok\n");
    for i in 0..n {
        text.push_str(&format!("    echo line {i}\n"));
    }
    text
}

/// Medians of `boulder build` for 100,000 and 1,000,000 phase lines.
fn full_builds(runs: usize, dir: &Path) -> Option<(Duration, Duration)> {
    if std::process::Command::new("dpkg-query")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("boulder build, phase lines: skipped (the host import needs dpkg)");
        return None;
    }
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("boulder-root-cache");
    let build = |n: usize| -> usize {
        let recipe_dir = dir.join(format!("build-{n}"));
        std::fs::create_dir_all(&recipe_dir).expect("recipe dir");
        let recipe = recipe_dir.join("stone.yaml");
        if !recipe.exists() {
            std::fs::write(&recipe, build_recipe(n)).expect("write the recipe");
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_boulder"))
            .args(["build", "--cache-dir"])
            .arg(&cache)
            .arg(&recipe_dir)
            .arg("-o")
            .arg(dir.join(format!("out-{n}")))
            .output()
            .expect("boulder runs");
        assert!(
            out.status.success(),
            "boulder build failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout.len()
    };
    build(10);
    let one = median(runs, || build(100_000));
    let ten = median(runs, || build(1_000_000));
    Some((one, ten))
}
