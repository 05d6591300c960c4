//! `boulder cache prune`: removes roots not used for a while (or the least
//! recently used ones beyond a size limit), old build directories, and then
//! every store asset no remaining root links (link count 1: only the store
//! holds it). Stones stay in their repositories, so anything pruned comes
//! back on the next build that needs it.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{BuildDirs, Cache, FileLock, RootError};

/// What to prune.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneOptions {
    /// Roots and build directories unused for longer than this go.
    pub max_age: Duration,
    /// After that, least recently used roots go until roots and store
    /// together take at most this many bytes.
    pub max_bytes: Option<u64>,
}

impl Default for PruneOptions {
    fn default() -> Self {
        PruneOptions {
            max_age: Duration::from_secs(14 * 24 * 3600),
            max_bytes: None,
        }
    }
}

/// What prune removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub roots: Vec<String>,
    pub builds: usize,
    pub assets: u64,
    pub bytes: u64,
}

fn used_mark(cache: &Cache, key: &str) -> PathBuf {
    cache.roots_dir().join(format!("{key}.used"))
}

/// Records that the root `key` was just used.
pub fn mark_used(cache: &Cache, key: &str) {
    // Best effort: a failure only makes the root look older to prune.
    let _ = fs::write(used_mark(cache, key), b"");
}

fn last_used(cache: &Cache, key: &str) -> SystemTime {
    let path = used_mark(cache, key);
    fs::metadata(&path)
        .or_else(|_| fs::metadata(cache.roots_dir().join(key)))
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// The keys of every root in the cache.
pub fn roots(cache: &Cache) -> Vec<String> {
    let Ok(entries) = fs::read_dir(cache.roots_dir()) else {
        return Vec::new();
    };
    let mut keys: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect();
    keys.sort();
    keys
}

/// Bytes of regular files below `dir`, counting each inode once.
fn disk_usage(dirs: &[PathBuf]) -> u64 {
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    for dir in dirs {
        for entry in walkdir::WalkDir::new(dir).into_iter().flatten() {
            if let Ok(meta) = entry.metadata() {
                if meta.is_file() && seen.insert((meta.dev(), meta.ino())) {
                    total += meta.len();
                }
            }
        }
    }
    total
}

fn remove_root(cache: &Cache, key: &str) -> Result<bool, RootError> {
    let Some(_lock) = FileLock::try_exclusive(&cache.lock_path(&format!("root-{key}")))? else {
        return Ok(false);
    };
    let path = cache.roots_dir().join(key);
    moss_core::state::remove_tree(&path).map_err(RootError::io("removing", &path))?;
    for ext in ["used", "packages"] {
        let _ = fs::remove_file(cache.roots_dir().join(format!("{key}.{ext}")));
    }
    Ok(true)
}

/// Removes a build's directories. A build may leave directories it made
/// unreadable or unwritable (mode 000): they are the user's own, so their
/// modes are fixed (never through a symlink) and the removal retried.
fn remove_build_dirs(base: &Path) -> Result<(), RootError> {
    if moss_core::state::remove_tree(base).is_ok() {
        return Ok(());
    }
    make_removable(base);
    moss_core::state::remove_tree(base).map_err(RootError::io("removing", base))
}

/// Gives every directory below `dir` (not following symlinks) its owner's
/// read, write and search permission, top down.
fn make_removable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = fs::symlink_metadata(dir) else {
        return;
    };
    if !meta.is_dir() {
        return;
    }
    if meta.permissions().mode() & 0o700 != 0o700 {
        let mode = meta.permissions().mode() | 0o700;
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(mode));
    }
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                make_removable(&entry.path());
            }
        }
    }
}

/// Prunes the cache; other boulder processes keep working meanwhile, except
/// that a root being blitted is never removed.
pub fn prune(cache: &Cache, options: &PruneOptions) -> Result<PruneReport, RootError> {
    let _lock = FileLock::exclusive(&cache.lock_path("prune"))?;
    let mut report = PruneReport::default();
    let now = SystemTime::now();
    let old = |t: SystemTime| now.duration_since(t).unwrap_or_default() > options.max_age;

    let mut keys: Vec<(SystemTime, String)> = roots(cache)
        .into_iter()
        .map(|k| (last_used(cache, &k), k))
        .collect();
    keys.sort();
    let mut kept = Vec::new();
    for (used, key) in keys {
        if old(used) && remove_root(cache, &key)? {
            report.roots.push(key);
        } else {
            kept.push(key);
        }
    }
    for base in BuildDirs::all(cache) {
        let modified = fs::metadata(&base)
            .and_then(|m| m.modified())
            .unwrap_or(now);
        if old(modified) {
            remove_build_dirs(&base)?;
            report.builds += 1;
        }
    }
    if let Some(limit) = options.max_bytes {
        let store_dir = cache.dir().join("store");
        while !kept.is_empty() {
            let dirs: Vec<PathBuf> = kept
                .iter()
                .map(|k| cache.roots_dir().join(k))
                .chain([store_dir.clone()])
                .collect();
            if disk_usage(&dirs) <= limit {
                break;
            }
            let key = kept.remove(0);
            if remove_root(cache, &key)? {
                report.roots.push(key);
            }
        }
    }
    super::memo::forget_missing_roots(cache);
    let (assets, bytes) = prune_store(cache)?;
    report.assets = assets;
    report.bytes = bytes;
    Ok(report)
}

/// Removes assets (and mode variants) that no root links any more.
fn prune_store(cache: &Cache) -> Result<(u64, u64), RootError> {
    let variants = cache.mode_variants();
    let (variant_count, variant_bytes) = variants
        .prune_unlinked()
        .map_err(RootError::io("pruning", cache.dir().join("store/modes")))?;
    let store = cache.store();
    let mut assets = variant_count as u64;
    let mut bytes = variant_bytes;
    if !store.dir().is_dir() {
        return Ok((assets, bytes));
    }
    // Roots link a mode variant (a copy) instead of the asset when a file's
    // mode differs; such an asset stays as long as a variant is in use.
    let with_variants: std::collections::HashSet<u128> =
        variants.list().into_iter().map(|(_, _, d)| d).collect();
    let listed = store
        .list()
        .map_err(|e| RootError::Import(moss_core::util::with_causes(&e)))?;
    for (digest, _) in listed {
        if with_variants.contains(&digest) {
            continue;
        }
        let path = store.path(digest);
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.nlink() == 1 {
            bytes += meta.len();
            assets += 1;
            fs::remove_file(&path).map_err(RootError::io("removing", &path))?;
        }
    }
    if assets > 0 {
        // Stones must be unpacked again before their content is trusted.
        let marks = cache.cached_marks_dir();
        if marks.is_dir() {
            fs::remove_dir_all(&marks).map_err(RootError::io("removing", &marks))?;
        }
    }
    Ok((assets, bytes))
}

/// Size in bytes of the cache's roots and store.
pub fn usage(cache: &Cache) -> u64 {
    let mut dirs: Vec<PathBuf> = roots(cache)
        .iter()
        .map(|k| cache.roots_dir().join(k))
        .collect();
    dirs.push(cache.dir().join("store"));
    disk_usage(&dirs)
}
