//! Stone pack/unpack benchmark against `tar` with zstd at the same level.
//!
//! Run: `cargo bench -p moss-core --bench stone`
//! Knobs (environment): `STONE_BENCH_FILES` (small files, default 20000),
//! `STONE_BENCH_LARGE_MB` (total of large binaries, default 150),
//! `STONE_BENCH_DIR` (scratch folder, default the system temp dir),
//! `STONE_BENCH_RUNS` (default 3: each step runs that often, alternating
//! with tar, and the medians are printed),
//! `STONE_BENCH_LEVELS` (e.g. `1,3,9,19`: also pack at these levels, and
//! compress a plain tar of the tree with `zstd -18 --long=31 -T0`, the
//! original writer's setting, for comparison).
//!
//! After the main rounds, packing is measured again against tar with a
//! second CPU-bound process spinning on the machine.
//!
//! For profiling one step alone: `<bench binary> --child generate DIR`
//! writes the tree, then `--child pack DIR OUT LEVEL` and
//! `--child unpack STONE OUTDIR` run the measured code.
//!
//! Every measured step runs in a child process (this binary re-executed with
//! `--child`), so wall time and peak RSS (from `wait4`) belong to that step
//! alone. tar runs as `tar -I 'zstd -3 -T0'`, the same level and thread
//! policy as our default.

// Benchmark code: a failed unwrap or expect is the run failing (the workspace
// denies them in code that runs on a user's input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::BufWriter;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use moss_core::stone::{extract, Meta, StoneReader, StoneWriter, WriteOptions, DEFAULT_LEVEL};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        child(&args[2..]);
        return;
    }
    orchestrate();
}

/// The measured work of one step, inside the child process.
fn child(args: &[String]) {
    match args[0].as_str() {
        "pack" => {
            let meta = Meta {
                name: "bench".into(),
                version: "1".into(),
                source_release: 1,
                build_release: 1,
                architecture: "x86_64".into(),
                ..Meta::default()
            };
            let out =
                BufWriter::with_capacity(1 << 20, fs::File::create(&args[2]).expect("create"));
            let options = WriteOptions {
                level: args[3].parse().expect("level"),
                ..WriteOptions::default()
            };
            let output = Path::new(&args[2]);
            let scratch = output.parent().unwrap_or(Path::new("."));
            StoneWriter::new(options)
                .pack_tree(out, &meta, Path::new(&args[1]), scratch)
                .expect("pack");
        }
        "unpack" => {
            let mut reader = StoneReader::open_path(Path::new(&args[1])).expect("open");
            extract(&mut reader, Path::new(&args[2])).expect("extract");
        }
        // The second CPU-bound process of the loaded packing rounds: spins
        // until killed.
        "spin" => {
            let mut x = 0u64;
            loop {
                x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
            }
        }
        // Not measured: writes the benchmark tree to a folder, for profiling.
        "generate" => {
            let stats = generate(
                Path::new(&args[1]),
                env_usize("STONE_BENCH_FILES", 20_000),
                env_usize("STONE_BENCH_LARGE_MB", 150),
            );
            println!("{} files, {} bytes", stats.files, stats.bytes);
        }
        other => panic!("unknown child step {other}"),
    }
}

/// A small deterministic generator (xorshift64*), so every run packs the same tree.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: [&str; 24] = [
    "static", "int", "return", "struct", "const", "char", "void", "if", "else", "for", "while",
    "include", "define", "unsigned", "sizeof", "NULL", "buffer", "length", "error", "config",
    "package", "stone", "moss", "boulder",
];

struct TreeStats {
    files: usize,
    symlinks: usize,
    bytes: u64,
}

