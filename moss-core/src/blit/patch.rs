//! Incremental staging: a directory that holds the tree of one state is
//! turned into the tree of another by touching only what differs.
//!
//! Both trees are in memory, so the difference is computed without reading
//! the disk: children of a directory are merged by name (a [`Tree`] keeps
//! them sorted), and a directory whose subtree holds no difference is never
//! opened (a tree that trigger handlers may have changed is first read once
//! by [`Blitter::reconcile`]). Changes use the same `*at` calls as the blit, relative to
//! directory descriptors opened without following symlinks. An entry whose
//! kind, content, mode or link target changed is removed and placed again:
//! a file's mode is never changed in place (it may be a store inode), only
//! directories (our own inodes) are `fchmodat`-ed.

use std::cmp::Ordering as CmpOrdering;
use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use super::{sys, BlitError, BlitStats, Blitter};
use crate::fault::checkpoint;
use crate::tree::{Node, NodeKind, Tree};

/// How one path compares between the old and the new tree.
enum Step {
    /// Only in the old tree: remove it.
    Remove(u32),
    /// Only in the new tree: create it (with everything beneath).
    Create(u32),
    /// In both: (old, new).
    Both(u32, u32),
}

/// The children of `o` (old tree) and `n` (new tree), merged by name.
fn merge(old: &Tree, new: &Tree, o: u32, n: u32) -> Vec<Step> {
    let children = |t: &Tree, i: u32| match &t.nodes()[i as usize].kind {
        NodeKind::Directory { children, .. } => children.clone(),
        _ => Vec::new(),
    };
    let (a, b) = (children(old, o), children(new, n));
    let name_a = |i: usize| old.nodes()[a[i] as usize].name();
    let name_b = |j: usize| new.nodes()[b[j] as usize].name();
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let order = match (i < a.len(), j < b.len()) {
            (true, true) => name_a(i).cmp(name_b(j)),
            (true, false) => CmpOrdering::Less,
            _ => CmpOrdering::Greater,
        };
        match order {
            CmpOrdering::Less => {
                out.push(Step::Remove(a[i]));
                i += 1;
            }
            CmpOrdering::Greater => {
                out.push(Step::Create(b[j]));
                j += 1;
            }
            CmpOrdering::Equal => {
                out.push(Step::Both(a[i], b[j]));
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// What to do with a path present in both trees.
#[derive(PartialEq, Eq)]
enum Same {
    /// Identical on disk.
    Keep,
    /// Both directories (their children may still differ; the mode may too).
    Directory,
    /// Different: remove the old, create the new.
    Replace,
}

fn compare(a: &Node, b: &Node) -> Same {
    match (&a.kind, &b.kind) {
        (NodeKind::Directory { .. }, NodeKind::Directory { .. }) => Same::Directory,
        (
            NodeKind::File {
                digest: d1,
                mode: m1,
            },
            NodeKind::File {
                digest: d2,
                mode: m2,
            },
        ) if d1 == d2 && m1 == m2 => Same::Keep,
        (NodeKind::Symlink { target: t1 }, NodeKind::Symlink { target: t2 }) if t1 == t2 => {
            Same::Keep
        }
        // Neither is materialised.
        (NodeKind::Special { .. }, NodeKind::Special { .. }) => Same::Keep,
        _ => Same::Replace,
    }
}

pub(super) fn dir_mode(node: &Node) -> u32 {
    match node.kind {
        NodeKind::Directory { mode, .. } => mode,
        _ => 0o755,
    }
}

fn is_special(node: &Node) -> bool {
    matches!(node.kind, NodeKind::Special { .. })
}

/// For every new-tree directory present in both trees: whether anything in
/// or beneath it differs. Returns the number of entries that change.
fn mark(old: &Tree, new: &Tree, o: u32, n: u32, gone: &[bool], dirty: &mut [bool]) -> usize {
    let mut changes = 0;
    for step in merge(old, new, o, n) {
        changes += match step {
            Step::Remove(c) if gone[c as usize] => 0,
            Step::Remove(c) => subtree_len(old, c),
            Step::Create(c) => subtree_len(new, c),
            Step::Both(a, b) if gone[a as usize] => subtree_len(new, b),
            Step::Both(a, b) => {
                let (na, nb) = (&old.nodes()[a as usize], &new.nodes()[b as usize]);
                match compare(na, nb) {
                    Same::Keep => 0,
                    Same::Replace => subtree_len(old, a) + subtree_len(new, b),
                    Same::Directory => {
                        let inner = mark(old, new, a, b, gone, dirty);
                        let moded = dir_mode(na) != dir_mode(nb);
                        dirty[b as usize] = inner > 0 || moded;
                        inner + usize::from(moded)
                    }
                }
            }
        };
    }
    changes
}

fn subtree_len(tree: &Tree, node: u32) -> usize {
    match &tree.nodes()[node as usize].kind {
        NodeKind::Directory { children, .. } => {
            1 + children
                .iter()
                .map(|&c| subtree_len(tree, c))
                .sum::<usize>()
        }
        _ => 1,
    }
}

/// The difference between two trees, computed in memory.
pub struct Patch<'t> {
    old: &'t Tree,
    new: &'t Tree,
    /// Old-tree entries found missing (or of the wrong type) on disk by
    /// [`Blitter::reconcile`].
    gone: Vec<bool>,
    dirty: Vec<bool>,
    changes: usize,
}

impl<'t> Patch<'t> {
    /// The difference, assuming the disk holds exactly `old`.
    pub fn new(old: &'t Tree, new: &'t Tree) -> Self {
        Self::with_gone(old, new, vec![false; old.len()])
    }

    pub(super) fn with_gone(old: &'t Tree, new: &'t Tree, gone: Vec<bool>) -> Self {
        let mut dirty = vec![false; new.len()];
        let changes = mark(old, new, 0, 0, &gone, &mut dirty);
        dirty[0] = changes > 0 || dir_mode(old.root()) != dir_mode(new.root());
        Self {
            old,
            new,
            gone,
            dirty,
            changes,
        }
    }

    /// Entries to remove, create or re-mode (a removed or created
    /// directory counts with everything beneath it).
    pub fn changes(&self) -> usize {
        self.changes
    }
}

struct Ctx<'a> {
    blitter: &'a Blitter,
    store_fd: std::os::fd::OwnedFd,
    umask: u32,
    stats: BlitStats,
}

fn cname(node: &Node) -> CString {
    sys::cstring(OsStr::new(node.name()))
}

pub(super) fn fail<'n>(
    node: &'n Node,
    op: &'static str,
) -> impl FnOnce(io::Error) -> BlitError + 'n {
    move |source| BlitError {
        path: node.path.to_string(),
        op,
        source,
    }
}

