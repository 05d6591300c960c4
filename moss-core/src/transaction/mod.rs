//! Transactions: every change to the installed set becomes a new state.
//!
//! A transaction reads everything it needs and builds the complete new tree
//! in memory first (so conflicts refuse the change before anything is
//! written), caches new packages, records the new state together with a
//! journal, builds the tree in `.moss/root/staging/usr` (patching an archived
//! tree when there is a trusted one, see `spare`; blitting it otherwise),
//! exchanges it with `ROOT/usr` in one `renameat2`, archives the previous
//! tree under `.moss/root/<old id>/usr`, and only then records the new state
//! as active.
//! [`Engine::open`] finishes or undoes a transaction a crash interrupted.

mod apply;
mod hooks;
mod select;
mod spare;
mod stones;
mod verify;

use std::io;
use std::path::{Path, PathBuf};

use crate::blit::{BlitError, BlitStats, Blitter};
use crate::db::{Database, DbError, PackageMeta, Selection, StateRecord};
use crate::installation::{Installation, InstallationError, RootLock};
use crate::state::{self, PruneReport, Recovery, StateError};
use crate::stone::LayoutEntry;
use crate::store::{ModeVariants, Store};
use crate::tree::{PackageLayouts, TreeError};
use crate::trigger::{Outcome as TriggerOutcome, TriggerError};

pub use select::CacheReport;

/// An installed package's part of a tree: its layout as the database holds
/// it, with the metadata the tree's conflict check needs.
pub fn package_layouts<'a>(meta: &PackageMeta, layouts: &'a [LayoutEntry]) -> PackageLayouts<'a> {
    PackageLayouts {
        name: meta.display_id(),
        providers: meta.all_providers().collect(),
        conflicts: meta.conflicts.clone(),
        layouts,
    }
}
pub use stones::{read_stone, read_stone_as, LocalStone};
pub use verify::{VerifyIssue, VerifyReport};

