//! Per-build writable directories, mounted over the (read-only) root at
//! `/mason/*`. Every build gets its own; they stay after the build so
//! `boulder chroot` can look at them.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Cache, RootError};

/// The writable directories of one build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildDirs {
    /// `CACHE/builds/<recipe>-<unique>`: the log and the breakpoint channel
    /// live here, out of the build's reach.
    pub base: PathBuf,
    /// `BASE/mason`, bound as a whole onto `/mason`: one mount instead of four.
    pub mason: PathBuf,
    /// `/mason/build` inside the sandbox.
    pub build: PathBuf,
    /// `/mason/install`.
    pub install: PathBuf,
    /// `/mason/artefacts`.
    pub artefacts: PathBuf,
    /// `/mason/ccache`.
    pub ccache: PathBuf,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// `<nanoseconds since the epoch, 20 digits>-<pid>-<counter>`: sorts by
/// creation time and never repeats between processes or threads.
fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{nanos:020}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn is_unique(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 3
        && parts[0].len() == 20
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Recipe names become one path component.
fn safe_name(recipe: &str) -> String {
    let name: String = recipe
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+-._".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        format!("_{name}")
    } else {
        name
    }
}

impl BuildDirs {
    fn at(base: PathBuf) -> Self {
        let mason = base.join("mason");
        BuildDirs {
            build: mason.join("build"),
            install: mason.join("install"),
            artefacts: mason.join("artefacts"),
            ccache: mason.join("ccache"),
            mason,
            base,
        }
    }

    /// Creates a fresh set for a build of `recipe_name`.
    pub fn create(cache: &Cache, recipe_name: &str) -> Result<Self, RootError> {
        let parent = cache.builds_dir();
        fs::create_dir_all(&parent).map_err(RootError::io("creating", &parent))?;
        let base = parent.join(format!("{}-{}", safe_name(recipe_name), unique()));
        // create_dir (not _all) fails if the name is taken: nothing is shared.
        fs::create_dir(&base).map_err(RootError::io("creating", &base))?;
        let dirs = BuildDirs::at(base);
        let all = [
            &dirs.mason,
            &dirs.build,
            &dirs.install,
            &dirs.artefacts,
            &dirs.ccache,
        ];
        for dir in all {
            fs::create_dir(dir).map_err(RootError::io("creating", dir))?;
        }
        Ok(dirs)
    }

    /// The newest set made for `recipe_name`, if any.
    pub fn latest(cache: &Cache, recipe_name: &str) -> Option<Self> {
        let prefix = format!("{}-", safe_name(recipe_name));
        let entries = fs::read_dir(cache.builds_dir()).ok()?;
        entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| name.strip_prefix(&prefix).is_some_and(is_unique))
            .max()
            .map(|name| BuildDirs::at(cache.builds_dir().join(name)))
            .filter(|dirs| dirs.build.is_dir())
    }

    /// Every build directory set in the cache (for pruning).
    pub fn all(cache: &Cache) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(cache.builds_dir()) else {
            return Vec::new();
        };
        entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect()
    }

    pub fn base(&self) -> &Path {
        &self.base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_are_recognised() {
        let u = unique();
        assert!(is_unique(&u), "{u}");
        assert!(!is_unique("lite-00000000000000000001-1-1"));
        assert_eq!(safe_name("a/b"), "a_b");
        assert_eq!(safe_name(".."), "_..");
    }

    #[test]
    fn latest_ignores_recipes_sharing_a_prefix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(Some(dir.path())).expect("cache");
        let first = BuildDirs::create(&cache, "fortune").expect("create");
        let second = BuildDirs::create(&cache, "fortune").expect("create");
        let _other = BuildDirs::create(&cache, "fortune-lite").expect("create");
        assert_ne!(first.base, second.base);
        assert_eq!(BuildDirs::latest(&cache, "fortune"), Some(second));
        assert!(BuildDirs::latest(&cache, "hello").is_none());
    }
}
