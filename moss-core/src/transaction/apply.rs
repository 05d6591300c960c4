//! The mutations: install, remove, activate.

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::spare::Reuse;
use super::stones::{cache_stones, read_stones};
use super::{Engine, EngineError, TransactionReport};
use crate::blit::{BlitStats, Patch};
use crate::db::{Journal, PackageMeta, Selection};
use crate::fault::checkpoint;
use crate::state::{self, exchange_or_rename, read_state_id, release, remove_tree, write_state_id};
use crate::stone::{LayoutEntry, LayoutKind};
use crate::tree::{PackageLayouts, Tree};
use crate::trigger::Outcome as TriggerOutcome;

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> EngineError + 'a {
    move |source| EngineError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// The packages of a prospective state.
#[derive(Default)]
pub(super) struct Plan {
    pub(super) metas: Vec<PackageMeta>,
    pub(super) layouts: Vec<Vec<LayoutEntry>>,
    pub(super) selections: Vec<Selection>,
}

impl Plan {
    pub(super) fn push(&mut self, meta: PackageMeta, layouts: Vec<LayoutEntry>, explicit: bool) {
        self.selections.push(Selection {
            package_id: meta.id.clone(),
            explicit,
            reason: None,
        });
        self.metas.push(meta);
        self.layouts.push(layouts);
    }

    pub(super) fn tree(&self) -> Result<Tree, EngineError> {
        let packages: Vec<PackageLayouts<'_>> = self
            .metas
            .iter()
            .zip(&self.layouts)
            .map(|(meta, layouts)| super::package_layouts(meta, layouts))
            .collect();
        Ok(Tree::build(&packages)?)
    }
}

impl Engine {
    /// Installs local stones (replacing installed packages of the same name).
    pub fn install(&mut self, paths: &[PathBuf]) -> Result<TransactionReport, EngineError> {
        let mut stones = read_stones(paths)?;
        let mut seen = HashSet::new();
        stones.retain(|s| seen.insert(s.meta.id.clone()));
        let (active, current) = self.active_selections()?;
        let new_ids: HashSet<&str> = stones.iter().map(|s| s.meta.id.as_str()).collect();
        let new_names: HashSet<&str> = stones.iter().map(|s| s.meta.name.as_str()).collect();
        let mut plan = Plan::default();
        for sel in current {
            if new_ids.contains(sel.package_id.as_str()) {
                continue;
            }
            let meta = self.cached_meta(&sel.package_id)?;
            if new_names.contains(meta.name.as_str()) {
                continue;
            }
            let layouts = self.db.layouts(&sel.package_id)?;
            plan.push(meta, layouts, sel.explicit);
        }
        for stone in &stones {
            for rec in &stone.layouts {
                if let LayoutKind::Regular { digest } = rec.kind {
                    if !stone.contents.contains(&digest) && !self.store.contains(digest) {
                        return Err(EngineError::MissingContent {
                            path: stone.path.clone(),
                            file: rec.path.clone(),
                            digest,
                        });
                    }
                }
            }
            plan.push(stone.meta.clone(), stone.layouts.clone(), true);
        }
        // Everything is checked before the first write.
        let (tree, spare) = self.plan_trees(&plan)?;
        self.check_live(active)?;
        // What this install adds, to take it away again if it fails.
        let mut new_packages = Vec::new();
        for stone in &stones {
            if self.db.package(&stone.meta.id)?.is_none() {
                new_packages.push(stone.meta.id.clone());
            }
        }
        // Its stones' contents: those no remaining package uses after a
        // failure are removed (one this install did not write is garbage
        // `prune` would remove anyway), so nothing is looked up beforehand.
        let mut new_assets: Vec<u128> = stones
            .iter()
            .flat_map(|s| s.contents.iter().copied())
            .collect();
        new_assets.sort_unstable();
        new_assets.dedup();
        let result =
            cache_stones(&stones, &self.store, &mut self.db).and_then(|(assets, bytes)| {
                let reuse = Reuse { plan: &plan, spare };
                let mut report =
                    self.commit_tree("Install", &tree, &plan.selections, active, Some(reuse))?;
                report.assets_written = assets;
                report.bytes_written = bytes;
                Ok(report)
            });
        match result {
            Ok(report) => Ok(report),
            Err(error) => match self.forget_added(&new_packages, &new_assets) {
                Ok(()) => Err(error),
                Err(cleanup) => Err(EngineError::Leftovers {
                    error: Box::new(error),
                    cleanup: Box::new(cleanup),
                }),
            },
        }
    }

