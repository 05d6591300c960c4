//! Writes the `/usr` tree of a Binary stone into a folder, safely: every
//! layout path is checked and the whole layout resolved ([`plan`]) before
//! anything is written; parents are created one component at a time and must
//! be real directories (never a symlink), and nothing is opened through an
//! existing final component.
//!
//! Each unique content is written once, straight to the first path that uses
//! it, while the stream is decompressed and verified ([`writers`]); other
//! paths with the same content are copied from it afterwards.

mod fsops;
mod plan;
mod writers;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{Read, Seek};
use std::path::Path;

use super::error::{Result, StoneError};
use super::layout::LayoutKind;
use super::path::check_layout_path;
use super::reader::StoneReader;
use fsops::{copy_file, creation_mode, fail, make_dir, make_parent, process_umask, set_mode};
use plan::Plan;
use writers::{DirectSink, Dispatch, Item, Target};

/// Writer threads at most (one per CPU up to this).
const MAX_WRITERS: usize = 4;

/// What an extraction wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtractStats {
    pub regular: usize,
    pub symlinks: usize,
    pub directories: usize,
    /// Devices, fifos and sockets.
    pub special: usize,
}

/// Whether a layout is one a Binary stone may carry: every path safe, no
/// unknown file type, nothing beneath a non-directory entry of the layout
/// (its own symlinks included), no directory replaced by anything else.
/// `moss install` and `moss extract` both apply this one check, so they
/// accept the same archives. (A real build's layout never lists entries
/// beneath its own symlinks: a walk of the install tree does not descend
/// them; across packages, the tree resolves symlinked directories.)
pub fn check_layout(layout: &[super::LayoutEntry]) -> Result<()> {
    for entry in layout {
        check_layout_path(&entry.path)?;
    }
    Plan::new(layout, Path::new("/usr"))
        .map(drop)
        .map_err(|e| match e {
            StoneError::Extract { path, reason } => StoneError::BadLayout { path, reason },
            other => other,
        })
}

/// Extracts the layout of `reader` into `usr_dir` (the folder that stands for
/// `/usr`; created if missing). Where the layout names a path twice, the last
/// entry wins. Owners are not changed; modes are applied in full (directory
/// modes last, so read-only directories can be filled). If a content fails
/// its digest check, the file being written is removed and an error returned;
/// the files written before it stay.
pub fn extract<R: Read + Seek>(
    reader: &mut StoneReader<R>,
    usr_dir: &Path,
) -> Result<ExtractStats> {
    let layout = reader.layout().to_vec();
    check_layout(&layout)?;
    let indexed: HashSet<u128> = reader.index().iter().map(|e| e.digest).collect();
    for entry in &layout {
        if let LayoutKind::Regular { digest } = entry.kind {
            if !indexed.contains(&digest) {
                return Err(StoneError::MissingContent {
                    path: entry.path.clone(),
                    digest,
                });
            }
        }
    }
    let plan = Plan::new(&layout, usr_dir)?;
    fs::create_dir_all(usr_dir).map_err(|e| fail(usr_dir, e))?;
    let umask = process_umask();
    let mut stats = ExtractStats::default();

    // Directories first: every later step writes into them.
    let mut parents = Parents {
        root: usr_dir,
        known: HashSet::new(),
    };
    let mut late_dir_modes = Vec::new();
    for entry in &plan.entries {
        parents.prepare(&entry.path)?;
        if matches!(entry.kind, LayoutKind::Directory) {
            let path = usr_dir.join(&entry.path);
            // Created with its final mode if that is exact and lets us fill it.
            let early = creation_mode(entry.mode, umask).filter(|m| m & 0o700 == 0o700);
            let created = make_dir(&path, early.unwrap_or(0o700))?;
            if !(created && early.is_some()) {
                late_dir_modes.push((path, entry.mode));
            }
            parents.known.insert(entry.path.as_str());
            stats.directories += 1;
        }
    }

    // The first path of each content gets the file; modes that would stop
    // later copies from reading it, or that writing would clear (set-id
    // bits), are applied at the end.
    let mut targets = HashMap::with_capacity(plan.by_digest.len());
    let mut late_modes = Vec::new();
    for (digest, entries) in &plan.by_digest {
        let first = entries[0];
        let path = usr_dir.join(&first.path);
        let early = creation_mode(first.mode, umask).filter(|m| m & 0o400 != 0);
        if early.is_none() {
            late_modes.push((path.clone(), first.mode));
        }
        targets.insert(
            *digest,
            Target {
                path,
                mode: early.unwrap_or(0o600),
            },
        );
    }

    // Past a few writers the file system's own locks are the limit.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_WRITERS));
    std::thread::scope(|scope| {
        let (queues, handles) = writers::spawn(scope, threads);
        let mut dispatch = Dispatch::new(queues);
        let mut sink_result = queue_links(&plan, usr_dir, &mut dispatch, &mut stats);
        if sink_result.is_ok() {
            let mut sink = DirectSink {
                targets: &targets,
                dispatch,
            };
            sink_result = reader.unpack_content(&mut sink).map(|_| ());
            if sink_result.is_ok() {
                sink_result = sink
                    .dispatch
                    .flush()
                    .map_err(|e| StoneError::io("handing files to the writers", e));
            }
        }
        // The queues are closed now (the sink is dropped): writers finish.
        let mut written = Ok(());
        for handle in handles {
            let result = handle.join().unwrap_or_else(|_| {
                Err(StoneError::Extract {
                    path: usr_dir.to_path_buf(),
                    reason: "a file writer panicked".into(),
                })
            });
            written = written.and(result);
        }
        // A writer's error explains a failed hand-over better than the hand-over does.
        written.and(sink_result)
    })?;

    for (digest, entries) in &plan.by_digest {
        let first = &targets[digest].path;
        for entry in &entries[1..] {
            let path = usr_dir.join(&entry.path);
            let early = creation_mode(entry.mode, umask);
            copy_file(first, &path, early.unwrap_or(0o600))?;
            if early.is_none() {
                set_mode(&path, entry.mode)?;
            }
        }
        stats.regular += entries.len();
    }
    for (path, mode) in late_modes {
        set_mode(&path, mode)?;
    }
    // Deepest first, so a read-only parent does not block its children.
    late_dir_modes.sort_by_key(|(p, _)| std::cmp::Reverse(p.components().count()));
    for (path, mode) in late_dir_modes {
        set_mode(&path, mode)?;
    }
    Ok(stats)
}

