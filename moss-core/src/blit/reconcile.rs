//! Before an archived tree is patched: reading it once to find what
//! trigger handlers changed in it while it was live. Names the tree's state
//! does not list are removed; entries missing or of the wrong type are
//! marked so the patch places them again.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use super::patch::{dir_mode, fail, Patch};
use super::{sys, BlitError, Blitter};
use crate::fault::checkpoint;
use crate::tree::{Node, NodeKind, Tree};

/// The on-disk type an old-tree node must have (`None`: not materialised).
fn expected_type(node: &Node) -> Option<sys::EntryType> {
    match node.kind {
        NodeKind::Directory { .. } => Some(sys::EntryType::Directory),
        NodeKind::File { .. } => Some(sys::EntryType::Regular),
        NodeKind::Symlink { .. } => Some(sys::EntryType::Symlink),
        NodeKind::Special { .. } => None,
    }
}

impl Blitter {
    /// Makes `target`, which should hold `old` but may hold more or less
    /// (handlers of triggers write and delete files in a tree), hold no name
    /// `old` does not list and returns the patch to `new` that accounts for
    /// what is missing or of the wrong type. Reads every directory once (no
    /// `stat` where the file system reports entry types).
    pub fn reconcile<'t>(
        &self,
        old: &'t Tree,
        new: &'t Tree,
        target: &Path,
    ) -> Result<Patch<'t>, BlitError> {
        let root_fd =
            sys::open_dir(None, &sys::cstring(target.as_os_str())).map_err(|source| BlitError {
                path: String::new(),
                op: "opening the tree",
                source,
            })?;
        let mut gone = vec![false; old.len()];
        reconcile_dir(old, root_fd.as_fd(), 0, &mut gone)?;
        Ok(Patch::with_gone(old, new, gone))
    }
}

fn reconcile_dir(
    old: &Tree,
    dir: BorrowedFd<'_>,
    o: u32,
    gone: &mut [bool],
) -> Result<(), BlitError> {
    let node = &old.nodes()[o as usize];
    let NodeKind::Directory { children, mode } = &node.kind else {
        return Ok(());
    };
    let found = sys::list_dir(dir).map_err(fail(node, "listing"))?;
    let mut seen = vec![false; children.len()];
    let mut unlocked = false;
    for (name, kind) in found {
        if o == 0 && name.as_bytes() == crate::installation::STATE_ID_FILE.as_bytes() {
            continue;
        }
        let at = children.binary_search_by(|&c| {
            old.nodes()[c as usize]
                .name()
                .as_bytes()
                .cmp(name.as_bytes())
        });
        if let Ok(i) = at {
            seen[i] = true;
            let child = children[i];
            let want = expected_type(&old.nodes()[child as usize]);
            if want == Some(kind) {
                if kind == sys::EntryType::Directory {
                    let sub = &old.nodes()[child as usize];
                    let locked = dir_mode(sub) & 0o500 != 0o500;
                    if locked {
                        sys::fchmodat(dir, &name, 0o700).map_err(fail(sub, "fchmodat"))?;
                    }
                    let fd = sys::open_dir(Some(dir), &name).map_err(fail(sub, "openat"))?;
                    reconcile_dir(old, fd.as_fd(), child, gone)?;
                    if locked {
                        sys::fchmodat(dir, &name, dir_mode(sub)).map_err(fail(sub, "fchmodat"))?;
                    }
                }
                continue;
            }
            gone[child as usize] = true;
        }
        // Not in the old tree, or not what it says: remove it.
        if mode & 0o700 != 0o700 && !unlocked {
            sys::fchmod(dir, 0o700).map_err(fail(node, "fchmod"))?;
            unlocked = true;
        }
        checkpoint();
        sys::remove_at(dir, &name).map_err(fail(node, "removing a stray entry in"))?;
    }
    for (i, &child) in children.iter().enumerate() {
        if !seen[i] && expected_type(&old.nodes()[child as usize]).is_some() {
            gone[child as usize] = true;
        }
    }
    if unlocked {
        sys::fchmod(dir, *mode).map_err(fail(node, "fchmod"))?;
    }
    Ok(())
}
