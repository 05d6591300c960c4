//! Turns a directory tree into layout entries and contents for the writer.
//! The directory stands for `/usr`: `DIR/bin/nano` becomes `bin/nano`.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Mutex};

use super::error::{Result, StoneError};
use super::layout::{LayoutEntry, LayoutKind};
use super::path::check_layout_path;
use super::writer::{Content, HASH_BUFFER};

/// What [`scan_tree`] found.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// Every entry below the root, parents before children, siblings by name.
    pub layout: Vec<LayoutEntry>,
    /// One content per regular file (duplicates included; the writer dedups).
    pub contents: Vec<Content>,
}

/// Walks `root` without following symlinks and hashes every regular file.
/// Owners are recorded as 0:0 (packages install root-owned files whoever
/// built them); modes are kept in full. Files are hashed on every CPU while
/// the walk goes on; small ones are kept in memory (within a fixed budget)
/// so that packing reads them once.
pub fn scan_tree(root: &Path) -> Result<Tree> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (files, queue) = mpsc::channel::<Vec<Queued>>();
    let budget = AtomicU64::new(KEEP_BUDGET);
    let queue = Mutex::new(queue);
    std::thread::scope(|scope| {
        let hashers: Vec<_> = (0..threads)
            .map(|_| scope.spawn(|| hash_queued(&queue, &budget)))
            .collect();
        let walked = walk(root, files);
        let mut hashed = Vec::new();
        for hasher in hashers {
            match hasher.join() {
                Ok(part) => hashed.extend(part),
                Err(_) => {
                    return Err(StoneError::Unpackable {
                        path: root.to_path_buf(),
                        reason: "a hashing thread panicked".into(),
                    })
                }
            }
        }
        let (mut tree, count) = walked?;
        // Every file sent was hashed: the queue is drained before the hashers end.
        if hashed.len() != count {
            return Err(StoneError::Unpackable {
                path: root.to_path_buf(),
                reason: "hashing did not complete".into(),
            });
        }
        hashed.sort_unstable_by_key(|(at, _)| *at);
        tree.contents.reserve(hashed.len());
        for (at, content) in hashed {
            let content = content?;
            tree.layout[at].kind = LayoutKind::Regular {
                digest: content.digest,
            };
            tree.contents.push(content);
        }
        Ok(tree)
    })
}

/// A regular file as [`scan_deferring`] leaves it.
pub(crate) enum Scanned {
    Hashed(Content),
    /// Not read yet: no other file has its size, so it cannot be a
    /// duplicate, and the writer hashes it while compressing it.
    Deferred {
        path: PathBuf,
        size: u64,
    },
}

/// What [`scan_deferring`] found: the layout (deferred files with digest
/// 0) and the regular files by layout position, ascending.
pub(crate) struct ScannedTree {
    pub layout: Vec<LayoutEntry>,
    pub files: Vec<(usize, Scanned)>,
}

/// [`scan_tree`] for a writer that reads each large file once: only files
/// that could be duplicates (their size is shared) or are small enough to
/// keep in memory are hashed now, on every CPU; the rest are deferred.
pub(crate) fn scan_deferring(root: &Path) -> Result<ScannedTree> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (walked, from_walk) = mpsc::channel::<Vec<Queued>>();
    let (to_hashers, queue) = mpsc::channel::<Vec<Queued>>();
    let budget = AtomicU64::new(KEEP_BUDGET);
    let queue = Mutex::new(queue);
    let lost = || StoneError::Unpackable {
        path: root.to_path_buf(),
        reason: "the walk or the hashers stopped".into(),
    };
    std::thread::scope(|scope| {
        let hashers: Vec<_> = (0..threads)
            .map(|_| scope.spawn(|| hash_queued(&queue, &budget)))
            .collect();
        let walker = scope.spawn(move || walk(root, walked));
        // Small files are hashed while the walk goes on (a large file's size
        // is never a small one's); large ones wait for the walk to end, when
        // it is known which sizes are shared.
        let mut large: Vec<Queued> = Vec::new();
        let mut forwarded = 0;
        for batch in from_walk.iter() {
            let (small, big): (Vec<Queued>, Vec<Queued>) = batch
                .into_iter()
                .partition(|(_, _, size)| *size <= KEEP_MAX_FILE);
            large.extend(big);
            forwarded += small.len();
            if !small.is_empty() {
                to_hashers.send(small).map_err(|_| lost())?;
            }
        }
        let (tree, count) = walker.join().map_err(|_| lost())??;
        let mut sizes: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
        for (_, _, size) in &large {
            *sizes.entry(*size).or_default() += 1;
        }
        let (shared, deferred): (Vec<Queued>, Vec<Queued>) =
            large.into_iter().partition(|(_, _, size)| sizes[size] > 1);
        forwarded += shared.len();
        for batch in shared.chunks(HASH_BATCH) {
            to_hashers.send(batch.to_vec()).map_err(|_| lost())?;
        }
        drop(to_hashers);
        if forwarded + deferred.len() != count {
            return Err(lost());
        }
        let mut files: Vec<(usize, Scanned)> = Vec::with_capacity(count);
        for hasher in hashers {
            for (at, content) in hasher.join().map_err(|_| lost())? {
                files.push((at, Scanned::Hashed(content?)));
            }
        }
        if files.len() != forwarded {
            return Err(lost());
        }
        files.extend(
            deferred
                .into_iter()
                .map(|(at, path, size)| (at, Scanned::Deferred { path, size })),
        );
        files.sort_unstable_by_key(|(at, _)| *at);
        let mut layout = tree.layout;
        for (at, file) in &files {
            if let Scanned::Hashed(content) = file {
                layout[*at].kind = LayoutKind::Regular {
                    digest: content.digest,
                };
            }
        }
        Ok(ScannedTree { layout, files })
    })
}

