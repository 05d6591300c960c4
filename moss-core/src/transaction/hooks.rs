//! Where a transaction runs triggers: transaction triggers over the staged
//! tree before the swap, system triggers over the live tree after it.

use std::path::{Path, PathBuf};

use super::{Engine, EngineError};
use crate::tree::Tree;
use crate::trigger::{self, Outcome, Scope};

impl Engine {
    /// The empty root handlers are sandboxed in (`.moss/root/isolation`).
    fn isolation_dir(&self) -> PathBuf {
        self.inst.states_dir().join("isolation")
    }

    /// Runs the transaction triggers of the tree just staged from `tree`
    /// (planned from the tree in memory); a failure aborts.
    pub(super) fn transaction_triggers(
        &self,
        staged_usr: &Path,
        tree: &Tree,
    ) -> Result<Outcome, EngineError> {
        Ok(trigger::run_for_tree(
            Scope::Transaction,
            self.inst.root(),
            staged_usr,
            &self.isolation_dir(),
            tree,
        )?)
    }

    /// Runs the live tree's system triggers. The new state is already live,
    /// so every problem becomes a warning.
    /// With `tree` (the packages' tree of the live state) the triggers are
    /// planned from it, as the original moss does, instead of walking the
    /// live tree from disk.
    pub(super) fn system_triggers(&self, tree: Option<&Tree>) -> Outcome {
        let usr = self.inst.usr();
        let (root, isolation) = (self.inst.root(), self.isolation_dir());
        match tree {
            Some(tree) => trigger::run_for_tree(Scope::System, root, &usr, &isolation, tree),
            None => trigger::run(Scope::System, root, &usr, &isolation),
        }
        .unwrap_or_else(|e| Outcome {
            warnings: vec![format!("system triggers: {}", crate::util::with_causes(&e))],
            ..Outcome::default()
        })
    }
}
