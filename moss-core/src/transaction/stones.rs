//! Local `.stone` files: reading one into the engine's types, and caching it
//! (contents into the store, metadata and layout into the databases).

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::EngineError;
use crate::db::{Database, LayoutRecord, PackageMeta};
use crate::stone::{self, FileType, StoneReader};
use crate::store::{unpack_into, Store, UnpackCounts};

/// A stone read from disk, not cached yet.
#[derive(Debug)]
pub struct LocalStone {
    pub path: PathBuf,
    pub meta: PackageMeta,
    pub layouts: Vec<LayoutRecord>,
    /// Digests the stone's index carries content for.
    pub contents: HashSet<u128>,
}

fn stone_err(path: &Path) -> impl FnOnce(stone::StoneError) -> EngineError + '_ {
    move |source| EngineError::Stone {
        path: path.to_path_buf(),
        source,
    }
}

fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Reads a binary stone's metadata and layout (not its content).
pub fn read_stone(path: &Path) -> Result<LocalStone, EngineError> {
    read_stone_as(path, None)
}

/// [`read_stone`] for a file whose sha256 (its id) was already verified.
pub fn read_stone_as(path: &Path, known_id: Option<&str>) -> Result<LocalStone, EngineError> {
    let reader = StoneReader::open_path(path).map_err(stone_err(path))?;
    if reader.header().file_type != FileType::Binary {
        return Err(EngineError::NotAPackage {
            path: path.to_path_buf(),
        });
    }
    let meta = reader.meta().map_err(stone_err(path))?;
    let id = match known_id {
        Some(id) => id.to_string(),
        None => sha256_file(path).map_err(|source| EngineError::Io {
            op: "hashing",
            path: path.to_path_buf(),
            source,
        })?,
    };
    Ok(LocalStone {
        path: path.to_path_buf(),
        meta: PackageMeta::from_stone(id, &meta),
        layouts: reader.layout().iter().map(LayoutRecord::from).collect(),
        contents: reader.index().iter().map(|e| e.digest).collect(),
    })
}

/// Unpacks the stone's content into the store and records its metadata and
/// layout. Returns (assets written, bytes written).
pub fn cache_stone(
    stone: &LocalStone,
    store: &Store,
    db: &mut Database,
) -> Result<(u64, u64), EngineError> {
    let mut reader = StoneReader::open_path(&stone.path).map_err(stone_err(&stone.path))?;
    let mut counts = UnpackCounts::default();
    if reader.content().is_some() {
        counts =
            unpack_into(&mut reader, store, writer_threads()).map_err(stone_err(&stone.path))?;
    }
    db.add_layouts(&[(stone.meta.id.as_str(), &stone.layouts)])?;
    db.add_packages(std::slice::from_ref(&stone.meta))?;
    Ok((counts.assets, counts.bytes))
}

/// Threads writing assets while one thread decompresses: file creation, not
/// zstd, is the slow part of caching a package of many small files.
fn writer_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4))
}
