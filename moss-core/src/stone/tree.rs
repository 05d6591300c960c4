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
        let mut batch = Vec::with_capacity(HASH_BATCH);
        let mut sent = 0;
        let lost = || StoneError::Unpackable {
            path: root.to_path_buf(),
            reason: "the hashers stopped".into(),
        };
        let walked = walk(root, |file| {
            batch.push(file);
            if batch.len() == HASH_BATCH {
                sent += batch.len();
                let full = std::mem::replace(&mut batch, Vec::with_capacity(HASH_BATCH));
                files.send(full).map_err(|_| lost())?;
            }
            Ok(())
        })
        .and_then(|tree| {
            sent += batch.len();
            if !batch.is_empty() {
                files.send(std::mem::take(&mut batch)).map_err(|_| lost())?;
            }
            // Closing the channel lets the hashers end once it is drained.
            drop(files);
            Ok((tree, sent))
        });
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

/// A regular file found by [`walk_files`]: its layout position, path and size.
pub(crate) type Walked = Queued;

/// Walks `root` as [`scan_tree`] does but reads no file: the layout (regular
/// files with digest 0) and the regular files in layout order, for a writer
/// that reads each file once while compressing it.
pub(crate) fn walk_files(root: &Path) -> Result<(Vec<LayoutEntry>, Vec<Walked>)> {
    let mut files = Vec::new();
    let tree = walk(root, |file| {
        files.push(file);
        Ok(())
    })?;
    Ok((tree.layout, files))
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

/// Walks the tree into layout entries; each regular file goes to `on_file`
/// with the layout position its digest belongs to.
fn walk(root: &Path, mut on_file: impl FnMut(Queued) -> Result<()>) -> Result<Tree> {
    let mut tree = Tree::default();
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
            on_file((tree.layout.len(), item.path().to_path_buf(), md.len()))?;
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
    Ok(tree)
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
