//! `SOURCE_DATE_EPOCH` of a build: the one time every output is stamped with.

use std::path::Path;
use std::process::Stdio;

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
}
