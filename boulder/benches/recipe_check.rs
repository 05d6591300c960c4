//! Recipe check benchmark (issue 3, acceptance 5). Run with
//!
//! ```text
//! cargo bench -p boulder --bench recipe_check
//! RECIPE_BENCH_COUNT=500 cargo bench -p boulder --bench recipe_check   # quick run
//! ```
//!
//! It generates a corpus of varied recipes (autotools, CMake, Meson, Cargo,
//! Python and plain make projects; subpackages, profiles, emul32, tuning,
//! archive and git upstreams, environments; about one in twenty carries a
//! mistake), then checks every recipe on one thread the way
//! `boulder recipe check` does: parse with spans, validate every key, expand
//! every phase of every target and profile. The baseline, measured in the
//! same run on the same texts, is plain YAML parsing into the untyped tree
//! (`moss_core::yaml::parse`, the first step of a check), which does no
//! validation and expands nothing.
//!
//! A second part checks the real recipes of the developer set
//! (`../shared/fixtures/upstream-expansions/recipes`) the same way, in one
//! process, against the same baseline on the same files: on one thread, on
//! every core as `boulder recipe check` does, and as the whole command (a
//! process of its own); the goal is the whole command in under 0.12 s.

// Benchmark code: a failed unwrap or expect is the run failing (the workspace
// denies them in code that runs on a user's input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use boulder::recipe::check::Engine;

const GOAL_PER_SECOND: f64 = 2_000.0;

/// The developer set's goal: every recipe checked in under this many seconds.
const DEVELOPER_SET_GOAL_SECONDS: f64 = 0.12;

/// A small deterministic generator (xorshift64*), so every run checks the same corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// The phases of one build system, as recipe text (block scalar bodies).
struct BuildSystem {
    builddeps: &'static [&'static str],
    setup: &'static str,
    build: &'static str,
    install: &'static str,
    check: Option<&'static str>,
}

const SYSTEMS: &[BuildSystem] = &[
    BuildSystem {
        builddeps: &["binary(autoconf)", "pkgconfig(zlib)"],
        setup: "%reconfigure --disable-static\n",
        build: "%make\n",
        install: "%make_install\nrm -rfv %(installroot)%(datadir)/info\n",
        check: Some("%make check\n"),
    },
    BuildSystem {
        builddeps: &["binary(cmake)", "pkgconfig(libcurl)"],
        setup: "%cmake -DBUILD_TESTING=ON \\\n    -DENABLE_DOCS=OFF\n",
        build: "%cmake_build\n",
        install: "%cmake_install\n",
        check: Some("%cmake_test\n"),
    },
    BuildSystem {
        builddeps: &["binary(meson)", "pkgconfig(glib-2.0)"],
        setup: "%meson -Ddocs=false\n",
        build: "%meson_build\n",
        install: "%meson_install\n",
        check: Some("%meson_test\n"),
    },
    BuildSystem {
        builddeps: &["binary(cargo)"],
        setup: "%cargo_fetch\n",
        build: "%cargo_build\n",
        install: "%cargo_install\ninstall -Dm00644 LICENSE %(installroot)%(datadir)/licenses/%(name)/LICENSE\n",
        check: Some("%cargo_test\n"),
    },
    BuildSystem {
        builddeps: &["binary(python3)", "python(setuptools)"],
        setup: "",
        build: "%pyproject_build\n",
        install: "%pyproject_install\n%python_compile\n",
        check: None,
    },
    BuildSystem {
        builddeps: &["binary(make)"],
        setup: "%patch %(pkgdir)/fix-build.patch\n",
        build: "%make CC=\"%(cc)\" CFLAGS=\"${CFLAGS}\" PREFIX=%(prefix)\n",
        install: "%make_install PREFIX=%(prefix) LIBDIR=%(libdir)\n%install_bin tool\n",
        check: None,
    },
];

const LICENSES: &[&str] = &[
    "MIT",
    "GPL-2.0-or-later",
    "Apache-2.0",
    "BSD-3-Clause",
    "MPL-2.0",
];
const TUNING: &[&str] = &[
    "lto",
    "optimize: speed",
    "nosemantic",
    "harden: none",
    "icf: all",
];
const MISTAKES: &[&str] = &[
    "tune:\n    - lto\n",
    "extract: false\n",
    "release: 0\n",
    "buildeps:\n    - binary(make)\n",
];

