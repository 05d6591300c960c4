//! Turns a directory tree into layout entries and contents for the writer.
//! The directory stands for `/usr`: `DIR/bin/nano` becomes `bin/nano`.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use super::error::{Result, StoneError};
use super::layout::{LayoutEntry, LayoutKind};
use super::path::check_layout_path;
use super::writer::Content;

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
            let content = Content::from_path(item.path().to_path_buf())?;
            let digest = content.digest;
            tree.contents.push(content);
            LayoutKind::Regular { digest }
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