/// Many small text files, some large binaries (half compressible, half
/// random), duplicates of both, and symlinks.
fn generate(root: &Path, small_files: usize, large_mb: usize) -> TreeStats {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut stats = TreeStats {
        files: 0,
        symlinks: 0,
        bytes: 0,
    };
    let write = |path: &Path, bytes: &[u8], stats: &mut TreeStats| {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
        stats.files += 1;
        stats.bytes += bytes.len() as u64;
    };
    let mut small_paths = Vec::new();
    for i in 0..small_files {
        let dir = root.join(format!("share/pkg{:03}/sub{:02}", i % 400, (i / 400) % 16));
        let mut text = String::new();
        let target = 512 + rng.below(7 * 1024) as usize;
        while text.len() < target {
            text.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
            text.push(if rng.below(8) == 0 { '\n' } else { ' ' });
        }
        let path = dir.join(format!("file{i}.txt"));
        write(&path, text.as_bytes(), &mut stats);
        small_paths.push(path);
    }
    let large_count = large_mb.div_ceil(3).max(2);
    let mut large_paths = Vec::new();
    for i in 0..large_count {
        let size = 3 << 20;
        let mut bytes = vec![0u8; size];
        if i % 2 == 0 {
            // Compressible: repeating records with a sprinkle of noise.
            for (j, b) in bytes.iter_mut().enumerate() {
                *b = (j % 251) as u8 ^ if j % 97 == 0 { rng.next() as u8 } else { 0 };
            }
        } else {
            for chunk in bytes.chunks_mut(8) {
                let v = rng.next().to_le_bytes();
                chunk.copy_from_slice(&v[..chunk.len()]);
            }
        }
        let path = root.join(format!("lib/large{i}.so"));
        write(&path, &bytes, &mut stats);
        large_paths.push(path);
    }
    // Duplicates: 2% of the small files and two large ones.
    for (n, i) in (0..small_files).step_by(50).enumerate() {
        let bytes = fs::read(&small_paths[i]).unwrap();
        write(
            &root.join(format!("share/dups/dup{n}.txt")),
            &bytes,
            &mut stats,
        );
    }
    for (n, path) in large_paths.iter().take(2).enumerate() {
        let bytes = fs::read(path).unwrap();
        write(
            &root.join(format!("lib/dup-large{n}.so")),
            &bytes,
            &mut stats,
        );
    }
    // Symlinks: one per 20 small files, relative like real packages.
    fs::create_dir_all(root.join("bin")).unwrap();
    for i in (0..small_files).step_by(20) {
        let rel = small_paths[i].strip_prefix(root).unwrap();
        symlink(Path::new("..").join(rel), root.join(format!("bin/link{i}"))).unwrap();
        stats.symlinks += 1;
    }
    stats
}

struct Measure {
    wall: f64,
    cpu: f64,
    max_rss_mib: f64,
}

/// Runs a command and returns its wall time, CPU time and peak RSS (its own
/// or its waited-for descendants', whichever is larger; from `wait4`).
// The child is reaped with `wait4` (for its rusage), not `Child::wait`.
#[allow(clippy::zombie_processes)]
fn measure(cmd: &mut Command) -> Measure {
    let start = Instant::now();
    let child = cmd.spawn().expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: plain FFI call with valid out-pointers; `child` is not waited elsewhere.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed().as_secs_f64();
    assert_eq!(r, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed"
    );
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Measure {
        wall,
        cpu: secs(usage.ru_utime) + secs(usage.ru_stime),
        max_rss_mib: usage.ru_maxrss as f64 / 1024.0,
    }
}

/// Flushes dirty data of earlier steps, then measures.
fn measure_synced(cmd: &mut Command) -> Measure {
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
    measure(cmd)
}

