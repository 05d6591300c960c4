//! The repositories of a profile: finding (and fetching, or importing) their
//! `stone.index`, reading its packages, and getting a package's `.stone`.

use std::fs;
use std::path::{Path, PathBuf};

use moss_core::stone::{self, FileType, StoneReader};

use super::profile::{Profile, RepositorySpec};
use super::{fetch, import, Cache, RootError};

/// One repository with its packages.
#[derive(Debug, Clone)]
pub struct Repository {
    pub spec: RepositorySpec,
    /// URL (or `file://` URL) of the index; package URIs are relative to it.
    pub index_url: String,
    /// Where the index lives on disk.
    pub index_path: PathBuf,
    /// Where downloaded stones go.
    pub download_dir: PathBuf,
    pub packages: Vec<stone::Meta>,
}

/// Writes a `stone.index` (one Meta payload per package) atomically.
pub fn write_index(path: &Path, metas: &[stone::Meta]) -> Result<(), RootError> {
    moss_core::repo::index::write_index_file(path, metas).map_err(|e| RootError::Repository {
        repo: path.display().to_string(),
        message: e.to_string(),
    })
}

/// Reads the packages of a `stone.index`.
pub fn read_index(path: &Path) -> Result<Vec<stone::Meta>, RootError> {
    let stone_err = |source| RootError::Stone {
        path: path.to_path_buf(),
        source,
    };
    let reader = StoneReader::open_path(path).map_err(stone_err)?;
    if reader.header().file_type != FileType::Repository {
        return Err(RootError::Repository {
            repo: path.display().to_string(),
            message: "the index is not a repository stone".into(),
        });
    }
    reader
        .metas()
        .collect::<Result<Vec<_>, _>>()
        .map_err(stone_err)
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
    profile
        .repositories
        .iter()
        .map(|spec| open(cache, spec))
        .collect()
}

fn open(cache: &Cache, spec: &RepositorySpec) -> Result<Repository, RootError> {
    let (index_url, index_path, download_dir) = locate(cache, spec)?;
    if spec.import.as_deref() == Some("host") {
        // Also when an index exists: one made by a boulder with other
        // seeds is brought up to date (a cheap check when it is current).
        import::import_host(cache, false)?;
    } else if !index_path.is_file()
        && (index_url.starts_with("http://") || index_url.starts_with("https://"))
    {
        let _lock = super::lock::FileLock::exclusive(&download_dir.join(".lock"))?;
        if !index_path.is_file() {
            fetch::download(&spec.name, &index_url, &index_path)?;
        }
    }
    if !index_path.is_file() {
        return Err(RootError::Repository {
            repo: spec.name.clone(),
            message: format!("there is no index at {}", index_path.display()),
        });
    }
    let packages = read_index(&index_path)?;
    Ok(Repository {
        spec: spec.clone(),
        index_url,
        index_path,
        download_dir,
        packages,
    })
}

/// (index URL, index path on disk, download directory) of a repository.
fn locate(cache: &Cache, spec: &RepositorySpec) -> Result<(String, PathBuf, PathBuf), RootError> {
    if let Some(uri) = &spec.uri {
        if let Some(rel) = uri.strip_prefix("cache:") {
            let path = cache.dir().join(rel.trim_start_matches('/'));
            let dir = path.parent().unwrap_or(cache.dir()).to_path_buf();
            return Ok((format!("file://{}", path.display()), path, dir));
        }
        if let Some(path) = uri.strip_prefix("file://") {
            let path = PathBuf::from(path);
            let dir = cache.repos_dir().join(cache_name(spec, uri));
            return Ok((uri.clone(), path, dir));
        }
        let dir = cache.repos_dir().join(cache_name(spec, uri));
        return Ok((uri.clone(), dir.join("stone.index"), dir));
    }
    let base = spec.base_uri.as_deref().unwrap_or_default();
    let version = spec.version.as_deref().unwrap_or_default();
    let source = format!("{base}-{}-{version}-{}", spec.channel, spec.arch);
    let dir = cache.repos_dir().join(cache_name(spec, &source));
    let url_file = dir.join("index-uri");
    if let Ok(url) = fs::read_to_string(&url_file) {
        return Ok((url.trim().to_string(), dir.join("stone.index"), dir));
    }
    let url = super::root_index::resolve(spec)?;
    fs::create_dir_all(&dir).map_err(RootError::io("creating", &dir))?;
    fs::write(&url_file, &url).map_err(RootError::io("writing", &url_file))?;
    Ok((url, dir.join("stone.index"), dir))
}

/// The local path of a package's stone, downloading it (and checking its
/// sha256) when it is remote and not downloaded yet.
pub fn stone_path(repo: &Repository, meta: &stone::Meta) -> Result<PathBuf, RootError> {
    let uri = meta
        .package_uri
        .as_deref()
        .ok_or_else(|| RootError::Repository {
            repo: repo.spec.name.clone(),
            message: format!("package {} has no URI in the index", meta.name),
        })?;
    let base = repo
        .index_url
        .rsplit_once('/')
        .map_or(repo.index_url.as_str(), |(b, _)| b);
    let url = if uri.contains("://") {
        uri.to_string()
    } else {
        format!("{base}/{uri}")
    };
    if let Some(path) = url.strip_prefix("file://") {
        return Ok(PathBuf::from(path));
    }
    let hash = meta
        .package_hash
        .clone()
        .unwrap_or_else(|| blake3::hash(url.as_bytes()).to_hex().to_string());
    let target = repo
        .download_dir
        .join("stones")
        .join(format!("{hash}.stone"));
    if target.is_file() {
        return Ok(target);
    }
    fetch::download(&repo.spec.name, &url, &target)?;
    if let Some(expected) = &meta.package_hash {
        let actual = sha256_file(&target)?;
        if &actual != expected {
            let _ = fs::remove_file(&target);
            return Err(RootError::Repository {
                repo: repo.spec.name.clone(),
                message: format!("{url} has sha256 {actual}, the index says {expected}"),
            });
        }
    }
    Ok(target)
}

/// Hex sha256 of a file's content.
pub fn sha256_file(path: &Path) -> Result<String, RootError> {
    moss_core::util::sha256_file(path)
        .map(|(hash, _)| hash)
        .map_err(RootError::io("reading", path))
}
