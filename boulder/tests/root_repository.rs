//! Build roots from a remote repository (the `aerynos` profile's code path:
//! a root index, then a `stone.index`, then stones), served by a real HTTP
//! server on loopback; reuse by key, resolution errors, and pruning.

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use boulder::root::{self, prune, Cache, RootError, RootRequest};
use moss_core::stone::{
    Content, Dependency, DependencyKind, FileType, LayoutEntry, LayoutKind, Meta, Provider,
    StoneWriter,
};
use sha2::{Digest, Sha256};

use test_support::http::{Files, Gate, HttpServer};

/// The loopback server of a test, serving `files` by request path.
fn serve(files: Files) -> HttpServer {
    HttpServer::serve_files(files)
}

fn package(name: &str, file: &str, content: &[u8], depends: &[&str]) -> (Meta, Vec<u8>) {
    let content = Content::from_bytes(content.to_vec());
    let layout = vec![LayoutEntry {
        uid: 0,
        gid: 0,
        mode: 0o100755,
        tag: 0,
        kind: LayoutKind::Regular {
            digest: content.digest,
        },
        path: file.to_string(),
    }];
    let meta = Meta {
        name: name.into(),
        version: "1.0".into(),
        source_release: 1,
        build_release: 1,
        architecture: "x86_64".into(),
        depends: depends
            .iter()
            .map(|d| Dependency::new(DependencyKind::PackageName, *d))
            .collect(),
        provides: vec![Provider::new(DependencyKind::Binary, name)],
        ..Meta::default()
    };
    let stone = StoneWriter::default()
        .write_binary(Cursor::new(Vec::new()), &meta, &layout, vec![content])
        .expect("write stone")
        .into_inner();
    (meta, stone)
}

/// Publishes `tiny` (needs `tiny-lib`) and `tiny-lib` under a root index.
fn publish(files: &Files) {
    publish_at(files, |name| format!("stones/{name}.stone"));
}

/// [`publish`] with each stone's `PackageURI` given by `uri_of` (relative to
/// the index `/main/history/42/x86_64/stone.index`, or absolute).
fn publish_at(files: &Files, uri_of: impl Fn(&str) -> String) {
    let dir = "/main/history/42/x86_64";
    let mut metas = Vec::new();
    for (name, file, content, deps) in [
        (
            "tiny",
            "bin/tiny",
            &b"#!/bin/sh\necho tiny\n"[..],
            &["tiny-lib"][..],
        ),
        ("tiny-lib", "lib/tiny/data", &b"tiny data\n"[..], &[][..]),
    ] {
        let (mut meta, stone) = package(name, file, content, deps);
        let uri = uri_of(name);
        meta.package_hash = Some(hex::encode(Sha256::digest(&stone)));
        meta.package_size = Some(stone.len() as u64);
        meta.package_uri = Some(uri.clone());
        let served_at = match uri.strip_prefix('/') {
            Some(_) => uri.clone(),
            None => resolve_dots(&format!("{dir}/{uri}")),
        };
        files.lock().expect("files").insert(served_at, stone);
        metas.push(meta);
    }
    let index = StoneWriter::default()
        .write_metas(Vec::new(), FileType::Repository, &metas)
        .expect("index");
    let root_index = br#"{"formats": {"v0": {}}, "streams": {"volatile": {"format": "v0", "history": "42"}}, "tags": {}, "history": {"42": {"format": "v0"}}}"#;
    let mut f = files.lock().expect("files");
    f.insert(format!("{dir}/stone.index"), index);
    f.insert("/main/moss-root-index.json".into(), root_index.to_vec());
}

