//! The blit: writes a [`Tree`] into a fresh directory with `*at` syscalls
//! relative to directory descriptors (no path is ever re-resolved, and no
//! symlink is ever followed), hardlinking regular files from the store.
//!
//! A store inode is never chmod-ed or chown-ed: a file whose mode differs
//! from [`STORE_MODE`] is linked from a mode variant (see
//! [`ModeVariants`]), and where hardlinks are impossible (another
//! filesystem, link-count limit) the content is copied (reflink first).
//! Directories are processed by a small pool of threads sharing a stack of
//! pending directories.

mod patch;
mod reconcile;
mod sys;

pub use patch::Patch;

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::fault::checkpoint;
use crate::store::{relative_path, Digest, ModeVariants, Store, STORE_MODE};
use crate::tree::{NodeKind, Tree};

/// xxh3-128 of the empty file: such files are created fresh, never linked.
const EMPTY_DIGEST: Digest = 0x99aa06d3014798d86001c324468d497f;

/// A blit failure, with the tree path it happened at.
#[derive(Debug, thiserror::Error)]
#[error("blit of /usr/{path}: {op} failed")]
pub struct BlitError {
    pub path: String,
    pub op: &'static str,
    pub source: io::Error,
}

/// Counts of what a blit wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlitStats {
    pub directories: u64,
    pub files: u64,
    pub symlinks: u64,
    /// Files that had to be copied rather than hardlinked.
    pub copies: u64,
    /// Devices, fifos and sockets, which are not materialised.
    pub skipped: u64,
}

impl BlitStats {
    pub fn entries(&self) -> u64 {
        self.directories + self.files + self.symlinks
    }
}

/// Where blitted files come from.
#[derive(Debug, Clone)]
pub struct Blitter {
    store: Store,
    variants: ModeVariants,
    threads: usize,
}

struct Job {
    fd: Arc<OwnedFd>,
    /// The same directory in the twin tree, when one is written too.
    twin: Option<Arc<OwnedFd>>,
    node: u32,
}

struct Shared<'t> {
    tree: &'t Tree,
    store_fd: OwnedFd,
    umask: u32,
    queue: Mutex<(Vec<Job>, usize)>,
    wake: Condvar,
    failed: AtomicBool,
    error: Mutex<Option<BlitError>>,
    deferred_modes: Mutex<Vec<u32>>,
    counters: [AtomicU64; 5],
}

impl Blitter {
    /// `threads` workers (at least one) share the directories.
    pub fn new(store: Store, variants: ModeVariants, threads: usize) -> Self {
        Self {
            store,
            variants,
            threads: threads.max(1),
        }
    }

