//! Git upstreams: a bare mirror per URL in the cache, then a checkout of the
//! exact commit into the build directory. Uses the host `git` binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use super::UpstreamError;

/// A mirror that holds the wanted commit.
pub(crate) struct Mirror {
    pub(crate) path: PathBuf,
    /// Full commit id the ref resolved to.
    pub(crate) commit: String,
    /// True when the mirror already had the ref (no network used).
    pub(crate) from_cache: bool,
}

impl Mirror {
    /// Clone the mirror if missing; fetch only when the ref is not in it yet
    /// (so a pinned commit or tag builds offline once mirrored).
    pub(crate) fn update(
        git_dir: &Path,
        url: &str,
        git_ref: &str,
    ) -> Result<Mirror, UpstreamError> {
        if git_ref.is_empty() || git_ref.starts_with('-') {
            return Err(UpstreamError::Invalid {
                url: url.to_string(),
                reason: format!("`{git_ref}` is not a valid git ref"),
            });
        }
        let path = git_dir.join(mirror_name(url));
        let mut from_cache = true;
        if !path.join("HEAD").exists() {
            // Not a mirror (damaged by hand, or an old failure): start over.
            if path.exists() {
                fs::remove_dir_all(&path).map_err(|error| UpstreamError::Io {
                    url: url.to_string(),
                    action: "remove the damaged mirror",
                    path: path.clone(),
                    error,
                })?;
            }
            clone_mirror(git_dir, url, &path)?;
            from_cache = false;
        }
        let commit = match resolve(url, &path, git_ref)? {
            Some(commit) => commit,
            None if from_cache => {
                from_cache = false;
                git(
                    url,
                    Some(&path),
                    &["fetch", "--quiet", "--prune", "--tags", "origin"],
                )?;
                resolve(url, &path, git_ref)?.ok_or_else(|| not_found(url, git_ref))?
            }
            None => return Err(not_found(url, git_ref)),
        };
        Ok(Mirror {
            path,
            commit,
            from_cache,
        })
    }
}

/// Clone `mirror` into `dest` and check out `commit` (detached); the origin
/// points at the real URL afterwards, as in the original boulder.
pub(crate) fn checkout(
    url: &str,
    mirror: &Path,
    commit: &str,
    dest: &Path,
) -> Result<(), UpstreamError> {
    if fs::read_dir(dest).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(UpstreamError::Invalid {
            url: url.to_string(),
            reason: format!("clone directory {} exists and is not empty", dest.display()),
        });
    }
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(|error| UpstreamError::Io {
            url: url.to_string(),
            action: "create",
            path: parent.to_path_buf(),
            error,
        })?;
    }
    let mirror = mirror.to_string_lossy();
    let dest_str = dest.to_string_lossy();
    git(
        url,
        None,
        &[
            "clone",
            "--quiet",
            "--no-checkout",
            "--",
            &mirror,
            &dest_str,
        ],
    )?;
    git(
        url,
        Some(dest),
        &[
            "-c",
            "advice.detachedHead=false",
            "checkout",
            "--quiet",
            "--detach",
            commit,
        ],
    )?;
    git(url, Some(dest), &["remote", "set-url", "origin", url])?;
    Ok(())
}

/// `<host>_<path with '/' as '.'>-<8 hex of sha256(url)>`: readable, one
/// path component, and distinct URLs never share a mirror.
fn mirror_name(url: &str) -> String {
    let (host, path) = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').unwrap_or((rest, "")),
        None => ("", url),
    };
    let path = path.trim_matches('/').replace('/', ".");
    let digest = hex::encode(Sha256::digest(url.as_bytes()));
    format!("{host}_{path}-{}", &digest[..8])
}

