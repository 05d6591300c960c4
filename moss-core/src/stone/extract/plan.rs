//! Resolves a layout into what the extraction leaves on disk, before anything
//! is written: a path may be listed twice only by entries that agree (the
//! rule `moss install`'s tree applies to two records at one path), a
//! directory is never replaced by anything else, and no entry may lie below a
//! non-directory (a symlink included). Each surviving entry is then written
//! once, straight to its final path.

use std::collections::HashMap;
use std::path::Path;

use super::super::error::{Result, StoneError};
use super::super::layout::{LayoutEntry, LayoutKind};

/// What the layout leaves at each path.
enum Slot {
    /// A directory: the layout index of its last directory entry, if any
    /// (parents the layout does not list are directories too).
    Dir(Option<usize>),
    /// The layout index of the last non-directory entry.
    Other(usize),
}

/// The entries to write.
pub(super) struct Plan<'a> {
    /// The surviving entries, in layout order.
    pub entries: Vec<&'a LayoutEntry>,
    /// The surviving regular entries of each digest, in layout order.
    pub by_digest: HashMap<u128, Vec<&'a LayoutEntry>>,
}

/// Why two entries at one path cannot both stand (the tree's rule: the same
/// content, link target, or kind and permission bits), or `None`.
fn disagreement(a: &LayoutEntry, b: &LayoutEntry) -> Option<String> {
    let (pa, pb) = (a.mode & 0o7777, b.mode & 0o7777);
    match (&a.kind, &b.kind) {
        (LayoutKind::Regular { digest: x }, LayoutKind::Regular { digest: y }) if x != y => {
            Some(format!("different contents {x:032x} and {y:032x}"))
        }
        (LayoutKind::Symlink { target: x }, LayoutKind::Symlink { target: y }) => {
            (x != y).then(|| format!("symlinks to {x:?} and {y:?}"))
        }
        (x, y) if std::mem::discriminant(x) == std::mem::discriminant(y) => {
            (pa != pb).then(|| format!("modes {pa:o} and {pb:o}"))
        }
        _ => Some("different kinds of entry".to_string()),
    }
}

const NOT_A_DIRECTORY: &str =
    "a parent of a layout entry is not a directory (symlinks are never followed)";

impl<'a> Plan<'a> {
    /// Plans `layout` (paths already checked) for extraction into `usr_dir`,
    /// which is only used to name paths in errors.
    pub fn new(layout: &'a [LayoutEntry], usr_dir: &Path) -> Result<Self> {
        let refuse = |path: &str, reason: &str| StoneError::Extract {
            path: usr_dir.join(path),
            reason: reason.to_string(),
        };
        let mut slots: HashMap<&str, Slot> = HashMap::with_capacity(layout.len());
        for (i, entry) in layout.iter().enumerate() {
            if let LayoutKind::Unknown { file_type, .. } = entry.kind {
                return Err(refuse(
                    &entry.path,
                    &format!("unknown layout file type {file_type}"),
                ));
            }
            let path = entry.path.as_str();
            for (at, _) in path.match_indices('/') {
                let parent = &path[..at];
                match slots.get(parent) {
                    Some(Slot::Dir(_)) => {}
                    Some(Slot::Other(_)) => return Err(refuse(parent, NOT_A_DIRECTORY)),
                    None => {
                        slots.insert(parent, Slot::Dir(None));
                    }
                }
            }
            let is_dir = matches!(entry.kind, LayoutKind::Directory);
            if let Some(Slot::Dir(Some(j)) | Slot::Other(j)) = slots.get(path) {
                if let Some(why) = disagreement(&layout[*j], entry) {
                    return Err(refuse(path, &format!("listed twice: {why}")));
                }
            }
            match slots.get_mut(path) {
                Some(Slot::Dir(_)) if !is_dir => {
                    return Err(refuse(path, "a directory is in the way"))
                }
                Some(slot) => {
                    *slot = if is_dir {
                        Slot::Dir(Some(i))
                    } else {
                        Slot::Other(i)
                    }
                }
                None => {
                    slots.insert(
                        path,
                        if is_dir {
                            Slot::Dir(Some(i))
                        } else {
                            Slot::Other(i)
                        },
                    );
                }
            }
        }
        let mut survivors: Vec<usize> = slots
            .into_values()
            .filter_map(|slot| match slot {
                Slot::Dir(i) => i,
                Slot::Other(i) => Some(i),
            })
            .collect();
        survivors.sort_unstable();
        let entries: Vec<&LayoutEntry> = survivors.into_iter().map(|i| &layout[i]).collect();
        let mut by_digest: HashMap<u128, Vec<&LayoutEntry>> = HashMap::new();
        for entry in &entries {
            if let LayoutKind::Regular { digest } = entry.kind {
                by_digest.entry(digest).or_default().push(entry);
            }
        }
        Ok(Plan { entries, by_digest })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, kind: LayoutKind) -> LayoutEntry {
        LayoutEntry {
            uid: 0,
            gid: 0,
            mode: 0o644,
            tag: 0,
            kind,
            path: path.into(),
        }
    }

    fn file(path: &str, digest: u128) -> LayoutEntry {
        entry(path, LayoutKind::Regular { digest })
    }

    fn paths(plan: &Plan<'_>) -> Vec<String> {
        plan.entries.iter().map(|e| e.path.clone()).collect()
    }

    #[test]
    fn agreeing_duplicates_are_written_once() {
        let layout = vec![
            file("a", 1),
            entry("d", LayoutKind::Directory),
            file("b", 2),
            file("a", 1),
            entry("d", LayoutKind::Directory),
            file("d/x", 2),
        ];
        let plan = Plan::new(&layout, Path::new("/o")).unwrap();
        assert_eq!(paths(&plan), ["b", "a", "d", "d/x"]);
        assert!(std::ptr::eq(plan.entries[2], &layout[4]));
        assert_eq!(plan.by_digest[&1].len(), 1);
        assert_eq!(plan.by_digest[&2].len(), 2);
    }

    #[test]
    fn structure_errors_are_found_before_writing() {
        let cases: [&[LayoutEntry]; 7] = [
            // A path listed twice by entries that disagree.
            &[file("a", 1), entry("a", LayoutKind::Directory)],
            &[file("a", 1), file("a", 2)],
            &[
                file("a", 1),
                entry("a", LayoutKind::Symlink { target: "b".into() }),
            ],
            &[
                entry("l", LayoutKind::Symlink { target: "/".into() }),
                file("l/x", 1),
            ],
            &[file("f", 1), file("f/x", 1)],
            &[file("d/x", 1), file("d", 1)],
            &[entry("d", LayoutKind::Directory), file("d", 1)],
        ];
        for layout in cases {
            let err = Plan::new(layout, Path::new("/o")).err().unwrap();
            assert!(matches!(err, StoneError::Extract { .. }), "{err}");
        }
    }
}
