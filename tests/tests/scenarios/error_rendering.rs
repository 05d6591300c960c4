//! Real failures of the binaries print their message once and each cause of
//! it once (miette prints the source chain under the message; a message that
//! also embedded its cause showed it twice). The check over every error
//! type's message is `every_error_prints_its_cause_once` in codebase.rs.

use std::fs;
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;

/// `text` with miette's frame, line wrapping and all other white space taken
/// out: miette wraps a long path anywhere, also between two of its characters.
fn squeezed(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '│' | '×' | '╰' | '├' | '─' | '▶'))
        .collect()
}

/// stderr, squeezed.
fn flat_stderr(out: &Output) -> String {
    squeezed(&String::from_utf8_lossy(&out.stderr))
}

/// The command failed, and `stderr` shows `message` and then `cause`, each once.
fn shows_once(out: &Output, message: &str, cause: &str) {
    let text = flat_stderr(out);
    let (message, cause) = (&squeezed(message), &squeezed(cause));
    assert!(!out.status.success(), "the command succeeded: {text}");
    assert_eq!(
        text.matches(message).count(),
        1,
        "message {message:?} in: {text}"
    );
    assert_eq!(text.matches(cause).count(), 1, "cause {cause:?} in: {text}");
    let message_at = text.find(message).unwrap_or_default();
    assert!(
        text[message_at..].contains(cause),
        "the cause {cause:?} does not follow the message {message:?}: {text}"
    );
}

#[test]
fn moss_shows_a_failed_root_creation_and_its_cause_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    fs::create_dir(&root).expect("mkdir");
    // The installation's private directory is a file: it cannot be created.
    fs::write(root.join(".moss"), b"").expect("write");
    let out = e2e::command("moss")
        .arg("-D")
        .arg(&root)
        .args(["list", "installed"])
        .output()
        .expect("run moss");
    let message = format!("cannot create {}", root.join(".moss").display());
    shows_once(&out, &message, "File exists (os error 17)");
}

#[test]
fn moss_shows_a_truncated_stone_and_its_cause_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    fs::create_dir(&root).expect("mkdir");
    let stone = dir.path().join("cut.stone");
    // The stone magic and then nothing: the 32-byte header ends early.
    fs::write(&stone, b"\0mos\0\0\0\0").expect("write");
    let out = e2e::command("moss")
        .arg("-D")
        .arg(&root)
        .arg("install")
        .arg(&stone)
        .output()
        .expect("run moss");
    let message = format!("cannot read the stone {}", stone.display());
    shows_once(
        &out,
        &message,
        "truncated archive: the file header ends early",
    );
}

/// `boulder build` of `recipe` with its cache in `cache`.
fn boulder_build(recipe: &Path, cache: &Path, output: &Path) -> Output {
    e2e::command("boulder")
        .arg("build")
        .arg("--cache-dir")
        .arg(cache)
        .arg("-o")
        .arg(output)
        .arg(recipe)
        .env("XDG_CACHE_HOME", cache)
        .output()
        .expect("run boulder")
}

#[test]
fn boulder_shows_a_cache_it_cannot_create_and_its_cause_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a-file");
    fs::write(&file, b"").expect("write");
    let cache = file.join("cache");
    let recipe = e2e::workspace_root().join("recipes-example/hello");
    let out = boulder_build(&recipe, &cache, dir.path());
    let message = format!("creating {} failed", cache.display());
    shows_once(&out, &message, "Not a directory (os error 20)");
}

#[test]
fn boulder_shows_a_failed_fetch_and_its_cause_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A loopback port that was just free: connecting to it is refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a loopback port")
        .port();
    let url = format!("http://127.0.0.1:{port}/gone-1.0.0.tar.gz");
    let recipe = dir.path().join("gone");
    fs::create_dir(&recipe).expect("mkdir");
    fs::write(
        recipe.join("stone.yaml"),
        format!(
            "name        : gone\nversion     : 1.0.0\nrelease     : 1\n\
             summary     : An upstream nobody serves\nlicense     : MPL-2.0\n\
             homepage    : https://example.invalid/gone\n\
             description : |\n    Its only upstream is a closed loopback port.\n\
             upstreams   :\n    - {url} : {}\nbuild       : |\n    true\n",
            "0".repeat(64)
        ),
    )
    .expect("write the recipe");
    let out = boulder_build(&recipe, &dir.path().join("cache"), dir.path());
    shows_once(
        &out,
        "fetching the upstreams failed; nothing was built",
        &format!("upstream {url}: download failed"),
    );
    assert_eq!(
        flat_stderr(&out).matches("Connectionrefused").count(),
        1,
        "{}",
        flat_stderr(&out)
    );
}
