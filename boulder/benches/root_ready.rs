//! "Root ready" for the default host profile with a warm cache: resolve the
//! package set, reuse the blitted root, make the build's directories, enter
//! the sandbox and see `/usr/bin/true` exit — beside bubblewrap over the
//! same root in the same run.
//!
//! Run: `cargo bench -p boulder --bench root_ready` (runs: `ROOT_BENCH_RUNS`,
//! default 30). The cache is the one the tests use (`target/tmp`), or
//! `ROOT_BENCH_CACHE`; a cold cache is warmed (imported, blitted) untimed first.

// Benchmark code: a failed unwrap or expect is the run failing (the workspace
// denies them in code that runs on a user's input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Stdio as ProcessStdio};
use std::time::{Duration, Instant};

use boulder::root::{self, BuildDirs, Cache, RootRequest};
use moss_core::sandbox::Stdio;

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:8.3} ms", d.as_secs_f64() * 1000.0)
}

fn time_command(cmd: &mut Command) -> Option<Duration> {
    let start = Instant::now();
    let status = cmd
        .stdout(ProcessStdio::null())
        .stderr(ProcessStdio::null())
        .status()
        .ok()?;
    status.success().then(|| start.elapsed())
}

fn main() {
    let runs: usize = std::env::var("ROOT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
        .max(1);
    let cache_dir = std::env::var_os("ROOT_BENCH_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("boulder-root-cache"));
    let cache = Cache::open(Some(&cache_dir)).expect("open the cache");
    let request = RootRequest {
        profile: root::DEFAULT_PROFILE.into(),
        packages: vec!["binary(make)".into()],
        networking: false,
    };
    // Warm up, untimed: import the host and blit the root when missing.
    let warm = Instant::now();
    let prepared = match root::prepare(&cache, &request) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("cannot prepare the host root here: {e}");
            std::process::exit(1);
        }
    };
    eprintln!(
        "warm-up: {} ({} packages, {})",
        ms(warm.elapsed()),
        prepared.packages.len(),
        if prepared.reused {
            "reused"
        } else {
            "blitted now"
        }
    );
    let root_path = prepared.path.display().to_string();
    let bwrap = |extra: &[&str]| {
        let mut c = Command::new("bwrap");
        c.args(["--unshare-all", "--ro-bind", &root_path, "/"])
            .args(extra)
            .arg("/usr/bin/true");
        c
    };
    let has_bwrap = time_command(&mut bwrap(&[])).is_some();
    if !has_bwrap {
        eprintln!("bwrap is missing or cannot run here (apt-get install bubblewrap): the bubblewrap lines are skipped");
    }

    let mut made = Vec::new();
    let (mut total, mut resolve, mut dirs_t, mut sandbox_t) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut mapped, mut mounted, mut entered, mut execd, mut exited) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut bw, mut bw_same) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let start = Instant::now();
        let prepared = root::prepare(&cache, &request).expect("prepare");
        let resolved = start.elapsed();
        let dirs = BuildDirs::create(&cache, "bench").expect("build dirs");
        let dirs_done = start.elapsed();
        let mut child = root::sandbox(&prepared, &dirs, false)
            .stdout(Stdio::Null)
            .stderr(Stdio::Null)
            .spawn(["/usr/bin/true"])
            .expect("spawn");
        let status = child.wait().expect("wait");
        let done = start.elapsed();
        assert!(status.success(), "/usr/bin/true failed in the root");
        assert!(prepared.reused, "the warm root was not reused");
        total.push(done);
        resolve.push(resolved);
        dirs_t.push(dirs_done - resolved);
        sandbox_t.push(done - dirs_done);
        mapped.push(child.timings().mapped);
        mounted.push(child.timings().mounted);
        entered.push(child.timings().pivoted);
        execd.push(child.timings().exec);
        exited.push(child.timings().exited);
        if has_bwrap {
            bw.extend(time_command(&mut bwrap(&[])));
            let binds = [("--bind", &dirs.mason, "/mason")];
            let mut args: Vec<String> = Vec::new();
            for (flag, host, guest) in binds {
                args.extend([
                    flag.to_string(),
                    host.display().to_string(),
                    guest.to_string(),
                ]);
            }
            args.extend(
                ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
                    .iter()
                    .map(|s| s.to_string()),
            );
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            bw_same.extend(time_command(&mut bwrap(&refs)));
        }
        made.push(dirs.base.clone());
    }
    for base in made {
        let _ = moss_core::state::remove_tree(&base);
    }

    let ready = median(&mut total);
    let sandbox_median = median(&mut sandbox_t);
    println!("root ready (host profile, warm cache), median of {runs} runs");
    println!("  root ready                          {}", ms(ready));
    println!(
        "    resolve + reuse the root          {}",
        ms(median(&mut resolve))
    );
    println!(
        "    per-build directories             {}",
        ms(median(&mut dirs_t))
    );
    println!(
        "    sandbox start → true exited       {}",
        ms(sandbox_median)
    );
    println!(
        "      (namespaces made, ids mapped    {})",
        ms(median(&mut mapped))
    );
    println!(
        "      (mounts in place                {})",
        ms(median(&mut mounted))
    );
    println!(
        "      (sandbox entered after          {})",
        ms(median(&mut entered))
    );
    println!(
        "      (command executed               {})",
        ms(median(&mut execd))
    );
    println!(
        "      (true exited, seen by PID 1     {})",
        ms(median(&mut exited))
    );
    println!(
        "  goal ≤ 100 ms: {}",
        if ready <= Duration::from_millis(100) {
            "met"
        } else {
            "NOT met"
        }
    );
    if !bw.is_empty() {
        let b = median(&mut bw);
        let bs = median(&mut bw_same);
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
        println!(
            "  bwrap --unshare-all --ro-bind ROOT / /usr/bin/true   {}",
            ms(b)
        );
        println!(
            "  bwrap, same binds + /proc /dev /tmp as ours          {}",
            ms(bs)
        );
        println!(
            "  ratio our sandbox / bwrap                 {:.2}",
            ratio(sandbox_median, b)
        );
        println!(
            "  ratio our sandbox / bwrap (same mounts)   {:.2}",
            ratio(sandbox_median, bs)
        );
        println!(
            "  ratio root ready / bwrap                  {:.2}",
            ratio(ready, b)
        );
    }
}
