//! The commit a repository's `HEAD` names, read from the repository's files
//! without running git: the key under which a recipe's last commit time is
//! remembered between builds ([`super::epoch`]).
//!
//! `git log -1 -- <recipe>` depends only on the history behind `HEAD`, so
//! the same `HEAD` commit gives the same answer. Running git for it costs a
//! process and a walk of the history (7 ms of CPU and 20–40 ms of wall time
//! on a loaded machine, for a recipe last changed a few hundred commits
//! ago); reading `HEAD` and one ref costs two small reads. Whatever this
//! module does not understand (a reftable, replace refs, a `GIT_*`
//! variable that moves the repository or rewrites its history, a
//! repository across a file system boundary) gives `None`, and the caller
//! asks git as before.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The state of a repository that decides what `git log` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The repository's common directory (`.git`, or the main repository's
    /// for a linked worktree).
    pub common_dir: PathBuf,
    /// The commit `HEAD` names (40 or 64 hex digits).
    pub commit: String,
    /// What else changes git's answer for the same commit: the shallow
    /// boundary, grafts, the repository's configuration (size, modification
    /// time and inode of each), and who owns the repository and asks (git
    /// refuses a repository of another user).
    pub stamp: String,
}

/// How deep a chain of symbolic refs is followed.
const MAX_SYMREF_DEPTH: usize = 5;

/// The `HEAD` of the repository holding `dir`, as git would find it from
/// there; `None` when it cannot be read with certainty.
pub fn head_of(dir: &Path) -> Option<Head> {
    if environment_moves_the_repository() {
        return None;
    }
    let git_dir = discover(dir)?;
    let common_dir = match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(text) => git_dir.join(text.trim_end_matches('\n')),
        Err(_) => git_dir.clone(),
    };
    if common_dir.join("reftable").exists() || has_entries(&common_dir.join("refs/replace")) {
        return None;
    }
    let packed = std::fs::read_to_string(common_dir.join("packed-refs")).unwrap_or_default();
    if packed.contains(" refs/replace/") {
        return None;
    }
    let commit = resolve(&git_dir, &common_dir, &packed)?;
    let owner = std::fs::metadata(&git_dir).ok()?.uid();
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let mut stamp = format!("owner {owner} euid {euid}");
    for file in [
        common_dir.join("shallow"),
        common_dir.join("info/grafts"),
        common_dir.join("config"),
        git_dir.join("config.worktree"),
    ] {
        match std::fs::metadata(&file) {
            Ok(meta) => stamp.push_str(&format!(
                " {}:{}:{}.{}:{}",
                file.display(),
                meta.len(),
                meta.mtime(),
                meta.mtime_nsec(),
                meta.ino()
            )),
            Err(_) => stamp.push_str(&format!(" {}:-", file.display())),
        }
    }
    Some(Head {
        common_dir,
        commit,
        stamp,
    })
}

/// Variables (besides `GIT_DIR`, `GIT_WORK_TREE` and
/// `GIT_CONFIG_PARAMETERS`, which boulder's git never sees) that change
/// where git finds a repository, its objects or refs, or what its history
/// is. Others (`GIT_SSL_CAINFO`, say) change nothing `git log` answers.
const REPOSITORY_VARIABLES: [&str; 13] = [
    "GIT_COMMON_DIR",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_REPLACE_REF_BASE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_GRAFT_FILE",
    "GIT_SHALLOW_FILE",
    "GIT_CONFIG",
    "GIT_CONFIG_COUNT",
    "GIT_CONFIG_SYSTEM",
];

/// Whether the environment sets one of [`REPOSITORY_VARIABLES`] (or
/// configuration entries, `GIT_CONFIG_KEY_<n>`).
pub fn environment_moves_the_repository() -> bool {
    std::env::vars_os().any(|(name, _)| {
        let name = name.to_string_lossy();
        REPOSITORY_VARIABLES.contains(&name.as_ref()) || name.starts_with("GIT_CONFIG_KEY_")
    })
}

/// The git directory for `dir`: the first `.git` (a directory, or a file
/// `gitdir: <path>` of a linked worktree) in `dir` or above it, on the same
/// file system (git stops at a boundary).
fn discover(dir: &Path) -> Option<PathBuf> {
    let device = std::fs::metadata(dir).ok()?.dev();
    for ancestor in dir.ancestors() {
        let meta = std::fs::metadata(ancestor).ok()?;
        if meta.dev() != device {
            return None;
        }
        let candidate = ancestor.join(".git");
        let Ok(meta) = std::fs::symlink_metadata(&candidate) else {
            continue;
        };
        if meta.is_dir() {
            return Some(candidate);
        }
        if meta.is_file() {
            let text = std::fs::read_to_string(&candidate).ok()?;
            let target = text.strip_prefix("gitdir:")?.trim();
            return Some(ancestor.join(target));
        }
        return None;
    }
    None
}

fn has_entries(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
}

fn is_object_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Follows `HEAD` through symbolic refs to a commit id: loose refs first
/// (per-worktree ones in the worktree's git directory), then `packed-refs`.
fn resolve(git_dir: &Path, common_dir: &Path, packed: &str) -> Option<String> {
    let mut name = "HEAD".to_string();
    for _ in 0..MAX_SYMREF_DEPTH {
        let per_worktree = name == "HEAD"
            || ["refs/worktree/", "refs/bisect/", "refs/rewritten/"]
                .iter()
                .any(|prefix| name.starts_with(prefix));
        let base = if per_worktree { git_dir } else { common_dir };
        if name.split('/').any(|part| part.is_empty() || part == "..") {
            return None;
        }
        let text = match std::fs::read_to_string(base.join(&name)) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return packed_ref(packed, &name);
            }
            Err(_) => return None,
        };
        let text = text.trim_end();
        if let Some(target) = text.strip_prefix("ref:") {
            name = target.trim().to_string();
            continue;
        }
        return is_object_id(text).then(|| text.to_ascii_lowercase());
    }
    None
}

/// The id of `name` in the text of a `packed-refs` file.
fn packed_ref(packed: &str, name: &str) -> Option<String> {
    packed
        .lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with('^'))
        .filter_map(|line| line.split_once(' '))
        .find(|(_, refname)| *refname == name)
        .map(|(id, _)| id)
        .filter(|id| is_object_id(id))
        .map(str::to_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_refs_are_looked_up_by_full_name() {
        let packed = "# pack-refs with: peeled fully-peeled sorted\n\
                      1111111111111111111111111111111111111111 refs/heads/main\n\
                      ^2222222222222222222222222222222222222222\n\
                      3333333333333333333333333333333333333333 refs/heads/main2\n";
        assert_eq!(
            packed_ref(packed, "refs/heads/main").as_deref(),
            Some("1111111111111111111111111111111111111111")
        );
        assert_eq!(packed_ref(packed, "refs/heads/mai"), None);
        assert!(is_object_id(&"a".repeat(64)));
        assert!(!is_object_id("xyz"));
    }
}
