//! Collection: walk the install tree and give every path to one package.
//!
//! The walk visits entries sorted by file name, a directory after its
//! contents. A directory is recorded only when it is empty or its mode is not
//! exactly `040755` (anything else is implied by the files below it).

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;
use walkdir::WalkDir;

use super::entry::CollectedEntry;
use super::rules::Rules;

/// The mode of a directory that need not be recorded.
const PLAIN_DIRECTORY_MODE: u32 = 0o40755;

/// Why collection failed.
#[derive(Debug, Error)]
pub enum CollectError {
    #[error("cannot read the install tree at {}", path.display())]
    Walk {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("installed path {} is not valid UTF-8; stones can only hold UTF-8 paths", path.display())]
    NotUtf8 { path: PathBuf },
    #[error("no package rule matches the installed path {path}; the main package normally collects everything with the pattern `*`")]
    Unmatched { path: String },
}

/// The install tree split into packages.
#[derive(Debug, Clone)]
pub struct Collection {
    install_root: PathBuf,
    rules: Rules,
    packages: BTreeMap<String, Vec<CollectedEntry>>,
    known: HashSet<String>,
}

impl Collection {
    /// The directory the paths are relative to.
    pub fn install_root(&self) -> &Path {
        &self.install_root
    }

    /// The rules the paths were collected with.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Packages that got at least one path, by name, each with its entries in
    /// walk order.
    pub fn packages(&self) -> &BTreeMap<String, Vec<CollectedEntry>> {
        &self.packages
    }

    /// Where `path` (like `/usr/bin/x`) is on disk.
    pub fn on_disk(&self, path: &str) -> PathBuf {
        self.install_root.join(path.trim_start_matches('/'))
    }

    /// Whether `path` was already collected.
    pub fn contains(&self, path: &str) -> bool {
        self.known.contains(path)
    }

    /// Reads `path` from the install tree and records it as collected;
    /// returns the package the rules give it and its entry. Used for the walk
    /// and for files that analysis creates.
    pub(crate) fn add(&mut self, path: String) -> Result<(String, CollectedEntry), CollectError> {
        let package = self
            .rules
            .package_for(&path)
            .ok_or_else(|| CollectError::Unmatched { path: path.clone() })?
            .to_string();
        let on_disk = self.on_disk(&path);
        let entry =
            CollectedEntry::read(&on_disk, path.clone()).map_err(|source| CollectError::Read {
                path: on_disk,
                source,
            })?;
        self.known.insert(path);
        Ok((package, entry))
    }

    /// Moves the collected packages out (analysis consumes them).
    pub(crate) fn take_packages(&mut self) -> BTreeMap<String, Vec<CollectedEntry>> {
        std::mem::take(&mut self.packages)
    }
}

/// Walks `install_root` and assigns every recorded path to a package by
/// `rules`.
pub fn collect(install_root: &Path, rules: Rules) -> Result<Collection, CollectError> {
    let mut collection = Collection {
        install_root: install_root.to_path_buf(),
        rules,
        packages: BTreeMap::new(),
        known: HashSet::new(),
    };
    let walk = WalkDir::new(install_root)
        .min_depth(1)
        .follow_links(false)
        .sort_by_file_name()
        .contents_first(true);
    for item in walk {
        let item = item.map_err(|error| CollectError::Walk {
            path: error.path().unwrap_or(install_root).to_path_buf(),
            source: error.into(),
        })?;
        let relative = item
            .path()
            .strip_prefix(install_root)
            .unwrap_or(item.path());
        let path = relative.to_str().ok_or_else(|| CollectError::NotUtf8 {
            path: item.path().to_path_buf(),
        })?;
        let path = format!("/{path}");
        if item.file_type().is_dir() && !directory_is_recorded(item.path())? {
            continue;
        }
        let (package, entry) = collection.add(path)?;
        collection.packages.entry(package).or_default().push(entry);
    }
    Ok(collection)
}

fn directory_is_recorded(dir: &Path) -> Result<bool, CollectError> {
    let read_error = |source| CollectError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let meta = fs::symlink_metadata(dir).map_err(read_error)?;
    if std::os::unix::fs::MetadataExt::mode(&meta) != PLAIN_DIRECTORY_MODE {
        return Ok(true);
    }
    let mut children = fs::read_dir(dir).map_err(read_error)?;
    Ok(children.next().is_none())
}
