//! The repositories of one root: configuration plus index caches, and the
//! candidate sources the resolver chooses from.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::cache::{cache_dir, RepoCache};
use super::config::{self, sanitize_id, Repo, RepoConfig};
use super::error::RepoError;
use super::index::{read_index, IndexEntry, INDEX_FILE};
use super::root_index;
use crate::fetch;
use crate::fetch::uri::Location;

/// Where a root-index repository's cache remembers the index it resolved to.
const INDEX_URI_FILE: &str = "index-uri";

/// A root's repositories.
#[derive(Debug, Clone)]
pub struct Repositories {
    root: PathBuf,
    moss_dir: PathBuf,
    repos: BTreeMap<String, RepoConfig>,
}

/// An active repository with its cached packages.
#[derive(Debug, Clone)]
pub struct RepoPackages {
    pub repo: Repo,
    pub index: Location,
    pub entries: Vec<IndexEntry>,
}

impl RepoPackages {
    /// Where one of its packages is fetched from.
    pub fn package_location(&self, entry: &IndexEntry) -> Location {
        self.index.join(&entry.uri)
    }
}

impl Repositories {
    /// Reads the configuration of the root whose private data is `moss_dir`.
    pub fn load(root: &Path, moss_dir: &Path) -> Result<Self, RepoError> {
        Ok(Repositories {
            root: root.to_path_buf(),
            moss_dir: moss_dir.to_path_buf(),
            repos: config::load(root)?,
        })
    }

    /// Every configured repository, highest priority first.
    pub fn list(&self) -> Vec<Repo> {
        let mut out: Vec<Repo> = self
            .repos
            .iter()
            .map(|(id, config)| Repo {
                id: id.clone(),
                config: config.clone(),
            })
            .collect();
        out.sort_by(|a, b| {
            b.config
                .priority
                .cmp(&a.config.priority)
                .then(a.id.cmp(&b.id))
        });
        out
    }

    pub fn get(&self, id: &str) -> Option<Repo> {
        let id = sanitize_id(id);
        self.repos.get(&id).map(|config| Repo {
            id,
            config: config.clone(),
        })
    }

    /// Adds (or replaces) a repository; relative paths are taken from `cwd`.
    /// Call [`Repositories::refresh`] afterwards to fetch its index.
    pub fn add(
        &mut self,
        id: &str,
        uri: &str,
        priority: u64,
        description: &str,
        cwd: &Path,
    ) -> Result<Repo, RepoError> {
        let id = sanitize_id(id);
        let config = RepoConfig::direct(
            description.to_string(),
            Location::parse_index(uri, cwd).to_uri(),
            priority,
        );
        config::save(&self.root, &id, &config)?;
        self.repos.insert(id.clone(), config.clone());
        Ok(Repo { id, config })
    }

    /// Removes a repository and its cache. One this root's `repo add` did not
    /// write (a vendor file) is switched off instead.
    pub fn remove(&mut self, id: &str) -> Result<(), RepoError> {
        let id = sanitize_id(id);
        let Some(config) = self.repos.get(&id).cloned() else {
            return Err(RepoError::UnknownRepository(id));
        };
        for own in config::own_files(&self.root, &id) {
            fs::remove_file(&own).map_err(RepoError::io("removing", &own))?;
        }
        self.repos = config::load(&self.root)?;
        if let Some(remaining) = self.repos.get(&id).cloned() {
            let off = RepoConfig {
                active: false,
                ..remaining
            };
            config::save(&self.root, &id, &off)?;
            self.repos.insert(id.clone(), off);
        }
        let cache = cache_dir(&self.moss_dir, &config.source());
        if cache.exists() {
            fs::remove_dir_all(&cache).map_err(RepoError::io("removing", &cache))?;
        }
        Ok(())
    }

    /// Downloads a repository's index and replaces its cache. Returns the
    /// number of packages.
    pub fn refresh(&self, id: &str) -> Result<usize, RepoError> {
        let repo = self
            .get(id)
            .ok_or_else(|| RepoError::UnknownRepository(id.to_string()))?;
        let dir = cache_dir(&self.moss_dir, &repo.config.source());
        fs::create_dir_all(&dir).map_err(RepoError::io("creating", &dir))?;
        let location = match &repo.config.root {
            None => Location::parse_index(&repo.config.uri, &self.root),
            Some(source) => {
                let scratch = dir.join("moss-root-index.json");
                let location = root_index::resolve(&repo.id, source, &self.root, &scratch)?;
                let _ = fs::remove_file(&scratch);
                // Remembered, as the original does, so that packages are
                // fetched from the history the index came from.
                let file = dir.join(INDEX_URI_FILE);
                fs::write(&file, location.to_uri()).map_err(RepoError::io("writing", &file))?;
                location
            }
        };
        let index = dir.join(INDEX_FILE);
        fetch::fetch_file(&location, &index).map_err(|source| RepoError::Fetch {
            repo: repo.id.clone(),
            source,
        })?;
        let entries = read_index(&index)?;
        RepoCache::open(&dir)?.replace(&entries)?;
        Ok(entries.len())
    }

    /// Refreshes every active repository.
    pub fn refresh_all(&self) -> Result<Vec<(String, usize)>, RepoError> {
        self.list()
            .into_iter()
            .filter(|r| r.config.active)
            .map(|r| Ok((r.id.clone(), self.refresh(&r.id)?)))
            .collect()
    }

    /// The cached packages of every active repository, highest priority
    /// first; a repository never fetched is fetched now.
    pub fn packages(&self) -> Result<Vec<RepoPackages>, RepoError> {
        let mut out = Vec::new();
        for repo in self.list().into_iter().filter(|r| r.config.active) {
            let dir = cache_dir(&self.moss_dir, &repo.config.source());
            if !dir.join(INDEX_FILE).is_file() {
                self.refresh(&repo.id)?;
            }
            let entries = RepoCache::open(&dir)?.entries()?;
            let index = match repo.config.root {
                None => Location::parse_index(&repo.config.uri, &self.root),
                Some(_) => {
                    let file = dir.join(INDEX_URI_FILE);
                    let uri = fs::read_to_string(&file).map_err(RepoError::io("reading", &file))?;
                    Location::parse_index(uri.trim(), &self.root)
                }
            };
            out.push(RepoPackages {
                index,
                repo,
                entries,
            });
        }
        Ok(out)
    }
}
