//! Repository install benchmark (issue 5, acceptance 5). Run with
//!
//! ```text
//! cargo bench -p moss-core --bench repo
//! MOSS_BENCH_SCALE=0.1 cargo bench -p moss-core --bench repo   # quick run
//! ```
//!
//! Generates a repository of 300 packages holding 60,000 files (scaled by
//! `MOSS_BENCH_SCALE`), linked by soname dependencies and gathered by one
//! `world` package, indexes it with `moss index`, serves it from a real HTTP
//! server on loopback, and installs `world` into an empty root with
//! `moss install`. Prints wall time, the child's peak RSS, and the
//! fetch/unpack/blit breakdown moss reports; as the baseline measured in the
//! same run, the same stones installed from local files (`moss install
//! ./*.stone`, no resolution, no HTTP). `MOSS_BENCH_DIR` chooses where the
//! scratch data goes (deleted at the end).

// Benchmark code: a failed unwrap or expect is the run failing (the workspace
// denies them in code that runs on a user's input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/repo_support/mod.rs"]
mod repo_support;

use std::ffi::OsStr;
use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use moss_core::stone::{
    Content, Dependency, DependencyKind, LayoutEntry, LayoutKind, Meta, Provider, StoneWriter,
    WriteOptions,
};

/// Deterministic xorshift64*, so every run builds the same repository.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn filler(rng: &mut Rng, size: usize, tag: &str) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "moss", "stone", "usr", "lib", "share", "int", "void", "return",
    ];
    let mut out = tag.as_bytes().to_vec();
    while out.len() < size {
        let r = rng.next();
        out.extend_from_slice(WORDS[(r % WORDS.len() as u64) as usize].as_bytes());
        out.push(if r & 0x100 == 0 { b' ' } else { b'\n' });
    }
    out
}

fn base_meta(name: &str) -> Meta {
    Meta {
        name: name.into(),
        version: "1.0".into(),
        source_release: 1,
        build_release: 1,
        architecture: "x86_64".into(),
        summary: format!("{name} (benchmark)"),
        description: "generated".into(),
        source_id: name.into(),
        homepage: "https://example.invalid".into(),
        licenses: vec!["MPL-2.0".into()],
        ..Default::default()
    }
}

fn soname(i: usize) -> String {
    format!("libpkg{i}.so.1(x86_64)")
}

/// Writes package `i` with `files` regular files (plus its directories).
fn write_package(dir: &Path, i: usize, files: usize, writer: &StoneWriter) -> PathBuf {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1));
    let name = format!("pkg{i}");
    let mut meta = base_meta(&name);
    meta.provides = vec![Provider::new(DependencyKind::SharedLibrary, soname(i))];
    if i > 0 {
        meta.depends = vec![Dependency::new(
            DependencyKind::SharedLibrary,
            soname(i / 2),
        )];
    }
    let mut layout = Vec::new();
    let mut contents = Vec::new();
    let dirs = (files / 25).max(1);
    for d in 0..dirs {
        layout.push(LayoutEntry {
            uid: 0,
            gid: 0,
            mode: 0o040755,
            tag: 0,
            kind: LayoutKind::Directory,
            path: format!("share/{name}/d{d}"),
        });
    }
    for f in 0..files {
        let size = 200 + (rng.next() % 2800) as usize;
        let body = filler(&mut rng, size, &format!("{name}/{f}\n"));
        let content = Content::from_bytes(body);
        layout.push(LayoutEntry {
            uid: 0,
            gid: 0,
            mode: 0o100644,
            tag: 0,
            kind: LayoutKind::Regular {
                digest: content.digest,
            },
            path: format!("share/{name}/d{}/f{f}", f % dirs),
        });
        contents.push(content);
    }
    let out = writer
        .write_binary(Cursor::new(Vec::new()), &meta, &layout, contents)
        .expect("writing a stone");
    let path = dir.join(meta.file_name());
    fs::write(&path, out.into_inner()).expect("saving a stone");
    path
}

fn write_world(dir: &Path, packages: usize, writer: &StoneWriter) -> PathBuf {
    let mut meta = base_meta("world");
    meta.depends = (0..packages)
        .map(|i| Dependency::new(DependencyKind::PackageName, format!("pkg{i}")))
        .collect();
    let out = writer
        .write_binary(Cursor::new(Vec::new()), &meta, &[], Vec::new())
        .expect("writing world");
    let path = dir.join(meta.file_name());
    fs::write(&path, out.into_inner()).unwrap();
    path
}

