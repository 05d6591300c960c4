//! Engine benchmark (issue 4, acceptance 6). Run with
//!
//! ```text
//! cargo bench -p moss-core --bench engine
//! MOSS_BENCH_SCALE=0.1 cargo bench -p moss-core --bench engine   # quick run
//! ```
//!
//! It generates a `/usr`-like tree (default 50,000 entries, ~1 GB of content,
//! in ~100 packages), writes the packages as stones with our writer's
//! defaults, and measures in one run (`MOSS_BENCH_ROUNDS`, default 3,
//! alternating rounds; medians and the load printed):
//! 1. a fresh `moss install` of all stones: wall time and the child's peak
//!    RSS, then the first small transaction into that root, alternating with
//!    the baseline: `zstd -d | tar -x` of a tarball of the same tree
//!    (compressed at our writer's level), and beside it the same for the
//!    whole installed root (so the same inodes the install makes: store,
//!    tree, archived copy, hard links kept); then the same fresh install as
//!    shipped and with `MOSS_DECODER=streaming` (no large-window check),
//!    in pairs (`MOSS_BENCH_DECODER_ROUNDS`, default the rounds): their
//!    ratio shows that support costs our own stones nothing;
//! 2. blitting the tree into a fresh directory, beside `cp -al` of the same
//!    tree and beside a plain single-threaded loop of the same
//!    `mkdirat`/`linkat`/`symlinkat` calls (the floor);
//! 3. a small transaction: one tiny stone into the root holding the tree;
//! 4. a fresh install of one large package written as the original's writer
//!    does (zstd 18, window log 31; `MOSS_BENCH_LARGE_MB`), its peak RSS,
//!    alternating with the same content written with our defaults.
//!
//! `MOSS_BENCH_DIR` chooses where the scratch data goes (default: the system
//! temp dir); it is deleted at the end unless `MOSS_BENCH_KEEP` is set (to
//! profile single moss runs on the root it leaves).

// Benchmark code: a failed unwrap or expect is the run failing (the workspace
// denies them in code that runs on a user's input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::CString;
use std::fs;
use std::io::Cursor;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use moss_core::blit::Blitter;
use moss_core::stone::{self, Content, LayoutEntry, LayoutKind, Meta, StoneWriter, WriteOptions};
use moss_core::store::{relative_path, ModeVariants, Store, STORE_MODE};
use moss_core::tree::{NodeKind, PackageLayouts, Tree};

const PACKAGES: usize = 100;

/// A small deterministic generator (xorshift64*), so every run builds the same tree.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Package {
    meta: Meta,
    layout: Vec<LayoutEntry>,
    contents: Vec<Vec<u8>>,
}

/// Text-like filler: compresses about as well as typical `/usr` content.
fn filler(rng: &mut Rng, size: usize, tag: &str) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "the", "moss", "stone", "boulder", "usr", "lib", "share", "config", "return", "static",
        "const", "void", "int", "char", "struct", "if", "else", "for", "while", "function",
    ];
    let mut out = Vec::with_capacity(size + 32);
    out.extend_from_slice(tag.as_bytes());
    while out.len() < size {
        let r = rng.next();
        out.extend_from_slice(WORDS[(r % WORDS.len() as u64) as usize].as_bytes());
        out.push(if r & 0x100 == 0 { b' ' } else { b'\n' });
        if r & 0xf000 == 0 {
            out.extend_from_slice(&r.to_le_bytes());
        }
    }
    out.truncate(size.max(tag.len()));
    out
}

