//! Store files materialised at a mode other than [`super::STORE_MODE`].
//!
//! A tree never changes the mode of a store inode (that would leak into every
//! state sharing it). When a layout asks for another mode, the content is
//! copied once (reflink when the filesystem can) to
//! `.moss/assets/modes/<octal mode>/<asset path>` with that mode, and trees
//! hardlink the copy. A variant no tree links any more (link count 1) is
//! garbage and [`ModeVariants::prune_unlinked`] deletes it.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{relative_path, Digest, Store};

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The directory of mode variants.
#[derive(Debug, Clone)]
pub struct ModeVariants {
    dir: PathBuf,
}

impl ModeVariants {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// Path of the variant of `digest` at permission bits `perm`.
    pub fn path(&self, digest: Digest, perm: u32) -> PathBuf {
        self.dir
            .join(format!("{:o}", perm & 0o7777))
            .join(relative_path(digest))
    }

    /// Makes sure the variant exists and returns its path.
    pub fn ensure(&self, store: &Store, digest: Digest, perm: u32) -> io::Result<PathBuf> {
        let path = self.path(digest, perm);
        if path.is_file() {
            return Ok(path);
        }
        let parent = path.parent().unwrap_or(&self.dir);
        fs::create_dir_all(parent)?;
        let tmp = parent.join(format!(
            ".{digest:x}.{}.{}.tmp",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| {
            copy_file(&store.path(digest), &tmp)?;
            fs::set_permissions(&tmp, fs::Permissions::from_mode(perm & 0o7777))?;
            // Two blits (threads or processes) may race here; both copies are
            // identical and the first stays, so a link made from it never fails.
            super::publish::publish(&tmp, &path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map(|()| path)
    }

    /// Every variant: its path, the mode its folder names, and its digest.
    pub fn list(&self) -> Vec<(PathBuf, u32, Digest)> {
        let mut out = Vec::new();
        for entry in walkdir::WalkDir::new(&self.dir)
            .min_depth(2)
            .into_iter()
            .flatten()
        {
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(&self.dir) else {
                continue;
            };
            let mode_dir = rel.iter().next().and_then(|m| m.to_str());
            let perm = mode_dir.and_then(|m| u32::from_str_radix(m, 8).ok());
            let digest = Digest::from_str_radix(&entry.file_name().to_string_lossy(), 16).ok();
            if let (Some(perm), Some(digest)) = (perm, digest) {
                out.push((entry.path().to_path_buf(), perm, digest));
            }
        }
        out
    }

    /// Deletes variants that no tree links any more; returns (files, bytes).
    pub fn prune_unlinked(&self) -> io::Result<(usize, u64)> {
        let (mut files, mut bytes) = (0, 0);
        if !self.dir.exists() {
            return Ok((0, 0));
        }
        for entry in walkdir::WalkDir::new(&self.dir).min_depth(1) {
            let entry = entry?;
            if !entry.file_type().is_file() {
                continue;
            }
            let meta = entry.metadata()?;
            let name = entry.file_name().to_string_lossy();
            if meta.nlink() <= 1 || name.ends_with(".tmp") {
                fs::remove_file(entry.path())?;
                files += 1;
                bytes += meta.len();
            }
        }
        Ok((files, bytes))
    }
}

/// Copies `from` to a new file `to`: a reflink when the filesystem supports
/// it, otherwise an in-kernel copy.
pub(crate) fn copy_file(from: &Path, to: &Path) -> io::Result<()> {
    let mut src = File::open(from)?;
    let mut dst = File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)?;
    crate::util::reflink_or_copy(&mut src, &mut dst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    /// Two blits making the same variant at once: each links the variant
    /// right after `ensure` returned it, and neither link may fail because
    /// the other's copy took the name away in between.
    #[test]
    fn a_variant_made_twice_at_once_can_always_be_linked() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("assets"));
        let body = b"#!/bin/sh\necho variant\n";
        let digest = super::super::digest_of(body);
        store.insert(digest, body).unwrap();
        let links = dir.path().join("links");
        fs::create_dir_all(&links).unwrap();
        for round in 0..400 {
            let variants = ModeVariants::new(dir.path().join(format!("modes-{round}")));
            let barrier = Barrier::new(2);
            std::thread::scope(|s| {
                for thread in 0..2 {
                    let (variants, store, barrier, links) = (&variants, &store, &barrier, &links);
                    s.spawn(move || {
                        barrier.wait();
                        let path = variants.ensure(store, digest, 0o555).unwrap();
                        fs::hard_link(&path, links.join(format!("{round}-{thread}")))
                            .unwrap_or_else(|e| panic!("round {round}: linking the variant: {e}"));
                    });
                }
            });
        }
    }
}