impl Blitter {
    /// Turns `target`, which holds exactly `patch`'s old tree, into its new
    /// tree. Counts what was created.
    pub fn patch(&self, patch: &Patch<'_>, target: &Path) -> Result<BlitStats, BlitError> {
        let root_err = |op| {
            move |source| BlitError {
                path: String::new(),
                op,
                source,
            }
        };
        let (parent_fd, name, store_fd) = self.open_target(target)?;
        let mut ctx = Ctx {
            blitter: self,
            store_fd,
            umask: sys::current_umask(),
            stats: BlitStats::default(),
        };
        if !patch.dirty[0] {
            return Ok(ctx.stats);
        }
        if dir_mode(patch.old.root()) & 0o700 != 0o700 {
            sys::fchmodat(parent_fd.as_fd(), &name, 0o700).map_err(root_err("fchmodat"))?;
        }
        let root_fd =
            sys::open_dir(Some(parent_fd.as_fd()), &name).map_err(root_err("opening the tree"))?;
        ctx.apply(patch, root_fd.as_fd(), 0, 0)?;
        sys::fchmodat(parent_fd.as_fd(), &name, dir_mode(patch.new.root()))
            .map_err(root_err("fchmodat"))?;
        Ok(ctx.stats)
    }
}

impl Ctx<'_> {
    /// Applies the difference inside one directory present in both trees.
    fn apply(
        &mut self,
        p: &Patch<'_>,
        dir: BorrowedFd<'_>,
        o: u32,
        n: u32,
    ) -> Result<(), BlitError> {
        // Removals first, so a name can change kind (a directory becoming a file).
        let steps = merge(p.old, p.new, o, n);
        for step in &steps {
            let old = match *step {
                Step::Remove(a) | Step::Both(a, _) if p.gone[a as usize] => continue,
                Step::Remove(a) => &p.old.nodes()[a as usize],
                Step::Both(a, b)
                    if compare(&p.old.nodes()[a as usize], &p.new.nodes()[b as usize])
                        == Same::Replace =>
                {
                    &p.old.nodes()[a as usize]
                }
                _ => continue,
            };
            if !is_special(old) {
                checkpoint();
                sys::remove_at(dir, &cname(old)).map_err(fail(old, "removing"))?;
            }
        }
        for step in steps {
            match step {
                Step::Remove(_) => {}
                Step::Create(b) => self.create(p.new, dir, b)?,
                Step::Both(a, b) if p.gone[a as usize] => self.create(p.new, dir, b)?,
                Step::Both(a, b) => {
                    let (na, nb) = (&p.old.nodes()[a as usize], &p.new.nodes()[b as usize]);
                    match compare(na, nb) {
                        Same::Keep => {}
                        Same::Replace => self.create(p.new, dir, b)?,
                        Same::Directory if p.dirty[b as usize] => {
                            let name = cname(nb);
                            let (was, want) = (dir_mode(na), dir_mode(nb));
                            if was & 0o700 != 0o700 {
                                sys::fchmodat(dir, &name, 0o700).map_err(fail(nb, "fchmodat"))?;
                            }
                            let fd = sys::open_dir(Some(dir), &name).map_err(fail(nb, "openat"))?;
                            self.apply(p, fd.as_fd(), a, b)?;
                            if was != want || was & 0o700 != 0o700 {
                                checkpoint();
                                sys::fchmodat(dir, &name, want).map_err(fail(nb, "fchmodat"))?;
                            }
                        }
                        Same::Directory => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// Creates a new-tree node (and, for a directory, everything beneath it).
    fn create(&mut self, tree: &Tree, dir: BorrowedFd<'_>, node: u32) -> Result<(), BlitError> {
        let n = &tree.nodes()[node as usize];
        let name = cname(n);
        checkpoint();
        match &n.kind {
            NodeKind::Directory { mode, children } => {
                let owner_ok = mode & 0o700 == 0o700;
                let create = if owner_ok { mode & 0o777 } else { 0o700 };
                sys::mkdirat(dir, &name, create).map_err(fail(n, "mkdirat"))?;
                if !children.is_empty() {
                    let fd = sys::open_dir(Some(dir), &name).map_err(fail(n, "openat"))?;
                    for &child in children {
                        self.create(tree, fd.as_fd(), child)?;
                    }
                }
                if !owner_ok || mode & self.umask != 0 || mode & 0o7000 != 0 {
                    sys::fchmodat(dir, &name, *mode).map_err(fail(n, "fchmodat"))?;
                }
                self.stats.directories += 1;
            }
            NodeKind::File { digest, mode } => {
                let copied = self
                    .blitter
                    .file(
                        self.store_fd.as_fd(),
                        self.umask,
                        dir,
                        &name,
                        *digest,
                        *mode,
                    )
                    .map_err(fail(n, "placing the file"))?;
                self.stats.files += 1;
                self.stats.copies += u64::from(copied);
            }
            NodeKind::Symlink { target } => {
                sys::symlinkat(&sys::cstring(OsStr::new(&**target)), dir, &name)
                    .map_err(fail(n, "symlinkat"))?;
                self.stats.symlinks += 1;
            }
            NodeKind::Special { .. } => self.stats.skipped += 1,
        }
        Ok(())
    }
}