    /// Takes away what a failed install added: its packages that no state
    /// selects, and the assets it stored that no remaining package uses.
    fn forget_added(&mut self, packages: &[String], assets: &[u128]) -> Result<(), EngineError> {
        let selected = self.db.selected_packages()?;
        let unused: Vec<String> = packages
            .iter()
            .filter(|id| !selected.contains(*id))
            .cloned()
            .collect();
        self.db.remove_packages(&unused)?;
        let referenced = self.db.referenced_digests()?;
        for digest in assets.iter().filter(|d| !referenced.contains(d)) {
            self.store
                .remove(*digest)
                .map_err(|e| state::StateError::Inconsistent(crate::util::with_causes(&e)))?;
        }
        let dir = self.inst.mode_variants_dir();
        self.variants
            .prune_unlinked()
            .map_err(io("pruning", &dir))?;
        Ok(())
    }

    /// Removes installed packages by name.
    pub fn remove(&mut self, names: &[String]) -> Result<TransactionReport, EngineError> {
        let (active, current) = self.active_selections()?;
        let mut plan = Plan::default();
        let mut found = HashSet::new();
        for sel in current {
            let meta = self.cached_meta(&sel.package_id)?;
            if names.contains(&meta.name) {
                found.insert(meta.name);
                continue;
            }
            let layouts = self.db.layouts(&sel.package_id)?;
            plan.push(meta, layouts, sel.explicit);
        }
        if let Some(missing) = names.iter().find(|n| !found.contains(*n)) {
            return Err(EngineError::NotInstalled(missing.clone()));
        }
        let (tree, spare) = self.plan_trees(&plan)?;
        self.check_live(active)?;
        let reuse = Reuse { plan: &plan, spare };
        self.commit_tree("Remove", &tree, &plan.selections, active, Some(reuse))
    }

    /// Makes an existing state live again and runs its system triggers.
    pub fn activate(&mut self, target: i64) -> Result<TransactionReport, EngineError> {
        self.activate_with(target, true)
    }

    /// Makes an existing state live again; `system_triggers: false` is for
    /// rolling back from an early boot environment.
    pub fn activate_with(
        &mut self,
        target: i64,
        system_triggers: bool,
    ) -> Result<TransactionReport, EngineError> {
        let (active, _) = self.active_selections()?;
        if active == Some(target) {
            return Err(EngineError::AlreadyActive(target));
        }
        let state = self.state(target)?;
        self.check_live(active)?;
        let archive_dir = self.inst.archive_dir(target);
        let archive = archive_dir.join("usr");
        let mut blit = BlitStats::default();
        if read_state_id(&archive).ok().flatten() != Some(target) {
            // The archived tree is gone (or damaged): build it again from the database.
            let mut plan = Plan::default();
            for sel in &state.selections {
                let meta = self.cached_meta(&sel.package_id)?;
                let layouts = self.db.layouts(&sel.package_id)?;
                plan.push(meta, layouts, sel.explicit);
            }
            let tree = plan.tree()?;
            let staging = self.inst.staging_dir();
            remove_tree(&staging).map_err(io("removing", &staging))?;
            fs::create_dir_all(&staging).map_err(io("creating", &staging))?;
            let usr = staging.join("usr");
            blit = self.blitter().blit(&tree, &usr)?;
            write_state_id(&usr, target)?;
            release::write(&usr, &tree, &self.system_model(&state.selections)?)?;
            remove_tree(&archive_dir).map_err(io("removing", &archive_dir))?;
            fs::create_dir_all(&archive_dir).map_err(io("creating", &archive_dir))?;
            fs::rename(&usr, &archive).map_err(io("moving", &archive))?;
        }
        let journal = Journal {
            new_state: target,
            old_state: active,
            new_state_created: false,
        };
        self.db.begin_activation(target, active)?;
        let result = self.swap_and_archive(&archive, &journal);
        if result.is_err() {
            let _ = state::recover(&self.inst, &mut self.db, &self.store);
        }
        result?;
        let _ = fs::remove_dir(&archive_dir);
        Ok(TransactionReport {
            state: target,
            previous: active,
            blit,
            assets_written: 0,
            bytes_written: 0,
            triggers: if system_triggers {
                self.system_triggers(None)
            } else {
                TriggerOutcome::default()
            },
        })
    }

