//! `SOURCE_DATE_EPOCH` of a build: the one time every output is stamped with.

use std::path::Path;
use std::process::Stdio;

use super::git_head;

/// Where the epoch came from (shown in the build log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochSource {
    /// `SOURCE_DATE_EPOCH` in boulder's environment.
    Environment,
    /// The committer time of the last git commit touching the recipe.
    GitCommit,
    /// The recipe file's modification time (no git history).
    RecipeMtime,
    /// Nothing usable: 0.
    Zero,
}

/// The epoch for the recipe at `recipe`: `SOURCE_DATE_EPOCH` from the
/// environment when set to an integer, else the recipe's last git commit,
/// else the recipe file's modification time.
pub fn source_date_epoch(recipe: &Path) -> (i64, EpochSource) {
    if let Some(epoch) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|value| value.trim().parse::<i64>().ok())
    {
        return (epoch.max(0), EpochSource::Environment);
    }
    if let Some(epoch) = git_commit_time(recipe) {
        return (epoch, EpochSource::GitCommit);
    }
    mtime_epoch(recipe)
}

/// [`source_date_epoch`] with the git answer remembered in `cache_dir`
/// (one small file per recipe) under the repository's `HEAD` commit and
/// state ([`git_head::head_of`]): a rebuild at the same commit reads two
/// small files where `git log` walks the history. Without a readable
/// `HEAD` (or with `SOURCE_DATE_EPOCH` set) it is [`source_date_epoch`].
pub fn source_date_epoch_cached(recipe: &Path, cache_dir: &Path) -> (i64, EpochSource) {
    if std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .is_some_and(|value| value.trim().parse::<i64>().is_ok())
    {
        return source_date_epoch(recipe);
    }
    let Some(head) = recipe.parent().and_then(git_head::head_of) else {
        return source_date_epoch(recipe);
    };
    let key = format!(
        "{}\0{}\0{}\0{}",
        recipe.display(),
        head.common_dir.display(),
        head.commit,
        head.stamp
    );
    let entry = cache_dir.join(
        blake3::hash(recipe.as_os_str().as_encoded_bytes())
            .to_hex()
            .as_str(),
    );
    let remembered = std::fs::read_to_string(&entry).ok().and_then(|text| {
        let (stored_key, answer) = text.rsplit_once('\n')?;
        (stored_key == key).then(|| answer.to_string())
    });
    let answer = match remembered {
        Some(answer) => answer,
        None => {
            let answer =
                git_commit_time(recipe).map_or_else(|| "none".to_string(), |t| t.to_string());
            remember(cache_dir, &entry, &format!("{key}\n{answer}"));
            answer
        }
    };
    match answer.parse::<i64>() {
        Ok(epoch) => (epoch, EpochSource::GitCommit),
        Err(_) => mtime_epoch(recipe),
    }
}

/// Writes a cache entry whole (a temporary file renamed over it); a cache
/// that cannot be written only costs the next build a `git log`.
fn remember(cache_dir: &Path, entry: &Path, text: &str) {
    if std::fs::create_dir_all(cache_dir).is_err() {
        return;
    }
    let Ok(mut file) = tempfile::NamedTempFile::new_in(cache_dir) else {
        return;
    };
    if std::io::Write::write_all(&mut file, text.as_bytes()).is_ok() {
        let _ = file.persist(entry);
    }
}

/// The recipe file's modification time, else 0.
fn mtime_epoch(recipe: &Path) -> (i64, EpochSource) {
    match std::fs::metadata(recipe).and_then(|m| m.modified()) {
        Ok(time) => match time.duration_since(std::time::UNIX_EPOCH) {
            Ok(since) => (since.as_secs() as i64, EpochSource::RecipeMtime),
            Err(_) => (0, EpochSource::Zero),
        },
        Err(_) => (0, EpochSource::Zero),
    }
}