fn recipe(rng: &mut Rng, n: usize) -> String {
    let system = &SYSTEMS[rng.below(SYSTEMS.len())];
    let mut text = String::with_capacity(2048);
    let name = format!("pkg-{n:05}");
    text.push_str(&format!(
        "name        : {name}\nversion     : {}.{}.{}\nrelease     : {}\n",
        rng.below(20),
        rng.below(40),
        rng.below(10),
        1 + rng.below(30)
    ));
    text.push_str(&format!(
        "homepage    : https://example.invalid/{name}\nlicense     : {}\n",
        rng.pick(LICENSES)
    ));
    text.push_str(&format!(
        "summary     : Generated package number {n}\ndescription : |\n    A generated recipe for the recipe check benchmark.\n    It exercises the {} paths of the checker.\n",
        ["small", "usual", "rarer"][rng.below(3)]
    ));
    text.push_str("upstreams   :\n");
    if rng.chance(80) {
        text.push_str(&format!(
            "    - https://example.invalid/src/{name}-1.0.tar.xz : {:064x}\n",
            u128::from(rng.next() as u32)
        ));
    } else {
        text.push_str(&format!(
            "    - git|https://example.invalid/git/{name}.git :\n        ref: v{}.0\n        clonedir: {name}\n",
            rng.below(9)
        ));
    }
    text.push_str("builddeps   :\n");
    for dep in system.builddeps {
        text.push_str(&format!("    - {dep}\n"));
    }
    if rng.chance(40) {
        text.push_str("environment : |\n    export LANG=C.UTF-8\n    export TZ=UTC\n");
    }
    if rng.chance(30) {
        text.push_str("tuning      :\n");
        for _ in 0..1 + rng.below(3) {
            text.push_str(&format!("    - {}\n", rng.pick(TUNING)));
        }
    }
    if rng.chance(15) {
        text.push_str("emul32      : true\n");
    }
    if !system.setup.is_empty() {
        push_phase(&mut text, "setup", system.setup);
    }
    push_phase(&mut text, "build", system.build);
    push_phase(&mut text, "install", system.install);
    if let Some(check) = system.check {
        push_phase(&mut text, "check", check);
    }
    if rng.chance(20) {
        text.push_str("profiles    :\n    - aarch64:\n        build: |\n            %make -j1\n");
    }
    if rng.chance(50) {
        text.push_str(
            "packages    :\n    - \"%(name)-devel\":\n        summary: Development files for %(name)\n        rundeps:\n            - \"%(name)\"\n        paths:\n            - /usr/include\n            - /usr/lib/pkgconfig\n",
        );
    }
    if rng.chance(5) {
        text.push_str(rng.pick(MISTAKES));
    }
    text
}

fn push_phase(text: &mut String, phase: &str, body: &str) {
    text.push_str(&format!("{phase:<12}: |\n"));
    for line in body.lines() {
        text.push_str("    ");
        text.push_str(line);
        text.push('\n');
    }
}

fn main() {
    generated();
    developer_set();
}

