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

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

use super::apply::Plan;
use super::{Engine, EngineError};
use crate::blit::Patch;
use crate::db::{Journal, Selection};
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

/// The packages of an archived state, read before the transaction, from
/// which its tree is built.
pub(super) struct SparePackages {
    id: i64,
    /// The state's selections, in order.
    selections: Vec<Selection>,
    /// Packages the new plan does not hold (the others are taken from it).
    own: Plan,
}

impl SparePackages {
    /// The archived state's tree; `None` when it does not build (then it is
    /// not patched).
    fn tree(&self, plan: &Plan) -> Option<Tree> {
        let known: HashMap<&str, usize> = plan
            .metas
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.as_str(), i))
            .collect();
        let mut packages = Vec::with_capacity(self.selections.len());
        let mut next_own = 0;
        for sel in &self.selections {
            let (metas, layouts, i) = match known.get(sel.package_id.as_str()) {
                Some(&i) => (&plan.metas, &plan.layouts, i),
                None => {
                    next_own += 1;
                    (&self.own.metas, &self.own.layouts, next_own - 1)
                }
            };
            packages.push(super::package_layouts(&metas[i], &layouts[i]));
        }
        Tree::build(&packages).ok()
    }
}

/// The tree of an archived state, built while the new tree is (see
/// [`Engine::plan_trees`]).
pub(super) struct SpareTree {
    id: i64,
    tree: Option<Tree>,
}

/// What a transaction may reuse instead of blitting every entry: the plan
/// its new tree was built from and, when one was built beside it, the tree
/// of the archived state to patch.
pub(super) struct Reuse<'a> {
    pub(super) plan: &'a Plan,
    pub(super) spare: Option<SpareTree>,
}

impl Engine {
    /// Builds `plan`'s tree (which checks it) and, on a second thread at
    /// the same time, the tree of the newest archived state, which the
    /// transaction will most likely patch: the two builds are most of a
    /// small transaction's work, and neither needs the other.
    pub(super) fn plan_trees(&self, plan: &Plan) -> Result<(Tree, Option<SpareTree>), EngineError> {
        let spare = self.spare_packages(plan, None)?;
        let (new, old) = std::thread::scope(|scope| {
            let old = spare
                .as_ref()
                .map(|packages| scope.spawn(|| packages.tree(plan)));
            let new = plan.tree();
            let old = old.map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            });
            (new, old)
        });
        let spare = spare.map(|packages| SpareTree {
            id: packages.id,
            tree: old.flatten(),
        });
        Ok((new?, spare))
    }

    /// The packages of the newest archived tree other than `exclude`, if
    /// its `.stateID` names a state the database still holds.
    fn spare_packages(
        &self,
        plan: &Plan,
        exclude: Option<i64>,
    ) -> Result<Option<SparePackages>, EngineError> {
        let Some(id) = self.newest_archive(exclude)? else {
            return Ok(None);
        };
        let archived = self.inst.archive_dir(id).join("usr");
        if read_state_id(&archived).ok().flatten() != Some(id) {
            return Ok(None);
        }
        let Some(state) = self.db.state(id)? else {
            return Ok(None);
        };
        // Packages both states select are read once, from the new plan.
        let known: HashSet<&str> = plan.metas.iter().map(|m| m.id.as_str()).collect();
        let mut own = Plan::default();
        for sel in &state.selections {
            if known.contains(sel.package_id.as_str()) {
                continue;
            }
            let Some(meta) = self.db.package(&sel.package_id)? else {
                return Ok(None);
            };
            let layouts = self.db.layouts(&sel.package_id)?;
            own.push(meta, layouts, sel.explicit);
        }
        Ok(Some(SparePackages {
            id,
            selections: state.selections,
            own,
        }))
    }

    /// The newest archived tree other than the journal's states, if it is
    /// worth patching into `new`: moved to `staged` (which must not exist)
    /// and returned with the tree of the state it holds. The tree built
    /// beside `new` is used when it is still that archive's (nothing
    /// touched it since: the root is locked); otherwise it is built here.
    pub(super) fn take_spare(
        &mut self,
        new: &Tree,
        reuse: Reuse<'_>,
        journal: &Journal,
        staged: &Path,
    ) -> Result<Option<Spare>, EngineError> {
        let exclude = Some(journal.new_state);
        let (id, old) = match reuse.spare {
            Some(built)
                if Some(built.id) != exclude && self.newest_archive(exclude)? == Some(built.id) =>
            {
                (built.id, built.tree)
            }
            _ => match self.spare_packages(reuse.plan, exclude)? {
                Some(packages) => (packages.id, packages.tree(reuse.plan)),
                None => return Ok(None),
            },
        };
        let Some(old) = old else {
            return Ok(None);
        };
        let archive_dir = self.inst.archive_dir(id);
        let archived = archive_dir.join("usr");
        if read_state_id(&archived).ok().flatten() != Some(id) {
            return Ok(None);
        }
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

    /// The highest-numbered archive directory other than `exclude` (the new
    /// state of the transaction). The old state's own archive exists only as the copy a
    /// fresh install leaves (the live tree is never archived while live),
    /// and is the closest tree there is.
    fn newest_archive(&self, exclude: Option<i64>) -> Result<Option<i64>, EngineError> {
        let dir = self.inst.states_dir();
        let entries = fs::read_dir(&dir).map_err(|source| EngineError::Io {
            op: "listing",
            path: dir.clone(),
            source,
        })?;
        Ok(entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i64>().ok())
            .filter(|id| Some(*id) != exclude)
            .max())
    }
}