/// About 8% directories, 75% files, 17% symlinks, as in a real `/usr`.
fn generate(entries: usize, content_bytes: u64) -> Vec<Package> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let per_package = entries / PACKAGES;
    let files_per = per_package * 75 / 100;
    let links_per = per_package * 17 / 100;
    let dirs_per = per_package - files_per - links_per;
    // Sizes: mostly small, a few large; scaled so the total hits the target.
    let mut raw: Vec<u64> = (0..PACKAGES * files_per)
        .map(|_| match rng.below(100) {
            0..=69 => 200 + rng.below(8_000),
            70..=94 => 8_000 + rng.below(56_000),
            _ => 64_000 + rng.below(1_000_000),
        })
        .collect();
    let total: u64 = raw.iter().sum();
    for s in &mut raw {
        *s = (*s as u128 * content_bytes as u128 / total as u128) as u64;
    }
    let mut sizes = raw.into_iter();
    let mut packages = Vec::new();
    for p in 0..PACKAGES {
        let name = format!("pkg{p:03}");
        let mut layout = Vec::new();
        let mut contents = Vec::new();
        let mut dirs = vec![format!("share/{name}")];
        let entry = |mode: u32, kind: LayoutKind, path: String| LayoutEntry {
            uid: 0,
            gid: 0,
            mode,
            tag: 0,
            kind,
            path,
        };
        layout.push(entry(0o40755, LayoutKind::Directory, dirs[0].clone()));
        for d in 1..dirs_per {
            let parent = dirs[rng.below(dirs.len() as u64) as usize].clone();
            let dir = format!("{parent}/d{d}");
            layout.push(entry(0o40755, LayoutKind::Directory, dir.clone()));
            dirs.push(dir);
        }
        let mut files = Vec::new();
        for f in 0..files_per {
            let size = sizes.next().unwrap_or(0) as usize;
            let (path, mode) = match rng.below(100) {
                0..=4 => (format!("bin/{name}-tool{f}"), 0o100755),
                5..=14 => (format!("lib/lib{name}-{f}.so.1"), 0o100644),
                15..=19 => (format!("include/{name}/h{f}.h"), 0o100644),
                _ => {
                    let dir = &dirs[rng.below(dirs.len() as u64) as usize];
                    (format!("{dir}/f{f}.dat"), 0o100644)
                }
            };
            let body = filler(&mut rng, size, &format!("{path}\n"));
            let digest = xxhash_rust::xxh3::xxh3_128(&body);
            layout.push(entry(mode, LayoutKind::Regular { digest }, path.clone()));
            contents.push(body);
            files.push(path);
        }
        for l in 0..links_per {
            let target = &files[rng.below(files.len() as u64) as usize];
            let (dir, name_part) = target.rsplit_once('/').unwrap_or(("", target));
            layout.push(entry(
                0o120777,
                LayoutKind::Symlink {
                    target: name_part.to_string(),
                },
                format!("{dir}/link{l}-{name_part}"),
            ));
        }
        let meta = Meta {
            name: name.clone(),
            version: "1".into(),
            source_release: 1,
            build_release: 1,
            architecture: "x86_64".into(),
            summary: "generated".into(),
            description: "generated for the engine benchmark".into(),
            source_id: name,
            homepage: "https://example.invalid".into(),
            ..Default::default()
        };
        packages.push(Package {
            meta,
            layout,
            contents,
        });
    }
    packages
}

fn write_stone(dir: &Path, pkg: &Package, writer: &StoneWriter) -> PathBuf {
    let path = dir.join(pkg.meta.file_name());
    let contents = pkg
        .contents
        .iter()
        .cloned()
        .map(Content::from_bytes)
        .collect();
    let out = writer
        .write_binary(Cursor::new(Vec::new()), &pkg.meta, &pkg.layout, contents)
        .expect("writing a stone");
    fs::write(&path, out.into_inner()).expect("saving a stone");
    path
}

/// Environment variable that turns this binary into the launcher of one moss run.
const LAUNCH_ENV: &str = "MOSS_BENCH_LAUNCH";

