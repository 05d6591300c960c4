//! Where a transaction runs triggers: transaction triggers over the staged
//! tree before the swap, system triggers over the live tree after it.

use std::path::{Path, PathBuf};

use super::{Engine, EngineError};
use crate::trigger::{self, Outcome, Scope};

impl Engine {
    /// The empty root handlers are sandboxed in (`.moss/root/isolation`).
    fn isolation_dir(&self) -> PathBuf {
        self.inst.states_dir().join("isolation")
    }

    /// Runs the staged tree's transaction triggers; a failure aborts.
    pub(super) fn transaction_triggers(&self, staged_usr: &Path) -> Result<Outcome, EngineError> {
        Ok(trigger::run(
            Scope::Transaction,
            self.inst.root(),
            staged_usr,
            &self.isolation_dir(),
        )?)
    }

    /// Runs the live tree's system triggers. The new state is already live,
    /// so every problem becomes a warning.
    pub(super) fn system_triggers(&self) -> Outcome {
        let usr = self.inst.usr();
        trigger::run(Scope::System, self.inst.root(), &usr, &self.isolation_dir()).unwrap_or_else(
            |e| Outcome {
                warnings: vec![format!("system triggers: {e}")],
                ..Outcome::default()
            },
        )
    }
}