    /// The system model of a state with `selections`: the root's active
    /// repositories (none when their configuration cannot be read: a local
    /// install does not need them) and the explicit packages by name.
    fn system_model(&self, selections: &[Selection]) -> Result<String, EngineError> {
        let repos = crate::repo::config::load(self.inst.root()).unwrap_or_default();
        let mut names = BTreeSet::new();
        for sel in selections.iter().filter(|s| s.explicit) {
            names.insert(self.cached_meta(&sel.package_id)?.name);
        }
        Ok(release::system_model(&repos, &names))
    }

    pub(super) fn cached_meta(&self, id: &str) -> Result<PackageMeta, EngineError> {
        self.db.package(id)?.ok_or_else(|| {
            EngineError::State(state::StateError::Inconsistent(format!(
                "package {id} is selected but not in the install database"
            )))
        })
    }

    /// The live tree must be the one the database calls active.
    pub(super) fn check_live(&self, active: Option<i64>) -> Result<(), EngineError> {
        let usr = self.inst.usr();
        let live = read_state_id(&usr)?;
        if live == active {
            if active.is_none() && fs::read_dir(&usr).is_ok_and(|mut d| d.next().is_some()) {
                return Err(state::StateError::Inconsistent(format!(
                    "{} exists, is not empty and is not managed by moss",
                    usr.display()
                ))
                .into());
            }
            return Ok(());
        }
        Err(state::StateError::Inconsistent(format!(
            "{} holds state {live:?} but the database says {active:?} is active",
            usr.display()
        ))
        .into())
    }

    /// Records a new state for `tree` and makes it live. With `reuse` (the
    /// plan `tree` was built from, and the archived tree built beside it),
    /// an archived tree may be patched into the new one (see `spare`)
    /// instead of blitting every entry.
    pub(super) fn commit_tree(
        &mut self,
        summary: &str,
        tree: &Tree,
        selections: &[Selection],
        old: Option<i64>,
        reuse: Option<Reuse<'_>>,
    ) -> Result<TransactionReport, EngineError> {
        let fresh = fresh_install(old, reuse.is_some());
        let id = self.db.begin_new_state(summary, None, selections, old)?;
        let journal = Journal {
            new_state: id,
            old_state: old,
            new_state_created: true,
        };
        let result = self.stage_and_swap(tree, selections, &journal, reuse);
        if result.is_err() {
            // Puts the root back to exactly the old (or, past the swap, the new) state.
            let _ = state::recover(&self.inst, &mut self.db, &self.store);
        }
        let (blit, mut triggers) = result?;
        let staging = self.inst.staging_dir();
        if fresh {
            self.archive_fresh_tree(tree, selections, id);
        }
        remove_tree(&staging).map_err(io("removing", &staging))?;
        triggers.extend(self.system_triggers(Some(tree)));
        Ok(TransactionReport {
            state: id,
            previous: old,
            blit,
            assets_written: 0,
            bytes_written: 0,
            triggers,
        })
    }

    /// After a fresh install, the second copy of its tree that the blit
    /// wrote beside it (directories, hard links into the store and to the
    /// live tree's symlinks: no content is copied) is put where the state's
    /// archived tree goes, so that the next transaction patches it instead
    /// of blitting every entry again. Until the state is committed the copy
    /// stays in staging, which recovery deletes. The state is already
    /// committed here: this is best effort, and a copy that did not
    /// complete lacks its `.stateID` (written last), so it is never
    /// patched, and the next transaction's archiving replaces it.
    fn archive_fresh_tree(&self, tree: &Tree, selections: &[Selection], id: i64) {
        let dir = self.inst.archive_dir(id);
        let twin = self.inst.staging_dir().join(TWIN);
        let copy = || -> Result<(), EngineError> {
            remove_tree(&dir).map_err(io("removing", &dir))?;
            fs::create_dir_all(&dir).map_err(io("creating", &dir))?;
            let usr = dir.join("usr");
            fs::rename(&twin, &usr).map_err(io("archiving", &usr))?;
            release::write(&usr, tree, &self.system_model(selections)?)?;
            write_state_id(&usr, id)?;
            Ok(())
        };
        if copy().is_err() {
            let _ = remove_tree(&dir);
        }
    }

