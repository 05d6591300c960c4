//! Double buffering: instead of blitting every entry of the new tree, a
//! transaction takes the archived tree of an earlier state (a complete tree
//! of a known state), moves it into staging and applies only the difference
//! between the two states, computed in memory from their layouts.
//!
//! The spare is moved into staging after the journal is written and before
//! it is changed, so a crash at any point leaves it where every interrupted
//! transaction's leftovers go: recovery deletes staging, the old state stays
//! live, and the next transaction blits in full. A tree is only reused when
//! its `.stateID` names a state the database still holds. When that state
//! ships trigger files, handlers may have written or deleted files in the
//! tree: every directory of it is then read once before patching, names no
//! layout lists are removed, and missing entries or entries of the wrong
//! type are placed again.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use super::apply::Plan;
use super::{Engine, EngineError};
use crate::blit::Patch;
use crate::db::Journal;
use crate::fault::checkpoint;
use crate::state::read_state_id;
use crate::tree::{NodeKind, Tree};

/// Where packages put trigger files (see [`crate::trigger`]).
const TRIGGER_DIR: &str = "share/moss/triggers";

/// Whether a tree holds anything that could make triggers run.
fn has_triggers(tree: &Tree) -> bool {
    tree.nodes().iter().any(|n| {
        n.path.strip_prefix(TRIGGER_DIR).is_some_and(|rest| {
            rest.starts_with('/') && !matches!(n.kind, NodeKind::Directory { .. })
        })
    })
}

/// An archived tree moved into staging, and the tree of its state.
pub(super) struct Spare {
    pub(super) tree: Tree,
    /// Whether the disk must be read to find what triggers changed in it.
    pub(super) reconcile: bool,
}

impl Engine {
    /// The newest archived tree other than the journal's states, if it is
    /// worth patching into `new`: moved to `staged` (which must not exist)
    /// and returned with the tree of the state it holds.
    pub(super) fn take_spare(
        &mut self,
        new: &Tree,
        plan: &Plan,
        journal: &Journal,
        staged: &Path,
    ) -> Result<Option<Spare>, EngineError> {
        let Some(id) = self.newest_archive(journal)? else {
            return Ok(None);
        };
        let archive_dir = self.inst.archive_dir(id);
        let archived = archive_dir.join("usr");
        if read_state_id(&archived).ok().flatten() != Some(id) {
            return Ok(None);
        }
        let Some(state) = self.db.state(id)? else {
            return Ok(None);
        };
        // Packages both states select are read once, from the new plan.
        let known: HashMap<&str, usize> = plan
            .metas
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.as_str(), i))
            .collect();
        let mut own = Plan::default();
        for sel in &state.selections {
            if known.contains_key(sel.package_id.as_str()) {
                continue;
            }
            let Some(meta) = self.db.package(&sel.package_id)? else {
                return Ok(None);
            };
            let layouts = self.db.layouts(&sel.package_id)?;
            own.push(meta, layouts, sel.explicit);
        }
        let mut packages = Vec::with_capacity(state.selections.len());
        let mut next_own = 0;
        for sel in &state.selections {
            let (metas, layouts, i) = match known.get(sel.package_id.as_str()) {
                Some(&i) => (&plan.metas, &plan.layouts, i),
                None => {
                    next_own += 1;
                    (&own.metas, &own.layouts, next_own - 1)
                }
            };
            packages.push(super::package_layouts(&metas[i], &layouts[i]));
        }
        let Ok(old) = Tree::build(&packages) else {
            return Ok(None);
        };
        // Past the size of the new tree, patching costs more than a fresh blit.
        if Patch::new(&old, new).changes() > new.len() {
            return Ok(None);
        }
        fs::rename(&archived, staged).map_err(|source| EngineError::Io {
            op: "moving the spare tree to",
            path: staged.to_path_buf(),
            source,
        })?;
        checkpoint();
        let _ = fs::remove_dir(&archive_dir);
        let reconcile = has_triggers(&old);
        Ok(Some(Spare {
            tree: old,
            reconcile,
        }))
    }

    /// The highest-numbered archive directory other than the new state of
    /// `journal`. The old state's own archive exists only as the copy a
    /// fresh install leaves (the live tree is never archived while live),
    /// and is the closest tree there is.
    fn newest_archive(&self, journal: &Journal) -> Result<Option<i64>, EngineError> {
        let dir = self.inst.states_dir();
        let entries = fs::read_dir(&dir).map_err(|source| EngineError::Io {
            op: "listing",
            path: dir.clone(),
            source,
        })?;
        Ok(entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i64>().ok())
            .filter(|id| *id != journal.new_state)
            .max())
    }
}
