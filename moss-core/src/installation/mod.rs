//! An installation root: where its private data lives under `ROOT/.moss/`,
//! and the lock that keeps two moss processes from mutating one root at once.

mod lock;

use std::io;
use std::path::{Path, PathBuf};

pub use lock::RootLock;

/// Errors opening or locking an installation.
#[derive(Debug, thiserror::Error)]
pub enum InstallationError {
    #[error("installation root {path} does not exist or is not a directory")]
    MissingRoot { path: PathBuf },
    #[error("cannot create {path}")]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot lock {path}")]
    Lock { path: PathBuf, source: io::Error },
}

/// The paths of one installation. Cheap to clone; holds no open files.
#[derive(Debug, Clone)]
pub struct Installation {
    root: PathBuf,
}

impl Installation {
    /// Opens the installation at `root` (which must exist) and creates the
    /// `.moss` skeleton when it is missing.
    pub fn open(root: &Path) -> Result<Self, InstallationError> {
        if !root.is_dir() {
            return Err(InstallationError::MissingRoot {
                path: root.to_path_buf(),
            });
        }
        let this = Self {
            root: root.to_path_buf(),
        };
        for dir in [
            this.moss_dir(),
            this.db_dir(),
            this.assets_dir(),
            this.states_dir(),
        ] {
            std::fs::create_dir_all(&dir)
                .map_err(|source| InstallationError::CreateDir { path: dir, source })?;
        }
        Ok(this)
    }

    /// The installation at `root` as it is: nothing is created.
    pub fn at(root: &Path) -> Result<Self, InstallationError> {
        if !root.is_dir() {
            return Err(InstallationError::MissingRoot {
                path: root.to_path_buf(),
            });
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// Takes the exclusive root lock, waiting while another process holds it.
    pub fn lock(&self) -> Result<RootLock, InstallationError> {
        let path = self.moss_dir().join(".moss-lockfile");
        RootLock::acquire(&path).map_err(|source| InstallationError::Lock { path, source })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    /// The live tree, `ROOT/usr`.
    pub fn usr(&self) -> PathBuf {
        self.root.join("usr")
    }
    pub fn moss_dir(&self) -> PathBuf {
        self.root.join(".moss")
    }
    pub fn db_dir(&self) -> PathBuf {
        self.moss_dir().join("db")
    }
    /// The content store, `.moss/assets/v2` (naming compatible with the original moss).
    pub fn assets_dir(&self) -> PathBuf {
        self.moss_dir().join("assets").join("v2")
    }
    /// Store files materialised at a non-canonical mode, `.moss/assets/modes/<octal>/`.
    pub fn mode_variants_dir(&self) -> PathBuf {
        self.moss_dir().join("assets").join("modes")
    }
    /// `.moss/root`: the staging tree and the archived states.
    pub fn states_dir(&self) -> PathBuf {
        self.moss_dir().join("root")
    }
    /// Where a transaction builds its new tree (`staging/usr`).
    pub fn staging_dir(&self) -> PathBuf {
        self.states_dir().join("staging")
    }
    /// Where an inactive state's tree is kept (`root/<id>`, holding `usr`).
    pub fn archive_dir(&self, state: i64) -> PathBuf {
        self.states_dir().join(state.to_string())
    }
}

/// Name of the file inside each `usr` tree that records the state it belongs to.
pub const STATE_ID_FILE: &str = ".stateID";