/// Hands every surviving symlink, device, fifo and socket to the writers.
fn queue_links(
    plan: &Plan<'_>,
    usr_dir: &Path,
    dispatch: &mut Dispatch,
    stats: &mut ExtractStats,
) -> Result<()> {
    let gone = |e| StoneError::io("handing links to the writers", e);
    for entry in &plan.entries {
        let path = usr_dir.join(&entry.path);
        let item = match &entry.kind {
            LayoutKind::Symlink { target } => {
                stats.symlinks += 1;
                Item::Symlink(path, target.clone())
            }
            LayoutKind::CharDevice
            | LayoutKind::BlockDevice
            | LayoutKind::Fifo
            | LayoutKind::Socket => {
                stats.special += 1;
                Item::Node(path, entry.kind.clone(), entry.mode)
            }
            _ => continue,
        };
        dispatch.push(item, 0).map_err(gone)?;
    }
    dispatch.flush().map_err(gone)
}

/// Creates missing parents of layout paths, one component at a time,
/// remembering the ones made or checked so each is looked at once.
struct Parents<'a> {
    root: &'a Path,
    known: HashSet<&'a str>,
}

impl<'a> Parents<'a> {
    fn prepare(&mut self, relative: &'a str) -> Result<()> {
        for (at, _) in relative.match_indices('/') {
            let parent = &relative[..at];
            if self.known.insert(parent) {
                make_parent(&self.root.join(parent))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stone::{Content, LayoutEntry, Meta, StoneWriter, WriteOptions};
    use std::io;
    use std::os::unix::fs::MetadataExt;

    fn regular(path: &str, mode: u32, body: &[u8]) -> LayoutEntry {
        LayoutEntry {
            uid: 0,
            gid: 0,
            mode: 0o100000 | mode,
            tag: 0,
            kind: LayoutKind::Regular {
                digest: xxhash_rust::xxh3::xxh3_128(body),
            },
            path: path.into(),
        }
    }

    /// One content under several modes (set-id and owner-unreadable ones
    /// included); a path listed twice by agreeing entries is written once.
    #[test]
    fn shared_contents_keep_each_mode_and_agreeing_duplicates_are_one() {
        let listed_twice = vec![
            regular("bin/c", 0o644, b"same"),
            regular("bin/c", 0o600, b"other"),
        ];
        assert!(check_layout(&listed_twice).is_err());
        let layout = vec![
            regular("bin/a", 0o4755, b"same"),
            regular("bin/d", 0o200, b"same"),
            regular("bin/c", 0o600, b"other"),
            regular("bin/c", 0o600, b"other"),
            LayoutEntry {
                uid: 0,
                gid: 0,
                mode: 0o120777,
                tag: 0,
                kind: LayoutKind::Symlink { target: "a".into() },
                path: "bin/b".into(),
            },
            regular("lib/deep/er/x", 0o444, b"x"),
        ];
        let contents = vec![
            Content::from_bytes(b"same".to_vec()),
            Content::from_bytes(b"other".to_vec()),
            Content::from_bytes(b"x".to_vec()),
        ];
        let meta = Meta {
            name: "t".into(),
            ..Meta::default()
        };
        let stone = StoneWriter::new(WriteOptions::default())
            .write_binary(io::Cursor::new(Vec::new()), &meta, &layout, contents)
            .unwrap()
            .into_inner();
        let dir = tempfile::tempdir().unwrap();
        let usr = dir.path().join("usr");
        let mut reader = StoneReader::new(io::Cursor::new(stone)).unwrap();
        extract(&mut reader, &usr).unwrap();
        let mode = |p: &str| fs::symlink_metadata(usr.join(p)).unwrap().mode() & 0o7777;
        assert_eq!(mode("bin/a"), 0o4755);
        assert_eq!(mode("bin/d"), 0o200);
        assert_eq!(fs::read(usr.join("bin/a")).unwrap(), b"same");
        assert_eq!(fs::read_link(usr.join("bin/b")).unwrap(), Path::new("a"));
        assert_eq!(mode("bin/c"), 0o600);
        assert_eq!(fs::read(usr.join("bin/c")).unwrap(), b"other");
        assert_eq!(mode("lib/deep/er/x"), 0o444);
    }
}
