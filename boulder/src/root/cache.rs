//! The cache directory shared by every build of a user:
//!
//! ```text
//! CACHE/repos/<repo>/          local repositories (the host import) and downloaded indexes
//! CACHE/store/assets/          the moss content store every root hardlinks from
//! CACHE/store/modes/           store files at other modes
//! CACHE/store/cached/<sha256>  marks a stone whose content is in the store
//! CACHE/roots/<key>/           blitted roots, keyed by their package set
//! CACHE/builds/<recipe>-<id>/  per-build writable directories
//! CACHE/locks/                 flock files
//! CACHE/epochs/                 each recipe's last commit time, under its repository's HEAD
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use moss_core::store::{ModeVariants, Store};

use super::progress::{ImportProgress, Silent};
use super::RootError;

/// An opened cache directory.
#[derive(Clone)]
pub struct Cache {
    dir: PathBuf,
    profiles_dir: Option<PathBuf>,
    progress: Arc<dyn ImportProgress>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("dir", &self.dir)
            .field("profiles_dir", &self.profiles_dir)
            .finish()
    }
}

/// `$XDG_CACHE_HOME/boulder`, else `$HOME/.cache/boulder`.
pub fn default_cache_dir() -> Option<PathBuf> {
    xdg_dir("XDG_CACHE_HOME", ".cache").map(|d| d.join("boulder"))
}

/// `$XDG_CONFIG_HOME/boulder/profiles`, else `$HOME/.config/boulder/profiles`.
pub fn default_profiles_dir() -> Option<PathBuf> {
    xdg_dir("XDG_CONFIG_HOME", ".config").map(|d| d.join("boulder/profiles"))
}

fn xdg_dir(var: &str, fallback: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(dir) if Path::new(&dir).is_absolute() => Some(PathBuf::from(dir)),
        _ => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(fallback)),
    }
}

impl Cache {
    /// Opens (creating it when missing) `dir`, or the default cache directory.
    pub fn open(dir: Option<&Path>) -> Result<Cache, RootError> {
        let dir = match dir {
            Some(d) => d.to_path_buf(),
            None => default_cache_dir().ok_or(RootError::NoCacheDir)?,
        };
        std::fs::create_dir_all(&dir).map_err(RootError::io("creating", &dir))?;
        // Absolute and symlink-free: the sandbox and the blit want real paths.
        let dir = std::fs::canonicalize(&dir).map_err(RootError::io("resolving", &dir))?;
        Ok(Cache {
            dir,
            profiles_dir: default_profiles_dir(),
            progress: Arc::new(Silent),
        })
    }

    /// Look for profile files in `dir` (instead of the XDG config directory).
    pub fn with_profiles_dir(mut self, dir: Option<PathBuf>) -> Self {
        if dir.is_some() {
            self.profiles_dir = dir;
        }
        self
    }

    /// Report host-import progress here (the library itself never prints).
    pub fn with_progress(mut self, progress: Arc<dyn ImportProgress>) -> Self {
        self.progress = progress;
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn profiles_dir(&self) -> Option<&Path> {
        self.profiles_dir.as_deref()
    }

    pub(crate) fn progress(&self) -> &dyn ImportProgress {
        self.progress.as_ref()
    }

    pub fn repos_dir(&self) -> PathBuf {
        self.dir.join("repos")
    }

    /// Downloaded stones of remote repositories, by sha256.
    pub fn downloads_dir(&self) -> PathBuf {
        self.dir.join("downloads")
    }

    pub fn roots_dir(&self) -> PathBuf {
        self.dir.join("roots")
    }

    pub fn builds_dir(&self) -> PathBuf {
        self.dir.join("builds")
    }

    /// Each recipe's `SOURCE_DATE_EPOCH` from git, remembered under the
    /// repository's `HEAD` ([`crate::package::emit::epoch::source_date_epoch_cached`]).
    pub fn epochs_dir(&self) -> PathBuf {
        self.dir.join("epochs")
    }

    pub(crate) fn locks_dir(&self) -> PathBuf {
        self.dir.join("locks")
    }

    pub(crate) fn lock_path(&self, name: &str) -> PathBuf {
        self.locks_dir().join(format!("{name}.lock"))
    }

    pub fn store(&self) -> Store {
        Store::new(self.dir.join("store/assets"))
    }

    pub fn mode_variants(&self) -> ModeVariants {
        ModeVariants::new(self.dir.join("store/modes"))
    }

    /// Marker files of stones whose content is in the store.
    pub(crate) fn cached_marks_dir(&self) -> PathBuf {
        self.dir.join("store/cached")
    }
}