/// `git log -1 --format=%ct -- <recipe>` run in the recipe's directory.
pub fn git_commit_time(recipe: &Path) -> Option<i64> {
    let dir = recipe.parent().filter(|d| !d.as_os_str().is_empty())?;
    let file = recipe.file_name()?;
    // The recipe's directory is not boulder's: its `.git/config` could name
    // programs (a signature verifier, a pager) that git would run.
    let output = crate::upstream::git::safe_git()
        .arg("-C")
        .arg(dir)
        .args(["log", "-1", "--format=%ct", "--"])
        .arg(file)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn untracked_recipes_fall_back_to_their_mtime() {
        let dir = tempfile::tempdir().expect("tempdir");
        let recipe = dir.path().join("stone.yaml");
        std::fs::write(&recipe, "name: x\n").expect("write");
        let file = std::fs::File::options()
            .write(true)
            .open(&recipe)
            .expect("open");
        file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_234_567))
            .expect("mtime");
        assert_eq!(git_commit_time(&recipe), None);
        if std::env::var_os("SOURCE_DATE_EPOCH").is_none() {
            assert_eq!(
                source_date_epoch(&recipe),
                (1_234_567, EpochSource::RecipeMtime)
            );
        }
    }

    #[test]
    #[cfg_attr(lacks_git, ignore = "needs git")]
    fn committed_recipes_use_the_commit_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let git = |args: &[&str]| {
            Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(args)
                .env("GIT_COMMITTER_DATE", "@1600000000 +0000")
                .env("GIT_AUTHOR_DATE", "@1600000000 +0000")
                .output()
        };
        if git(&["init", "-q"])
            .map(|o| !o.status.success())
            .unwrap_or(true)
        {
            test_support::missing("epoch", "git is not available");
            return;
        }
        let recipe = dir.path().join("stone.yaml");
        std::fs::write(&recipe, "name: x\n").expect("write");
        git(&["add", "stone.yaml"]).expect("add");
        let commit = git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "commit",
            "-qm",
            "x",
        ])
        .expect("commit");
        assert!(commit.status.success(), "{commit:?}");
        assert_eq!(git_commit_time(&recipe), Some(1_600_000_000));
    }

    /// Runs git in `dir` with a fixed identity and commit time `at`.
    fn git_at(dir: &Path, at: i64, args: &[&str]) -> std::process::Output {
        let output = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .env("GIT_COMMITTER_DATE", format!("@{at} +0000"))
            .env("GIT_AUTHOR_DATE", format!("@{at} +0000"))
            .output()
            .expect("git runs");
        assert!(output.status.success(), "git {args:?}: {output:?}");
        output
    }

    fn rev_parse_head(dir: &Path) -> String {
        let output = git_at(dir, 0, &["rev-parse", "HEAD"]);
        String::from_utf8(output.stdout)
            .expect("utf-8")
            .trim()
            .to_string()
    }

    /// The remembered epoch is git's at every step: a commit touching the
    /// recipe moves it, one touching another file does not, and the HEAD
    /// read from the files is git's own in a plain repository, with packed
    /// refs, detached, and in a linked worktree.
    #[test]
    #[cfg_attr(lacks_git, ignore = "needs git")]
    fn the_remembered_epoch_follows_the_history() {
        if Command::new("git").arg("--version").output().is_err() {
            test_support::missing("epoch", "git is not available");
            return;
        }
        if git_head::environment_moves_the_repository() {
            test_support::missing(
                "epoch",
                "GIT_* variables move the repository; the cache stays off",
            );
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("repo");
        let cache = dir.path().join("epochs");
        std::fs::create_dir(&repo).expect("mkdir");
        git_at(&repo, 0, &["init", "-q", "-b", "main"]);
        let recipe = repo.join("stone.yaml");
        let other = repo.join("notes.txt");
        let check = |expected: i64| {
            // Twice: the first may ask git, the second reads the entry.
            for _ in 0..2 {
                assert_eq!(
                    source_date_epoch_cached(&recipe, &cache),
                    (expected, EpochSource::GitCommit)
                );
            }
            assert_eq!(git_commit_time(&recipe), Some(expected));
        };

        std::fs::write(&recipe, "name: x\n").expect("write");
        git_at(&repo, 0, &["add", "stone.yaml"]);
        git_at(&repo, 1_600_000_000, &["commit", "-qm", "one"]);
        check(1_600_000_000);
        let head = git_head::head_of(&repo).expect("HEAD is readable");
        assert_eq!(head.commit, rev_parse_head(&repo));
        // One entry for the recipe, under this commit, with git's answer.
        let entries: Vec<String> = std::fs::read_dir(&cache)
            .expect("the cache was written")
            .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("read"))
            .collect();
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert!(entries[0].contains(&head.commit), "{entries:?}");
        assert!(entries[0].ends_with("\n1600000000"), "{entries:?}");

        std::fs::write(&other, "x").expect("write");
        git_at(&repo, 0, &["add", "notes.txt"]);
        git_at(&repo, 1_600_000_100, &["commit", "-qm", "two"]);
        check(1_600_000_000);

        std::fs::write(&recipe, "name: y\n").expect("write");
        git_at(&repo, 0, &["add", "stone.yaml"]);
        git_at(&repo, 1_600_000_200, &["commit", "-qm", "three"]);
        check(1_600_000_200);

        git_at(&repo, 0, &["pack-refs", "--all", "--prune"]);
        assert_eq!(
            git_head::head_of(&repo).map(|h| h.commit),
            Some(rev_parse_head(&repo))
        );
        check(1_600_000_200);

        git_at(&repo, 0, &["checkout", "-q", "--detach", "HEAD~1"]);
        assert_eq!(
            git_head::head_of(&repo).map(|h| h.commit),
            Some(rev_parse_head(&repo))
        );
        check(1_600_000_000);
        git_at(&repo, 0, &["checkout", "-q", "main"]);
        check(1_600_000_200);

        let linked = dir.path().join("linked");
        let linked_arg = linked.to_string_lossy().into_owned();
        git_at(
            &repo,
            0,
            &["worktree", "add", "-q", "-b", "side", &linked_arg, "HEAD~2"],
        );
        assert_eq!(
            git_head::head_of(&linked).map(|h| h.commit),
            Some(rev_parse_head(&linked))
        );
        let linked_recipe = linked.join("stone.yaml");
        for _ in 0..2 {
            assert_eq!(
                source_date_epoch_cached(&linked_recipe, &cache),
                (1_600_000_000, EpochSource::GitCommit)
            );
        }

        // An untracked recipe has no commit: its mtime, remembered or not.
        let untracked = repo.join("sub/stone.yaml");
        std::fs::create_dir(repo.join("sub")).expect("mkdir");
        std::fs::write(&untracked, "name: z\n").expect("write");
        let file = std::fs::File::options()
            .write(true)
            .open(&untracked)
            .expect("open");
        file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_234_567))
            .expect("mtime");
        for _ in 0..2 {
            assert_eq!(
                source_date_epoch_cached(&untracked, &cache),
                (1_234_567, EpochSource::RecipeMtime)
            );
        }
    }
}