    fn stage_and_swap(
        &mut self,
        tree: &Tree,
        selections: &[Selection],
        journal: &Journal,
        reuse: Option<Reuse<'_>>,
    ) -> Result<(BlitStats, TriggerOutcome), EngineError> {
        let staging = self.inst.staging_dir();
        remove_tree(&staging).map_err(io("removing", &staging))?;
        fs::create_dir_all(&staging).map_err(io("creating", &staging))?;
        checkpoint();
        let usr = staging.join("usr");
        let fresh = fresh_install(journal.old_state, reuse.is_some());
        let spare = match reuse {
            Some(reuse) => self.take_spare(tree, reuse, journal, &usr)?,
            None => None,
        };
        let blitter = self.blitter();
        let stats = match &spare {
            Some(spare) => {
                let patch = if spare.reconcile {
                    blitter.reconcile(&spare.tree, tree, &usr)?
                } else {
                    // The patch works on exactly the spare's tree.
                    release::remove(&usr, &spare.tree)?;
                    Patch::new(&spare.tree, tree)
                };
                blitter.patch(&patch, &usr)?
            }
            // A fresh install writes the tree to archive as well, in the same walk.
            None if fresh => blitter.blit_twin(tree, &usr, &staging.join(TWIN))?,
            None => blitter.blit(tree, &usr)?,
        };
        write_state_id(&usr, journal.new_state)?;
        release::write(&usr, tree, &self.system_model(selections)?)?;
        let triggers = self.transaction_triggers(&usr, tree)?;
        checkpoint();
        self.swap_and_archive(&usr, journal)?;
        Ok((stats, triggers))
    }

    /// Exchanges `source` with `ROOT/usr`, makes the compatibility links,
    /// archives the old tree, commits.
    fn swap_and_archive(&mut self, source: &Path, journal: &Journal) -> Result<(), EngineError> {
        let usr = self.inst.usr();
        let exchanged = exchange_or_rename(source, &usr).map_err(io("swapping in", &usr))?;
        compat_links(self.inst.root())?;
        checkpoint();
        if exchanged {
            match journal.old_state {
                Some(old) => {
                    let archive = self.inst.archive_dir(old);
                    remove_tree(&archive).map_err(io("removing", &archive))?;
                    fs::create_dir_all(&archive).map_err(io("creating", &archive))?;
                    checkpoint();
                    let to = archive.join("usr");
                    fs::rename(source, &to).map_err(io("archiving", &to))?;
                }
                None => remove_tree(source).map_err(io("removing", source))?,
            }
            checkpoint();
        }
        self.db.commit_journal(journal)?;
        Ok(())
    }
}

/// Where in staging a fresh install's blit writes the copy of the tree it
/// archives once the state is committed.
const TWIN: &str = "archive-usr";

/// Whether a transaction installs into a root without a state: it leaves a
/// copy of its tree archived (see `archive_fresh_tree`).
fn fresh_install(old: Option<i64>, reuse: bool) -> bool {
    old.is_none() && reuse
}

/// `/bin`, `/sbin`, `/lib`, `/lib64` and `/lib32` of the root, as links into
/// `/usr`, so that programs find their loader (`/lib64/ld-linux-x86-64.so.2`)
/// and `#!/bin/sh` works. Whatever already has one of these names is left
/// alone (creating a link never follows an existing one). `/lib64` goes to
/// `usr/lib64` when the tree has one (Debian's packages keep the loader
/// there; on AerynOS it is itself a link to `lib`), else to `usr/lib`.
fn compat_links(root: &Path) -> Result<(), EngineError> {
    let usr_lib64 = fs::symlink_metadata(root.join("usr/lib64")).is_ok();
    for (name, target) in crate::trigger::COMPAT_LINKS {
        let target = if name == "lib64" && usr_lib64 {
            "usr/lib64"
        } else {
            target
        };
        let link = root.join(name);
        match std::os::unix::fs::symlink(target, &link) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io("linking", &link)(e)),
        }
    }
    Ok(())
}