/// `/a/b/../c` → `/a/c`: where a server finds a path with dot segments.
fn resolve_dots(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        match part {
            "." => {}
            ".." => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    format!("/{}", out.join("/"))
}

fn setup(profiles: &Path, port: u16) {
    std::fs::create_dir_all(profiles).expect("profiles dir");
    let profile = format!(
        "description: a remote repository on loopback\nrepositories:\n  - name: volatile\n    base-uri: http://127.0.0.1:{port}/\n    channel: main\n    version: stream/volatile\n    arch: x86_64\n    priority: 0\npackages:\n  - binary(tiny)\n"
    );
    std::fs::write(profiles.join("remote.yaml"), profile).expect("profile");
}

fn request(packages: &[&str]) -> RootRequest {
    RootRequest {
        profile: "remote".into(),
        packages: packages.iter().map(|p| p.to_string()).collect(),
        networking: false,
    }
}

#[test]
fn a_root_from_a_remote_repository_is_made_once_and_reused() {
    let files: Files = Arc::default();
    publish(&files);
    let server = serve(files.clone());
    let port = server.port();
    let tmp = tempfile::tempdir().expect("tempdir");
    setup(&tmp.path().join("profiles"), port);
    let cache = Cache::open(Some(&tmp.path().join("cache")))
        .expect("cache")
        .with_profiles_dir(Some(tmp.path().join("profiles")));

    let first = root::prepare(&cache, &request(&[])).expect("prepare");
    assert!(!first.reused);
    assert_eq!(first.packages, vec!["tiny-1.0", "tiny-lib-1.0"]);
    let usr = first.path.join("usr");
    assert_eq!(
        std::fs::read(usr.join("bin/tiny")).expect("tiny"),
        b"#!/bin/sh\necho tiny\n"
    );
    assert_eq!(
        std::fs::read(usr.join("lib/tiny/data")).expect("data"),
        b"tiny data\n"
    );
    assert_eq!(
        std::fs::read_link(first.path.join("bin")).expect("bin"),
        Path::new("usr/bin")
    );
    assert!(std::fs::read_to_string(first.path.join("etc/passwd"))
        .expect("passwd")
        .starts_with("root:x:0:0:"));

    // The server is gone: everything now comes from the cache.
    files.lock().expect("files").clear();
    let second = root::prepare(&cache, &request(&["tiny"])).expect("prepare again");
    assert!(second.reused);
    assert_eq!(second.key, first.key);
    assert_eq!(second.timings.blit, std::time::Duration::ZERO);

    let err =
        root::prepare(&cache, &request(&["pkgconfig(nothing-here)"])).expect_err("unresolvable");
    match err {
        RootError::Unresolvable {
            request, profile, ..
        } => {
            assert_eq!(request, "pkgconfig(nothing-here)");
            assert_eq!(profile, "remote");
        }
        other => panic!("unexpected error: {other}"),
    }
}

fn open_cache(tmp: &Path) -> Cache {
    Cache::open(Some(&tmp.join("cache")))
        .expect("cache")
        .with_profiles_dir(Some(tmp.join("profiles")))
}

/// PackageURIs are joined onto the index URL as URLs are (moss's join):
/// `..` climbs out of the index's folder and `/…` starts at the server's
/// root. Putting the URI after the index's folder (`…/x86_64/../../pool/…`,
/// `…/x86_64//main/pool/…`) asks for paths this server does not have.
#[test]
fn package_uris_are_joined_as_urls() {
    let files: Files = Arc::default();
    publish_at(&files, |name| match name {
        "tiny" => "../../pool/t/tiny.stone".to_string(),
        _ => format!("/main/pool/{name}.stone"),
    });
    let server = serve(files);
    let tmp = tempfile::tempdir().expect("tempdir");
    setup(&tmp.path().join("profiles"), server.port());
    let cache = open_cache(tmp.path());
    let prepared = root::prepare(&cache, &request(&[])).expect("prepare");
    assert!(prepared.path.join("usr/bin/tiny").is_file());
    assert!(prepared.path.join("usr/lib/tiny/data").is_file());
    let mut stones: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.ends_with(".stone"))
        .collect();
    stones.sort();
    assert_eq!(
        stones,
        [
            "/main/history/pool/t/tiny.stone",
            "/main/pool/tiny-lib.stone"
        ]
    );
}

