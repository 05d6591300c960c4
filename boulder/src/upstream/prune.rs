//! `boulder cache prune` for the upstream cache: downloaded archives and git
//! mirrors not used for a while are removed (a later build fetches them
//! again).

use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::UpstreamCache;

/// What pruning the upstream cache removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourcesPruned {
    /// Archives and git mirrors removed.
    pub entries: usize,
    pub bytes: u64,
}

/// Removes the entries of `cache` (one per archive hash, one per git
/// mirror) last used more than `max_age` ago. Use is the newest access or
/// change time of the entry or anything directly in it: extraction reads
/// an archive, a fetch writes a mirror.
pub fn prune_sources(cache: &UpstreamCache, max_age: Duration) -> io::Result<SourcesPruned> {
    let now = SystemTime::now();
    let mut pruned = SourcesPruned::default();
    for dir in [cache.fetched_dir(), cache.git_dir()] {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        for entry in entries {
            let path = entry?.path();
            let idle = now
                .duration_since(last_used(&path)?)
                .unwrap_or(Duration::ZERO);
            if idle <= max_age {
                continue;
            }
            let bytes = size(&path);
            let meta = fs::symlink_metadata(&path)?;
            if meta.is_dir() {
                fs::remove_dir_all(&path)?;
            } else {
                fs::remove_file(&path)?;
            }
            pruned.entries += 1;
            pruned.bytes += bytes;
        }
    }
    Ok(pruned)
}

fn last_used(path: &Path) -> io::Result<SystemTime> {
    let used = |meta: &fs::Metadata| {
        let accessed = meta.accessed().unwrap_or(SystemTime::UNIX_EPOCH);
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        accessed.max(modified)
    };
    let meta = fs::symlink_metadata(path)?;
    let mut newest = used(&meta);
    if meta.is_dir() {
        for child in fs::read_dir(path)?.flatten() {
            if let Ok(meta) = child.path().symlink_metadata() {
                newest = newest.max(used(&meta));
            }
        }
    }
    Ok(newest)
}

fn size(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .follow_links(false)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(path: &Path, days: u64) {
        let then = SystemTime::now() - Duration::from_secs(days * 86_400);
        let times = fs::FileTimes::new().set_accessed(then).set_modified(then);
        let file = fs::File::open(path).expect("open");
        file.set_times(times).expect("set times");
    }

    #[test]
    fn archives_and_mirrors_unused_for_longer_than_the_limit_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = UpstreamCache::new(dir.path());
        let old = cache.fetched_dir().join("aaaa");
        let fresh = cache.fetched_dir().join("bbbb");
        let mirror = cache.git_dir().join("example.org_repo.git");
        for (entry, file) in [(&old, "a.tar.gz"), (&fresh, "b.tar.gz"), (&mirror, "HEAD")] {
            fs::create_dir_all(entry).expect("dir");
            fs::write(entry.join(file), vec![0u8; 1000]).expect("file");
        }
        for path in [
            old.join("a.tar.gz"),
            old.clone(),
            mirror.join("HEAD"),
            mirror.clone(),
        ] {
            age(&path, 30);
        }
        let pruned = prune_sources(&cache, Duration::from_secs(14 * 86_400)).expect("prune");
        assert_eq!(
            pruned,
            SourcesPruned {
                entries: 2,
                bytes: 2000
            }
        );
        assert!(!old.exists() && !mirror.exists());
        assert!(fresh.join("b.tar.gz").exists());
    }
}
