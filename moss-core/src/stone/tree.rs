//! Turns a directory tree into layout entries and contents for the writer.
//! The directory stands for `/usr`: `DIR/bin/nano` becomes `bin/nano`.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

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
/// built them); modes are kept in full.
pub fn scan_tree(root: &Path) -> Result<Tree> {
    let mut tree = Tree::default();
    let mut regular = Vec::new();
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
            // The digest is filled in below, once all files are hashed.
            regular.push((tree.layout.len(), item.path().to_path_buf()));
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
    tree.contents = hash_all(regular.iter().map(|(_, path)| path.clone()).collect())?;
    for ((at, _), content) in regular.iter().zip(&tree.contents) {
        tree.layout[*at].kind = LayoutKind::Regular {
            digest: content.digest,
        };
    }
    Ok(tree)
}

/// Hashes files on every CPU; the result keeps the input order.
fn hash_all(paths: Vec<PathBuf>) -> Result<Vec<Content>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(paths.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<Content>>>> =
        paths.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                // One buffer per thread: zeroing a fresh one per file costs
                // more than hashing a small file.
                let mut buf = vec![0u8; HASH_BUFFER];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = paths.get(i) else { break };
                    let hashed = Content::from_path_with(path.clone(), &mut buf);
                    if let Ok(mut slot) = results[i].lock() {
                        *slot = Some(hashed);
                    }
                }
            });
        }
    });
    results
        .into_iter()
        .zip(paths)
        .map(|(slot, path)| {
            slot.into_inner().ok().flatten().unwrap_or_else(|| {
                Err(StoneError::Unpackable {
                    path,
                    reason: "hashing did not complete".into(),
                })
            })
        })
        .collect()
}