/// Both stones of the root are asked for at the same time (the server holds
/// each answer until both requests wait), and every request of the
/// preparation — root index, index, stones — goes through one HTTP agent:
/// its pool reuses the first connection, so only the second parallel
/// download opens another.
#[test]
fn a_roots_stones_download_in_parallel_through_one_agent() {
    let files: Files = Arc::default();
    publish(&files);
    let gate = Gate::new(".stone", 2);
    let server = HttpServer::serve_files_gated(files, gate.clone());
    let tmp = tempfile::tempdir().expect("tempdir");
    setup(&tmp.path().join("profiles"), server.port());
    let cache = open_cache(tmp.path());
    let prepared = root::prepare(&cache, &request(&[])).expect("prepare");
    assert!(gate.opened());
    assert!(prepared.path.join("usr/bin/tiny").is_file());
    let requests = server.requests();
    assert_eq!(requests.len(), 4, "{requests:?}");
    assert_eq!(server.connections(), 2, "{requests:?}");
}

/// A repository that cannot be reached names the repository, the URL and
/// why (the cause of moss-core's error is kept).
#[test]
fn an_unreachable_repository_says_where_and_why() {
    let mut server = serve(Arc::default());
    let port = server.port();
    server.shut_down();
    let tmp = tempfile::tempdir().expect("tempdir");
    setup(&tmp.path().join("profiles"), port);
    let cache = open_cache(tmp.path());
    let err = root::prepare(&cache, &request(&[])).expect_err("unreachable");
    let text = err.to_string();
    assert!(text.contains("repository `volatile`"), "{text}");
    assert!(
        text.contains(&format!(
            "cannot reach http://127.0.0.1:{port}/main/moss-root-index.json"
        )),
        "{text}"
    );
}

#[test]
fn a_stone_that_does_not_match_its_index_is_refused() {
    let files: Files = Arc::default();
    publish(&files);
    files.lock().expect("files").insert(
        "/main/history/42/x86_64/stones/tiny-lib.stone".into(),
        b"tampered".to_vec(),
    );
    let server = serve(files);
    let port = server.port();
    let tmp = tempfile::tempdir().expect("tempdir");
    setup(&tmp.path().join("profiles"), port);
    let cache = Cache::open(Some(&tmp.path().join("cache")))
        .expect("cache")
        .with_profiles_dir(Some(tmp.path().join("profiles")));
    let err = root::prepare(&cache, &request(&[])).expect_err("tampered");
    assert!(err.to_string().contains("sha256"), "{err}");
    assert!(root::prune::roots(&cache).is_empty());
}

#[test]
fn prune_removes_unused_roots_and_their_store_assets() {
    let files: Files = Arc::default();
    publish(&files);
    let server = serve(files.clone());
    let port = server.port();
    let tmp = tempfile::tempdir().expect("tempdir");
    setup(&tmp.path().join("profiles"), port);
    let cache = Cache::open(Some(&tmp.path().join("cache")))
        .expect("cache")
        .with_profiles_dir(Some(tmp.path().join("profiles")));
    let prepared = root::prepare(&cache, &request(&[])).expect("prepare");

    // Recently used: a prune by age keeps it.
    let kept = prune::prune(&cache, &prune::PruneOptions::default()).expect("prune");
    assert!(kept.roots.is_empty());
    assert_eq!(kept.assets, 0);
    assert!(prepared.path.is_dir());

    let options = prune::PruneOptions {
        max_age: std::time::Duration::ZERO,
        max_bytes: None,
    };
    std::thread::sleep(std::time::Duration::from_millis(20));
    // Still held (a build or chroot in it): never removed, by age or by size.
    for options in [
        options,
        prune::PruneOptions {
            max_bytes: Some(0),
            ..options
        },
    ] {
        let busy = prune::prune(&cache, &options).expect("prune");
        assert!(busy.roots.is_empty(), "{busy:?}");
        assert_eq!(busy.assets, 0);
        assert!(prepared.path.join("usr/bin/tiny").is_file());
    }
    // Released: now it goes.
    let prepared = PreparedRootInfo::from(prepared);
    let report = prune::prune(&cache, &options).expect("prune");
    assert_eq!(report.roots, vec![prepared.key.clone()]);
    assert!(!prepared.path.exists());
    // Both files are executable: each had a store asset and a 0755 variant.
    assert_eq!(report.assets, 4, "{report:?}");
    assert!(cache.store().list().expect("list").is_empty());
    assert!(cache.mode_variants().list().is_empty());

    // What resolved to the pruned root is forgotten with it.
    let resolutions = cache.dir().join("resolutions");
    assert_eq!(
        std::fs::read_dir(&resolutions)
            .expect("resolutions")
            .count(),
        0
    );

    // The stones are still downloaded: the root comes back without the server.
    files.lock().expect("files").clear();
    let again = root::prepare(&cache, &request(&[])).expect("prepare again");
    assert_eq!(again.key, prepared.key);
    assert!(again.path.join("usr/bin/tiny").is_file());
}

