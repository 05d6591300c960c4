//! `stone.index`: writing one for a folder of stones (`moss index DIR`) and
//! reading one back, in the original tools' format.
//!
//! Every `*.stone` under the folder is hashed (sha256) and its Meta read, on
//! all CPUs. When several files carry the same package name the highest
//! source release wins and equal releases are refused, as the original does
//! (the build release is not compared). Packages are written in name order,
//! each with `PackageURI` relative to the folder the index is written to.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Component, Path, PathBuf};

use super::error::RepoError;
use crate::fetch::part_path;
use crate::stone::{FileType, Meta, StoneReader, StoneWriter, WriteOptions};

/// The file name of a repository index.
pub const INDEX_FILE: &str = "stone.index";

/// One package of an index: its metadata plus where to fetch it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// Name, version, releases, providers, dependencies, conflicts, …; its
    /// `package_uri`, `package_hash` and `package_size` are set.
    pub meta: Meta,
    /// `PackageURI`: the stone's location relative to the index.
    pub uri: String,
    /// `PackageHash`: sha256 hex of the `.stone` file; the package id.
    pub hash: String,
    /// `PackageSize`: byte size of the `.stone` file.
    pub size: u64,
}

impl IndexEntry {
    fn from_meta(path: &Path, meta: Meta) -> Result<Self, RepoError> {
        let missing = |field| RepoError::IncompleteEntry {
            path: path.to_path_buf(),
            name: meta.name.clone(),
            field,
        };
        let uri = meta
            .package_uri
            .clone()
            .ok_or_else(|| missing("PackageURI"))?;
        let hash = meta
            .package_hash
            .clone()
            .ok_or_else(|| missing("PackageHash"))?;
        let size = meta.package_size.ok_or_else(|| missing("PackageSize"))?;
        // Names, versions and the hash become parts of paths later (download
        // cache, extraction): refuse what could leave a directory here, where they enter.
        crate::name::check_package_name(&meta.name)
            .and_then(|()| crate::name::check_version(&meta.version))
            .map_err(|source| RepoError::UnsafeName {
                path: path.to_path_buf(),
                source,
            })?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(RepoError::BadHash {
                path: path.to_path_buf(),
                name: meta.name.clone(),
                hash: hash.escape_debug().to_string(),
            });
        }
        Ok(IndexEntry {
            meta,
            uri,
            hash,
            size,
        })
    }
}

/// What [`write_index`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexReport {
    /// The index written.
    pub path: PathBuf,
    /// Packages in it, in name order.
    pub entries: Vec<IndexEntry>,
    /// Stones left out because a higher release of the same name exists.
    pub superseded: Vec<PathBuf>,
}

/// Indexes every `*.stone` under `dir` into `dir/stone.index`.
pub fn write_index(dir: &Path) -> Result<IndexReport, RepoError> {
    write_index_to(dir, dir)
}

/// Indexes every `*.stone` under `dir` into `out_dir/stone.index`; URIs are
/// relative to `out_dir` (and may start with `../`).
pub fn write_index_to(dir: &Path, out_dir: &Path) -> Result<IndexReport, RepoError> {
    fs::create_dir_all(out_dir).map_err(RepoError::io("creating", out_dir))?;
    let out_dir = fs::canonicalize(out_dir).map_err(RepoError::io("resolving", out_dir))?;
    let dir = fs::canonicalize(dir).map_err(RepoError::io("resolving", dir))?;
    let stones = find_stones(&dir)?;
    let scanned = scan_all(&stones, &out_dir)?;

    let mut by_name: BTreeMap<String, (PathBuf, Meta)> = BTreeMap::new();
    let mut superseded = Vec::new();
    for (path, meta) in scanned {
        match by_name.get(&meta.name) {
            None => {}
            Some((kept, old)) if old.source_release == meta.source_release => {
                return Err(RepoError::DuplicateRelease {
                    name: meta.name.clone(),
                    release: meta.source_release,
                    first: kept.clone(),
                    second: path,
                });
            }
            Some((_, old)) if old.source_release > meta.source_release => {
                superseded.push(path);
                continue;
            }
            Some((kept, _)) => superseded.push(kept.clone()),
        }
        by_name.insert(meta.name.clone(), (path, meta));
    }
    superseded.sort();

    let index_path = out_dir.join(INDEX_FILE);
    let metas: Vec<Meta> = by_name.values().map(|(_, m)| m.clone()).collect();
    write_index_file(&index_path, &metas)?;
    let entries = by_name
        .into_values()
        .map(|(path, meta)| IndexEntry::from_meta(&path, meta))
        .collect::<Result<_, _>>()?;
    Ok(IndexReport {
        path: index_path,
        entries,
        superseded,
    })
}

