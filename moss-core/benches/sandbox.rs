//! Sandbox start-up: our sandbox (start → `/usr/bin/true` exited) beside
//! bubblewrap over the same root, in the same run.
//!
//! Run: `cargo bench -p moss-core --bench sandbox` (runs: `SANDBOX_BENCH_RUNS`, default 50).
//!
//! The root is a temporary directory whose `/usr` is the host's `/usr` bound
//! read-only. Both tools get that same bind; the "full" bubblewrap line adds
//! the /proc, /dev and /tmp our sandbox always mounts.

// Benchmark code: a failed unwrap or expect is the run failing (the workspace
// denies them in code that runs on a user's input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio as ProcessStdio};
use std::time::{Duration, Instant};

use moss_core::sandbox::{Sandbox, Stdio};

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:7.3} ms", d.as_secs_f64() * 1000.0)
}

fn make_root(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir(dir.join("usr"))?;
    for link in ["bin", "lib", "lib64", "sbin"] {
        symlink(format!("usr/{link}"), dir.join(link))?;
    }
    Ok(())
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
    let runs: usize = std::env::var("SANDBOX_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
        .max(1);
    let dir = tempfile::tempdir().expect("temporary directory");
    make_root(dir.path()).expect("build the benchmark root");
    let root = dir.path().to_string_lossy().into_owned();
    // Mount points are created by the first run; do it once, untimed.
    let sandbox = Sandbox::new(dir.path())
        .bind_ro("/usr", "/usr")
        .stdout(Stdio::Null)
        .stderr(Stdio::Null);
    if let Err(e) = sandbox.run(["/usr/bin/true"]) {
        eprintln!("the sandbox cannot start here: {e}");
        std::process::exit(1);
    }
    let bwrap_min = |extra: &[&str]| {
        let mut c = Command::new("bwrap");
        c.args([
            "--unshare-all",
            "--ro-bind",
            &root,
            "/",
            "--ro-bind",
            "/usr",
            "/usr",
        ])
        .args(extra)
        .arg("/usr/bin/true");
        c
    };
    let full = ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"];
    let has_bwrap = time_command(&mut bwrap_min(&[])).is_some();
    if !has_bwrap {
        eprintln!("bwrap is missing or cannot run here (apt-get install bubblewrap): no baseline");
    }
    let cli = env!("CARGO_BIN_EXE_moss");

    let (mut ours, mut mapped, mut mounted, mut pivoted, mut exec) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut ran, mut teardown, mut exited) = (Vec::new(), Vec::new(), Vec::new());
    let (mut ours_cli, mut bwrap, mut bwrap_full) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let start = Instant::now();
        let mut child = sandbox.spawn(["/usr/bin/true"]).expect("spawn");
        let status = child.wait().expect("wait");
        ours.push(start.elapsed());
        assert!(status.success());
        let t = *child.timings();
        mapped.push(t.mapped);
        mounted.push(t.mounted.saturating_sub(t.mapped));
        pivoted.push(t.pivoted.saturating_sub(t.mounted));
        exec.push(t.exec.saturating_sub(t.pivoted));
        ran.push(t.exited.saturating_sub(t.exec));
        teardown.push(t.reaped.saturating_sub(t.exited));
        exited.push(t.exited);
        if let Some(d) = time_command(Command::new(cli).args([
            "sandbox",
            &root,
            "--bind-ro",
            "/usr:/usr",
            "--",
            "/usr/bin/true",
        ])) {
            ours_cli.push(d);
        }
        if has_bwrap {
            bwrap.extend(time_command(&mut bwrap_min(&[])));
            bwrap_full.extend(time_command(&mut bwrap_min(&full)));
        }
    }
    let ours_median = median(&mut ours);
    println!("sandbox start → /usr/bin/true exited, median of {runs} runs");
    println!("  moss sandbox (library)            {}", ms(ours_median));
    println!(
        "    namespaces + id map             {}",
        ms(median(&mut mapped))
    );
    println!(
        "    mounts (/proc /dev /tmp binds)  {}",
        ms(median(&mut mounted))
    );
    println!(
        "    pivot_root + ro root            {}",
        ms(median(&mut pivoted))
    );
    println!(
        "    fork command + drop privileges  {}",
        ms(median(&mut exec))
    );
    println!(
        "    exec + run /usr/bin/true        {}",
        ms(median(&mut ran))
    );
    println!(
        "    namespace teardown + reaping    {}",
        ms(median(&mut teardown))
    );
    println!(
        "  (start → exit seen by PID 1       {})",
        ms(median(&mut exited))
    );
    if !ours_cli.is_empty() {
        println!(
            "  moss sandbox (CLI process)        {}",
            ms(median(&mut ours_cli))
        );
    }
    if !bwrap.is_empty() {
        let b = median(&mut bwrap);
        let bf = median(&mut bwrap_full);
        println!("  bwrap --unshare-all --ro-bind     {}", ms(b));
        println!("  bwrap ... --proc --dev --tmpfs    {}", ms(bf));
        let ratio =
            |ours: Duration, theirs: Duration| ours.as_secs_f64() / theirs.as_secs_f64().max(1e-9);
        println!(
            "  ratio library / bwrap             {:.2}",
            ratio(ours_median, b)
        );
        println!(
            "  ratio library / bwrap (full)      {:.2}",
            ratio(ours_median, bf)
        );
        if !ours_cli.is_empty() {
            println!(
                "  ratio CLI / bwrap (full)          {:.2}",
                ratio(median(&mut ours_cli), bf)
            );
        }
    }
}
