//! Local source directories: files a packager already has, used instead of
//! a download whenever their sha256 is the one a recipe asks for (whatever
//! their name), and git mirrors kept as `DIR/git/<host>/<path>`.
//!
//! The directories come from `boulder build --sources DIR` (repeatable),
//! then `BOULDER_SOURCES` (a `:`-separated list), then
//! `$XDG_CONFIG_HOME/boulder/sources` (a directory, or a file naming one
//! directory per line).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::verify;

/// The source directories to search, in order.
#[derive(Debug, Default)]
pub struct SourceDirs {
    dirs: Vec<PathBuf>,
    /// sha256 → file, filled the first time a hash is looked up.
    by_hash: OnceLock<HashMap<String, PathBuf>>,
}

impl Clone for SourceDirs {
    fn clone(&self) -> Self {
        SourceDirs::new(self.dirs.clone())
    }
}

impl SourceDirs {
    pub fn new(dirs: Vec<PathBuf>) -> Self {
        SourceDirs {
            dirs,
            by_hash: OnceLock::new(),
        }
    }

    /// `given` (the command line's) followed by `BOULDER_SOURCES` and the
    /// user configuration's.
    pub fn configured(given: &[PathBuf]) -> Self {
        let mut dirs = given.to_vec();
        if let Some(list) = std::env::var_os("BOULDER_SOURCES") {
            dirs.extend(std::env::split_paths(&list).filter(|p| !p.as_os_str().is_empty()));
        }
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
        if let Some(config) = config {
            let entry = config.join("boulder/sources");
            if entry.is_dir() {
                dirs.push(entry);
            } else if let Ok(text) = fs::read_to_string(&entry) {
                dirs.extend(
                    text.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(PathBuf::from),
                );
            }
        }
        SourceDirs::new(dirs)
    }

    pub fn is_empty(&self) -> bool {
        self.dirs.is_empty()
    }

    /// A file of the directories whose sha256 is `expected` (lowercase hex).
    pub fn find_hash(&self, expected: &str) -> Option<&Path> {
        if self.dirs.is_empty() {
            return None;
        }
        self.by_hash
            .get_or_init(|| hash_files(&self.dirs))
            .get(expected)
            .map(PathBuf::as_path)
    }

    /// A local mirror of `url`: `DIR/git/<host>/<path>` with or without `.git`.
    pub fn git_mirror(&self, url: &str) -> Option<PathBuf> {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        let rest = rest.trim_end_matches('/');
        if rest
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return None;
        }
        let bare = rest.strip_suffix(".git").unwrap_or(rest);
        for dir in &self.dirs {
            for candidate in [bare.to_string(), format!("{bare}.git")] {
                let path = dir.join("git").join(&candidate);
                if path.is_dir() {
                    return Some(path);
                }
            }
        }
        None
    }
}

/// The sha256 of every regular file directly in `dirs` (the first of
/// equal files wins). Files that cannot be read are left out.
fn hash_files(dirs: &[PathBuf]) -> HashMap<String, PathBuf> {
    let mut files = Vec::new();
    for dir in dirs {
        let Ok(entries) = fs::read_dir(dir) else {
            continue;
        };
        let mut names: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        names.sort();
        files.extend(names);
    }
    // Hashing is the cost; spread it over the CPUs.
    let hashes = moss_core::util::map_ordered(&files, 4, |path: &PathBuf| {
        (verify::hash_file(path).ok(), path.clone())
    });
    let mut by_hash = HashMap::new();
    for (hash, path) in hashes {
        if let Some(hash) = hash {
            by_hash.entry(hash).or_insert(path);
        }
    }
    by_hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_found_by_content_and_mirrors_by_url() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("whatever-name.bin"), b"hello\n").expect("write");
        fs::create_dir_all(dir.path().join("git/example.org/team/project.git")).expect("mkdir");
        let dirs = SourceDirs::new(vec![dir.path().to_path_buf()]);
        let hello = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
        assert_eq!(
            dirs.find_hash(hello),
            Some(dir.path().join("whatever-name.bin").as_path())
        );
        assert_eq!(dirs.find_hash(&"0".repeat(64)), None);
        let mirror = dir.path().join("git/example.org/team/project.git");
        assert_eq!(
            dirs.git_mirror("https://example.org/team/project.git"),
            Some(mirror.clone())
        );
        assert_eq!(
            dirs.git_mirror("https://example.org/team/project"),
            Some(mirror)
        );
        assert_eq!(dirs.git_mirror("https://example.org/../etc"), None);
        assert_eq!(dirs.git_mirror("https://example.org/other"), None);
    }
}
