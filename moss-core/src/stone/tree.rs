//! Turns a directory tree into layout entries and contents for the writer.
//! The directory stands for `/usr`: `DIR/bin/nano` becomes `bin/nano`.

use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;

use nix::dir::Dir;
use nix::fcntl::{readlinkat, AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode, SFlag};
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
/// with the layout position its digest belongs to. Parents come before
/// their children, siblings by name (bytewise).
///
/// Each folder is opened beneath its parent's descriptor without following
/// a symlink, and its entries are looked at relative to it: no path is
/// resolved from the root again (cheaper for deep trees), and a symlink
/// the tree holds cannot send the walk elsewhere.
fn walk(root: &Path, mut on_file: impl FnMut(Queued) -> Result<()>) -> Result<Tree> {
    // The root itself may be a symlink to the folder (it is named by the user).
    let root_flags = DIR_FLAGS.difference(OFlag::O_NOFOLLOW);
    let dir = Dir::open(root, root_flags, Mode::empty()).map_err(|e| StoneError::Unpackable {
        path: root.to_path_buf(),
        reason: format!("opening the folder: {e}"),
    })?;
    let mut tree = Tree::default();
    walk_dir(dir, root, "", &mut tree, &mut on_file)?;
    Ok(tree)
}

const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// The entries of one folder, then (depth first) those of its subfolders.
fn walk_dir(
    mut dir: Dir,
    root: &Path,
    prefix: &str,
    tree: &mut Tree,
    on_file: &mut impl FnMut(Queued) -> Result<()>,
) -> Result<()> {
    let folder = root.join(prefix);
    let mut names: Vec<CString> = Vec::new();
    for entry in dir.iter() {
        let entry = entry.map_err(|e| StoneError::Unpackable {
            path: folder.clone(),
            reason: format!("reading the folder: {e}"),
        })?;
        let name = entry.file_name();
        if name.to_bytes() != b"." && name.to_bytes() != b".." {
            names.push(name.to_owned());
        }
    }
    names.sort_unstable();
    let fd = dir.as_raw_fd();
    for name in names {
        let path = folder.join(std::ffi::OsStr::from_bytes(name.to_bytes()));
        let unpackable = |reason: String| StoneError::Unpackable {
            path: path.clone(),
            reason,
        };
        let name_str = name
            .to_str()
            .map_err(|_| unpackable("the path is not valid UTF-8".into()))?;
        let relative = if prefix.is_empty() {
            name_str.to_string()
        } else {
            format!("{prefix}/{name_str}")
        };
        check_layout_path(&relative)?;
        let st = fstatat(Some(fd), name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
            .map_err(|e| unpackable(e.to_string()))?;
        let mut subfolder = None;
        let kind = match SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) {
            SFlag::S_IFREG => {
                // The digest is filled in once the file is hashed.
                on_file((tree.layout.len(), path.clone(), st.st_size as u64))?;
                LayoutKind::Regular { digest: 0 }
            }
            SFlag::S_IFLNK => {
                let target =
                    readlinkat(Some(fd), name.as_c_str()).map_err(|e| unpackable(e.to_string()))?;
                let target = target
                    .to_str()
                    .ok_or_else(|| unpackable("the link target is not valid UTF-8".into()))?;
                if target.contains('\0') || target.is_empty() {
                    return Err(unpackable("the link target is empty".into()));
                }
                LayoutKind::Symlink {
                    target: target.to_string(),
                }
            }
            SFlag::S_IFDIR => {
                subfolder = Some(
                    Dir::openat(Some(fd), name.as_c_str(), DIR_FLAGS, Mode::empty())
                        .map_err(|e| unpackable(format!("opening the folder: {e}")))?,
                );
                LayoutKind::Directory
            }
            SFlag::S_IFCHR => LayoutKind::CharDevice,
            SFlag::S_IFBLK => LayoutKind::BlockDevice,
            SFlag::S_IFIFO => LayoutKind::Fifo,
            SFlag::S_IFSOCK => LayoutKind::Socket,
            _ => return Err(unpackable("unknown file type".into())),
        };
        tree.layout.push(LayoutEntry {
            uid: 0,
            gid: 0,
            mode: st.st_mode,
            tag: 0,
            kind,
            path: relative.clone(),
        });
        if let Some(sub) = subfolder {
            walk_dir(sub, root, &relative, tree, on_file)?;
        }
    }
    Ok(())
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
