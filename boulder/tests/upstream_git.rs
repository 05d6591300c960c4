//! Git upstreams against a real repository made in a tempdir (file:// URL).

use std::fs;
use std::path::Path;
use std::process::Command;

use boulder::upstream::{Upstream, UpstreamCache, UpstreamError};

/// Run git in `dir` with a fixed identity and no signing; return stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Upstream Test",
            "-c",
            "user.email=test@example.org",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("the host git binary runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A repository with two commits: `v1.0` (annotated tag) then a second one.
/// Returns (file:// URL, first commit, second commit).
fn make_repo(root: &Path) -> (String, String, String) {
    let repo = root.join("origin/hello");
    fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    fs::write(repo.join("version.txt"), "one\n").unwrap();
    git(&repo, &["add", "version.txt"]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    git(&repo, &["tag", "-a", "v1.0", "-m", "release 1.0"]);
    let first = git(&repo, &["rev-parse", "HEAD"]);
    fs::write(repo.join("version.txt"), "two\n").unwrap();
    git(&repo, &["commit", "-q", "-am", "second"]);
    let second = git(&repo, &["rev-parse", "HEAD"]);
    (format!("file://{}", repo.display()), first, second)
}

#[test]
fn git_upstreams_by_tag_and_by_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let (url, first, second) = make_repo(tmp.path());
    let cache = UpstreamCache::new(tmp.path().join("cache"));
    let upstreams = [
        Upstream::git(&url, "v1.0"),
        Upstream::Git {
            url: url.clone(),
            git_ref: second.clone(),
            clonedir: Some("src/at-second".into()),
        },
    ];
    let fetched = cache.fetch_all(&upstreams).unwrap();
    assert_eq!(fetched[0].commit(), Some(first.as_str()));
    assert_eq!(fetched[1].commit(), Some(second.as_str()));
    assert!(fetched[0].path().starts_with(cache.git_dir()));

    let build = tmp.path().join("build");
    let by_tag = fetched[0].extract_into(&build).unwrap();
    assert_eq!(by_tag, build.join("hello"));
    assert_eq!(
        fs::read_to_string(by_tag.join("version.txt")).unwrap(),
        "one\n"
    );
    assert_eq!(git(&by_tag, &["rev-parse", "HEAD"]), first);
    assert_eq!(git(&by_tag, &["remote", "get-url", "origin"]), url);

    let by_commit = fetched[1].extract_into(&build).unwrap();
    assert_eq!(by_commit, build.join("src/at-second"));
    assert_eq!(
        fs::read_to_string(by_commit.join("version.txt")).unwrap(),
        "two\n"
    );

    // A second checkout into the same place is refused, not merged.
    let again = fetched[0].extract_into(&build).unwrap_err();
    assert!(again.to_string().contains("not empty"), "{again}");
}

#[test]
fn mirror_is_reused_offline_and_fetched_for_new_refs() {
    let tmp = tempfile::tempdir().unwrap();
    let (url, first, _) = make_repo(tmp.path());
    let repo = tmp.path().join("origin/hello");
    let cache = UpstreamCache::new(tmp.path().join("cache"));
    assert!(!cache
        .fetch(&Upstream::git(&url, "v1.0"))
        .unwrap()
        .from_cache());

    // A new tag upstream: the mirror lacks it, so it is fetched.
    fs::write(repo.join("version.txt"), "three\n").unwrap();
    git(&repo, &["commit", "-q", "-am", "third"]);
    git(&repo, &["tag", "v3.0"]);
    let third = cache.fetch(&Upstream::git(&url, "v3.0")).unwrap();
    assert!(!third.from_cache());
    assert_eq!(
        third.commit(),
        Some(git(&repo, &["rev-parse", "HEAD"]).as_str())
    );

    // With the origin gone, known refs still resolve from the mirror.
    fs::remove_dir_all(tmp.path().join("origin")).unwrap();
    let offline = cache.fetch(&Upstream::git(&url, &first[..12])).unwrap();
    assert!(offline.from_cache());
    assert_eq!(offline.commit(), Some(first.as_str()));
    let dest = offline.extract_into(&tmp.path().join("build")).unwrap();
    assert_eq!(
        fs::read_to_string(dest.join("version.txt")).unwrap(),
        "one\n"
    );
}

#[test]
fn missing_refs_and_repositories_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let (url, _, _) = make_repo(tmp.path());
    let cache = UpstreamCache::new(tmp.path().join("cache"));
    match cache.fetch(&Upstream::git(&url, "v9.9")).unwrap_err() {
        UpstreamError::GitRefNotFound { url: u, git_ref } => {
            assert_eq!((u.as_str(), git_ref.as_str()), (url.as_str(), "v9.9"));
        }
        other => panic!("expected a missing ref, got {other:?}"),
    }
    let err = cache
        .fetch(&Upstream::git(&url, "--upload-pack=touch"))
        .unwrap_err();
    assert!(matches!(err, UpstreamError::Invalid { .. }), "{err:?}");

    let nowhere = format!("file://{}/no-such-repo", tmp.path().display());
    let err = cache.fetch(&Upstream::git(&nowhere, "main")).unwrap_err();
    assert!(
        matches!(&err, UpstreamError::Git { url, .. } if url == &nowhere),
        "{err:?}"
    );
    // A failed clone leaves no half mirror behind.
    let mirrors: Vec<_> = fs::read_dir(cache.git_dir()).unwrap().flatten().collect();
    assert_eq!(mirrors.len(), 1, "only the mirror of the good repository");
}
