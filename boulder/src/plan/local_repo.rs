//! The local repository a run of builds fills: every successful build's
//! stones and manifests, indexed after each build, for later roots.
//!
//! Layout of `REPO`:
//!
//! ```text
//! stone.index                 every package below packages/, URIs relative
//! packages/<recipe>/          the stones and manifests of the last build
//! packages/<recipe>/build-state   input and output digests of that build
//! logs/<recipe>.log           the output of the recipe's last build
//! .staging/                   builds write here before publishing
//! .lock                       held while publishing and indexing
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use crate::recipe::HOST_ARCH;
use crate::root::profile::RepositorySpec;
use crate::root::{FileLock, RootError};

/// The priority of the local repository: above any profile's repositories,
/// so what the run just built wins over an older package of the same name.
pub const PRIORITY: u64 = 1000;

/// The repository below one directory.
#[derive(Debug, Clone)]
pub struct LocalRepo {
    dir: PathBuf,
}

/// What the last build of a recipe recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildState {
    /// The input digest the build was made from ([`super::digest`]).
    pub inputs: String,
    /// The digest of the stones it made (what depending recipes hash).
    pub outputs: String,
    /// The stones' file names.
    pub stones: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LocalRepoError {
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot lock the local repository")]
    Lock(#[source] RootError),
    #[error("cannot index the local repository {}", dir.display())]
    Index {
        dir: PathBuf,
        #[source]
        source: Box<moss_core::repo::RepoError>,
    },
}

fn io<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> LocalRepoError + 'a {
    move |source| LocalRepoError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

impl LocalRepo {
    /// The repository at `dir` (made when something is published).
    pub fn new(dir: &Path) -> Self {
        let dir = fs::canonicalize(dir)
            .unwrap_or_else(|_| std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()));
        LocalRepo { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn index_path(&self) -> PathBuf {
        self.dir.join(moss_core::repo::index::INDEX_FILE)
    }

    /// Where a recipe's stones and manifests are.
    pub fn recipe_dir(&self, recipe: &str) -> PathBuf {
        self.dir.join("packages").join(recipe)
    }

    pub fn log_path(&self, recipe: &str) -> PathBuf {
        self.dir.join("logs").join(format!("{recipe}.log"))
    }

    /// A fresh directory for a build's output, to [`publish`](Self::publish) from.
    pub fn staging(&self) -> Result<tempfile::TempDir, LocalRepoError> {
        let parent = self.dir.join(".staging");
        fs::create_dir_all(&parent).map_err(io("create", &parent))?;
        tempfile::Builder::new()
            .prefix("build-")
            .tempdir_in(&parent)
            .map_err(io("create a directory in", &parent))
    }

    /// The repository as a root sees it, once it has an index.
    pub fn spec(&self) -> Option<RepositorySpec> {
        let index = self.index_path();
        index.is_file().then(|| RepositorySpec {
            name: "local".to_string(),
            uri: Some(format!("file://{}", index.display())),
            base_uri: None,
            channel: "main".to_string(),
            version: None,
            arch: HOST_ARCH.to_string(),
            priority: PRIORITY,
            import: None,
        })
    }

    /// Replaces `recipe`'s stones and manifests with `files` (moved), then
    /// indexes the repository, all under the repository lock.
    pub fn publish(&self, recipe: &str, files: &[PathBuf]) -> Result<Vec<PathBuf>, LocalRepoError> {
        fs::create_dir_all(&self.dir).map_err(io("create", &self.dir))?;
        let _lock = FileLock::exclusive(&self.dir.join(".lock")).map_err(LocalRepoError::Lock)?;
        let target = self.recipe_dir(recipe);
        if target.is_dir() {
            fs::remove_dir_all(&target).map_err(io("replace", &target))?;
        }
        fs::create_dir_all(&target).map_err(io("create", &target))?;
        let mut placed = Vec::new();
        for file in files {
            let to = target.join(file.file_name().unwrap_or_default());
            if fs::rename(file, &to).is_err() {
                fs::copy(file, &to).map_err(io("copy into", &to))?;
            }
            placed.push(to);
        }
        self.index_locked()?;
        Ok(placed)
    }

    /// Indexes `packages/` into `stone.index` (the caller holds the lock).
    fn index_locked(&self) -> Result<(), LocalRepoError> {
        let packages = self.dir.join("packages");
        fs::create_dir_all(&packages).map_err(io("create", &packages))?;
        moss_core::repo::index::write_index_to(&packages, &self.dir).map_err(|source| {
            LocalRepoError::Index {
                dir: self.dir.clone(),
                source: Box::new(source),
            }
        })?;
        Ok(())
    }

    /// The `provides` of each package in the recipe's last manifest.
    pub fn recorded_provides(&self, recipe: &str) -> Vec<(String, Vec<String>)> {
        let path = self
            .recipe_dir(recipe)
            .join(format!("manifest.{HOST_ARCH}.jsonc"));
        let Ok(text) = fs::read_to_string(&path) else {
            return Vec::new();
        };
        // The report starts with a `/** … */` comment line.
        let json = text
            .split_once("*/")
            .map_or(text.as_str(), |(_, rest)| rest);
        let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else {
            return Vec::new();
        };
        let Some(packages) = value.get("packages").and_then(|p| p.as_object()) else {
            return Vec::new();
        };
        packages
            .iter()
            .map(|(name, package)| {
                let provides = package
                    .get("provides")
                    .and_then(|p| p.as_array())
                    .map(|list| {
                        list.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                (name.clone(), provides)
            })
            .collect()
    }

    fn state_path(&self, recipe: &str) -> PathBuf {
        self.recipe_dir(recipe).join("build-state")
    }

    /// The state of the recipe's last build, when its stones are all there.
    pub fn state(&self, recipe: &str) -> Option<BuildState> {
        let text = fs::read_to_string(self.state_path(recipe)).ok()?;
        let mut inputs = None;
        let mut outputs = None;
        let mut stones = Vec::new();
        for line in text.lines() {
            match line.split_once(' ') {
                Some(("inputs", value)) => inputs = Some(value.to_string()),
                Some(("outputs", value)) => outputs = Some(value.to_string()),
                Some(("stone", value)) => stones.push(value.to_string()),
                _ => {}
            }
        }
        let dir = self.recipe_dir(recipe);
        if stones.is_empty() || !stones.iter().all(|s| dir.join(s).is_file()) {
            return None;
        }
        Some(BuildState {
            inputs: inputs?,
            outputs: outputs?,
            stones,
        })
    }

    /// Records a successful build: its inputs and the digest of the stones
    /// now in the recipe's directory.
    pub fn record(&self, recipe: &str, inputs: &str) -> Result<BuildState, LocalRepoError> {
        let dir = self.recipe_dir(recipe);
        let mut stones: Vec<String> = fs::read_dir(&dir)
            .map_err(io("read", &dir))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".stone"))
            .collect();
        stones.sort();
        let mut hasher = blake3::Hasher::new();
        for stone in &stones {
            let path = dir.join(stone);
            let bytes = fs::read(&path).map_err(io("read", &path))?;
            hasher.update(stone.as_bytes());
            hasher.update(&[0]);
            hasher.update(blake3::hash(&bytes).as_bytes());
        }
        let state = BuildState {
            inputs: inputs.to_string(),
            outputs: hasher.finalize().to_hex().to_string(),
            stones,
        };
        let mut text = format!("inputs {}\noutputs {}\n", state.inputs, state.outputs);
        for stone in &state.stones {
            text.push_str(&format!("stone {stone}\n"));
        }
        let path = self.state_path(recipe);
        fs::write(&path, text).map_err(io("write", &path))?;
        Ok(state)
    }
}
