//! Issue 5 acceptance 1, 2 and 4 (second half): repositories served by a
//! real HTTP server on loopback, beside a local one; install by provider,
//! refused downloads, an unreachable server, sync, and the original tools'
//! fixtures served and installed.

use crate::engine_support;
use crate::repo_support;

use std::fs;
use std::path::{Path, PathBuf};

use engine_support::*;
use moss_core::stone::{Dependency, Meta, Provider};
use repo_support::HttpServer;

const SONAME: &str = "soname(libfoo.so.1(x86_64))";

fn package(name: &str, release: u64, provides: &[&str], depends: &[&str]) -> Meta {
    let mut m = meta(name);
    m.source_release = release;
    m.provides = provides
        .iter()
        .map(|p| p.parse::<Provider>().unwrap())
        .collect();
    m.depends = depends
        .iter()
        .map(|d| d.parse::<Dependency>().unwrap())
        .collect();
    m
}

fn new_root(tmp: &Path) -> PathBuf {
    let root = tmp.join("root");
    fs::create_dir_all(&root).unwrap();
    root
}

/// The web repository: stones in `site/pool`, index in `site/x86_64`, so
/// every PackageURI starts with `../` and the client must join it.
fn web_repo(tmp: &Path) -> PathBuf {
    let site = tmp.join("site");
    let pool = site.join("pool");
    fs::create_dir_all(&pool).unwrap();
    write_stone(
        &pool,
        &package("libfoo", 2, &[SONAME], &["name(foo-data)"]),
        &[Item::File(
            "lib/libfoo.so.1",
            b"libfoo from the web, release 2",
            0o755,
        )],
    );
    write_stone(
        &pool,
        &package("foo-data", 1, &[], &[]),
        &[Item::File("share/foo/data", b"data", 0o644)],
    );
    write_stone(
        &pool,
        &package("other", 1, &["binary(other)"], &[]),
        &[Item::File("bin/other", b"#!/bin/sh\n", 0o755)],
    );
    let out = moss_ok(
        tmp,
        &[
            "index",
            pool.to_str().unwrap(),
            "-o",
            site.join("x86_64").to_str().unwrap(),
        ],
    );
    assert!(out.contains("with 3 packages"), "{out}");
    site
}

/// The local repository: a newer release of libfoo (at a lower priority)
/// and an application that needs the soname.
fn local_repo(tmp: &Path) -> PathBuf {
    let dir = tmp.join("local");
    fs::create_dir_all(&dir).unwrap();
    write_stone(
        &dir,
        &package("libfoo", 5, &[SONAME], &[]),
        &[Item::File(
            "lib/libfoo.so.1",
            b"libfoo from the local repository",
            0o755,
        )],
    );
    write_stone(
        &dir,
        &package("app", 1, &["binary(app)"], &[SONAME]),
        &[Item::File("bin/app", b"#!/bin/sh\necho app\n", 0o755)],
    );
    moss_ok(tmp, &["index", dir.to_str().unwrap()]);
    dir
}

fn installed(root: &Path) -> String {
    moss_ok(root, &["list", "installed"])
}

