//! Archive sources are keyed by URL and hash: a recipe whose URL changed
//! fetches again even when its hash is cached, and a hash left over from the
//! previous URL is named as stale. Real HTTP on loopback; the local source
//! directories stay matched by hash alone.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use boulder::upstream::{SourceDirs, Upstream, UpstreamCache, UpstreamError};
use test_support::http::Server;

use e2e::sha256_hex as sha256;

/// A small real tar.gz holding `<dir>/README` with `text`.
fn serve(files: &[(&str, &[u8])]) -> Server {
    let files: HashMap<String, Vec<u8>> = files
        .iter()
        .map(|(name, bytes)| (name.to_string(), bytes.to_vec()))
        .collect();
    Server::start(files).expect("loopback server")
}

#[test]
fn a_changed_url_fetches_again_and_a_stale_hash_names_the_previous_url() {
    let old = e2e::tar_gz("hello-1.0", &[("README", "one\n")]);
    let new = e2e::tar_gz("hello-1.1", &[("README", "two\n")]);
    let server = serve(&[("hello-1.0.tar.gz", &old), ("hello-1.1.tar.gz", &new)]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache = UpstreamCache::new(tmp.path());
    let old_url = server.url("hello-1.0.tar.gz");
    let new_url = server.url("hello-1.1.tar.gz");

    cache
        .fetch(&Upstream::archive(&old_url, sha256(&old)))
        .expect("first fetch");
    assert_eq!(server.requests(), 1);
    // Same URL and hash: the cache answers.
    let again = cache
        .fetch(&Upstream::archive(&old_url, sha256(&old)))
        .expect("cached");
    assert!(again.from_cache());
    assert_eq!(server.requests(), 1);

    // The version bump changed the URL but kept the old hash.
    let error = cache
        .fetch(&Upstream::archive(&new_url, sha256(&old)))
        .expect_err("the stale hash must not build the old file");
    assert_eq!(server.requests(), 2, "the new URL was not fetched");
    match &error {
        UpstreamError::StaleHash {
            url,
            expected,
            actual,
            previous_url,
            ..
        } => {
            assert_eq!(url, &new_url);
            assert_eq!(expected, &sha256(&old));
            assert_eq!(actual, &sha256(&new));
            assert_eq!(previous_url, &old_url);
        }
        other => panic!("expected a stale hash, got {other}"),
    }
    let text = error.to_string();
    assert!(
        text.contains(&format!(
            "the sha256 in the recipe belongs to the file previously fetched from {old_url}"
        )),
        "{text}"
    );

    // A URL that does not exist fails, though its hash is cached.
    let missing = server.url("hello-9.9.tar.gz");
    let error = cache
        .fetch(&Upstream::archive(&missing, sha256(&old)))
        .expect_err("a missing URL never fetches");
    assert!(
        matches!(&error, UpstreamError::HttpStatus { status: 404, .. }),
        "{error}"
    );

    // A mirror serving the very same file is fetched once, then known.
    let mirror = serve(&[("mirror.tar.gz", &old)]);
    let mirror_url = mirror.url("mirror.tar.gz");
    let fetched = cache
        .fetch(&Upstream::archive(&mirror_url, sha256(&old)))
        .expect("same file from a mirror");
    assert!(!fetched.from_cache());
    let fetched = cache
        .fetch(&Upstream::archive(&mirror_url, sha256(&old)))
        .expect("mirror again");
    assert!(fetched.from_cache());
    assert_eq!(mirror.requests(), 1);
}

#[test]
fn the_local_source_directory_stays_matched_by_hash_alone() {
    let old = e2e::tar_gz("hello-1.0", &[("README", "one\n")]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let sources = tmp.path().join("sources");
    fs::create_dir_all(&sources).expect("mkdir");
    fs::write(sources.join("whatever.tar.gz"), &old).expect("write");
    let cache =
        UpstreamCache::new(tmp.path().join("cache")).with_sources(SourceDirs::new(vec![sources]));
    // No server listens here: the file comes from the directory.
    for url in ["http://127.0.0.1:9/a.tar.gz", "http://127.0.0.1:9/b.tar.gz"] {
        let fetched = cache
            .fetch(&Upstream::archive(url, sha256(&old)))
            .expect("found by hash");
        assert_eq!(fs::read(fetched.path()).expect("read"), old);
    }
}

fn write_recipe(dir: &Path, url: &str, hash: &str) -> std::path::PathBuf {
    let recipe = dir.join("stone.yaml");
    let text = format!(
        "name        : hello\n\
         version     : 1.1\n\
         release     : 2\n\
         summary     : A greeting\n\
         license     : MIT\n\
         homepage    : https://example.invalid/hello\n\
         description : |\n    A greeting.\n\
         upstreams   :\n    - {url} : {hash}\n\
         build       : |\n    true\n"
    );
    fs::write(&recipe, text).expect("write recipe");
    recipe
}

fn build(cache: &Path, recipe: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_boulder"))
        .args(["build", "--cache-dir"])
        .arg(cache)
        .arg(recipe)
        .env("COLUMNS", "60")
        .env("BOULDER_SOURCES", "")
        .env("XDG_CONFIG_HOME", cache.join("config"))
        .output()
        .expect("boulder runs")
}

#[test]
fn a_stale_hash_build_fails_naming_the_recipe_line_and_the_previous_url() {
    let old = e2e::tar_gz("hello-1.0", &[("README", "one\n")]);
    let new = e2e::tar_gz("hello-1.1", &[("README", "two\n")]);
    let server = serve(&[("hello-1.0.tar.gz", &old), ("hello-1.1.tar.gz", &new)]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache_dir = tmp.path().join("cache");
    let old_url = server.url("hello-1.0.tar.gz");
    // What an earlier build of version 1.0 left in the cache.
    UpstreamCache::new(&cache_dir)
        .fetch(&Upstream::archive(&old_url, sha256(&old)))
        .expect("earlier fetch");

    let recipe = write_recipe(tmp.path(), &server.url("hello-1.1.tar.gz"), &sha256(&old));
    let output = build(&cache_dir, &recipe);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the sha256 in stone.yaml:10 belongs to the file previously fetched from {old_url}"
        )),
        "{stderr}"
    );
    // Both hashes whole on one line each, however narrow the terminal.
    for hash in [sha256(&old), sha256(&new)] {
        assert!(
            stderr.lines().any(|line| line.contains(&hash)),
            "{hash} is wrapped:\n{stderr}"
        );
    }

    // A URL that does not exist fails too, though the hash is cached.
    let recipe = write_recipe(tmp.path(), &server.url("nowhere.tar.gz"), &sha256(&old));
    let output = build(&cache_dir, &recipe);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("HTTP 404"), "{stderr}");
}
