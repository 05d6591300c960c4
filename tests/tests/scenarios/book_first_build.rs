//! The book's "Your first build" chapter, run as written: every `sh` block
//! of `book/src/first-build.md` in order, in one bash with `set -e`, with
//! the chapter's `/tmp/first-build` moved into a temporary directory, the
//! workspace's binaries first on PATH (the chapter's own first block builds
//! them; here `cargo build --workspace --bins` already did) and the cache
//! under the target directory. A promise of the chapter that stops holding
//! fails this test.

use std::path::Path;
use std::process::Command;

/// The fenced blocks of `kind` (`sh`, `text`) of a Markdown text, in order.
fn blocks_of(markdown: &str, kind: &str) -> Vec<String> {
    let fence = format!("```{kind}");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match current.as_mut() {
            None if line.trim_start() == fence => current = Some(String::new()),
            None => {}
            Some(block) if line.trim_start() == "```" => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    blocks
}

#[test]
fn the_first_build_chapter_runs_as_written() {
    if !test_support::have_dpkg("book_first_build") {
        return;
    }
    let chapter = e2e::workspace_root().join("book/src/first-build.md");
    let text = std::fs::read_to_string(&chapter).expect("first-build.md");
    let blocks = blocks_of(&text, "sh");
    assert!(blocks.len() >= 6, "the chapter's commands: {blocks:?}");
    assert!(
        blocks[0].contains("cargo build --release --bins"),
        "the first block builds boulder: {}",
        blocks[0]
    );
    let work = tempfile::tempdir().expect("tempdir");
    let place = work.path().join("first-build");
    let place = place.to_str().expect("utf-8 path");
    let mut script = String::from("set -euo pipefail\n");
    for block in &blocks[1..] {
        script.push_str(&block.replace("/tmp/first-build", place));
    }
    let bin_dir = e2e::binary("boulder")
        .parent()
        .expect("binary dir")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("first-build-xdg-cache");
    let run = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(e2e::workspace_root())
        .env("PATH", path)
        .env("XDG_CACHE_HOME", &cache)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("bash");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "the chapter's commands failed:\n{script}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // The sample output of the build: each line (`…` leaves out a part, a
    // file's size may differ) is a line of the real output.
    let sample = blocks_of(&text, "text")
        .into_iter()
        .find(|b| b.contains("» Phase build"))
        .expect("the chapter shows a build's output");
    for line in sample.lines().filter(|l| l.trim() != "…") {
        let line = line.replace("/tmp/first-build", place);
        let line = match line.strip_prefix("wrote ") {
            Some(rest) => format!("wrote {}", rest.split(" (").next().unwrap_or(rest)),
            None => line,
        };
        let parts: Vec<&str> = line.split('…').map(str::trim).collect();
        let shown = stdout.lines().any(|out| {
            let mut rest = out;
            parts.iter().all(|part| match rest.find(part) {
                Some(at) => {
                    rest = &rest[at + part.len()..];
                    true
                }
                None => false,
            })
        });
        assert!(
            shown,
            "the chapter shows `{line}`, the build does not:\n{stdout}"
        );
    }
    for promise in [
        "» Phase build (x86_64, recipe line 13)",
        "install │ + install -Dm00755 -t /mason/install/usr/bin wave",
        "wave-1.0-1-1-x86_64.stone",
        "verified: metadata",
        "identical",
        "the build failed, as expected",
        "soname(libc.so.6(x86_64))",
        "binary(wave)",
    ] {
        assert!(
            stdout.contains(promise) || stderr.contains(promise),
            "the chapter promises `{promise}`:\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
    }
}