    /// The directory `target` is (or will be) in, `target`'s own name, and
    /// the store: what both a blit and a patch start from.
    fn open_target(&self, target: &Path) -> Result<(OwnedFd, CString, OwnedFd), BlitError> {
        let root_err = |op: &'static str| {
            move |source| BlitError {
                path: String::new(),
                op,
                source,
            }
        };
        let parent = target.parent().unwrap_or(Path::new("."));
        let name = target
            .file_name()
            .ok_or_else(|| root_err("naming the target")(io::ErrorKind::InvalidInput.into()))?;
        let parent_fd = sys::open_dir(None, &sys::cstring(parent.as_os_str()))
            .map_err(root_err("opening the target's parent"))?;
        let store_fd = sys::open_dir(None, &sys::cstring(self.store.dir().as_os_str()))
            .map_err(root_err("opening the store"))?;
        Ok((parent_fd, sys::cstring(name), store_fd))
    }

    /// Writes `tree` to `target`, which must not exist yet (its parent must).
    pub fn blit(&self, tree: &Tree, target: &Path) -> Result<BlitStats, BlitError> {
        self.blit_into(tree, target, None)
    }

    /// Writes `tree` to `target` and a second copy of it to `twin` (both
    /// must not exist yet) in one walk, as a fresh install does to leave an
    /// archived tree behind. Every file (but an empty one) and symlink of
    /// the twin is a hard link to the one just placed in `target` (for most files, the
    /// store's own inode, as any blit links), so the second tree costs new
    /// inodes only for its directories (entries of a tree are never
    /// changed in place; a patch replaces them). The statistics are those
    /// of `target`.
    pub fn blit_twin(
        &self,
        tree: &Tree,
        target: &Path,
        twin: &Path,
    ) -> Result<BlitStats, BlitError> {
        self.blit_into(tree, target, Some(twin))
    }

    fn blit_into(
        &self,
        tree: &Tree,
        target: &Path,
        twin: Option<&Path>,
    ) -> Result<BlitStats, BlitError> {
        let root_err = |op, source| BlitError {
            path: String::new(),
            op,
            source,
        };
        let (parent_fd, name, store_fd) = self.open_target(target)?;
        let root_mode = match tree.root().kind {
            NodeKind::Directory { mode, .. } => mode,
            _ => 0o755,
        };
        sys::mkdirat(parent_fd.as_fd(), &name, 0o700).map_err(|e| root_err("mkdirat", e))?;
        let root_fd = sys::open_dir(Some(parent_fd.as_fd()), &name)
            .map_err(|e| root_err("opening the new tree", e))?;
        let root_fd = Arc::new(root_fd);
        let twin = match twin {
            Some(twin) => {
                let (twin_parent, twin_name, _) = self.open_target(twin)?;
                sys::mkdirat(twin_parent.as_fd(), &twin_name, 0o700)
                    .map_err(|e| root_err("mkdirat", e))?;
                let fd = sys::open_dir(Some(twin_parent.as_fd()), &twin_name)
                    .map_err(|e| root_err("opening the twin tree", e))?;
                Some((twin_parent, twin_name, Arc::new(fd)))
            }
            None => None,
        };
        let shared = Shared {
            tree,
            store_fd,
            umask: sys::current_umask(),
            queue: Mutex::new((
                vec![Job {
                    fd: root_fd.clone(),
                    twin: twin.as_ref().map(|t| t.2.clone()),
                    node: 0,
                }],
                0,
            )),
            wake: Condvar::new(),
            failed: AtomicBool::new(false),
            error: Mutex::new(None),
            deferred_modes: Mutex::new(Vec::new()),
            counters: Default::default(),
        };
        if self.threads == 1 {
            self.worker(&shared);
        } else {
            std::thread::scope(|scope| {
                for _ in 0..self.threads {
                    scope.spawn(|| self.worker(&shared));
                }
            });
        }
        if let Some(err) = shared.error.lock().map(|mut e| e.take()).unwrap_or(None) {
            return Err(err);
        }
        // Directories without owner write access get their mode last, deepest first.
        let mut deferred = std::mem::take(
            &mut *shared
                .deferred_modes
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        deferred.sort_unstable_by(|a, b| b.cmp(a));
        let roots = std::iter::once(&root_fd).chain(twin.as_ref().map(|t| &t.2));
        for root in roots {
            for &index in &deferred {
                let node = &tree.nodes()[index as usize];
                if let NodeKind::Directory { mode, .. } = node.kind {
                    sys::fchmodat(root.as_fd(), &sys::cstring(OsStr::new(&*node.path)), mode)
                        .map_err(|source| BlitError {
                            path: node.path.to_string(),
                            op: "fchmodat",
                            source,
                        })?;
                }
            }
        }
        sys::fchmodat(parent_fd.as_fd(), &name, root_mode).map_err(|e| root_err("fchmodat", e))?;
        if let Some((twin_parent, twin_name, _)) = &twin {
            sys::fchmodat(twin_parent.as_fd(), twin_name, root_mode)
                .map_err(|e| root_err("fchmodat", e))?;
        }
        let c = |i: usize| shared.counters[i].load(Ordering::Relaxed);
        Ok(BlitStats {
            directories: c(0) + 1,
            files: c(1),
            symlinks: c(2),
            copies: c(3),
            skipped: c(4),
        })
    }

    fn worker(&self, shared: &Shared<'_>) {
        loop {
            let job = {
                let mut guard = shared.queue.lock().unwrap_or_else(|p| p.into_inner());
                loop {
                    if shared.failed.load(Ordering::Relaxed) {
                        shared.wake.notify_all();
                        return;
                    }
                    if let Some(job) = guard.0.pop() {
                        guard.1 += 1;
                        break job;
                    }
                    if guard.1 == 0 {
                        shared.wake.notify_all();
                        return;
                    }
                    guard = shared.wake.wait(guard).unwrap_or_else(|p| p.into_inner());
                }
            };
            let result = self.directory(shared, &job);
            let mut guard = shared.queue.lock().unwrap_or_else(|p| p.into_inner());
            match result {
                Ok(more) => guard.0.extend(more),
                Err(err) => {
                    shared.failed.store(true, Ordering::Relaxed);
                    if let Ok(mut slot) = shared.error.lock() {
                        slot.get_or_insert(err);
                    }
                }
            }
            guard.1 -= 1;
            shared.wake.notify_all();
        }
    }

    /// Creates the children of one directory; returns the subdirectories to fill.
    fn directory(&self, shared: &Shared<'_>, job: &Job) -> Result<Vec<Job>, BlitError> {
        let nodes = shared.tree.nodes();
        let NodeKind::Directory { children, .. } = &nodes[job.node as usize].kind else {
            return Ok(Vec::new());
        };
        let dir = job.fd.as_fd();
        let twin = job.twin.as_ref().map(|t| t.as_fd());
        let mut more = Vec::new();
        for &child in children {
            let node = &nodes[child as usize];
            let fail = |op| {
                move |source| BlitError {
                    path: node.path.to_string(),
                    op,
                    source,
                }
            };
            let name = sys::cstring(OsStr::new(node.name()));
            checkpoint();
            match &node.kind {
                NodeKind::Directory { mode, children } => {
                    let owner_ok = mode & 0o700 == 0o700;
                    let create = if owner_ok { *mode & 0o777 } else { 0o700 };
                    for dir in std::iter::once(dir).chain(twin) {
                        sys::mkdirat(dir, &name, create).map_err(fail("mkdirat"))?;
                        if owner_ok && (mode & shared.umask != 0 || mode & 0o7000 != 0) {
                            sys::fchmodat(dir, &name, *mode).map_err(fail("fchmodat"))?;
                        }
                    }
                    if !owner_ok {
                        shared
                            .deferred_modes
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(child);
                    }
                    if !children.is_empty() {
                        let fd = sys::open_dir(Some(dir), &name).map_err(fail("openat"))?;
                        let twin_fd = match twin {
                            Some(t) => Some(Arc::new(
                                sys::open_dir(Some(t), &name).map_err(fail("openat"))?,
                            )),
                            None => None,
                        };
                        more.push(Job {
                            fd: Arc::new(fd),
                            twin: twin_fd,
                            node: child,
                        });
                    }
                    shared.counters[0].fetch_add(1, Ordering::Relaxed);
                }
                NodeKind::File { digest, mode } => {
                    let place = |dir| {
                        self.file(
                            shared.store_fd.as_fd(),
                            shared.umask,
                            dir,
                            &name,
                            *digest,
                            *mode,
                        )
                        .map_err(fail("placing the file"))
                    };
                    let copied = place(dir)?;
                    if let Some(twin) = twin {
                        // The inode just placed (a store asset, a mode
                        // variant, a copy), found by one name in the directory
                        // at hand; placed afresh where it cannot be linked
                        // again, and for empty files, which no two trees share.
                        if *digest == EMPTY_DIGEST
                            || sys::linkat(Some(dir), &name, twin, &name).is_err()
                        {
                            place(twin)?;
                        }
                    }
                    shared.counters[1].fetch_add(1, Ordering::Relaxed);
                    if copied {
                        shared.counters[3].fetch_add(1, Ordering::Relaxed);
                    }
                }
                NodeKind::Symlink { target } => {
                    let target = sys::cstring(OsStr::new(&**target));
                    sys::symlinkat(&target, dir, &name).map_err(fail("symlinkat"))?;
                    if let Some(twin) = twin {
                        // A hard link to the symlink just made (never followed),
                        // or, where the file system refuses one, a symlink of its own.
                        if sys::linkat(Some(dir), &name, twin, &name).is_err() {
                            sys::symlinkat(&target, twin, &name).map_err(fail("symlinkat"))?;
                        }
                    }
                    shared.counters[2].fetch_add(1, Ordering::Relaxed);
                }
                NodeKind::Special { .. } => {
                    shared.counters[4].fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        Ok(more)
    }

    /// Places one regular file; returns whether it had to be copied.
    fn file(
        &self,
        store_fd: BorrowedFd<'_>,
        umask: u32,
        dir: BorrowedFd<'_>,
        name: &CString,
        digest: Digest,
        mode: u32,
    ) -> io::Result<bool> {
        if digest == EMPTY_DIGEST {
            sys::create_empty(dir, name, mode, umask)?;
            return Ok(false);
        }
        let source: PathBuf;
        let linked = if mode == STORE_MODE {
            let rel = sys::cstring(relative_path(digest).as_os_str());
            sys::linkat(Some(store_fd), &rel, dir, name)
        } else {
            source = self.variants.ensure(&self.store, digest, mode)?;
            sys::linkat(None, &sys::cstring(source.as_os_str()), dir, name)
        };
        match linked {
            Ok(()) => Ok(false),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EXDEV) | Some(libc::EMLINK)) => {
                sys::copy_into(&self.store.path(digest), dir, name, mode)?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("asset {digest:032x} is missing from the store"),
            )),
            Err(e) => Err(e),
        }
    }
}