/// Writes `metas` as a Repository stone at `path`, atomically.
pub fn write_index_file(path: &Path, metas: &[Meta]) -> Result<(), RepoError> {
    let part = part_path(path);
    let file = File::create(&part).map_err(RepoError::io("creating", &part))?;
    let writer = StoneWriter::new(WriteOptions::default())
        .write_metas(BufWriter::new(file), FileType::Repository, metas)
        .map_err(|source| RepoError::Stone {
            path: part.clone(),
            source,
        })?;
    let file = writer.into_inner().map_err(|e| RepoError::Io {
        op: "writing",
        path: part.clone(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(RepoError::io("syncing", &part))?;
    fs::rename(&part, path).map_err(RepoError::io("renaming into place", path))
}

/// Reads every package of the index at `path`.
pub fn read_index(path: &Path) -> Result<Vec<IndexEntry>, RepoError> {
    let stone_err = |source| RepoError::Stone {
        path: path.to_path_buf(),
        source,
    };
    let reader = StoneReader::open_path(path).map_err(stone_err)?;
    let found = reader.header().file_type;
    if found != FileType::Repository {
        return Err(RepoError::WrongType {
            path: path.to_path_buf(),
            found: found.to_string(),
            expected: "repository",
        });
    }
    reader
        .metas()
        .map(|meta| IndexEntry::from_meta(path, meta.map_err(stone_err)?))
        .collect()
}

/// sha256 hex of a file's bytes and its size.
pub fn sha256_file(path: &Path) -> Result<(String, u64), RepoError> {
    crate::util::sha256_file(path).map_err(RepoError::io("reading", path))
}

/// Every regular `*.stone` file under `dir`, sorted (symlinks are not followed).
fn find_stones(dir: &Path) -> Result<Vec<PathBuf>, RepoError> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_path_buf();
            RepoError::Io {
                op: "walking",
                path,
                source: e.into(),
            }
        })?;
        let is_stone = entry.path().extension().is_some_and(|e| e == "stone");
        if entry.file_type().is_file() && is_stone {
            out.push(entry.into_path());
        }
    }
    Ok(out)
}

/// Hashes and reads every stone on all CPUs; results keep the input order.
fn scan_all(stones: &[PathBuf], out_dir: &Path) -> Result<Vec<(PathBuf, Meta)>, RepoError> {
    let scanned = crate::util::map_ordered(stones, crate::util::available_cpus(), |path| {
        scan_one(path, out_dir)
    });
    stones
        .iter()
        .zip(scanned)
        .map(|(path, meta)| Ok((path.clone(), meta?)))
        .collect()
}

fn scan_one(path: &Path, out_dir: &Path) -> Result<Meta, RepoError> {
    let (hash, size) = sha256_file(path)?;
    let reader = StoneReader::open_path(path).map_err(|source| RepoError::Stone {
        path: path.to_path_buf(),
        source,
    })?;
    let found = reader.header().file_type;
    if found != FileType::Binary {
        return Err(RepoError::WrongType {
            path: path.to_path_buf(),
            found: found.to_string(),
            expected: "binary",
        });
    }
    let mut meta = reader.meta().map_err(|source| RepoError::Stone {
        path: path.to_path_buf(),
        source,
    })?;
    meta.package_uri = Some(relative_uri(out_dir, path));
    meta.package_hash = Some(hash);
    meta.package_size = Some(size);
    // Build manifests' field; never part of an index entry.
    meta.build_depends.clear();
    Ok(meta)
}

/// `target` relative to the directory `base` (both absolute and resolved),
/// with `/` separators and `..` where `target` lies outside `base`.
pub fn relative_uri(base: &Path, target: &Path) -> String {
    let base: Vec<Component> = base.components().collect();
    let target: Vec<Component> = target.components().collect();
    let common = base.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); base.len() - common];
    parts.extend(
        target[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_uris() {
        let base = Path::new("/srv/repo");
        assert_eq!(
            relative_uri(base, Path::new("/srv/repo/a/b.stone")),
            "a/b.stone"
        );
        assert_eq!(
            relative_uri(base, Path::new("/srv/other/b.stone")),
            "../other/b.stone"
        );
        assert_eq!(relative_uri(base, Path::new("/b.stone")), "../../b.stone");
    }
}
