//! Benchmark of `boulder build` of many recipes (issue 15):
//!
//! * planning 1,000 recipes (read and check all, providers, order, input
//!   digests against the repository): `boulder build DIR --plan`; goal
//!   under 1 s;
//! * 20 independent trivial recipes: `boulder build DIR -j N` against 20
//!   sequential `boulder build RECIPE` calls into the same kind of local
//!   repository; goal: a ratio of at most 0.6.
//!
//! ```text
//! cargo bench -p boulder --bench build_many
//! MANY_BENCH_RUNS=1 cargo bench -p boulder --bench build_many   # quick
//! ```
//!
//! Each figure is the median of `MANY_BENCH_RUNS` runs (default 3); the
//! parallel and sequential runs alternate, so load from elsewhere hits
//! both. The builds need the host import (dpkg); without it only planning
//! is measured.

// Benchmark code: a failed unwrap or expect is the run failing (the workspace
// denies them in code that runs on a user's input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const TRIVIAL: usize = 20;
const PLANNED: usize = 1000;

fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("boulder-root-cache")
}

fn boulder() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_boulder"));
    command.env_remove("SOURCE_DATE_EPOCH");
    command
}

/// A trivial recipe `name` needing `deps`.
fn write_recipe(dir: &Path, name: &str, deps: &[String]) {
    let recipe = dir.join(name);
    fs::create_dir_all(&recipe).expect("mkdir");
    let deps = if deps.is_empty() {
        String::new()
    } else {
        let list: String = deps.iter().map(|d| format!("    - {d}\n")).collect();
        format!("builddeps   :\n{list}")
    };
    fs::write(
        recipe.join("stone.yaml"),
        format!(
            "name        : {name}\nversion     : 1\nrelease     : 1\nsummary     : {name}\n\
             license     : MPL-2.0\nhomepage    : https://example.invalid/{name}\n\
             description : |\n    Trivial.\n{deps}\
             build       : |\n    true\n\
             install     : |\n    install -Dm00644 /dev/null %(installroot)/usr/share/{name}/marker\n"
        ),
    )
    .expect("write recipe");
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn run(command: &mut Command) -> Duration {
    let started = Instant::now();
    let output = command.output().expect("boulder runs");
    let took = started.elapsed();
    assert!(
        output.status.success(),
        "{command:?}\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    took
}

fn load() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Fixed CPU work (a hash chain), for [`parallel_capacity`].
fn spin() -> u64 {
    let mut state = [0u8; 32];
    for _ in 0..400_000 {
        state = *blake3::hash(&state).as_bytes();
    }
    u64::from(state[0])
}

/// How many CPUs' worth of time `jobs` busy threads of this process get
/// now: `jobs` × (time of one alone) / (time of `jobs` together). On a busy
/// machine with autogroup scheduling a session's threads share one
/// group's slice, and this falls towards 1 whatever the CPU count.
fn parallel_capacity(jobs: usize) -> f64 {
    let started = Instant::now();
    std::hint::black_box(spin());
    let alone = started.elapsed();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| std::hint::black_box(spin()));
        }
    });
    jobs as f64 * alone.as_secs_f64() / started.elapsed().as_secs_f64()
}

fn main() {
    let runs: usize = std::env::var("MANY_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let work = tempfile::tempdir().expect("tempdir");

    // Planning: a tree of 1,000 recipes, each needing its "parent".
    let planned = work.path().join("planned");
    for i in 0..PLANNED {
        let deps = if i == 0 {
            Vec::new()
        } else {
            vec![format!("plan-{}", (i - 1) / 2)]
        };
        write_recipe(&planned, &format!("plan-{i}"), &deps);
    }
    let repo = work.path().join("plan-repo");
    let mut times = Vec::new();
    for _ in 0..runs {
        times.push(run(boulder()
            .args(["build", "--plan", "--repo"])
            .arg(&repo)
            .arg(&planned)
            .stdout(std::process::Stdio::null())));
    }
    let plan_time = median(times);
    println!(
        "planning {PLANNED} recipes (boulder build --plan): {:.3} s (goal < 1 s; load {})",
        plan_time.as_secs_f64(),
        load()
    );

    if !Path::new("/usr/bin/dpkg").exists() {
        println!("SKIPPED: 20 trivial builds need the host import (dpkg)");
        return;
    }
    let trivial = work.path().join("trivial");
    for i in 0..TRIVIAL {
        write_recipe(&trivial, &format!("trivial-{i}"), &[]);
    }
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    // Warm-up: host import, the root, the page cache.
    run(boulder()
        .args(["build", "--cache-dir"])
        .arg(cache_dir())
        .arg(trivial.join("trivial-0"))
        .arg("-o")
        .arg(work.path().join("warm")));
    let mut parallel = Vec::new();
    let mut sequential = Vec::new();
    for round in 0..runs {
        let repo = work.path().join(format!("par-{round}"));
        parallel.push(run(boulder()
            .args(["build", "--cache-dir"])
            .arg(cache_dir())
            .arg(&trivial)
            .arg("--repo")
            .arg(&repo)
            .args(["-j", &jobs.to_string()])));
        let repo = work.path().join(format!("seq-{round}"));
        let started = Instant::now();
        for i in 0..TRIVIAL {
            run(boulder()
                .args(["build", "--cache-dir"])
                .arg(cache_dir())
                .arg(trivial.join(format!("trivial-{i}")))
                .arg("--repo")
                .arg(&repo)
                .stdout(std::process::Stdio::null()));
        }
        sequential.push(started.elapsed());
        println!(
            "round {round}: -j {jobs} {:.2} s, sequential {:.2} s (load {})",
            parallel[round].as_secs_f64(),
            sequential[round].as_secs_f64(),
            load()
        );
    }
    println!(
        "parallel capacity now: {:.2} of {jobs} CPUs (1.0 means parallel work gains nothing here)",
        parallel_capacity(jobs)
    );
    let (parallel, sequential) = (median(parallel), median(sequential));
    println!(
        "{TRIVIAL} trivial recipes: -j {jobs} {:.2} s, sequential {:.2} s, ratio {:.2} (goal <= 0.6)",
        parallel.as_secs_f64(),
        sequential.as_secs_f64(),
        parallel.as_secs_f64() / sequential.as_secs_f64()
    );
}
