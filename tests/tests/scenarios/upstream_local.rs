//! Local source directories: an archive upstream is taken from a file of
//! the directory whose sha256 matches, whatever its name, without any
//! network; a relative upstream path is relative to the recipe; a git
//! upstream comes from `DIR/git/<host>/<path>`. The directories are given
//! by `--sources`, `BOULDER_SOURCES` or the user configuration.

use crate::common;

use common::{cache_dir, have_dpkg};

use std::fs;
use std::path::Path;
use std::process::Command;

use boulder::upstream::{SourceDirs, Upstream, UpstreamCache};

/// `dir/NAME`, a tarball holding `pkg-1.0/README` with `content`, and its sha256.
fn tarball(dir: &Path, name: &str, content: &str) -> (std::path::PathBuf, String) {
    let bytes = e2e::tar_gz("pkg-1.0", &[("README", content)]);
    let archive = dir.join(name);
    fs::write(&archive, &bytes).expect("write the tarball");
    (archive, e2e::sha256_hex(&bytes))
}

#[test]
fn an_archive_is_taken_from_a_source_dir_by_its_hash() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sources = tmp.path().join("sources");
    fs::create_dir_all(&sources).expect("mkdir");
    let (archive, hash) = tarball(tmp.path(), "made.tar.gz", "local\n");
    // Another name than the URL's, as Debian's `.orig` tarballs have.
    fs::rename(&archive, sources.join("pkg_1.0.orig.tar.gz")).expect("move");
    let (_, other_hash) = tarball(tmp.path(), "other.tar.gz", "other\n");

    let cache = UpstreamCache::new(tmp.path().join("cache"))
        .with_sources(SourceDirs::new(vec![sources.clone()]));
    let url = "https://unreachable.invalid/releases/pkg-1.0.tar.gz";
    let fetched = cache
        .fetch(&Upstream::archive(url, &hash))
        .expect("from the source dir");
    assert!(!fetched.from_cache());
    assert_eq!(
        fetched.path().file_name().and_then(|n| n.to_str()),
        Some("pkg-1.0.tar.gz")
    );
    let build = tmp.path().join("build");
    let unpacked = fetched.extract_into(&build).expect("extract");
    assert_eq!(
        fs::read_to_string(unpacked.join("README")).expect("readme"),
        "local\n"
    );

    // A hash no file has: the download is tried, and fails offline.
    let err = cache
        .fetch(&Upstream::archive(url, &other_hash))
        .expect_err("no such file locally");
    assert!(err.to_string().contains("unreachable.invalid"), "{err}");
}

#[test]
fn a_relative_upstream_path_is_relative_to_the_recipe() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let recipe_dir = tmp.path().join("recipe");
    fs::create_dir_all(&recipe_dir).expect("mkdir");
    let (archive, hash) = tarball(tmp.path(), "x.tar.gz", "beside the recipe\n");
    fs::rename(&archive, recipe_dir.join("x.tar.gz")).expect("move");
    let cache = UpstreamCache::new(tmp.path().join("cache")).with_base(&recipe_dir);
    let fetched = cache
        .fetch(&Upstream::archive("./x.tar.gz", &hash))
        .expect("relative to the recipe");
    assert!(fetched.path().is_file());
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
#[cfg_attr(lacks_git, ignore = "needs git")]
fn a_git_upstream_comes_from_a_local_mirror() {
    if Command::new("git").arg("--version").output().is_err() {
        test_support::missing("upstream_local", "git is not installed");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let work = tmp.path().join("work");
    fs::create_dir_all(&work).expect("mkdir");
    git(&work, &["init", "-q", "-b", "main"]);
    fs::write(work.join("file"), "v1\n").expect("write");
    git(&work, &["add", "file"]);
    git(&work, &["commit", "-q", "-m", "one"]);
    git(&work, &["tag", "v1.0"]);
    let commit = git(&work, &["rev-parse", "HEAD"]);
    let sources = tmp.path().join("sources");
    let mirror = sources.join("git/example.invalid/team/project.git");
    fs::create_dir_all(mirror.parent().expect("parent")).expect("mkdir");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--mirror",
            work.to_str().expect("utf-8"),
            mirror.to_str().expect("utf-8"),
        ],
    );
    let cache =
        UpstreamCache::new(tmp.path().join("cache")).with_sources(SourceDirs::new(vec![sources]));
    let fetched = cache
        .fetch(&Upstream::git(
            "https://example.invalid/team/project.git",
            "v1.0",
        ))
        .expect("from the mirror");
    assert_eq!(fetched.commit(), Some(commit.as_str()));
}

/// How a build is told about the directory: its name, arguments, environment.
type Case = (&'static str, Vec<String>, Vec<(&'static str, String)>);

/// `boulder build` finds the directory through each of the three settings.
#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn the_build_takes_sources_from_the_option_the_environment_and_the_configuration() {
    if !have_dpkg() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let sources = tmp.path().join("sources");
    fs::create_dir_all(&sources).expect("mkdir");
    let (archive, hash) = tarball(tmp.path(), "a.tar.gz", "from the sources\n");
    fs::rename(&archive, sources.join("renamed.tgz")).expect("move");
    let recipe = tmp.path().join("recipe");
    fs::create_dir_all(&recipe).expect("mkdir");
    fs::write(
        recipe.join("stone.yaml"),
        format!(
            "name: local-src\nversion: 1.0\nrelease: 1\nsummary: s\ndescription: d\nlicense: MIT\n\
             homepage: https://example.invalid\ntoolchain: gnu\nupstreams:\n    - https://unreachable.invalid/pkg-1.0.tar.gz : {hash}\n\
             install: |\n    install -Dm644 README %(installroot)/usr/share/local-src/README\n"
        ),
    )
    .expect("recipe");
    let config = tmp.path().join("config");
    fs::create_dir_all(config.join("boulder")).expect("mkdir");
    fs::write(
        config.join("boulder/sources"),
        format!("# mine\n{}\n", sources.display()),
    )
    .expect("config");
    let empty_config = tmp.path().join("empty-config");
    let cases: [Case; 3] = [
        (
            "option",
            vec!["--sources".into(), sources.display().to_string()],
            vec![],
        ),
        (
            "environment",
            vec![],
            vec![(
                "BOULDER_SOURCES",
                format!("/nonexistent:{}", sources.display()),
            )],
        ),
        (
            "configuration",
            vec![],
            vec![("XDG_CONFIG_HOME", config.display().to_string())],
        ),
    ];
    for (how, args, env) in cases {
        let out = tmp.path().join(format!("out-{how}"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_boulder"));
        command
            .arg("build")
            .arg("--cache-dir")
            .arg(cache_dir())
            .args(&args)
            .arg("-o")
            .arg(&out)
            .arg(&recipe)
            .env_remove("BOULDER_SOURCES")
            .env("XDG_CONFIG_HOME", &empty_config);
        for (k, v) in env {
            command.env(k, v);
        }
        // Each build must find the file itself: the upstream cache is emptied.
        let _ = fs::remove_dir_all(cache_dir().join("upstreams/fetched").join(&hash));
        let output = command.output().expect("boulder build");
        assert!(
            output.status.success(),
            "{how}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let manifest = fs::read_to_string(out.join("manifest.x86_64.jsonc")).expect("manifest");
        assert!(
            manifest.contains("/usr/share/local-src/README"),
            "{how}: {manifest}"
        );
    }
}