/// Spawns moss with `args`, reaps it with `wait4` and returns its status and
/// peak RSS (KiB).
// The child is reaped by `wait4` (which also gives its rusage), not `Child::wait`.
#[allow(clippy::zombie_processes)]
fn spawn_and_measure(args: &[std::ffi::OsString]) -> (bool, i64) {
    let child = Command::new(env!("CARGO_BIN_EXE_moss"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawning moss");
    let mut status = 0;
    // SAFETY: wait4 on our own child; rusage is plain data.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let ok = rc == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    (ok, usage.ru_maxrss)
}

/// Runs moss, returning its wall time and its own peak RSS (KiB).
///
/// Linux records the RSS high-water mark of the address space a process
/// replaces on `exec` in its `ru_maxrss`, and a spawned child starts from a
/// copy (or, with vfork, the very address space) of this benchmark, which
/// holds the whole generated tree in memory. So moss is started by a fresh
/// copy of this binary (`MOSS_BENCH_LAUNCH`, tiny after its own exec) that
/// reports the figure of its child: moss's own peak, nothing inherited.
/// Write back everything dirty before a timed step. Without it a step's
/// first `fsync` commits the file system's journal with every earlier
/// step's writes in it (in ext4's ordered mode that includes their data: the
/// gigabyte of stones the setup just wrote), and the step pays for them.
fn settle() {
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
}

fn run_moss(args: &[&std::ffi::OsStr]) -> (Duration, i64) {
    settle();
    let start = Instant::now();
    let out = Command::new(std::env::current_exe().expect("own path"))
        .env(LAUNCH_ENV, "1")
        .args(args)
        .output()
        .expect("spawning the launcher");
    let elapsed = start.elapsed();
    assert!(out.status.success(), "moss failed");
    let rss = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("the launcher prints the peak RSS");
    (elapsed, rss)
}

/// Runs moss directly and returns its wall time (no peak RSS, so no
/// launcher process and its start-up in the figure).
fn time_moss(args: &[&std::ffi::OsStr]) -> Duration {
    time_moss_cpu(args).0
}

/// [`time_moss`], also returning moss's CPU time (user + system): on a
/// machine loaded past its cores a short run's wall time is mostly waiting
/// for a CPU.
fn time_moss_cpu(args: &[&std::ffi::OsStr]) -> (Duration, Duration) {
    time_moss_cpu_with(args, &[])
}

/// [`time_moss_cpu`] with extra environment variables for moss.
fn time_moss_cpu_with(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> (Duration, Duration) {
    settle();
    let cpu_before = children_cpu();
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_moss"))
        .envs(env.iter().copied())
        .args(args)
        .stdout(std::process::Stdio::null())
        .output()
        .expect("spawning moss");
    let elapsed = start.elapsed();
    assert!(out.status.success(), "moss failed");
    (elapsed, children_cpu().saturating_sub(cpu_before))
}

/// User + system CPU time of all waited-for children so far.
fn children_cpu() -> Duration {
    // SAFETY: getrusage fills a plain struct we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let of = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    of(usage.ru_utime) + of(usage.ru_stime)
}

/// The launcher side of [`run_moss`].
fn launch() -> ! {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let (ok, rss) = spawn_and_measure(&args);
    println!("{rss}");
    std::process::exit(if ok { 0 } else { 1 });
}

fn c(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap()
}

/// The floor: the same syscalls, one thread, no bookkeeping.
fn plain_loop(tree: &Tree, store: &Store, variants: &ModeVariants, target: &Path) {
    unsafe {
        let store_fd = libc::open(c(store.dir()).as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
        assert!(libc::mkdir(c(target).as_ptr(), 0o755) == 0);
        let root = libc::open(c(target).as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
        fn walk(tree: &Tree, node: u32, dir: i32, store_fd: i32, variants: &ModeVariants) {
            let NodeKind::Directory { children, .. } = &tree.nodes()[node as usize].kind else {
                return;
            };
            for &child in children {
                let n = &tree.nodes()[child as usize];
                let name = CString::new(n.name()).unwrap();
                match &n.kind {
                    NodeKind::Directory { mode, .. } => unsafe {
                        assert!(libc::mkdirat(dir, name.as_ptr(), *mode) == 0);
                        let fd =
                            libc::openat(dir, name.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
                        walk(tree, child, fd, store_fd, variants);
                        libc::close(fd);
                    },
                    NodeKind::File { digest, mode } => unsafe {
                        let rc = if *mode == STORE_MODE {
                            let rel = c(&relative_path(*digest));
                            libc::linkat(store_fd, rel.as_ptr(), dir, name.as_ptr(), 0)
                        } else {
                            let var = c(&variants.path(*digest, *mode));
                            libc::linkat(libc::AT_FDCWD, var.as_ptr(), dir, name.as_ptr(), 0)
                        };
                        assert!(rc == 0, "linkat {}", std::io::Error::last_os_error());
                    },
                    NodeKind::Symlink { target } => unsafe {
                        let t = CString::new(&**target).unwrap();
                        assert!(libc::symlinkat(t.as_ptr(), dir, name.as_ptr()) == 0);
                    },
                    NodeKind::Special { .. } => {}
                }
            }
        }
        walk(tree, 0, root, store_fd, variants);
        libc::close(root);
        libc::close(store_fd);
    }
}

/// The best of `runs` timings of `f`, each into a fresh directory under
/// `scratch` named after `label`. Nothing is deleted until the benchmark
/// ends: on an ext4 without a journal (these machines) an inode freed in the
/// last minutes is skipped when new ones are allocated, so deleting one
/// measurement's tree would slow down every measurement after it.
fn best_of<F: FnMut(&Path)>(label: &str, runs: usize, scratch: &Path, mut f: F) -> Duration {
    let mut best = Duration::MAX;
    for i in 0..runs {
        let target = scratch.join(format!("{label}-{i}"));
        settle();
        let start = Instant::now();
        f(&target);
        best = best.min(start.elapsed());
    }
    best
}

/// The tiny package of the small transactions, at `version`.
fn tiny(base: &Meta, version: u32) -> Package {
    Package {
        meta: Meta {
            name: "tiny".into(),
            version: version.to_string(),
            architecture: "x86_64".into(),
            ..base.clone()
        },
        layout: vec![LayoutEntry {
            uid: 0,
            gid: 0,
            mode: 0o100644,
            tag: 0,
            kind: LayoutKind::Regular {
                digest: xxhash_rust::xxh3::xxh3_128(format!("tiny {version}\n").as_bytes()),
            },
            path: "share/tiny/README".into(),
        }],
        contents: vec![format!("tiny {version}\n").into_bytes()],
    }
}

/// `what` (paths under `root`) as one tar, compressed at our writer's level.
fn make_tarball(root: &Path, what: &str, tarball: &Path) {
    let level = format!("-{}", stone::DEFAULT_LEVEL);
    let script = format!("tar -C \"$1\" -cf - {what} | zstd -q -T0 {level} -o \"$2\"");
    let ok = Command::new("sh")
        .args(["-c", &script, "sh"])
        .arg(root)
        .arg(tarball)
        .status()
        .expect("running tar | zstd")
        .success();
    assert!(ok, "making the baseline tarball failed");
}

/// The baseline: decompress the tarball and create its files in `target`.
fn extract(tarball: &Path, target: &Path) -> Duration {
    fs::create_dir_all(target).unwrap();
    settle();
    let start = Instant::now();
    let ok = Command::new("sh")
        .args(["-c", "zstd -q -d -c \"$1\" | tar -C \"$2\" -xf -", "sh"])
        .arg(tarball)
        .arg(target)
        .status()
        .expect("running zstd -d | tar -x")
        .success();
    let elapsed = start.elapsed();
    assert!(ok, "the baseline extraction failed");
    elapsed
}

/// Inodes in use on the file system holding `dir`. Other processes'
/// files count too, so the difference around a step is an estimate of
/// what the step made (close on a file system nothing else writes to).
fn inodes_used(dir: &Path) -> u64 {
    // SAFETY: statvfs fills a plain struct we own from a valid C string.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c(dir).as_ptr(), &mut st) };
    assert!(rc == 0, "statvfs {}", std::io::Error::last_os_error());
    st.f_files.saturating_sub(st.f_ffree) as u64
}

fn median_of(values: &[u64]) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted[sorted.len() / 2]
}

fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn list(values: &[Duration]) -> String {
    values
        .iter()
        .map(|d| format!("{:.3}", d.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The load averages, to read the figures against.
fn load() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() {
    if std::env::var_os(LAUNCH_ENV).is_some() {
        launch();
    }
    let scale: f64 = std::env::var("MOSS_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let entries = ((50_000.0 * scale) as usize).max(PACKAGES * 10);
    let content = (1_000_000_000.0 * scale) as u64;
    let base = std::env::var_os("MOSS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("moss-engine-bench-{}", std::process::id()));
    fs::create_dir_all(&base).unwrap();
    println!(
        "engine benchmark: {entries} entries, {} MB of content, {PACKAGES} packages, in {}",
        content / 1_000_000,
        base.display()
    );

    let t = Instant::now();
    let packages = generate(entries, content);
    let stones_dir = base.join("stones");
    fs::create_dir_all(&stones_dir).unwrap();
    // Our writer's defaults: the stones `boulder` and `moss pack` make.
    let writer = StoneWriter::new(WriteOptions::default());
    let stones: Vec<PathBuf> = packages
        .iter()
        .map(|p| write_stone(&stones_dir, p, &writer))
        .collect();
    println!(
        "setup: generated and packed in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // 1. Fresh installs of every stone, each followed by the first small
    // transaction into that root, alternating with the baseline: the same
    // content decompressed by `zstd -d` and its files created by `tar -x`
    // (one tar of the installed tree, compressed at our writer's level).
    let rounds: usize = std::env::var("MOSS_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let tiny_dir = stones_dir.join("tiny");
    let tiny_stone = |version: u32| {
        let dir = tiny_dir.join(version.to_string());
        fs::create_dir_all(&dir).unwrap();
        write_stone(&dir, &tiny(&packages[0].meta, version), &writer)
    };
    let first_small_stone = tiny_stone(1);
    let tarball = base.join("tree.tar.zst");
    let mut installs = Vec::new();
    let mut install_rsses = Vec::new();
    let mut firsts = Vec::new();
    let mut first_cpus = Vec::new();
    let mut install_cpus = Vec::new();
    let mut extract_cpus = Vec::new();
    let mut extracts = Vec::new();
    let (mut install_inodes, mut extract_inodes) = (Vec::new(), Vec::new());
    // A second baseline: the whole installed root (the live tree, the
    // store in its fan-out directories, the archived copy of the tree and
    // the databases, hard links kept), so the same inodes the install makes.
    let whole_tarball = base.join("root.tar.zst");
    let (mut whole_extracts, mut whole_cpus, mut whole_inodes) =
        (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let root = base.join(format!("root-{round}"));
        fs::create_dir_all(&root).unwrap();
        let mut args: Vec<&std::ffi::OsStr> =
            vec!["-D".as_ref(), root.as_os_str(), "install".as_ref()];
        args.extend(stones.iter().map(|s| s.as_os_str()));
        let cpu_before = children_cpu();
        let inodes_before = inodes_used(&base);
        let (time, rss) = run_moss(&args);
        install_inodes.push(inodes_used(&base).saturating_sub(inodes_before));
        install_cpus.push(children_cpu().saturating_sub(cpu_before));
        installs.push(time);
        install_rsses.push(rss);
        let (first, first_cpu) = time_moss_cpu(&[
            "-D".as_ref(),
            root.as_os_str(),
            "install".as_ref(),
            first_small_stone.as_os_str(),
        ]);
        firsts.push(first);
        first_cpus.push(first_cpu);
        if round == 0 {
            make_tarball(&root, "usr", &tarball);
            make_tarball(&root, "usr .moss", &whole_tarball);
        }
        let cpu_before = children_cpu();
        let inodes_before = inodes_used(&base);
        extracts.push(extract(&tarball, &base.join(format!("extract-{round}"))));
        extract_inodes.push(inodes_used(&base).saturating_sub(inodes_before));
        extract_cpus.push(children_cpu().saturating_sub(cpu_before));
        let cpu_before = children_cpu();
        let inodes_before = inodes_used(&base);
        let target = base.join(format!("extract-whole-{round}"));
        whole_extracts.push(extract(&whole_tarball, &target));
        whole_inodes.push(inodes_used(&base).saturating_sub(inodes_before));
        whole_cpus.push(children_cpu().saturating_sub(cpu_before));
    }
    let root = base.join("root-0");

    // 1b. The same fresh install with the large-window check on (as
    // shipped) and off (`MOSS_DECODER=streaming`: every payload straight
    // into the streaming decoder, as before that support), back to back in
    // pairs whose order alternates, so that the load's drift cancels out of
    // each pair's ratio.
    let decoder_rounds: usize = std::env::var("MOSS_BENCH_DECODER_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(rounds)
        .max(1);
    let (mut checked, mut streamed) = (Vec::new(), Vec::new());
    let (mut checked_cpu, mut streamed_cpu) = (Vec::new(), Vec::new());
    let mut pair_ratios = Vec::new();
    for round in 0..decoder_rounds {
        let mut pair = [Duration::ZERO; 2];
        for which in [round % 2, 1 - round % 2] {
            let dir = base.join(format!("decoder-{which}-root-{round}"));
            fs::create_dir_all(&dir).unwrap();
            let mut args: Vec<&std::ffi::OsStr> =
                vec!["-D".as_ref(), dir.as_os_str(), "install".as_ref()];
            args.extend(stones.iter().map(|s| s.as_os_str()));
            let env: &[(&str, &str)] = if which == 0 {
                &[]
            } else {
                &[(stone::DECODER_ENV, "streaming")]
            };
            let (time, cpu) = time_moss_cpu_with(&args, env);
            pair[which] = time;
            if which == 0 {
                checked.push(time);
                checked_cpu.push(cpu);
            } else {
                streamed.push(time);
                streamed_cpu.push(cpu);
            }
        }
        pair_ratios.push(pair[0].as_secs_f64() / pair[1].as_secs_f64());
    }
    let mut sorted_ratios = pair_ratios.clone();
    sorted_ratios.sort_by(f64::total_cmp);

    // 2. Blits of the same tree.
    let inputs: Vec<PackageLayouts<'_>> = packages
        .iter()
        .map(|p| PackageLayouts::from_stone(&p.meta, &p.layout))
        .collect();
    let tree = Tree::build(&inputs).expect("the generated tree is consistent");
    let n = tree.len() as f64;
    let store = Store::new(root.join(".moss/assets/v2"));
    let variants = ModeVariants::new(root.join(".moss/assets/modes"));
    let scratch = root.join(".moss/bench");
    fs::create_dir_all(&scratch).unwrap();
    let blitter = Blitter::new(store.clone(), variants.clone(), 2);
    let blit = best_of("blit2", 3, &scratch, |t| {
        blitter.blit(&tree, t).expect("blit");
    });
    let blit1 = best_of("blit1", 3, &scratch, |t| {
        Blitter::new(store.clone(), variants.clone(), 1)
            .blit(&tree, t)
            .expect("blit");
    });
    let floor = best_of("floor", 3, &scratch, |t| {
        plain_loop(&tree, &store, &variants, t)
    });
    let cp = best_of("cp", 3, &scratch, |t| {
        let ok = Command::new("cp")
            .arg("-al")
            .arg(root.join("usr"))
            .arg(t)
            .status()
            .unwrap()
            .success();
        assert!(ok, "cp -al failed");
    });

    // 3. Small transactions into the root holding the whole tree: one tiny
    // package, replaced by another version each time. The first has no
    // archived tree to reuse (the fresh install had no previous state), so
    // it blits in full; the next ones patch the previous state's tree.
    let mut small = Vec::new();
    for version in 2..=6 {
        let stone = tiny_stone(version);
        small.push(time_moss(&[
            "-D".as_ref(),
            root.as_os_str(),
            "install".as_ref(),
            stone.as_os_str(),
        ]));
    }
    let mut warm = small.clone();
    warm.sort();
    let small_warm = warm[warm.len() / 2];

    let rate = |d: Duration| n / d.as_secs_f64();
    println!();
    println!("load: {}", load());
    println!("tree: {} entries", tree.len());
    println!(
        "blit, 2 threads     : {:>8.3} s  {:>9.0} entries/s",
        blit.as_secs_f64(),
        rate(blit)
    );
    println!(
        "blit, 1 thread      : {:>8.3} s  {:>9.0} entries/s",
        blit1.as_secs_f64(),
        rate(blit1)
    );
    println!(
        "plain syscall loop  : {:>8.3} s  {:>9.0} entries/s (floor)",
        floor.as_secs_f64(),
        rate(floor)
    );
    println!(
        "cp -al              : {:>8.3} s  {:>9.0} entries/s",
        cp.as_secs_f64(),
        rate(cp)
    );
    println!(
        "  blit / floor time : {:.2} (goal <= 1.00)",
        blit.as_secs_f64() / floor.as_secs_f64()
    );
    println!(
        "  cp -al / blit time: {:.2}x faster (goal >= 2x)",
        cp.as_secs_f64() / blit.as_secs_f64()
    );
    println!(
        "small transaction   : {:>8.3} s median of {} (goal <= 0.5 s; original ~2 s): {}",
        small_warm.as_secs_f64(),
        warm.len(),
        small
            .iter()
            .map(|d| format!("{:.3}", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let first = median(&firsts);
    println!(
        "  first one after a fresh install: {:.3} s median of {rounds} ({}) (goal <= 0.3 s); ratio to a full blit {:.2}",
        first.as_secs_f64(),
        list(&firsts),
        first.as_secs_f64() / blit.as_secs_f64()
    );
    println!(
        "    its CPU time (user + system): {:.3} s median ({})",
        median(&first_cpus).as_secs_f64(),
        list(&first_cpus)
    );
    let install = median(&installs);
    let extract_time = median(&extracts);
    let install_rss = *install_rsses.iter().max().unwrap();
    println!(
        "fresh install       : {:>8.3} s median of {rounds} ({}), peak RSS {:.1} MiB at most",
        install.as_secs_f64(),
        list(&installs),
        install_rss as f64 / 1024.0
    );
    println!(
        "extract baseline    : {:>8.3} s median of {rounds} ({}): zstd -d | tar -x of the same tree",
        extract_time.as_secs_f64(),
        list(&extracts)
    );
    println!(
        "  CPU time (user + system), medians: install {:.2} s ({}), extract {:.2} s ({}); ratio {:.2}",
        median(&install_cpus).as_secs_f64(),
        list(&install_cpus),
        median(&extract_cpus).as_secs_f64(),
        list(&extract_cpus),
        median(&install_cpus).as_secs_f64() / median(&extract_cpus).as_secs_f64()
    );
    println!(
        "  inodes made (medians, from the file system's count): install {}, extract {}; ratio {:.2}",
        median_of(&install_inodes),
        median_of(&extract_inodes),
        median_of(&install_inodes) as f64 / median_of(&extract_inodes).max(1) as f64
    );
    println!(
        "  install / extract time: {:.2} (goal <= 1.30); peak RSS / 64 MiB goal: {:.2}",
        install.as_secs_f64() / extract_time.as_secs_f64(),
        install_rss as f64 / 1024.0 / 64.0
    );
    let whole = median(&whole_extracts);
    println!(
        "extract of the same inodes: {:>8.3} s median of {rounds} ({}): zstd -d | tar -x of the whole installed root (store, tree, archived copy, databases)",
        whole.as_secs_f64(),
        list(&whole_extracts)
    );
    println!(
        "  install / it: time {:.2}, CPU {:.2} ({:.2} s, {}); inodes made {} ({:.2} of the install's)",
        install.as_secs_f64() / whole.as_secs_f64(),
        median(&install_cpus).as_secs_f64() / median(&whole_cpus).as_secs_f64(),
        median(&whole_cpus).as_secs_f64(),
        list(&whole_cpus),
        median_of(&whole_inodes),
        median_of(&whole_inodes) as f64 / median_of(&install_inodes).max(1) as f64
    );

    println!(
        "our default stones, fresh install with the large-window check: {:>8.3} s median of {decoder_rounds} ({}), CPU {:.2} s ({})",
        median(&checked).as_secs_f64(),
        list(&checked),
        median(&checked_cpu).as_secs_f64(),
        list(&checked_cpu)
    );
    println!(
        "  the same, streaming decoder only ({}=streaming): {:>8.3} s median of {decoder_rounds} ({}), CPU {:.2} s ({})",
        stone::DECODER_ENV,
        median(&streamed).as_secs_f64(),
        list(&streamed),
        median(&streamed_cpu).as_secs_f64(),
        list(&streamed_cpu)
    );
    println!(
        "  with / without the check: time {:.2} (median of the pairs' ratios, with the check first in pairs 1, 3, ...: {}), CPU time {:.2} (goal: unchanged, 1.00 within noise)",
        sorted_ratios[sorted_ratios.len() / 2],
        pair_ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(" "),
        median(&checked_cpu).as_secs_f64() / median(&streamed_cpu).as_secs_f64()
    );

    // 4. Stones as the original's writer makes them (zstd 18, window log
    // 31): one large package, whose window the decoder would otherwise
    // hold in anonymous memory.
    let large_mb: u64 = std::env::var("MOSS_BENCH_LARGE_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(((256.0 * scale) as u64).max(48));
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut big = Vec::with_capacity((large_mb << 20) as usize);
    let mut n = 0;
    while (big.len() as u64) < large_mb << 20 {
        big.extend_from_slice(&filler(&mut rng, 1 << 20, &format!("chunk {n}\n")));
        n += 1;
    }
    let digest = moss_core::store::digest_of(&big);
    let large = Package {
        meta: Meta {
            name: "large-window".into(),
            version: "1".into(),
            source_release: 1,
            build_release: 1,
            architecture: "x86_64".into(),
            ..Default::default()
        },
        layout: vec![LayoutEntry {
            uid: 0,
            gid: 0,
            mode: 0o100644,
            tag: 0,
            kind: LayoutKind::Regular { digest },
            path: "share/large/blob".into(),
        }],
        contents: vec![big],
    };
    let t = Instant::now();
    let original_writer = StoneWriter::new(WriteOptions {
        level: 18,
        threads: 2,
    })
    .window_log(31);
    let large_stone = write_stone(&stones_dir, &large, &original_writer);
    println!(
        "large-window stone: {large_mb} MiB at zstd 18, window log 31, packed in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    // The same content written with our writer's defaults, installed
    // alternately with it: the window-backed decoder must cost our own
    // stones nothing (they keep the streaming decoder).
    let default_dir = stones_dir.join("large-default");
    fs::create_dir_all(&default_dir).unwrap();
    let default_stone = write_stone(&default_dir, &large, &writer);
    let (mut large_times, mut large_rsses) = (Vec::new(), Vec::new());
    let (mut default_times, mut default_rsses) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        for (stone, times, rsses, label) in [
            (&large_stone, &mut large_times, &mut large_rsses, "large"),
            (
                &default_stone,
                &mut default_times,
                &mut default_rsses,
                "default",
            ),
        ] {
            let root = base.join(format!("{label}-root-{round}"));
            fs::create_dir_all(&root).unwrap();
            let (time, rss) = run_moss(&[
                "-D".as_ref(),
                root.as_os_str(),
                "install".as_ref(),
                stone.as_os_str(),
            ]);
            times.push(time);
            rsses.push(rss);
        }
    }
    let large_rss = *large_rsses.iter().max().unwrap();
    let default_rss = *default_rsses.iter().max().unwrap();
    println!(
        "fresh install, zstd 18 / window log 31 stone: {:>8.3} s median of {rounds} ({}), peak RSS {:.1} MiB at most (goal <= 150 MiB; the streaming decoder: about the content size)",
        median(&large_times).as_secs_f64(),
        list(&large_times),
        large_rss as f64 / 1024.0
    );
    println!(
        "  RSS / 150 MiB goal: {:.2}",
        large_rss as f64 / 1024.0 / 150.0
    );
    println!(
        "fresh install, same content, our default stone: {:>8.3} s median of {rounds} ({}), peak RSS {:.1} MiB",
        median(&default_times).as_secs_f64(),
        list(&default_times),
        default_rss as f64 / 1024.0
    );
    println!(
        "  window-31 / default install time: {:.2}",
        median(&large_times).as_secs_f64() / median(&default_times).as_secs_f64()
    );
    println!("load: {}", load());

    let _ = stone::EMPTY_DIGEST;
    if std::env::var_os("MOSS_BENCH_KEEP").is_some() {
        println!("kept {}", base.display());
    } else {
        moss_core::state::remove_tree(&base).unwrap();
    }
}