/// Where a root was, kept after its lock is released.
struct PreparedRootInfo {
    key: String,
    path: std::path::PathBuf,
}

impl From<root::PreparedRoot> for PreparedRootInfo {
    fn from(prepared: root::PreparedRoot) -> Self {
        PreparedRootInfo {
            key: prepared.key,
            path: prepared.path,
        }
    }
}

/// The root a resolution gave is remembered under the index's bytes and the
/// request: an unchanged index reuses it, a changed one (here: the cached
/// index now names a `tiny-lib` with other content) resolves afresh and
/// makes the root it names, and the old bytes find the old root again.
#[test]
fn a_remembered_resolution_follows_the_index() {
    let files: Files = Arc::default();
    publish(&files);
    let server = serve(files.clone());
    let tmp = tempfile::tempdir().expect("tempdir");
    setup(&tmp.path().join("profiles"), server.port());
    let cache = open_cache(tmp.path());

    let first = root::prepare(&cache, &request(&[])).expect("prepare");
    let remembered: Vec<String> = std::fs::read_dir(cache.dir().join("resolutions"))
        .expect("resolutions")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("read"))
        .collect();
    assert_eq!(remembered, vec![format!("{}\n", first.key)]);
    let again = root::prepare(&cache, &request(&[])).expect("prepare again");
    assert!(again.reused);
    assert_eq!((&again.key, &again.packages), (&first.key, &first.packages));

    // Rewrite the cached index: same names, another tiny-lib stone.
    let index_path = std::fs::read_dir(cache.repos_dir())
        .expect("repos")
        .map(|e| e.expect("entry").path().join("stone.index"))
        .find(|p| p.is_file())
        .expect("a cached index");
    let old_index = std::fs::read(&index_path).expect("index");
    let mut metas = Vec::new();
    for (name, file, content, deps, uri) in [
        (
            "tiny",
            "bin/tiny",
            &b"#!/bin/sh\necho tiny\n"[..],
            &["tiny-lib"][..],
            "stones/tiny.stone",
        ),
        (
            "tiny-lib",
            "lib/tiny/data",
            &b"other data\n"[..],
            &[][..],
            "stones/tiny-lib-other.stone",
        ),
    ] {
        let (mut meta, stone) = package(name, file, content, deps);
        meta.package_hash = Some(hex::encode(Sha256::digest(&stone)));
        meta.package_size = Some(stone.len() as u64);
        meta.package_uri = Some(uri.to_string());
        files
            .lock()
            .expect("files")
            .insert(format!("/main/history/42/x86_64/{uri}"), stone);
        metas.push(meta);
    }
    let new_index = StoneWriter::default()
        .write_metas(Vec::new(), FileType::Repository, &metas)
        .expect("index");
    std::fs::write(&index_path, new_index).expect("rewrite the index");

    let changed = root::prepare(&cache, &request(&[])).expect("prepare from the new index");
    assert!(!changed.reused);
    assert_ne!(changed.key, first.key);
    assert_eq!(
        std::fs::read(changed.path.join("usr/lib/tiny/data")).expect("data"),
        b"other data\n"
    );

    std::fs::write(&index_path, old_index).expect("restore the index");
    let back = root::prepare(&cache, &request(&[])).expect("prepare from the old index");
    assert!(back.reused);
    assert_eq!(back.key, first.key);
    assert_eq!(
        std::fs::read(back.path.join("usr/lib/tiny/data")).expect("data"),
        b"tiny data\n"
    );
}