/// The real recipes of the developer set, checked on one thread and on all, and
/// the same files parsed as plain YAML.
fn developer_set() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/upstream-expansions/recipes");
    let files: Vec<std::path::PathBuf> = walkdir::WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name() == "stone.yaml")
        .map(|entry| entry.into_path())
        .collect();
    if files.is_empty() {
        eprintln!(
            "developer set: no recipes below {}; the real-recipe part needs ../shared beside the checkout",
            dir.display()
        );
        std::process::exit(1);
    }
    let engine = match Engine::embedded() {
        Ok(engine) => engine,
        Err(error) => {
            eprintln!("cannot load the embedded macros: {error}");
            std::process::exit(1);
        }
    };
    let texts: Vec<(std::path::PathBuf, Arc<String>)> = files
        .iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(path).ok()?;
            Some((path.clone(), Arc::new(text)))
        })
        .collect();
    let mut serial = Vec::new();
    let mut parallel = Vec::new();
    let mut command = Vec::new();
    let mut command_cpu = Vec::new();
    let mut baseline = Vec::new();
    // Alternating rounds, medians: the machine is shared.
    for _ in 0..7 {
        let started = Instant::now();
        for (path, text) in &texts {
            let _ = engine.check_text(path, text.clone());
        }
        serial.push(started.elapsed().as_secs_f64());
        // What `boulder recipe check` does in-process: read and check on
        // every core, with the engine loaded once.
        let started = Instant::now();
        let reports = engine.check_files(&files, 0);
        parallel.push(started.elapsed().as_secs_f64());
        assert_eq!(reports.len(), files.len());
        // The whole command: process start, macro loading, discovery,
        // checking, the summary.
        let cpu_before = children_cpu();
        let started = Instant::now();
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_boulder"))
            .args(["recipe", "check"])
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("running boulder recipe check");
        command.push(started.elapsed().as_secs_f64());
        command_cpu.push(children_cpu() - cpu_before);
        assert!(status.code().is_some(), "boulder recipe check crashed");
        let started = Instant::now();
        for (_, text) in &texts {
            let _ = moss_core::yaml::parse(text);
        }
        baseline.push(started.elapsed().as_secs_f64());
    }
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let serial = median(&mut serial);
    let parallel = median(&mut parallel);
    let command = median(&mut command);
    let command_cpu = median(&mut command_cpu);
    let baseline = median(&mut baseline);
    println!(
        "developer set: {} real recipes, medians of 7 alternating rounds, load {}",
        texts.len(),
        load()
    );
    println!("  plain YAML parse, one thread   : {baseline:.3} s (baseline)");
    println!(
        "  check, one thread              : {serial:.3} s ({:.2}x the baseline)",
        serial / baseline.max(1e-9)
    );
    println!(
        "  check, all cores (check_files) : {parallel:.3} s ({:.2}x the baseline)",
        parallel / baseline.max(1e-9)
    );
    println!(
        "  `boulder recipe check DIR`     : {command:.3} s ({:.2}x the baseline); goal whole set under {DEVELOPER_SET_GOAL_SECONDS} s: {}",
        command / baseline.max(1e-9),
        if command < DEVELOPER_SET_GOAL_SECONDS {
            "met"
        } else {
            "NOT met"
        }
    );
    // On a machine loaded past its cores the wall time is mostly waiting
    // for a CPU; the work itself is the command's CPU time.
    println!(
        "    its CPU time (user + system): {command_cpu:.3} s ({:.2}x the baseline); under the goal: {}",
        command_cpu / baseline.max(1e-9),
        if command_cpu < DEVELOPER_SET_GOAL_SECONDS {
            "yes"
        } else {
            "no"
        }
    );
}

/// User + system CPU seconds of all waited-for children so far.
fn children_cpu() -> f64 {
    // SAFETY: getrusage fills a plain struct we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// The load averages, to read the figures against.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The generated corpus.
fn generated() {
    let count: usize = std::env::var("RECIPE_BENCH_COUNT")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(2_000);
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let corpus: Vec<Arc<String>> = (0..count).map(|n| Arc::new(recipe(&mut rng, n))).collect();
    let bytes: usize = corpus.iter().map(|text| text.len()).sum();

    let engine = match Engine::embedded() {
        Ok(engine) => engine,
        Err(error) => {
            eprintln!("cannot load the embedded macros: {error}");
            std::process::exit(1);
        }
    };
    let path = Path::new("stone.yaml");

    // Warm up both paths once so lazy statics and allocators are in place.
    let _ = engine.check_text(path, corpus[0].clone());
    let _ = moss_core::yaml::parse(&corpus[0]);

    let mut with_problems = 0usize;
    let mut problems = 0usize;
    let started = Instant::now();
    for text in &corpus {
        let report = engine.check_text(path, text.clone());
        if !report.problems.is_empty() {
            with_problems += 1;
            problems += report.problems.len();
        }
    }
    let ours = started.elapsed();

    let started = Instant::now();
    let mut parsed = 0usize;
    for text in &corpus {
        if moss_core::yaml::parse(text).is_ok() {
            parsed += 1;
        }
    }
    let baseline = started.elapsed();

    let rate = |elapsed: Duration| count as f64 / elapsed.as_secs_f64().max(1e-9);
    println!(
        "recipe check benchmark: {count} generated recipes, {:.1} KiB, one thread",
        bytes as f64 / 1024.0
    );
    println!(
        "  boulder check (parse + validate + expand every phase): {:>9.0} recipes/s  ({:.1} ms, {with_problems} recipes with {problems} problems)",
        rate(ours),
        ours.as_secs_f64() * 1e3
    );
    println!(
        "  baseline YAML tree parse only:                          {:>9.0} recipes/s  ({:.1} ms, {parsed} parsed)",
        rate(baseline),
        baseline.as_secs_f64() * 1e3
    );
    println!(
        "  ratio check / parse-only time: {:.2}x; goal {GOAL_PER_SECOND:.0} recipes/s: {}",
        ours.as_secs_f64() / baseline.as_secs_f64().max(1e-9),
        if rate(ours) >= GOAL_PER_SECOND {
            "met"
        } else {
            "NOT met"
        }
    );
}