fn clone_mirror(git_dir: &Path, url: &str, path: &Path) -> Result<(), UpstreamError> {
    fs::create_dir_all(git_dir).map_err(|error| UpstreamError::Io {
        url: url.to_string(),
        action: "create",
        path: git_dir.to_path_buf(),
        error,
    })?;
    // Clone beside the final place and rename, so an interrupted clone never
    // looks like a mirror.
    let staging = tempfile::Builder::new()
        .prefix(".clone-")
        .tempdir_in(git_dir)
        .map_err(|error| UpstreamError::Io {
            url: url.to_string(),
            action: "create a staging directory in",
            path: git_dir.to_path_buf(),
            error,
        })?;
    let target = staging.path().join("mirror.git");
    let target_str = target.to_string_lossy();
    git(
        url,
        None,
        &["clone", "--mirror", "--quiet", "--", url, &target_str],
    )?;
    if let Err(error) = fs::rename(&target, path) {
        // Another fetch of the same URL may have won the race.
        if !path.join("HEAD").exists() {
            return Err(UpstreamError::Io {
                url: url.to_string(),
                action: "move the mirror to",
                path: path.to_path_buf(),
                error,
            });
        }
    }
    Ok(())
}

/// The full commit id of `git_ref` in the mirror, if it exists there.
fn resolve(url: &str, mirror: &Path, git_ref: &str) -> Result<Option<String>, UpstreamError> {
    let spec = format!("{git_ref}^{{commit}}");
    let output = run(
        url,
        Some(mirror),
        &["rev-parse", "--verify", "--quiet", &spec],
    )?;
    if output.status.success() {
        let commit = String::from_utf8_lossy(&output.stdout).trim().to_string();
        Ok(Some(commit))
    } else {
        Ok(None)
    }
}

fn not_found(url: &str, git_ref: &str) -> UpstreamError {
    UpstreamError::GitRefNotFound {
        url: url.to_string(),
        git_ref: git_ref.to_string(),
    }
}

/// Run git and fail with its stderr unless it succeeds.
fn git(url: &str, dir: Option<&Path>, args: &[&str]) -> Result<(), UpstreamError> {
    let output = run(url, dir, args)?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(UpstreamError::Git {
        url: url.to_string(),
        command: args.join(" "),
        detail: stderr.trim().to_string(),
    })
}

/// Configuration that makes git run nothing a repository's own config (or a
/// hostile recipe directory's `.git/config`) names: no hooks, no fsmonitor,
/// no signature verification program, no pager, no external diff.
const SAFE_CONFIG: [&str; 9] = [
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.pager=cat",
    "core.untrackedCache=false",
    "log.showSignature=false",
    "gpg.program=false",
    "diff.external=",
    "protocol.ext.allow=never",
    "uploadpack.packObjectsHook=",
];

/// `git` with no system or global configuration (only the repository's,
/// overridden by [`SAFE_CONFIG`]), no prompts and no optional locks.
pub fn safe_git() -> Command {
    let mut command = Command::new("git");
    for setting in SAFE_CONFIG {
        command.arg("-c").arg(setting);
    }
    command
        .arg("--no-pager")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_CONFIG_PARAMETERS")
        .env_remove("GIT_EXTERNAL_DIFF");
    command
}

fn run(
    url: &str,
    dir: Option<&Path>,
    args: &[&str],
) -> Result<std::process::Output, UpstreamError> {
    let mut command = safe_git();
    if let Some(dir) = dir {
        command.arg("-C").arg(dir);
    }
    command
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| UpstreamError::Git {
            url: url.to_string(),
            command: args.join(" "),
            detail: format!("cannot run the host git binary: {error}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_names_are_single_components() {
        let a = mirror_name("https://github.com/org/repo.git");
        assert!(a.starts_with("github.com_org.repo.git-"), "{a}");
        let b = mirror_name("file:///tmp/x/repo");
        assert!(b.starts_with("_tmp.x.repo-") && !b.contains('/'), "{b}");
        assert_ne!(
            mirror_name("https://h/a/b.c"),
            mirror_name("https://h/a.b/c")
        );
    }
}