/// Files handed to the hashers at a time.
const HASH_BATCH: usize = 64;

/// Files up to this size are read whole when hashed and kept in memory for
/// the writer, so it neither opens nor reads them again ...
const KEEP_MAX_FILE: u64 = 64 << 10;
/// ... up to this much in all per scan (the rest is read again while
/// compressing, as large files always are).
const KEEP_BUDGET: u64 = 32 << 20;

/// A regular file for the hashers: its layout position, path and size.
type Queued = (usize, PathBuf, u64);

/// Walks the tree into layout entries; regular files go to the hashers, with
/// the layout position their digest belongs to. Returns how many were sent.
fn walk(root: &Path, files: mpsc::Sender<Vec<Queued>>) -> Result<(Tree, usize)> {
    let mut tree = Tree::default();
    let mut batch = Vec::with_capacity(HASH_BATCH);
    let mut sent = 0;
    let walker = walkdir::WalkDir::new(root)
        .min_depth(1)
        .follow_links(false)
        .sort_by_file_name();
    for item in walker {
        let item = item.map_err(|e| {
            let path = e.path().unwrap_or(root).to_path_buf();
            StoneError::Unpackable {
                path,
                reason: e.to_string(),
            }
        })?;
        let unpackable = |reason: String| StoneError::Unpackable {
            path: item.path().to_path_buf(),
            reason,
        };
        let relative = item
            .path()
            .strip_prefix(root)
            .map_err(|e| unpackable(e.to_string()))?
            .to_str()
            .ok_or_else(|| unpackable("the path is not valid UTF-8".into()))?
            .to_string();
        check_layout_path(&relative)?;
        let md = std::fs::symlink_metadata(item.path()).map_err(|e| unpackable(e.to_string()))?;
        let ft = md.file_type();
        let kind = if ft.is_file() {
            // The digest is filled in once the file is hashed.
            batch.push((tree.layout.len(), item.path().to_path_buf(), md.len()));
            if batch.len() == HASH_BATCH {
                sent += batch.len();
                let full = std::mem::replace(&mut batch, Vec::with_capacity(HASH_BATCH));
                files
                    .send(full)
                    .map_err(|_| unpackable("the hashers stopped".into()))?;
            }
            LayoutKind::Regular { digest: 0 }
        } else if ft.is_symlink() {
            let target = std::fs::read_link(item.path()).map_err(|e| unpackable(e.to_string()))?;
            let target = target
                .to_str()
                .ok_or_else(|| unpackable("the link target is not valid UTF-8".into()))?;
            if target.contains('\0') || target.is_empty() {
                return Err(unpackable("the link target is empty".into()));
            }
            LayoutKind::Symlink {
                target: target.to_string(),
            }
        } else if ft.is_dir() {
            LayoutKind::Directory
        } else if ft.is_char_device() {
            LayoutKind::CharDevice
        } else if ft.is_block_device() {
            LayoutKind::BlockDevice
        } else if ft.is_fifo() {
            LayoutKind::Fifo
        } else if ft.is_socket() {
            LayoutKind::Socket
        } else {
            return Err(unpackable("unknown file type".into()));
        };
        tree.layout.push(LayoutEntry {
            uid: 0,
            gid: 0,
            mode: md.mode(),
            tag: 0,
            kind,
            path: relative,
        });
    }
    sent += batch.len();
    if !batch.is_empty() {
        files.send(batch).map_err(|_| StoneError::Unpackable {
            path: root.to_path_buf(),
            reason: "the hashers stopped".into(),
        })?;
    }
    Ok((tree, sent))
}

/// A hashing thread: takes batches until the walk ends, one read buffer for
/// all (zeroing a fresh one per file costs more than hashing a small file).
fn hash_queued(
    queue: &Mutex<mpsc::Receiver<Vec<Queued>>>,
    budget: &AtomicU64,
) -> Vec<(usize, Result<Content>)> {
    let mut buf = vec![0u8; HASH_BUFFER];
    let mut done = Vec::new();
    loop {
        let batch = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => break,
        };
        let Ok(batch) = batch else { break };
        for (at, path, size) in batch {
            let keep = size <= KEEP_MAX_FILE
                && budget
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                        left.checked_sub(size)
                    })
                    .is_ok();
            let content = if keep {
                std::fs::read(&path)
                    .map(Content::from_bytes)
                    .map_err(|e| StoneError::io(format!("reading {}", path.display()), e))
            } else {
                Content::from_path_with(path, &mut buf)
            };
            done.push((at, content));
        }
    }
    done
}