fn downloads(root: &Path) -> Vec<String> {
    let dir = root.join(".moss/cache/downloads");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn install_by_provider_takes_the_right_repository_and_dependencies() {
    let tmp = tempfile::tempdir().unwrap();
    let site = web_repo(tmp.path());
    let local = local_repo(tmp.path());
    let server = HttpServer::serve(&site);
    let root = new_root(tmp.path());

    let out = moss_ok(
        &root,
        &[
            "repo",
            "add",
            "web",
            &server.url("x86_64/"),
            "--priority",
            "10",
        ],
    );
    assert!(out.contains("3 packages"), "{out}");
    moss_ok(
        &root,
        &["repo", "add", "local", local.to_str().unwrap(), "-p", "1"],
    );
    let list = moss_ok(&root, &["repo", "list"]);
    let lines: Vec<&str> = list.lines().collect();
    assert!(lines[0].starts_with("web http://127.0.0.1:"), "{list}");
    assert!(lines[1].starts_with("local file://"), "{list}");

    let out = moss_ok(&root, &["install", SONAME]);
    assert!(
        out.contains("install libfoo 1.0-2 (repository web)"),
        "{out}"
    );
    assert!(
        out.contains("install foo-data 1.0-1 (repository web)"),
        "{out}"
    );
    assert!(out.contains("fetched 2 packages (2 downloaded"), "{out}");
    assert_eq!(
        fs::read(root.join("usr/lib/libfoo.so.1")).unwrap(),
        b"libfoo from the web, release 2"
    );
    assert_eq!(fs::read(root.join("usr/share/foo/data")).unwrap(), b"data");
    let list = installed(&root);
    assert!(
        list.contains("libfoo 1.0-2") && list.contains("foo-data 1.0-1"),
        "{list}"
    );
    assert!(!list.contains("other"), "{list}");

    // The server saw the index and both stones, joined through `../pool/`.
    let requests = server.requests();
    assert!(
        requests.contains(&"/x86_64/stone.index".to_string()),
        "{requests:?}"
    );
    assert!(
        requests.contains(&"/pool/libfoo-1.0-2-1-x86_64.stone".to_string()),
        "{requests:?}"
    );
    assert!(
        requests.contains(&"/pool/foo-data-1.0-1-1-x86_64.stone".to_string()),
        "{requests:?}"
    );
    let cached = downloads(&root);
    assert_eq!(cached.len(), 2, "{cached:?}");
    assert!(cached.iter().all(|n| n.ends_with(".stone")), "{cached:?}");

    // Only explicit requests are explicit.
    let explicit = moss_ok(&root, &["list", "installed", "--explicit"]);
    assert!(
        explicit.contains("libfoo") && !explicit.contains("foo-data"),
        "{explicit}"
    );

    // The local application's soname dependency is met by what is installed.
    let out = moss_ok(&root, &["install", "binary(app)"]);
    assert!(
        out.contains("install app 1.0-1 (repository local)"),
        "{out}"
    );
    assert!(!out.contains("install libfoo"), "{out}");
    assert!(out.contains("1 local"), "{out}");
    assert!(root.join("usr/bin/app").is_file());
    assert_eq!(
        fs::read(root.join("usr/lib/libfoo.so.1")).unwrap(),
        b"libfoo from the web, release 2"
    );

    // Asking again changes nothing.
    let out = moss_ok(&root, &["install", "app"]);
    assert!(out.contains("nothing to do"), "{out}");

    let info = moss_ok(&root, &["info", "other"]);
    assert!(info.contains("Repository:   web (priority 10)"), "{info}");
    assert!(info.contains("/pool/other-1.0-1-1-x86_64.stone"), "{info}");
    let found = moss_ok(&root, &["search", "OTHER"]);
    assert!(found.contains("other 1.0-1 [web]"), "{found}");
}

#[test]
fn a_tampered_download_is_refused_and_nothing_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let site = web_repo(tmp.path());
    let server = HttpServer::serve(&site);
    let root = new_root(tmp.path());
    moss_ok(
        &root,
        &["repo", "add", "web", &server.url("x86_64/stone.index")],
    );
    moss_ok(&root, &["install", "other"]);
    let before = (
        usr_snapshot(&root),
        installed(&root),
        moss_ok(&root, &["state", "list"]),
    );

    // Same name and size class, different bytes: the index's hash no longer matches.
    write_stone(
        &site.join("pool"),
        &package("foo-data", 1, &[], &[]),
        &[Item::File("share/foo/data", b"evil", 0o644)],
    );
    let out = moss(&root, &["install", SONAME]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(mentions(&err, "foo-data-1.0-1: the download from"), "{err}");
    assert!(mentions(&err, "it was refused"), "{err}");

    let after = (
        usr_snapshot(&root),
        installed(&root),
        moss_ok(&root, &["state", "list"]),
    );
    assert_eq!(before, after, "the active state must not change");
    assert!(!root.join("usr/lib/libfoo.so.1").exists());
    let cached = downloads(&root);
    assert!(cached.iter().all(|n| !n.ends_with(".part")), "{cached:?}");
    assert!(
        !cached
            .iter()
            .any(|n| n.starts_with(&sha_of(&site.join("pool/foo-data-1.0-1-1-x86_64.stone")))),
        "{cached:?}"
    );
}

fn sha_of(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(fs::read(path).unwrap()))
}