/// Runs moss; returns wall time, peak RSS (KiB) and stdout.
// The child is reaped by `wait4` (which also gives its rusage), not `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run_moss(args: &[&OsStr]) -> (Duration, i64, String) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_moss"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawning moss");
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        use std::io::Read;
        out.read_to_string(&mut stdout)
            .expect("reading moss output");
    }
    let mut status = 0;
    // SAFETY: wait4 on our own child; rusage is plain data.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    assert!(
        rc == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "moss {args:?} failed:\n{stdout}"
    );
    (elapsed, usage.ru_maxrss, stdout)
}

/// The seconds printed right after `marker` … ` in ` in the summary line.
fn seconds_after(summary: &str, marker: &str) -> f64 {
    let rest = &summary[summary.find(marker).expect(marker)..];
    let secs = &rest[rest.find(" in ").expect("timing") + 4..];
    secs[..secs.find('s').expect("unit")]
        .parse()
        .expect("seconds")
}

fn main() {
    let scale: f64 = std::env::var("MOSS_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let packages = ((300.0 * scale) as usize).max(4);
    let files_per = 200;
    let base = std::env::var_os("MOSS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("moss-repo-bench-{}", std::process::id()));
    let site = base.join("site");
    let pool = site.join("pool");
    fs::create_dir_all(&pool).unwrap();
    println!(
        "repository benchmark: {packages} packages, {} files, in {}",
        packages * files_per,
        base.display()
    );

    let t = Instant::now();
    let writer = StoneWriter::new(WriteOptions {
        level: 1,
        threads: 1,
    });
    let mut stones: Vec<PathBuf> = (0..packages)
        .map(|i| write_package(&pool, i, files_per, &writer))
        .collect();
    stones.push(write_world(&pool, packages, &writer));
    let index = moss_core::repo::write_index_to(&pool, &site.join("x86_64")).expect("indexing");
    let bytes: u64 = index.entries.iter().map(|e| e.size).sum();
    println!(
        "setup: generated, packed and indexed {} stones ({:.1} MiB) in {:.1} s",
        index.entries.len(),
        bytes as f64 / 1048576.0,
        t.elapsed().as_secs_f64()
    );

    let server = repo_support::HttpServer::serve(&site);

    // Baseline: the same stones from local files, no resolution, no HTTP.
    let local_root = base.join("local-root");
    fs::create_dir_all(&local_root).unwrap();
    let mut args: Vec<&OsStr> = vec!["-D".as_ref(), local_root.as_os_str(), "install".as_ref()];
    args.extend(stones.iter().map(|s| s.as_os_str()));
    let (local_wall, local_rss, _) = run_moss(&args);

    // The measured run: resolve `world` and install it over loopback HTTP.
    let root = base.join("root");
    fs::create_dir_all(&root).unwrap();
    let url = server.url("x86_64/");
    let (add_wall, _, _) = run_moss(&[
        "-D".as_ref(),
        root.as_os_str(),
        "repo".as_ref(),
        "add".as_ref(),
        "bench".as_ref(),
        url.as_ref(),
    ]);
    let (wall, rss, out) = run_moss(&[
        "-D".as_ref(),
        root.as_os_str(),
        "install".as_ref(),
        "world".as_ref(),
    ]);
    let summary = out
        .lines()
        .find(|l| l.starts_with("state "))
        .expect("moss printed its summary")
        .to_string();
    let fetch = seconds_after(&summary, "fetched ");
    let unpack = seconds_after(&summary, "unpacked ");
    let blit = seconds_after(&summary, "blit ");
    let installed = out.lines().filter(|l| l.starts_with("install ")).count();
    assert_eq!(installed, packages + 1, "every package is installed");

    println!();
    println!("moss: {summary}");
    println!(
        "repo add (index fetch)   : {:>8.3} s",
        add_wall.as_secs_f64()
    );
    println!(
        "install world over HTTP  : {:>8.3} s wall, peak RSS {:.1} MiB",
        wall.as_secs_f64(),
        rss as f64 / 1024.0
    );
    println!("  fetch (parallel, wall) : {fetch:>8.3} s");
    println!("  unpack (overlapping)   : {unpack:>8.3} s");
    println!("  blit + swap            : {blit:>8.3} s");
    println!(
        "  other (open, resolve)  : {:>8.3} s",
        (wall.as_secs_f64() - fetch - blit).max(0.0)
    );
    println!(
        "baseline: local stones   : {:>8.3} s wall, peak RSS {:.1} MiB",
        local_wall.as_secs_f64(),
        local_rss as f64 / 1024.0
    );
    println!(
        "  HTTP install / local   : {:.2} (time), {:.2} (RSS)",
        wall.as_secs_f64() / local_wall.as_secs_f64(),
        rss as f64 / local_rss as f64
    );
    println!(
        "  unpack / fetch wall    : {:.2} (unpacking runs on the calling thread while downloads continue)",
        unpack / fetch.max(1e-9)
    );
    drop(server);
    moss_core::state::remove_tree(&base).unwrap();
}
