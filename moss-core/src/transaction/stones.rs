//! Local `.stone` files: reading one into the engine's types, and caching it
//! (contents into the store, metadata and layout into the databases).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::EngineError;
use crate::db::{Database, PackageMeta};
use crate::stone::LayoutEntry;
use crate::stone::{self, FileType, StoneReader};
use crate::store::{unpack_into, Store, UnpackCounts};

/// A stone read from disk, not cached yet.
#[derive(Debug)]
pub struct LocalStone {
    pub path: PathBuf,
    pub meta: PackageMeta,
    pub layouts: Vec<LayoutEntry>,
    /// Digests the stone's index carries content for.
    pub contents: HashSet<u128>,
}

fn stone_err(path: &Path) -> impl FnOnce(stone::StoneError) -> EngineError + '_ {
    move |source| EngineError::Stone {
        path: path.to_path_buf(),
        source,
    }
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
    // The checks `moss extract` applies too: one verdict on every archive.
    crate::name::check_stone_identity(&meta.name, &meta.version, &meta.architecture).map_err(
        |source| EngineError::BadName {
            path: path.to_path_buf(),
            source,
        },
    )?;
    stone::check_layout(reader.layout()).map_err(stone_err(path))?;
    let id = match known_id {
        Some(id) => id.to_string(),
        None => crate::util::sha256_file(path)
            .map(|(hash, _)| hash)
            .map_err(|source| EngineError::Io {
                op: "hashing",
                path: path.to_path_buf(),
                source,
            })?,
    };
    Ok(LocalStone {
        path: path.to_path_buf(),
        meta: PackageMeta::from_stone(id, &meta),
        layouts: reader.layout().to_vec(),
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
    let counts = unpack_stone(stone, store, writer_threads())?;
    db.add_layouts(&[(stone.meta.id.as_str(), &stone.layouts)])?;
    db.add_packages(std::slice::from_ref(&stone.meta))?;
    Ok((counts.assets, counts.bytes))
}

fn unpack_stone(
    stone: &LocalStone,
    store: &Store,
    writers: usize,
) -> Result<UnpackCounts, EngineError> {
    let mut reader = StoneReader::open_path(&stone.path).map_err(stone_err(&stone.path))?;
    if reader.content().is_none() {
        return Ok(UnpackCounts::default());
    }
    unpack_into(&mut reader, store, writers).map_err(stone_err(&stone.path))
}

/// Reads several stones, two at a time (hashing a stone is one stream).
pub fn read_stones(paths: &[PathBuf]) -> Result<Vec<LocalStone>, EngineError> {
    let results = in_parallel(paths, STONE_WORKERS, |path| read_stone(path));
    results.into_iter().collect()
}

/// Caches several stones: two are unpacked at once (one decompresses while
/// the other's files are written), then all layouts and all metadata rows
/// go to the databases in one transaction each (metadata last, so a
/// package's row still means its contents and layout are complete).
/// Returns (assets written, bytes written).
pub fn cache_stones(
    stones: &[LocalStone],
    store: &Store,
    db: &mut Database,
) -> Result<(u64, u64), EngineError> {
    // The file system work is the slow part: as many writers in all as one stone had alone.
    let writers = writer_threads().div_ceil(STONE_WORKERS).max(1);
    let (mut assets, mut bytes) = (0, 0);
    for counts in in_parallel(stones, STONE_WORKERS, |s| unpack_stone(s, store, writers)) {
        let counts = counts?;
        assets += counts.assets;
        bytes += counts.bytes;
    }
    let layouts: Vec<(&str, &[LayoutEntry])> = stones
        .iter()
        .map(|s| (s.meta.id.as_str(), s.layouts.as_slice()))
        .collect();
    db.add_layouts(&layouts)?;
    let metas: Vec<PackageMeta> = stones.iter().map(|s| s.meta.clone()).collect();
    db.add_packages(&metas)?;
    Ok((assets, bytes))
}

/// Stones handled at once: the machines this targets have two cores.
const STONE_WORKERS: usize = 2;

/// `f` over `items` on up to `workers` threads; results in input order.
/// After a failure no further item is started (those are left out, so the
/// result then holds at least one error).
fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    workers: usize,
    f: impl Fn(&T) -> Result<R, EngineError> + Sync,
) -> Vec<Result<R, EngineError>> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Mutex;
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let slots: Mutex<Vec<Option<Result<R, EngineError>>>> =
        Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers.clamp(1, items.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= items.len() || failed.load(Ordering::Relaxed) {
                    return;
                }
                let result = f(&items[i]);
                if result.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                if let Ok(mut slots) = slots.lock() {
                    slots[i] = Some(result);
                }
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// Threads writing assets while one thread decompresses: file creation, not
/// zstd, is the slow part of caching a package of many small files.
fn writer_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4))
}