#[test]
fn a_server_that_is_down_gives_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let site = web_repo(tmp.path());
    let mut server = HttpServer::serve(&site);
    let root = new_root(tmp.path());
    let url = server.url("x86_64/");
    moss_ok(&root, &["repo", "add", "web", &url]);
    moss_ok(&root, &["install", "other"]);
    let before = (
        usr_snapshot(&root),
        installed(&root),
        moss_ok(&root, &["state", "list"]),
    );
    server.shut_down();

    let out = moss(&root, &["install", "libfoo"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(mentions(&err, "cannot reach http://127.0.0.1:"), "{err}");
    assert!(mentions(&err, "/pool/"), "{err}");
    let after = (
        usr_snapshot(&root),
        installed(&root),
        moss_ok(&root, &["state", "list"]),
    );
    assert_eq!(before, after);

    let out = moss(&root, &["repo", "update"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(mentions(&err, "repository web: cannot reach"), "{err}");

    // Adding a repository that cannot be reached leaves no configuration behind.
    let out = moss(&root, &["repo", "add", "gone", &url]);
    assert!(!out.status.success());
    let list = moss_ok(&root, &["repo", "list"]);
    assert!(!list.contains("gone"), "{list}");
}

#[test]
fn sync_follows_priorities_and_downgrades_when_a_repository_goes() {
    let tmp = tempfile::tempdir().unwrap();
    let site = web_repo(tmp.path());
    let server = HttpServer::serve(&site);
    let old = tmp.path().join("old");
    fs::create_dir_all(&old).unwrap();
    write_stone(
        &old,
        &package("libfoo", 1, &[SONAME], &[]),
        &[Item::File("lib/libfoo.so.1", b"release 1", 0o755)],
    );
    moss_ok(tmp.path(), &["index", old.to_str().unwrap()]);
    let root = new_root(tmp.path());
    moss_ok(
        &root,
        &["repo", "add", "old", old.to_str().unwrap(), "-p", "1"],
    );
    moss_ok(&root, &["install", "libfoo"]);
    assert_eq!(
        fs::read(root.join("usr/lib/libfoo.so.1")).unwrap(),
        b"release 1"
    );

    // A higher-priority repository appears: sync moves to it.
    moss_ok(
        &root,
        &["repo", "add", "web", &server.url("x86_64/"), "-p", "9"],
    );
    let out = moss_ok(&root, &["sync"]);
    assert!(out.contains("add libfoo 1.0-2 (repository web)"), "{out}");
    assert!(out.contains("add foo-data 1.0-1 (repository web)"), "{out}");
    assert!(out.contains("remove libfoo 1.0-1"), "{out}");
    assert_eq!(
        fs::read(root.join("usr/lib/libfoo.so.1")).unwrap(),
        b"libfoo from the web, release 2"
    );
    let out = moss_ok(&root, &["sync"]);
    assert!(out.contains("nothing to do"), "{out}");

    // It goes away: sync downgrades and drops the orphaned dependency.
    moss_ok(&root, &["repo", "remove", "web"]);
    let out = moss_ok(&root, &["sync"]);
    assert!(out.contains("add libfoo 1.0-1 (repository old)"), "{out}");
    assert!(out.contains("remove foo-data 1.0-1"), "{out}");
    assert_eq!(
        fs::read(root.join("usr/lib/libfoo.so.1")).unwrap(),
        b"release 1"
    );
    assert!(!root.join("usr/share/foo/data").exists());
    let list = installed(&root);
    assert!(
        list.contains("libfoo 1.0-1") && !list.contains("foo-data"),
        "{list}"
    );
}

#[test]
fn unsatisfiable_requests_name_the_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    fs::create_dir_all(&dir).unwrap();
    write_stone(
        &dir,
        &package("top", 1, &[], &["pkgconfig(mid)"]),
        &[Item::Dir("share/top", 0o755)],
    );
    write_stone(
        &dir,
        &package(
            "mid",
            1,
            &["pkgconfig(mid)"],
            &["soname(libgone.so.3(x86_64))"],
        ),
        &[Item::Dir("share/mid", 0o755)],
    );
    moss_ok(tmp.path(), &["index", dir.to_str().unwrap()]);
    let root = new_root(tmp.path());
    moss_ok(&root, &["repo", "add", "r", dir.to_str().unwrap()]);
    let out = moss(&root, &["install", "top"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        mentions(
            &err,
            "cannot satisfy soname(libgone.so.3(x86_64)), needed by mid 1.0-1 (repository r), needed by top 1.0-1 (repository r), needed by request name(top)"
        ),
        "{err}"
    );
}

#[test]
#[cfg_attr(lacks_fixtures, ignore = "needs ../shared/fixtures")]
fn fixtures_of_the_original_tools_are_served_and_installed() {
    let Some(fixtures) = fixtures("fixtures_of_the_original_tools_are_served_and_installed") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // The served folder is a scratch copy made at run time.
    let site = tmp.path().join("site");
    fs::create_dir_all(site.join("stones")).unwrap();
    for name in [
        "bash-completion-2.11-1-1-x86_64.stone",
        "italian-pizza-1-1-1-x86_64.stone",
        "pineapple-1-1-1-x86_64.stone",
    ] {
        fs::copy(fixtures.join(name), site.join("stones").join(name)).unwrap();
    }
    moss_ok(
        tmp.path(),
        &[
            "index",
            site.join("stones").to_str().unwrap(),
            "-o",
            site.to_str().unwrap(),
        ],
    );
    let server = HttpServer::serve(&site);
    let root = new_root(tmp.path());
    moss_ok(
        &root,
        &["repo", "add", "fixtures", &server.url("stone.index")],
    );

    let out = moss_ok(&root, &["install", "cmake(bash-completion)", "pineapple"]);
    assert!(
        out.contains("install bash-completion 2.11-1 (repository fixtures)"),
        "{out}"
    );
    assert!(out.contains("fetched 2 packages (2 downloaded"), "{out}");
    assert!(root.join("usr/share/defaults/pienapple").is_file());

    // Every layout entry of bash-completion is in the live tree.
    let tsv =
        fs::read_to_string(fixtures.join("bash-completion-2.11-1-1-x86_64.layout.tsv")).unwrap();
    let mut checked = 0;
    for line in tsv.lines() {
        let path = line.split('\t').next().unwrap();
        let on_disk = root.join(path.trim_start_matches('/'));
        assert!(on_disk.symlink_metadata().is_ok(), "{path} is missing");
        checked += 1;
    }
    assert_eq!(checked, 745);

    // The pizza refuses pineapples: a clear conflict, nothing changes.
    let before = usr_snapshot(&root);
    let out = moss(&root, &["install", "italian-pizza"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(mentions(&err, "italian-pizza 1-1 (repository fixtures) conflicts with name(pineapple), provided by pineapple 1-1 (installed)"), "{err}");
    assert_eq!(before, usr_snapshot(&root));
}
