//! The repositories of a profile: finding (and fetching, or importing) their
//! `stone.index` and reading its packages. Locations, URL joins, root
//! indexes, index reading and downloads are moss-core's (`fetch`, `repo`);
//! what is boulder's own is the profile's form of a repository and where its
//! files go in the build cache.

use std::fs;
use std::path::{Path, PathBuf};

use moss_core::fetch::uri::Location;
use moss_core::repo::config::RootIndexSource;
use moss_core::stone;
use moss_core::util::with_causes;

use super::profile::{Profile, RepositorySpec};
use super::{import, Cache, RootError};

/// One repository with its packages.
#[derive(Debug, Clone)]
pub struct Repository {
    pub spec: RepositorySpec,
    /// Where the index comes from; package URIs are joined onto it.
    pub index: Location,
    /// Where the index lives on disk.
    pub index_path: PathBuf,
    /// Every package, with `package_uri`, `package_hash` (its id) and
    /// `package_size` set: an index lacking them is refused when read.
    pub packages: Vec<stone::Meta>,
}

impl Repository {
    /// Where one of its packages is fetched from.
    pub fn package_location(&self, meta: &stone::Meta) -> Location {
        self.index
            .join(meta.package_uri.as_deref().unwrap_or_default())
    }
}

/// The id of a package read by [`read_index`]: its stone's sha256.
pub fn package_id(meta: &stone::Meta) -> &str {
    meta.package_hash.as_deref().unwrap_or_default()
}

/// A moss-core error about a repository, with its causes on one line.
fn repo_error(repo: &str, error: &dyn std::error::Error) -> RootError {
    RootError::Repository {
        repo: repo.to_string(),
        message: with_causes(error),
    }
}

/// Writes a `stone.index` (one Meta payload per package) atomically.
pub fn write_index(path: &Path, metas: &[stone::Meta]) -> Result<(), RootError> {
    moss_core::repo::index::write_index_file(path, metas)
        .map_err(|e| repo_error(&path.display().to_string(), &e))
}

/// Reads the packages of a `stone.index`, each checked as moss checks an
/// index entry (URI, hash and size present, safe name and version).
pub fn read_index(path: &Path) -> Result<Vec<stone::Meta>, RootError> {
    let entries = moss_core::repo::read_index(path)
        .map_err(|e| repo_error(&path.display().to_string(), &e))?;
    Ok(entries.into_iter().map(|e| e.meta).collect())
}

/// A short stable directory name for a remote source.
fn cache_name(spec: &RepositorySpec, source: &str) -> String {
    let hash = blake3::hash(source.as_bytes()).to_hex();
    let safe: String = spec
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}-{}", &hash[..16])
}

/// Opens every repository of `profile`, importing the host or downloading
/// indexes that are not there yet.
pub fn open_all(cache: &Cache, profile: &Profile) -> Result<Vec<Repository>, RootError> {
    read_all(ensure_all(cache, profile)?)
}

/// A repository whose index is on disk and up to date, not read yet.
#[derive(Debug, Clone)]
pub struct IndexOnDisk {
    pub spec: RepositorySpec,
    pub index: Location,
    pub path: PathBuf,
}

/// Brings every index of `profile` onto the disk (the host import's
/// up-to-date check, a download when missing) without reading them.
pub fn ensure_all(cache: &Cache, profile: &Profile) -> Result<Vec<IndexOnDisk>, RootError> {
    profile
        .repositories
        .iter()
        .map(|spec| ensure(cache, spec))
        .collect()
}

/// Reads the packages of every index [`ensure_all`] brought onto the disk.
pub fn read_all(indexes: Vec<IndexOnDisk>) -> Result<Vec<Repository>, RootError> {
    indexes
        .into_iter()
        .map(|on_disk| {
            let packages = read_index(&on_disk.path)?;
            Ok(Repository {
                spec: on_disk.spec,
                index: on_disk.index,
                index_path: on_disk.path,
                packages,
            })
        })
        .collect()
}

fn ensure(cache: &Cache, spec: &RepositorySpec) -> Result<IndexOnDisk, RootError> {
    let located = locate(cache, spec)?;
    if spec.import.as_deref() == Some("host") {
        // Also when an index exists: one made by a boulder with other
        // seeds is brought up to date (a cheap check when it is current).
        import::import_host(cache, false)?;
    } else if matches!(located.index, Location::Http(_)) && !located.path.is_file() {
        let _lock = super::lock::FileLock::exclusive(&located.dir.join(".lock"))?;
        if !located.path.is_file() {
            moss_core::fetch::fetch_file(&located.index, &located.path)
                .map_err(|e| repo_error(&spec.name, &e))?;
        }
    }
    if !located.path.is_file() {
        return Err(RootError::Repository {
            repo: spec.name.clone(),
            message: format!("there is no index at {}", located.path.display()),
        });
    }
    Ok(IndexOnDisk {
        spec: spec.clone(),
        index: located.index,
        path: located.path,
    })
}

/// Where a repository's index comes from and where it is kept.
struct Located {
    index: Location,
    /// The index on disk (downloaded there when `index` is remote).
    path: PathBuf,
    /// The repository's folder in the cache.
    dir: PathBuf,
}

/// Where the index-uri a root index resolved to is remembered, so that the
/// packages come from the history the index was fetched from.
const INDEX_URI_FILE: &str = "index-uri";

fn locate(cache: &Cache, spec: &RepositorySpec) -> Result<Located, RootError> {
    if let Some(uri) = &spec.uri {
        if let Some(rel) = uri.strip_prefix("cache:") {
            let path = cache.dir().join(rel.trim_start_matches('/'));
            let dir = path.parent().unwrap_or(cache.dir()).to_path_buf();
            return Ok(Located {
                index: Location::Local(path.clone()),
                path,
                dir,
            });
        }
        let dir = cache.repos_dir().join(cache_name(spec, uri));
        let cwd = std::env::current_dir().map_err(RootError::io("reading", "."))?;
        let index = Location::parse_index(uri, &cwd);
        let path = match &index {
            Location::Local(path) => path.clone(),
            Location::Http(_) => dir.join("stone.index"),
        };
        return Ok(Located { index, path, dir });
    }
    let source = RootIndexSource {
        base_uri: spec.base_uri.clone().unwrap_or_default(),
        channel: spec.channel.clone(),
        version: spec.version.clone().unwrap_or_default(),
        arch: spec.arch.clone(),
    };
    let id = format!(
        "{}-{}-{}-{}",
        source.base_uri, source.channel, source.version, source.arch
    );
    let dir = cache.repos_dir().join(cache_name(spec, &id));
    let path = dir.join("stone.index");
    let url_file = dir.join(INDEX_URI_FILE);
    if let Ok(uri) = fs::read_to_string(&url_file) {
        let index = Location::parse_index(uri.trim(), Path::new("/"));
        return Ok(Located { index, path, dir });
    }
    fs::create_dir_all(&dir).map_err(RootError::io("creating", &dir))?;
    let scratch = dir.join("moss-root-index.json");
    let index = moss_core::repo::resolve_root_index(&spec.name, &source, Path::new("/"), &scratch)
        .map_err(|e| repo_error(&spec.name, &e))?;
    let _ = fs::remove_file(&scratch);
    fs::write(&url_file, index.to_uri()).map_err(RootError::io("writing", &url_file))?;
    Ok(Located { index, path, dir })
}

/// Hex sha256 of a file's content.
pub fn sha256_file(path: &Path) -> Result<String, RootError> {
    moss_core::util::sha256_file(path)
        .map(|(hash, _)| hash)
        .map_err(RootError::io("reading", path))
}
