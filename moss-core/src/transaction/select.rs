//! Transactions over repository packages: caching verified downloads one by
//! one (while others still download), then making a state of an exact
//! selection resolved elsewhere (`moss install NAME`, `moss sync`).

use std::path::Path;

use super::apply::Plan;
use super::stones::{cache_stone, read_stone_as};
use super::{Engine, EngineError, TransactionReport};
use crate::db::Selection;
use crate::stone::LayoutKind;

/// What caching one package did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheReport {
    pub assets_written: u64,
    pub bytes_written: u64,
}

impl Engine {
    /// Whether a package is cached. Its metadata row is written after its
    /// contents and layout, so the row alone tells.
    pub fn is_cached(&self, id: &str) -> Result<bool, EngineError> {
        Ok(self.db.package(id)?.is_some())
    }

    /// Unpacks a verified `.stone` (sha256 = `id`) into the store and records
    /// its metadata and layout. The live tree is untouched.
    pub fn cache_package(&mut self, path: &Path, id: &str) -> Result<CacheReport, EngineError> {
        let stone = read_stone_as(path, Some(id))?;
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
        let (assets_written, bytes_written) = cache_stone(&stone, &self.store, &mut self.db)?;
        Ok(CacheReport {
            assets_written,
            bytes_written,
        })
    }

    /// Makes a new state of exactly `selections` (every package cached) and
    /// activates it. The tree is built, and so checked for conflicts, before
    /// anything is written.
    pub fn apply_selections(
        &mut self,
        summary: &str,
        selections: &[Selection],
    ) -> Result<TransactionReport, EngineError> {
        let (active, _) = self.active_selections()?;
        let mut plan = Plan::default();
        for sel in selections {
            let meta = self.cached_meta(&sel.package_id)?;
            let layouts = self.db.layouts(&sel.package_id)?;
            plan.push(meta, layouts, sel.explicit);
        }
        // Keep the reasons the resolver gave.
        for (planned, sel) in plan.selections.iter_mut().zip(selections) {
            planned.reason = sel.reason.clone();
        }
        let (tree, spare) = self.plan_trees(&plan)?;
        self.check_live(active)?;
        let reuse = super::spare::Reuse { plan: &plan, spare };
        self.commit_tree(summary, &tree, &plan.selections, active, Some(reuse))
    }

    /// The active selections (empty before the first state).
    pub fn selections(&self) -> Result<Vec<Selection>, EngineError> {
        Ok(self.active_selections()?.1)
    }
}