/// Errors of engine operations.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Installation(#[from] InstallationError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error(transparent)]
    Blit(#[from] BlitError),
    #[error("cannot read the stone {path}")]
    Stone {
        path: PathBuf,
        source: crate::stone::StoneError,
    },
    #[error(transparent)]
    Trigger(#[from] TriggerError),
    #[error("{path}: the stone's name, version or architecture is refused")]
    BadName {
        path: PathBuf,
        source: crate::name::NameError,
    },
    #[error("{path} is not a binary package stone")]
    NotAPackage { path: PathBuf },
    #[error("{path}: /usr/{file} has content {digest:032x}, which neither the stone nor the store holds")]
    MissingContent {
        path: PathBuf,
        file: String,
        digest: u128,
    },
    #[error("no installed package is named {0}")]
    NotInstalled(String),
    #[error("there is no state {0}")]
    NoSuchState(i64),
    #[error("state {0} is already active")]
    AlreadyActive(i64),
    /// A transaction failed, and so did taking away what it had added.
    #[error("{error}; what it added could not be removed ({cleanup}): run `moss state prune` to remove it")]
    Leftovers {
        error: Box<EngineError>,
        cleanup: Box<EngineError>,
    },
    #[error("{op} {path} failed")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

/// The outcome of a transaction that changed the live tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionReport {
    pub state: i64,
    pub previous: Option<i64>,
    pub blit: BlitStats,
    pub assets_written: u64,
    pub bytes_written: u64,
    /// What the transaction and system triggers did.
    pub triggers: TriggerOutcome,
}

/// An open, locked installation.
#[derive(Debug)]
pub struct Engine {
    inst: Installation,
    db: Database,
    store: Store,
    variants: ModeVariants,
    recovery: Recovery,
    /// `None` for an engine opened read-only.
    _lock: Option<RootLock>,
}

/// Threads used by the blit (the machines this targets have few cores).
fn blit_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

impl Engine {
    /// Opens the root, takes its lock, and recovers an interrupted transaction.
    pub fn open(root: &Path) -> Result<Self, EngineError> {
        let inst = Installation::open(root)?;
        let lock = inst.lock()?;
        let mut db = Database::open(&inst.db_dir())?;
        let store = Store::new(inst.assets_dir());
        let variants = ModeVariants::new(inst.mode_variants_dir());
        let recovery = state::recover(&inst, &mut db, &store)?;
        if let Some(live) = Self::unrecorded_live_state(&inst, &db)? {
            db.adopt_active_state(live)?;
        }
        Ok(Self {
            inst,
            db,
            store,
            variants,
            recovery,
            _lock: Some(lock),
        })
    }

    /// Opens the root for reading only: no lock (as the original moss does
    /// for read-only use), no recovery, and nothing written, so that
    /// listing, searching and verifying work on a full disk or a read-only
    /// root. A root without databases yet, or with an interrupted
    /// transaction, is opened as by [`Engine::open`].
    /// Only the read methods may be called on it.
    pub fn open_read_only(root: &Path) -> Result<Self, EngineError> {
        let inst = Installation::at(root)?;
        if !inst.db_dir().join("state").is_file() {
            return Self::open(root);
        }
        let mut db = Database::open_read_only(&inst.db_dir())?;
        if db.journal()?.is_some() {
            // An interrupted transaction must be finished or undone first.
            drop(db);
            return Self::open(root);
        }
        if let Some(live) = Self::unrecorded_live_state(&inst, &db)? {
            db.assume_active_state(live);
        }
        let store = Store::new(inst.assets_dir());
        let variants = ModeVariants::new(inst.mode_variants_dir());
        Ok(Self {
            inst,
            db,
            store,
            variants,
            recovery: Recovery::Clean,
            _lock: None,
        })
    }

    /// The live tree's state when the database records no active state but
    /// knows that state, as in a root the original moss made (it keeps the
    /// active state only in `usr/.stateID`).
    fn unrecorded_live_state(
        inst: &Installation,
        db: &Database,
    ) -> Result<Option<i64>, EngineError> {
        if db.active_state()?.is_some() || db.journal()?.is_some() {
            return Ok(None);
        }
        let Some(live) = state::read_state_id(&inst.usr())? else {
            return Ok(None);
        };
        Ok(db.state(live)?.map(|_| live))
    }

    /// What opening had to recover.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    pub fn installation(&self) -> &Installation {
        &self.inst
    }

    fn blitter(&self) -> Blitter {
        Blitter::new(self.store.clone(), self.variants.clone(), blit_threads())
    }

    /// The live state id.
    pub fn active_state(&self) -> Result<Option<i64>, EngineError> {
        Ok(self.db.active_state()?)
    }

    /// Packages of the active state with whether they were requested explicitly.
    pub fn installed(&self) -> Result<Vec<(PackageMeta, bool)>, EngineError> {
        let Some(active) = self.db.active_state()? else {
            return Ok(Vec::new());
        };
        let state = self
            .db
            .state(active)?
            .ok_or(EngineError::NoSuchState(active))?;
        let mut out = Vec::new();
        for sel in state.selections {
            if let Some(meta) = self.db.package(&sel.package_id)? {
                out.push((meta, sel.explicit));
            }
        }
        out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(out)
    }

    /// A cached package by name (installed ones first).
    pub fn package_by_name(&self, name: &str) -> Result<Option<PackageMeta>, EngineError> {
        if let Some((meta, _)) = self.installed()?.into_iter().find(|(m, _)| m.name == name) {
            return Ok(Some(meta));
        }
        for id in self.db.package_ids()? {
            if let Some(meta) = self.db.package(&id)? {
                if meta.name == name {
                    return Ok(Some(meta));
                }
            }
        }
        Ok(None)
    }

    /// A cached package by id.
    pub fn package_by_id(&self, id: &str) -> Result<Option<PackageMeta>, EngineError> {
        Ok(self.db.package(id)?)
    }

    /// The layout of a cached package.
    pub fn files(&self, package_id: &str) -> Result<Vec<LayoutEntry>, EngineError> {
        Ok(self.db.layouts(package_id)?)
    }

    /// Every state, oldest first.
    pub fn states(&self) -> Result<Vec<StateRecord>, EngineError> {
        let mut out = Vec::new();
        for id in self.db.state_ids()? {
            if let Some(s) = self.db.state(id)? {
                out.push(s);
            }
        }
        Ok(out)
    }

    pub fn state(&self, id: i64) -> Result<StateRecord, EngineError> {
        self.db.state(id)?.ok_or(EngineError::NoSuchState(id))
    }

    /// Removes old states and whatever only they needed.
    pub fn prune(&mut self, keep: usize) -> Result<PruneReport, EngineError> {
        Ok(state::prune(
            &self.inst,
            &mut self.db,
            &self.store,
            &self.variants,
            keep.max(1),
        )?)
    }

    fn active_selections(&self) -> Result<(Option<i64>, Vec<Selection>), EngineError> {
        let active = self.db.active_state()?;
        let selections = match active {
            Some(id) => self.db.state(id)?.map(|s| s.selections).unwrap_or_default(),
            None => Vec::new(),
        };
        Ok((active, selections))
    }
}