/// The median of each figure on its own (wall, CPU and RSS may come from
/// different runs).
fn median(runs: &[Measure]) -> Measure {
    let pick = |f: fn(&Measure) -> f64| {
        let mut v: Vec<f64> = runs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Measure {
        wall: pick(|m| m.wall),
        cpu: pick(|m| m.cpu),
        max_rss_mib: pick(|m| m.max_rss_mib),
    }
}

fn walls(runs: &[Measure]) -> String {
    runs.iter()
        .map(|m| format!("{:.2}", m.wall))
        .collect::<Vec<_>>()
        .join(" ")
}

fn count_entries(root: &Path) -> usize {
    walkdir::WalkDir::new(root).min_depth(1).into_iter().count()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn orchestrate() {
    let small_files = env_usize("STONE_BENCH_FILES", 20_000);
    let large_mb = env_usize("STONE_BENCH_LARGE_MB", 150);
    let base = std::env::var_os("STONE_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let scratch = tempfile::Builder::new()
        .prefix("stone-bench")
        .tempdir_in(base)
        .unwrap();
    let src = scratch.path().join("src");
    let t = Instant::now();
    let stats = generate(&src, small_files, large_mb);
    let mb = stats.bytes as f64 / 1e6;
    println!(
        "tree: {} regular files ({} MB), {} symlinks; generated in {:.1}s",
        stats.files,
        mb as u64,
        stats.symlinks,
        t.elapsed().as_secs_f64()
    );
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("zstd level {DEFAULT_LEVEL}, {threads} threads for both tools (tar -I 'zstd -{DEFAULT_LEVEL} -T0')");
    let exe = std::env::current_exe().unwrap();
    let stone = scratch.path().join("bench.stone");
    let tarball = scratch.path().join("bench.tar.zst");
    let level = DEFAULT_LEVEL.to_string();

    // Warm the page cache so both tools read the tree from memory.
    count_entries(&src);
    let runs = env_usize("STONE_BENCH_RUNS", 3).max(1);
    let (mut tar_packs, mut our_packs, mut tar_unpacks, mut our_unpacks) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        // Each step starts with no dirty data of an earlier step left to
        // write back (it would slow whichever step came next).
        tar_packs.push(measure_synced(
            Command::new("tar")
                .arg("-C")
                .arg(&src)
                .arg("-I")
                .arg(format!("zstd -{DEFAULT_LEVEL} -T0"))
                .arg("-cf")
                .arg(&tarball)
                .arg("."),
        ));
        our_packs.push(measure_synced(
            Command::new(&exe)
                .args(["--child", "pack"])
                .arg(&src)
                .arg(&stone)
                .arg(&level),
        ));
        // Fresh output folders every run: both tools create every file.
        let tar_out = scratch.path().join(format!("tar-out{run}"));
        fs::create_dir(&tar_out).unwrap();
        tar_unpacks.push(measure_synced(
            Command::new("tar")
                .arg("-C")
                .arg(&tar_out)
                .arg("-I")
                .arg("zstd -d -T0")
                .arg("-xf")
                .arg(&tarball),
        ));
        let our_out = scratch.path().join(format!("stone-out{run}/usr"));
        our_unpacks.push(measure_synced(
            Command::new(&exe)
                .args(["--child", "unpack"])
                .arg(&stone)
                .arg(&our_out),
        ));
        assert_eq!(
            count_entries(&our_out),
            count_entries(&tar_out),
            "unpacked trees differ"
        );
    }
    let (tar_pack, our_pack, tar_unpack, our_unpack) = (
        median(&tar_packs),
        median(&our_packs),
        median(&tar_unpacks),
        median(&our_unpacks),
    );
    println!("load: {}", load());
    println!(
        "medians of {runs} runs (STONE_BENCH_RUNS), steps alternating; walls per run: pack moss {} / tar {}, unpack moss {} / tar {}",
        walls(&our_packs),
        walls(&tar_packs),
        walls(&our_unpacks),
        walls(&tar_unpacks)
    );

    let size = |p: &Path| fs::metadata(p).unwrap().len() as f64 / 1e6;
    println!();
    println!(
        "{:<8} {:<14} {:>8} {:>9} {:>8} {:>10} {:>10}",
        "step", "tool", "wall s", "MB/s", "CPU s", "peak MiB", "output MB"
    );
    let row = |step: &str, tool: &str, m: &Measure, out: f64| {
        println!(
            "{:<8} {:<14} {:>8.2} {:>9.1} {:>8.2} {:>10.1} {:>10.1}",
            step,
            tool,
            m.wall,
            mb / m.wall,
            m.cpu,
            m.max_rss_mib,
            out
        );
    };
    row("pack", "moss stone", &our_pack, size(&stone));
    row("pack", "tar --zstd", &tar_pack, size(&tarball));
    row("unpack", "moss stone", &our_unpack, mb);
    row("unpack", "tar --zstd", &tar_unpack, mb);
    println!();
    println!(
        "ratios (moss / tar): pack wall {:.2}, unpack wall {:.2}, pack RSS {:.2}, unpack RSS {:.2}, size {:.3}",
        our_pack.wall / tar_pack.wall,
        our_unpack.wall / tar_unpack.wall,
        our_pack.max_rss_mib / tar_pack.max_rss_mib,
        our_unpack.max_rss_mib / tar_unpack.max_rss_mib,
        size(&stone) / size(&tarball)
    );
    println!(
        "goals: pack {} tar, unpack {} tar, unpack peak RSS {:.1} MiB {} 64 MiB",
        if our_pack.wall <= tar_pack.wall {
            "at least as fast as"
        } else {
            "SLOWER than"
        },
        if our_unpack.wall <= tar_unpack.wall {
            "at least as fast as"
        } else {
            "SLOWER than"
        },
        our_unpack.max_rss_mib,
        if our_unpack.max_rss_mib < 64.0 {
            "<"
        } else {
            ">="
        },
    );

    busy_packs(&exe, &src, scratch.path(), &level, runs);

    if let Ok(levels) = std::env::var("STONE_BENCH_LEVELS") {
        compare_levels(&levels, &exe, &src, scratch.path(), mb);
    }
}

/// Packing again, alternating with tar, while a second CPU-bound process
/// (this binary spinning) competes for the cores.
fn busy_packs(exe: &Path, src: &Path, scratch: &Path, level: &str, runs: usize) {
    let mut spinner = Command::new(exe)
        .args(["--child", "spin"])
        .spawn()
        .expect("starting the CPU-bound process");
    let tarball = scratch.join("busy.tar.zst");
    let stone = scratch.join("busy.stone");
    let (mut tars, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        tars.push(measure_synced(
            Command::new("tar")
                .arg("-C")
                .arg(src)
                .arg("-I")
                .arg(format!("zstd -{level} -T0"))
                .arg("-cf")
                .arg(&tarball)
                .arg("."),
        ));
        ours.push(measure_synced(
            Command::new(exe)
                .args(["--child", "pack"])
                .arg(src)
                .arg(&stone)
                .arg(level),
        ));
    }
    let _ = spinner.kill();
    let _ = spinner.wait();
    let (tar, our) = (median(&tars), median(&ours));
    println!();
    println!(
        "with a second CPU-bound process running, medians of {runs}: pack moss {:.2} s / tar {:.2} s (walls {} / {}); ratio {:.2} (goal <= 1.00); load {}",
        our.wall,
        tar.wall,
        walls(&ours),
        walls(&tars),
        our.wall / tar.wall,
        load()
    );
}

/// The load averages, to read the figures against.
fn load() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Packing time and size at other levels, and the original's setting.
fn compare_levels(levels: &str, exe: &Path, src: &Path, scratch: &Path, mb: f64) {
    println!();
    println!(
        "{:<34} {:>8} {:>8} {:>10} {:>8}",
        "compression", "wall s", "CPU s", "output MB", "ratio"
    );
    let row = |what: &str, m: &Measure, out: &Path| {
        let size = fs::metadata(out).unwrap().len() as f64 / 1e6;
        println!(
            "{:<34} {:>8.2} {:>8.2} {:>10.1} {:>8.3}",
            what,
            m.wall,
            m.cpu,
            size,
            size / mb
        );
    };
    for level in levels.split(',').map(str::trim).filter(|l| !l.is_empty()) {
        let out = scratch.join(format!("level{level}.stone"));
        let m = measure(
            Command::new(exe)
                .args(["--child", "pack"])
                .arg(src)
                .arg(&out)
                .arg(level),
        );
        row(&format!("moss pack --level {level}"), &m, &out);
        fs::remove_file(&out).unwrap();
    }
    let plain = scratch.join("plain.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(src)
        .arg("-cf")
        .arg(&plain)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    let out = scratch.join("plain.tar.zst");
    let m = measure(
        Command::new("zstd")
            .args(["-q", "-18", "--long=31", "-T0", "-f"])
            .arg(&plain)
            .arg("-o")
            .arg(&out),
    );
    row("zstd -18 --long=31 -T0 (original)", &m, &out);
}
